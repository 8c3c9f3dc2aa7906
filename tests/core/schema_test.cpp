// Plugin options are checked against the plugin's embedded JSON schema before the plugin sees
// them, and converted to typed JSON (defaults filled in).
#include "config/schema.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "util/json.h"

using inlet::config::checkOptions;
using inlet::config::Error;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

const char kFile[] = "opts.yaml";
const char kWhat[] = "pipeline 'p' auth provider 'x'";

struct Checked {
  std::string json;
  std::vector<Error> errors;
  Object::Ptr object() const {
    Poco::JSON::Parser parser;
    return parser.parse(json).extract<Object::Ptr>();
  }
  std::string dump() const {
    std::string s;
    for (const auto& e : errors) s += "  " + e.str() + "\n";
    return s;
  }
};

Checked run(const std::string& schema, const std::string& yaml) {
  Checked c;
  YAML::Node node = YAML::Load(yaml);
  c.json = checkOptions(schema, node, kFile, kWhat, c.errors);
  return c;
}

// 1-based line/column of `needle` in `text`.
std::pair<int, int> at(const std::string& text, const std::string& needle) {
  size_t pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  int line = 1, col = 1;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

void expectError(const Checked& c, const std::string& fragment, std::pair<int, int> where) {
  auto it = std::find_if(c.errors.begin(), c.errors.end(), [&](const Error& e) {
    return e.message.find(fragment) != std::string::npos;
  });
  ASSERT_NE(it, c.errors.end()) << "no error containing '" << fragment << "'; got:\n" << c.dump();
  EXPECT_EQ(it->where.file, kFile);
  EXPECT_EQ(it->where.line, where.first) << it->str();
  EXPECT_EQ(it->where.column, where.second) << it->str();
  // Every message names whose option it is.
  EXPECT_EQ(it->message.rfind(std::string(kWhat) + ": ", 0), 0u) << it->message;
}

const char kTypes[] = R"json({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "name":    {"type": "string"},
    "count":   {"type": "integer"},
    "ratio":   {"type": "number"},
    "enabled": {"type": "boolean"},
    "tags":    {"type": "array", "items": {"type": "string"}},
    "ports":   {"type": "array", "items": {"type": "integer"}},
    "extra":   {"type": "object"},
    "anything": {}
  }
})json";

TEST(Schema, TypesAreConverted) {
  auto c =
      run(kTypes,
          "name: hello\ncount: 42\nratio: 0.25\nenabled: true\ntags: [a, b]\nports: [80, 443]\n"
          "extra: { k: v, n: 1 }\nanything: 7\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  ASSERT_TRUE(inlet::util::isValidJson(c.json)) << c.json;
  auto o = c.object();
  EXPECT_TRUE(o->get("name").isString());
  EXPECT_EQ(o->getValue<std::string>("name"), "hello");
  EXPECT_TRUE(o->get("count").isInteger());
  EXPECT_EQ(o->getValue<int>("count"), 42);
  EXPECT_TRUE(o->get("ratio").isNumeric());
  EXPECT_DOUBLE_EQ(o->getValue<double>("ratio"), 0.25);
  EXPECT_TRUE(o->get("enabled").isBoolean());
  EXPECT_TRUE(o->getValue<bool>("enabled"));
  auto tags = o->getArray("tags");
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ(tags->getElement<std::string>(1), "b");
  auto ports = o->getArray("ports");
  ASSERT_EQ(ports->size(), 2u);
  EXPECT_TRUE(ports->get(0).isInteger());
  EXPECT_EQ(ports->getElement<int>(1), 443);
  auto extra = o->getObject("extra");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->getValue<std::string>("k"), "v");
  EXPECT_TRUE(o->has("anything"));
}

