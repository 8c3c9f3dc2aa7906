#include "twilio.h"

#include <Poco/JSON/Object.h>
#include <inlet/crypto.h>
#include <inlet/json.h>

#include <algorithm>
#include <stdexcept>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

int hexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> formDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hexNibble(s[i + 1]), lo = hexNibble(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != prefix[i]) return false;
  }
  return true;
}

// The event type Twilio puts in the payload, by product: Conversations (EventType), Messaging
// status callbacks (MessageStatus, legacy SmsStatus), Voice status callbacks (CallStatus).
constexpr const char* kEventFields[] = {"EventType", "MessageStatus", "SmsStatus", "CallStatus"};

std::string eventTypeFromParams(const TwilioProvider::Params& params) {
  for (const char* field : kEventFields)
    for (const auto& [name, value] : params)
      if (name == field) return value;
  return {};
}

std::string eventTypeFromJson(std::string_view body) {
  try {
    auto obj = sdk::json::object(body);
    if (!obj) return {};
    for (const char* field : kEventFields) {
      auto v = obj->get(field);
      if (v.isString()) return v.extract<std::string>();
    }
  } catch (...) {
  }
  return {};
}

}  // namespace

TwilioProvider::TwilioProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<TwilioProvider> TwilioProvider::create(const sdk::Config&,
                                                       const std::vector<sdk::Secret>& secrets,
                                                       const sdk::Host&) {
  Options o;
  for (size_t i = 0; i < secrets.size(); ++i) {
    if (secrets[i].value.empty())
      throw std::invalid_argument("twilio: secret #" + std::to_string(i + 1) + " is empty");
    o.secrets.push_back(secrets[i].value);
  }
  if (o.secrets.empty())
    throw std::invalid_argument("twilio needs at least one secret (the Auth Token)");
  return std::make_unique<TwilioProvider>(std::move(o));
}

