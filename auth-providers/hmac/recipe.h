// The recipe language of the `hmac` provider: a small declarative description of an HMAC
// webhook signature scheme (where the signature is, how it is encoded, what bytes are signed,
// where the timestamp is and how fresh it must be).
//
// Everything here is a plain function over plain data, so each piece (option parsing, header
// splitting, template compilation, timestamp parsing, JSON pointer lookup) is testable and
// fuzzable alone. A Recipe is built once at create() and is immutable afterwards.
#pragma once

#include <Poco/Dynamic/Var.h>
#include <inlet/crypto.h>
#include <inlet/sdk.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::auth::hmac {

// ------------------------------------------------------------------------------------------
// Signed-message templates
// ------------------------------------------------------------------------------------------

// One piece of the signed message. A template such as "v0:{timestamp}:{body}" compiles to
// [Literal "v0:", Timestamp, Literal ":", Body].
struct TemplatePart {
  enum class Kind { Literal, Body, Timestamp, Method, Url, Header, Json };
  Kind kind = Kind::Literal;
  // Literal: the text. Header: the lower-cased header name. Json: the JSON pointer.
  std::string text;
  bool operator==(const TemplatePart&) const = default;
};

// Compiles a message template. Placeholders: {body} {timestamp} {method} {url} {header:NAME}
// {json:/pointer}; "{{" and "}}" are literal braces; everything else is literal text.
// Throws std::invalid_argument (with the offending position) on an unknown placeholder, an
// unclosed '{', a stray '}', an empty header name or a pointer not starting with '/'.
std::vector<TemplatePart> compileTemplate(std::string_view text);

// ------------------------------------------------------------------------------------------
// Header lists ("t=1,v1=abc,v1=def", "v1,abc v1,def")
// ------------------------------------------------------------------------------------------

struct HeaderItem {
  std::string_view key;    // empty when the item has no key/value separator
  std::string_view value;  // the whole item when it has no key/value separator
  bool operator==(const HeaderItem&) const = default;
};

// Splits `header` on `separator`, trims spaces and tabs around every item, drops empty items,
// and splits each item at the FIRST `kv_separator` (when non-empty) into key and value.
// Returns nullopt when there are more than `max_items` items (a hostile header must not make
// us do unbounded work). Views point into `header`.
std::optional<std::vector<HeaderItem>> splitItems(std::string_view header,
                                                  std::string_view separator,
                                                  std::string_view kv_separator, size_t max_items);

// ------------------------------------------------------------------------------------------
// Timestamps
// ------------------------------------------------------------------------------------------

enum class TimestampUnit { Seconds, Millis, Iso8601 };

// Parses a signed timestamp into Unix milliseconds. Seconds / Millis: ASCII digits only (no
// sign, no spaces, at most 15 digits). Iso8601: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"
// ('t'/'z' and a space for 'T' are accepted, as RFC 3339 allows). nullopt when unparsable.
std::optional<int64_t> parseTimestampMs(std::string_view text, TimestampUnit unit);

// ------------------------------------------------------------------------------------------
// JSON pointers (RFC 6901) into a request body
// ------------------------------------------------------------------------------------------

// Looks `pointer` up in `root`. Strings yield their (unescaped) content, integers their decimal
// form, booleans "true"/"false"; objects, arrays, null, non-integral numbers and missing members
// yield nullopt.
std::optional<std::string> jsonPointer(const Poco::Dynamic::Var& root, std::string_view pointer);

// ------------------------------------------------------------------------------------------
// The recipe itself
// ------------------------------------------------------------------------------------------

enum class Encoding { Hex, Base64, Base64Url };

struct ItemsSpec {
  std::string separator;      // between items: "," or " "
  std::string kv_separator;   // inside an item, between key and value: "=" or ","; may be empty
  std::string signature_key;  // items with this key carry signatures; empty: every item does
  std::string timestamp_key;  // item carrying the timestamp (Stripe "t"); may be empty
};

struct Recipe {
  // Where the signature is: a header (lower-cased name) or a JSON pointer into the body.
  std::string header;
  std::string signature_json;
  std::optional<ItemsSpec> items;  // the header is a list of items

  sdk::crypto::Digest algorithm = sdk::crypto::Digest::Sha256;
  Encoding encoding = Encoding::Hex;
  std::string prefix;  // must start every signature value (e.g. "sha256="); stripped

  // Where the timestamp is (at most one source): an item key (items.timestamp_key), a header,
  // or a JSON pointer into the body.
  std::string timestamp_header;
  std::string timestamp_json;
  TimestampUnit timestamp_unit = TimestampUnit::Seconds;
  int64_t tolerance_ms = 0;  // 0: no freshness check
  bool reject_future = true;

  std::vector<TemplatePart> message;  // default: [Body]

  // Applied to every secret at create(): strip key_prefix when present, then decode.
  enum class KeyEncoding { Raw, Base64, Hex } key_encoding = KeyEncoding::Raw;
  std::string key_prefix;

  std::string delivery_id_header, event_type_header;
  std::string delivery_id_json, event_type_json;

  bool hasTimestamp() const {
    return !timestamp_header.empty() || !timestamp_json.empty() ||
           (items && !items->timestamp_key.empty());
  }
};

// Builds a Recipe from validated options; enforces the cross-field rules the JSON schema cannot
// express. Throws std::invalid_argument with an operator-facing message.
Recipe parseRecipe(const sdk::Config& config);

// Turns one configured secret into the HMAC key (strips key_prefix, decodes key_encoding).
// Throws std::invalid_argument naming the secret (never its value) when it does not decode.
std::string prepareKey(const Recipe& recipe, const sdk::Secret& secret);

}  // namespace inlet::auth::hmac
