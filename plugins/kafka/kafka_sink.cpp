#include "kafka_sink.h"

#include <Poco/JSON/Parser.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <thread>

namespace inlet::sinks {

namespace {

constexpr int kPending = -100000;
constexpr int kNotSent = -100001;  // not handed over: the batch already failed

int64_t monoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Errors that the same message will hit again however often it is re-sent.
bool permanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:  // invalid topic name
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

std::string contentTypeOf(std::string_view headers_json) {
  if (headers_json.empty()) return "";
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(std::string(headers_json)).extract<Poco::JSON::Object::Ptr>();
    if (obj && obj->has("content-type") && obj->get("content-type").isString())
      return obj->getValue<std::string>("content-type");
  } catch (const std::exception&) {
  }
  return "";
}

}  // namespace

std::string KafkaSink::topicFor(const std::string& tmpl, std::string_view pipeline,
                                std::string_view table) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl.compare(i, 10, "{pipeline}") == 0) {
      out += pipeline;
      i += 10;
    } else if (tmpl.compare(i, 7, "{table}") == 0) {
      out += table;
      i += 7;
    } else {
      out.push_back(tmpl[i++]);
    }
  }
  return out;
}

// Kafka's rule: 1–249 characters of [a-zA-Z0-9._-].
bool KafkaSink::validTopic(const std::string& topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  for (char c : topic)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return false;
  return true;
}

KafkaSink::KafkaSink(Options options, sdk::Host host) : options_(std::move(options)), host_(host) {
  // Every property is checked now (librdkafka checks some only when a producer is made, e.g.
  // idempotence against acks), on a producer that knows no broker and so contacts nothing: the
  // real producer is made on the first write(). `inlet check` creates sinks too.
  rd_kafka_conf_t* conf = makeConf(false);
  char err[512];
  rd_kafka_t* probe = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!probe) {
    rd_kafka_conf_destroy(conf);
    throw std::invalid_argument(std::string("kafka sink: invalid producer settings: ") + err);
  }
  rd_kafka_destroy(probe);
}

KafkaSink::~KafkaSink() { destroyProducer(); }

std::unique_ptr<KafkaSink> KafkaSink::create(const sdk::Config& config,
                                             const std::vector<sdk::Secret>&,
                                             const sdk::Host& host) {
  Options o;
  o.brokers = config.getString("brokers");
  o.topic = config.getString("topic", "inlet.{pipeline}");
  if (o.topic.empty()) throw std::invalid_argument("kafka sink: `topic` must not be empty");
  if (auto props = config.getObject("properties")) {
    for (const auto& key : props->keys()) {
      auto v = props->raw()->get(key);
      o.properties[key] = v.isString() ? v.extract<std::string>() : v.convert<std::string>();
    }
  }
  if (o.brokers.empty() && !o.properties.count("bootstrap.servers") &&
      !o.properties.count("test.mock.num.brokers"))
    throw std::invalid_argument("kafka sink: `brokers` is required");
  o.timeout_ms = config.getDurationMs("timeout", 30'000);
  if (o.timeout_ms < 100)
    throw std::invalid_argument("kafka sink: `timeout` must be at least 100ms");
  return std::make_unique<KafkaSink>(std::move(o), host);
}

rd_kafka_conf_t* KafkaSink::makeConf(bool with_brokers) const {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::invalid_argument("kafka sink: " + key + ": " + err);
    }
  };
  if (with_brokers && !options_.brokers.empty()) set("bootstrap.servers", options_.brokers);
  // Exactly-once per partition within a producer session (no duplicates from librdkafka's own
  // retries, no reordering), and a report only once every in-sync replica has the message.
  set("enable.idempotence", "true");
  set("acks", "all");
  // A message that cannot be delivered reports failure before write() stops waiting.
  set("message.timeout.ms", std::to_string(options_.timeout_ms));
  set("client.id", "inlet");
  for (const auto& [key, value] : options_.properties) {
    if (!with_brokers && (key == "bootstrap.servers" || key == "metadata.broker.list" ||
                          key.rfind("test.mock.", 0) == 0))
      continue;
    set(key, value);
  }
  return conf;
}

void KafkaSink::createProducer() {
  rd_kafka_conf_t* conf = makeConf(true);
  char err[512];
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::onDelivery);
  rd_kafka_conf_set_log_cb(conf,
                           [](const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
                             auto* self = static_cast<KafkaSink*>(rd_kafka_opaque(rk));
                             if (self && level <= 4)
                               self->host_.warn(std::string("kafka sink: ") + fac + ": " + buf);
                           });
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);  // takes conf on success
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    throw std::invalid_argument(std::string("kafka sink: cannot create producer: ") + err);
  }
}

