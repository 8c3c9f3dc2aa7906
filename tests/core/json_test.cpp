// JSON text helpers on the hot path: escaping, validation, and exact array element spans.
#include "util/json.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <gtest/gtest.h>
#include <inlet/json.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using inlet::util::appendJsonString;
using inlet::util::arrayElements;
using inlet::util::isStrictJson;
using inlet::util::isValidJson;
using inlet::util::jsonString;
using inlet::util::rawJsonAt;
using inlet::util::sqliteJsonValid;
using inlet::util::trimJsonSpace;

namespace {

using Views = std::vector<std::string_view>;

std::vector<std::string> strings(const Views& v) { return {v.begin(), v.end()}; }

// Decodes a JSON string literal with an independent parser (Poco) to check round trips.
std::string decode(const std::string& literal) {
  Poco::JSON::Parser parser;
  return parser.parse("[" + literal + "]")
      .extract<Poco::JSON::Array::Ptr>()
      ->getElement<std::string>(0);
}

// --- appendJsonString ------------------------------------------------------------------------

TEST(AppendJsonString, PlainAndAppends) {
  std::string out = "x:";
  appendJsonString(out, "abc");
  EXPECT_EQ(out, "x:\"abc\"");
  EXPECT_EQ(jsonString(""), "\"\"");
  EXPECT_EQ(jsonString("a/b"), "\"a/b\"");  // '/' needs no escape
}

TEST(AppendJsonString, Escapes) {
  EXPECT_EQ(jsonString("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(jsonString("back\\slash"), R"("back\\slash")");
  EXPECT_EQ(jsonString("a\nb\rc\td"), R"("a\nb\rc\td")");
}

TEST(AppendJsonString, ControlCharacters) {
  EXPECT_EQ(jsonString(std::string_view("\0", 1)), R"("\u0000")");
  EXPECT_EQ(jsonString("\x01"), R"("\u0001")");
  EXPECT_EQ(jsonString("\b\f"), R"("\u0008\u000c")");
  EXPECT_EQ(jsonString("\x1f"), R"("\u001f")");
  EXPECT_EQ(jsonString("\x7f"), R"("\u007f")");
  EXPECT_EQ(jsonString(" ~"), "\" ~\"");  // 0x20 and 0x7e are printable
  for (int c = 0; c < 0x80; ++c) {
    std::string in(1, static_cast<char>(c));
    auto out = jsonString(in);
    EXPECT_TRUE(isValidJson(out)) << c;
    EXPECT_EQ(decode(out), in) << c;
  }
}

TEST(AppendJsonString, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(jsonString("a\xff"
                       "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(jsonString("\xc3"), R"("\ufffd")");                      // truncated 2-byte sequence
  EXPECT_EQ(jsonString("\xe2\x82"), R"("\ufffd\ufffd")");            // truncated 3-byte sequence
  EXPECT_EQ(jsonString("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong '/'
  EXPECT_EQ(jsonString("\xe0\x80\xaf"), R"("\ufffd\ufffd\ufffd")");  // overlong, 3 bytes
  EXPECT_EQ(jsonString("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // UTF-16 surrogate
  EXPECT_EQ(jsonString("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
  EXPECT_EQ(jsonString("\x80"), R"("\ufffd")");      // lone continuation byte
  EXPECT_EQ(jsonString("\xc3(x"), R"("\ufffd(x")");  // bad continuation
  EXPECT_EQ(jsonString("\xf8\x88\x80\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd\ufffd")");
}

TEST(AppendJsonString, ValidMultibyteKeptVerbatim) {
  const std::string samples[] = {"\xc3\xa9",          // é U+00E9
                                 "\xe2\x82\xac",      // € U+20AC
                                 "\xf0\x9f\x98\x80",  // 😀 U+1F600
                                 "\xc2\x80",          // U+0080, smallest 2-byte
                                 "\xef\xbf\xbf",      // U+FFFF
                                 "\xf4\x8f\xbf\xbf",  // U+10FFFF, the largest
                                 "\xee\x80\x80"};     // U+E000, just above the surrogates
  for (const auto& s : samples) {
    EXPECT_EQ(jsonString(s), "\"" + s + "\"") << s;
    EXPECT_EQ(decode(jsonString(s)), s);
  }
  EXPECT_EQ(jsonString("caf\xc3\xa9 \xe2\x82\xac"
                       "5"),
            "\"caf\xc3\xa9 \xe2\x82\xac"
            "5\"");
}

TEST(AppendJsonString, RandomBytesAlwaysGiveValidJson) {
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string in(rng() % 24, '\0');
    for (auto& c : in) c = static_cast<char>(rng() % 256);
    auto out = jsonString(in);
    ASSERT_TRUE(isValidJson(out)) << iter;
    // Pure ASCII input must round-trip exactly.
    bool ascii = std::all_of(in.begin(), in.end(), [](char c) { return (c & 0x80) == 0; });
    if (ascii) {
      ASSERT_EQ(decode(out), in) << iter;
    }
  }
}

// --- isValidJson -----------------------------------------------------------------------------

TEST(IsValidJson, ValidValues) {
  for (const char* s : {"{}", "[]", "0", "-1.5e10", "\"s\"", "true", "false", "null",
                        " {\"a\":[1,2,{\"b\":null}]} ", "\n\t[1]\r\n", "\"\\u00e9\\n\"",
                        "{\"a\":{\"b\":{\"c\":[]}}}", "-0", "1E+2"}) {
    EXPECT_TRUE(isValidJson(s)) << s;
  }
}

TEST(IsValidJson, Invalid) {
  for (const char* s :
       {"{\"a\":1} x", "{\"a\":1}}", "[1] [2]", "[1,]", "{'a':1}", "{a:1}", "NaN", "Infinity", "[1",
        "\"unterminated", "tru", "{\"a\" 1}", "+1", ".5", "1.", "[1,2,,3]"}) {
    EXPECT_FALSE(isValidJson(s)) << s;
  }
}

TEST(IsValidJson, Empty) {
  EXPECT_FALSE(isValidJson(""));
  EXPECT_FALSE(isValidJson("   \n\t "));
}

namespace {

// The strict pass decides alone only what SQLite accepts too.
void expectSameVerdict(std::string_view s) {
  const bool sqlite = sqliteJsonValid(s);
  EXPECT_EQ(isValidJson(s), sqlite) << s;
  if (isStrictJson(s)) {
    EXPECT_TRUE(sqlite) << s;
  }
}

}  // namespace

TEST(IsValidJson, TheStrictPassAcceptsWhatProvidersSend) {
  for (const char* s : {"{}",
                        "[]",
                        "0",
                        "-0",
                        "-1.5e10",
                        "1E+2",
                        "2e-3",
                        "0.25",
                        "\"s\"",
                        "\"\"",
                        "true",
                        "false",
                        "null",
                        " {\"a\":[1,2,{\"b\":null}]} ",
                        "\n\t[1]\r\n",
                        "\"\\u00e9\\n\\/\\b\\f\\r\\t\"",
                        "{\"a\":{\"b\":{\"c\":[]}}}",
                        "[ ]",
                        "{ }",
                        "[[],{},[[]]]",
                        "\"caf\xc3\xa9\"",
                        "{\"\":\"\"}",
                        "\"\\u0000\"",
                        "[true,false,null]",
                        "1e400",
                        "\"\x7f\""}) {
    EXPECT_TRUE(isStrictJson(s)) << s;
    expectSameVerdict(s);
  }
}

TEST(IsValidJson, TheStrictPassRefusesWhatRfc8259Refuses) {
  for (const char* s : {"{\"a\":1} x",
                        "{\"a\":1}}",
                        "[1] [2]",
                        "[1,]",
                        "{\"a\":1,}",
                        "{'a':1}",
                        "{a:1}",
                        "NaN",
                        "Infinity",
                        "[1",
                        "\"unterminated",
                        "tru",
                        "truex",
                        "nul",
                        "{\"a\" 1}",
                        "{\"a\":}",
                        "+1",
                        ".5",
                        "1.",
                        "-",
                        "-.5",
                        "01",
                        "-01",
                        "1.e5",
                        "1e",
                        "1e+",
                        "1.5.3",
                        "[1,2,,3]",
                        "{,}",
                        "[,1]",
                        "\"\\x\"",
                        "\"\\u12g4\"",
                        "\"\\u123\"",
                        "\"\t\"",
                        "\"\x1f\"",
                        "{1:2}",
                        "]",
                        "}",
                        "[}",
                        "{]",
                        "[1}",
                        "{\"a\":1]",
                        "\f[1]",
                        "[1]\v",
                        "[1 2]",
                        "{\"a\":1 \"b\":2}",
                        ":",
                        ","}) {
    EXPECT_FALSE(isStrictJson(s)) << s;
    EXPECT_FALSE(isValidJson(s)) << s;
    expectSameVerdict(s);
  }
}

TEST(IsValidJson, NestingPastTheStrictPassIsLeftToSqlite) {
  auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(isStrictJson(nested(1000)));
  EXPECT_FALSE(isStrictJson(nested(1001)));
  EXPECT_TRUE(isValidJson(nested(1001)));  // SQLite's own limit is 2,000
  EXPECT_TRUE(isValidJson(nested(2000)));
  EXPECT_FALSE(isValidJson(nested(2001)));
  EXPECT_FALSE(isValidJson(nested(100000)));  // neither pass recurses
  EXPECT_FALSE(isValidJson(std::string(100000, '[')));
}

// Documents cut, spliced and with bytes changed at random: the verdict is always SQLite's.
TEST(IsValidJson, MangledDocumentsGetSqlitesVerdict) {
  const std::string seeds[] = {
      R"({"action":"opened","number":12,"pull_request":{"id":-1.5e3,"draft":false,"labels":[],)"
      R"("title":"caf\u00e9 \"quoted\"","merged_at":null,"nested":[[1,2],{"a":{}}]}})",
      R"([{"type":"track","properties":{"revenue":0.25,"tags":["a","b"]}},true,"x\/y"])",
      "\"plain\"", "-0.5E+10", "  {\"k\" : [ 1 , 2 ] }  "};
  const std::string alphabet = "{}[]\",:\\ \t\n\r0123456789.eE+-tfnulrasx\x01\x7f\xc3\xa9";
  std::mt19937 rng(20261204);
  size_t strict = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = seeds[rng() % std::size(seeds)];
    const int edits = static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          s.erase(at, 1 + rng() % 3);
          break;
        default:
          s.resize(at);
      }
    }
    const bool sqlite = sqliteJsonValid(s);
    ASSERT_EQ(isValidJson(s), sqlite) << s;
    if (isStrictJson(s)) {
      ASSERT_TRUE(sqlite) << s;
      ++strict;
    }
  }
  EXPECT_GT(strict, 1000u);  // the edits leave many documents valid: both verdicts were compared
}

TEST(IsValidJson, NulByteInside) {
  EXPECT_FALSE(isValidJson(std::string_view("{\"a\":1}\0", 8)));  // trailing NUL
  EXPECT_FALSE(isValidJson(std::string_view("[1,\0 2]", 7)));     // NUL in the middle
  EXPECT_FALSE(isValidJson(std::string_view("\"a\0b\"", 5)));     // raw NUL in a string
  EXPECT_FALSE(isValidJson(std::string_view("\0", 1)));
  EXPECT_TRUE(isValidJson(std::string_view("{\"a\":1}\0garbage", 7)));  // the view ends before it
}

TEST(IsValidJson, DeepNesting) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(isValidJson(nested(100)));
  EXPECT_TRUE(isValidJson(nested(500)));
  // Far beyond any parser limit: refused (never a crash), and the validator still works after.
  EXPECT_FALSE(isValidJson(nested(100000)));
  EXPECT_FALSE(isValidJson(std::string(100000, '[')));
  EXPECT_TRUE(isValidJson("{\"ok\":true}"));
  std::string objects;
  for (int i = 0; i < 200; ++i) objects += "{\"a\":";
  objects += "1" + std::string(200, '}');
  EXPECT_TRUE(isValidJson(objects));
}

TEST(IsValidJson, HugeNumbers) {
  EXPECT_TRUE(isValidJson("123456789012345678901234567890123456789012345678901234567890"));
  EXPECT_TRUE(isValidJson("1e999999"));
  EXPECT_TRUE(isValidJson("-1.0E-99999"));
  EXPECT_TRUE(isValidJson("[18446744073709551616, -9223372036854775809]"));
  EXPECT_TRUE(isValidJson("0." + std::string(5000, '1')));
}

TEST(IsValidJson, ManyThreads) {
  // The validator is per-thread; concurrent use must give consistent answers.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (!isValidJson("{\"i\":" + std::to_string(i) + "}")) ++wrong;
        if (isValidJson("{\"i\":" + std::to_string(i))) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// --- trimJsonSpace ---------------------------------------------------------------------------

TEST(TrimJsonSpace, OnlyJsonWhitespace) {
  EXPECT_EQ(trimJsonSpace(" \t\r\n[1]\n "), "[1]");
  EXPECT_EQ(trimJsonSpace("\v[1]\f"), "\v[1]\f");  // not JSON whitespace
  EXPECT_EQ(trimJsonSpace("   "), "");
}

// --- rawJsonAt -------------------------------------------------------------------------------

std::string rawAt(std::string_view json, std::string_view pointer) {
  auto v = rawJsonAt(json, pointer);
  return v ? std::string(*v) : "<none>";
}

TEST(RawJsonAt, TheExactBytesOfTheNamedValue) {
  const std::string doc =
      R"( { "a" : { "b" : [ 10 , -9007199254740993 , {"c":"x,]}\"y"} ] } , "n" : null ,)"
      R"( "e":[], "o":{}, "a/b":{"m~n": 1.50e+3}, "":"empty" } )";
  EXPECT_EQ(rawAt(doc, ""), doc.substr(1, doc.size() - 2));  // the whole value, trimmed
  EXPECT_EQ(rawAt(doc, "/a/b/0"), "10");
  EXPECT_EQ(rawAt(doc, "/a/b/1"), "-9007199254740993");
  EXPECT_EQ(rawAt(doc, "/a/b/2"), R"({"c":"x,]}\"y"})");
  EXPECT_EQ(rawAt(doc, "/a/b/2/c"), R"("x,]}\"y")");
  EXPECT_EQ(rawAt(doc, "/n"), "null");
  EXPECT_EQ(rawAt(doc, "/e"), "[]");
  EXPECT_EQ(rawAt(doc, "/o"), "{}");
  EXPECT_EQ(rawAt(doc, "/a~1b/m~0n"), "1.50e+3");
  EXPECT_EQ(rawAt(doc, "/"), R"("empty")");
}

