// Lexer and recursive-descent parser for validation expressions. Operator precedence follows
// PostgreSQL (lowest first): OR, AND, NOT, IS, comparison, other operators (|| -> ->>), + -,
// * / %, unary minus, ::. So `'sha256=' || encode(...)` and `now() - x::bigint` need no
// parentheses, while `headers->>'t'::bigint` casts the key, as in PostgreSQL.
#include <inlet/sql.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "expr_internal.h"
#include "expr_lang.h"

namespace inlet::auth::expr {

CompileError::CompileError(Pos p, const std::string& message)
    : std::runtime_error("expression:" + std::to_string(p.line) + ":" + std::to_string(p.col) +
                         ": " + message),
      pos(p) {}

namespace {

enum class Tok { End, Ident, QuotedIdent, String, Integer, Decimal, Op, LParen, RParen, Comma };

struct Token {
  Tok kind = Tok::End;
  std::string text;  // identifier (lower-cased unless quoted), decoded string, operator
  Pos pos;
};

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool isIdentChar(char c) {
  return isIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skipSpaceAndComments();
      Token t;
      t.pos = pos_;
      if (i_ >= s_.size()) {
        out.push_back(t);
        return out;
      }
      char c = s_[i_];
      if ((c == 'e' || c == 'E') && peek(1) == '\'') {
        advance(1);
        t.kind = Tok::String;
        t.text = stringBody(/*escapes=*/true);
      } else if (c == '\'') {
        t.kind = Tok::String;
        t.text = stringBody(/*escapes=*/false);
      } else if (c == '"') {
        t.kind = Tok::QuotedIdent;
        t.text = quotedIdent();
      } else if (isIdentStart(c)) {
        t.kind = Tok::Ident;
        while (i_ < s_.size() && isIdentChar(s_[i_])) {
          t.text.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s_[i_]))));
          advance(1);
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
        number(t);
      } else if (c == '(') {
        t.kind = Tok::LParen;
        advance(1);
      } else if (c == ')') {
        t.kind = Tok::RParen;
        advance(1);
      } else if (c == ',') {
        t.kind = Tok::Comma;
        advance(1);
      } else {
        t.kind = Tok::Op;
        static const char* const kOps[] = {"->>", "||", "->", "::", "<=", ">=", "<>", "!=",
                                           "=",   "<",  ">",  "+",  "-",  "*",  "/",  "%"};
        for (const char* op : kOps) {
          std::string_view o(op);
          if (s_.substr(i_, o.size()) == o) {
            t.text = std::string(o);
            break;
          }
        }
        if (t.text.empty()) {
          std::string shown = std::isprint(static_cast<unsigned char>(c))
                                  ? std::string(1, c)
                                  : "\\x" + sdk::crypto::toHex(std::string_view(&c, 1));
          throw CompileError(pos_, "unexpected character '" + shown + "'");
        }
        advance(t.text.size());
      }
      out.push_back(std::move(t));
    }
  }

 private:
  char peek(size_t k) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }

  // Columns count characters, not bytes (UTF-8 continuation bytes do not advance the column).
  void advance(size_t n) {
    for (size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_) {
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '\n') {
        ++pos_.line;
        pos_.col = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++pos_.col;
      }
    }
  }

  void skipSpaceAndComments() {
    auto skipped = sdk::sql::skipSpaceAndComments(s_, i_);
    if (skipped.unterminated_comment != std::string_view::npos) {
      advance(skipped.unterminated_comment - i_);
      throw CompileError(pos_, "unterminated /* comment");
    }
    advance(skipped.end - i_);
  }

  std::string stringBody(bool escapes) {
    auto lit = sdk::sql::readStringLiteral(s_, i_, escapes);
    if (!lit.error.empty()) {
      advance(lit.error_at - i_);  // to the opening quote or the bad escape's backslash
      throw CompileError(pos_, lit.error);
    }
    advance(lit.end - i_);
    return std::move(lit.value);
  }

  std::string quotedIdent() {
    Pos start = pos_;
    advance(1);
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) throw CompileError(start, "unterminated quoted identifier");
      if (s_[i_] == '"') {
        if (peek(1) == '"') {
          out.push_back('"');
          advance(2);
          continue;
        }
        advance(1);
        if (out.empty()) throw CompileError(start, "zero-length quoted identifier");
        return out;
      }
      out.push_back(s_[i_]);
      advance(1);
    }
  }

  void number(Token& t) {
    size_t start = i_;
    bool decimal = false;
    while (std::isdigit(static_cast<unsigned char>(peek(0)))) advance(1);
    if (peek(0) == '.') {
      decimal = true;
      advance(1);
      while (std::isdigit(static_cast<unsigned char>(peek(0)))) advance(1);
    }
    if ((peek(0) == 'e' || peek(0) == 'E') &&
        (std::isdigit(static_cast<unsigned char>(peek(1))) ||
         ((peek(1) == '+' || peek(1) == '-') &&
          std::isdigit(static_cast<unsigned char>(peek(2)))))) {
      decimal = true;
      advance(2);
      while (std::isdigit(static_cast<unsigned char>(peek(0)))) advance(1);
    }
    if (isIdentStart(peek(0))) throw CompileError(pos_, "trailing junk after numeric literal");
    t.text = std::string(s_.substr(start, i_ - start));
    t.kind = decimal ? Tok::Decimal : Tok::Integer;
  }

  std::string_view s_;
  size_t i_ = 0;
  Pos pos_;
};

