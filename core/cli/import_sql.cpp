#include "cli/import_sql.h"

#include <inlet/sql.h>
#include <inlet/text.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace inlet::cli {

namespace {

// ------------------------------------------------------------------------------------------
// SQL tokens: enough of PostgreSQL's lexical rules to split statements safely (a ';' inside a
// string, a quoted identifier or a comment does not end a statement).
// ------------------------------------------------------------------------------------------

enum class Kind { Word, QuotedIdent, String, Number, Punct };

struct Token {
  Kind kind;
  std::string text;  // Word: lower-cased; String: decoded value; others: as written
  int line;
  size_t begin, end;  // byte range in the source
};

struct LexError {
  int line;
  std::string message;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class SqlLexer {
 public:
  explicit SqlLexer(std::string_view s) : s_(s) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skip();
      if (i_ >= s_.size()) return out;
      Token t{Kind::Punct, "", line_, i_, i_};
      char c = s_[i_];
      if ((c == 'e' || c == 'E') && peek(1) == '\'') {
        ++i_;
        t.kind = Kind::String;
        t.text = string(true);
      } else if (c == '\'') {
        t.kind = Kind::String;
        t.text = string(false);
      } else if (c == '"') {
        t.kind = Kind::QuotedIdent;
        t.text = quoted(t.line);
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
                 static_cast<unsigned char>(c) >= 0x80) {
        t.kind = Kind::Word;
        while (i_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' ||
                s_[i_] == '$' || static_cast<unsigned char>(s_[i_]) >= 0x80))
          ++i_;
        t.text = lower(s_.substr(t.begin, i_ - t.begin));
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        t.kind = Kind::Number;
        while (i_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.'))
          ++i_;
        t.text = std::string(s_.substr(t.begin, i_ - t.begin));
      } else {
        // Multi-character operators matter only for not splitting them; keep them whole.
        static const char* const kOps[] = {"->>", "||", "->", "::", "<=", ">=", "<>", "!="};
        size_t n = 1;
        for (const char* op : kOps)
          if (s_.substr(i_, std::string_view(op).size()) == op) {
            n = std::string_view(op).size();
            break;
          }
        i_ += n;
        t.text = std::string(s_.substr(t.begin, n));
      }
      t.end = i_;
      out.push_back(std::move(t));
    }
  }

 private:
  char peek(size_t k) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }
  void step() {
    if (s_[i_] == '\n') ++line_;
    ++i_;
  }

  void skip() {
    auto skipped = sdk::sql::skipSpaceAndComments(s_, i_);
    if (skipped.unterminated_comment != std::string_view::npos) {
      while (i_ < skipped.unterminated_comment) step();
      throw LexError{line_, "unterminated /* comment"};
    }
    while (i_ < skipped.end) step();
  }

  std::string string(bool escapes) {
    auto lit = sdk::sql::readStringLiteral(s_, i_, escapes);
    if (!lit.error.empty()) {
      while (i_ < lit.error_at) step();  // to the opening quote or the bad escape's backslash
      throw LexError{line_, lit.error};
    }
    while (i_ < lit.end) step();
    return std::move(lit.value);
  }

  std::string quoted(int start) {
    step();
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) throw LexError{start, "unterminated quoted identifier"};
      if (s_[i_] == '"') {
        if (peek(1) == '"') {
          out.push_back('"');
          step();
          step();
          continue;
        }
        step();
        return out;
      }
      out.push_back(s_[i_]);
      step();
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  int line_ = 1;
};

// ------------------------------------------------------------------------------------------
// Statements
// ------------------------------------------------------------------------------------------

struct SecretDef {
  std::string name;
  std::string value;
  int line = 0;
};

struct TableDef {
  std::string database = "dev", schema = "public", name;
  std::string body_name;  // the single JSONB column; empty for typed columns
  std::string secret;     // empty for VALIDATE AS without a secret
  std::string expression;
  bool batched = false;
  int line = 0;
};

class StatementError {
 public:
  explicit StatementError(std::string m) : message(std::move(m)) {}
  std::string message;
};

class Statement {
 public:
  Statement(const std::vector<Token>& toks, std::string_view source) : t_(toks), src_(source) {}

