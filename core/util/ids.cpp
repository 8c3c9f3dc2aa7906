#include "util/ids.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>

namespace inlet::util {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string newEventId(int64_t unix_ms) {
  // The random bits only need to be unique, not secret: a per-thread generator seeded from the
  // OS CSPRNG avoids a RAND_bytes call (and its locking) per event.
  thread_local std::mt19937_64 rng = [] {
    uint64_t seed[2];
    if (RAND_bytes(reinterpret_cast<unsigned char*>(seed), sizeof seed) != 1)
      throw std::runtime_error("RAND_bytes failed");
    std::seed_seq seq{seed[0], seed[0] >> 32, seed[1], seed[1] >> 32};
    return std::mt19937_64(seq);
  }();
  unsigned char b[16];
  uint64_t r1 = rng(), r2 = rng();
  std::memcpy(b + 6, &r1, 2);
  std::memcpy(b + 8, &r2, 8);
  auto ms = static_cast<uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // variant 10
  return uuidText(b);
}

std::string uuidText(const unsigned char* bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[bytes[i] >> 4]);
    out.push_back(hex[bytes[i] & 0xF]);
  }
  return out;
}

bool parseUuid(std::string_view text, unsigned char* bytes) {
  if (text.size() != 36) return false;
  for (size_t i = 0, n = 0; i < 36; ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
      continue;
    }
    const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    if (n % 2 == 0)
      bytes[n / 2] = static_cast<unsigned char>(v << 4);
    else
      bytes[n / 2] |= static_cast<unsigned char>(v);
    ++n;
  }
  return true;
}

}  // namespace inlet::util