std::optional<TwilioProvider::Params> TwilioProvider::parseForm(std::string_view body) {
  Params params;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = formDecode(pair.substr(0, eq));
    auto value =
        formDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

std::vector<std::string> TwilioProvider::urlVariants(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {std::string(url)};
  std::string_view scheme = url.substr(0, scheme_end);
  size_t host_start = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", host_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(host_start, authority_end - host_start);
  // The port follows the last ':' unless that ':' is inside an IPv6 literal ("[::1]").
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  std::string_view host = has_port ? authority.substr(0, colon) : authority;
  std::string prefix = std::string(url.substr(0, host_start)) + std::string(host);
  std::string suffix(url.substr(authority_end));
  std::string without_port = prefix + suffix;
  std::string with_port;
  if (has_port) {
    with_port = std::string(url);
  } else {
    const bool https = startsWithIgnoreCase(scheme, "https") && scheme.size() == 5;
    with_port = prefix + (https ? ":443" : ":80") + suffix;
  }
  if (with_port == without_port) return {without_port};
  return {without_port, with_port};
}

std::string TwilioProvider::signedString(std::string_view url, Params params) {
  std::sort(params.begin(), params.end());
  std::string out(url);
  for (const auto& [name, value] : params) out.append(name).append(value);
  return out;
}

Verdict TwilioProvider::verify(const sdk::Request& request) const {
  auto header = request.header("x-twilio-signature");
  if (!header) return Verdict::missingSignature("X-Twilio-Signature");
  if (request.headerCount("x-twilio-signature") > 1)
    return Verdict::malformedSignature("header X-Twilio-Signature appears more than once");

  crypto::Digest digest = crypto::Digest::Sha1;
  if (auto settings = request.header("x-twilio-webhooks-signature-settings")) {
    if (request.headerCount("x-twilio-webhooks-signature-settings") > 1)
      return Verdict::malformedSignature(
          "header X-Twilio-Webhooks-Signature-Settings appears more than once");
    // "key=<id>,algorithm=HMAC_SHA256": only the algorithm matters to us; the key is whichever
    // bound secret verifies (bind the Webhooks Rule's SharedKey as one of the secrets).
    std::string_view rest = *settings, algorithm;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      if (item.substr(0, 10) == "algorithm=") algorithm = item.substr(10);
    }
    if (algorithm == "HMAC_SHA256")
      digest = crypto::Digest::Sha256;
    else if (algorithm != "HMAC_SHA1")
      return Verdict::malformedSignature(
          "X-Twilio-Webhooks-Signature-Settings has no supported algorithm");
  }
  const size_t mac_len = digest == crypto::Digest::Sha1 ? 20 : 32;
  std::string_view received_text = *header;
  if (received_text.size() > kMaxSignatureHeader)
    return Verdict::malformedSignature("header X-Twilio-Signature is too large");
  auto received = crypto::fromBase64(received_text);
  if (!received || received->size() != mac_len)
    return Verdict::malformedSignature("X-Twilio-Signature must be base64 of a " +
                                       std::to_string(mac_len) + "-byte HMAC");

  // JSON (and any non-form) bodies: covered through bodySHA256 in the signed URL.
  std::string_view query;
  if (size_t q = request.url.find('?'); q != std::string_view::npos) {
    query = request.url.substr(q + 1);
    if (size_t hash = query.find('#'); hash != std::string_view::npos)
      query = query.substr(0, hash);
  }
  // Looked up by its literal name: hex digits need no escaping, and an unrelated bad escape
  // elsewhere in the URL must not change how the request is read (the URL is signed as is).
  std::optional<std::string> body_sha;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.substr(0, pair.find('=')) != "bodySHA256") continue;
    if (body_sha)
      return Verdict::malformedSignature("bodySHA256 appears more than once in the URL");
    size_t eq = pair.find('=');
    body_sha = std::string(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  }

  std::vector<Params> param_sets;  // the signed-string variants to try
  Params params;
  if (body_sha) {
    param_sets.push_back({});  // JSON: nothing appended to the URL
  } else {
    auto content_type = request.header("content-type");
    const bool form = content_type
                          ? startsWithIgnoreCase(*content_type, "application/x-www-form-urlencoded")
                          : true;
    if (!form && !request.body.empty())
      return Verdict::malformedSignature(
          "the body is not form-encoded and the URL has no bodySHA256, so the signature would not "
          "cover it");
    if (!request.body.empty()) {
      auto parsed = parseForm(request.body);
      if (!parsed) return Verdict::malformedSignature("the form body has an invalid %-escape");
      params = std::move(*parsed);
    }
    param_sets.push_back(params);
    // twilio-python sorts set(values): a repeated identical name=value pair counts once there,
    // and once per occurrence in twilio-node. Try both when it matters.
    Params unique = params;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    if (unique.size() != params.size()) param_sets.push_back(std::move(unique));
  }

  bool matched = false;
  std::string first_expected;
  for (const auto& url : urlVariants(request.url)) {
    for (const auto& set : param_sets) {
      const std::string text = signedString(url, set);
      for (const auto& secret : options_.secrets) {
        std::string mac = crypto::hmac(digest, secret, text);
        if (first_expected.empty()) first_expected = crypto::toBase64(mac);
        // Decoded bytes, constant time: a forged signature must not be found byte by byte.
        matched |= crypto::constantTimeEqual(mac, *received);
      }
    }
  }
  if (!matched)
    return Verdict::mismatch("expected " + first_expected +
                             " (first secret, URL without port), received " +
                             std::string(received_text));
  if (body_sha) {
    // The URL (with the hash) is authentic; now the body must be the one it names. twilio-python
    // compares the lower-case hexdigest with the parameter as text.
    std::string actual = crypto::toHex(crypto::hash(crypto::Digest::Sha256, request.body));
    if (!crypto::constantTimeEqual(actual, *body_sha))
      return Verdict::mismatch("body SHA-256 is " + actual + ", the signed URL says " +
                               body_sha->substr(0, 64));
  }
  std::string delivery(request.header("i-twilio-idempotency-token").value_or(""));
  return Verdict::accept(std::move(delivery),
                         body_sha ? eventTypeFromJson(request.body) : eventTypeFromParams(params));
}

}  // namespace inlet::auth