  bool atEnd() const { return k_ >= t_.size(); }
  const Token* cur() const { return atEnd() ? nullptr : &t_[k_]; }
  bool isWord(const char* w) const {
    return !atEnd() && t_[k_].kind == Kind::Word && t_[k_].text == w;
  }
  bool isPunct(const char* p) const {
    return !atEnd() && t_[k_].kind == Kind::Punct && t_[k_].text == p;
  }
  const Token& take() {
    if (atEnd()) throw StatementError("unexpected end of statement");
    return t_[k_++];
  }
  void expectWord(const char* w) {
    if (!isWord(w)) throw StatementError(std::string("expected ") + upper(w) + " " + found());
    ++k_;
  }
  void expectPunct(const char* p) {
    if (!isPunct(p)) throw StatementError(std::string("expected '") + p + "' " + found());
    ++k_;
  }
  std::string found() const {
    if (atEnd()) return "at the end of the statement";
    return "at line " + std::to_string(t_[k_].line) + ", found '" +
           std::string(src_.substr(t_[k_].begin, std::min<size_t>(t_[k_].end - t_[k_].begin, 40))) +
           "'";
  }
  static std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  // name or "quoted name"
  std::string identifier(const char* what) {
    if (!atEnd() && (t_[k_].kind == Kind::Word || t_[k_].kind == Kind::QuotedIdent))
      return t_[k_++].text;
    throw StatementError(std::string("expected ") + what + " " + found());
  }
  std::vector<std::string> qualifiedName(const char* what) {
    std::vector<std::string> parts{identifier(what)};
    while (isPunct(".")) {
      ++k_;
      parts.push_back(identifier(what));
    }
    return parts;
  }
  void ifNotExists() {
    if (isWord("if")) {
      ++k_;
      expectWord("not");
      expectWord("exists");
    }
  }

  // Skips a balanced ( … ) group and returns its tokens (without the outer parentheses).
  std::vector<Token> group() {
    expectPunct("(");
    std::vector<Token> inner;
    int depth = 1;
    while (!atEnd()) {
      const Token& t = t_[k_++];
      if (t.kind == Kind::Punct && t.text == "(") ++depth;
      if (t.kind == Kind::Punct && t.text == ")" && --depth == 0) return inner;
      inner.push_back(t);
    }
    throw StatementError("unbalanced parentheses");
  }

  // WITH ( key = value, … ): keys lower-cased, values as written (strings decoded).
  std::map<std::string, std::string> options() {
    std::map<std::string, std::string> out;
    auto toks = group();
    size_t i = 0;
    while (i < toks.size()) {
      std::string key;
      while (i < toks.size() && !(toks[i].kind == Kind::Punct && toks[i].text == "=")) {
        key += toks[i].text;
        ++i;
      }
      if (i >= toks.size()) throw StatementError("expected '=' in WITH option '" + key + "'");
      ++i;  // =
      std::string value;
      while (i < toks.size() && !(toks[i].kind == Kind::Punct && toks[i].text == ",")) {
        value += toks[i].text;
        ++i;
      }
      out[lower(key)] = value;
      if (i < toks.size()) ++i;  // ,
    }
    return out;
  }

  // Source text from the current token to the end of the statement, verbatim.
  std::string restVerbatim() const {
    if (atEnd()) return {};
    return std::string(src_.substr(t_[k_].begin, t_.back().end - t_[k_].begin));
  }

 private:
  const std::vector<Token>& t_;
  std::string_view src_;
  size_t k_ = 0;
};

SecretDef parseSecret(Statement& st, int line) {
  SecretDef s;
  s.line = line;
  st.ifNotExists();
  s.name =
      st.qualifiedName("a secret name").back();  // secrets are schema-scoped; the name is enough
  if (st.isWord("with")) {
    st.take();
    auto opts = st.options();
    auto it = opts.find("backend");
    if (it != opts.end() && lower(it->second) != "meta")
      throw StatementError("secret " + s.name + " uses backend '" + it->second +
                           "'; only backend = 'meta' (a value in the statement) can be imported");
  }
  st.expectWord("as");
  const Token* v = st.cur();
  if (!v || v->kind != Kind::String)
    throw StatementError("expected the secret value as a string literal " + st.found());
  s.value = st.take().text;
  if (!st.atEnd()) throw StatementError("unexpected text after the secret value " + st.found());
  return s;
}

// Column list: a single JSONB column names the body; anything else means typed columns, whose
// body RisingWave calls `payload`.
std::string bodyName(const std::vector<Token>& cols) {
  std::vector<std::vector<const Token*>> defs(1);
  int depth = 0;
  for (const auto& t : cols) {
    if (t.kind == Kind::Punct && t.text == "(") ++depth;
    if (t.kind == Kind::Punct && t.text == ")") --depth;
    if (depth == 0 && t.kind == Kind::Punct && t.text == ",") {
      defs.emplace_back();
      continue;
    }
    defs.back().push_back(&t);
  }
  if (defs.size() == 1 && defs[0].size() == 2 && defs[0][1]->kind == Kind::Word &&
      defs[0][1]->text == "jsonb")
    return defs[0][0]->text;
  return {};
}