TEST(RawJsonAt, NothingWhereThereIsNothing) {
  const std::string doc = R"({"a":[1,2],"s":"text","k":{"x":1}})";
  for (const char* p :
       {"/b", "/a/2", "/a/-", "/a/x", "/a/", "/s/0", "/k/x/0", "/a/99999999999", "a", "/k/y"})
    EXPECT_EQ(rawAt(doc, p), "<none>") << p;
}

TEST(RawJsonAt, TheLastOfDuplicateKeysAndEscapedKeysDecoded) {
  EXPECT_EQ(rawAt(R"({"k":1,"k":2})", "/k"), "2");  // as Poco's parser
  EXPECT_EQ(rawAt(R"({"\u006b":1})", "/k"), "1");
  EXPECT_EQ(rawAt(R"({"k":1,"\u006b":2})", "/k"), "2");  // the same key, twice
  EXPECT_EQ(rawAt(R"({"x\"y":1,"k":2})", "/k"), "2");
  EXPECT_EQ(rawAt(R"({"x\"y":1,"k":2})", "/x\"y"), "1");
  EXPECT_EQ(rawAt(R"({"a\/b":{"\u00e9\t":-9007199254740993}})", "/a~1b/\u00e9\t"),
            "-9007199254740993");
  EXPECT_EQ(rawAt(R"({"\ud83d\ude00":7})", "/\U0001F600"), "7");  // a surrogate pair
  EXPECT_EQ(rawAt(R"({"\q":1})", "/q"), "<none>");                // not an escape
  EXPECT_EQ(rawAt(R"({"\u006":1})", "/k"), "<none>");
}

