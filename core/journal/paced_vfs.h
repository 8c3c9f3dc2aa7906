// An SQLite VFS for the connections that write in the background: the journal's checkpointer
// and the dedup claims' flushes and merges. It passes everything to the default VFS (the one of
// the moment a file is opened, so that a fault-injecting shim installed by a test applies) and,
// every kPacedStepBytes written to a database or WAL file, starts the kernel writing those bytes
// out and waits for the step before (sync_file_range), so that at most two steps are on their way
// to the disk at any time.
//
// Why: the journal's writer fsyncs its WAL before it answers a group of requests, and a disk
// flush waits for every write queued before it. Without pacing, a background connection leaves
// tens of megabytes dirty in the page cache (a claims merge, a checkpoint) and the fsync that
// follows (its own, or the kernel's writeback) queues them all at once: measured, the writer's
// next commit then took 16 ms, and 90–120 ms after the largest claims merge, instead of 3. Paced,
// the background connection waits for the disk instead of the requests. Durability is unchanged:
// SQLite still syncs where it always does; pacing only starts writes earlier.
#pragma once

#include <cstdint>

namespace inlet::journal {

inline constexpr int64_t kPacedStepBytes = 512 * 1024;

// The registered VFS's name for sqlite3_open_v2 (registered on the first call, not the default
// VFS), or nullptr when it could not be registered: the caller then opens with the default.
const char* pacedVfs();

// How many steps paced connections have taken in this process (their writeback started).
uint64_t pacedSteps();

}  // namespace inlet::journal
