// The validation-expression language: a PostgreSQL-flavoured subset that evaluates RisingWave's
// `VALIDATE SECRET s AS secure_compare(...)` expressions verbatim, plus a few additions (boolean
// logic, comparisons, casts, now(), abs()) so timestamp tolerances can be written.
//
// Life cycle (parse once, share immutably):
//   Program::compile()  text → tokens → AST → type-checked tree            (at create(), throws)
//   Program::bind()     evaluates every request-independent sub-tree once
//                       for one set of secret values (keys decoded, …)    (at create(), throws)
//   Bound::evaluate()   walks the tree for one request; never throws, reports errors as values
//
// Every error raised while compiling or binding reads "expression:LINE:COL: message".
#pragma once

#include <inlet/crypto.h>
#include <inlet/sdk.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::auth::expr {

// `Unknown` is the type of a bare string literal or NULL until context decides (PostgreSQL's
// "unknown" pseudo-type): 'ABCDE' is text in `'a' || 'ABCDE'` and bytea in `sha256('ABCDE')`.
enum class Type { Unknown, Text, Bytea, Jsonb, Boolean, Bigint, Numeric };
const char* typeName(Type t);

struct Pos {
  int line = 1;
  int col = 1;
};

// Compile- or bind-time error; what() is "expression:L:C: message".
class CompileError : public std::runtime_error {
 public:
  CompileError(Pos pos, const std::string& message);
  Pos pos;
};

// A runtime value. Strings (text, bytea, a jsonb string) either own their bytes or borrow them
// from something that outlives the evaluation (the request body, a value cached at bind time),
// so the body is never copied just to be hashed.
struct Value {
  Type type = Type::Unknown;
  bool null = true;
  int64_t i = 0;         // bigint
  double d = 0;          // numeric
  bool b = false;        // boolean
  bool headers = false;  // jsonb: true = the request's header object, false = a jsonb string
  std::string own;
  std::string_view ext;
  bool borrowed = false;

  std::string_view str() const { return borrowed ? ext : std::string_view(own); }
  Value borrow() const;  // same value; strings point into *this (which must outlive the copy)

  static Value nullOf(Type t);
  static Value ofString(Type t, std::string s);
  static Value ofView(Type t, std::string_view s);
  static Value ofBool(bool v);
  static Value ofInt(int64_t v);
  static Value ofNumeric(double v);
};

// What the type checker calls each function/operator once resolved.
enum class Op {
  Literal,
  Secret,
  Body,
  Headers,
  Now,
  And,
  Or,
  Not,
  IsNull,
  IsNotNull,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Neg,
  Concat,
  JsonGet,
  JsonGetText,
  CastText,
  CastBytea,
  CastBigint,
  CastNumeric,
  CastBoolean,
  SecureCompare,
  Hmac,
  Digest,
  Md5,
  Encode,
  Decode,
  ConvertFrom,
  ConvertTo,
  SplitPart,
  Substr,
  Position,
  Replace,
  Lower,
  Upper,
  Trim,
  Length,
  OctetLength,
  ConcatFn,
  StartsWith,
  Abs,
  Coalesce,
};

enum class Codec { Hex, Base64, Escape };
enum class TrimSide { Both, Leading, Trailing };

struct Node {
  // Set by the parser.
  enum class Kind { Literal, Name, Call, Unary, Binary, Cast, IsNull } kind = Kind::Literal;
  Pos pos;
  std::string name;  // function / operator / identifier / type name (lower-case)
  std::vector<std::unique_ptr<Node>> args;
  Value literal;
  bool negated = false;  // IS NOT NULL
  TrimSide trim_side = TrimSide::Both;

  // Set by the type checker.
  Op op = Op::Literal;
  Type type = Type::Unknown;
  int id = 0;
  int secret = -1;              // Op::Secret: index into Program::secretNames()
  bool constant = false;        // depends on no request data (only literals and secrets)
  bool reveals_secret = false;  // its value could disclose a secret (never put it in detail)
  sdk::crypto::Digest digest = sdk::crypto::Digest::Sha256;
  Codec codec = Codec::Hex;
};

// Names visible to the expression.
struct Environment {
  std::vector<std::string> secret_names;  // as bound in the pipeline
  std::string body_name = "data";         // `payload` is always accepted too
};

enum class Outcome { True, False, Null, Error };

struct EvalResult {
  Outcome outcome = Outcome::Error;
  std::string message;  // Null: what was missing; Error: what failed (never a secret)
  std::string detail;   // False: the two compared values, when neither reveals a secret
};

class Program;

// A program with secret values bound and its request-independent parts pre-computed.
// Immutable; evaluate() is safe to call concurrently.
class Bound {
 public:
  EvalResult evaluate(const sdk::Request& request) const;

 private:
  friend class Program;
  const Program* program_ = nullptr;
  std::vector<std::string> secrets_;         // value per Program::secretNames() entry
  std::vector<std::optional<Value>> cache_;  // by node id: maximal constant sub-trees
};

class Program {
 public:
  static constexpr size_t kMaxLength = 64 * 1024;
  static constexpr int kMaxDepth = 200;

  // Throws CompileError.
  static std::unique_ptr<Program> compile(std::string_view text, const Environment& env);

  // Secret names the expression reads, in order of first use (lower-case).
  const std::vector<std::string>& secretNames() const { return secret_names_; }
  // values[i] is the value of secretNames()[i]. Throws CompileError (never quoting a value).
  Bound bind(std::vector<std::string> values) const;

  const Node& root() const { return *root_; }

 private:
  friend class Bound;
  std::unique_ptr<Node> root_;
  std::vector<std::string> secret_names_;
  int node_count_ = 0;
  int report_id_ = -1;  // root comparison whose operands go into `detail` on a mismatch
};

// Helpers shared with the tests (PostgreSQL-compatible encodings).
std::string encodeBase64Pg(std::string_view bytes);  // newline after every 76 output chars
std::optional<std::string> decodeBase64Pg(std::string_view text);
std::optional<std::string> decodeHexPg(std::string_view text);
std::string encodeEscapePg(std::string_view bytes);
std::optional<std::string> decodeEscapePg(std::string_view text);
std::optional<std::string> byteaInput(std::string_view text);  // '\x…' hex or escape format
std::string byteaOutput(std::string_view bytes);               // '\x…' hex
bool validUtf8(std::string_view s);

}  // namespace inlet::auth::expr
