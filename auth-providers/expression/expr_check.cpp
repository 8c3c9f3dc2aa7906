// Type checker: resolves names, functions and operators once, at create(), so a request only
// walks a tree whose every node already knows its operation and result type.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include "expr_internal.h"
#include "expr_lang.h"

namespace inlet::auth::expr {

const char* typeName(Type t) {
  switch (t) {
    case Type::Unknown:
      return "unknown";
    case Type::Text:
      return "text";
    case Type::Bytea:
      return "bytea";
    case Type::Jsonb:
      return "jsonb";
    case Type::Boolean:
      return "boolean";
    case Type::Bigint:
      return "bigint";
    case Type::Numeric:
      return "numeric";
  }
  return "?";
}

namespace {

using NodePtr = std::unique_ptr<Node>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool isNumber(Type t) { return t == Type::Bigint || t == Type::Numeric; }
bool isString(Type t) { return t == Type::Text || t == Type::Bytea; }

std::optional<int64_t> parseBigint(std::string_view s);
std::optional<double> parseNumeric(std::string_view s);
std::optional<bool> parseBool(std::string_view s);

class Checker {
 public:
  Checker(const Environment& env, std::vector<std::string>& used) : env_(env), used_(used) {
    body_name_ = lower(env.body_name);
    for (const auto& s : env.secret_names) {
      std::string l = lower(s);
      if (l == "headers" || l == body_name_ || l == "payload")
        throw std::invalid_argument("secret name '" + s + "' clashes with the name '" + l +
                                    "' the expression uses for request data");
    }
  }

  void check(NodePtr& slot) {
    Node& n = *slot;
    for (auto& a : n.args) check(a);
    switch (n.kind) {
      case Node::Kind::Literal:
        n.op = Op::Literal;
        n.type = n.literal.type;
        break;
      case Node::Kind::Name:
        name(n);
        break;
      case Node::Kind::Unary:
        unary(n);
        break;
      case Node::Kind::Binary:
        binary(n);
        break;
      case Node::Kind::IsNull:
        n.op = n.negated ? Op::IsNotNull : Op::IsNull;
        n.type = Type::Boolean;
        if (n.args[0]->type == Type::Unknown) coerce(n.args[0], Type::Text);
        break;
      case Node::Kind::Cast:
        cast(slot);
        break;
      case Node::Kind::Call:
        call(n);
        break;
    }
  }

 private:
  [[noreturn]] static void fail(const Node& n, const std::string& msg) {
    throw CompileError(n.pos, msg);
  }

  static std::string signature(const Node& n) {
    std::string s = n.name + "(";
    for (size_t i = 0; i < n.args.size(); ++i) {
      if (i) s += ", ";
      s += typeName(n.args[i]->type);
    }
    return s + ")";
  }

  void name(Node& n) {
    if (n.name == "headers") {
      n.op = Op::Headers;
      n.type = Type::Jsonb;
      return;
    }
    if (n.name == body_name_ || n.name == "payload") {
      n.op = Op::Body;
      n.type = Type::Bytea;
      return;
    }
    // Unquoted identifiers are folded to lower case (SQL), so match secret names exactly first,
    // then case-insensitively.
    int found = -1;
    for (size_t i = 0; i < env_.secret_names.size() && found < 0; ++i)
      if (env_.secret_names[i] == n.name) found = static_cast<int>(i);
    for (size_t i = 0; i < env_.secret_names.size() && found < 0; ++i)
      if (lower(env_.secret_names[i]) == lower(n.name)) found = static_cast<int>(i);
    if (found < 0) {
      std::string names = "headers, " + body_name_ + (body_name_ == "payload" ? "" : ", payload");
      for (const auto& s : env_.secret_names) names += ", " + s;
      fail(n, "unknown name '" + n.name + "' (known names: " + names + ")");
    }
    const std::string& secret = env_.secret_names[static_cast<size_t>(found)];
    auto it = std::find(used_.begin(), used_.end(), secret);
    n.secret = static_cast<int>(it - used_.begin());
    if (it == used_.end()) used_.push_back(secret);
    n.op = Op::Secret;
    n.type = Type::Text;
  }

