// Pipeline::prepare (decode, split, typed columns, dedup key) and the admission helpers, without
// any plugin: the verdict is filled in by hand as an auth plugin would.
#include "pipeline/pipeline.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "util/json.h"

using inlet::config::ColumnConfig;
using inlet::config::DedupConfig;
using inlet::config::PipelineConfig;
using inlet::pipeline::formToJson;
using inlet::pipeline::headersJson;
using inlet::pipeline::jsonPointer;
using inlet::pipeline::Pipeline;
using inlet::pipeline::Prepared;
using inlet::pipeline::Request;
using T = inlet::config::ColumnConfig::Type;

namespace {

constexpr int64_t kNow = 1704164645000;  // 2024-01-02T03:04:05Z

inlet_auth_result accepted(const std::string& delivery_id = "", const std::string& event_type = "",
                           uint32_t flags = 0) {
  inlet_auth_result r;
  std::memset(&r, 0, sizeof r);
  r.size = sizeof r;
  r.verdict = INLET_ACCEPT;
  r.flags = flags;
  std::strncpy(r.delivery_id, delivery_id.c_str(), sizeof r.delivery_id - 1);
  std::strncpy(r.event_type, event_type.c_str(), sizeof r.event_type - 1);
  return r;
}

PipelineConfig config(PipelineConfig::Decode decode = PipelineConfig::Decode::Json,
                      PipelineConfig::Split split = PipelineConfig::Split::None) {
  PipelineConfig c;
  c.name = "p";
  c.path = "/webhook/p";
  c.provider = "test";
  c.decode = decode;
  c.split = split;
  return c;
}

Request request(std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = "POST";
  r.target = "/webhook/p";
  r.url = "http://127.0.0.1/webhook/p";
  r.remote_addr = "127.0.0.1";
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.received_ms = kNow;
  return r;
}

Prepared prepare(const PipelineConfig& c, const Request& r,
                 const inlet_auth_result& v = accepted()) {
  Pipeline p(c, nullptr);
  return p.prepare(r, v);
}

void expectRejected(const Prepared& p, int status, const std::string& code,
                    const std::string& fragment = "") {
  EXPECT_FALSE(p.ok);
  EXPECT_TRUE(p.events.empty()) << "a refused request must produce nothing";
  EXPECT_EQ(p.error.status, status);
  EXPECT_EQ(p.error.code, code);
  if (!fragment.empty()) {
    EXPECT_NE(p.error.message.find(fragment), std::string::npos) << p.error.message;
  }
  EXPECT_TRUE(inlet::util::isValidJson(p.error.body)) << p.error.body;
  EXPECT_NE(p.error.body.find("\"code\":\"" + code + "\""), std::string::npos) << p.error.body;
}

// --- decode ----------------------------------------------------------------------------------

TEST(PipelineDecode, JsonBody) {
  auto r = request("  {\"action\":\"opened\"}\n", {{"content-type", "application/json"}});
  auto p = prepare(config(), r, accepted("d-1", "push"));
  ASSERT_TRUE(p.ok) << p.error.message;
  ASSERT_EQ(p.events.size(), 1u);
  const auto& e = p.events[0];
  EXPECT_EQ(e.body, "  {\"action\":\"opened\"}\n");   // raw bytes, untouched
  EXPECT_EQ(e.data_json, "{\"action\":\"opened\"}");  // trimmed JSON
  EXPECT_EQ(e.pipeline, "p");
  EXPECT_EQ(e.provider, "test");
  EXPECT_EQ(e.event_type, "push");
  EXPECT_EQ(e.delivery_id, "d-1");
  EXPECT_EQ(e.received_ms, kNow);
  EXPECT_TRUE(e.authenticated);
  EXPECT_EQ(e.headers_json, "{\"content-type\":\"application/json\"}");
  EXPECT_EQ(e.id.size(), 36u);
  EXPECT_EQ(e.id[14], '7');       // UUIDv7
  EXPECT_EQ(e.columns_json, "");  // no columns configured
  EXPECT_EQ(e.dedup_key, "");     // no dedup configured
  EXPECT_EQ(p.claim_key, "");
}

TEST(PipelineDecode, InvalidJsonIs422AndNothing) {
  for (const char* body : {"{not json", "", "   ", "{\"a\":1} trailing", "[1,]"}) {
    SCOPED_TRACE(body);
    expectRejected(prepare(config(), request(body)), 422, "invalid_json", "not valid JSON");
  }
  // A NUL byte makes the body invalid even if the JSON before it is fine.
  expectRejected(prepare(config(), request(std::string("{}\0", 3))), 422, "invalid_json");
}

TEST(PipelineDecode, RawKeepsNonJson) {
  auto p = prepare(config(PipelineConfig::Decode::Raw), request("plain text \x01\xff"));
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].body, "plain text \x01\xff");
  EXPECT_EQ(p.events[0].data_json, "");

  // Raw still exposes the JSON when the body happens to be JSON, so columns can read it.
  auto j = prepare(config(PipelineConfig::Decode::Raw), request("{\"a\":1}"));
  ASSERT_TRUE(j.ok);
  EXPECT_EQ(j.events[0].data_json, "{\"a\":1}");

  auto empty = prepare(config(PipelineConfig::Decode::Raw), request(""));
  ASSERT_TRUE(empty.ok);
  EXPECT_EQ(empty.events[0].body, "");
}

TEST(PipelineDecode, FormBecomesJsonObject) {
  auto p = prepare(config(PipelineConfig::Decode::Form),
                   request("a=1&b=hello+world&a=2&c=%41%42%2b%26%3D&d=&e&a=3"));
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].body, "a=1&b=hello+world&a=2&c=%41%42%2b%26%3D&d=&e&a=3");
  EXPECT_EQ(p.events[0].data_json,
            R"({"a":["1","2","3"],"b":"hello world","c":"AB+&=","d":"","e":""})");
  EXPECT_TRUE(inlet::util::isValidJson(p.events[0].data_json));
}