TEST(RawJsonAt, AgreesWithPocoOnEveryValueOfRandomDocuments) {
  // Every value reachable in random documents: its raw bytes parse to what Poco finds there.
  std::mt19937 rng(7);
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    switch (rng() % (depth > 3 ? 4 : 6)) {
      case 0:
        return std::to_string(static_cast<int>(rng() % 2000) - 1000);
      case 1:
        return "\"s" + std::to_string(rng() % 5) + (rng() % 2 ? "]},\\\"" : "") + "\"";
      case 2:
        return rng() % 2 ? "true" : "null";
      case 3:
        return "-1.5e" + std::to_string(rng() % 5);
      case 4: {
        std::string o = "{";
        for (unsigned i = 0, n = rng() % 4; i < n; ++i) {
          // Some keys are written with escapes: "\u006b0" is k0, "k1\"\n" holds a quote.
          std::string key =
              (rng() % 3 ? "k" : "\\u006b") + std::to_string(i) + (rng() % 4 ? "" : "\\\"\\n");
          o += std::string(i ? " , " : "") + "\"" + key + "\" :" + gen(depth + 1);
        }
        return o + "}";
      }
      default: {
        std::string a = "[ ";
        for (unsigned i = 0, n = rng() % 4; i < n; ++i) a += (i ? ",\n" : "") + gen(depth + 1);
        return a + "]";
      }
    }
  };
  auto condense = [](const Poco::Dynamic::Var& v) {
    std::ostringstream os;
    Poco::JSON::Stringifier::condense(v, os);
    return os.str();
  };
  auto parse = [](const std::string& text) {
    Poco::JSON::Parser p;
    return p.parse("[" + text + "]").extract<Poco::JSON::Array::Ptr>()->get(0);
  };
  int checked = 0;
  for (int round = 0; round < 300; ++round) {
    std::string doc = gen(0);
    ASSERT_TRUE(isValidJson(doc)) << doc;
    std::function<void(const Poco::Dynamic::Var&, const std::string&)> walk =
        [&](const Poco::Dynamic::Var& v, const std::string& pointer) {
          auto raw = rawJsonAt(doc, pointer);
          ASSERT_TRUE(raw) << doc << " at " << pointer;
          EXPECT_EQ(condense(parse(std::string(*raw))), condense(v)) << doc << " at " << pointer;
          ++checked;
          if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
            auto o = v.extract<Poco::JSON::Object::Ptr>();
            for (const auto& [k, child] : *o) walk(child, pointer + "/" + k);
          } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
            auto a = v.extract<Poco::JSON::Array::Ptr>();
            for (unsigned i = 0; i < a->size(); ++i)
              walk(a->get(i), pointer + "/" + std::to_string(i));
          }
        };
    walk(parse(doc), "");
  }
  EXPECT_GT(checked, 400);
}