TEST(Schema, StringTypeKeepsNumericLookingText) {
  // `name: 007` is a string option: it must stay "007", not become 7.
  auto c = run(kTypes, "name: 007\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  EXPECT_EQ(c.object()->getValue<std::string>("name"), "007");
  EXPECT_TRUE(c.object()->get("name").isString());
}

TEST(Schema, FalseBooleanAndNegativeNumbers) {
  auto c = run(kTypes, "enabled: false\ncount: -3\nratio: -1.5e3\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  auto o = c.object();
  EXPECT_FALSE(o->getValue<bool>("enabled"));
  EXPECT_EQ(o->getValue<int>("count"), -3);
  EXPECT_DOUBLE_EQ(o->getValue<double>("ratio"), -1500);
}

TEST(Schema, WrongTypes) {
  std::string yaml =
      "name: [x]\n"
      "count: 4.5\n"
      "ratio: fast\n"
      "enabled: yes\n"
      "tags: { a: 1 }\n"
      "extra: scalar\n";
  auto c = run(kTypes, yaml);
  expectError(c, "name must be a string", at(yaml, "[x]"));
  expectError(c, "count must be an integer", at(yaml, "4.5"));
  expectError(c, "ratio must be a number", at(yaml, "fast"));
  expectError(c, "enabled must be true or false", at(yaml, "yes"));
  expectError(c, "tags must be a list", at(yaml, "{ a: 1 }"));
  expectError(c, "extra must be a mapping", at(yaml, "scalar"));
  EXPECT_EQ(c.errors.size(), 6u) << c.dump();
  // The output stays valid JSON; bad values are left out.
  ASSERT_TRUE(inlet::util::isValidJson(c.json)) << c.json;
  EXPECT_FALSE(c.object()->has("count"));
}

TEST(Schema, IntegerTextWithTrailingGarbage) {
  std::string yaml = "count: 12abc\nports: [1, two]\n";
  auto c = run(kTypes, yaml);
  expectError(c, "count must be an integer", at(yaml, "12abc"));
  expectError(c, "ports[1] must be an integer", at(yaml, "two"));
}

TEST(Schema, Enum) {
  const char schema[] = R"json({"type":"object","properties":{
    "mode": {"type":"string","enum":["strict","lenient"]}}})json";
  auto ok = run(schema, "mode: lenient\n");
  ASSERT_TRUE(ok.errors.empty()) << ok.dump();
  EXPECT_EQ(ok.object()->getValue<std::string>("mode"), "lenient");

  std::string yaml = "mode: Strict\n";
  auto bad = run(schema, yaml);
  expectError(bad, "mode must be one of: strict, lenient", at(yaml, "Strict"));
  EXPECT_FALSE(bad.object()->has("mode"));
}

TEST(Schema, Required) {
  const char schema[] = R"json({"type":"object","required":["token","region"],"properties":{
    "token": {"type":"string"}, "region": {"type":"string"}, "other": {"type":"string"}}})json";
  std::string yaml = "# comment\nother: x\ntoken: t\n";
  auto c = run(schema, yaml);
  ASSERT_EQ(c.errors.size(), 1u) << c.dump();
  // Reported at the options mapping itself (its first key).
  expectError(c, "missing required option 'region'", at(yaml, "other"));
}

TEST(Schema, RequiredWithNoOptionsAtAll) {
  const char schema[] = R"json({"type":"object","required":["token"],"properties":{
    "token": {"type":"string"}}})json";
  std::vector<Error> errors;
  auto json = checkOptions(schema, YAML::Node(), kFile, kWhat, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("missing required option 'token'"), std::string::npos);
  EXPECT_TRUE(inlet::util::isValidJson(json)) << json;
}

TEST(Schema, MinimumMaximum) {
  const char schema[] = R"json({"type":"object","properties":{
    "n": {"type":"integer","minimum":1,"maximum":10},
    "x": {"type":"number","minimum":0.5,"maximum":2.5}}})json";
  auto edges = run(schema, "n: 1\nx: 2.5\n");
  ASSERT_TRUE(edges.errors.empty()) << edges.dump();
  edges = run(schema, "n: 10\nx: 0.5\n");
  ASSERT_TRUE(edges.errors.empty()) << edges.dump();

  std::string low = "n: 0\nx: 0.49\n";
  auto c = run(schema, low);
  expectError(c, "n is below its minimum 1", at(low, "0\n"));
  expectError(c, "x is below its minimum", at(low, "0.49"));

  std::string high = "n: 11\nx: 2.51\n";
  c = run(schema, high);
  expectError(c, "n is above its maximum 10", at(high, "11"));
  expectError(c, "x is above its maximum", at(high, "2.51"));
}

