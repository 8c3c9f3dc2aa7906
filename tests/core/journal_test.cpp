// The journal: the durable ack point. Group commit, dedup claims in the same transaction,
// cursors, dead letters, readers, clean shutdown and durability across instances.
#include "journal/journal.h"

#include <gtest/gtest.h>
#include <inlet/testing/server.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "faulty_disk.h"
#include "util/ids.h"

using inlet::journal::AppendResult;
using inlet::journal::Event;
using inlet::journal::Journal;
using inlet::journal::Reader;
using inlet::testing::TempDir;
using Status = inlet::journal::AppendResult::Status;

namespace {

constexpr int64_t kHour = 3600 * 1000;

inlet::config::JournalConfig journalConfig(const TempDir& dir,
                                           const std::string& name = "journal.db") {
  inlet::config::JournalConfig c;
  c.path = dir.str(name);
  return c;
}

Event event(const std::string& pipeline, const std::string& body = "{}", int64_t received_ms = 0) {
  Event e;
  e.received_ms = received_ms ? received_ms : inlet::util::nowMs();
  e.id = inlet::util::newEventId(e.received_ms);
  e.pipeline = pipeline;
  e.provider = "test";
  e.event_type = "ping";
  e.headers_json = "{}";
  e.body = body;
  e.data_json = body;
  return e;
}

std::vector<Event> all(const std::string& path) {
  Reader r(path);
  return r.after(0, {}, 1'000'000);
}

// Holds the writer thread inside the commit listener after its first commit, so that the test
// can queue submissions deterministically before they are committed.
class WriterGate {
 public:
  explicit WriterGate(Journal& j) : journal_(j), released_(promise_.get_future().share()) {
    j.setCommitListener([this](uint64_t seq) {
      ++commits_;
      last_seq_ = seq;
      if (first_.exchange(false)) {
        held_ = true;
        released_.wait();
      }
    });
  }
  ~WriterGate() {
    release();
    journal_.setCommitListener(nullptr);
  }
  // Commits one event of pipeline "p" and returns once the writer is held in its listener (which
  // runs before the append's own callback).
  void hold() {
    journal_.appendAsync("p", "", 0, {event("p")}, [](const AppendResult&) {});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!held_ && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(held_) << "the first commit never reached the listener";
  }
  void release() {
    if (!done_.exchange(true)) promise_.set_value();
  }
  int commits() const { return commits_; }
  uint64_t lastSeq() const { return last_seq_; }

 private:
  Journal& journal_;
  std::promise<void> promise_;
  std::shared_future<void> released_;
  std::atomic<bool> first_{true}, done_{false}, held_{false};
  std::atomic<int> commits_{0};
  std::atomic<uint64_t> last_seq_{0};
};

// Waits until `n` submissions are queued (the writer is held by a WriterGate).
void waitPending(Journal& j, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (j.pending() < n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(j.pending(), n);
}

TEST(Journal, AppendReturnsAcceptedWithSeq) {
  TempDir dir;
  Journal j(journalConfig(dir));
  auto e1 = event("p", "{\"n\":1}");
  auto r1 = j.append("p", "", 0, {e1});
  ASSERT_EQ(r1.status, Status::Accepted) << r1.error;
  EXPECT_EQ(r1.event_id, e1.id);
  EXPECT_GE(r1.last_seq, 1u);
  auto r2 = j.append("p", "", 0, {event("p")});
  ASSERT_EQ(r2.status, Status::Accepted);
  EXPECT_GT(r2.last_seq, r1.last_seq);
  EXPECT_EQ(j.maxSeq(), r2.last_seq);
  EXPECT_EQ(j.path(), dir.str("journal.db"));
}

TEST(Journal, FieldsRoundTrip) {
  TempDir dir;
  Journal j(journalConfig(dir, "nested/dir/journal.db"));  // parent folders are created
  Event e = event("p", std::string("raw\0bytes\xff\n", 11), 1234);
  e.data_json = "";  // a raw, non-JSON body
  e.delivery_id = "d-1";
  e.dedup_key = "k";
  e.columns_json = "{\"a\":1}";
  e.headers_json = "{\"x\":\"y\"}";
  e.authenticated = false;
  auto r = j.append("p", "k", kHour, {e});
  ASSERT_EQ(r.status, Status::Accepted) << r.error;
  auto got = all(j.path());
  ASSERT_EQ(got.size(), 1u);
  const Event& g = got[0];
  EXPECT_EQ(g.seq, r.last_seq);
  EXPECT_EQ(g.id, e.id);
  EXPECT_EQ(g.pipeline, "p");
  EXPECT_EQ(g.received_ms, 1234);
  EXPECT_EQ(g.provider, "test");
  EXPECT_EQ(g.event_type, "ping");
  EXPECT_EQ(g.delivery_id, "d-1");
  EXPECT_EQ(g.dedup_key, "k");
  EXPECT_EQ(g.headers_json, "{\"x\":\"y\"}");
  EXPECT_EQ(g.body, std::string("raw\0bytes\xff\n", 11));  // binary-safe
  EXPECT_EQ(g.data_json, "");
  EXPECT_EQ(g.columns_json, "{\"a\":1}");
  EXPECT_FALSE(g.authenticated);
}

TEST(Journal, ConcurrentAppendsFrom32ThreadsAllCommitWithDistinctSeqs) {
  TempDir dir;
  Journal j(journalConfig(dir));
  constexpr int kThreads = 32, kPerThread = 20;
  std::vector<std::vector<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<Event> events;
        for (int k = 0; k <= i % 3; ++k) events.push_back(event("p" + std::to_string(t % 4)));
        results[t].push_back(j.append("p", "", 0, std::move(events)));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> seqs;
  size_t expected_rows = 0;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      ASSERT_EQ(results[t][i].status, Status::Accepted) << results[t][i].error;
      EXPECT_TRUE(seqs.insert(results[t][i].last_seq).second)
          << "seq reused: " << results[t][i].last_seq;
      expected_rows += static_cast<size_t>(i % 3 + 1);
    }
  }
  auto rows = all(j.path());
  EXPECT_EQ(rows.size(), expected_rows);
  std::set<uint64_t> row_seqs;
  std::set<std::string> ids;
  for (const auto& e : rows) {
    row_seqs.insert(e.seq);
    ids.insert(e.id);
  }
  EXPECT_EQ(row_seqs.size(), expected_rows);
  EXPECT_EQ(ids.size(), expected_rows);
}

TEST(Journal, GroupCommitCoversManyAppendsInOneTransaction) {
  TempDir dir;
  Journal j(journalConfig(dir));
  WriterGate gate(j);
  gate.hold();
  constexpr int kThreads = 31;
  std::vector<AppendResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] { results[t] = j.append("p", "", 0, {event("p"), event("p")}); });
  waitPending(j, kThreads);
  gate.release();
  for (auto& t : threads) t.join();
  std::set<uint64_t> seqs;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, Status::Accepted) << r.error;
    EXPECT_TRUE(seqs.insert(r.last_seq).second);
  }
  // One transaction (one fsync) for all 31 queued appends.
  EXPECT_EQ(gate.commits(), 2);
  EXPECT_EQ(gate.lastSeq(), j.maxSeq());
  EXPECT_EQ(all(j.path()).size(), 1u + 2 * kThreads);
}

TEST(Journal, MaxBatchSplitsLargeQueues) {
  TempDir dir;
  auto cfg = journalConfig(dir);
  cfg.max_batch = 4;
  Journal j(cfg);
  WriterGate gate(j);
  gate.hold();
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      if (j.append("p", "", 0, {event("p"), event("p")}).status == Status::Accepted) ++accepted;
    });
  waitPending(j, 8);
  gate.release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 8);
  EXPECT_EQ(gate.commits(), 1 + 4);  // 16 events in batches of at most 4
}

TEST(Journal, SameClaimKeyTwiceIsDuplicate) {
  TempDir dir;
  Journal j(journalConfig(dir));
  auto first = event("p", "{\"v\":1}");
  auto r1 = j.append("p", "delivery-1", kHour, {first});
  ASSERT_EQ(r1.status, Status::Accepted) << r1.error;
  auto r2 = j.append("p", "delivery-1", kHour, {event("p", "{\"v\":2}")});
  EXPECT_EQ(r2.status, Status::Duplicate);
  EXPECT_EQ(r2.event_id, first.id);  // the original event's id
  auto rows = all(j.path());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].body, "{\"v\":1}");

  // Keys are per pipeline; an empty key never deduplicates.
  EXPECT_EQ(j.append("q", "delivery-1", kHour, {event("q")}).status, Status::Accepted);
  EXPECT_EQ(j.append("p", "", kHour, {event("p")}).status, Status::Accepted);
  EXPECT_EQ(j.append("p", "", kHour, {event("p")}).status, Status::Accepted);
  EXPECT_EQ(all(j.path()).size(), 4u);
}

TEST(Journal, SameKeyConcurrentlyExactlyOneAccepted) {
  TempDir dir;
  Journal j(journalConfig(dir));
  constexpr int kThreads = 16;
  std::vector<AppendResult> results(kThreads);
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto e = event("p", "{\"t\":" + std::to_string(t) + "}");
      ids[t] = e.id;
      results[t] = j.append("p", "same-key", kHour, {e});
    });
  }
  for (auto& t : threads) t.join();
  int accepted = 0;
  std::string winner;
  for (int t = 0; t < kThreads; ++t) {
    if (results[t].status == Status::Accepted) {
      ++accepted;
      winner = ids[t];
    }
  }
  ASSERT_EQ(accepted, 1);
  for (const auto& r : results) {
    EXPECT_NE(r.status, Status::Failed) << r.error;
    EXPECT_EQ(r.event_id, winner);
  }
  auto rows = all(j.path());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, winner);
}

TEST(Journal, SameKeyInOneBatch) {
  // Both submissions land in the same transaction: the second sees the first's claim.
  TempDir dir;
  Journal j(journalConfig(dir));
  WriterGate gate(j);
  gate.hold();
  auto a = event("p"), b = event("p");
  AppendResult ra, rb;
  std::thread ta([&] { ra = j.append("p", "k", kHour, {a}); });
  waitPending(j, 1);
  std::thread tb([&] { rb = j.append("p", "k", kHour, {b}); });
  waitPending(j, 2);
  gate.release();
  ta.join();
  tb.join();
  EXPECT_EQ(ra.status, Status::Accepted);
  EXPECT_EQ(rb.status, Status::Duplicate);
  EXPECT_EQ(rb.event_id, a.id);
  EXPECT_EQ(all(j.path()).size(), 2u);
  EXPECT_EQ(gate.commits(), 2);
}

