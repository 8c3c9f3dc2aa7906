// HTTP forwarding sink: POSTs each event's raw body to a downstream URL, one request per event,
// with the original content-type and an Idempotency-Key so the receiver can drop re-sends.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <inlet/sdk.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace inlet::sinks {

class HttpSink : public sdk::Sink {
 public:
  struct Options {
    std::string url;              // http(s)://host[:port]/path[?query]
    std::string ca_file;          // https: PEM file of the CAs to trust instead of the system's
    int64_t timeout_ms = 10'000;  // connect, send and receive, each
    std::map<std::string, std::string> headers;  // extra static headers on every request
  };

  HttpSink(Options options, sdk::Host host);
  ~HttpSink() override;
  static std::unique_ptr<HttpSink> create(const sdk::Config& config,
                                          const std::vector<sdk::Secret>& secrets,
                                          const sdk::Host& host);

  void prepare(const sdk::TableSpec& table) override;
  sdk::WriteResult write(const std::vector<sdk::Event>& events, std::string& error) override;

  // How a downstream status maps to a batch outcome (2xx Ok; 408, 429, 5xx Retry; others Drop).
  static sdk::WriteResult classify(int status);

 private:
  sdk::WriteResult send(const sdk::Event& event, std::string& error);

  Options options_;
  sdk::Host host_;
  std::string host_name_;
  uint16_t port_ = 80;
  Poco::Net::Context::Ptr tls_;  // set for https: peer chain and host name are verified
  std::string target_;           // path?query
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  bool reused_ = false;  // the session has already carried a request
};

}  // namespace inlet::sinks
