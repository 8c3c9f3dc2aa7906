// The paced VFS (journal/paced_vfs.h): background connections write through it; it must start
// their writes out a step at a time and change nothing else.
#include "journal/paced_vfs.h"

#include <gtest/gtest.h>
#include <inlet/testing/server.h>

#include <random>
#include <string>
#include <vector>

#include "faulty_disk.h"
#include "journal/sqlite.h"

using inlet::journal::Database;
using inlet::journal::kPacedStepBytes;
using inlet::journal::pacedSteps;
using inlet::journal::Statement;
using inlet::journal::Writes;
using inlet::testing::TempDir;

namespace {

// `n` blobs of 64 KiB, different from each other and from run to run of the same seed alike.
std::vector<std::string> blobs(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string b(64 * 1024, '\0');
    for (auto& c : b) c = static_cast<char>(rng());
    out.push_back(std::move(b));
  }
  return out;
}

void insertAll(Database& db, const std::vector<std::string>& data) {
  db.transaction("BEGIN IMMEDIATE", [&] {
    Statement insert(db.get(), "INSERT INTO t(id, b) VALUES(?1, ?2)");
    for (size_t i = 0; i < data.size(); ++i) {
      insert.bind(1, static_cast<int64_t>(i)).bindBlob(2, data[i]);
      insert.step();
      insert.reset();
    }
  });
}

std::vector<std::string> readAll(Database& db) {
  std::vector<std::string> out;
  Statement select(db.get(), "SELECT b FROM t ORDER BY id");
  while (select.step()) out.push_back(select.text(0));
  return out;
}

std::string integrity(Database& db) {
  Statement check(db.get(), "PRAGMA integrity_check");
  return check.step() ? check.text(0) : "";
}

}  // namespace

TEST(PacedVfs, WritesLeaveAStepAtATimeAndReadBackUnchanged) {
  ASSERT_NE(inlet::journal::pacedVfs(), nullptr);
  TempDir dir;
  const std::string path = dir.str("paced.db");
  const auto data = blobs(64, 7);  // 4 MiB
  const uint64_t before = pacedSteps();
  {
    Database paced(path, false, Writes::Paced);
    paced.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA wal_autocheckpoint=0;");
    paced.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)");
    insertAll(paced, data);
    // Never synced (synchronous=OFF): only pacing sent the WAL's 4 MiB on its way, a step of
    // 512 KiB at a time.
    const uint64_t wal_steps = pacedSteps() - before;
    EXPECT_GE(wal_steps, data.size() * data[0].size() / kPacedStepBytes - 1);
    EXPECT_LE(wal_steps, 2 * data.size() * data[0].size() / kPacedStepBytes);

    // Another connection, not paced, sees the same rows through the WAL and the shared memory
    // the paced one wrote.
    Database direct(path, false);
    EXPECT_EQ(readAll(direct), data);

    // A checkpoint through the paced connection writes the database file, paced too.
    const uint64_t at_checkpoint = pacedSteps();
    paced.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    EXPECT_GE(pacedSteps() - at_checkpoint, data.size() * data[0].size() / kPacedStepBytes - 1);
    EXPECT_EQ(integrity(paced), "ok");
  }
  Database reopened(path, false);
  EXPECT_EQ(readAll(reopened), data);
  EXPECT_EQ(integrity(reopened), "ok");
}

TEST(PacedVfs, DirectConnectionsAndSmallWritesAreNotPaced) {
  TempDir dir;
  const uint64_t before = pacedSteps();
  {
    Database direct(dir.str("direct.db"), false);
    direct.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF");
    direct.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)");
    insertAll(direct, blobs(64, 8));
  }
  EXPECT_EQ(pacedSteps(), before);
  {
    // Synced after each commit (synchronous=FULL): what a commit writes is on the disk before
    // the next step could fill, and a sync starts the count over.
    Database paced(dir.str("small.db"), false, Writes::Paced);
    paced.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL");
    paced.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)");
    const auto data = blobs(1, 9);
    for (int i = 0; i < 20; ++i) {
      paced.transaction("BEGIN IMMEDIATE", [&] {
        Statement insert(paced.get(), "INSERT INTO t(b) VALUES(?1)");
        insert.bindBlob(1, data[0]);
        insert.step();
      });
    }
    EXPECT_EQ(pacedSteps(), before);
    // Closing checkpoints the WAL's 1.3 MB into the database file at once: that is paced.
  }
  EXPECT_GE(pacedSteps(), before + 2);
}

TEST(PacedVfs, FilesAreOpenedByTheDefaultVfsOfTheMoment) {
  // Registered first, the way a process opens its journal before anything else...
  ASSERT_NE(inlet::journal::pacedVfs(), nullptr);
  // ...and a shim installed as the default afterwards still sees the paced connections' writes.
  namespace fd = inlet::testing::faulty_disk;
  fd::FaultyDisk disk;
  TempDir dir;
  Database paced(dir.str("faulty.db"), false, Writes::Paced);
  paced.exec("PRAGMA journal_mode=WAL");
  paced.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)");
  fd::failing = true;
  const int failed_before = fd::failed_writes;
  EXPECT_THROW(insertAll(paced, blobs(1, 10)), inlet::journal::SqliteError);
  EXPECT_GT(fd::failed_writes, failed_before);
  fd::failing = false;
  insertAll(paced, blobs(2, 11));
  EXPECT_EQ(readAll(paced).size(), 2u);
}