// --- formToJson ------------------------------------------------------------------------------

TEST(FormToJson, Basics) {
  EXPECT_EQ(formToJson(""), "{}");
  EXPECT_EQ(formToJson("&&"), "{}");
  EXPECT_EQ(formToJson("x=1"), R"({"x":"1"})");
  EXPECT_EQ(formToJson("x=1&x=1"), R"({"x":["1","1"]})");  // repeated keys → array, order kept
  EXPECT_EQ(formToJson("a+b=c+d"), R"({"a b":"c d"})");    // '+' is a space in names too
  EXPECT_EQ(formToJson("k=a=b"), R"({"k":"a=b"})");        // only the first '=' splits
  EXPECT_EQ(formToJson("%7B%22=%5B"), R"({"{\"":"["})");
}

TEST(FormToJson, PercentDecodingEdges) {
  EXPECT_EQ(formToJson("k=%zz"), R"({"k":"%zz"})");  // not hex: kept literally
  EXPECT_EQ(formToJson("k=%4"), R"({"k":"%4"})");    // truncated: kept literally
  EXPECT_EQ(formToJson("k=%"), R"({"k":"%"})");
  EXPECT_EQ(formToJson("k=%41"), R"({"k":"A"})");  // escape at the very end
  EXPECT_EQ(formToJson("k=%2B"), R"({"k":"+"})");  // an encoded '+' stays a plus
  EXPECT_EQ(formToJson("k=%C3%A9"), "{\"k\":\"\xc3\xa9\"}");
  EXPECT_EQ(formToJson("k=%00"), R"({"k":"\u0000"})");
  EXPECT_EQ(formToJson("k=%FF"), R"({"k":"\ufffd"})");  // invalid UTF-8 never breaks the JSON
  EXPECT_TRUE(inlet::util::isValidJson(formToJson("%22%5C=%0A%0D%09")));
}

// --- split -----------------------------------------------------------------------------------

TEST(PipelineSplit, JsonlTenLines) {
  std::string body;
  for (int i = 0; i < 10; ++i) body += "{\"n\":" + std::to_string(i) + "}\n";
  auto p =
      prepare(config(PipelineConfig::Decode::Json, PipelineConfig::Split::Jsonl), request(body));
  ASSERT_TRUE(p.ok) << p.error.message;
  ASSERT_EQ(p.events.size(), 10u);
  std::set<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(p.events[i].body, "{\"n\":" + std::to_string(i) + "}");
    EXPECT_EQ(p.events[i].data_json, p.events[i].body);
    ids.insert(p.events[i].id);
  }
  EXPECT_EQ(ids.size(), 10u);  // every event has its own id
}

TEST(PipelineSplit, JsonlBlankLinesAndCrlfSkipped) {
  std::string body = "\r\n{\"a\":1}\r\n\r\n   \n\t\n{\"b\":2}\r\n  [3]  \n\n";
  auto p =
      prepare(config(PipelineConfig::Decode::Json, PipelineConfig::Split::Jsonl), request(body));
  ASSERT_TRUE(p.ok) << p.error.message;
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0].body, "{\"a\":1}");  // no '\r'
  EXPECT_EQ(p.events[1].body, "{\"b\":2}");
  EXPECT_EQ(p.events[2].body, "  [3]  ");  // the line's raw bytes
  EXPECT_EQ(p.events[2].data_json, "[3]");

  auto no_newline = prepare(config(PipelineConfig::Decode::Json, PipelineConfig::Split::Jsonl),
                            request("{\"a\":1}\n{\"b\":2}"));
  ASSERT_TRUE(no_newline.ok);
  EXPECT_EQ(no_newline.events.size(), 2u);
}

TEST(PipelineSplit, JsonlBadLineNamesTheLine) {
  auto c = config(PipelineConfig::Decode::Json, PipelineConfig::Split::Jsonl);
  expectRejected(prepare(c, request("{\"a\":1}\n{\"b\":2}\n{oops}\n{\"d\":4}\n")), 422,
                 "invalid_json", "line 3");
  // Blank lines count: the bad line is the 4th line of the body.
  expectRejected(prepare(c, request("{}\n\r\n\n{\"x\":\n")), 422, "invalid_json", "line 4");
  expectRejected(prepare(c, request("{}\r\n[1,2]x\r\n")), 422, "invalid_json", "line 2");
}

TEST(PipelineSplit, JsonlEmptyBody) {
  auto c = config(PipelineConfig::Decode::Json, PipelineConfig::Split::Jsonl);
  expectRejected(prepare(c, request("")), 422, "invalid_json");
  expectRejected(prepare(c, request("\n\r\n  \n")), 422, "invalid_json");
}

TEST(PipelineSplit, ArrayKeepsRawElementBytes) {
  std::string body = "[ {\"a\" : 1,  \"s\":\"x,]\"} ,\n{\"b\":2}, 3 ]";
  auto p =
      prepare(config(PipelineConfig::Decode::Json, PipelineConfig::Split::Array), request(body));
  ASSERT_TRUE(p.ok) << p.error.message;
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0].body, "{\"a\" : 1,  \"s\":\"x,]\"}");
  EXPECT_EQ(p.events[0].data_json, p.events[0].body);
  EXPECT_EQ(p.events[1].body, "{\"b\":2}");
  EXPECT_EQ(p.events[2].body, "3");
}

TEST(PipelineSplit, ArrayRefusals) {
  auto c = config(PipelineConfig::Decode::Json, PipelineConfig::Split::Array);
  expectRejected(prepare(c, request("{\"a\":1}")), 422, "invalid_json", "not a JSON array");
  expectRejected(prepare(c, request("[]")), 422, "invalid_json", "empty");
  expectRejected(prepare(c, request("[1,2")), 422, "invalid_json", "not valid JSON");
  expectRejected(prepare(c, request("[1,]")), 422, "invalid_json");
}