TEST(RawJsonAt, MalformedTextNeverReadsPastItsEnd) {
  // Every prefix of a document: whatever the answer, it is a span of the text.
  const std::string doc = R"({"a":[1,{"b":"x"]"}],"c":-12})";
  for (size_t n = 0; n <= doc.size(); ++n) {
    std::string cut = doc.substr(0, n);
    for (const char* p : {"", "/a", "/a/1/b", "/c", "/a/0"}) {
      auto v = rawJsonAt(cut, p);
      if (v) {
        EXPECT_GE(v->data(), cut.data());
        EXPECT_LE(v->data() + v->size(), cut.data() + cut.size());
      }
    }
  }
}

// --- arrayElements ---------------------------------------------------------------------------

TEST(ArrayElements, ExactSpansIncludingInnerWhitespace) {
  std::string text = "  [1, \"a\" ,{\"k\" :  [1,  2]}\n, [ 3 ,4 ] ,\tnull]  ";
  auto els = arrayElements(text);
  ASSERT_TRUE(els);
  EXPECT_EQ(strings(*els),
            (std::vector<std::string>{"1", "\"a\"", "{\"k\" :  [1,  2]}", "[ 3 ,4 ]", "null"}));
  // Views into the original bytes, never copies or re-serializations.
  for (auto v : *els) {
    EXPECT_GE(v.data(), text.data());
    EXPECT_LE(v.data() + v.size(), text.data() + text.size());
  }
  EXPECT_EQ((*els)[2].data(), text.data() + text.find('{'));
}

