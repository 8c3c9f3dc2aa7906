#include "file_sink.h"

#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <inlet/crypto.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using inlet::sdk::WriteResult;
using inlet::sinks::FileSink;

namespace {

// A host whose clock the test moves.
struct FakeHost {
  int64_t now = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  inlet_host host{sizeof(inlet_host), this, nullptr,
                  [](void* ctx) { return static_cast<FakeHost*>(ctx)->now; }};
  inlet::sdk::Host sdk() const { return inlet::sdk::Host(&host); }
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "inlet-file-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

inlet::sdk::Event event(std::string_view id, std::string_view body, std::string_view data_json) {
  inlet::sdk::Event e;
  e.seq = 7;
  e.id = id;
  e.pipeline = "github";
  e.table = "github_events";
  e.received_ms = 1'700'000'000'123;
  e.provider = "github";
  e.event_type = "push";
  e.delivery_id = "72d3162e";
  e.dedup_key = "github:72d3162e";
  e.headers_json = R"({"content-type":"application/json","x-github-event":"push"})";
  e.body = body;
  e.data_json = data_json;
  e.columns_json = R"({"action":"opened","number":3})";
  return e;
}

std::vector<std::string> readLines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

Poco::JSON::Object::Ptr parse(const std::string& line) {
  Poco::JSON::Parser parser;
  return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
}

std::vector<fs::path> filesIn(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

FileSink::Options opts(const fs::path& path) {
  FileSink::Options o;
  o.path = path.string();
  return o;
}

TEST(FileSink, LinesParseAndCarryEveryField) {
  TempDir dir;
  FakeHost host;
  FileSink sink(opts(dir.path / "events.jsonl"), host.sdk());
  // Pretty-printed JSON (raw newlines between tokens) must still give one line per event.
  std::string pretty = "{\n  \"action\": \"opened\",\n  \"text\": \"a\\nb\"\n}";
  std::string binary("\x00\xff\n\"bytes", 9);
  std::vector<inlet::sdk::Event> batch = {event("id-1", pretty, pretty), event("id-2", binary, "")};
  std::string error;
  ASSERT_EQ(sink.write(batch, error), WriteResult::Ok) << error;

  auto lines = readLines(dir.path / "events.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  auto a = parse(lines[0]);
  EXPECT_EQ(a->getValue<std::string>("id"), "id-1");
  EXPECT_EQ(a->getValue<std::string>("pipeline"), "github");
  EXPECT_EQ(a->getValue<std::string>("received_at"), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(a->getValue<std::string>("provider"), "github");
  EXPECT_EQ(a->getValue<std::string>("event_type"), "push");
  EXPECT_EQ(a->getValue<std::string>("delivery_id"), "72d3162e");
  EXPECT_EQ(a->getValue<std::string>("dedup_key"), "github:72d3162e");
  EXPECT_EQ(a->getObject("headers")->getValue<std::string>("x-github-event"), "push");
  EXPECT_EQ(a->getObject("data")->getValue<std::string>("action"), "opened");
  EXPECT_EQ(a->getObject("data")->getValue<std::string>("text"), "a\nb");
  EXPECT_EQ(a->getObject("columns")->getValue<int>("number"), 3);
  EXPECT_FALSE(a->has("body"));

  auto b = parse(lines[1]);
  EXPECT_FALSE(b->has("data"));
  auto decoded = inlet::sdk::crypto::fromBase64(b->getValue<std::string>("body"));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, binary);
}

TEST(FileSink, FsyncsFileEveryBatchAndDirectoryOnCreate) {
  TempDir dir;
  FakeHost host;
  FileSink sink(opts(dir.path / "events.jsonl"), host.sdk());
  std::string error;
  std::vector<inlet::sdk::Event> batch = {event("id-1", "{}", "{}")};
  ASSERT_EQ(sink.write(batch, error), WriteResult::Ok) << error;
  ASSERT_EQ(sink.write(batch, error), WriteResult::Ok) << error;
  EXPECT_EQ(sink.stats().file_syncs, 2u);
  EXPECT_EQ(sink.stats().dir_syncs, 1u);  // created once, then appended to
  EXPECT_EQ(readLines(dir.path / "events.jsonl").size(), 2u);

  // A new instance appends to the existing file: no directory sync needed.
  FileSink again(opts(dir.path / "events.jsonl"), host.sdk());
  ASSERT_EQ(again.write(batch, error), WriteResult::Ok) << error;
  EXPECT_EQ(again.stats().dir_syncs, 0u);
  EXPECT_EQ(again.stats().file_syncs, 1u);
  EXPECT_EQ(readLines(dir.path / "events.jsonl").size(), 3u);
}

TEST(FileSink, RotatesBySize) {
  TempDir dir;
  FakeHost host;
  auto o = opts(dir.path / "events.jsonl");
  std::string one_line = FileSink::formatLine(event("id-1", "{}", "{}")) + "\n";
  o.max_bytes = static_cast<int64_t>(one_line.size() * 2);  // two events per file
  FileSink sink(o, host.sdk());
  std::string error;
  for (int i = 0; i < 5; ++i) {
    host.now += 1000;  // distinct rotation names
    ASSERT_EQ(sink.write({event("id-1", "{}", "{}")}, error), WriteResult::Ok) << error;
  }
  auto files = filesIn(dir.path);
  ASSERT_EQ(files.size(), 3u);  // 2 + 2 rotated, 1 current
  EXPECT_EQ(sink.stats().rotations, 2u);
  size_t total = 0;
  for (const auto& f : files) {
    EXPECT_LE(fs::file_size(f), static_cast<uintmax_t>(o.max_bytes)) << f;
    total += readLines(f).size();
    if (f.filename() != "events.jsonl") {
      EXPECT_EQ(f.filename().string().rfind("events.jsonl.2023", 0), 0u) << f;
    }
  }
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(readLines(dir.path / "events.jsonl").size(), 1u);
  // created + (rename + new file) per rotation
  EXPECT_EQ(sink.stats().dir_syncs, 1u + 2u * 2u);
}

TEST(FileSink, OversizedBatchGetsAFileOfItsOwn) {
  TempDir dir;
  FakeHost host;
  auto o = opts(dir.path / "events.jsonl");
  o.max_bytes = 10;
  FileSink sink(o, host.sdk());
  std::string error;
  std::vector<inlet::sdk::Event> batch = {event("a", "{}", "{}"), event("b", "{}", "{}")};
  ASSERT_EQ(sink.write(batch, error), WriteResult::Ok);
  EXPECT_EQ(sink.stats().rotations, 0u);  // an empty file is never rotated
  host.now += 1000;
  ASSERT_EQ(sink.write(batch, error), WriteResult::Ok);
  EXPECT_EQ(sink.stats().rotations, 1u);
  for (const auto& f : filesIn(dir.path)) EXPECT_EQ(readLines(f).size(), 2u) << f;
}

TEST(FileSink, RotatesByTimeWithInjectedClock) {
  TempDir dir;
  FakeHost host;
  host.now = 1'700'002'800'000;  // 2023-11-14T23:00:00Z, start of an hour
  auto o = opts(dir.path / "events.jsonl");
  o.rotate_every_ms = 3'600'000;
  FileSink sink(o, host.sdk());
  std::string error;
  ASSERT_EQ(sink.write({event("a", "{}", "{}")}, error), WriteResult::Ok);
  host.now += 59 * 60'000;  // 23:59 — same hour
  ASSERT_EQ(sink.write({event("b", "{}", "{}")}, error), WriteResult::Ok);
  EXPECT_EQ(sink.stats().rotations, 0u);
  host.now += 60'000;  // 2023-11-15T00:00:00Z — next hour
  ASSERT_EQ(sink.write({event("c", "{}", "{}")}, error), WriteResult::Ok);
  EXPECT_EQ(sink.stats().rotations, 1u);

  auto rotated = dir.path / "events.jsonl.20231115T000000Z";
  ASSERT_TRUE(fs::exists(rotated));
  auto old_lines = readLines(rotated);
  ASSERT_EQ(old_lines.size(), 2u);
  EXPECT_EQ(parse(old_lines[0])->getValue<std::string>("id"), "a");
  EXPECT_EQ(parse(old_lines[1])->getValue<std::string>("id"), "b");
  auto current = readLines(dir.path / "events.jsonl");
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(parse(current[0])->getValue<std::string>("id"), "c");
}

TEST(FileSink, IoErrorsAreRetry) {
  FakeHost host;
  std::string error;
  // /dev/full accepts the open and fails every write with ENOSPC.
  FileSink full(opts("/dev/full"), host.sdk());
  EXPECT_EQ(full.write({event("a", "{}", "{}")}, error), WriteResult::Retry);
  EXPECT_NE(error.find("No space left"), std::string::npos) << error;

  // A path below a regular file can never be opened.
  TempDir dir;
  std::ofstream(dir.path / "plain").put('x');
  FileSink bad(opts(dir.path / "plain" / "events.jsonl"), host.sdk());
  error.clear();
  EXPECT_EQ(bad.write({event("a", "{}", "{}")}, error), WriteResult::Retry);
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST(FileSink, CreatesMissingParentDirectory) {
  TempDir dir;
  FakeHost host;
  FileSink sink(opts(dir.path / "a" / "b" / "events.jsonl"), host.sdk());
  std::string error;
  ASSERT_EQ(sink.write({event("a", "{}", "{}")}, error), WriteResult::Ok) << error;
  EXPECT_EQ(readLines(dir.path / "a" / "b" / "events.jsonl").size(), 1u);
}

TEST(FileSink, CreateValidatesOptions) {
  inlet::sdk::Host host;
  EXPECT_THROW(FileSink::create(inlet::sdk::Config::parse("{}"), {}, host), std::invalid_argument);
  auto s =
      FileSink::create(inlet::sdk::Config::parse(R"({"path":"x","rotate_every":"1h"})"), {}, host);
  EXPECT_TRUE(s);
  EXPECT_THROW(
      FileSink::create(inlet::sdk::Config::parse(R"({"path":"x","rotate_every":"1w"})"), {}, host),
      std::invalid_argument);
}

}  // namespace
