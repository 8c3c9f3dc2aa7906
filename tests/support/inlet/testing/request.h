// Builds an inlet::sdk::Request for provider unit tests (owns every string it points into).
#pragma once

#include <inlet/sdk.h>

#include <cctype>
#include <deque>
#include <string>

namespace inlet::testing {

class RequestBuilder {
 public:
  RequestBuilder& method(std::string m) {
    method_ = std::move(m);
    return *this;
  }
  // Absolute URL as the sender addressed it; also sets target (path?query).
  RequestBuilder& url(std::string u) {
    url_ = std::move(u);
    auto scheme = url_.find("://");
    auto slash = url_.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    target_ = slash == std::string::npos ? "/" : url_.substr(slash);
    return *this;
  }
  RequestBuilder& body(std::string b) {
    body_ = std::move(b);
    return *this;
  }
  // Header names are lower-cased, as the host does.
  RequestBuilder& header(std::string name, std::string value) {
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  RequestBuilder& receivedMs(int64_t ms) {
    received_ms_ = ms;
    return *this;
  }
  RequestBuilder& receivedSeconds(int64_t s) {
    received_ms_ = s * 1000;
    return *this;
  }

  sdk::Request request() const {
    sdk::Request r;
    r.method = method_;
    r.url = url_;
    r.target = target_;
    r.body = body_;
    r.received_ms = received_ms_;
    r.remote_addr = "127.0.0.1:5555";
    for (const auto& h : headers_) r.headers.emplace_back(h.first, h.second);
    return r;
  }

 private:
  std::string method_ = "POST";
  std::string url_ = "https://example.com/webhook";
  std::string target_ = "/webhook";
  std::string body_;
  std::deque<std::pair<std::string, std::string>> headers_;
  int64_t received_ms_ = 0;
};

}  // namespace inlet::testing
