#include "journal/paced_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <limits>

namespace inlet::journal {

namespace {

// A file of the paced VFS: the default VFS's file follows it in the same allocation.
struct PacedFile {
  sqlite3_file base;
  sqlite3_file* real;
  int fd;            // own descriptor of the same file for sync_file_range; -1: not paced
  sqlite3_int64 lo;  // range written since the last step
  sqlite3_int64 hi;
  sqlite3_int64 written;
  sqlite3_int64 prev_lo;  // the last step's range, its writeback started
  sqlite3_int64 prev_hi;
};

// Room for the file of the VFS underneath, which is the default VFS of the moment a file is
// opened (a test may install a shim as the default after this VFS was registered).
constexpr int kUnderneathRoom = 4096;

sqlite3_vfs* g_default = nullptr;  // the default VFS when this one was registered
sqlite3_vfs g_vfs;
std::atomic<uint64_t> g_steps{0};

PacedFile* paced(sqlite3_file* f) { return reinterpret_cast<PacedFile*>(f); }
sqlite3_file* real(sqlite3_file* f) { return paced(f)->real; }
const sqlite3_io_methods* methods(sqlite3_file* f) { return real(f)->pMethods; }

// Nothing written since the last step.
void startStep(PacedFile* p) {
  p->lo = std::numeric_limits<sqlite3_int64>::max();
  p->hi = 0;
  p->written = 0;
}

// Nothing written that is not on the disk (after a sync, or at open).
void resetRanges(PacedFile* p) {
  startStep(p);
  p->prev_lo = p->prev_hi = 0;
}

void step(PacedFile* p) {
  if (p->prev_hi > p->prev_lo)
    ::sync_file_range(
        p->fd, p->prev_lo, p->prev_hi - p->prev_lo,
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
  ::sync_file_range(p->fd, p->lo, p->hi - p->lo, SYNC_FILE_RANGE_WRITE);
  p->prev_lo = p->lo;
  p->prev_hi = p->hi;
  startStep(p);
  g_steps.fetch_add(1, std::memory_order_relaxed);
}

int pacedClose(sqlite3_file* f) {
  int rc = methods(f)->xClose(real(f));
  if (paced(f)->fd >= 0) ::close(paced(f)->fd);
  paced(f)->fd = -1;
  return rc;
}

int pacedRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 ofst) {
  return methods(f)->xRead(real(f), buf, amt, ofst);
}

int pacedWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 ofst) {
  const int rc = methods(f)->xWrite(real(f), buf, amt, ofst);
  PacedFile* p = paced(f);
  if (rc != SQLITE_OK || p->fd < 0) return rc;
  p->lo = std::min(p->lo, ofst);
  p->hi = std::max(p->hi, ofst + amt);
  p->written += amt;
  if (p->written >= kPacedStepBytes) step(p);
  return rc;
}

int pacedTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return methods(f)->xTruncate(real(f), size);
}

int pacedSync(sqlite3_file* f, int flags) {
  const int rc = methods(f)->xSync(real(f), flags);
  if (rc == SQLITE_OK) resetRanges(paced(f));  // everything written is on the disk
  return rc;
}

int pacedFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return methods(f)->xFileSize(real(f), size);
}
int pacedLock(sqlite3_file* f, int lock) { return methods(f)->xLock(real(f), lock); }
int pacedUnlock(sqlite3_file* f, int lock) { return methods(f)->xUnlock(real(f), lock); }
int pacedCheckReservedLock(sqlite3_file* f, int* out) {
  return methods(f)->xCheckReservedLock(real(f), out);
}
int pacedFileControl(sqlite3_file* f, int op, void* arg) {
  return methods(f)->xFileControl(real(f), op, arg);
}
int pacedSectorSize(sqlite3_file* f) { return methods(f)->xSectorSize(real(f)); }
int pacedDeviceCharacteristics(sqlite3_file* f) {
  return methods(f)->xDeviceCharacteristics(real(f));
}
int pacedShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return methods(f)->xShmMap(real(f), region, size, extend, out);
}
int pacedShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return methods(f)->xShmLock(real(f), offset, n, flags);
}
void pacedShmBarrier(sqlite3_file* f) { methods(f)->xShmBarrier(real(f)); }
int pacedShmUnmap(sqlite3_file* f, int del) { return methods(f)->xShmUnmap(real(f), del); }
int pacedFetch(sqlite3_file* f, sqlite3_int64 ofst, int amt, void** out) {
  return methods(f)->xFetch(real(f), ofst, amt, out);
}
int pacedUnfetch(sqlite3_file* f, sqlite3_int64 ofst, void* p) {
  return methods(f)->xUnfetch(real(f), ofst, p);
}

// Version 3 methods; used only over files whose own methods are version 3 too (see pacedOpen).
const sqlite3_io_methods kMethods = {
    3,
    pacedClose,
    pacedRead,
    pacedWrite,
    pacedTruncate,
    pacedSync,
    pacedFileSize,
    pacedLock,
    pacedUnlock,
    pacedCheckReservedLock,
    pacedFileControl,
    pacedSectorSize,
    pacedDeviceCharacteristics,
    pacedShmMap,
    pacedShmLock,
    pacedShmBarrier,
    pacedShmUnmap,
    pacedFetch,
    pacedUnfetch,
};

int pacedOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  PacedFile* p = paced(file);
  p->real = reinterpret_cast<sqlite3_file*>(p + 1);
  p->fd = -1;
  resetRanges(p);
  sqlite3_vfs* under = sqlite3_vfs_find(nullptr);
  if (!under || under == &g_vfs || under->szOsFile > kUnderneathRoom) under = g_default;
  const int rc = under->xOpen(under, name, p->real, flags, out_flags);
  if (!p->real->pMethods) {
    file->pMethods = nullptr;  // nothing to close
    return rc;
  }
  if (p->real->pMethods->iVersion < 3) {
    // Files without the shared-memory and mmap methods (not the unix VFS's): refused, since
    // this VFS's methods would claim them.
    p->real->pMethods->xClose(p->real);
    file->pMethods = nullptr;
    return SQLITE_CANTOPEN;
  }
  file->pMethods = &kMethods;
  if (rc == SQLITE_OK && name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)))
    p->fd = ::open(name, O_RDONLY | O_CLOEXEC);  // unpaced when it cannot be opened
  return rc;
}

}  // namespace

const char* pacedVfs() {
  static const char* name = []() -> const char* {
    g_default = sqlite3_vfs_find(nullptr);
    if (!g_default) return nullptr;
    // The default VFS's own entry points for everything but opening a file; they read nothing
    // from the VFS object but what is copied here (unix: mxPathname, pAppData). Files are opened
    // by the default VFS of the moment (pacedOpen).
    g_vfs = *g_default;
    g_vfs.pNext = nullptr;
    g_vfs.zName = "inlet-paced";
    g_vfs.szOsFile =
        static_cast<int>(sizeof(PacedFile)) + std::max(kUnderneathRoom, g_default->szOsFile);
    g_vfs.xOpen = pacedOpen;
    return sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK ? g_vfs.zName : nullptr;
  }();
  return name;
}

uint64_t pacedSteps() { return g_steps.load(std::memory_order_relaxed); }

}  // namespace inlet::journal
