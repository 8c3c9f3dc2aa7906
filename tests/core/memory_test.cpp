#include "util/memory.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

size_t residentBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// This suite runs twice: in test_core with glibc's malloc, and in test_memory_tcmalloc with
// tcmalloc, as the inlet binary runs.
TEST(Memory, FreedMemoryBeyondWhatIsKeptGoesBackToTheSystem) {
  constexpr size_t kFreed = size_t{64} << 20, kKept = size_t{8} << 20;
  const bool tcmalloc = dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseToSystem") != nullptr;
  // Blocks each allocator keeps when they are freed: tcmalloc's page heap takes blocks of 1 MiB;
  // glibc serves 64 KiB from its heap (larger ones are mapped, and unmapped when freed), and
  // gives back at once what is freed at its top: a small block kept after each one pins them.
  const size_t block = tcmalloc ? size_t{1} << 20 : size_t{64} << 10;
  std::vector<char*> blocks, kept;
  for (size_t n = 0; n < kFreed / block; ++n) {
    blocks.push_back(static_cast<char*>(std::malloc(block)));
    std::memset(blocks.back(), 1, block);  // resident
    kept.push_back(static_cast<char*>(std::malloc(64)));
  }
  const size_t held = residentBytes();
  for (char* p : blocks) std::free(p);
  const size_t freed = residentBytes();
  ASSERT_GT(freed + kFreed / 4, held) << "the allocator gave most of it back by itself";
  inlet::util::releaseFreeMemory(kKept);
  const size_t released = residentBytes();
  EXPECT_LT(released + kFreed / 2, freed)
      << "resident: " << (held >> 20) << " MiB held, " << (freed >> 20) << " MiB freed, "
      << (released >> 20) << " MiB after the release";
  for (char* p : kept) std::free(p);
}

}  // namespace
