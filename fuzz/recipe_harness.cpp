// libFuzzer harness for the hmac provider's recipe language, function by function.
// The first input byte picks the function; the rest is its input.
#include <Poco/JSON/Parser.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "recipe.h"

using namespace inlet::auth::hmac;

namespace {

// Writes compiled parts back as template text; compiling that again must give the same parts.
std::string render(const std::vector<TemplatePart>& parts) {
  std::string out;
  for (const auto& p : parts) {
    switch (p.kind) {
      case TemplatePart::Kind::Literal:
        for (char c : p.text) {
          if (c == '{' || c == '}') out.push_back(c);
          out.push_back(c);
        }
        break;
      case TemplatePart::Kind::Body:
        out += "{body}";
        break;
      case TemplatePart::Kind::Timestamp:
        out += "{timestamp}";
        break;
      case TemplatePart::Kind::Method:
        out += "{method}";
        break;
      case TemplatePart::Kind::Url:
        out += "{url}";
        break;
      case TemplatePart::Kind::Header:
        out += "{header:" + p.text + "}";
        break;
      case TemplatePart::Kind::Json:
        out += "{json:" + p.text + "}";
        break;
    }
  }
  return out;
}

void fuzzTemplate(std::string_view in) {
  std::vector<TemplatePart> parts;
  try {
    parts = compileTemplate(in);
  } catch (const std::invalid_argument&) {
    return;
  }
  for (size_t i = 1; i < parts.size(); ++i)  // adjacent literals are always merged
    if (parts[i].kind == TemplatePart::Kind::Literal &&
        parts[i - 1].kind == TemplatePart::Kind::Literal)
      std::abort();
  if (compileTemplate(render(parts)) != parts) std::abort();
}

void fuzzSplit(std::string_view in) {
  // in = <sep byte><kv byte><header>; a NUL kv byte means "no key/value separator".
  if (in.size() < 2) return;
  std::string sep(1, in[0]);
  std::string kv = in[1] == '\0' ? "" : std::string(1, in[1]);
  std::string_view header = in.substr(2);
  auto items = splitItems(header, sep, kv, 32);
  if (!items) return;
  if (items->size() > 32) std::abort();
  auto inside = [&](std::string_view v) {
    return v.empty() ||
           (v.data() >= header.data() && v.data() + v.size() <= header.data() + header.size());
  };
  for (const auto& item : *items) {
    if (!inside(item.key) || !inside(item.value)) std::abort();
    // Only a key/value split can leave both halves empty (empty items are dropped).
    if (item.key.empty() && item.value.empty() && kv.empty()) std::abort();
  }
}

void fuzzTimestamp(std::string_view in) {
  for (auto unit : {TimestampUnit::Seconds, TimestampUnit::Millis, TimestampUnit::Iso8601}) {
    auto ms = parseTimestampMs(in, unit);
    if (ms && unit != TimestampUnit::Iso8601 && *ms < 0) std::abort();
  }
}

void fuzzPointer(std::string_view in) {
  // in = <pointer>\n<json>
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return;
  try {
    Poco::JSON::Parser parser;
    auto doc = parser.parse(std::string(in.substr(nl + 1)));
    (void)jsonPointer(doc, in.substr(0, nl));
  } catch (const Poco::Exception&) {
  } catch (const std::exception&) {
  }
}

void fuzzRecipe(std::string_view in) {
  try {
    auto config = inlet::sdk::Config::parse(in);
    auto recipe = parseRecipe(config);
    (void)prepareKey(recipe, {"fuzz", "whsec_c2VjcmV0"});
  } catch (const Poco::Exception&) {
  } catch (const std::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 5) {
    case 0:
      fuzzTemplate(input);
      break;
    case 1:
      fuzzSplit(input);
      break;
    case 2:
      fuzzTimestamp(input);
      break;
    case 3:
      fuzzPointer(input);
      break;
    case 4:
      fuzzRecipe(input);
      break;
  }
  return 0;
}