  // Gives an untyped literal (string or NULL) a type, converting its value now; widens bigint
  // to numeric. Returns false when the node cannot become `want`.
  bool coerce(NodePtr& slot, Type want) {
    Node& n = *slot;
    if (n.type == want) return true;
    if (n.type == Type::Bigint && want == Type::Numeric) {
      auto c = std::make_unique<Node>();
      c->kind = Node::Kind::Cast;
      c->pos = n.pos;
      c->name = "numeric";
      c->op = Op::CastNumeric;
      c->type = Type::Numeric;
      c->args.push_back(std::move(slot));
      slot = std::move(c);
      return true;
    }
    if (n.type != Type::Unknown || n.op != Op::Literal) return false;
    if (n.literal.null) {
      n.literal = Value::nullOf(want);
      n.type = want;
      return true;
    }
    std::string text(n.literal.str());
    switch (want) {
      case Type::Text:
        n.literal = Value::ofString(Type::Text, text);
        break;
      case Type::Bytea: {
        auto bytes = byteaInput(text);
        if (!bytes) fail(n, "invalid input syntax for type bytea");
        n.literal = Value::ofString(Type::Bytea, *bytes);
        break;
      }
      case Type::Bigint: {
        auto v = parseBigint(text);
        if (!v) fail(n, "invalid input syntax for type bigint");
        n.literal = Value::ofInt(*v);
        break;
      }
      case Type::Numeric: {
        auto v = parseNumeric(text);
        if (!v) fail(n, "invalid input syntax for type numeric");
        n.literal = Value::ofNumeric(*v);
        break;
      }
      case Type::Boolean: {
        auto v = parseBool(text);
        if (!v) fail(n, "invalid input syntax for type boolean");
        n.literal = Value::ofBool(*v);
        break;
      }
      default:
        return false;
    }
    n.type = want;
    return true;
  }

  void require(Node& call, size_t i, Type want) {
    if (!coerce(call.args[i], want))
      fail(*call.args[i], "function " + signature(call) + " does not exist: argument " +
                              std::to_string(i + 1) + " must be " + typeName(want));
  }

  // text or bytea; a bare literal becomes text (PostgreSQL prefers text for unknown).
  void requireString(Node& call, size_t i) {
    Type t = call.args[i]->type;
    if (!isString(t) && !coerce(call.args[i], Type::Text))
      fail(*call.args[i], "function " + signature(call) + " does not exist: argument " +
                              std::to_string(i + 1) + " must be text or bytea");
  }

  void arity(const Node& n, size_t lo, size_t hi) {
    if (n.args.size() < lo || n.args.size() > hi) {
      std::string want =
          lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
      fail(n, "function " + n.name + "() takes " + want + " argument" + (hi == 1 ? "" : "s") +
                  ", got " + std::to_string(n.args.size()));
    }
  }

  // Arguments that select an algorithm or an encoding must be literals: a value taken from the
  // request would let the sender pick a weaker algorithm.
  std::string literalArg(Node& call, size_t i, const char* what) {
    Node& a = *call.args[i];
    if (a.op != Op::Literal || a.literal.null || (a.type != Type::Unknown && a.type != Type::Text))
      fail(a, std::string(call.name) + "(): the " + what + " must be a string literal");
    a.type = Type::Text;
    a.literal.type = Type::Text;
    return lower(a.literal.str());
  }

  void unary(Node& n) {
    if (n.name == "not") {
      require(n, 0, Type::Boolean);
      n.op = Op::Not;
      n.type = Type::Boolean;
      return;
    }
    // unary minus
    if (n.args[0]->type == Type::Unknown) coerce(n.args[0], Type::Numeric);
    if (!isNumber(n.args[0]->type))
      fail(n, std::string("operator does not exist: - ") + typeName(n.args[0]->type));
    n.op = Op::Neg;
    n.type = n.args[0]->type;
  }