// --- columns ---------------------------------------------------------------------------------

ColumnConfig pointerColumn(std::string name, T type, std::string pointer, bool required = false) {
  ColumnConfig c;
  c.name = std::move(name);
  c.type = type;
  c.pointer = std::move(pointer);
  c.required = required;
  return c;
}

ColumnConfig headerColumn(std::string name, T type, std::string header, bool required = false) {
  ColumnConfig c;
  c.name = std::move(name);
  c.type = type;
  c.header = std::move(header);
  c.required = required;
  return c;
}

std::string columnsOf(const PipelineConfig& c, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto p = prepare(c, request(body, std::move(headers)));
  EXPECT_TRUE(p.ok) << p.error.code << ": " << p.error.message;
  if (!p.ok || p.events.empty()) return "";
  EXPECT_TRUE(inlet::util::isValidJson(p.events[0].columns_json)) << p.events[0].columns_json;
  return p.events[0].columns_json;
}

TEST(PipelineColumns, EveryTypeFromPointers) {
  auto c = config();
  c.columns = {pointerColumn("t", T::Text, "/s"),          pointerColumn("i", T::Integer, "/n"),
               pointerColumn("r", T::Real, "/f"),          pointerColumn("b", T::Boolean, "/flag"),
               pointerColumn("ts", T::Timestamp, "/when"), pointerColumn("j", T::Json, "/obj"),
               pointerColumn("deep", T::Text, "/a/b/0/c")};
  std::string body =
      R"({"s":"h\u00e9\"llo","n":42,"f":1.5,"flag":true,"when":"2024-01-02T03:04:05Z",
                        "obj":{"k":[1,"x",null]},"a":{"b":[{"c":"z"}]}})";
  EXPECT_EQ(columnsOf(c, body),
            "{\"t\":\"h\xc3\xa9\\\"llo\",\"i\":42,\"r\":1.5,\"b\":true,"
            "\"ts\":\"2024-01-02T03:04:05.000Z\",\"j\":{\"k\":[1,\"x\",null]},\"deep\":\"z\"}");
}

