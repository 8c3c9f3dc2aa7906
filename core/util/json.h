// Small JSON text helpers for the hot path (escaping, validation, array element spans).
#pragma once

#include <inlet/text.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::util {

// JSON string quoting is shared with plugins through the SDK.
using sdk::text::appendJsonString;
using sdk::text::jsonString;

// True when `text` is one complete RFC 8259 JSON value (checked with SQLite's json_valid, the
// same parser the embedded store's json_extract() uses, so "valid" means "queryable").
bool isValidJson(std::string_view text);

// The two halves of isValidJson, for tests and fuzzing. isStrictJson: a fast single pass of
// RFC 8259's grammar alone (4 whitespace characters, nesting up to 1,000), whose every accepted
// text SQLite accepts too; it refuses some that SQLite accepts. sqliteJsonValid: SQLite's verdict.
bool isStrictJson(std::string_view text);
bool sqliteJsonValid(std::string_view text);

// The exact byte spans of the top-level elements of a JSON array (nullopt when `text` is not an
// array or is malformed). Element bytes are returned verbatim — never re-serialized — because
// some providers sign individual elements (Segment).
std::optional<std::vector<std::string_view>> arrayElements(std::string_view text);

// The exact bytes of the value a JSON pointer (RFC 6901) names in `json`, or nullopt when there
// is none. Keys written with escapes are compared decoded; of duplicate keys the last wins, as in
// Poco's parser. Meant for text that passed isValidJson;
// malformed text gives nullopt or some span of it, never a read past its end.
std::optional<std::string_view> rawJsonAt(std::string_view json, std::string_view pointer);

// One reference token of a JSON pointer, unescaped (~1 is '/', ~0 is '~').
std::string jsonPointerToken(std::string_view raw);

// A reference token as an array index: digits only, nine at most (no body within limits has
// more elements, and a longer index might not fit); nullopt otherwise.
std::optional<size_t> jsonArrayIndex(std::string_view token);

// Trims JSON whitespace from both ends.
std::string_view trimJsonSpace(std::string_view s);

}  // namespace inlet::util
