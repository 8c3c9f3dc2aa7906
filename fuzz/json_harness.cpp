// libFuzzer harness for the JSON text helpers of the request path (core/util/json.h):
// rawJsonAt, arrayElements and isValidJson, and the SDK's body reader (inlet/json.h), on bodies
// a sender controls.
//
// Fuzz input: a JSON pointer, a newline, then the document.
//
// Checked on every input:
//   isValidJson's verdict is SQLite's json_valid's, and whatever its strict pass accepts alone
//   SQLite accepts too.
//   rawJsonAt and arrayElements return spans of the document, never bytes past it.
//   On a valid document, every span rawJsonAt or arrayElements returns is valid JSON itself,
//   and rawJsonAt on an element's own pointer ("/<index>") returns that same element.
//   Every valid document is read by sdk::json::parse, and what readable() rewrites is valid
//   JSON that needs no second rewrite.
#include <inlet/json.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "check.h"
#include "util/json.h"

using namespace inlet::util;

namespace {

bool within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string pointer = nl == std::string::npos ? "" : input.substr(0, nl);
  // The document in a buffer of its own, so that ASan sees any read past its end.
  std::string doc = nl == std::string::npos ? input : input.substr(nl + 1);
  std::string_view text(doc);
  const bool valid = isValidJson(text);
  const bool sqlite = sqliteJsonValid(text);
  CHECK(valid == sqlite);
  if (isStrictJson(text)) CHECK(sqlite);

  auto raw = rawJsonAt(text, pointer);
  if (raw) {
    CHECK(within(*raw, text));
    if (valid) CHECK(isValidJson(*raw));
  }
  if (auto elements = arrayElements(text)) {
    for (size_t i = 0; i < elements->size(); ++i) {
      auto e = (*elements)[i];
      CHECK(within(e, text));
      if (valid) {
        CHECK(isValidJson(e));
        auto at = rawJsonAt(text, "/" + std::to_string(i));
        CHECK(at && *at == e);
      }
    }
  }
  auto rewritten = inlet::sdk::json::readable(text);
  if (valid) {
    CHECK(inlet::sdk::json::parse(text).has_value());
    if (rewritten) {
      CHECK(isValidJson(*rewritten));
      CHECK(!inlet::sdk::json::readable(*rewritten).has_value());
    }
  }
  return 0;
}