TEST(PipelineColumns, TextAcceptsScalarsAsText) {
  auto c = config();
  c.columns = {pointerColumn("n", T::Text, "/n"), pointerColumn("b", T::Text, "/b")};
  EXPECT_EQ(columnsOf(c, R"({"n":7,"b":false})"), R"({"n":"7","b":"false"})");
  // A number as the sender wrote it: every digit past 64 bits, a trailing zero, an exponent.
  for (const char* n : {"18446744073709551617", "10.50", "-1E+2", "-9007199254740993", "0"}) {
    SCOPED_TRACE(n);
    EXPECT_EQ(columnsOf(c, std::string(R"({"b":true,"n":)") + n + "}"),
              std::string(R"({"n":")") + n + R"(","b":"true"})");
  }
}

TEST(PipelineColumns, IntegerAndRealForms) {
  auto c = config();
  c.columns = {pointerColumn("i", T::Integer, "/i"), pointerColumn("r", T::Real, "/r")};
  EXPECT_EQ(columnsOf(c, R"({"i":-9007199254740991,"r":2})"), R"({"i":-9007199254740991,"r":2})");
  EXPECT_EQ(columnsOf(c, R"({"i":9223372036854775807,"r":0})"),
            R"({"i":9223372036854775807,"r":0})");
  EXPECT_EQ(columnsOf(c, R"({"i":3.0,"r":-0.25})"),
            R"({"i":3,"r":-0.25})");  // whole float → integer
}

TEST(PipelineColumns, LargeNegativeIntegerKeepsPrecision) {
  auto c = config();
  c.columns = {pointerColumn("i", T::Integer, "/i")};
  // Poco 1.11's parser alone gives -9007199254740992 for the first two.
  EXPECT_EQ(columnsOf(c, R"({"i":-9007199254740993})"), R"({"i":-9007199254740993})");
  EXPECT_EQ(columnsOf(c, R"({"x":[1,{"i":0}],"i" : -9223372036854775807 })"),
            R"({"i":-9223372036854775807})");
  EXPECT_EQ(columnsOf(c, R"({"i":-9223372036854775808})"), R"({"i":-9223372036854775808})");
  EXPECT_EQ(columnsOf(c, R"({"i":-9007199254740992})"), R"({"i":-9007199254740992})");
  EXPECT_EQ(columnsOf(c, R"({"i":9007199254740993})"), R"({"i":9007199254740993})");
  EXPECT_EQ(columnsOf(c, R"({"\u0069":-9007199254740993})"), R"({"i":-9007199254740993})");
  c.columns = {pointerColumn("t", T::Text, "/a/1")};
  EXPECT_EQ(columnsOf(c, R"({"a":[0,-1234567890123456789]})"), R"({"t":"-1234567890123456789"})");
}

TEST(PipelineColumns, Timestamps) {
  auto c = config();
  c.columns = {pointerColumn("ts", T::Timestamp, "/t")};
  const std::pair<const char*, const char*> cases[] = {
      {"\"2024-01-02T03:04:05Z\"", "2024-01-02T03:04:05.000Z"},
      {"\"2024-01-02T03:04:05.123Z\"", "2024-01-02T03:04:05.123Z"},
      {"\"2024-01-02T05:04:05+02:00\"", "2024-01-02T03:04:05.000Z"},  // converted to UTC
      {"\"2024-01-01T22:04:05-05:00\"", "2024-01-02T03:04:05.000Z"},
      {"1704164645", "2024-01-02T03:04:05.000Z"},     // epoch seconds
      {"1704164645123", "2024-01-02T03:04:05.123Z"},  // epoch milliseconds
      {"0", "1970-01-01T00:00:00.000Z"},
  };
  for (const auto& [in, out] : cases) {
    SCOPED_TRACE(in);
    EXPECT_EQ(columnsOf(c, std::string("{\"t\":") + in + "}"),
              std::string("{\"ts\":\"") + out + "\"}");
  }
}

TEST(PipelineColumns, HeaderSources) {
  auto c = config();
  c.columns = {
      headerColumn("t", T::Text, "x-text"),        headerColumn("b", T::Boolean, "x-bool"),
      headerColumn("ts", T::Timestamp, "x-epoch"), headerColumn("iso", T::Timestamp, "x-iso"),
      headerColumn("j", T::Json, "x-json"),        headerColumn("jt", T::Json, "x-plain"),
      headerColumn("absent", T::Text, "x-absent")};
  std::vector<std::pair<std::string, std::string>> headers = {
      {"x-text", "first"},       {"x-int", "17"},           {"x-real", "2.5"},
      {"x-bool", "false"},       {"x-epoch", "1704164645"}, {"x-iso", "2024-01-02T03:04:05Z"},
      {"x-json", " {\"a\":1} "}, {"x-plain", "not json"},   {"x-text", "last"}};
  EXPECT_EQ(columnsOf(c, "{}", headers),
            R"({"t":"last","b":false,"ts":"2024-01-02T03:04:05.000Z",)"
            R"("iso":"2024-01-02T03:04:05.000Z","j":{"a":1},"jt":"not json","absent":null})");
}

TEST(PipelineColumns, HeaderIntegerAndReal) {
  // e.g. GitHub's X-GitHub-Hook-ID as an integer column.
  auto c = config();
  c.columns = {headerColumn("i", T::Integer, "x-int"), headerColumn("r", T::Real, "x-real")};
  auto p = prepare(c, request("{}", {{"x-int", "17"}, {"x-real", "2.5"}}));
  if (!p.ok && p.error.code == "invalid_column") {
    FAIL() << "every integer/real column read from a header is refused (422 invalid_column): "
              "typedFromText parses the header with Poco's JSON parser, which rejects top-level "
              "scalars; got: "
           << p.error.message;
  }
  ASSERT_TRUE(p.ok) << p.error.message;
  EXPECT_EQ(p.events[0].columns_json, R"({"i":17,"r":2.5})");
  // Every digit of a large negative id (Poco alone gives -9007199254740992).
  auto big = prepare(c, request("{}", {{"x-int", "-9007199254740993"}}));
  ASSERT_TRUE(big.ok) << big.error.message;
  EXPECT_EQ(big.events[0].columns_json, R"({"i":-9007199254740993,"r":null})");
  // And a non-number is still refused.
  auto bad = prepare(c, request("{}", {{"x-int", "seventeen"}}));
  EXPECT_EQ(bad.error.code, "invalid_column");
}

TEST(PipelineColumns, MissingIsNull) {
  auto c = config();
  c.columns = {pointerColumn("a", T::Text, "/a"), pointerColumn("n", T::Integer, "/n"),
               pointerColumn("arr", T::Integer, "/list/5")};
  EXPECT_EQ(columnsOf(c, R"({"n":null,"list":[1]})"), R"({"a":null,"n":null,"arr":null})");
  // A raw, non-JSON body has no JSON to point into: columns are null, not an error.
  auto raw = config(PipelineConfig::Decode::Raw);
  raw.columns = c.columns;
  EXPECT_EQ(columnsOf(raw, "plain"), R"({"a":null,"n":null,"arr":null})");
}

TEST(PipelineColumns, RequiredMissingIs422) {
  auto c = config();
  c.columns = {pointerColumn("a", T::Text, "/a"),
               pointerColumn("repo", T::Integer, "/repo/id", true)};
  expectRejected(prepare(c, request(R"({"a":"x"})")), 422, "missing_column", "'repo'");
  expectRejected(prepare(c, request(R"({"repo":{"id":null}})")), 422, "missing_column");
  auto h = config();
  h.columns = {headerColumn("sig", T::Text, "x-sig", true)};
  expectRejected(prepare(h, request("{}")), 422, "missing_column", "'sig'");
  auto ok = prepare(h, request("{}", {{"x-sig", ""}}));  // present but empty is present
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.events[0].columns_json, R"({"sig":""})");
}

TEST(PipelineColumns, WrongTypeIs422) {
  struct Case {
    T type;
    const char* value;
  };
  const Case cases[] = {{T::Integer, "\"42\""},
                        {T::Integer, "4.5"},
                        {T::Integer, "true"},
                        {T::Integer, "{}"},
                        {T::Real, "\"1.5\""},
                        {T::Real, "false"},
                        {T::Boolean, "1"},
                        {T::Boolean, "\"true\""},
                        {T::Timestamp, "true"},
                        {T::Timestamp, "1.5"},
                        {T::Timestamp, "{}"},
                        {T::Text, "{\"a\":1}"},
                        {T::Text, "[1]"},
                        // Past the range: timestamps hold the years 1 to 9999, integers are
                        // signed 64-bit (an unsigned 64-bit number once threw out of the
                        // pipeline, and a large epoch overflowed).
                        {T::Timestamp, "9000000000000000000"},
                        {T::Timestamp, "18446744073709551615"},
                        {T::Timestamp, "-9223372036854775808"},
                        {T::Timestamp, "253402300800000"},  // 10000-01-01, in ms
                        {T::Timestamp, "-62135596800001"},  // a millisecond before year 1
                        {T::Integer, "18446744073709551615"},
                        {T::Integer, "9223372036854775808"},
                        // Past 64 bits or a double's range (Poco's parser alone read 2^64 as
                        // 0 and refused the whole body over 1e999).
                        {T::Integer, "18446744073709551616"},
                        {T::Integer, "-9223372036854775809"},
                        {T::Integer, "1e999"},
                        {T::Real, "1e999"},
                        {T::Real, "-1E400"},
                        {T::Timestamp, "18446744073709551616"},
                        {T::Timestamp, "1e999"},
                        {T::Boolean, "1e999"}};
  for (const auto& cs : cases) {
    SCOPED_TRACE(cs.value);
    auto c = config();
    c.columns = {pointerColumn("v", cs.type, "/v")};
    expectRejected(prepare(c, request(std::string("{\"v\":") + cs.value + "}")), 422,
                   "invalid_column", "column 'v' is not a valid");
  }
  auto h = config();
  h.columns = {headerColumn("n", T::Integer, "x-n")};
  expectRejected(prepare(h, request("{}", {{"x-n", "12abc"}})), 422, "invalid_column", "integer");
  h.columns = {headerColumn("b", T::Boolean, "x-b")};
  expectRejected(prepare(h, request("{}", {{"x-b", "yes"}})), 422, "invalid_column", "boolean");
  h.columns = {headerColumn("ts", T::Timestamp, "x-epoch")};
  expectRejected(prepare(h, request("{}", {{"x-epoch", "999999999999999999"}})), 422,
                 "invalid_column", "timestamp");
}

