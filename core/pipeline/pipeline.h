// One configured pipeline at run time: everything a request passes through between the HTTP
// edge and the journal — verify (auth plugin, raw bytes), decode/split, typed columns, dedup key.
#pragma once

#include <Poco/Net/IPAddress.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "journal/journal.h"
#include "plugin/instances.h"
#include "util/histogram.h"

namespace inlet::pipeline {

struct Request {
  std::string method;
  std::string target;  // path?query as received
  std::string url;     // absolute URL as the sender addressed it
  std::string remote_addr;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, arrival order
  std::string body;
  int64_t received_ms = 0;
};

// An HTTP answer decided by the pipeline.
struct Outcome {
  int status = 200;
  std::string code;  // stable reason code for errors ("" on success)
  std::string message;
  std::string content_type = "application/json";
  std::string body;  // full response body
  bool retry_after = false;
};

Outcome errorOutcome(int status, const std::string& code, const std::string& message);

// Result of turning a verified request into journal events.
struct Prepared {
  bool ok = false;
  Outcome error;          // when !ok
  std::string claim_key;  // dedup claim ("" = none)
  std::vector<journal::Event> events;
};

class Pipeline {
 public:
  Pipeline(config::PipelineConfig config, std::unique_ptr<plugin::AuthInstance> auth);

  const config::PipelineConfig& config() const { return config_; }
  bool methodAllowed(const std::string& method) const;
  bool ipAllowed(const std::string& address) const;
  bool takeToken();  // rate limit; false = over the limit

  // Auth step (raw bytes, before any parsing).
  inlet_auth_result verify(const Request& request) const;
  // Decode, split, columns, dedup key. Pure: no I/O.
  Prepared prepare(const Request& request, const inlet_auth_result& verdict) const;

  void count(const std::string& code);
  std::map<std::string, uint64_t> counters() const;
  // From a request read in full to its answer being ready (any thread may observe).
  util::Histogram& durations() { return durations_; }

 private:
  config::PipelineConfig config_;
  std::unique_ptr<plugin::AuthInstance> auth_;
  std::vector<std::pair<Poco::Net::IPAddress, unsigned>> allow_;  // address, prefix length
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> counters_;
  util::Histogram durations_{util::Histogram::latencyBounds()};
  double tokens_ = 0;
  int64_t last_refill_ms_ = 0;
};

// Helpers exposed for tests.
std::string headersJson(const std::vector<std::pair<std::string, std::string>>& headers);
std::string formToJson(std::string_view body);
// RFC 6901 pointer lookup in JSON text; returns the JSON text of the value (a number as written)
// or nullopt.
std::optional<std::string> jsonPointer(std::string_view json, const std::string& pointer);

}  // namespace inlet::pipeline
