// Kafka sink (librdkafka): one message per event, key = dedup key (or event id), value = raw
// body, metadata as headers. Idempotent producer with acks=all; a batch is Ok only when every
// message of it has a successful delivery report.
#pragma once

#include <inlet/sdk.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_message_s;
struct rd_kafka_conf_s;

namespace inlet::sinks {

class KafkaSink : public sdk::Sink {
 public:
  struct Options {
    std::string brokers;                            // bootstrap.servers
    std::string topic = "inlet.{pipeline}";         // {pipeline} and {table} are replaced
    std::map<std::string, std::string> properties;  // extra librdkafka settings, applied last
    int64_t timeout_ms = 30'000;                    // per batch: every delivery report by then
  };

  KafkaSink(Options options, sdk::Host host);  // throws on a setting librdkafka refuses
  ~KafkaSink() override;
  static std::unique_ptr<KafkaSink> create(const sdk::Config& config,
                                           const std::vector<sdk::Secret>& secrets,
                                           const sdk::Host& host);

  void prepare(const sdk::TableSpec& table) override;
  sdk::WriteResult write(const std::vector<sdk::Event>& events, std::string& error) override;

  static std::string topicFor(const std::string& tmpl, std::string_view pipeline,
                              std::string_view table);
  static bool validTopic(const std::string& topic);

 private:
  // The producer's configuration; without brokers (and mock-cluster settings) for a check that
  // must contact nothing. Throws std::invalid_argument naming a refused property.
  rd_kafka_conf_s* makeConf(bool with_brokers) const;
  void createProducer();
  void destroyProducer();
  static void onDelivery(rd_kafka_s* rk, const rd_kafka_message_s* msg, void* opaque);

  Options options_;
  sdk::Host host_;
  rd_kafka_s* rk_ = nullptr;
  // Delivery reports of the batch in flight: message numbers [batch_base_, batch_base_ + n).
  // Reports for older numbers (a batch given up on) are ignored.
  uint64_t next_number_ = 1;
  uint64_t batch_base_ = 0;
  std::vector<int> status_;  // per message: kPending, or an rd_kafka_resp_err_t
  size_t pending_ = 0;
};

}  // namespace inlet::sinks