TEST(PipelineColumns, NumbersAtTheEndsOfTheirColumnsRange) {
  const std::tuple<T, const char*, const char*> accepted[] = {
      {T::Timestamp, "253402300799999", "\"9999-12-31T23:59:59.999Z\""},
      {T::Timestamp, "-62135596800000", "\"0001-01-01T00:00:00.000Z\""},
      {T::Timestamp, "-62135596800", "\"0001-01-01T00:00:00.000Z\""},  // seconds
      {T::Integer, "9223372036854775807", "9223372036854775807"},
      {T::Integer, "-9223372036854775808", "-9223372036854775808"}};
  for (const auto& [type, in, out] : accepted) {
    SCOPED_TRACE(in);
    auto c = config();
    c.columns = {pointerColumn("v", type, "/v")};
    EXPECT_EQ(columnsOf(c, std::string("{\"v\":") + in + "}"), std::string("{\"v\":") + out + "}");
  }
}

// One value Poco's parser cannot hold, anywhere in a body, once made every column of the event
// missing (required ones refused it with 422 missing_column).
TEST(PipelineColumns, ValuesPocoCannotHoldHideNothingElse) {
  auto c = config();
  c.columns = {pointerColumn("id", T::Text, "/id", true),  pointerColumn("note", T::Text, "/note"),
               pointerColumn("n", T::Integer, "/n", true), pointerColumn("big", T::Text, "/big"),
               pointerColumn("wide", T::Real, "/wide"),    pointerColumn("j", T::Json, "/j")};
  EXPECT_EQ(columnsOf(c, R"({"id":"evt_1","note":"cut \ud83d","n":7,"big":1e999,)"
                         R"("wide":18446744073709551616,"j":[-1E400,"\udc00"]})"),
            "{\"id\":\"evt_1\",\"note\":\"cut \xef\xbf\xbd\",\"n\":7,\"big\":\"1e999\","
            "\"wide\":1.8446744073709552e+19,\"j\":[\"-1E400\",\"\xef\xbf\xbd\"]}");
  // A byte that is not UTF-8 in a string: U+FFFD, as in the headers column.
  c.columns = {pointerColumn("id", T::Text, "/id", true), pointerColumn("s", T::Text, "/s")};
  EXPECT_EQ(columnsOf(c, "{\"s\":\"caf\xe9\",\"id\":\"evt_2\"}"),
            "{\"id\":\"evt_2\",\"s\":\"caf\xef\xbf\xbd\"}");
}

TEST(PipelineColumns, BodiesNestedAsDeepAsSqliteAllowsAreRead) {
  // Poco's parser alone stops at 128 levels: every column of such a body read as missing.
  auto nest = [](int depth) { return std::string(depth, '[') + "7" + std::string(depth, ']'); };
  auto c = config();
  c.columns = {pointerColumn("id", T::Text, "/id", true), pointerColumn("j", T::Json, "/deep/0/0")};
  EXPECT_EQ(columnsOf(c, R"({"id":"evt_1","deep":)" + nest(1998) + "}"),
            R"({"id":"evt_1","j":)" + nest(1996) + "}");
}

TEST(PipelineColumns, TimestampTextThatIsNotADateIsRefused) {
  auto c = config();
  c.columns = {pointerColumn("ts", T::Timestamp, "/t")};
  std::string accepted_garbage;
  for (const char* bad : {"yesterday", "garbage-text", "1.5", "2024-13-45T99:99:99Z", ""}) {
    auto p = prepare(c, request(std::string("{\"t\":\"") + bad + "\"}"));
    if (p.ok) {
      accepted_garbage += std::string(" '") + bad + "' -> " + p.events[0].columns_json;
      continue;
    }
    EXPECT_EQ(p.error.code, "invalid_column") << bad;
  }
  if (!accepted_garbage.empty()) {
    FAIL() << "timestamp columns accept any text (Poco::DateTimeParser::tryParse is "
              "lenient):"
           << accepted_garbage;
  }
}

TEST(PipelineColumns, SplitErrorsNameTheItem) {
  auto c = config(PipelineConfig::Decode::Json, PipelineConfig::Split::Array);
  c.columns = {pointerColumn("n", T::Integer, "/n", true)};
  expectRejected(prepare(c, request(R"([{"n":1},{"n":"two"}])")), 422, "invalid_column",
                 "in item 2");
  expectRejected(prepare(c, request(R"([{"n":1},{"n":2},{}])")), 422, "missing_column",
                 "in item 3");
  auto ok = prepare(c, request(R"([{"n":1},{"n":2}])"));
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.events[0].columns_json, R"({"n":1})");
  EXPECT_EQ(ok.events[1].columns_json, R"({"n":2})");
}

// --- dedup keys ------------------------------------------------------------------------------

PipelineConfig dedup(DedupConfig::Kind kind, std::string argument = "",
                     PipelineConfig::Split split = PipelineConfig::Split::None) {
  auto c = config(PipelineConfig::Decode::Json, split);
  c.dedup.kind = kind;
  c.dedup.argument = std::move(argument);
  return c;
}

