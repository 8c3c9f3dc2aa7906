#include "util/memory.h"

#include <dlfcn.h>
#include <malloc.h>

namespace inlet::util {

namespace {

// tcmalloc's C interface, when the process has it (looked up, not linked: a build without
// tcmalloc has no such symbols).
struct Tcmalloc {
  int (*get)(const char*, size_t*) = nullptr;
  void (*release)(size_t) = nullptr;
  Tcmalloc() {
    get = reinterpret_cast<int (*)(const char*, size_t*)>(
        dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
    release =
        reinterpret_cast<void (*)(size_t)>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseToSystem"));
  }
};

}  // namespace

void releaseFreeMemory(size_t keep) {
  static const Tcmalloc tcmalloc;
  if (tcmalloc.get && tcmalloc.release) {
    size_t free_bytes = 0;
    if (tcmalloc.get("tcmalloc.pageheap_free_bytes", &free_bytes) && free_bytes > keep)
      tcmalloc.release(free_bytes - keep);
    return;
  }
  malloc_trim(keep);
}

}  // namespace inlet::util