TEST(Journal, WindowExpiry) {
  TempDir dir;
  Journal j(journalConfig(dir));
  auto e1 = event("p");
  ASSERT_EQ(j.append("p", "k", 1, {e1}).status, Status::Accepted);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto e2 = event("p");
  auto r2 = j.append("p", "k", kHour, {e2});
  EXPECT_EQ(r2.status, Status::Accepted) << "an expired claim can be claimed again";
  // The new claim has the new window and points at the new event.
  auto r3 = j.append("p", "k", kHour, {event("p")});
  EXPECT_EQ(r3.status, Status::Duplicate);
  EXPECT_EQ(r3.event_id, e2.id);
  EXPECT_EQ(all(j.path()).size(), 2u);
}

TEST(Journal, EventsOfOneAppendCommitAtomically) {
  TempDir dir;
  Journal j(journalConfig(dir));
  std::vector<Event> events;
  for (int i = 0; i < 5; ++i) events.push_back(event("p", "{\"i\":" + std::to_string(i) + "}"));
  auto first_id = events[0].id;
  auto r = j.append("p", "batch", kHour, events);
  ASSERT_EQ(r.status, Status::Accepted);
  EXPECT_EQ(r.event_id, first_id);
  auto rows = all(j.path());
  ASSERT_EQ(rows.size(), 5u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].seq, r.last_seq - 4 + i);  // contiguous, in order
    EXPECT_EQ(rows[i].body, "{\"i\":" + std::to_string(i) + "}");
  }

  // A failing event (duplicate id) fails the whole append: none of its events, and not its
  // dedup claim, are kept.
  std::vector<Event> bad = {event("p", "{\"bad\":1}"), event("p", "{\"bad\":2}"),
                            event("p", "{\"bad\":3}")};
  bad[2].id = bad[0].id;
  auto rb = j.append("p", "retry-me", kHour, bad);
  EXPECT_EQ(rb.status, Status::Failed);
  EXPECT_FALSE(rb.error.empty());
  EXPECT_EQ(all(j.path()).size(), 5u);
  bad[2].id = inlet::util::newEventId(inlet::util::nowMs());
  auto retry = j.append("p", "retry-me", kHour, bad);
  EXPECT_EQ(retry.status, Status::Accepted) << "the failed attempt must not have kept the claim";
  EXPECT_EQ(all(j.path()).size(), 8u);
}

// A group is written without a savepoint per request; when one of its requests cannot be stored,
// the group is written again request by request, and that request fails alone.
TEST(Journal, ARequestThatCannotBeStoredFailsAloneInItsGroup) {
  TempDir dir;
  Journal j(journalConfig(dir));
  WriterGate gate(j);
  gate.hold();
  std::vector<Event> bad = {event("p", "{\"bad\":1}"), event("p", "{\"bad\":2}")};
  bad[1].id = bad[0].id;  // the second insert fails on the unique id
  const std::vector<std::pair<std::string, std::vector<Event>>> requests = {
      {"k0", {event("p", "{\"r\":0}")}},
      {"k1", {event("p", "{\"r\":1}"), event("p", "{\"r\":1.5}")}},
      {"k2", bad},
      {"k3", {event("p", "{\"r\":3}")}},
      {"k0", {event("p", "{\"r\":4}")}}};  // the same key as the first, in the same group
  std::vector<AppendResult> results(requests.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i)
    threads.emplace_back(
        [&, i] { results[i] = j.append("p", requests[i].first, kHour, requests[i].second); });
  waitPending(j, requests.size());
  gate.release();
  for (auto& t : threads) t.join();

  EXPECT_EQ(gate.commits(), 2) << "one transaction for the whole group, retry included";
  EXPECT_EQ(results[1].status, Status::Accepted) << results[1].error;
  EXPECT_EQ(results[2].status, Status::Failed);
  EXPECT_FALSE(results[2].error.empty());
  EXPECT_EQ(results[3].status, Status::Accepted) << results[3].error;
  // Of the two requests on k0, the one queued first is accepted, the other is its duplicate.
  const bool first_won = results[0].status == Status::Accepted;
  const auto& won = first_won ? results[0] : results[4];
  const auto& dup = first_won ? results[4] : results[0];
  EXPECT_EQ(won.status, Status::Accepted) << won.error;
  EXPECT_EQ(dup.status, Status::Duplicate);
  EXPECT_EQ(dup.event_id, won.event_id);

  auto rows = all(j.path());
  ASSERT_EQ(rows.size(), 1u + 1 + 2 + 1);  // the gate's, k0's, k1's two, k3's
  std::set<std::string> bodies;
  for (const auto& r : rows) bodies.insert(r.body);
  EXPECT_FALSE(bodies.count("{\"bad\":1}")) << "nothing of the failed request is kept";
  EXPECT_TRUE(bodies.count("{\"r\":1.5}"));
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i].seq, rows[i - 1].seq + 1);

  // The failed request kept no claim; the others' claims hold.
  bad[1].id = inlet::util::newEventId(inlet::util::nowMs());
  EXPECT_EQ(j.append("p", "k2", kHour, bad).status, Status::Accepted);
  EXPECT_EQ(j.append("p", "k1", kHour, {event("p")}).status, Status::Duplicate);
  EXPECT_EQ(j.append("p", "k0", kHour, {event("p")}).event_id, won.event_id);
}

TEST(Journal, EmptyAppend) {
  TempDir dir;
  Journal j(journalConfig(dir));
  auto r = j.append("p", "k", kHour, {});
  EXPECT_EQ(r.status, Status::Accepted);
  EXPECT_EQ(r.last_seq, 0u);
  EXPECT_TRUE(all(j.path()).empty());
}

TEST(Journal, CursorNeverMovesBackwards) {
  TempDir dir;
  Journal j(journalConfig(dir));
  EXPECT_EQ(j.cursor("s"), 0u);
  j.setCursor("s", 10);
  EXPECT_EQ(j.cursor("s"), 10u);
  j.setCursor("s", 5);
  EXPECT_EQ(j.cursor("s"), 10u);
  j.setCursor("s", 10);
  EXPECT_EQ(j.cursor("s"), 10u);
  j.setCursor("s", 25);
  EXPECT_EQ(j.cursor("s"), 25u);
  EXPECT_EQ(j.cursor("other"), 0u);  // per sink
  j.setCursor("other", 3);
  EXPECT_EQ(j.cursor("other"), 3u);
  EXPECT_EQ(j.cursor("s"), 25u);
}

TEST(Journal, DeadLetters) {
  TempDir dir;
  Journal j(journalConfig(dir));
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 3; ++i) seqs.push_back(j.append("p", "", 0, {event("p")}).last_seq);
  int64_t before = inlet::util::nowMs();
  j.deadLetter("s", {seqs[0], seqs[2]}, 5, "connection refused");
  Reader reader(j.path());
  auto dl = reader.deadLetters("s");
  ASSERT_EQ(dl.size(), 2u);
  EXPECT_EQ(dl[0].sink, "s");
  EXPECT_EQ(dl[0].seq, seqs[0]);
  EXPECT_EQ(dl[1].seq, seqs[2]);
  EXPECT_EQ(dl[0].attempts, 5);
  EXPECT_EQ(dl[0].error, "connection refused");
  EXPECT_GE(dl[0].failed_at, before);
  EXPECT_LE(dl[0].failed_at, inlet::util::nowMs());
  EXPECT_TRUE(reader.deadLetters("other").empty());

  // Dead-lettering again updates the entry instead of duplicating it.
  j.deadLetter("s", {seqs[0]}, 9, "still refused");
  dl = reader.deadLetters("s");
  ASSERT_EQ(dl.size(), 2u);
  EXPECT_EQ(dl[0].attempts, 9);
  EXPECT_EQ(dl[0].error, "still refused");

  // Per sink.
  j.deadLetter("t", {seqs[1]}, 1, "x");
  EXPECT_EQ(reader.deadLetters("t").size(), 1u);
  EXPECT_EQ(reader.deadLetters("s").size(), 2u);

  inlet::journal::removeDeadLetters(j.path(), "s", {seqs[0], 999999});
  dl = reader.deadLetters("s");
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0].seq, seqs[2]);
  EXPECT_EQ(reader.deadLetters("t").size(), 1u);
}

TEST(Reader, AfterFiltersByPipelineAndOrdersBySeq) {
  TempDir dir;
  Journal j(journalConfig(dir));
  std::vector<uint64_t> a_seqs, b_seqs;
  for (int i = 0; i < 6; ++i) {
    const char* p = i % 3 == 0 ? "b" : (i % 3 == 1 ? "a" : "c");
    auto r = j.append(p, "", 0, {event(p, "{\"i\":" + std::to_string(i) + "}")});
    ASSERT_EQ(r.status, Status::Accepted);
    if (std::string(p) == "a") a_seqs.push_back(r.last_seq);
    if (std::string(p) == "b") b_seqs.push_back(r.last_seq);
  }
  Reader reader(j.path());
  auto a = reader.after(0, {"a"}, 100);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].seq, a_seqs[0]);
  EXPECT_EQ(a[1].seq, a_seqs[1]);
  for (const auto& e : a) EXPECT_EQ(e.pipeline, "a");

  auto ab = reader.after(0, {"a", "b"}, 100);
  ASSERT_EQ(ab.size(), 4u);
  for (size_t i = 1; i < ab.size(); ++i) EXPECT_LT(ab[i - 1].seq, ab[i].seq);
  for (const auto& e : ab) EXPECT_NE(e.pipeline, "c");

  auto later = reader.after(a_seqs[0], {"a"}, 100);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].seq, a_seqs[1]);

  auto everything = reader.after(0, {}, 100);
  EXPECT_EQ(everything.size(), 6u);
  auto limited = reader.after(0, {}, 4);
  ASSERT_EQ(limited.size(), 4u);
  EXPECT_EQ(limited.back().seq, everything[3].seq);
  EXPECT_TRUE(reader.after(everything.back().seq, {}, 100).empty());
  EXPECT_TRUE(reader.after(0, {"nope"}, 100).empty());
}

TEST(Reader, SeesCommitsOfALiveJournal) {
  TempDir dir;
  Journal j(journalConfig(dir));
  j.append("p", "", 0, {event("p")});
  Reader reader(j.path());
  EXPECT_EQ(reader.after(0, {}, 10).size(), 1u);
  j.append("p", "", 0, {event("p")});
  EXPECT_EQ(reader.after(0, {}, 10).size(), 2u);  // WAL: the reader sees the new commit
}

