// The journal's own tables (sink type `journal`) through the real binary: the default config
// as the README uses it, the row being there when the 2xx is sent, the same rows as the sqlite
// sink writes, `ack: delivered`, replay, refusals at start, and a kill -9.
#include <gtest/gtest.h>
#include <inlet/testing/server.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace inlet::testing;

namespace {

constexpr char kSecret[] = "It's a Secret to Everybody";

std::vector<std::pair<std::string, std::string>> githubHeaders(const std::string& body,
                                                               const std::string& delivery) {
  return {{"X-Hub-Signature-256", githubSignature(kSecret, body)},
          {"X-GitHub-Event", "issues"},
          {"X-GitHub-Delivery", delivery},
          {"Content-Type", "application/json"}};
}

std::string idOf(const HttpResponse& r) {
  auto p = r.body.find("\"id\":\"");
  return p == std::string::npos ? "" : r.body.substr(p + 6, 36);
}

// A journal in `dir`/journal.db serving `github_events`, and (with `copy`) the same pipeline
// also going to the sqlite sink in `dir`/inlet.db.
std::string config(const TempDir& dir, bool copy, const std::string& pipeline_extra = "") {
  return "server: { listen: 127.0.0.1:0 }\n"
         "journal: { path: " +
         dir.str("journal.db") + " }\nplugins: { path: [" + std::string(INLET_PLUGIN_DIR) +
         "] }\n"
         "secrets: { github: { value: \"" +
         kSecret +
         "\" } }\n"
         "sinks:\n"
         "  store: { type: journal }\n"
         "  copy: { type: sqlite, path: " +
         dir.str("inlet.db") +
         " }\n"
         "pipelines:\n"
         "  github:\n"
         "    path: /webhook/github\n"
         "    auth: { provider: github, secrets: [github] }\n"
         "    dedup: { key: auto, window: 72h }\n"
         "    sinks: [store" +
         (copy ? ", copy" : "") +
         "]\n"
         "    table: github_events\n" +
         pipeline_extra;
}

TEST(DefaultConfig, TheReadmesSignedWebhookLandsInGithubEventsInDataInletDb) {
  TempDir dir;
  std::string text = readFile(std::string(INLET_SOURCE_DIR) + "/configs/inlet.yaml");
  text =
      std::regex_replace(text, std::regex(R"(listen: 127\.0\.0\.1:8080)"), "listen: 127.0.0.1:0");
  text = std::regex_replace(text, std::regex(R"(path:\s*\[\s*build/plugins\s*\])"),
                            "path: [" + std::string(INLET_PLUGIN_DIR) + "]");
  InletServer server(dir, text);  // runs in `dir`: data/ is created there
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  const std::string body = R"({"action":"opened","issue":{"number":1}})";
  auto r = post(server.port(), "/webhook/github", body, githubHeaders(body, "readme-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  // The README's query, at once: the table is the journal.
  EXPECT_EQ(sqlite(dir.str("data/inlet.db"),
                   "SELECT id, event_type, json_extract(data,'$.action') FROM github_events"),
            idOf(r) + "|issues|opened\n");
  r = post(server.port(), "/webhook/github", body, githubHeaders(body, "readme-1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"status\":\"duplicate\""), std::string::npos) << r.body;
  EXPECT_EQ(sqlite(dir.str("data/inlet.db"), "SELECT count(*) FROM github_events"), "1\n");
  EXPECT_EQ(server.stop(), 0) << server.log();
  // No other database besides the journal and its claims.
  EXPECT_FALSE(fs::exists(dir.path() / "data/journal.db"));
}

TEST(JournalSink, EachAcknowledgedEventIsInTheTableWhenItsAnswerArrives) {
  TempDir dir;
  InletServer server(dir, config(dir, false));
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  for (int i = 0; i < 20; ++i) {
    std::string body = R"({"n":)" + std::to_string(i) + "}";
    auto r =
        post(server.port(), "/webhook/github", body, githubHeaders(body, "d" + std::to_string(i)));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(sqlite(dir.str("journal.db"),
                     "SELECT count(*) FROM github_events WHERE id = '" + idOf(r) + "'"),
              "1\n");
  }
  // No delivery thread and no backlog for it.
  auto m = http(server.port(), "GET", "/_inlet/metrics", "");
  EXPECT_EQ(m.body.find("inlet_sink_backlog{sink=\"store\"}"), std::string::npos) << m.body;
}

TEST(JournalSink, TheTableHoldsTheSameRowsAsTheSqliteSinksTable) {
  TempDir dir;
  InletServer server(dir,
                     config(dir, true,
                            "    decode: raw\n"
                            "    columns:\n"
                            "      - { name: action, type: text }\n"
                            "      - { name: number, type: integer, pointer: /issue/number }\n"
                            "      - { name: score, type: real }\n"
                            "      - { name: draft, type: boolean }\n"
                            "      - { name: at, type: timestamp }\n"
                            "      - { name: labels, type: json }\n"
                            "      - { name: hook, type: integer, header: x-github-hook-id }\n"));
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  const std::vector<std::string> bodies = {
      R"({"action":"opened","issue":{"number":7},"score":2,"draft":true,"at":1700000000,)"
      R"("labels":["a",{"b":null}]})",
      R"({"action":"closed","score":1.5,"draft":false,"at":"2026-12-03T10:00:00+01:00",)"
      R"("labels":null})",
      R"({ "spaced" : [1, 2] })", "not JSON at all \x01\xff", ""};
  int i = 0;
  for (const auto& body : bodies) {
    auto headers = githubHeaders(body, "d" + std::to_string(i));
    if (i % 2) headers.emplace_back("X-GitHub-Hook-ID", std::to_string(1000 + i));
    auto r = post(server.port(), "/webhook/github", body, headers);
    ASSERT_EQ(r.status, 200) << r.body;
    ++i;
  }
  const std::string columns =
      "id, received_at, pipeline, provider, event_type, delivery_id, dedup_key, headers, "
      "hex(body), typeof(body), data, authenticated";
  const std::string typed =
      "action, number, score, draft, at, labels, hook, typeof(action), typeof(number), "
      "typeof(score), typeof(draft), typeof(at), typeof(labels), typeof(hook)";
  const std::string query = "SELECT " + columns + ", " + typed + " FROM github_events ORDER BY id";
  std::string journal = sqlite(dir.str("journal.db"), query);
  EXPECT_EQ(std::count(journal.begin(), journal.end(), '\n'), 5) << journal;
  EXPECT_EQ(waitForQuery(dir.str("inlet.db"), query, journal), journal);
  // The values themselves, in the first row.
  EXPECT_EQ(sqlite(dir.str("journal.db"),
                   "SELECT action, number, score, draft, at, labels FROM github_events "
                   "ORDER BY id LIMIT 1"),
            "opened|7|2.0|1|2023-11-14T22:13:20.000Z|[\"a\",{\"b\":null}]\n");
}

TEST(JournalSink, AckDeliveredIsAnsweredAsDeliveredAtOnce) {
  TempDir dir;
  InletServer server(dir, config(dir, false, "    ack: delivered\n    ack_timeout: 5s\n"));
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  auto started = std::chrono::steady_clock::now();
  auto r = post(server.port(), "/webhook/github", "{}", githubHeaders("{}", "d"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"delivered\":true"), std::string::npos) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}

TEST(JournalSink, ReplayToItSaysThereIsNothingToReplay) {
  TempDir dir;
  writeFile(dir.path() / "inlet.yaml", config(dir, false));
  auto r = runInlet({"replay", "-c", dir.str("inlet.yaml"), "--sink", "store"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("sink store is of type journal"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing to replay"), std::string::npos) << r.out;
}

TEST(JournalSink, ATableOfTheSameNameInTheJournalsDatabaseStopsTheStart) {
  TempDir dir;
  // The layout of an older default config: the sqlite sink's table in the file that is now the
  // journal.
  ASSERT_EQ(std::system(("sqlite3 '" + dir.str("journal.db") +
                         "' 'CREATE TABLE github_events(id TEXT PRIMARY KEY)'")
                            .c_str()),
            0);
  InletServer server(dir, config(dir, false));
  std::string error;
  EXPECT_FALSE(server.start(&error));
  EXPECT_NE(error.find("cannot open the journal"), std::string::npos) << error;
  EXPECT_NE(error.find("the table 'github_events' in the journal's database was not created by "
                       "Inlet"),
            std::string::npos)
      << error;
  EXPECT_EQ(sqlite(dir.str("journal.db"), "SELECT count(*) FROM github_events"), "0\n");
  // The file is left as it was: no journal tables were added to it.
  EXPECT_EQ(sqlite(dir.str("journal.db"), "SELECT group_concat(name) FROM sqlite_schema"),
            "github_events,sqlite_autoindex_github_events_1\n");
}

TEST(JournalSink, Kill9DuringABurstLosesNoAcknowledgedRow) {
  TempDir dir;
  InletServer server(dir, config(dir, false));
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  std::vector<std::string> acknowledged;
  std::mutex m;
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        std::string delivery = std::to_string(t) + "-" + std::to_string(i);
        std::string body = R"({"i":")" + delivery + "\"}";
        HttpResponse r;
        try {
          r = http(server.port(), "POST", "/webhook/github", body, githubHeaders(body, delivery),
                   2000);
        } catch (...) {
          return;
        }
        if (r.status != 200) return;
        std::lock_guard<std::mutex> lock(m);
        acknowledged.push_back(idOf(r));
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  server.kill(SIGKILL);
  stop = true;
  for (auto& s : senders) s.join();
  ASSERT_GT(acknowledged.size(), 10u);
  ASSERT_TRUE(server.start(&error)) << error;
  std::string in;
  for (const auto& id : acknowledged) in += (in.empty() ? "'" : ",'") + id + "'";
  EXPECT_EQ(
      sqlite(dir.str("journal.db"), "SELECT count(*) FROM github_events WHERE id IN (" + in + ")"),
      std::to_string(acknowledged.size()) + "\n");
}

}  // namespace
