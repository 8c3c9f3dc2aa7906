// The journal when the disk fails under it: a SQLite VFS shim makes writes to the journal's
// WAL fail (as a full disk does) while a group commits, then heals.
#include <gtest/gtest.h>
#include <inlet/testing/server.h>
#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "util/ids.h"

using inlet::journal::AppendResult;
using inlet::journal::Event;
using inlet::journal::Journal;
using inlet::journal::Reader;
using inlet::testing::TempDir;
using Status = inlet::journal::AppendResult::Status;

namespace {

// ---- a VFS that passes everything to the default one, except WAL writes while `failing` ----

std::atomic<bool> failing{false};
std::atomic<int> failed_writes{0};
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs faulty_vfs;
sqlite3_io_methods faulty_methods;

struct FaultyFile {
  sqlite3_file base;
  sqlite3_file* real;
  bool wal;
};

sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<FaultyFile*>(f)->real; }

int fClose(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
int fRead(sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
  return real(f)->pMethods->xRead(real(f), b, n, o);
}
int fWrite(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
  if (reinterpret_cast<FaultyFile*>(f)->wal && failing) {
    ++failed_writes;
    return SQLITE_FULL;
  }
  return real(f)->pMethods->xWrite(real(f), b, n, o);
}
int fTruncate(sqlite3_file* f, sqlite3_int64 s) { return real(f)->pMethods->xTruncate(real(f), s); }
int fSync(sqlite3_file* f, int flags) { return real(f)->pMethods->xSync(real(f), flags); }
int fFileSize(sqlite3_file* f, sqlite3_int64* s) {
  return real(f)->pMethods->xFileSize(real(f), s);
}
int fLock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
int fUnlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
int fCheckReservedLock(sqlite3_file* f, int* r) {
  return real(f)->pMethods->xCheckReservedLock(real(f), r);
}
int fFileControl(sqlite3_file* f, int op, void* a) {
  return real(f)->pMethods->xFileControl(real(f), op, a);
}
int fSectorSize(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int fDeviceCharacteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int fShmMap(sqlite3_file* f, int i, int sz, int e, void volatile** p) {
  return real(f)->pMethods->xShmMap(real(f), i, sz, e, p);
}
int fShmLock(sqlite3_file* f, int o, int n, int fl) {
  return real(f)->pMethods->xShmLock(real(f), o, n, fl);
}
void fShmBarrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int fShmUnmap(sqlite3_file* f, int d) { return real(f)->pMethods->xShmUnmap(real(f), d); }
int fFetch(sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
  return real(f)->pMethods->xFetch(real(f), o, n, p);
}
int fUnfetch(sqlite3_file* f, sqlite3_int64 o, void* p) {
  return real(f)->pMethods->xUnfetch(real(f), o, p);
}

int fOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out) {
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

Event event(const std::string& body) {
  Event e;
  e.received_ms = inlet::util::nowMs();
  e.id = inlet::util::newEventId(e.received_ms);
  e.pipeline = "p";
  e.provider = "test";
  e.headers_json = "{}";
  e.body = body;
  e.data_json = body;
  return e;
}

std::vector<std::string> bodies(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.body);
  return out;
}

}  // namespace

TEST(JournalFaults, AGroupCommitThatCannotBeWrittenFailsAloneAndLeavesNoTrace) {
  FaultyDisk disk;
  TempDir dir;
  inlet::config::JournalConfig config;
  config.path = dir.str("journal.db");
  Journal j(config);
  constexpr int64_t kHour = 3600 * 1000;
  ASSERT_EQ(j.append("p", "a", kHour, {event("{\"n\":1}")}).status, Status::Accepted);
  auto second = j.append("p", "b", kHour, {event("{\"n\":2}")});
  ASSERT_EQ(second.status, Status::Accepted);

  failing = true;
  auto lost = j.append("p", "c", kHour, {event("{\"n\":3}")});
  failing = false;
  EXPECT_GT(failed_writes.load(), 0);
  EXPECT_EQ(lost.status, Status::Failed);
  EXPECT_FALSE(lost.error.empty());

  // The disk is back: the failed attempt holds no claim, the others still do.
  auto retried = j.append("p", "c", kHour, {event("{\"n\":4}")});
  ASSERT_EQ(retried.status, Status::Accepted) << retried.error;
  EXPECT_EQ(j.append("p", "a", kHour, {event("{}")}).status, Status::Duplicate);
  EXPECT_EQ(j.append("p", "c", kHour, {event("{}")}).status, Status::Duplicate);
  EXPECT_GT(retried.last_seq, second.last_seq);

  // The database holds exactly the acknowledged events, and the in-memory tail agrees with it
  // (or declines, leaving the answer to the database).
  Reader reader(j.path());
  auto stored = reader.after(0, {}, 100);
  EXPECT_EQ(bodies(stored), (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "{\"n\":4}"}));
  for (uint64_t after : {uint64_t{0}, second.last_seq}) {
    Journal::Recent recent;
    if (!j.recentAfter(after, {}, 100, recent)) continue;
    std::vector<std::string> from_tail;
    for (const auto* e : recent.events) from_tail.push_back(e->body);
    EXPECT_EQ(from_tail, bodies(reader.after(after, {}, 100))) << "after " << after;
  }
  j.close();

  // And a reopened journal sees the same.
  Journal reopened(config);
  EXPECT_EQ(reopened.append("p", "c", kHour, {event("{}")}).status, Status::Duplicate);
  EXPECT_EQ(bodies(Reader(reopened.path()).after(0, {}, 100)),
            (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "{\"n\":4}"}));
}