std::optional<TableDef> parseTable(Statement& st, int line, std::ostream& err,
                                   const std::string& where) {
  TableDef t;
  t.line = line;
  st.ifNotExists();
  auto parts = st.qualifiedName("a table name");
  if (parts.size() > 3) throw StatementError("table name has more than three parts");
  t.name = parts.back();
  if (parts.size() >= 2) t.schema = parts[parts.size() - 2];
  if (parts.size() == 3) t.database = parts[0];
  if (st.isPunct("(")) t.body_name = bodyName(st.group());
  // Skip clauses Inlet does not need (APPEND ONLY, ON CONFLICT …) up to WITH.
  while (!st.atEnd() && !st.isWord("with")) st.take();
  std::map<std::string, std::string> opts;
  if (st.isWord("with")) {
    st.take();
    opts = st.options();
  }
  auto connector = opts.find("connector");
  if (connector == opts.end() || lower(connector->second) != "webhook")
    throw StatementError("table " + t.name + " is not a webhook table (connector = '" +
                         (connector == opts.end() ? std::string() : connector->second) + "')");
  auto batched = opts.find("is_batched");
  t.batched = batched != opts.end() && lower(batched->second) == "true";
  if (st.atEnd()) {
    err << where << ":" << line << ": table " << t.name
        << " has no VALIDATE clause; Inlet verifies every pipeline, so it was skipped (add an "
           "auth provider by hand)\n";
    return std::nullopt;
  }
  st.expectWord("validate");
  if (st.isWord("secret")) {
    st.take();
    t.secret = st.identifier("a secret name");
  }
  st.expectWord("as");
  t.expression = st.restVerbatim();
  if (t.expression.empty()) throw StatementError("VALIDATE has no expression");
  return t;
}

// ------------------------------------------------------------------------------------------
// YAML output
// ------------------------------------------------------------------------------------------

bool plainSafe(std::string_view s) {
  if (s.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  static const char* const kReserved[] = {"true", "false", "yes", "no", "on",
                                          "off",  "null",  "y",   "n"};
  for (const char* r : kReserved)
    if (lower(s) == r) return false;
  return true;
}

// Single quotes when nothing needs escaping (easier to read and to edit), else double quotes.
std::string quoted(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return sdk::text::jsonString(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out.push_back(c);
  }
  return out + "'";
}

std::string key(std::string_view s) { return plainSafe(s) ? std::string(s) : quoted(s); }

std::string pathScalar(const std::string& p) {
  for (char c : p)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '.'))
      return quoted(p);
  return p;
}

std::string envName(std::string_view secret) {
  std::string out = "INLET_SECRET_";
  for (char c : secret)
    out.push_back(std::isalnum(static_cast<unsigned char>(c))
                      ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                      : '_');
  return out;
}

std::string trimRight(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

}  // namespace