  // Makes both operands the same type for comparison/arithmetic. Returns that type.
  Type unify(Node& n) {
    Type a = n.args[0]->type, b = n.args[1]->type;
    if (a == Type::Unknown && b == Type::Unknown) {
      coerce(n.args[0], Type::Text);
      coerce(n.args[1], Type::Text);
    } else if (a == Type::Unknown) {
      if (!coerce(n.args[0], b)) return Type::Unknown;
    } else if (b == Type::Unknown) {
      if (!coerce(n.args[1], a)) return Type::Unknown;
    } else if (isNumber(a) && isNumber(b) && a != b) {
      coerce(n.args[0], Type::Numeric);
      coerce(n.args[1], Type::Numeric);
    }
    return n.args[0]->type == n.args[1]->type ? n.args[0]->type : Type::Unknown;
  }

  [[noreturn]] void noOperator(const Node& n) {
    fail(n, "operator does not exist: " + std::string(typeName(n.args[0]->type)) + " " + n.name +
                " " + typeName(n.args[1]->type));
  }

  void binary(Node& n) {
    const std::string& op = n.name;
    if (op == "and" || op == "or") {
      require(n, 0, Type::Boolean);
      require(n, 1, Type::Boolean);
      n.op = op == "and" ? Op::And : Op::Or;
      n.type = Type::Boolean;
      return;
    }
    if (op == "->" || op == "->>") {
      if (n.args[0]->type != Type::Jsonb) noOperator(n);
      if (n.args[1]->type == Type::Unknown) coerce(n.args[1], Type::Text);
      if (n.args[1]->type != Type::Text && n.args[1]->type != Type::Bigint) noOperator(n);
      const Node& key = *n.args[1];
      // Header names reach the expression lower-cased, so a literal key with upper-case letters
      // could never match: refuse it instead of answering 400 to every request.
      if (n.args[0]->op == Op::Headers && key.op == Op::Literal && !key.literal.null &&
          key.type == Type::Text && lower(key.literal.str()) != key.literal.str())
        fail(key, "header names are lower-case: write '" + lower(key.literal.str()) + "'");
      n.op = op == "->" ? Op::JsonGet : Op::JsonGetText;
      n.type = op == "->" ? Type::Jsonb : Type::Text;
      return;
    }
    if (op == "||") {
      Type t = unify(n);
      if (!isString(t))
        fail(n, "operator does not exist: " + std::string(typeName(n.args[0]->type)) + " || " +
                    typeName(n.args[1]->type) +
                    " (both sides must be text, or both bytea; use convert_to/convert_from or "
                    "encode/decode to convert)");
      n.op = Op::Concat;
      n.type = t;
      return;
    }
    if (op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      Type t = unify(n);
      if (t == Type::Unknown || t == Type::Jsonb) noOperator(n);
      if (t == Type::Boolean && op != "=" && op != "<>") noOperator(n);
      n.op = op == "="    ? Op::Eq
             : op == "<>" ? Op::Ne
             : op == "<"  ? Op::Lt
             : op == "<=" ? Op::Le
             : op == ">"  ? Op::Gt
                          : Op::Ge;
      n.type = Type::Boolean;
      return;
    }
    // + - * / %
    if (n.args[0]->type == Type::Unknown && isNumber(n.args[1]->type))
      coerce(n.args[0], n.args[1]->type);
    if (n.args[1]->type == Type::Unknown && isNumber(n.args[0]->type))
      coerce(n.args[1], n.args[0]->type);
    if (!isNumber(n.args[0]->type) || !isNumber(n.args[1]->type)) noOperator(n);
    Type t = unify(n);
    n.op = op == "+"   ? Op::Add
           : op == "-" ? Op::Sub
           : op == "*" ? Op::Mul
           : op == "/" ? Op::Div
                       : Op::Mod;
    n.type = t;
  }

