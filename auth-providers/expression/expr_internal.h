// Internal interfaces between the parser, the type checker and the evaluator.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "expr_lang.h"

namespace inlet::auth::expr {

// Throws CompileError. Returns the untyped tree (Node::kind / name / args / literal).
std::unique_ptr<Node> parseExpression(std::string_view text);

// PostgreSQL input syntax for casts of text (trimmed; nullopt when invalid or out of range).
std::optional<int64_t> castBigint(std::string_view s);
std::optional<double> castNumeric(std::string_view s);  // finite values only
std::optional<bool> castBoolean(std::string_view s);

}  // namespace inlet::auth::expr
