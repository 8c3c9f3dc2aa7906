// Time-ordered event ids (UUIDv7, RFC 9562): sortable by receive time, unique without
// coordination between instances.
#pragma once

#include <cstdint>
#include <string>

namespace inlet::util {

std::string newEventId(int64_t unix_ms);
int64_t nowMs();

}  // namespace inlet::util