TEST(Reader, Select) {
  TempDir dir;
  Journal j(journalConfig(dir));
  std::vector<Event> events = {event("a", "{}", 1000), event("b", "{}", 2000),
                               event("a", "{}", 3000), event("a", "{}", 4000)};
  std::vector<uint64_t> seqs;
  for (const auto& e : events) seqs.push_back(j.append(e.pipeline, "", 0, {e}).last_seq);
  Reader reader(j.path());
  using F = Reader::Filter;

  F by_id;
  by_id.id = events[2].id;
  auto r = reader.select(by_id, 100);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, seqs[2]);

  F by_pipeline;
  by_pipeline.pipeline = "a";
  r = reader.select(by_pipeline, 100);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].seq, seqs[0]);
  EXPECT_EQ(r[2].seq, seqs[3]);

  F range;  // [since, until)
  range.since_ms = 2000;
  range.until_ms = 4000;
  r = reader.select(range, 100);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].received_ms, 2000);
  EXPECT_EQ(r[1].received_ms, 3000);

  F combined = range;
  combined.pipeline = "a";
  r = reader.select(combined, 100);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, seqs[2]);

  j.deadLetter("s", {seqs[1], seqs[3]}, 3, "boom");
  F dead;
  dead.dead_letters_of = "s";
  r = reader.select(dead, 100);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].seq, seqs[1]);
  EXPECT_EQ(r[1].seq, seqs[3]);
  dead.dead_letters_of = "other";
  EXPECT_TRUE(reader.select(dead, 100).empty());

  F after;
  after.after_seq = seqs[1];
  r = reader.select(after, 100);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].seq, seqs[2]);

  EXPECT_EQ(reader.select(F{}, 100).size(), 4u);
  EXPECT_EQ(reader.select(F{}, 1).size(), 1u);
  F unknown;
  unknown.id = "no-such-id";
  EXPECT_TRUE(reader.select(unknown, 100).empty());
}