TEST(Schema, AdditionalPropertiesFalse) {
  std::string yaml = "name: a\n\nnmae: b\n";
  auto c = run(kTypes, yaml);
  ASSERT_EQ(c.errors.size(), 1u) << c.dump();
  expectError(c, "unknown option 'nmae'", at(yaml, "nmae"));
  // The message lists the known options so the typo is easy to spot.
  EXPECT_NE(c.errors[0].message.find("known: "), std::string::npos) << c.errors[0].message;
  EXPECT_NE(c.errors[0].message.find("name"), std::string::npos);
  EXPECT_EQ(c.errors[0].str(), std::string(kFile) + ":3:1: " + c.errors[0].message);
}

TEST(Schema, NoOptionsAllowed) {
  const char schema[] = R"json({"type":"object","additionalProperties":false})json";
  std::string yaml = "foo: 1\n";
  auto c = run(schema, yaml);
  expectError(c, "unknown option 'foo' (this plugin takes no options)", at(yaml, "foo"));
  auto empty = run(schema, "{}");
  EXPECT_TRUE(empty.errors.empty()) << empty.dump();
  EXPECT_EQ(empty.json, "{}");
}

TEST(Schema, AdditionalPropertiesAllowedByDefault) {
  const char schema[] = R"json({"type":"object","properties":{"a":{"type":"integer"}}})json";
  auto c = run(schema, "a: 1\nb: { c: [1, 2] }\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  auto o = c.object();
  EXPECT_EQ(o->getValue<int>("a"), 1);
  ASSERT_TRUE(o->getObject("b"));
  EXPECT_EQ(o->getObject("b")->getArray("c")->size(), 2u);
}

TEST(Schema, DefaultsFilledIn) {
  const char schema[] = R"json({"type":"object","properties":{
    "tolerance": {"type":"string","default":"300s"},
    "retries":   {"type":"integer","default":3},
    "strict":    {"type":"boolean","default":false},
    "scale":     {"type":"number","default":1.5},
    "list":      {"type":"array","items":{"type":"string"},"default":["x"]},
    "given":     {"type":"string","default":"unused"}}})json";
  auto c = run(schema, "given: set\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  auto o = c.object();
  EXPECT_EQ(o->getValue<std::string>("tolerance"), "300s");
  EXPECT_TRUE(o->get("retries").isInteger());
  EXPECT_EQ(o->getValue<int>("retries"), 3);
  EXPECT_TRUE(o->get("strict").isBoolean());
  EXPECT_FALSE(o->getValue<bool>("strict"));
  EXPECT_DOUBLE_EQ(o->getValue<double>("scale"), 1.5);
  ASSERT_EQ(o->getArray("list")->size(), 1u);
  EXPECT_EQ(o->getValue<std::string>("given"), "set");  // a given value wins over the default

  // Defaults apply with no options at all (null node).
  std::vector<Error> errors;
  auto json = checkOptions(schema, YAML::Load("~"), kFile, kWhat, errors);
  EXPECT_TRUE(errors.empty());
  Poco::JSON::Parser parser;
  auto o2 = parser.parse(json).extract<Object::Ptr>();
  EXPECT_EQ(o2->getValue<std::string>("tolerance"), "300s");
}

const char kNested[] = R"json({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "tls": {
      "type": "object",
      "additionalProperties": false,
      "required": ["ca"],
      "properties": {
        "ca": {"type": "string"},
        "verify": {"type": "boolean", "default": true}
      }
    },
    "routes": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["name"],
        "properties": {
          "name": {"type": "string"},
          "weight": {"type": "integer", "minimum": 0, "default": 1}
        }
      }
    }
  }
})json";