TEST(PipelineDedup, AutoUsesDeliveryId) {
  auto p = prepare(dedup(DedupConfig::Kind::Auto), request("{}"), accepted("72d3162e-cc78"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.claim_key, "72d3162e-cc78");
  EXPECT_EQ(p.events[0].dedup_key, "72d3162e-cc78");
  // No delivery id from the provider: no dedup rather than a shared empty key.
  auto none = prepare(dedup(DedupConfig::Kind::Auto), request("{}"), accepted(""));
  ASSERT_TRUE(none.ok);
  EXPECT_EQ(none.claim_key, "");
  EXPECT_EQ(none.events[0].dedup_key, "");
}

TEST(PipelineDedup, NoneIgnoresDeliveryId) {
  auto p = prepare(dedup(DedupConfig::Kind::None), request("{}"), accepted("d-1"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.claim_key, "");
  EXPECT_EQ(p.events[0].delivery_id, "d-1");
}

TEST(PipelineDedup, Header) {
  auto c = dedup(DedupConfig::Kind::Header, "x-request-id");
  auto p = prepare(c, request("{}", {{"x-request-id", "r-1"}, {"x-request-id", "r-2"}}));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.claim_key, "r-2");  // the last occurrence, like sdk::Request::header()
  auto missing = prepare(c, request("{}", {{"x-other", "r-1"}}));
  ASSERT_TRUE(missing.ok);
  EXPECT_EQ(missing.claim_key, "");
}

TEST(PipelineDedup, JsonPointer) {
  auto c = dedup(DedupConfig::Kind::Json, "/event/id");
  auto number = prepare(c, request(R"({"event":{"id":98765}})"));
  ASSERT_TRUE(number.ok);
  EXPECT_EQ(number.claim_key, "98765");

  auto missing = prepare(c, request(R"({"event":{}})"));
  ASSERT_TRUE(missing.ok);
  EXPECT_EQ(missing.claim_key, "");

  auto escaped =
      prepare(dedup(DedupConfig::Kind::Json, "/a~1b/m~0n"), request(R"({"a/b":{"m~n":7}})"));
  ASSERT_TRUE(escaped.ok);
  EXPECT_EQ(escaped.claim_key, "7");

  // Large negative ids keep every digit: two neighbours are two keys, not a false duplicate.
  auto big1 = prepare(c, request(R"({"event":{"id":-9007199254740993}})"));
  auto big2 = prepare(c, request(R"({"event":{"id":-9007199254740992}})"));
  ASSERT_TRUE(big1.ok && big2.ok);
  EXPECT_EQ(big1.claim_key, "-9007199254740993");
  EXPECT_EQ(big2.claim_key, "-9007199254740992");
  // ...also under keys written with escapes ("\u0069d" is "id").
  auto big3 = prepare(c, request(R"({"ev\u0065nt":{"\u0069d":-9007199254740993}})"));
  ASSERT_TRUE(big3.ok);
  EXPECT_EQ(big3.claim_key, "-9007199254740993");

  auto object = prepare(c, request(R"({"event":{"id":{"a":1}}})"));  // non-scalar: its JSON text
  ASSERT_TRUE(object.ok);
  EXPECT_EQ(object.claim_key, R"({"a":1})");

  auto raw = dedup(DedupConfig::Kind::Json, "/id");
  raw.decode = PipelineConfig::Decode::Raw;
  auto r = prepare(raw, request("not json"));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.claim_key, "");
}

TEST(PipelineDedup, JsonPointerBesideValuesPocoCannotHold) {
  // The key is still found (it once was empty: no dedup at all for such bodies).
  auto c = dedup(DedupConfig::Kind::Json, "/event/id");
  auto p = prepare(c, request(R"({"text":"\ud83d","n":1e999,"event":{"id":"evt_9"}})"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.claim_key, "evt_9");
  // Numeric ids past 64 bits keep every digit: 2^64 once read as 0, and two neighbours past it
  // as one double, each a false duplicate (the second event answered 200 and never stored).
  for (const char* id : {"18446744073709551616", "18446744073709551617", "0"}) {
    auto p = prepare(c, request(std::string(R"({"event":{"id":)") + id + "}}"));
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.claim_key, id);
  }
}

TEST(PipelineDedup, JsonPointerStringIsUnquoted) {
  auto c = dedup(DedupConfig::Kind::Json, "/event/id");
  auto p = prepare(c, request(R"({"event":{"id":"evt_123"}})"));
  ASSERT_TRUE(p.ok);
  if (p.claim_key == "\"evt_123\"") {
    FAIL() << "a json: dedup key that is a string keeps its JSON quotes (claim key "
              "'\"evt_123\"' instead of 'evt_123'): the JSON reader cannot read a top-level string";
  }
  EXPECT_EQ(p.claim_key, "evt_123");  // a string value is used unquoted
  EXPECT_EQ(p.events[0].dedup_key, "evt_123");
  // The same id as a header and as a JSON string must give the same key.
  auto h = prepare(dedup(DedupConfig::Kind::Header, "x-id"), request("{}", {{"x-id", "evt_123"}}));
  EXPECT_EQ(h.claim_key, p.claim_key);
}

TEST(PipelineDedup, SplitRequestsDerivePerEventKeys) {
  auto c = dedup(DedupConfig::Kind::Auto, "", PipelineConfig::Split::Array);
  auto p = prepare(c, request(R"([{"n":1},{"n":2},{"n":3}])"), accepted("batch-7"));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.claim_key, "batch-7");  // the request claims the key once
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0].dedup_key, "batch-7#0");
  EXPECT_EQ(p.events[1].dedup_key, "batch-7#1");
  EXPECT_EQ(p.events[2].dedup_key, "batch-7#2");

  auto jsonl = dedup(DedupConfig::Kind::Json, "/id", PipelineConfig::Split::Jsonl);
  auto q = prepare(jsonl, request("{\"id\":101}\n{\"id\":202}\n"));
  ASSERT_TRUE(q.ok);
  EXPECT_EQ(q.claim_key, "101");  // taken from the first item
  EXPECT_EQ(q.events[0].dedup_key, "101#0");
  EXPECT_EQ(q.events[1].dedup_key, "101#1");

  auto single = prepare(c, request(R"([{"n":1}])"), accepted("one"));
  ASSERT_TRUE(single.ok);
  EXPECT_EQ(single.events[0].dedup_key, "one");
}