int importSqlText(const std::string& sql, const std::string& source_name,
                  bool include_secret_values, std::ostream& out, std::ostream& err) {
  std::vector<Token> tokens;
  try {
    tokens = SqlLexer(sql).run();
  } catch (const LexError& e) {
    err << source_name << ":" << e.line << ": " << e.message << "\n";
    return 2;
  }

  std::vector<SecretDef> secrets;
  std::vector<TableDef> tables;
  std::vector<Token> current;
  auto flush = [&]() {
    if (current.empty()) return;
    int line = current.front().line;
    Statement st(current, sql);
    try {
      std::string head;
      if (st.isWord("create")) {
        st.take();
        if (st.isWord("or")) {  // CREATE OR REPLACE …
          st.take();
          st.expectWord("replace");
        }
        if (st.isWord("secret")) {
          st.take();
          SecretDef s = parseSecret(st, line);
          for (const auto& existing : secrets)
            if (existing.name == s.name)
              throw StatementError("secret " + s.name + " is created twice (first at line " +
                                   std::to_string(existing.line) + ")");
          secrets.push_back(std::move(s));
          current.clear();
          return;
        }
        if (st.isWord("table")) {
          st.take();
          if (auto t = parseTable(st, line, err, source_name)) tables.push_back(std::move(*t));
          current.clear();
          return;
        }
      }
      // Anything else: say what it was, by its first words.
      for (size_t i = 0; i < current.size() && i < 3; ++i) {
        if (current[i].kind != Kind::Word) break;
        head += (head.empty() ? "" : " ") + Statement::upper(current[i].text);
      }
      throw StatementError("unsupported statement" +
                           (head.empty() ? std::string() : " (" + head + ")") + ", skipped");
    } catch (const StatementError& e) {
      err << source_name << ":" << line << ": " << e.message << "\n";
    }
    current.clear();
  };
  for (auto& t : tokens) {
    if (t.kind == Kind::Punct && t.text == ";") {
      flush();
    } else {
      current.push_back(std::move(t));
    }
  }
  flush();

  if (tables.empty()) {
    err << source_name << ": no webhook table with a VALIDATE clause found; nothing to import\n";
    return 2;
  }

  // Secrets the tables use, in order of first use, plus any other created ones (kept so the
  // config stays complete; the provider ignores secrets a pipeline does not bind).
  std::vector<std::string> names;
  for (const auto& t : tables)
    if (!t.secret.empty() && std::find(names.begin(), names.end(), t.secret) == names.end())
      names.push_back(t.secret);
  for (const auto& s : secrets) {
    if (std::find(names.begin(), names.end(), s.name) == names.end()) {
      err << source_name << ":" << s.line << ": secret " << s.name
          << " is not used by any webhook table; it was left out\n";
    }
  }
  auto defined = [&](const std::string& name) -> const SecretDef* {
    for (const auto& s : secrets)
      if (s.name == name) return &s;
    return nullptr;
  };

  out << "# Generated by `inlet import-sql " << source_name << "` from RisingWave webhook DDL.\n"
      << "# Each webhook table became a pipeline at its RisingWave path\n"
      << "# (/webhook/{database}/{schema}/{table}), verified by the `expression` provider with "
         "the\n"
      << "# table's VALIDATE expression unchanged.\n"
      << "server:\n"
      << "  listen: 127.0.0.1:4560   # RisingWave's webhook port; 0.0.0.0:4560 to accept remote "
         "senders\n"
      << "plugins:\n"
      << "  path: [build/plugins]\n";
  if (!names.empty()) {
    out << "secrets:\n";
    if (!include_secret_values)
      out << "  # Values are read from the environment, e.g.\n"
          << "  #   export " << envName(names.front()) << "='the value from CREATE SECRET'\n"
          << "  # (or use { file: /path } per secret; re-run with secret values included to\n"
          << "  # copy them from the SQL into this file).\n";
    for (const auto& name : names) {
      const SecretDef* s = defined(name);
      out << "  " << key(name) << ": ";
      if (include_secret_values && s) {
        out << "{ value: " << quoted(s->value) << " }\n";
      } else {
        out << "{ env: " << envName(name) << " }";
        if (!s) out << "   # not created in " << source_name;
        out << "\n";
      }
      if (!s)
        err << source_name << ": secret " << name << " is used but not created in this file; set "
            << envName(name) << "\n";
    }
  }
  // The pipelines first: their table names decide the store.
  std::ostringstream pipelines;
  bool journal_names_free = true;

  std::set<std::string> used_names;
  for (const auto& t : tables) {
    std::string name = t.name;
    if (used_names.count(name)) name = t.schema + "_" + t.name;
    if (used_names.count(name)) name = t.database + "_" + t.schema + "_" + t.name;
    for (int n = 2; used_names.count(name); ++n)
      name = t.database + "_" + t.schema + "_" + t.name + "_" + std::to_string(n);
    used_names.insert(name);
    if (config::isJournalOwnTable(name)) journal_names_free = false;

    pipelines << "  " << key(name) << ":   # " << source_name << ":" << t.line << "\n"
              << "    path: "
              << pathScalar("/webhook/" + t.database + "/" + t.schema + "/" + t.name) << "\n"
              << "    auth:\n"
              << "      provider: expression\n";
    if (!t.secret.empty()) pipelines << "      secrets: [" << key(t.secret) << "]\n";
    if (!t.body_name.empty() && t.body_name != "data")
      pipelines << "      body_name: " << key(t.body_name) << "\n";
    pipelines << "      expression: " << sdk::text::jsonString(trimRight(t.expression)) << "\n";
    if (t.batched)
      pipelines << "    split: jsonl   # is_batched = true: one row per JSON line, all in one "
                   "transaction\n";
    // Tables of the same name in two schemas would collide in one store: use the unique name.
    pipelines << "    sinks: [local]\n"
              << "    table: " << key(name) << "\n";
  }
  // The embedded store is the journal itself, unless a table takes one of the journal's own
  // names: then a database of its own (the sqlite sink).
  if (journal_names_free)
    out << "journal: { path: data/inlet.db }   # the embedded store: the tables are views over it\n"
        << "sinks:\n"
        << "  local: { type: journal }\n";
  else
    out << "sinks:\n"
        << "  # A table below is named like one of the journal's own tables: its own database.\n"
        << "  local: { type: sqlite, path: data/inlet.db }\n";
  out << "pipelines:\n" << pipelines.str();
  return 0;
}

int runImportSql(const std::string& sql_path, bool include_secret_values, std::ostream& out,
                 std::ostream& err) {
  std::ifstream in(sql_path, std::ios::binary);
  if (!in) {
    err << sql_path << ": cannot open file\n";
    return 2;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return importSqlText(buf.str(), sql_path, include_secret_values, out, err);
}

}  // namespace inlet::cli