TEST(Schema, NestedObjectsAndArraysOfObjects) {
  auto c =
      run(kNested, "tls: { ca: /etc/ca.pem }\nroutes:\n  - { name: a, weight: 5 }\n  - name: b\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  ASSERT_TRUE(inlet::util::isValidJson(c.json)) << c.json;
  auto o = c.object();
  auto tls = o->getObject("tls");
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->getValue<std::string>("ca"), "/etc/ca.pem");
  EXPECT_TRUE(tls->getValue<bool>("verify"));  // nested default
  auto routes = o->getArray("routes");
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ(routes->getObject(0)->getValue<int>("weight"), 5);
  EXPECT_EQ(routes->getObject(1)->getValue<std::string>("name"), "b");
  EXPECT_EQ(routes->getObject(1)->getValue<int>("weight"), 1);  // default inside array items
}

TEST(Schema, NestedErrorsCarryPathAndPosition) {
  std::string yaml =
      "tls:\n"
      "  verify: maybe\n"
      "  cert: x\n"
      "routes:\n"
      "  - { name: a, weight: -1 }\n"
      "  - { weight: 2 }\n"
      "  - { name: c, colour: red }\n";
  auto c = run(kNested, yaml);
  expectError(c, "tls.verify must be true or false", at(yaml, "maybe"));
  expectError(c, "unknown option 'tls.cert'", at(yaml, "cert"));
  expectError(c, "missing required option 'tls.ca'", at(yaml, "verify"));
  expectError(c, "routes[0].weight is below its minimum 0", at(yaml, "-1"));
  expectError(c, "missing required option 'routes[1].name'", at(yaml, "{ weight: 2 }"));
  expectError(c, "unknown option 'routes[2].colour'", at(yaml, "colour"));
}

TEST(Schema, ScalarWhereListExpectedIsOneElementList) {
  auto c = run(kTypes, "tags: solo\nports: 8080\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  auto o = c.object();
  auto tags = o->getArray("tags");
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ(tags->getElement<std::string>(0), "solo");
  auto ports = o->getArray("ports");
  ASSERT_EQ(ports->size(), 1u);
  EXPECT_TRUE(ports->get(0).isInteger());

  std::string yaml = "ports: http\n";
  auto bad = run(kTypes, yaml);
  expectError(bad, "ports must be an integer", at(yaml, "http"));
}

TEST(Schema, OutputEscapesStrings) {
  auto c = run(kTypes, "name: \"quote\\\" back\\\\ nl\\n tab\\t \\u00e9 \\x01\"\n");
  ASSERT_TRUE(c.errors.empty()) << c.dump();
  ASSERT_TRUE(inlet::util::isValidJson(c.json)) << c.json;
  EXPECT_EQ(c.object()->getValue<std::string>("name"), "quote\" back\\ nl\n tab\t \xC3\xA9 \x01");
}

TEST(Schema, UnreadableSchema) {
  std::vector<Error> errors;
  auto json = checkOptions("{not json", YAML::Load("a: 1"), kFile, kWhat, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("unreadable options schema"), std::string::npos);
  EXPECT_EQ(json, "{}");
}

TEST(Schema, EmptySchemaAcceptsAnyMapping) {
  std::vector<Error> errors;
  auto json = checkOptions("", YAML::Load("a: 1\nb: [x]\n"), kFile, kWhat, errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_TRUE(inlet::util::isValidJson(json)) << json;
}

TEST(Schema, OptionsThatAreNotAMapping) {
  std::string yaml = "[1, 2]";
  auto c = run(kTypes, yaml);
  ASSERT_EQ(c.errors.size(), 1u) << c.dump();
  EXPECT_NE(c.errors[0].message.find("must be a mapping"), std::string::npos);
  EXPECT_EQ(c.json, "{}");
}

}  // namespace