TEST(PipelineDedup, HugeKeyIsTruncated) {
  auto c = dedup(DedupConfig::Kind::Header, "x-id");
  auto p = prepare(c, request("{}", {{"x-id", std::string(100000, 'k')}}));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.claim_key, std::string(512, 'k'));
}

// --- INLET_AUTH_FIRST_ITEM_ONLY --------------------------------------------------------------

TEST(PipelineAuthFlags, FirstItemOnlyMarksOnlyItemZero) {
  auto c = config(PipelineConfig::Decode::Json, PipelineConfig::Split::Array);
  auto p = prepare(c, request("[1,2,3]"), accepted("", "", INLET_AUTH_FIRST_ITEM_ONLY));
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_TRUE(p.events[0].authenticated);
  EXPECT_FALSE(p.events[1].authenticated);
  EXPECT_FALSE(p.events[2].authenticated);

  auto all = prepare(c, request("[1,2,3]"), accepted());
  ASSERT_TRUE(all.ok);
  for (const auto& e : all.events) EXPECT_TRUE(e.authenticated);

  auto jsonl = prepare(config(PipelineConfig::Decode::Json, PipelineConfig::Split::Jsonl),
                       request("1\n2\n"), accepted("", "", INLET_AUTH_FIRST_ITEM_ONLY));
  ASSERT_TRUE(jsonl.ok);
  EXPECT_TRUE(jsonl.events[0].authenticated);
  EXPECT_FALSE(jsonl.events[1].authenticated);
}

TEST(PipelineAuthFlags, FirstItemOnlyWithoutSplitIsNotAuthenticated) {
  // Unsplit, the one event is the whole body, of which only a part was authenticated.
  auto p = prepare(config(), request("[1,2,3]"), accepted("", "", INLET_AUTH_FIRST_ITEM_ONLY));
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_FALSE(p.events[0].authenticated);
}

// --- headersJson / jsonPointer ---------------------------------------------------------------

TEST(HeadersJson, JoinsRepeatedHeaders) {
  EXPECT_EQ(headersJson({}), "{}");
  EXPECT_EQ(headersJson({{"a", "1"}, {"b", "2"}, {"a", "3"}, {"a", ""}}),
            R"({"a":"1, 3, ","b":"2"})");
  auto escaped = headersJson({{"x-q", "say \"hi\"\\\x01"}, {"x-u", "\xff"}});
  EXPECT_EQ(escaped, R"({"x-q":"say \"hi\"\\\u0001","x-u":"\ufffd"})");
  EXPECT_TRUE(inlet::util::isValidJson(escaped));
}

TEST(JsonPointer, Rfc6901) {
  const std::string doc =
      R"({"a/b":1,"m~n":2,"~1":"tilde-one","arr":[10,20,{"x":"y"}],"":3,"nested":{"k":null},"s":"t"})";
  EXPECT_EQ(jsonPointer(doc, "/a~1b"), "1");
  EXPECT_EQ(jsonPointer(doc, "/m~0n"), "2");
  EXPECT_EQ(jsonPointer(doc, "/~01"), "\"tilde-one\"");  // ~01 is "~1", not "/"
  EXPECT_EQ(jsonPointer(doc, "/arr/0"), "10");
  EXPECT_EQ(jsonPointer(doc, "/arr/1"), "20");
  EXPECT_EQ(jsonPointer(doc, "/arr/2/x"), "\"y\"");
  EXPECT_EQ(jsonPointer(doc, "/arr/2"), "{\"x\":\"y\"}");
  EXPECT_EQ(jsonPointer(doc, "/"), "3");  // the empty key
  EXPECT_EQ(jsonPointer(doc, "/s"), "\"t\"");
  auto whole = jsonPointer(doc, "");
  ASSERT_TRUE(whole);
  EXPECT_TRUE(inlet::util::isValidJson(*whole));

  EXPECT_FALSE(jsonPointer(doc, "/arr/3"));  // out of range
  EXPECT_FALSE(jsonPointer(doc, "/arr/-"));  // '-' is past the end
  EXPECT_FALSE(jsonPointer(doc, "/arr/x"));
  EXPECT_FALSE(jsonPointer(doc, "/arr/"));
  EXPECT_FALSE(jsonPointer(doc, "/arr/99999999999999999999999"));  // past 64 bits: no answer
  EXPECT_FALSE(jsonPointer(doc, "/missing"));
  EXPECT_FALSE(jsonPointer(doc, "/a~1b/c"));  // into a number
  EXPECT_FALSE(jsonPointer(doc, "/s/0"));     // into a string
  EXPECT_FALSE(jsonPointer("{broken", "/a"));
  EXPECT_EQ(jsonPointer("[[1,[2,3]]]", "/0/1/1"), "3");
  EXPECT_EQ(jsonPointer(R"({"n": 1.50e0 })", "/n"), "1.50e0");  // a number as written
}

// --- admission: allow_ips, rate limit, methods -----------------------------------------------

Pipeline withAllowList(std::vector<std::string> allow) {
  auto c = config();
  c.allow_ips = std::move(allow);
  return Pipeline(c, nullptr);
}

TEST(PipelineAdmission, NoAllowListAllowsAll) {
  auto p = withAllowList({});
  EXPECT_TRUE(p.ipAllowed("203.0.113.9"));
  EXPECT_TRUE(p.ipAllowed("::1"));
  EXPECT_TRUE(p.ipAllowed("garbage"));
}

