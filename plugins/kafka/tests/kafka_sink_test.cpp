#include "kafka_sink.h"

#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>
#include <inlet/testing/kafka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using inlet::sdk::WriteResult;
using inlet::sinks::KafkaSink;
using inlet::testing::consume;
using inlet::testing::MockCluster;

namespace {

struct Owned {
  std::string id, pipeline = "github", table = "github_events", dedup_key, body;
  inlet::sdk::Event view() const {
    inlet::sdk::Event e;
    e.id = id;
    e.pipeline = pipeline;
    e.table = table;
    e.received_ms = 1'700'000'000'123;
    e.provider = "github";
    e.event_type = "push";
    e.delivery_id = "72d3162e";
    e.dedup_key = dedup_key;
    e.headers_json = R"({"content-type":"application/json","x-github-event":"push"})";
    e.body = body;
    e.data_json = body;
    e.columns_json = "{}";
    return e;
  }
};

WriteResult write(KafkaSink& sink, const std::vector<Owned>& owned, std::string& error) {
  std::vector<inlet::sdk::Event> batch;
  for (const auto& o : owned) batch.push_back(o.view());
  error.clear();
  return sink.write(batch, error);
}

KafkaSink::Options options(const MockCluster& mock, int64_t timeout_ms = 10'000) {
  KafkaSink::Options o;
  o.brokers = mock.bootstraps();
  o.timeout_ms = timeout_ms;
  o.properties["log_level"] = "0";  // the down-broker test is noisy by design
  return o;
}

TEST(KafkaSink, ProducesKeyValueAndHeaders) {
  MockCluster mock;
  mock.createTopic("inlet.github");
  KafkaSink sink(options(mock), inlet::sdk::Host());
  std::string error;
  std::string binary("\x00\x01\xff", 3);
  ASSERT_EQ(write(sink,
                  {{"id-1", "github", "github_events", "github:d1", R"({"a":1})"},
                   {"id-2", "github", "github_events", "", binary}},
                  error),
            WriteResult::Ok)
      << error;

  auto msgs = consume(mock.bootstraps(), "inlet.github", 2);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].key, "github:d1");
  EXPECT_EQ(msgs[0].value, R"({"a":1})");
  EXPECT_EQ(msgs[0].headers["inlet-id"], "id-1");
  EXPECT_EQ(msgs[0].headers["inlet-pipeline"], "github");
  EXPECT_EQ(msgs[0].headers["inlet-provider"], "github");
  EXPECT_EQ(msgs[0].headers["inlet-event-type"], "push");
  EXPECT_EQ(msgs[0].headers["inlet-delivery-id"], "72d3162e");
  EXPECT_EQ(msgs[0].headers["inlet-received-ms"], "1700000000123");
  EXPECT_EQ(msgs[0].headers["content-type"], "application/json");
  // No dedup key: keyed by the event id. Binary bodies are carried verbatim.
  EXPECT_EQ(msgs[1].key, "id-2");
  EXPECT_EQ(msgs[1].value, binary);
}

TEST(KafkaSink, TopicTemplate) {
  EXPECT_EQ(KafkaSink::topicFor("inlet.{pipeline}", "github", "gh"), "inlet.github");
  EXPECT_EQ(KafkaSink::topicFor("{table}-{pipeline}-{x}", "p", "t"), "t-p-{x}");
  EXPECT_TRUE(KafkaSink::validTopic("inlet.github_events-1"));
  EXPECT_FALSE(KafkaSink::validTopic("inlet/github"));
  EXPECT_FALSE(KafkaSink::validTopic(""));
  EXPECT_FALSE(KafkaSink::validTopic(std::string(250, 'a')));

  MockCluster mock;
  mock.createTopic("events.github_events");
  auto o = options(mock);
  o.topic = "events.{table}";
  KafkaSink sink(o, inlet::sdk::Host());
  inlet::sdk::TableSpec bad;
  bad.pipeline = "p";
  bad.table = "has space";
  EXPECT_THROW(sink.prepare(bad), std::invalid_argument);
  std::string error;
  ASSERT_EQ(write(sink, {{"id-1", "github", "github_events", "", "x"}}, error), WriteResult::Ok)
      << error;
  auto msgs = consume(mock.bootstraps(), "events.github_events", 1);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].value, "x");
  // An event whose table makes an invalid topic can never be written.
  EXPECT_EQ(write(sink, {{"id-2", "github", "bad/table", "", "x"}}, error), WriteResult::Drop);
}

