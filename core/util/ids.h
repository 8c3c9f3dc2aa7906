// Time-ordered event ids (UUIDv7, RFC 9562): sortable by receive time, unique without
// coordination between instances.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace inlet::util {

std::string newEventId(int64_t unix_ms);
int64_t nowMs();

// A UUID's 16 bytes in its canonical text form: lower-case hex, dashes after bytes 4, 6, 8, 10.
std::string uuidText(const unsigned char* bytes);
// The 16 bytes of `text` when it is a UUID in exactly that form (not upper case, no braces).
bool parseUuid(std::string_view text, unsigned char* bytes);

}  // namespace inlet::util