  void cast(NodePtr& slot) {
    Node& n = *slot;
    const std::string& t = n.name;
    Type from = n.args[0]->type;
    Type to;
    if (t == "text" || t == "varchar") {
      to = Type::Text;
      n.op = Op::CastText;
    } else if (t == "bytea") {
      to = Type::Bytea;
      n.op = Op::CastBytea;
    } else if (t == "bigint" || t == "int8" || t == "int" || t == "integer" || t == "int4") {
      to = Type::Bigint;
      n.op = Op::CastBigint;
    } else if (t == "numeric" || t == "decimal" || t == "float8" || t == "real" || t == "float4") {
      to = Type::Numeric;
      n.op = Op::CastNumeric;
    } else if (t == "boolean" || t == "bool") {
      to = Type::Boolean;
      n.op = Op::CastBoolean;
    } else if (t == "jsonb" || t == "json") {
      fail(n, "casts to " + t + " are not supported (only the headers object is jsonb)");
    } else {
      fail(n, "unknown type '" + t + "' (supported: text, bytea, bigint, numeric, boolean)");
    }
    n.type = to;
    if (from == Type::Unknown) {
      // A literal cast: convert now, so a bad literal is a compile error with its position.
      if (!coerce(n.args[0], to)) fail(n, std::string("cannot cast a literal to ") + typeName(to));
      slot = std::move(n.args[0]);
      return;
    }
    bool ok = from == to || to == Type::Text || (from == Type::Text && to != Type::Bytea) ||
              (from == Type::Text && to == Type::Bytea) || (isNumber(from) && isNumber(to));
    if (!ok) fail(n, std::string("cannot cast type ") + typeName(from) + " to " + typeName(to));
  }

