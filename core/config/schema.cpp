#include "config/schema.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

namespace inlet::config {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

struct Checker {
  const std::string& file;
  std::vector<Error>& errors;

  void fail(const YAML::Node& at, const std::string& msg) {
    errors.push_back({positionOf(file, at), msg});
  }

  Var check(const Object::Ptr& schema, const YAML::Node& node, const std::string& path) {
    std::string type = schema->has("type") ? schema->getValue<std::string>("type") : "";
    Var value;
    if (type == "object") {
      if (!node.IsMap()) {
        fail(node, path + " must be a mapping");
        return Var();
      }
      Object::Ptr props = schema->has("properties") ? schema->getObject("properties") : nullptr;
      bool closed = schema->has("additionalProperties") &&
                    schema->get("additionalProperties").isBoolean() &&
                    !schema->getValue<bool>("additionalProperties");
      Object::Ptr out = new Object;
      for (const auto& kv : node) {
        std::string key = kv.first.Scalar();
        std::string sub = path.empty() ? key : path + "." + key;
        if (props && props->has(key)) {
          Var v = check(props->getObject(key), kv.second, sub);
          if (!v.isEmpty()) out->set(key, v);
        } else if (closed) {
          std::string known;
          if (props)
            for (const auto& p : *props) known += (known.empty() ? "" : ", ") + p.first;
          fail(kv.first,
               "unknown option '" + sub + "'" +
                   (known.empty() ? " (this plugin takes no options)" : " (known: " + known + ")"));
        } else {
          out->set(key, yamlToVar(kv.second));
        }
      }
      if (schema->has("required")) {
        auto req = schema->getArray("required");
        for (size_t i = 0; i < req->size(); ++i) {
          auto name = req->getElement<std::string>(i);
          if (!node[name].IsDefined())
            fail(node,
                 "missing required option '" + (path.empty() ? name : path + "." + name) + "'");
        }
      }
      if (props) {
        for (const auto& p : *props) {
          auto ps = p.second.extract<Object::Ptr>();
          if (!out->has(p.first) && ps->has("default")) out->set(p.first, ps->get("default"));
        }
      }
      value = out;
    } else if (type == "array") {
      if (node.IsScalar() && schema->has("items")) {
        // A single value where a list is expected: accept `secrets: a` like `secrets: [a]`.
        Array::Ptr out = new Array;
        Var v = check(schema->getObject("items"), node, path);
        if (!v.isEmpty()) out->add(v);
        value = out;
      } else if (!node.IsSequence()) {
        fail(node, path + " must be a list");
        return Var();
      } else {
        Array::Ptr out = new Array;
        size_t i = 0;
        for (const auto& item : node) {
          Var v = schema->has("items") ? check(schema->getObject("items"), item,
                                               path + "[" + std::to_string(i) + "]")
                                       : yamlToVar(item);
          if (!v.isEmpty()) out->add(v);
          ++i;
        }
        value = out;
      }
    } else if (type.empty()) {
      value = yamlToVar(node);
    } else {
      if (!node.IsScalar()) {
        fail(node, path + " must be a " + type);
        return Var();
      }
      const std::string& s = node.Scalar();
      if (type == "string") {
        value = s;
      } else if (type == "boolean") {
        if (s == "true")
          value = true;
        else if (s == "false")
          value = false;
        else {
          fail(node, path + " must be true or false");
          return Var();
        }
      } else if (type == "integer") {
        try {
          size_t used = 0;
          long long v = std::stoll(s, &used);
          if (used != s.size()) throw std::invalid_argument("");
          if (schema->has("minimum") && v < schema->getValue<double>("minimum")) {
            fail(node, path + " is below its minimum " + schema->get("minimum").toString());
            return Var();
          }
          if (schema->has("maximum") && v > schema->getValue<double>("maximum")) {
            fail(node, path + " is above its maximum " + schema->get("maximum").toString());
            return Var();
          }
          value = static_cast<Poco::Int64>(v);
        } catch (...) {
          fail(node, path + " must be an integer");
          return Var();
        }
      } else if (type == "number") {
        try {
          size_t used = 0;
          double v = std::stod(s, &used);
          if (used != s.size()) throw std::invalid_argument("");
          if (schema->has("minimum") && v < schema->getValue<double>("minimum")) {
            fail(node, path + " is below its minimum");
            return Var();
          }
          if (schema->has("maximum") && v > schema->getValue<double>("maximum")) {
            fail(node, path + " is above its maximum");
            return Var();
          }
          value = v;
        } catch (...) {
          fail(node, path + " must be a number");
          return Var();
        }
      } else {
        value = s;
      }
    }
    if (schema->has("enum") && !value.isEmpty() && value.isString()) {
      auto en = schema->getArray("enum");
      bool found = false;
      std::string list;
      for (size_t i = 0; i < en->size(); ++i) {
        auto e = en->getElement<std::string>(i);
        list += (list.empty() ? "" : ", ") + e;
        if (e == value.extract<std::string>()) found = true;
      }
      if (!found) {
        fail(node, path + " must be one of: " + list);
        return Var();
      }
    }
    return value;
  }

  static Var yamlToVar(const YAML::Node& n) {
    if (n.IsMap()) {
      Object::Ptr o = new Object;
      for (const auto& kv : n) o->set(kv.first.Scalar(), yamlToVar(kv.second));
      return o;
    }
    if (n.IsSequence()) {
      Array::Ptr a = new Array;
      for (const auto& item : n) a->add(yamlToVar(item));
      return a;
    }
    if (n.IsScalar()) return n.Scalar();
    return Var();
  }
};

}  // namespace

std::string checkOptions(const std::string& schema_json, const YAML::Node& options,
                         const std::string& file, const std::string& what,
                         std::vector<Error>& errors) {
  Object::Ptr schema;
  try {
    Poco::JSON::Parser parser;
    schema = parser.parse(schema_json.empty() ? "{\"type\":\"object\"}" : schema_json)
                 .extract<Object::Ptr>();
  } catch (const std::exception& e) {
    errors.push_back({positionOf(file, options), what + " has an unreadable options schema"});
    return "{}";
  }
  Checker c{file, errors};
  YAML::Node node =
      options.IsDefined() && !options.IsNull() ? options : YAML::Node(YAML::NodeType::Map);
  size_t before = errors.size();
  Var v = c.check(schema, node, "");
  for (size_t i = before; i < errors.size(); ++i) {
    // Prefix messages with the owner so "unknown option 'x'" says whose option it is.
    errors[i].message = what + ": " + errors[i].message;
  }
  if (v.isEmpty()) return "{}";
  std::ostringstream os;
  v.extract<Object::Ptr>()->stringify(os);
  return os.str();
}

}  // namespace inlet::config
