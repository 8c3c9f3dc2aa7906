// Crypto and encoding helpers for plugins, on top of OpenSSL (header-only).
//
// Every comparison of a secret, token or signature goes through constantTimeEqual: a byte-wise
// early-exit compare leaks, through timing, how many leading bytes of a forged signature were
// right, which lets an attacker forge one byte at a time.
#pragma once

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace inlet::sdk::crypto {

enum class Digest { Sha1, Sha224, Sha256, Sha384, Sha512, Md5 };  // Md5 last: see HmacContexts

inline const EVP_MD* evp(Digest d) {
  switch (d) {
    case Digest::Sha1:
      return EVP_sha1();
    case Digest::Sha224:
      return EVP_sha224();
    case Digest::Sha256:
      return EVP_sha256();
    case Digest::Sha384:
      return EVP_sha384();
    case Digest::Sha512:
      return EVP_sha512();
    case Digest::Md5:
      return EVP_md5();
  }
  return EVP_sha256();
}

// "sha1", "sha256", "sha512", … (case-insensitive). nullopt when unknown.
inline std::optional<Digest> digestByName(std::string_view name) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  if (n == "sha1") return Digest::Sha1;
  if (n == "sha224") return Digest::Sha224;
  if (n == "sha256") return Digest::Sha256;
  if (n == "sha384") return Digest::Sha384;
  if (n == "sha512") return Digest::Sha512;
  if (n == "md5") return Digest::Md5;
  return std::nullopt;
}

inline const char* evpName(Digest d) {
  switch (d) {
    case Digest::Sha1:
      return "SHA1";
    case Digest::Sha224:
      return "SHA224";
    case Digest::Sha256:
      return "SHA256";
    case Digest::Sha384:
      return "SHA384";
    case Digest::Sha512:
      return "SHA512";
    case Digest::Md5:
      return "MD5";
  }
  return "SHA256";
}

namespace detail {
// One HMAC context per digest and thread, its digest set once: re-keying a context is cheap,
// while creating one (and the digest lookup EVP_MAC_init does for a "digest" parameter) costs
// more than the MAC of a typical webhook body.
class HmacContexts {
 public:
  ~HmacContexts() {
    for (auto* c : ctx_) EVP_MAC_CTX_free(c);
  }
  EVP_MAC_CTX* get(Digest d) {
    auto i = static_cast<size_t>(d);
    if (i >= kDigests) return nullptr;
    if (!ctx_[i]) {
      // Fetched once per process: EVP_MAC_fetch is a provider lookup.
      static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      if (!mac) return nullptr;
      EVP_MAC_CTX* c = EVP_MAC_CTX_new(mac);
      if (!c) return nullptr;
      OSSL_PARAM params[2] = {
          OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(evpName(d)), 0),
          OSSL_PARAM_construct_end()};
      if (EVP_MAC_CTX_set_params(c, params) != 1) {
        EVP_MAC_CTX_free(c);
        return nullptr;
      }
      ctx_[i] = c;
    }
    return ctx_[i];
  }

 private:
  static constexpr size_t kDigests = static_cast<size_t>(Digest::Md5) + 1;
  EVP_MAC_CTX* ctx_[kDigests] = {};
};
}  // namespace detail

// HMAC over the concatenation of `parts` (avoids building the message in one buffer).
template <class... Parts>
inline std::string hmac(Digest d, std::string_view key, const Parts&... parts) {
  thread_local detail::HmacContexts contexts;
  EVP_MAC_CTX* ctx = contexts.get(d);
  if (!ctx) throw std::runtime_error("HMAC unavailable");
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  // OpenSSL refuses a NULL key pointer even for an empty key.
  static const unsigned char empty = 0;
  const unsigned char* k =
      key.empty() ? &empty : reinterpret_cast<const unsigned char*>(key.data());
  bool ok = EVP_MAC_init(ctx, k, key.size(), nullptr) == 1;
  ((ok = ok &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(std::string_view(parts).data()),
                        std::string_view(parts).size()) == 1),
   ...);
  ok = ok && EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1;
  if (!ok) throw std::runtime_error("HMAC failed");
  return std::string(reinterpret_cast<char*>(out), out_len);
}

template <class... Parts>
inline std::string hash(Digest d, const Parts&... parts) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
  bool ok = EVP_DigestInit_ex(ctx, evp(d), nullptr) == 1;
  ((ok = ok && EVP_DigestUpdate(ctx, std::string_view(parts).data(),
                                std::string_view(parts).size()) == 1),
   ...);
  ok = ok && EVP_DigestFinal_ex(ctx, out, &out_len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("digest failed");
  return std::string(reinterpret_cast<char*>(out), out_len);
}

// Constant-time equality. Lengths are not secret (signature lengths are public), so a length
// mismatch returns early; equal-length contents are compared with CRYPTO_memcmp.
inline bool constantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

inline std::string toHex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xF]);
  }
  return out;
}

inline std::optional<std::string> fromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

// Standard base64 with padding (url = true: the URL-safe alphabet, no padding).
inline std::string toBase64(std::string_view bytes, bool url = false) {
  static const char* std_alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static const char* url_alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* a = url ? url_alpha : std_alpha;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += {a[(v >> 18) & 63], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = p[i] << 16;
    out += {a[(v >> 18) & 63], a[(v >> 12) & 63]};
    if (!url) out += "==";
  } else if (rest == 2) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out += {a[(v >> 18) & 63], a[(v >> 12) & 63], a[(v >> 6) & 63]};
    if (!url) out += "=";
  }
  return out;
}

// Decodes base64 in either alphabet, with or without padding. Rejects any other character
// (including whitespace) and non-canonical trailing bits are tolerated as OpenSSL does.
inline std::optional<std::string> fromBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// Ed25519 verification (RFC 8032) of `message` with a raw 32-byte public key.
inline bool ed25519Verify(std::string_view public_key, std::string_view signature,
                          std::string_view message) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()), 32);
  if (!key) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), 64,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace inlet::sdk::crypto