// Words that cannot be names (a subset of PostgreSQL's reserved words that this grammar uses).
bool isReserved(const std::string& w) {
  static const char* const kWords[] = {"and",  "or",    "not",  "is",      "null",
                                       "true", "false", "cast", "as",      "in",
                                       "from", "for",   "both", "leading", "trailing"};
  for (const char* k : kWords)
    if (w == k) return true;
  return false;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  std::unique_ptr<Node> parseAll() {
    auto e = expr();
    if (cur().kind != Tok::End) throw CompileError(cur().pos, "unexpected " + describe(cur()));
    return e;
  }

 private:
  const Token& cur() const { return t_[k_]; }
  const Token& next() const { return t_[k_ + 1 < t_.size() ? k_ + 1 : k_]; }
  bool isWord(const char* w) const { return cur().kind == Tok::Ident && cur().text == w; }
  bool isOp(const char* o) const { return cur().kind == Tok::Op && cur().text == o; }
  Token take() {
    Token t = t_[k_];
    if (k_ + 1 < t_.size()) ++k_;
    return t;
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::End:
        return "end of expression";
      case Tok::Ident:
        return "'" + t.text + "'";
      case Tok::QuotedIdent:
        return "identifier \"" + t.text + "\"";
      case Tok::String:
        return "string literal";
      case Tok::Integer:
      case Tok::Decimal:
        return "number " + t.text;
      case Tok::Op:
        return "'" + t.text + "'";
      case Tok::LParen:
        return "'('";
      case Tok::RParen:
        return "')'";
      case Tok::Comma:
        return "','";
    }
    return "token";
  }
  void expect(Tok kind, const char* what) {
    if (cur().kind != kind)
      throw CompileError(cur().pos, std::string("expected ") + what + ", found " + describe(cur()));
    take();
  }
  void expectWord(const char* w) {
    if (!isWord(w))
      throw CompileError(cur().pos, std::string("expected ") + w + ", found " + describe(cur()));
    take();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > Program::kMaxDepth)
        throw CompileError(p_.cur().pos, "expression nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  static std::unique_ptr<Node> make(Node::Kind kind, Pos pos, std::string name) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    n->name = std::move(name);
    return n;
  }
  static std::unique_ptr<Node> binary(Pos pos, std::string op, std::unique_ptr<Node> l,
                                      std::unique_ptr<Node> r) {
    auto n = make(Node::Kind::Binary, pos, std::move(op));
    n->args.push_back(std::move(l));
    n->args.push_back(std::move(r));
    return n;
  }

  std::unique_ptr<Node> expr() {
    DepthGuard g(*this);
    return orExpr();
  }

  std::unique_ptr<Node> orExpr() {
    auto l = andExpr();
    while (isWord("or")) {
      Pos p = take().pos;
      l = binary(p, "or", std::move(l), andExpr());
    }
    return l;
  }

  std::unique_ptr<Node> andExpr() {
    auto l = notExpr();
    while (isWord("and")) {
      Pos p = take().pos;
      l = binary(p, "and", std::move(l), notExpr());
    }
    return l;
  }

  std::unique_ptr<Node> notExpr() {
    if (isWord("not")) {
      DepthGuard g(*this);
      Pos p = take().pos;
      auto n = make(Node::Kind::Unary, p, "not");
      n->args.push_back(notExpr());
      return n;
    }
    return isExpr();
  }

  std::unique_ptr<Node> isExpr() {
    auto l = cmpExpr();
    while (isWord("is")) {
      Pos p = take().pos;
      bool negated = false;
      if (isWord("not")) {
        take();
        negated = true;
      }
      expectWord("null");
      auto n = make(Node::Kind::IsNull, p, negated ? "is not null" : "is null");
      n->negated = negated;
      n->args.push_back(std::move(l));
      l = std::move(n);
    }
    return l;
  }

  std::unique_ptr<Node> cmpExpr() {
    auto l = otherExpr();
    for (const char* op : {"=", "<>", "!=", "<=", ">=", "<", ">"}) {
      if (isOp(op)) {
        Pos p = take().pos;
        auto r = otherExpr();
        std::string name = op;
        if (name == "!=") name = "<>";
        l = binary(p, name, std::move(l), std::move(r));
        for (const char* again : {"=", "<>", "!=", "<=", ">=", "<", ">"})
          if (isOp(again))
            throw CompileError(cur().pos, "comparison operators cannot be chained; use AND");
        break;
      }
    }
    return l;
  }

  std::unique_ptr<Node> otherExpr() {
    auto l = addExpr();
    while (isOp("||") || isOp("->") || isOp("->>")) {
      Token t = take();
      l = binary(t.pos, t.text, std::move(l), addExpr());
    }
    return l;
  }

  std::unique_ptr<Node> addExpr() {
    auto l = mulExpr();
    while (isOp("+") || isOp("-")) {
      Token t = take();
      l = binary(t.pos, t.text, std::move(l), mulExpr());
    }
    return l;
  }

  std::unique_ptr<Node> mulExpr() {
    auto l = unaryExpr();
    while (isOp("*") || isOp("/") || isOp("%")) {
      Token t = take();
      l = binary(t.pos, t.text, std::move(l), unaryExpr());
    }
    return l;
  }

  std::unique_ptr<Node> unaryExpr() {
    if (isOp("-") || isOp("+")) {
      DepthGuard g(*this);
      Token t = take();
      auto operand = unaryExpr();
      if (t.text == "+") return operand;
      auto n = make(Node::Kind::Unary, t.pos, "-");
      n->args.push_back(std::move(operand));
      return n;
    }
    return postfixExpr();
  }

  std::string typeName() {
    if (cur().kind != Tok::Ident)
      throw CompileError(cur().pos, "expected a type name, found " + describe(cur()));
    std::string name = take().text;
    // Two-word spellings.
    if (name == "double" && isWord("precision")) {
      take();
      name = "numeric";
    } else if (name == "character" && isWord("varying")) {
      take();
      name = "varchar";
    }
    return name;
  }

  std::unique_ptr<Node> postfixExpr() {
    auto e = primary();
    while (isOp("::")) {
      Pos p = take().pos;
      auto n = make(Node::Kind::Cast, p, typeName());
      n->args.push_back(std::move(e));
      e = std::move(n);
    }
    return e;
  }

  std::vector<std::unique_ptr<Node>> argList() {
    std::vector<std::unique_ptr<Node>> args;
    expect(Tok::LParen, "'('");
    if (cur().kind == Tok::RParen) {
      take();
      return args;
    }
    for (;;) {
      args.push_back(expr());
      if (cur().kind == Tok::Comma) {
        take();
        continue;
      }
      expect(Tok::RParen, "',' or ')'");
      return args;
    }
  }

  std::unique_ptr<Node> primary() {
    const Token& t = cur();
    switch (t.kind) {
      case Tok::String: {
        auto n = make(Node::Kind::Literal, t.pos, "");
        n->literal = Value::ofString(Type::Unknown, t.text);
        take();
        return n;
      }
      case Tok::Integer: {
        auto n = make(Node::Kind::Literal, t.pos, "");
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(t.text.c_str(), &end, 10);
        if (errno == ERANGE) {
          n->literal = Value::ofNumeric(std::strtod(t.text.c_str(), nullptr));
        } else {
          n->literal = Value::ofInt(v);
        }
        take();
        return n;
      }
      case Tok::Decimal: {
        auto n = make(Node::Kind::Literal, t.pos, "");
        n->literal = Value::ofNumeric(std::strtod(t.text.c_str(), nullptr));
        take();
        return n;
      }
      case Tok::LParen: {
        take();
        auto e = expr();
        expect(Tok::RParen, "')'");
        return e;
      }
      case Tok::QuotedIdent: {
        auto n = make(Node::Kind::Name, t.pos, t.text);
        take();
        return n;
      }
      case Tok::Ident:
        return identifier();
      default:
        throw CompileError(t.pos, "unexpected " + describe(t));
    }
  }

  std::unique_ptr<Node> identifier() {
    Token t = take();
    const std::string& w = t.text;
    if (w == "null") {
      auto n = make(Node::Kind::Literal, t.pos, "");
      n->literal = Value::nullOf(Type::Unknown);
      return n;
    }
    if (w == "true" || w == "false") {
      auto n = make(Node::Kind::Literal, t.pos, "");
      n->literal = Value::ofBool(w == "true");
      return n;
    }
    if (w == "cast" && cur().kind == Tok::LParen) {
      take();
      auto inner = expr();
      expectWord("as");
      auto n = make(Node::Kind::Cast, t.pos, typeName());
      n->args.push_back(std::move(inner));
      expect(Tok::RParen, "')'");
      return n;
    }
    if (isReserved(w)) throw CompileError(t.pos, "unexpected '" + w + "'");
    if (cur().kind != Tok::LParen) return make(Node::Kind::Name, t.pos, w);

    // SQL-standard special forms.
    if (w == "position") return positionForm(t.pos);
    if (w == "trim") return trimForm(t.pos);
    if (w == "substring") return substringForm(t.pos);
    auto n = make(Node::Kind::Call, t.pos, w);
    n->args = argList();
    return n;
  }

  // position(substring IN string); position(substring, string) is accepted too.
  std::unique_ptr<Node> positionForm(Pos pos) {
    take();  // (
    auto n = make(Node::Kind::Call, pos, "position");
    auto needle = otherExpr();  // IN must not be swallowed by a comparison
    if (isWord("in") || cur().kind == Tok::Comma) {
      take();
    } else {
      throw CompileError(cur().pos, "expected IN, found " + describe(cur()));
    }
    n->args.push_back(std::move(needle));
    n->args.push_back(expr());
    expect(Tok::RParen, "')'");
    return n;
  }

  // trim(x), trim(chars FROM x), trim([BOTH|LEADING|TRAILING] [chars] FROM x), trim(x, chars).
  std::unique_ptr<Node> trimForm(Pos pos) {
    take();  // (
    auto n = make(Node::Kind::Call, pos, "trim");
    bool have_side = false;
    if (isWord("both") || isWord("leading") || isWord("trailing")) {
      std::string side = take().text;
      n->trim_side = side == "both"      ? TrimSide::Both
                     : side == "leading" ? TrimSide::Leading
                                         : TrimSide::Trailing;
      have_side = true;
    }
    if (isWord("from")) {
      take();
      n->args.push_back(expr());
    } else {
      auto first = expr();
      if (isWord("from")) {
        take();
        n->args.push_back(expr());
        n->args.push_back(std::move(first));  // (string, characters)
      } else if (!have_side && cur().kind == Tok::Comma) {
        take();
        n->args.push_back(std::move(first));
        n->args.push_back(expr());
      } else {
        if (have_side) throw CompileError(cur().pos, "expected FROM, found " + describe(cur()));
        n->args.push_back(std::move(first));
      }
    }
    expect(Tok::RParen, "')'");
    return n;
  }

  // substring(x FROM start [FOR count]) or substring(x, start [, count]).
  std::unique_ptr<Node> substringForm(Pos pos) {
    take();  // (
    auto n = make(Node::Kind::Call, pos, "substr");
    n->args.push_back(expr());
    if (isWord("from")) {
      take();
      n->args.push_back(expr());
      if (isWord("for")) {
        take();
        n->args.push_back(expr());
      }
    } else {
      while (cur().kind == Tok::Comma) {
        take();
        n->args.push_back(expr());
      }
    }
    expect(Tok::RParen, "')'");
    return n;
  }

  std::vector<Token> t_;
  size_t k_ = 0;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Node> parseExpression(std::string_view text) {
  if (text.size() > Program::kMaxLength)
    throw CompileError(Pos{},
                       "expression longer than " + std::to_string(Program::kMaxLength) + " bytes");
  Parser p(Lexer(text).run());
  return p.parseAll();
}

}  // namespace inlet::auth::expr