TEST(ArrayElements, StringsWithBracketsCommasAndEscapes) {
  std::string text = R"(["a,b", "c]d", "e\"f,", "g\\", "[{", "}", "\\\"]", "x\u005dy"])";
  auto els = arrayElements(text);
  ASSERT_TRUE(els);
  EXPECT_EQ(strings(*els),
            (std::vector<std::string>{R"("a,b")", R"("c]d")", R"("e\"f,")", R"("g\\")", R"("[{")",
                                      R"("}")", R"("\\\"]")", R"("x\u005dy")"}));
}

TEST(ArrayElements, NestedArrays) {
  auto els = arrayElements("[[1,[2,[3,4]]],[],[[]],{\"a\":[{\"b\":[]}]}]");
  ASSERT_TRUE(els);
  EXPECT_EQ(strings(*els),
            (std::vector<std::string>{"[1,[2,[3,4]]]", "[]", "[[]]", "{\"a\":[{\"b\":[]}]}"}));
}

TEST(ArrayElements, EmptyArray) {
  for (const char* s : {"[]", "[ ]", " [\n\t] ", "[\r\n]"}) {
    auto els = arrayElements(s);
    ASSERT_TRUE(els) << s;
    EXPECT_TRUE(els->empty()) << s;
  }
}

TEST(ArrayElements, SingleElement) {
  auto els = arrayElements("[ {\"a\":1} ]");
  ASSERT_TRUE(els);
  EXPECT_EQ(strings(*els), std::vector<std::string>{"{\"a\":1}"});
}

