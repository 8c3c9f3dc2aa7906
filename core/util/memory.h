// The allocator's free memory, given back to the system.
#pragma once

#include <cstddef>

namespace inlet::util {

// Returns to the system what the allocator holds free beyond `keep` bytes. tcmalloc (which the
// inlet binary is linked with when available) keeps the pages of freed large blocks, such as a
// hash table replaced by a smaller one, and gives them back only slowly: after a burst they
// would stay in the process's RSS for good. With glibc's allocator it trims its heaps instead.
void releaseFreeMemory(size_t keep);

}  // namespace inlet::util