  void call(Node& n) {
    const std::string& f = n.name;
    if (f == "secure_compare") {
      arity(n, 2, 2);
      Type t = unify(n);
      if (t == Type::Unknown &&
          (n.args[0]->type == Type::Unknown || n.args[1]->type == Type::Unknown))
        t = Type::Text;
      if (!isString(t))
        fail(n,
             "function " + signature(n) + " does not exist: compare two text or two bytea values");
      n.op = Op::SecureCompare;
      n.type = Type::Boolean;
    } else if (f == "hmac") {
      arity(n, 3, 3);
      requireString(n, 0);
      requireString(n, 1);
      std::string algo = literalArg(n, 2, "algorithm");
      auto d = sdk::crypto::digestByName(algo);
      if (!d || *d == sdk::crypto::Digest::Md5)
        fail(*n.args[2], "hmac(): unsupported algorithm '" + algo +
                             "' (use 'sha1', 'sha224', 'sha256', 'sha384' or 'sha512')");
      n.digest = *d;
      n.op = Op::Hmac;
      n.type = Type::Bytea;
    } else if (f == "sha1" || f == "sha224" || f == "sha256" || f == "sha384" || f == "sha512") {
      arity(n, 1, 1);
      if (n.args[0]->type == Type::Text)
        fail(n, "function " + signature(n) + " does not exist: " + f +
                    " takes bytea (hash text with " + f + "(convert_to(x, 'utf8')))");
      require(n, 0, Type::Bytea);
      n.digest = *sdk::crypto::digestByName(f);
      n.op = Op::Digest;
      n.type = Type::Bytea;
    } else if (f == "md5") {
      arity(n, 1, 1);
      requireString(n, 0);
      n.op = Op::Md5;
      n.type = Type::Text;
    } else if (f == "encode" || f == "decode") {
      arity(n, 2, 2);
      require(n, 0, f == "encode" ? Type::Bytea : Type::Text);
      std::string fmt = literalArg(n, 1, "format");
      if (fmt == "hex")
        n.codec = Codec::Hex;
      else if (fmt == "base64")
        n.codec = Codec::Base64;
      else if (fmt == "escape")
        n.codec = Codec::Escape;
      else
        fail(*n.args[1],
             "unrecognized encoding: \"" + fmt + "\" (use 'hex', 'base64' or 'escape')");
      n.op = f == "encode" ? Op::Encode : Op::Decode;
      n.type = f == "encode" ? Type::Text : Type::Bytea;
    } else if (f == "convert_from" || f == "convert_to") {
      arity(n, 2, 2);
      require(n, 0, f == "convert_from" ? Type::Bytea : Type::Text);
      std::string enc = literalArg(n, 1, "encoding name");
      if (enc != "utf8" && enc != "utf-8" && enc != "unicode")
        fail(*n.args[1], "unsupported encoding '" + enc + "' (only UTF8 is supported)");
      n.op = f == "convert_from" ? Op::ConvertFrom : Op::ConvertTo;
      n.type = f == "convert_from" ? Type::Text : Type::Bytea;
    } else if (f == "split_part") {
      arity(n, 3, 3);
      require(n, 0, Type::Text);
      require(n, 1, Type::Text);
      require(n, 2, Type::Bigint);
      n.op = Op::SplitPart;
      n.type = Type::Text;
    } else if (f == "substr") {
      arity(n, 2, 3);
      requireString(n, 0);
      for (size_t i = 1; i < n.args.size(); ++i) require(n, i, Type::Bigint);
      n.op = Op::Substr;
      n.type = n.args[0]->type;
    } else if (f == "position" || f == "strpos") {
      arity(n, 2, 2);
      if (f == "strpos") std::swap(n.args[0], n.args[1]);  // strpos(string, substring)
      require(n, 0, Type::Text);
      require(n, 1, Type::Text);
      n.op = Op::Position;
      n.type = Type::Bigint;
    } else if (f == "replace") {
      arity(n, 3, 3);
      for (size_t i = 0; i < 3; ++i) require(n, i, Type::Text);
      n.op = Op::Replace;
      n.type = Type::Text;
    } else if (f == "lower" || f == "upper") {
      arity(n, 1, 1);
      require(n, 0, Type::Text);
      n.op = f == "lower" ? Op::Lower : Op::Upper;
      n.type = Type::Text;
    } else if (f == "trim" || f == "btrim" || f == "ltrim" || f == "rtrim") {
      arity(n, 1, 2);
      for (size_t i = 0; i < n.args.size(); ++i) require(n, i, Type::Text);
      if (f == "ltrim") n.trim_side = TrimSide::Leading;
      if (f == "rtrim") n.trim_side = TrimSide::Trailing;
      n.op = Op::Trim;
      n.type = Type::Text;
    } else if (f == "length" || f == "char_length" || f == "octet_length") {
      arity(n, 1, 1);
      requireString(n, 0);
      n.op = f == "octet_length" ? Op::OctetLength : Op::Length;
      n.type = Type::Bigint;
    } else if (f == "concat") {
      if (n.args.empty()) fail(n, "function concat() needs at least one argument");
      for (auto& a : n.args)
        if (a->type == Type::Unknown) coerce(a, Type::Text);
      n.op = Op::ConcatFn;
      n.type = Type::Text;
    } else if (f == "starts_with") {
      arity(n, 2, 2);
      require(n, 0, Type::Text);
      require(n, 1, Type::Text);
      n.op = Op::StartsWith;
      n.type = Type::Boolean;
    } else if (f == "abs") {
      arity(n, 1, 1);
      if (n.args[0]->type == Type::Unknown) coerce(n.args[0], Type::Numeric);
      if (!isNumber(n.args[0]->type)) fail(n, "function " + signature(n) + " does not exist");
      n.op = Op::Abs;
      n.type = n.args[0]->type;
    } else if (f == "now") {
      arity(n, 0, 0);
      n.op = Op::Now;
      n.type = Type::Bigint;
    } else if (f == "coalesce") {
      if (n.args.empty()) fail(n, "function coalesce() needs at least one argument");
      Type t = Type::Unknown;
      for (auto& a : n.args)
        if (a->type != Type::Unknown) {
          if (t == Type::Unknown || (t == Type::Bigint && a->type == Type::Numeric)) t = a->type;
        }
      if (t == Type::Unknown) t = Type::Text;
      for (auto& a : n.args)
        if (!coerce(a, t))
          fail(*a,
               "coalesce(): cannot mix " + std::string(typeName(a->type)) + " with " + typeName(t));
      n.op = Op::Coalesce;
      n.type = t;
    } else {
      fail(n, "unknown function '" + f + "'");
    }
  }

