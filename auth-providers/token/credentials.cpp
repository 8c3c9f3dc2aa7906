#include "credentials.h"

#include <inlet/crypto.h>

#include <stdexcept>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace credentials {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string> percentDecode(std::string_view text) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = nib(text[i + 1]), lo = nib(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return out;
}

size_t findQueryParam(std::string_view query, std::string_view name, std::string_view& value) {
  size_t count = 0;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    auto decoded = percentDecode(raw_name);
    if (!decoded || *decoded != name) continue;
    if (count++ == 0)
      value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  return count;
}

}  // namespace credentials

namespace {

using credentials::equalsIgnoreCase;

Verdict missing(std::string what) {
  return Verdict::reject(401, "missing_credentials", "missing " + what);
}

// RFC 7230 token characters: what a header name may consist of.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Strict standard-alphabet base64 (RFC 7617 uses RFC 4648 §4): the SDK decoder also takes the
// URL alphabet and stray padding, which no conforming client sends in a Basic header.
bool isStrictBase64(std::string_view s) {
  size_t pad = 0;
  while (!s.empty() && s.back() == '=' && pad < 3) {
    s.remove_suffix(1);
    ++pad;
  }
  if (pad > 2) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '/'))
      return false;
  if (pad > 0 && (s.size() + pad) % 4 != 0) return false;
  return s.size() % 4 != 1;
}

// "<scheme> <credentials>": scheme word case-insensitive (RFC 7235 §2.1), exactly one space.
std::optional<std::string_view> afterSchemeWord(std::string_view header, std::string_view word) {
  if (header.size() < word.size() + 2) return std::nullopt;
  if (!equalsIgnoreCase(header.substr(0, word.size()), word)) return std::nullopt;
  if (header[word.size()] != ' ' || header[word.size() + 1] == ' ') return std::nullopt;
  return header.substr(word.size() + 1);
}

}  // namespace

CredentialScheme credentialSchemeByName(std::string_view name) {
  if (name == "bearer") return CredentialScheme::Bearer;
  if (name == "basic") return CredentialScheme::Basic;
  if (name == "header") return CredentialScheme::Header;
  if (name == "query") return CredentialScheme::Query;
  throw std::invalid_argument("unknown credential scheme '" + std::string(name) +
                              "' (use bearer, basic, header or query)");
}

const char* credentialSchemeName(CredentialScheme scheme) {
  switch (scheme) {
    case CredentialScheme::Bearer:
      return "bearer";
    case CredentialScheme::Basic:
      return "basic";
    case CredentialScheme::Header:
      return "header";
    case CredentialScheme::Query:
      return "query";
  }
  return "bearer";
}

CredentialMatcher::CredentialMatcher(CredentialScheme scheme, std::string name,
                                     const std::vector<std::string>& secrets)
    : scheme_(scheme), name_(std::move(name)) {
  if (scheme_ == CredentialScheme::Header) {
    if (name_.empty()) throw std::invalid_argument("a header name is required");
    for (auto& c : name_) {
      if (!isTokenChar(c)) throw std::invalid_argument("invalid header name '" + name_ + "'");
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
  } else if (scheme_ == CredentialScheme::Query) {
    if (name_.empty()) throw std::invalid_argument("a query parameter name is required");
  }
  if (secrets.empty()) throw std::invalid_argument("at least one secret is required");
  for (size_t i = 0; i < secrets.size(); ++i) {
    const std::string& s = secrets[i];
    // An empty secret would accept an empty credential: refuse it outright.
    if (s.empty()) throw std::invalid_argument("secret #" + std::to_string(i + 1) + " is empty");
    if (scheme_ == CredentialScheme::Basic && s.find(':') == std::string::npos)
      throw std::invalid_argument("secret #" + std::to_string(i + 1) +
                                  " must have the form user:password for basic credentials");
    digests_.push_back(crypto::hash(crypto::Digest::Sha256, s));
  }
}

std::optional<Verdict> CredentialMatcher::extract(const sdk::Request& request,
                                                  std::string& out) const {
  switch (scheme_) {
    case CredentialScheme::Bearer:
    case CredentialScheme::Basic: {
      auto header = request.header("authorization");
      if (!header) return missing("Authorization header");
      // Two Authorization headers are ambiguous (RFC 7235 allows one); proxies disagree on
      // which one wins, so refuse instead of picking.
      if (request.headerCount("authorization") > 1)
        return Verdict::badCredentials("Authorization header appears more than once");
      const bool bearer = scheme_ == CredentialScheme::Bearer;
      auto rest = afterSchemeWord(*header, bearer ? "bearer" : "basic");
      if (!rest)
        return Verdict::badCredentials(
            std::string("expected Authorization: ") +
            (bearer ? "Bearer <token>" : "Basic <base64(user:password)>"));
      if (bearer) {
        out.assign(*rest);
        return std::nullopt;
      }
      if (!isStrictBase64(*rest))
        return Verdict::badCredentials("Basic credentials are not valid base64");
      auto decoded = crypto::fromBase64(*rest);
      if (!decoded || decoded->find(':') == std::string::npos)
        return Verdict::badCredentials("Basic credentials are not user:password");
      out = std::move(*decoded);
      return std::nullopt;
    }
    case CredentialScheme::Header: {
      auto header = request.header(name_);
      if (!header) return missing("header " + name_);
      if (request.headerCount(name_) > 1)
        return Verdict::badCredentials("header " + name_ + " appears more than once");
      if (header->empty()) return Verdict::badCredentials("header " + name_ + " is empty");
      out.assign(*header);
      return std::nullopt;
    }
    case CredentialScheme::Query: {
      std::string_view raw;
      size_t n = credentials::findQueryParam(request.query(), name_, raw);
      if (n == 0) return missing("query parameter " + name_);
      if (n > 1)
        return Verdict::badCredentials("query parameter " + name_ + " appears more than once");
      auto decoded = credentials::percentDecode(raw);
      if (!decoded)
        return Verdict::badCredentials("query parameter " + name_ +
                                       " is not valid percent-encoding");
      if (decoded->empty())
        return Verdict::badCredentials("query parameter " + name_ + " is empty");
      out = std::move(*decoded);
      return std::nullopt;
    }
  }
  return Verdict::badCredentials();
}

bool CredentialMatcher::matches(std::string_view presented) const {
  // Fixed-length digests compared with CRYPTO_memcmp; every secret is tried (no early exit) so
  // the time taken does not depend on which secret, if any, matched.
  const std::string digest = crypto::hash(crypto::Digest::Sha256, presented);
  bool any = false;
  for (const auto& d : digests_) any |= crypto::constantTimeEqual(d, digest);
  return any;
}

std::optional<Verdict> CredentialMatcher::check(const sdk::Request& request) const {
  std::string presented;
  if (auto rejection = extract(request, presented)) return rejection;
  if (!matches(presented)) return Verdict::badCredentials();
  return std::nullopt;
}

}  // namespace inlet::auth