TEST(ArrayElements, EmptyElementsAreMalformed) {
  for (const char* s : {"[1,]", "[1, ]", "[,1]", "[1,,2]", "[,]", "[ , ]"}) {
    EXPECT_FALSE(arrayElements(s)) << s;
  }
}

TEST(ArrayElements, NotAnArray) {
  for (const char* s :
       {"", " ", "{}", "1", "\"[1]\"", "null", "[", "]", "{\"a\":[1]}", "x[1]", "[1]x"}) {
    EXPECT_FALSE(arrayElements(s)) << s;
  }
}

TEST(ArrayElements, Unbalanced) {
  for (const char* s :
       {"[[1]", "[1]]", "[{]", "[1}", "[}{]", "[\"a]", "[\"a\\\"]", "[{\"a\":[1}]", "[]]", "[[]"}) {
    EXPECT_FALSE(arrayElements(s)) << s;
  }
}

TEST(ArrayElements, MismatchedBracketKinds) {
  // "[[}]" and "[{]]" are balanced by count but not by kind; the header promises nullopt for
  // malformed input. (The pipeline validates the whole body first, so this is defence in depth.)
  bool all_refused =
      !arrayElements("[[}]") && !arrayElements("[{]]") && !arrayElements("[[1},{2]]");
  if (!all_refused) {
    FAIL() << "arrayElements does not match bracket kinds ('[' closed by '}' is accepted)";
  }
}

// Random JSON values with random whitespace inside; no leading/trailing space on an element.
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  std::string value(int depth) {
    switch (pick(depth > 3 ? 5 : 7)) {
      case 0:
        return std::to_string(static_cast<int64_t>(rng_()) - (1LL << 31));
      case 1:
        return pick(2) ? "-0.5e-3" : "12.25E+7";
      case 2:
        return str();
      case 3:
        return pick(2) ? "true" : (pick(2) ? "false" : "null");
      case 4:
        return str();
      case 5: {
        std::string out = "[" + ws();
        int n = pick(4);
        for (int i = 0; i < n; ++i) out += (i ? ws() + "," + ws() : "") + value(depth + 1);
        return out + ws() + "]";
      }
      default: {
        std::string out = "{" + ws();
        int n = pick(4);
        for (int i = 0; i < n; ++i)
          out += (i ? ws() + "," + ws() : "") + str() + ws() + ":" + ws() + value(depth + 1);
        return out + ws() + "}";
      }
    }
  }
  std::string ws() {
    static const char chars[] = " \t\n\r";
    std::string out;
    int n = pick(4) == 0 ? pick(4) : 0;
    for (int i = 0; i < n; ++i) out.push_back(chars[pick(4)]);
    return out;
  }
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

 private:
  std::string str() {
    static const char* pieces[] = {"a",  ",",    "[",  "]", "{",        "}", "\"",
                                   "\\", "\\\"", "\n", " ", "\xc3\xa9", ":", "\\u"};
    std::string raw;
    int n = pick(8);
    for (int i = 0; i < n; ++i) raw += pieces[pick(14)];
    return jsonString(raw);
  }
  std::mt19937 rng_;
};

