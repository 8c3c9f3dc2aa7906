// A SQLite VFS shim for fault tests: it passes everything to the default VFS, except that
// writes to WAL files fail with SQLITE_FULL (as on a full disk) while `failing` is set.
// Construct a FaultyDisk before opening the connections it should cover.
#pragma once

#include <sqlite3.h>

#include <atomic>

namespace inlet::testing::faulty_disk {

inline std::atomic<bool> failing{false};
inline std::atomic<int> failed_writes{0};
inline sqlite3_vfs* real_vfs = nullptr;
inline sqlite3_vfs faulty_vfs;
inline sqlite3_io_methods faulty_methods;

struct FaultyFile {
  sqlite3_file base;
  sqlite3_file* real;
  bool wal;
};

inline sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<FaultyFile*>(f)->real; }

inline int fClose(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
inline int fRead(sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
  return real(f)->pMethods->xRead(real(f), b, n, o);
}
inline int fWrite(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
  if (reinterpret_cast<FaultyFile*>(f)->wal && failing) {
    ++failed_writes;
    return SQLITE_FULL;
  }
  return real(f)->pMethods->xWrite(real(f), b, n, o);
}
inline int fTruncate(sqlite3_file* f, sqlite3_int64 s) {
  return real(f)->pMethods->xTruncate(real(f), s);
}
inline int fSync(sqlite3_file* f, int flags) { return real(f)->pMethods->xSync(real(f), flags); }
inline int fFileSize(sqlite3_file* f, sqlite3_int64* s) {
  return real(f)->pMethods->xFileSize(real(f), s);
}
inline int fLock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
inline int fUnlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
inline int fCheckReservedLock(sqlite3_file* f, int* r) {
  return real(f)->pMethods->xCheckReservedLock(real(f), r);
}
inline int fFileControl(sqlite3_file* f, int op, void* a) {
  return real(f)->pMethods->xFileControl(real(f), op, a);
}
inline int fSectorSize(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
inline int fDeviceCharacteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
inline int fShmMap(sqlite3_file* f, int i, int sz, int e, void volatile** p) {
  return real(f)->pMethods->xShmMap(real(f), i, sz, e, p);
}
inline int fShmLock(sqlite3_file* f, int o, int n, int fl) {
  return real(f)->pMethods->xShmLock(real(f), o, n, fl);
}
inline void fShmBarrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
inline int fShmUnmap(sqlite3_file* f, int d) { return real(f)->pMethods->xShmUnmap(real(f), d); }
inline int fFetch(sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
  return real(f)->pMethods->xFetch(real(f), o, n, p);
}
inline int fUnfetch(sqlite3_file* f, sqlite3_int64 o, void* p) {
  return real(f)->pMethods->xUnfetch(real(f), o, p);
}

inline int fOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out) {
  auto* ff = reinterpret_cast<FaultyFile*>(file);
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
  ff->base.pMethods = rc == SQLITE_OK && ff->real->pMethods ? &faulty_methods : nullptr;
  return rc;
}

// Installs the shim as the default VFS for this test; the destructor puts SQLite's back.
struct FaultyDisk {
  FaultyDisk() {
    real_vfs = sqlite3_vfs_find(nullptr);
    faulty_vfs = *real_vfs;
    faulty_vfs.zName = "inlet-faulty";
    faulty_vfs.szOsFile = static_cast<int>(sizeof(FaultyFile)) + real_vfs->szOsFile;
    faulty_vfs.xOpen = fOpen;
    faulty_vfs.pNext = nullptr;
    faulty_methods = sqlite3_io_methods{3,
                                        fClose,
                                        fRead,
                                        fWrite,
                                        fTruncate,
                                        fSync,
                                        fFileSize,
                                        fLock,
                                        fUnlock,
                                        fCheckReservedLock,
                                        fFileControl,
                                        fSectorSize,
                                        fDeviceCharacteristics,
                                        fShmMap,
                                        fShmLock,
                                        fShmBarrier,
                                        fShmUnmap,
                                        fFetch,
                                        fUnfetch};
    sqlite3_vfs_register(&faulty_vfs, 1);
  }
  ~FaultyDisk() {
    failing = false;
    sqlite3_vfs_unregister(&faulty_vfs);
    sqlite3_vfs_register(real_vfs, 1);
  }
};

}  // namespace inlet::testing::faulty_disk