TEST(KafkaSink, BrokerDownIsRetryThenOk) {
  MockCluster mock;
  mock.createTopic("inlet.github");
  auto o = options(mock, /*timeout_ms=*/1500);
  o.properties["reconnect.backoff.max.ms"] = "200";  // come back quickly once the broker does
  KafkaSink sink(o, inlet::sdk::Host());
  std::string error;
  ASSERT_EQ(write(sink, {{"id-1", "github", "t", "k1", "one"}}, error), WriteResult::Ok) << error;

  mock.brokerDown();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(write(sink, {{"id-2", "github", "t", "k2", "two"}}, error), WriteResult::Retry);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(error.empty());

  mock.brokerUp();
  // The host re-sends the batch after a backoff.
  WriteResult r = WriteResult::Retry;
  int attempts = 0;
  for (; attempts < 5 && r == WriteResult::Retry; ++attempts)
    r = write(sink, {{"id-2", "github", "t", "k2", "two"}}, error);
  RecordProperty("attempts_after_broker_up", attempts);
  ASSERT_EQ(r, WriteResult::Ok) << error;
  auto msgs = consume(mock.bootstraps(), "inlet.github", 2);
  ASSERT_GE(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].key, "k1");
  EXPECT_EQ(msgs.back().key, "k2");
}

TEST(KafkaSink, OversizedMessageIsDrop) {
  MockCluster mock;
  mock.createTopic("inlet.github");
  auto o = options(mock);
  o.properties["message.max.bytes"] = "2000";
  KafkaSink sink(o, inlet::sdk::Host());
  std::string error;
  EXPECT_EQ(write(sink,
                  {{"id-1", "github", "t", "", "small"},
                   {"id-2", "github", "t", "", std::string(10'000, 'x')}},
                  error),
            WriteResult::Drop);
  EXPECT_NE(error.find("too large"), std::string::npos) << error;
}

TEST(KafkaSink, BuiltInMockClusterViaProperties) {
  // `test.mock.num.brokers` makes the producer start its own mock cluster (no brokers needed).
  auto sink = KafkaSink::create(
      inlet::sdk::Config::parse(
          R"({"properties":{"test.mock.num.brokers":"1","log_level":"0"},"timeout":"10s"})"),
      {}, inlet::sdk::Host());
  std::string error;
  ASSERT_EQ(
      write(*sink, {{"id-1", "github", "t", "", "x"}, {"id-2", "github", "t", "", "y"}}, error),
      WriteResult::Ok)
      << error;
}

TEST(KafkaSink, CreateValidatesOptions) {
  using inlet::sdk::Config;
  inlet::sdk::Host host;
  EXPECT_THROW(KafkaSink::create(Config::parse("{}"), {}, host), std::invalid_argument);
  EXPECT_THROW(
      KafkaSink::create(
          Config::parse(R"({"brokers":"127.0.0.1:9","properties":{"no.such.setting":"1"}})"), {},
          host),
      std::invalid_argument);
  EXPECT_THROW(
      KafkaSink::create(Config::parse(R"({"brokers":"127.0.0.1:9","timeout":"1ms"})"), {}, host),
      std::invalid_argument);
  // Refused only when librdkafka makes a producer: the idempotent producer needs acks=all.
  try {
    KafkaSink::create(Config::parse(R"({"brokers":"127.0.0.1:9","properties":{"acks":"1"}})"), {},
                      host);
    ADD_FAILURE() << "acks=1 with idempotence was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("acks"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(KafkaSink::create(Config::parse(R"({"brokers":"127.0.0.1:9"})"), {}, host));
}

TEST(KafkaSink, CreatingTheSinkContactsNoBroker) {
  // `inlet check` creates sinks: a broker that listens must see no connection until a write.
  Poco::Net::ServerSocket broker(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::string brokers = "127.0.0.1:" + std::to_string(broker.address().port());
  using inlet::sdk::Config;
  inlet::sdk::Host host;
  auto sink =
      KafkaSink::create(Config::parse(R"({"brokers":")" + brokers +
                                      R"(","timeout":"1s","properties":{"log_level":"0"}})"),
                        {}, host);
  ASSERT_TRUE(sink);
  EXPECT_FALSE(broker.poll(Poco::Timespan(500 * 1000), Poco::Net::Socket::SELECT_READ))
      << "a connection arrived before any write";
  // The first write does connect (and cannot succeed: this "broker" never answers).
  std::string error;
  EXPECT_EQ(write(*sink, {{"id-1", "github", "t", "k1", "one"}}, error), WriteResult::Retry);
  EXPECT_TRUE(broker.poll(Poco::Timespan(2 * 1000 * 1000), Poco::Net::Socket::SELECT_READ));
}

}  // namespace