TEST(ArrayElements, RandomArraysGiveExactlyTheirElements) {
  Gen gen(20240601);
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<std::string> elements(static_cast<size_t>(gen.pick(6)));
    for (auto& e : elements) e = gen.value(0);
    std::string text = gen.ws() + "[" + gen.ws();
    for (size_t i = 0; i < elements.size(); ++i)
      text += (i ? gen.ws() + "," + gen.ws() : "") + elements[i];
    text += gen.ws() + "]" + gen.ws();
    ASSERT_TRUE(isValidJson(text)) << text;
    auto els = arrayElements(text);
    ASSERT_TRUE(els) << text;
    ASSERT_EQ(strings(*els), elements) << text;

    // Mutations: a trailing comma is always refused.
    if (!elements.empty()) {
      std::string trailing = text;
      trailing.insert(trailing.rfind(']'), ",");
      ASSERT_FALSE(arrayElements(trailing)) << trailing;
    }
  }
}

}  // namespace

// --- reading bodies into Poco values (inlet/json.h) ------------------------------------------

namespace {

std::string stringAt(const Poco::Dynamic::Var& doc, const std::string& key) {
  return doc.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(key);
}

Poco::Dynamic::Var valueAt(const Poco::Dynamic::Var& doc, const std::string& key) {
  return doc.extract<Poco::JSON::Object::Ptr>()->get(key);
}

const std::string kReplacement = "\xef\xbf\xbd";  // U+FFFD

}  // namespace

TEST(SdkJsonParse, OrdinaryDocumentsAreNotRewritten) {
  for (const char* doc : {R"({"a":"h\u00e9 \ud83d\ude00 \\ud800","n":[1,-2.5,1e308,1e-400]})",
                          R"({"id":"12345678901234567890123","big":18446744073709551615})",
                          R"([-9223372036854775808, 9223372036854775807, 123456789012345678])",
                          "\"caf\xc3\xa9\"", "true", "", "{\"a\":"}) {
    SCOPED_TRACE(doc);
    EXPECT_FALSE(inlet::sdk::json::readable(doc).has_value());
  }
  auto doc = inlet::sdk::json::parse(R"({"a":"x\\ud800","b":"\ud83d\ude00"})");
  ASSERT_TRUE(doc);
  EXPECT_EQ(stringAt(*doc, "a"), "x\\ud800");  // an escaped backslash, not an escape
  EXPECT_EQ(stringAt(*doc, "b"), "\xf0\x9f\x98\x80");
}

TEST(SdkJsonParse, LoneSurrogatesAndStrayBytesBecomeReplacementCharacters) {
  // A truncated emoji (JavaScript's JSON.stringify writes lone surrogates as escapes) once hid
  // every other field of the body: Poco's parser refuses the whole document.
  auto doc = inlet::sdk::json::parse(
      "{\"cut\":\"ab\\ud83d\",\"low\":\"\\udc00\\ud800x\",\"then\":\"\\uD83D\\u0041\","
      "\"latin1\":\"caf\xe9\",\"id\":\"evt_1\"}");
  ASSERT_TRUE(doc);
  EXPECT_EQ(stringAt(*doc, "cut"), "ab" + kReplacement);
  EXPECT_EQ(stringAt(*doc, "low"), kReplacement + kReplacement + "x");
  EXPECT_EQ(stringAt(*doc, "then"), kReplacement + "A");
  EXPECT_EQ(stringAt(*doc, "latin1"), "caf" + kReplacement);
  EXPECT_EQ(stringAt(*doc, "id"), "evt_1");
  // Keys too: the object stays readable.
  auto key = inlet::sdk::json::object("{\"\\ud800\":1,\"id\":\"evt_2\"}");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->getValue<std::string>("id"), "evt_2");
  EXPECT_TRUE(key->has(kReplacement));
}