TEST(Journal, CloseCommitsPendingAppends) {
  TempDir dir;
  Journal j(journalConfig(dir));
  WriterGate gate(j);
  gate.hold();
  constexpr int kThreads = 12;
  std::vector<AppendResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(
        [&, t] { results[t] = j.append("p", "k" + std::to_string(t), kHour, {event("p")}); });
  waitPending(j, kThreads);
  std::thread closer([&] { j.close(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // close() is now waiting
  gate.release();
  closer.join();
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(results[t].status, Status::Accepted) << t << ": " << results[t].error;
  EXPECT_EQ(all(dir.str("journal.db")).size(), 1u + kThreads);

  // After close, appends are refused (never silently dropped) and close is idempotent.
  auto late = j.append("p", "", 0, {event("p")});
  EXPECT_EQ(late.status, Status::Failed);
  EXPECT_NE(late.error.find("closing"), std::string::npos) << late.error;
  j.close();
}

// The retention sweep runs every minute: it must reach old rows through the index on
// received_at, not walk the whole table by seq.
TEST(Journal, TheRetentionSweepReadsOnlyRowsPastRetention) {
  TempDir dir;
  { Journal j(journalConfig(dir)); }  // the schema
  inlet::config::JournalTable served;
  served.table = "github_events";
  served.pipeline = "github";
  for (const auto& tables : {std::vector<inlet::config::JournalTable>{},
                             std::vector<inlet::config::JournalTable>{served}}) {
    inlet::journal::Database db(dir.str("journal.db"), true);
    const std::string plan_sql =
        "EXPLAIN QUERY PLAN " + inlet::journal::RetentionSweep(tables).fullSql();
    inlet::journal::Statement st(db.get(), plan_sql.c_str());
    std::string plan;
    while (st.step()) plan += st.text(3) + "\n";
    EXPECT_NE(plan.find("events USING INDEX events_received (received_at<?)"), std::string::npos)
        << plan;
  }
}

// The rows a sweep keeps (a served table's rows above all, kept for ever) are not read again by
// the next sweep; only a daily full sweep reads them.
TEST(Journal, TheRetentionSweepReadsOnlyWhatChangedSinceTheSweepBefore) {
  TempDir dir;
  auto cfg = journalConfig(dir);
  inlet::config::JournalTable served;
  served.table = "kept_events";
  served.pipeline = "kept";
  cfg.tables = {served};
  const int64_t now = inlet::util::nowMs();
  const int64_t old = now - 2 * kHour;
  std::vector<uint64_t> gone;  // seqs of old events of a pipeline no table serves
  uint64_t recent = 0;
  {
    Journal j(cfg);
    std::vector<Event> kept;
    for (int i = 0; i < 3000; ++i) kept.push_back(event("kept", "{}", old));
    ASSERT_EQ(j.append("kept", "", 0, std::move(kept)).status, Status::Accepted);
    for (int i = 0; i < 6; ++i)
      gone.push_back(j.append("gone", "", 0, {event("gone", "{}", old)}).last_seq);
    recent = j.append("gone", "", 0, {event("gone", "{}", now)}).last_seq;
    j.deadLetter("s", {gone[1]}, 3, "refused");
  }
  inlet::journal::Database db(dir.str("journal.db"), false);
  auto count = [&](const std::string& pipeline) {
    inlet::journal::Statement st(
        db.get(), ("SELECT count(*) FROM events WHERE pipeline = '" + pipeline + "'").c_str());
    st.step();
    return st.integer(0);
  };
  inlet::journal::RetentionSweep sweep(cfg.tables);
  const int64_t line = now - kHour;

  // The first sweep reads every event before the line; the sinks have delivered gone[0..3].
  EXPECT_EQ(sweep.run(db, line, gone[3], now), 3);  // gone[1] is a dead letter
  EXPECT_GT(sweep.lastSteps(), 3000) << "a full sweep reads every event before the line";
  EXPECT_EQ(count("gone"), 4);
  // The same sweep a minute later: nothing changed, and it reads next to nothing.
  EXPECT_EQ(sweep.run(db, line + 60'000, gone[3], now + 60'000), 0);
  EXPECT_LT(sweep.lastSteps(), 300) << "reads more than what changed";
  // The sinks delivered everything since: the two old events left behind go, still without
  // reading the kept rows again (a few VM steps per row read: the kept rows alone would be
  // thousands).
  EXPECT_EQ(sweep.run(db, line + 120'000, recent, now + 120'000), 2);
  EXPECT_LT(sweep.lastSteps(), 300) << "reads more than what changed";
  // The recent event crosses the line.
  EXPECT_EQ(sweep.run(db, now + 1, recent, now + 180'000), 1);
  EXPECT_LT(sweep.lastSteps(), 300) << "reads more than what changed";
  EXPECT_EQ(count("gone"), 1);  // the dead letter
  // A replay removed the dead letter: the incremental sweep does not see it, the daily one does.
  db.exec("DELETE FROM dead_letters");
  EXPECT_EQ(sweep.run(db, now + 2, recent, now + 240'000), 0);
  EXPECT_EQ(sweep.run(db, now + 3, recent, now + inlet::journal::RetentionSweep::kFullSweepEveryMs),
            1);
  EXPECT_GT(sweep.lastSteps(), 3000) << "a full sweep reads every event before the line";
  EXPECT_EQ(count("gone"), 0);
  EXPECT_EQ(count("kept"), 3000);  // a served table's rows are never pruned
}

TEST(Journal, ReopenKeepsEverything) {
  TempDir dir;
  std::vector<Event> written;
  uint64_t last = 0;
  std::string claimed_id;
  {
    Journal j(journalConfig(dir));
    for (int i = 0; i < 10; ++i) {
      auto e = event(i % 2 ? "a" : "b", "{\"i\":" + std::to_string(i) + "}");
      auto r = j.append(e.pipeline, "key-" + std::to_string(i), kHour, {e});
      ASSERT_EQ(r.status, Status::Accepted);
      last = r.last_seq;
      written.push_back(e);
      if (i == 3) claimed_id = e.id;
    }
    j.setCursor("s", 7);
    j.deadLetter("s", {2}, 4, "gone");
  }  // destructor closes
  {
    Journal j(journalConfig(dir));
    EXPECT_EQ(j.maxSeq(), last);
    EXPECT_EQ(j.cursor("s"), 7u);
    auto rows = all(j.path());
    ASSERT_EQ(rows.size(), written.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].id, written[i].id);
      EXPECT_EQ(rows[i].body, written[i].body);
      EXPECT_EQ(rows[i].pipeline, written[i].pipeline);
    }
    Reader reader(j.path());
    ASSERT_EQ(reader.deadLetters("s").size(), 1u);
    EXPECT_EQ(reader.deadLetters("s")[0].error, "gone");
    // Dedup claims survive too.
    auto dup = j.append("a", "key-3", kHour, {event("a")});
    EXPECT_EQ(dup.status, Status::Duplicate);
    EXPECT_EQ(dup.event_id, claimed_id);
    // New events continue the sequence.
    auto r = j.append("a", "", 0, {event("a")});
    ASSERT_EQ(r.status, Status::Accepted);
    EXPECT_GT(r.last_seq, last);
    j.close();
  }
}

int64_t count(const std::string& db_path, const std::string& sql) {
  inlet::journal::Database db(db_path, false);
  inlet::journal::Statement st(db.get(), sql.c_str());
  return st.step() ? st.integer(0) : -1;
}

std::string claimsDb(const Journal& j) { return inlet::journal::Claims::pathFor(j.path()); }

// Appends `n` claims "key-<i>" (each with one event) as one burst; returns the event ids.
std::vector<std::string> claimBurst(Journal& j, int from, int n, int64_t window_ms = kHour) {
  std::vector<std::string> ids(n);
  std::vector<std::promise<AppendResult>> done(n);
  for (int i = 0; i < n; ++i) {
    auto e = event("p");
    ids[i] = e.id;
    j.appendAsync("p", "key-" + std::to_string(from + i), window_ms, {e},
                  [&done, i](const AppendResult& r) { done[i].set_value(r); });
  }
  for (int i = 0; i < n; ++i) {
    auto r = done[i].get_future().get();
    EXPECT_EQ(r.status, Status::Accepted) << "key-" << from + i << ": " << r.error;
  }
  return ids;
}

// Holds the write lock of `j`'s claims database (the flusher cannot write until it is reset).
std::unique_ptr<inlet::journal::Database> lockClaimsDb(const Journal& j) {
  auto blocker = std::make_unique<inlet::journal::Database>(claimsDb(j), false);
  sqlite3_busy_timeout(blocker->get(), 0);
  blocker->exec("BEGIN IMMEDIATE");
  return blocker;
}

// Waits (up to `deadline`) until a claims flush has failed.
void waitForAFailedFlush(const Journal& j, std::chrono::steady_clock::time_point deadline) {
  while (j.claimFlushFailures() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// Each key "key-<from+i>" must be a duplicate of ids[i].
void expectClaimed(Journal& j, int from, const std::vector<std::string>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = j.append("p", "key-" + std::to_string(from + i), kHour, {event("p")});
    ASSERT_EQ(r.status, Status::Duplicate) << "key-" << from + i;
    ASSERT_EQ(r.event_id, ids[i]) << "key-" << from + i;
  }
}

TEST(Journal, ClaimsAreFoundInMemoryInTheClaimsDatabaseAndAfterARestart) {
  TempDir dir;
  std::vector<std::string> flushed, recent;
  {
    Journal j(journalConfig(dir));
    flushed = claimBurst(j, 0, 50);
    EXPECT_EQ(j.claimsInMemory(), 50u);
    j.flushClaims();  // key-0..49 move to the claims database
    EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims"), 50);
    recent = claimBurst(j, 50, 30);  // the writer forgets the flushed ones on its next commit
    EXPECT_EQ(j.claimsInMemory(), 30u);
    EXPECT_EQ(count(j.path(), "SELECT count(*) FROM claim_log"), 30);
    expectClaimed(j, 0, flushed);
    expectClaimed(j, 50, recent);
    EXPECT_EQ(all(j.path()).size(), 80u);
  }
  // Restart: the flushed claims come from the claims database, the others from claim_log.
  Journal j(journalConfig(dir));
  EXPECT_EQ(j.claimsInMemory(), 30u);
  expectClaimed(j, 0, flushed);
  expectClaimed(j, 50, recent);
  EXPECT_EQ(j.append("p", "key-80", kHour, {event("p")}).status, Status::Accepted);
  EXPECT_EQ(all(j.path()).size(), 81u);
}

TEST(Journal, ClaimsMoveToTheClaimsDatabaseInTheBackgroundOnceEnoughGather) {
  TempDir dir;
  auto config = journalConfig(dir);
  config.claims_flush_at = 500;
  Journal j(config);
  auto ids = claimBurst(j, 0, 1200);
  // The flusher runs on its own thread; the writer applies what it moved on a later commit.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (j.claimsInMemory() >= 500 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(j.append("p", "", 0, {event("p")}).status, Status::Accepted);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(j.claimsInMemory(), 500u);
  EXPECT_GE(count(claimsDb(j), "SELECT count(*) FROM claims"), 500);
  // Every claim is in exactly one place once the writer has deleted the moved claim_log rows
  // (a slice per commit).
  auto total = [&] {
    return count(claimsDb(j), "SELECT count(*) FROM claims") +
           count(j.path(), "SELECT count(*) FROM claim_log");
  };
  while (total() != 1200 && std::chrono::steady_clock::now() < deadline)
    ASSERT_EQ(j.append("p", "", 0, {event("p")}).status, Status::Accepted);
  EXPECT_EQ(total(), 1200);
  expectClaimed(j, 0, ids);
}

TEST(Journal, AnExpiredClaimInTheClaimsDatabaseCanBeClaimedAgain) {
  TempDir dir;
  Journal j(journalConfig(dir));
  auto first = claimBurst(j, 0, 1, 300);
  j.flushClaims();
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims"), 1);
  auto r = j.append("p", "key-0", kHour, {event("p")});
  EXPECT_EQ(r.status, Status::Duplicate);
  EXPECT_EQ(r.event_id, first[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  auto again = claimBurst(j, 0, 1);  // the window has passed
  j.flushClaims();                   // the new claim replaces the old row
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims"), 1);
  claimBurst(j, 1, 1);  // a commit: the writer forgets key-0
  EXPECT_EQ(j.claimsInMemory(), 1u);
  expectClaimed(j, 0, again);
  // A claim that expired before the flush is not moved at all.
  claimBurst(j, 2, 1, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  j.flushClaims();
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims WHERE key = 'key-2'"), 0);
  EXPECT_EQ(j.append("p", "key-2", kHour, {event("p")}).status, Status::Accepted);
}

// The columns of a table of claims, in every layout.
const std::string kClaimColumns =
    "(pipeline TEXT NOT NULL, key TEXT NOT NULL, event_id TEXT NOT NULL, expires_at INTEGER NOT "
    "NULL, PRIMARY KEY(pipeline, key)) WITHOUT ROWID";

// A table of claims as an older layout kept them: 'live' (held by evt_live) and 'expired'.
void writeOldClaims(const std::string& db_path, const std::string& table, int64_t now) {
  inlet::journal::Database db(db_path, false);
  db.exec(("CREATE TABLE " + table + kClaimColumns + "; INSERT INTO " + table +
           " VALUES('p', 'live', 'evt_live', " + std::to_string(now + kHour) +
           "), ('p', 'expired', 'evt_old', " + std::to_string(now - 1) + ")")
              .c_str());
}

// ...and what a journal that adopted them answers.
void expectOldClaimsKept(Journal& j) {
  auto r = j.append("p", "live", kHour, {event("p")});
  EXPECT_EQ(r.status, Status::Duplicate);
  EXPECT_EQ(r.event_id, "evt_live");
  EXPECT_EQ(j.append("p", "expired", kHour, {event("p")}).status, Status::Accepted);
}

// A journal whose claims segments merge four at a time (eight by default).
inlet::config::JournalConfig mergeFourConfig(const TempDir& dir) {
  auto config = journalConfig(dir);
  config.claims_merge_fan_in = 4;
  return config;
}

// claimBurst(), then one flush: the burst's claims become one segment, and the merges due run.
std::vector<std::string> segmentOfBurst(Journal& j, int from, int n, int64_t window_ms = kHour) {
  auto ids = claimBurst(j, from, n, window_ms);
  j.flushClaims();
  return ids;
}

// The claims database's segments: how many, and how many tables hold them.
int64_t segments(const Journal& j) { return count(claimsDb(j), "SELECT count(*) FROM segments"); }
int64_t segmentTables(const Journal& j) {
  return count(claimsDb(j),
               "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 'claims_*'");
}

TEST(Journal, ClaimSegmentsOfOneLevelAreMergedAndEveryClaimIsStillFound) {
  // Flushes of 10 claims, merged four at a time: four of level 0 (under 40 claims) make one of
  // level 1, four of level 1 one of level 2 (160 claims and more). Each merge goes a chunk of 10
  // claims per transaction.
  TempDir dir;
  auto config = mergeFourConfig(dir);
  config.claims_flush_at = 10;
  std::vector<std::string> ids;
  {
    Journal j(config);
    const std::vector<int64_t> expected = {1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, 1};
    for (int b = 0; b < 16; ++b) {
      auto burst = segmentOfBurst(j, b * 10, 10);
      ids.insert(ids.end(), burst.begin(), burst.end());
      ASSERT_EQ(segments(j), expected[b]) << "after burst " << b;
      ASSERT_EQ(segmentTables(j), expected[b]) << "after burst " << b;
    }
    EXPECT_EQ(j.claimMerges(), 5u);  // at bursts 3, 7, 11, and two at 15
    EXPECT_EQ(j.claimMergeFailures(), 0u);
    EXPECT_EQ(count(claimsDb(j), "SELECT level FROM segments"), 2);
    EXPECT_EQ(count(claimsDb(j), "SELECT claims FROM segments"), 160);
    EXPECT_EQ(count(claimsDb(j), "SELECT count(DISTINCT key) FROM claims"), 160);
    claimBurst(j, 1000, 1);  // a commit: the writer forgets the flushed claims
    expectClaimed(j, 0, ids);
  }
  Journal j(config);
  expectClaimed(j, 0, ids);
  EXPECT_EQ(j.append("p", "key-160", kHour, {event("p")}).status, Status::Accepted);
}

TEST(Journal, AMergeKeepsTheLiveClaimOfAKeyClaimedAgainAndLeavesExpiredOnesOut) {
  TempDir dir;
  Journal j(mergeFourConfig(dir));
  claimBurst(j, 0, 1, 300);  // key-0, for 300 ms
  segmentOfBurst(j, 1, 1);   // key-1 keeps the first segment alive
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  auto again = segmentOfBurst(j, 0, 1);  // the window has passed: key-0 is claimed anew
  EXPECT_EQ(segments(j), 2);
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims WHERE key = 'key-0'"), 2);
  segmentOfBurst(j, 2, 1);
  segmentOfBurst(j, 3, 1);  // the fourth segment: all four are merged
  EXPECT_EQ(segments(j), 1);
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims"), 4);
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims WHERE key = 'key-0'"), 1);
  claimBurst(j, 4, 1);  // a commit: the writer forgets the flushed claims
  expectClaimed(j, 0, again);
}

TEST(Journal, AMergeOfTwoLiveClaimsOnOneKeyKeepsTheOneThatLastsLonger) {
  // Not made by the journal itself (a key is claimed only when no live claim holds it), but a
  // clock set back between two claims could leave two.
  TempDir dir;
  Journal j(mergeFourConfig(dir));
  segmentOfBurst(j, 0, 1);  // key-0, for an hour
  {
    inlet::journal::Database db(claimsDb(j), false);
    const std::string later = std::to_string(inlet::util::nowMs() + 2 * kHour);
    db.exec(("INSERT INTO segments(id, level, claims, max_expires) VALUES(50, 0, 1, " + later +
             "); CREATE TABLE claims_50" + kClaimColumns +
             "; INSERT INTO claims_50 VALUES('p', 'key-0', 'evt_later', " + later + ")")
                .c_str());
  }
  segmentOfBurst(j, 1, 1);
  segmentOfBurst(j, 2, 1);  // the fourth segment: all four are merged
  EXPECT_EQ(segments(j), 1);
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims WHERE key = 'key-0'"), 1);
  claimBurst(j, 3, 1);  // a commit: the writer forgets the flushed claims
  auto r = j.append("p", "key-0", kHour, {event("p")});
  EXPECT_EQ(r.status, Status::Duplicate);
  EXPECT_EQ(r.event_id, "evt_later");
}

TEST(Journal, AMergeThatACrashInterruptedIsDroppedAndItsSourcesServe) {
  TempDir dir;
  std::vector<std::string> ids;
  std::string claims_path;
  {
    Journal j(journalConfig(dir));
    claims_path = claimsDb(j);
    ids = claimBurst(j, 0, 5);
    j.flushClaims();
  }
  // What a merge leaves until it swaps its segment in: one marked `building`.
  auto abandonedMerge = [&](int id, const std::string& key) {
    inlet::journal::Database db(claims_path, false);
    const std::string table = "claims_" + std::to_string(id);
    db.exec(("INSERT INTO segments(id, level, claims, max_expires, building) VALUES(" +
             std::to_string(id) + ", 1, 1, 9e15, 1); CREATE TABLE " + table + kClaimColumns +
             "; INSERT INTO " + table + " VALUES('p', '" + key + "', 'evt_ghost', 9e15)")
                .c_str());
  };
  abandonedMerge(99, "ghost");
  Journal j(journalConfig(dir));  // a start drops it
  EXPECT_EQ(segments(j), 1);
  EXPECT_EQ(segmentTables(j), 1);
  EXPECT_EQ(j.append("p", "ghost", kHour, {event("p")}).status, Status::Accepted);
  expectClaimed(j, 0, ids);
  // So does the next compaction (after a merge that failed, the server still running).
  abandonedMerge(199, "ghost-2");
  j.flushClaims();
  EXPECT_EQ(segmentTables(j), segments(j));
  EXPECT_EQ(count(claims_path, "SELECT count(*) FROM segments WHERE building = 1"), 0);
  EXPECT_EQ(j.append("p", "ghost-2", kHour, {event("p")}).status, Status::Accepted);
  expectClaimed(j, 0, ids);
}

TEST(Journal, AClaimsDatabaseOfOneTableBecomesASegment) {
  TempDir dir;
  const int64_t now = inlet::util::nowMs();
  std::string claims_path;
  {
    Journal j(journalConfig(dir));
    claims_path = claimsDb(j);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(claims_path + suffix);
  writeOldClaims(claims_path, "claims", now);  // the layout before segments
  inlet::journal::Database(claims_path, false)
      .exec("CREATE INDEX claims_expires ON claims(expires_at)");
  Journal j(journalConfig(dir));
  EXPECT_EQ(segments(j), 1);
  EXPECT_EQ(count(claims_path,
                  "SELECT count(*) FROM sqlite_master WHERE name = 'claims' AND "
                  "type = 'view'"),
            1);
  expectOldClaimsKept(j);
}

// A delivery id as GitHub sends it: a UUID in lower-case text.
std::string uuidKey(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-0d5c-11ee-8f3a-%012x",
                static_cast<unsigned>(i) * 2654435761u, static_cast<unsigned>(i));
  return buf;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(Journal, ClaimSegmentsWrittenWithIdsAsTextArePackedOnceAndStillFound) {
  TempDir dir;
  const int64_t now = inlet::util::nowMs();
  const std::string until = std::to_string(now + kHour);
  const std::string key = uuidKey(1), event_id = inlet::util::newEventId(now);
  std::string claims_path;
  {
    Journal j(journalConfig(dir));
    claims_path = claimsDb(j);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(claims_path + suffix);
  {
    // The layout before ids were packed: no `packed_ids` mark, every id as text.
    inlet::journal::Database db(claims_path, false);
    db.exec(("CREATE TABLE segments(id INTEGER PRIMARY KEY AUTOINCREMENT, level INTEGER NOT NULL, "
             "claims INTEGER NOT NULL, max_expires INTEGER NOT NULL, building INTEGER NOT NULL "
             "DEFAULT 0); CREATE TABLE state(name TEXT PRIMARY KEY, value INTEGER NOT NULL); "
             "INSERT INTO segments VALUES(1, 0, 2, " +
             until + ", 0); CREATE TABLE claims_1" + kClaimColumns +
             "; INSERT INTO claims_1 VALUES('p', '" + key + "', '" + event_id + "', " + until +
             "), ('p', 'live', 'evt_live', " + until + ")")
                .c_str());
  }
  {
    Journal j(journalConfig(dir));
    EXPECT_EQ(segments(j), 1);
    EXPECT_EQ(segmentTables(j), 1);
    EXPECT_EQ(count(claims_path, "SELECT value FROM state WHERE name = 'packed_ids'"), 1);
    EXPECT_EQ(count(claims_path,
                    "SELECT count(*) FROM claims WHERE typeof(key) = 'blob' AND "
                    "length(key) = 16 AND typeof(event_id) = 'blob'"),
              1);
    EXPECT_EQ(count(claims_path, "SELECT claims FROM segments"), 2);
  }
  Journal j(journalConfig(dir));  // packed once: a second start leaves them
  EXPECT_EQ(segments(j), 1);
  auto r = j.append("p", key, kHour, {event("p")});
  EXPECT_EQ(r.status, Status::Duplicate);
  EXPECT_EQ(r.event_id, event_id);
  expectOldClaimsKept(j);
}

TEST(Journal, ClaimsFromAnOlderJournalLayoutAreKept) {
  TempDir dir;
  int64_t now = inlet::util::nowMs();
  std::string path;
  {
    Journal j(journalConfig(dir));
    path = j.path();
  }
  // The layout before the claims database: claims in the journal's `dedup` table.
  writeOldClaims(path, "dedup", now);
  Journal j(journalConfig(dir));
  EXPECT_EQ(count(path, "SELECT count(*) FROM sqlite_master WHERE name = 'dedup'"), 0);
  expectOldClaimsKept(j);
}

TEST(Journal, AClaimsDatabaseLeftByAnotherJournalDoesNotHideNewClaims) {
  TempDir dir;
  std::string path;
  {
    Journal j(journalConfig(dir));
    path = j.path();
    claimBurst(j, 0, 20);
    j.flushClaims();  // its mark: seq 20
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::vector<std::string> ids;
  {
    Journal j(journalConfig(dir));  // a new journal: seqs start at 1 again
    ids = claimBurst(j, 100, 5);
  }
  Journal j(journalConfig(dir));
  EXPECT_EQ(j.claimsInMemory(), 5u);
  expectClaimed(j, 100, ids);
  j.flushClaims();
  claimBurst(j, 200, 1);
  expectClaimed(j, 100, ids);
}

TEST(Journal, AClaimsDatabaseThatCannotBeOpenedStopsTheJournalFromOpening) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "journal-claims.db");  // not a file
  try {
    Journal j(journalConfig(dir));
    FAIL() << "the journal opened without its claims database";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("journal-claims.db"), std::string::npos) << e.what();
  }
}

TEST(Journal, AFailedClaimsFlushKeepsTheClaimsAndIsRetried) {
  TempDir dir;
  auto config = journalConfig(dir);
  config.claims_flush_at = 10;
  Journal j(config);
  auto blocker = lockClaimsDb(j);
  auto ids = claimBurst(j, 0, 20);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  waitForAFailedFlush(j, deadline);
  ASSERT_GE(j.claimFlushFailures(), 1u);
  EXPECT_EQ(j.claimsInMemory(), 20u);
  expectClaimed(j, 0, ids);  // still answered from memory
  blocker->exec("ROLLBACK");
  blocker.reset();
  // A retry follows within seconds (not the 60 s interval); the writer then drops the claims.
  while (j.claimsInMemory() > 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(j.append("p", "", 0, {event("p")}).status, Status::Accepted);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(j.claimsInMemory(), 0u);
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims"), 20);
  expectClaimed(j, 0, ids);
}

TEST(Journal, ClaimsGatheredWhileFlushesFailAreMovedABatchAtATimeOnceTheyWork) {
  // A flush moves at most twice `claims_flush_at` claims, so that a backlog (here 100 claims,
  // gathered while the claims database was locked) never goes through memory at once; the
  // batches follow one another without waiting for more commits or the flush interval.
  TempDir dir;
  auto config = journalConfig(dir);
  config.claims_flush_at = 10;  // batches of 20
  Journal j(config);
  auto blocker = lockClaimsDb(j);
  auto ids = claimBurst(j, 0, 100);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  waitForAFailedFlush(j, deadline);
  ASSERT_GE(j.claimFlushFailures(), 1u);
  const uint64_t before = j.claimFlushes();
  blocker->exec("ROLLBACK");
  blocker.reset();
  // No append from here on: only the flusher itself can go on to the next batch.
  while (count(claimsDb(j), "SELECT count(*) FROM claims") < 100 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims"), 100);
  EXPECT_GE(j.claimFlushes() - before, 5u) << "100 claims in batches of at most 20";
  expectClaimed(j, 0, ids);
}

TEST(Journal, AClaimsFlushWaitingForItsDatabaseLeavesTheJournalsWalToCheckpoints) {
  // The flush copies the claims out of the journal, then writes the claims database. While it
  // waits for that database (here: locked by another connection), it must hold no read
  // transaction on the journal: one would keep checkpoints from copying the frames committed
  // since, and the WAL would grow instead of starting over.
  TempDir dir;
  auto config = journalConfig(dir);
  config.claims_flush_at = 10;
  Journal j(config);
  auto blocker = lockClaimsDb(j);
  auto ids = claimBurst(j, 0, 20);  // starts a flush, which now waits (up to 5 s) for the lock
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(j.append("p", "", 0, {event("p")}).status, Status::Accepted);
  inlet::journal::Database other(j.path(), false);
  other.exec("SELECT count(*) FROM events");  // the connection finds the WAL on its first read
  // Another checkpoint (the journal's own) may be at work, or the flush may be copying the claims
  // right now: try for 2 s. A read held while the flush waits would last its 5 s busy timeout.
  int log = -1, copied = -1, rc = SQLITE_BUSY;
  for (int attempt = 0; attempt < 100; ++attempt) {
    rc = sqlite3_wal_checkpoint_v2(other.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_OK && copied == log) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(other.get());
  EXPECT_GT(log, 0);
  EXPECT_EQ(copied, log) << "a read transaction held frames back from the checkpoint";
  EXPECT_EQ(j.claimFlushFailures(), 0u) << "the flush gave up before the check: it proves nothing";
  // Once the lock is gone the waiting flush goes on; one more moves claims committed after it
  // had copied them (on a slow machine the burst can outrun the first copy).
  blocker->exec("ROLLBACK");
  blocker.reset();
  j.flushClaims();  // waits for the background flush, then runs
  EXPECT_EQ(count(claimsDb(j), "SELECT count(*) FROM claims"), 20);
  EXPECT_EQ(j.claimFlushFailures(), 0u);
  expectClaimed(j, 0, ids);
}

// The path of a journal's database with its schema and nothing else, for Claims on their own.
std::string journalSchema(const TempDir& dir) {
  { Journal j(journalConfig(dir)); }
  return dir.str("journal.db");
}

// Claims on their own, on a journal's database, with a hash under which every key collides:
// the memory tier must tell keys apart by checking claim_log, and follow savepoints.
// Claims on a journal's database, driven as the journal's writer drives them.
struct ClaimsRig {
  ClaimsRig(const std::string& path, const inlet::journal::Claims::Options& options)
      : db(path, false), claims(db, path, options) {}
  // One group commit around `body`.
  void transaction(const std::function<void()>& body) {
    db.exec("BEGIN IMMEDIATE");
    claims.beginTransaction(now);
    body();
    db.exec("COMMIT");
    claims.committed();
  }
  inlet::journal::Database db;
  inlet::journal::Claims claims;
  int64_t now = inlet::util::nowMs();
};

TEST(Claims, KeysWithEqualHashesAreToldApart) {
  TempDir dir;
  const std::string path = journalSchema(dir);
  inlet::journal::Claims::Options options;
  options.hash = [](const std::string&, const std::string&) -> uint64_t { return 42; };
  ClaimsRig rig(path, options);
  auto& db = rig.db;
  auto& claims = rig.claims;
  const int64_t now = rig.now;
  auto transaction = [&](const std::function<void()>& body) { rig.transaction(body); };
  constexpr int kKeys = 300;
  for (int i = 0; i < kKeys; ++i) {
    transaction([&] {
      std::string key = "k" + std::to_string(i);
      ASSERT_FALSE(claims.find("p", key, now)) << key;
      claims.add("p", key, static_cast<uint64_t>(i + 1), "evt-" + std::to_string(i), now + kHour);
    });
  }
  EXPECT_EQ(claims.inMemory(), static_cast<size_t>(kKeys));
  auto check = [&] {
    for (int i = 0; i < kKeys; ++i) {
      auto id = claims.find("p", "k" + std::to_string(i), now);
      ASSERT_TRUE(id) << i;
      EXPECT_EQ(*id, "evt-" + std::to_string(i));
      EXPECT_FALSE(claims.find("other", "k" + std::to_string(i), now)) << i;
    }
    EXPECT_FALSE(claims.find("p", "k-none", now));
  };
  check();
  // A request rolled back to its savepoint takes its claim with it.
  transaction([&] {
    db.exec("SAVEPOINT request");
    claims.beginRequest();
    claims.add("p", "rolled-back", 1000, "evt-x", now + kHour);
    ASSERT_TRUE(claims.find("p", "rolled-back", now));
    db.exec("ROLLBACK TO request");
    db.exec("RELEASE request");
    claims.rollbackRequest();
    EXPECT_FALSE(claims.find("p", "rolled-back", now));
  });
  EXPECT_EQ(claims.inMemory(), static_cast<size_t>(kKeys));
  // A whole transaction rolled back: the same.
  db.exec("BEGIN IMMEDIATE");
  claims.beginTransaction(now);
  claims.add("p", "lost", 1001, "evt-y", now + kHour);
  db.exec("ROLLBACK");
  claims.rolledBack();
  EXPECT_FALSE(claims.find("p", "lost", now));
  // After a flush every claim comes from the claims database.
  claims.flushNow();
  transaction([] {});
  EXPECT_EQ(claims.inMemory(), 0u);
  check();
}

TEST(ClaimFilter, EveryHashAddedIsPresentAndFewOthersAre) {
  constexpr size_t kCapacity = 200'000;
  inlet::journal::ClaimFilter filter(kCapacity);
  std::mt19937_64 rng(7);
  std::vector<uint64_t> added(kCapacity);
  for (auto& h : added) {
    h = rng();
    filter.add(h);
  }
  EXPECT_EQ(filter.added(), kCapacity);
  for (auto h : added) ASSERT_TRUE(filter.mayContain(h)) << h;
  size_t false_positives = 0;
  for (size_t i = 0; i < kCapacity; ++i) false_positives += filter.mayContain(rng());
  EXPECT_LT(false_positives, kCapacity / 50) << "over 2 % false positives";
  // Hashes that differ in one bit, or only in their high bits, are told apart too.
  size_t near = 0;
  for (size_t i = 0; i < 10'000; ++i)
    near += filter.mayContain(added[i] ^ 1) + filter.mayContain(added[i] ^ (uint64_t{1} << 63));
  EXPECT_LT(near, 20'000u / 50);
}

TEST(Claims, TheFilterSparesTheDatabaseNewKeysAndNeverHidesAClaimItHolds) {
  TempDir dir;
  const std::string path = journalSchema(dir);
  // Claims whose filter is built (in the background, as after a start).
  auto open = [&] {
    inlet::journal::Claims::Options options;
    options.filter_min_claims = 100;  // full (and built anew) every few hundred claims
    auto rig = std::make_unique<ClaimsRig>(path, options);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!rig->claims.filterReady() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(rig->claims.filterReady());
    return rig;
  };
  constexpr int kKeys = 1000;
  int64_t now = inlet::util::nowMs();
  auto checkAll = [&](inlet::journal::Claims& claims, int upto) {
    for (int i = 0; i < upto; ++i) {
      auto id = claims.find("p", "k" + std::to_string(i), now);
      ASSERT_TRUE(id) << i;
      ASSERT_EQ(*id, "evt-" + std::to_string(i));
    }
  };
  auto newKeysReadingTheDatabase = [&](inlet::journal::Claims& claims, int n) {
    uint64_t before = claims.indexLookups();
    for (int i = 0; i < n; ++i) EXPECT_FALSE(claims.find("p", "new-" + std::to_string(i), now));
    return claims.indexLookups() - before;
  };
  {
    auto rig = open();
    auto& claims = rig->claims;
    for (int i = 0; i < kKeys; ++i) {
      rig->transaction([&] {
        std::string key = "k" + std::to_string(i);
        ASSERT_FALSE(claims.find("p", key, now)) << key;
        claims.add("p", key, static_cast<uint64_t>(i + 1), "evt-" + std::to_string(i), now + kHour);
      });
      if (i % 100 == 99) {
        claims.flushNow();  // the filter fills up and is built anew along the way
        rig->transaction([] {});
        EXPECT_EQ(claims.inMemory(), 0u);
        checkAll(claims, i + 1);
        EXPECT_LE(newKeysReadingTheDatabase(claims, 1000), 40u) << "after " << i + 1;
      }
    }
  }
  // After a restart the filter is built from the database alone.
  auto rig = open();
  rig->transaction([&] {
    checkAll(rig->claims, kKeys);
    EXPECT_LE(newKeysReadingTheDatabase(rig->claims, 1000), 40u);
  });
}

// Polls `done` for up to 20 s.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST(Claims, UuidsAreStoredAsSixteenBytesMergedWithTextAndFoundThroughTheFilter) {
  TempDir dir;
  const std::string path = journalSchema(dir);
  const std::string claims_path = inlet::journal::Claims::pathFor(path);
  int64_t now = inlet::util::nowMs();
  // Each n: a lower-case UUID (packed), the same in upper case, and text keys that look like a
  // UUID but are not one (stored as text); their event ids UUIDs (packed) or not.
  auto keysOf = [](int n) {
    const std::string uuid = uuidKey(n);
    return std::vector<std::string>{uuid, upper(uuid), "x" + uuid.substr(1),
                                    uuid.substr(0, 8) + uuid.substr(9), "key-" + std::to_string(n)};
  };
  std::map<std::string, std::string> held;  // key -> event id
  uint64_t seq = 0;
  auto open = [&] {
    inlet::journal::Claims::Options options;
    options.flush_claims = 8;  // and so merge chunks of 8 claims
    options.merge_fan_in = 2;
    options.filter_min_claims = 100;
    auto rig = std::make_unique<ClaimsRig>(path, options);
    EXPECT_TRUE(eventually([&] { return rig->claims.filterReady(); }));
    return rig;
  };
  auto checkAll = [&](ClaimsRig& rig) {
    rig.transaction([&] {
      for (const auto& [key, id] : held) {
        auto found = rig.claims.find("p", key, now);
        ASSERT_TRUE(found) << key;
        ASSERT_EQ(*found, id) << key;
      }
    });
  };
  {
    auto rig = open();
    for (int n = 0; n < 40; ++n) {
      rig->transaction([&] {
        for (const auto& key : keysOf(n)) {
          ASSERT_FALSE(rig->claims.find("p", key, now)) << key;
          const std::string id =
              n % 2 ? inlet::util::newEventId(now) : "evt-" + std::to_string(seq + 1);
          rig->claims.add("p", key, ++seq, id, now + kHour);
          held[key] = id;
        }
      });
      if (n % 4 == 3) rig->claims.flushNow();  // each flush a segment; merges two at a time
    }
    rig->transaction([] {});
    EXPECT_EQ(rig->claims.inMemory(), 0u);
    EXPECT_GT(rig->claims.merges(), 5u);
    EXPECT_EQ(rig->claims.mergeFailures(), 0u);
    checkAll(*rig);
  }
  EXPECT_EQ(count(claims_path, "SELECT count(*) FROM claims"), 200);
  EXPECT_EQ(count(claims_path,
                  "SELECT count(*) FROM claims WHERE typeof(key) = 'blob' AND length(key) = 16"),
            40);
  EXPECT_EQ(count(
                claims_path, "SELECT count(*) FROM claims WHERE key = x'" +
                                 [] {
                                   std::string k = uuidKey(3);
                                   k.erase(std::remove(k.begin(), k.end(), '-'), k.end());
                                   return k;
                                 }() +
                                 "'"),
            1);
  EXPECT_EQ(count(claims_path, "SELECT count(*) FROM claims WHERE typeof(event_id) = 'blob'"), 100);
  // After a restart the filter is built by reading the stored keys back: a packed key must
  // still pass it, and new UUIDs still mostly stop at it.
  auto rig = open();
  checkAll(*rig);
  rig->transaction([&] {
    const uint64_t before = rig->claims.indexLookups();
    for (int n = 1000; n < 2000; ++n) EXPECT_FALSE(rig->claims.find("p", uuidKey(n), now));
    EXPECT_LE(rig->claims.indexLookups() - before, 40u);
  });
}

// Claims flushed in bursts of `burst` claims, each of which wakes the flusher; keys key-<n>.
struct ClaimBursts {
  ClaimsRig& rig;
  int burst;
  int next = 0;
  void one() {
    rig.transaction([&] {
      for (int i = 0; i < burst; ++i, ++next)
        rig.claims.add("p", "key-" + std::to_string(next), static_cast<uint64_t>(next + 1),
                       "evt-" + std::to_string(next), rig.now + kHour);
    });
  }
  void expectAllFound() {
    rig.transaction([&] {
      for (int i = 0; i < next; ++i) {
        auto id = rig.claims.find("p", "key-" + std::to_string(i), rig.now);
        ASSERT_TRUE(id) << i;
        EXPECT_EQ(*id, "evt-" + std::to_string(i));
      }
      EXPECT_FALSE(rig.claims.find("p", "key-" + std::to_string(next), rig.now));
    });
  }
};

TEST(Claims, CatchUpMergesWhatACompactorThatFellBehindLeft) {
  // No compactor at all, as one busy with a long merge of larger segments: segments of five
  // claims pile up at level 0 until twice the fan-in (4) wait, and then the catch-up thread
  // merges two.
  TempDir dir;
  const std::string path = journalSchema(dir);
  inlet::journal::Claims::Options options;
  options.flush_claims = 5;
  options.merge_fan_in = 2;
  options.compactor = false;
  ClaimsRig rig(path, options);
  const std::string claims_db = inlet::journal::Claims::pathFor(path);
  auto atLevel = [&](int level) {
    return count(claims_db, "SELECT count(*) FROM segments WHERE building = 0 AND level = " +
                                std::to_string(level));
  };
  ClaimBursts bursts{rig, 5};
  for (uint64_t b = 1; b <= 3; ++b) {
    bursts.one();
    ASSERT_TRUE(eventually([&] { return rig.claims.flushes() == b; })) << b;
  }
  // Two of a level would do for a compactor; catch-up leaves them.
  EXPECT_EQ(atLevel(0), 3);
  EXPECT_EQ(rig.claims.merges(), 0u);
  bursts.one();
  ASSERT_TRUE(eventually([&] { return rig.claims.merges() == 1; }));
  EXPECT_EQ(atLevel(0), 2);
  EXPECT_EQ(atLevel(1), 1);  // ten claims: two flushes' worth
  // Six more: level 0 fills up three times more; at the fourth segment of level 1 two of them
  // merge into one of level 2.
  for (uint64_t b = 5; b <= 10; ++b) {
    bursts.one();
    ASSERT_TRUE(eventually([&] { return rig.claims.flushes() == b; })) << b;
  }
  ASSERT_TRUE(eventually([&] { return rig.claims.merges() == 5; })) << rig.claims.merges();
  EXPECT_EQ(atLevel(0), 2);
  EXPECT_EQ(atLevel(1), 2);
  EXPECT_EQ(atLevel(2), 1);
  EXPECT_EQ(rig.claims.mergeFailures(), 0u);
  EXPECT_EQ(count(claims_db, "SELECT count(*) FROM claims"), 50);
  bursts.expectAllFound();
}

TEST(Claims, FlushesGoOnWhileTheFilterIsBuiltAndItHoldsTheirClaims) {
  TempDir dir;
  const std::string path = journalSchema(dir);
  inlet::journal::Claims::Options options;
  options.filter_min_claims = 100;
  {
    ClaimsRig rig(path, options);  // 600 claims in the claims database
    ClaimBursts bursts{rig, 200};
    for (int b = 0; b < 3; ++b) bursts.one();
    rig.claims.flushNow();
    rig.transaction([] {});  // the flushed claims leave claim_log
    rig.transaction([] {});
  }
  options.flush_claims = 3;
  // At a start the filter is built ten claims a step, 20 ms apart: for about 1.2 s.
  options.filter_build_step = 10;
  std::atomic<int> steps{0};
  options.before_filter_step = [&] {
    ++steps;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  ClaimsRig rig(path, options);
  ClaimBursts bursts{rig, 3};
  bursts.next = 600;
  const std::string claims_db = inlet::journal::Claims::pathFor(path);
  uint64_t during = 0;
  for (uint64_t b = 1; b <= 10; ++b) {
    bursts.one();  // three claims: a flush
    if (!eventually([&] { return rig.claims.flushes() == b; })) break;
    if (!rig.claims.filterReady()) during = b;
  }
  EXPECT_GE(during, 5u) << "flushes waited for the filter";
  ASSERT_TRUE(eventually([&] { return rig.claims.filterReady(); }));
  EXPECT_GT(steps, 60);
  rig.transaction([] {});  // the writer forgets the flushed claims
  EXPECT_EQ(rig.claims.inMemory(), 0u);
  // Found, those flushed during the build too, through the filter built meanwhile.
  bursts.expectAllFound();
  rig.transaction([&] {
    const uint64_t before = rig.claims.indexLookups();
    for (int i = 0; i < 1000; ++i)
      EXPECT_FALSE(rig.claims.find("p", "new-" + std::to_string(i), rig.now));
    EXPECT_LE(rig.claims.indexLookups() - before, 40u);
  });
}

TEST(Claims, AMergeGivesWayToAFlushThatWaitsForTheDatabase) {
  // SQLite gives a free write lock to whoever asks first, and a merge asks again as soon as it
  // commits a chunk: a flush that has waited a while (and so sleeps longer between its tries)
  // would wait for the whole merge, however long, unless the merge gives way.
  TempDir dir;
  const std::string path = journalSchema(dir);
  inlet::journal::Claims::Options options;
  options.flush_claims = 3;  // and merge chunks of 3 claims: two segments merge in two chunks
  options.merge_fan_in = 2;
  std::atomic<bool> held{true};
  std::atomic<int> chunks{0};
  std::atomic<inlet::journal::Claims*> claims{nullptr};
  std::atomic<uint64_t> flushes_at_second_chunk{0};
  options.before_merge_chunk = [&] {
    if (++chunks == 1)
      while (held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    else if (chunks == 2)
      flushes_at_second_chunk = claims.load()->flushes();
  };
  ClaimsRig rig(path, options);
  claims = &rig.claims;
  struct Release {
    std::atomic<bool>& held;
    ~Release() { held = false; }  // before the rig closes (and waits for the compactor)
  } release{held};
  ClaimBursts bursts{rig, 3};
  for (uint64_t b = 1; b <= 2; ++b) {
    bursts.one();  // a segment each; the second is merged with the first
    ASSERT_TRUE(eventually([&] { return rig.claims.flushes() == b; })) << b;
  }
  ASSERT_TRUE(eventually([&] { return chunks == 1; }));  // the compactor, held before a chunk
  inlet::journal::Database blocker(inlet::journal::Claims::pathFor(path), false);
  blocker.exec("BEGIN IMMEDIATE");
  bursts.one();  // its flush waits for the lock
  // SQLite's busy handler sleeps 1, 2, 5, ... 100 ms between tries: after 328 ms, every 100 ms.
  // The lock is let go just after a try of the flush, and soon before one of the merge's.
  std::this_thread::sleep_for(std::chrono::milliseconds(410));
  EXPECT_EQ(rig.claims.flushes(), 2u);
  held = false;  // the merge goes on, and would find the lock taken too
  std::this_thread::sleep_for(std::chrono::milliseconds(25));
  blocker.exec("ROLLBACK");
  ASSERT_TRUE(eventually([&] { return rig.claims.merges() == 1 && rig.claims.flushes() == 3; }));
  EXPECT_EQ(flushes_at_second_chunk, 3u) << "the merge's first chunk went before the flush";
  EXPECT_EQ(rig.claims.flushFailures(), 0u);
  EXPECT_EQ(rig.claims.mergeFailures(), 0u);
  bursts.expectAllFound();
}

TEST(Claims, TheCompactorAndCatchUpNeverMergeTheSameSegments) {
  // The compactor is held in its first merge (of two segments, the fan-in), as in a long merge
  // of large segments; meanwhile catch-up merges the segments that pile up behind it,
  // never those two nor the segment the compactor is building.
  TempDir dir;
  const std::string path = journalSchema(dir);
  inlet::journal::Claims::Options options;
  options.flush_claims = 3;
  options.merge_fan_in = 2;
  std::atomic<bool> held{true};
  std::atomic<int> compactor_chunks{0}, catch_up_chunks{0};
  options.before_merge_chunk = [&] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    if (std::string(name) == "inlet-compact") {
      ++compactor_chunks;
      while (held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else if (std::string(name) == "inlet-catchup") {
      ++catch_up_chunks;
    }
  };
  ClaimsRig rig(path, options);
  struct Release {
    std::atomic<bool>& held;
    ~Release() { held = false; }  // before the rig closes (and waits for the compactor)
  } release{held};
  const std::string claims_db = inlet::journal::Claims::pathFor(path);
  auto building = [&] {
    return count(claims_db, "SELECT count(*) FROM segments WHERE building = 1");
  };
  ClaimBursts bursts{rig, 3};
  for (uint64_t b = 1; b <= 100; ++b) {
    bursts.one();  // each burst a segment of its own, after which catch-up runs
    ASSERT_TRUE(eventually([&] { return rig.claims.flushes() == b; })) << b;
  }
  ASSERT_TRUE(eventually([&] { return compactor_chunks == 1; }));
  ASSERT_TRUE(eventually([&] { return rig.claims.merges() > 20; })) << rig.claims.merges();
  EXPECT_EQ(compactor_chunks, 1);
  EXPECT_GT(catch_up_chunks, 20);
  // The compactor's, kept; a catch-up merge may still be finishing (building a segment too).
  EXPECT_TRUE(eventually([&] { return building() == 1; })) << building();
  held = false;
  rig.claims.flushNow();  // after the merges in flight, runs those due
  EXPECT_GT(compactor_chunks, 1);
  EXPECT_EQ(rig.claims.mergeFailures(), 0u);
  EXPECT_EQ(count(claims_db, "SELECT count(*) FROM claims"), 300);
  EXPECT_EQ(count(claims_db, "SELECT count(DISTINCT key) FROM claims"), 300);
  EXPECT_EQ(building(), 0);
  EXPECT_EQ(count(claims_db, "SELECT count(*) FROM segments"),
            count(claims_db,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB "
                  "'claims_*'"));
  // No level holds the fan-in any more.
  EXPECT_EQ(count(claims_db,
                  "SELECT count(*) FROM (SELECT level FROM segments GROUP BY level "
                  "HAVING count(*) >= 2)"),
            0);
  bursts.expectAllFound();
}

TEST(Journal, ClaimsStayFoundWhileTheyMoveToTheDatabaseUnderConcurrentLoad) {
  TempDir dir;
  auto config = journalConfig(dir);
  config.claims_flush_at = 200;  // a flush (and the filter behind it) every few group commits
  Journal j(config);
  constexpr int kWriters = 4, kKeys = 1500;
  std::atomic<int> written[kWriters] = {};
  std::atomic<int> wrongly_accepted{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      for (int i = 0; i < kKeys; ++i) {
        auto r =
            j.append("p", "w" + std::to_string(w) + "-" + std::to_string(i), kHour, {event("p")});
        ASSERT_EQ(r.status, Status::Accepted);
        written[w] = i + 1;
      }
    });
  // Meanwhile every key written so far is sent again, over and over: each must be a duplicate,
  // whether its claim is in memory, in flight to the database, or there.
  threads.emplace_back([&] {
    std::mt19937 rng(11);
    while (!done) {
      int w = static_cast<int>(rng() % kWriters), n = written[w];
      if (!n) continue;
      int i = static_cast<int>(rng() % static_cast<unsigned>(n));
      auto r =
          j.append("p", "w" + std::to_string(w) + "-" + std::to_string(i), kHour, {event("p")});
      if (r.status != Status::Duplicate) ++wrongly_accepted;
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  threads.back().join();
  EXPECT_EQ(wrongly_accepted.load(), 0);
  EXPECT_GT(j.claimFlushes(), 5u);
  EXPECT_EQ(all(j.path()).size(), static_cast<size_t>(kWriters * kKeys));
}

std::vector<std::string> bodies(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.body);
  return out;
}

// The disk fails under the journal while a group commits, then heals.
TEST(JournalFaults, AGroupCommitThatCannotBeWrittenFailsAloneAndLeavesNoTrace) {
  namespace fd = inlet::testing::faulty_disk;
  fd::FaultyDisk disk;
  TempDir dir;
  auto config = journalConfig(dir);
  Journal j(config);
  ASSERT_EQ(j.append("p", "a", kHour, {event("p", "{\"n\":1}")}).status, Status::Accepted);
  auto second = j.append("p", "b", kHour, {event("p", "{\"n\":2}")});
  ASSERT_EQ(second.status, Status::Accepted);

  fd::failing = true;
  auto lost = j.append("p", "c", kHour, {event("p", "{\"n\":3}")});
  fd::failing = false;
  EXPECT_GT(fd::failed_writes.load(), 0);
  EXPECT_EQ(lost.status, Status::Failed);
  EXPECT_FALSE(lost.error.empty());

  // The disk is back: the failed attempt holds no claim, the others still do.
  auto retried = j.append("p", "c", kHour, {event("p", "{\"n\":4}")});
  ASSERT_EQ(retried.status, Status::Accepted) << retried.error;
  EXPECT_EQ(j.append("p", "a", kHour, {event("p", "{}")}).status, Status::Duplicate);
  EXPECT_EQ(j.append("p", "c", kHour, {event("p", "{}")}).status, Status::Duplicate);
  EXPECT_GT(retried.last_seq, second.last_seq);

  // The database holds exactly the acknowledged events, and the in-memory tail agrees with it
  // (or declines, leaving the answer to the database).
  Reader reader(j.path());
  EXPECT_EQ(bodies(all(j.path())),
            (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "{\"n\":4}"}));
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
  EXPECT_EQ(reopened.append("p", "c", kHour, {event("p", "{}")}).status, Status::Duplicate);
  EXPECT_EQ(bodies(all(reopened.path())),
            (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "{\"n\":4}"}));
}

// The fields a sink receives, for comparing the in-memory and the database answer.
std::string describe(const Event& e) {
  return std::to_string(e.seq) + "|" + e.id + "|" + e.pipeline + "|" +
         std::to_string(e.received_ms) + "|" + e.provider + "|" + e.event_type + "|" +
         e.delivery_id + "|" + e.dedup_key + "|" + e.headers_json + "|" + e.body + "|" +
         e.data_json + "|" + e.columns_json + "|" + (e.authenticated ? "1" : "0");
}

TEST(Journal, RecentEventsInMemoryMatchTheDatabase) {
  TempDir dir;
  Journal j(journalConfig(dir));
  Journal::Recent recent;
  ASSERT_TRUE(j.recentAfter(0, {}, 100, recent));  // a new journal holds everything
  EXPECT_TRUE(recent.events.empty());
  for (int i = 0; i < 12; ++i) {
    auto e = event(i % 3 ? "a" : "b", "{\"i\":" + std::to_string(i) + "}");
    e.delivery_id = "d-" + std::to_string(i);
    e.columns_json = "{\"n\":" + std::to_string(i) + "}";
    if (i == 5) e.body = "{ \"i\" : 5 }";  // a body that is not byte-identical to its data
    ASSERT_EQ(j.append(e.pipeline, i % 2 ? "" : "k-" + std::to_string(i), kHour, {e}).status,
              Status::Accepted);
  }
  // A duplicate is not an event: neither place has it.
  ASSERT_EQ(j.append("b", "k-0", kHour, {event("b")}).status, Status::Duplicate);
  Reader reader(j.path());
  for (std::vector<std::string> pipelines :
       {std::vector<std::string>{}, std::vector<std::string>{"a"},
        std::vector<std::string>{"b", "a"}}) {
    for (uint64_t after : {0, 3, 11, 12}) {
      for (size_t limit : {1, 4, 100}) {
        ASSERT_TRUE(j.recentAfter(after, pipelines, limit, recent));
        auto rows = reader.after(after, pipelines, limit);
        ASSERT_EQ(recent.events.size(), rows.size()) << after << " " << limit;
        for (size_t i = 0; i < rows.size(); ++i)
          EXPECT_EQ(describe(*recent.events[i]), describe(rows[i]));
      }
    }
  }
}

TEST(Journal, RecentEventsStartAtReopenAndAnswerOnlyAboveIt) {
  TempDir dir;
  uint64_t last = 0;
  {
    Journal j(journalConfig(dir));
    for (int i = 0; i < 3; ++i) last = j.append("a", "", 0, {event("a")}).last_seq;
  }
  Journal j(journalConfig(dir));
  Journal::Recent recent;
  // Events from before the reopen are only in the database.
  EXPECT_FALSE(j.recentAfter(0, {}, 100, recent));
  EXPECT_FALSE(j.recentAfter(last - 1, {}, 100, recent));
  ASSERT_TRUE(j.recentAfter(last, {}, 100, recent));
  EXPECT_TRUE(recent.events.empty());
  auto r = j.append("a", "", 0, {event("a"), event("a")});
  ASSERT_TRUE(j.recentAfter(last, {}, 100, recent));
  ASSERT_EQ(recent.events.size(), 2u);
  EXPECT_EQ(recent.events[0]->seq, last + 1);
  EXPECT_EQ(recent.events[1]->seq, r.last_seq);
}

TEST(Journal, RecentEventsAreBoundedAndTheOldestGoToTheDatabase) {
  TempDir dir;
  Journal j(journalConfig(dir));
  // 40 events of 512 KiB: far more than the memory kept for recent events.
  std::string big = "\"" + std::string(512 * 1024, 'x') + "\"";
  uint64_t last = 0;
  for (int i = 0; i < 40; ++i) last = j.append("a", "", 0, {event("a", big)}).last_seq;
  Journal::Recent recent;
  EXPECT_FALSE(j.recentAfter(0, {}, 100, recent));
  ASSERT_TRUE(j.recentAfter(last - 2, {}, 100, recent));
  ASSERT_EQ(recent.events.size(), 2u);
  EXPECT_EQ(recent.events[1]->seq, last);
  EXPECT_EQ(recent.events[1]->body, big);
  // The events keep their memory while a reader holds them, whatever the writer drops.
  Journal::Recent held;
  ASSERT_TRUE(j.recentAfter(last - 1, {}, 1, held));
  for (int i = 0; i < 40; ++i) j.append("a", "", 0, {event("a", big)});
  EXPECT_EQ(held.events[0]->body, big);
  EXPECT_FALSE(j.recentAfter(last, {}, 100, recent));
}

TEST(Journal, CommitListenerGetsHighestSeq) {
  TempDir dir;
  Journal j(journalConfig(dir));
  std::atomic<uint64_t> seen{0};
  j.setCommitListener([&](uint64_t seq) { seen = seq; });
  auto r = j.append("p", "", 0, {event("p"), event("p"), event("p")});
  ASSERT_EQ(r.status, Status::Accepted);
  EXPECT_EQ(seen.load(), r.last_seq);
  // Already when the append's callback runs (and its sender gets the 200): a shutdown right
  // after the answer once found the sinks owed nothing and left the event for the next start.
  std::promise<std::pair<uint64_t, uint64_t>> in_callback;  // {last_seq, seen}
  j.appendAsync("p", "", 0, {event("p")}, [&](const AppendResult& a) {
    in_callback.set_value({a.last_seq, seen.load()});
  });
  auto [last_seq, seen_then] = in_callback.get_future().get();
  EXPECT_GT(last_seq, r.last_seq);
  EXPECT_EQ(seen_then, last_seq);
  j.close();
}

TEST(Journal, OpenFailsLoudly) {
  TempDir dir;
  inlet::testing::writeFile(dir.path() / "file", "x");
  inlet::config::JournalConfig c;
  c.path = dir.str("file/journal.db");  // parent is a regular file
  EXPECT_ANY_THROW(Journal j(c));
}

}  // namespace

namespace {
uintmax_t fileSize(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}
}  // namespace

// Pages of `path` in [from, to) that are in the OS page cache.
size_t cachedPages(const std::string& path, size_t from, size_t to) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  const size_t size = fileSize(path);
  void* map = size ? ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fileno(f), 0) : MAP_FAILED;
  std::fclose(f);
  if (map == MAP_FAILED) return 0;
  std::vector<unsigned char> resident((size + page - 1) / page);
  size_t n = 0;
  if (::mincore(map, size, resident.data()) == 0) {
    for (size_t i = from / page; i < std::min(to, size) / page; ++i) n += resident[i] & 1;
  }
  ::munmap(map, size);
  return n;
}

TEST(Journal, PagesFarBehindTheJournalsEndLeaveThePageCacheAfterACheckpoint) {
  TempDir dir;
  auto cfg = journalConfig(dir);
  cfg.cached_tail_bytes = 2 << 20;
  Journal j(cfg);
  const std::string body = "{\"pad\":\"" + std::string(4000, 'x') + "\"}";
  // ~24 MiB: past the WAL size that wakes the checkpointer, twice over.
  for (int s = 0; s < 48; ++s) {
    std::vector<Event> events;
    for (int i = 0; i < 125; ++i) events.push_back(event("p", body));
    ASSERT_EQ(j.append("p", "", 0, std::move(events)).status, Status::Accepted);
  }
  // The first checkpoint of the checkpointer thread comes past 8 MiB of WAL; the file's first
  // 2 MiB are then far behind its end (the writer's own checkpoints, when the checkpointer
  // falls behind, leave the cache alone).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t size = 0, cold = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    size = fileSize(j.path());
    cold = cachedPages(j.path(), 0, 2u << 20);
    if (size > (8u << 20) && cold < 16) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(size, 8u << 20) << "no checkpoint copied the events into the database file";
  EXPECT_LT(cold, 16u) << "pages far behind the end are still cached";
  // The tail a checkpoint just wrote stays, and every event still reads back.
  EXPECT_GT(cachedPages(j.path(), size - (1u << 20), size), 0u);
  auto rows = all(j.path());
  ASSERT_EQ(rows.size(), 48u * 125);
  EXPECT_EQ(rows.front().body, body);
}

TEST(Journal, CheckpointsKeepTheWalBoundedWhileItRuns) {
  // ~120 MiB of events: the checkpointer thread copies them into the database file while the
  // journal is open, and the WAL starts over instead of growing with everything written.
  TempDir dir;
  Journal j(journalConfig(dir));
  const std::string body = "{\"pad\":\"" + std::string(4000, 'x') + "\"}";
  // Four threads append without pause, so the writer commits back to back and a checkpoint
  // never finds the WAL idle.
  constexpr int kThreads = 4, kSubmissions = 240, kPerSubmission = 125;
  std::atomic<uintmax_t> largest_wal{0};
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int s = 0; s < kSubmissions / kThreads; ++s) {
        std::vector<Event> events;
        for (int i = 0; i < kPerSubmission; ++i) events.push_back(event("p", body));
        if (j.append("p", "", 0, std::move(events)).status == Status::Accepted) ++accepted;
        uintmax_t wal = fileSize(j.path() + "-wal"), seen = largest_wal.load();
        while (wal > seen && !largest_wal.compare_exchange_weak(seen, wal)) {
        }
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(accepted.load(), kSubmissions);
  const uintmax_t written = uintmax_t{kSubmissions} * kPerSubmission * body.size();
  // Checkpoints ran while the journal was open: most events are in the database file already.
  eventually([&] { return fileSize(j.path()) >= written / 2; });
  EXPECT_GE(fileSize(j.path()), written / 2);
  // The WAL stays near the writer's checkpoint size (4000 pages) plus one group commit, far
  // below what was written.
  EXPECT_LT(largest_wal, written / 2) << "the WAL grew with the data: it never started over";
  EXPECT_EQ(j.maxSeq(), uint64_t{kSubmissions} * kPerSubmission);
  j.close();
  EXPECT_EQ(all(j.path()).size(), size_t{kSubmissions} * kPerSubmission);
}