  const Environment& env_;
  std::vector<std::string>& used_;
  std::string body_name_;
};

// Ids, constant-ness and secret taint, bottom-up.
void annotate(Node& n, int& next_id) {
  bool constant = true, reveals = false;
  for (auto& a : n.args) {
    annotate(*a, next_id);
    constant = constant && a->constant;
    reveals = reveals || a->reveals_secret;
  }
  n.id = next_id++;
  switch (n.op) {
    case Op::Body:
    case Op::Headers:
    case Op::Now:
      constant = false;
      break;
    case Op::Secret:
      reveals = true;
      break;
    default:
      break;
  }
  // A digest or MAC output, a boolean or a length does not disclose its (secret) input.
  if (n.op == Op::Hmac || n.op == Op::Digest || n.op == Op::Md5 || n.type == Type::Boolean ||
      n.op == Op::Length || n.op == Op::OctetLength)
    reveals = false;
  n.constant = constant;
  n.reveals_secret = reveals;
}

}  // namespace

std::unique_ptr<Program> Program::compile(std::string_view text, const Environment& env) {
  auto program = std::make_unique<Program>();
  NodePtr root = parseExpression(text);
  Checker(env, program->secret_names_).check(root);
  if (root->type != Type::Boolean)
    throw CompileError(
        root->pos, std::string("the expression must be boolean, it is ") + typeName(root->type));
  int next_id = 0;
  annotate(*root, next_id);
  if (root->constant)
    throw CompileError(root->pos,
                       "the expression reads nothing from the request (headers, the body or "
                       "now()), so it would accept every request or none");
  program->node_count_ = next_id;
  // The comparison whose operands explain a mismatch: the root, or the first secure_compare / =
  // found down a chain of ANDs.
  std::function<const Node*(const Node&)> find = [&](const Node& n) -> const Node* {
    if (n.op == Op::SecureCompare || n.op == Op::Eq) return &n;
    if (n.op == Op::And) {
      for (const auto& a : n.args)
        if (a->op == Op::SecureCompare) return a.get();
      for (const auto& a : n.args)
        if (const Node* r = find(*a)) return r;
    }
    return nullptr;
  };
  if (const Node* r = find(*root)) program->report_id_ = r->id;
  program->root_ = std::move(root);
  return program;
}

namespace {

std::optional<int64_t> parseBigint(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  // Accumulate negatively so INT64_MIN parses.
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, c - '0', &v))
      return std::nullopt;
  }
  if (!neg) {
    if (v == INT64_MIN) return std::nullopt;
    v = -v;
  }
  return v;
}

std::optional<double> parseNumeric(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty() || s.size() > 400) return std::nullopt;
  // Digits, one optional point, optional exponent: no "inf", "nan" or hex floats.
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
  }
  if (!digits) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    bool exp = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, exp = true;
    if (!exp) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double v = std::strtod(std::string(s).c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> parseBool(std::string_view s) {
  std::string l = lower(s);
  while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back()))) l.pop_back();
  size_t b = 0;
  while (b < l.size() && std::isspace(static_cast<unsigned char>(l[b]))) ++b;
  l = l.substr(b);
  if (l == "t" || l == "true" || l == "y" || l == "yes" || l == "on" || l == "1") return true;
  if (l == "f" || l == "false" || l == "n" || l == "no" || l == "off" || l == "0") return false;
  return std::nullopt;
}

}  // namespace

// Shared with the evaluator (casts of request data).
std::optional<int64_t> castBigint(std::string_view s) { return parseBigint(s); }
std::optional<double> castNumeric(std::string_view s) { return parseNumeric(s); }
std::optional<bool> castBoolean(std::string_view s) { return parseBool(s); }

}  // namespace inlet::auth::expr