TEST(SdkJsonParse, NumbersPocoCannotHoldExactly) {
  auto doc = inlet::sdk::json::parse(
      R"({"wraps":18446744073709551616,"clamps":-9223372036854775809,"long":123456789012345678901234567890,
          "huge":1e999,"neg":-1E400,"frac":0.5e99999,"max":18446744073709551615,"min":-9223372036854775808,
          "tiny":1e-400,"id":"evt_3"})");
  ASSERT_TRUE(doc);
  // Poco alone reads 2^64 as 0 and -2^63-1 as -2^63: the nearest double instead.
  EXPECT_FALSE(valueAt(*doc, "wraps").isInteger());
  EXPECT_DOUBLE_EQ(valueAt(*doc, "wraps").convert<double>(), 18446744073709551616.0);
  EXPECT_FALSE(valueAt(*doc, "clamps").isInteger());
  EXPECT_DOUBLE_EQ(valueAt(*doc, "clamps").convert<double>(), -9223372036854775809.0);
  EXPECT_DOUBLE_EQ(valueAt(*doc, "long").convert<double>(), 1.2345678901234568e29);
  // Past a double's range: the literal itself, as a string.
  EXPECT_EQ(stringAt(*doc, "huge"), "1e999");
  EXPECT_EQ(stringAt(*doc, "neg"), "-1E400");
  EXPECT_EQ(stringAt(*doc, "frac"), "0.5e99999");
  // Within range: as Poco reads them.
  EXPECT_EQ(valueAt(*doc, "max").convert<Poco::UInt64>(), 18446744073709551615ULL);
  EXPECT_EQ(valueAt(*doc, "min").convert<Poco::Int64>(), INT64_MIN);
  EXPECT_EQ(valueAt(*doc, "tiny").convert<double>(), 0.0);
  EXPECT_EQ(stringAt(*doc, "id"), "evt_3");
  // A bare scalar too.
  auto scalar = inlet::sdk::json::parse(" 1e999 ");
  ASSERT_TRUE(scalar);
  EXPECT_EQ(scalar->extract<std::string>(), "1e999");
}

TEST(SdkJsonParse, TooDeepOrNotJsonIsNothing) {
  // As deep as SQLite accepts (Poco's own limit is 128), and no deeper.
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(isValidJson(nested(2000)));
  EXPECT_TRUE(inlet::sdk::json::parse(nested(2000)));
  EXPECT_FALSE(isValidJson(nested(2001)));
  EXPECT_FALSE(inlet::sdk::json::parse(nested(2001)));
  for (const char* bad : {"", "   ", "{", "[1,]", "\"\\ud800", "1e", "-", "{\"a\":1e999"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(inlet::sdk::json::parse(bad));
  }
  EXPECT_FALSE(inlet::sdk::json::object("[1]"));
  EXPECT_FALSE(inlet::sdk::json::object("\"x\""));
  EXPECT_FALSE(inlet::sdk::json::object("To=%2B1&Body=hi"));  // a form body
  auto obj = inlet::sdk::json::object(" \r\n{\"a\":1}");
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->getValue<int>("a"), 1);
}

// Every document SQLite accepts, nested no deeper than Poco's limit, is read: random documents
// built from the values Poco once refused or misread, in random places.
TEST(SdkJsonParse, EveryValidDocumentOfRandomPiecesIsRead) {
  const char* pieces[] = {"\"\\ud83d\"",
                          "\"\\ude00\\ud83d\"",
                          "\"a\\ud83d\\ude00b\"",
                          "\"\xff\xfe\"",
                          "\"\xc3\xa9\"",
                          "\"\\\\ud800\"",
                          "1e999",
                          "-1e400",
                          "18446744073709551616",
                          "-99999999999999999999999",
                          "0.1e-999",
                          "12345678901234567890.5e300",
                          "3",
                          "true",
                          "null",
                          "\"\\u0000\"",
                          "9223372036854775807",
                          "-0"};
  std::mt19937 rng(20261203);
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    int kind = static_cast<int>(rng() % 4);
    if (depth > 3 || kind == 0) return pieces[rng() % std::size(pieces)];
    std::string out = kind == 1 ? "[" : "{";
    int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      if (i) out += ", ";
      if (kind != 1) out += std::string(pieces[rng() % 6]) + " : ";
      out += value(depth + 1);
    }
    return out + (kind == 1 ? "]" : "}");
  };
  int read = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string doc = value(0);
    if (!isValidJson(doc)) continue;  // only what the host accepts as JSON is ever read
    ++read;
    auto parsed = inlet::sdk::json::parse(doc);
    ASSERT_TRUE(parsed) << doc;
    if (auto again = inlet::sdk::json::readable(doc)) {
      EXPECT_TRUE(isValidJson(*again)) << doc;
      EXPECT_FALSE(inlet::sdk::json::readable(*again)) << doc;  // one rewrite is enough
    }
  }
  EXPECT_GT(read, 1000);
}