TEST(PipelineAdmission, AllowListV4) {
  auto p = withAllowList({"10.0.0.0/8", "192.168.1.7", "172.16.0.0/12"});
  EXPECT_TRUE(p.ipAllowed("10.0.0.0"));
  EXPECT_TRUE(p.ipAllowed("10.255.255.255"));
  EXPECT_FALSE(p.ipAllowed("11.0.0.1"));
  EXPECT_FALSE(p.ipAllowed("9.255.255.255"));
  EXPECT_TRUE(p.ipAllowed("192.168.1.7"));  // exact address = /32
  EXPECT_FALSE(p.ipAllowed("192.168.1.8"));
  EXPECT_TRUE(p.ipAllowed("172.16.0.1"));  // /12 is not byte aligned
  EXPECT_TRUE(p.ipAllowed("172.31.255.255"));
  EXPECT_FALSE(p.ipAllowed("172.32.0.0"));
  EXPECT_FALSE(p.ipAllowed("172.15.255.255"));
  EXPECT_TRUE(p.ipAllowed("::ffff:10.1.2.3"));  // IPv4-mapped (dual-stack socket) counts as v4
  EXPECT_FALSE(p.ipAllowed("::ffff:11.1.2.3"));
  EXPECT_FALSE(p.ipAllowed("::1"));
  EXPECT_FALSE(p.ipAllowed("not-an-ip"));
  EXPECT_FALSE(p.ipAllowed(""));
  EXPECT_FALSE(p.ipAllowed("10.0.0.1/8"));
}

TEST(PipelineAdmission, AllowListV6) {
  auto p = withAllowList({"2001:db8::/32", "fe80::1", "2a0a:a440::/29"});
  EXPECT_TRUE(p.ipAllowed("2001:db8::1"));
  EXPECT_TRUE(p.ipAllowed("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(p.ipAllowed("2001:db9::1"));
  EXPECT_TRUE(p.ipAllowed("fe80::1"));
  EXPECT_FALSE(p.ipAllowed("fe80::2"));
  EXPECT_TRUE(p.ipAllowed("2a0a:a447:ffff::1"));  // /29 boundary
  EXPECT_FALSE(p.ipAllowed("2a0a:a448::1"));
  EXPECT_FALSE(p.ipAllowed("10.0.0.1"));
}

TEST(PipelineAdmission, ZeroPrefix) {
  auto v4 = withAllowList({"0.0.0.0/0"});
  EXPECT_TRUE(v4.ipAllowed("1.2.3.4"));
  EXPECT_TRUE(v4.ipAllowed("255.255.255.255"));
  EXPECT_FALSE(v4.ipAllowed("::1"));  // /0 covers its own family only
  auto v6 = withAllowList({"::/0"});
  EXPECT_TRUE(v6.ipAllowed("2001:db8::1"));
  EXPECT_FALSE(v6.ipAllowed("1.2.3.4"));
}

TEST(PipelineAdmission, BadAllowListEntriesThrow) {
  for (const char* bad : {"10.0.0.0/33", "::/129", "nonsense", "10.0.0.0/x", "300.1.1.1"}) {
    SCOPED_TRACE(bad);
    EXPECT_ANY_THROW(withAllowList({bad}));
  }
}

TEST(PipelineAdmission, RateLimitBurstThenRefusal) {
  auto c = config();
  c.rate_limit.per_second = 1;
  c.rate_limit.burst = 3;
  Pipeline p(c, nullptr);
  EXPECT_TRUE(p.takeToken());
  EXPECT_TRUE(p.takeToken());
  EXPECT_TRUE(p.takeToken());
  EXPECT_FALSE(p.takeToken());
  EXPECT_FALSE(p.takeToken());
}

TEST(PipelineAdmission, RateLimitRefillsButNotBeyondBurst) {
  auto c = config();
  c.rate_limit.per_second = 20;
  c.rate_limit.burst = 2;
  Pipeline p(c, nullptr);
  EXPECT_TRUE(p.takeToken());
  EXPECT_TRUE(p.takeToken());
  EXPECT_FALSE(p.takeToken());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // 10 tokens' worth, capped at 2
  EXPECT_TRUE(p.takeToken());
  EXPECT_TRUE(p.takeToken());
  EXPECT_FALSE(p.takeToken());
}

TEST(PipelineAdmission, NoRateLimitIsUnlimited) {
  Pipeline p(config(), nullptr);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(p.takeToken());
}

TEST(PipelineAdmission, Methods) {
  auto c = config();
  c.methods = {"POST", "PUT"};
  Pipeline p(c, nullptr);
  EXPECT_TRUE(p.methodAllowed("POST"));
  EXPECT_TRUE(p.methodAllowed("PUT"));
  EXPECT_FALSE(p.methodAllowed("GET"));
  EXPECT_FALSE(p.methodAllowed("post"));  // the server passes the method as received
}

TEST(PipelineCounters, Count) {
  Pipeline p(config(), nullptr);
  p.count("accepted");
  p.count("accepted");
  p.count("signature_mismatch");
  auto c = p.counters();
  EXPECT_EQ(c["accepted"], 2u);
  EXPECT_EQ(c["signature_mismatch"], 1u);
}

TEST(ErrorOutcome, BodyAndRetryAfter) {
  auto o = inlet::pipeline::errorOutcome(429, "rate_limited", "slow \"down\"");
  EXPECT_EQ(o.status, 429);
  EXPECT_TRUE(o.retry_after);
  EXPECT_EQ(o.body, R"({"error":{"code":"rate_limited","message":"slow \"down\""}})");
  EXPECT_TRUE(inlet::pipeline::errorOutcome(503, "overloaded", "x").retry_after);
  EXPECT_FALSE(inlet::pipeline::errorOutcome(422, "invalid_json", "x").retry_after);
}

}  // namespace