void KafkaSink::destroyProducer() {
  if (!rk_) return;
  rd_kafka_flush(rk_, 2000);
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_, 0);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

void KafkaSink::onDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  auto number = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(msg->_private));
  if (number < self->batch_base_ || number >= self->batch_base_ + self->status_.size()) return;
  int& slot = self->status_[number - self->batch_base_];
  if (slot == kPending && self->pending_ > 0) --self->pending_;
  slot = msg->err;
}

void KafkaSink::prepare(const sdk::TableSpec& table) {
  std::string topic = topicFor(options_.topic, table.pipeline, table.table);
  if (!validTopic(topic))
    throw std::invalid_argument("kafka sink: topic '" + topic + "' (from '" + options_.topic +
                                "') is not a valid Kafka topic name ([a-zA-Z0-9._-], 1-249 chars)");
}

sdk::WriteResult KafkaSink::write(const std::vector<sdk::Event>& events, std::string& error) {
  if (events.empty()) return sdk::WriteResult::Ok;
  char fatal[512];
  if (rk_ && rd_kafka_fatal_error(rk_, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // An idempotent producer that lost its sequence state cannot go on; a new one can.
    host_.warn(std::string("kafka sink: producer fatal error, recreating: ") + fatal);
    destroyProducer();
  }
  if (!rk_) {
    try {
      createProducer();
    } catch (const std::exception& e) {
      error = e.what();
      return sdk::WriteResult::Retry;
    }
  }

  const int64_t deadline = monoMs() + options_.timeout_ms + 1000;
  batch_base_ = next_number_;
  next_number_ += events.size();
  status_.assign(events.size(), kPending);
  pending_ = events.size();
  bool drop = false, retry = false;
  size_t handed = 0;

  for (size_t i = 0; i < events.size() && !drop && !retry; ++i) {
    const sdk::Event& e = events[i];
    std::string topic = topicFor(options_.topic, e.pipeline, e.table);
    if (!validTopic(topic)) {
      error = "invalid topic name '" + topic + "'";
      drop = true;
      break;
    }
    std::string_view key = e.dedup_key.empty() ? e.id : e.dedup_key;
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(8);
    auto add = [&](const char* name, std::string_view v) {
      rd_kafka_header_add(hdrs, name, -1, v.data(), static_cast<ssize_t>(v.size()));
    };
    add("inlet-id", e.id);
    add("inlet-pipeline", e.pipeline);
    add("inlet-provider", e.provider);
    add("inlet-event-type", e.event_type);
    add("inlet-delivery-id", e.delivery_id);
    add("inlet-received-ms", std::to_string(e.received_ms));
    std::string content_type = contentTypeOf(e.headers_json);
    if (!content_type.empty()) add("content-type", content_type);

    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(e.body.data()), e.body.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(batch_base_ + i))),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {  // hdrs now owned by the message
        handed = i + 1;
        break;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && monoMs() < deadline) {
        rd_kafka_poll(rk_, 50);  // let deliveries drain the local queue
        continue;
      }
      rd_kafka_headers_destroy(hdrs);
      error = "produce to " + topic + " failed: " + rd_kafka_err2str(err);
      (permanent(err) ? drop : retry) = true;
      break;
    }
  }
  for (size_t i = handed; i < status_.size(); ++i) {
    status_[i] = kNotSent;
    --pending_;
  }

  // Wait for every report of what was handed over (flush serves the delivery callback).
  while (pending_ > 0) {
    int64_t left = deadline - monoMs();
    if (left <= 0) break;
    rd_kafka_flush(rk_, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (rd_kafka_outq_len(rk_) == 0) rd_kafka_poll(rk_, 0);
    if (rd_kafka_outq_len(rk_) == 0 && pending_ > 0) break;  // nothing left to report
  }

  size_t unacked = 0;
  for (size_t i = 0; i < status_.size(); ++i) {
    int s = status_[i];
    if (s == kNotSent) continue;
    if (s == kPending) {
      ++unacked;
      continue;
    }
    auto err = static_cast<rd_kafka_resp_err_t>(s);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (error.empty())
      error =
          "delivery of event " + std::string(events[i].id) + " failed: " + rd_kafka_err2str(err);
    (permanent(err) ? drop : retry) = true;
  }
  if (unacked > 0) {
    retry = true;
    if (error.empty())
      error = std::to_string(unacked) + " message(s) not acknowledged within " +
              std::to_string(options_.timeout_ms) + " ms";
  }
  // Later reports for this batch belong to nobody.
  batch_base_ = next_number_;
  status_.clear();
  pending_ = 0;
  if (retry) return sdk::WriteResult::Retry;  // transient wins: the batch is re-sent whole
  if (drop) return sdk::WriteResult::Drop;
  return sdk::WriteResult::Ok;
}

}  // namespace inlet::sinks
