// inlet::sdk::sql::readStringLiteral: SQL string literals as PostgreSQL reads them, shared by
// `inlet import-sql` and the expression provider.
#include <gtest/gtest.h>
#include <inlet/sql.h>

using inlet::sdk::sql::readStringLiteral;
using inlet::sdk::sql::skipSpaceAndComments;

namespace {

std::string value(std::string_view text, bool escapes) {
  auto r = readStringLiteral(text, 0, escapes);
  EXPECT_EQ(r.error, "") << text;
  EXPECT_EQ(r.end, text.size()) << text;
  return r.value;
}

TEST(SqlStringLiteral, PlainLiteralsDoubleTheirQuotesOnly) {
  EXPECT_EQ(value("''", false), "");
  EXPECT_EQ(value("'it''s'", false), "it's");
  EXPECT_EQ(value(R"('a\nb')", false), R"(a\nb)");  // no escapes without E
  EXPECT_EQ(value("'line\nbreak'", false), "line\nbreak");
  // Reading stops at the closing quote; what follows is the caller's.
  auto r = readStringLiteral("'ab' || 'c'", 0, false);
  EXPECT_EQ(r.value, "ab");
  EXPECT_EQ(r.end, 4u);
  r = readStringLiteral("x = 'q'", 4, false);
  EXPECT_EQ(r.value, "q");
  EXPECT_EQ(r.end, 7u);
}

TEST(SqlStringLiteral, EscapeStrings) {
  EXPECT_EQ(value(R"('\b\f\n\r\t')", true), "\b\f\n\r\t");
  EXPECT_EQ(value(R"('\x41\x4a\x7')", true), "AJ\x07");
  EXPECT_EQ(value(R"('\101\7\0')", true), std::string("A\x07\0", 3));
  EXPECT_EQ(value(R"('\u00e9\U0001F600')", true), "\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(value(R"('\\ \' \q')", true), "\\ ' q");
  EXPECT_EQ(value(R"('it''s')", true), "it's");
}

TEST(SqlStringLiteral, ErrorsSayWhereAndWhy) {
  struct Case {
    std::string_view text;
    bool escapes;
    const char* error;
    size_t at;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"'open", false, "unterminated string literal", 0},
           {"'it''", false, "unterminated string literal", 0},
           {R"('ends in \)", true, "unterminated string literal", 0},
           {R"('a\xZ')", true, "invalid \\x escape in E'' string", 2},
           {R"('ab\u12')", true, "invalid Unicode escape in E'' string", 3},
           {R"('\uD800')", true, "invalid Unicode code point in E'' string", 1},
           {R"('\U00110000')", true, "invalid Unicode code point in E'' string", 1},
           {R"('\u0000')", true, "invalid Unicode code point in E'' string", 1},
       }) {
    auto r = readStringLiteral(c.text, 0, c.escapes);
    SCOPED_TRACE(std::string(c.text));
    EXPECT_EQ(r.error, c.error);
    EXPECT_EQ(r.error_at, c.at);
    EXPECT_EQ(r.value, "");
  }
}

TEST(SqlSkip, SpaceLineAndNestedBlockCommentsAreSkipped) {
  struct Case {
    std::string_view text;
    size_t from, end;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"select", 0, 0},
           {"  \t\n x", 0, 5},
           {"-- a comment\nx", 0, 13},
           {"-- only a comment", 0, 17},
           {"/* a */x", 0, 7},
           {"/* a /* nested */ still */ x", 0, 27},
           {"/**/-- c\n /* d */ y", 0, 18},
           {"a /* b */ c", 1, 10},
           {"/* a */ */", 0, 8},  // a stray */ is not a comment: the caller sees it
       }) {
    SCOPED_TRACE(std::string(c.text));
    auto r = skipSpaceAndComments(c.text, c.from);
    EXPECT_EQ(r.end, c.end);
    EXPECT_EQ(r.unterminated_comment, std::string_view::npos);
  }
}

TEST(SqlSkip, UnterminatedBlockCommentReportsWhereItStarts) {
  for (auto [text, at] : std::initializer_list<std::pair<std::string_view, size_t>>{
           {"/* open", 0}, {"x  /* a /* b */ still open", 3}, {"-- c\n/*", 5}}) {
    SCOPED_TRACE(std::string(text));
    auto r = skipSpaceAndComments(text, text[0] == 'x' ? 1 : 0);
    EXPECT_EQ(r.unterminated_comment, at);
    EXPECT_EQ(r.end, text.size());
  }
}

}  // namespace

TEST(SqlQuote, IdentifiersAndLiteralsDoubleTheirQuotes) {
  using inlet::sdk::sql::quoteIdent;
  using inlet::sdk::sql::quoteLiteral;
  EXPECT_EQ(quoteIdent("github_events"), "\"github_events\"");
  EXPECT_EQ(quoteIdent("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quoteIdent("it's"), "\"it's\"");
  EXPECT_THROW(quoteIdent(std::string("a\0b", 3)), std::invalid_argument);
  EXPECT_EQ(quoteLiteral("github"), "'github'");
  EXPECT_EQ(quoteLiteral("it's \"x\""), "'it''s \"x\"'");
  EXPECT_EQ(quoteLiteral(""), "''");
}
