// The HTTP edge (Poco). Admission happens here, cheapest check first: route, method, source
// address, rate, in-flight budget, declared size — all before a byte of the body is read.
#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <memory>
#include <string>

#include "config/config.h"
#include "delivery/delivery.h"
#include "journal/journal.h"
#include "pipeline/runtime.h"

namespace inlet::server {

struct Shared {
  pipeline::Runtime& runtime;
  journal::Journal& journal;
  delivery::Delivery* delivery;  // may be null (no sinks)
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> requests{0};
  Shared(pipeline::Runtime& r, journal::Journal& j, delivery::Delivery* d)
      : runtime(r), journal(j), delivery(d) {}
};

class Server {
 public:
  Server(pipeline::Runtime& runtime, journal::Journal& journal, delivery::Delivery* delivery);
  ~Server();
  // Binds and starts accepting. Throws std::runtime_error when the address is unusable (in use,
  // no permission): SO_REUSEPORT is deliberately off so a second instance cannot silently share
  // the port.
  void start();
  // Stops accepting, lets in-flight requests finish (up to grace), then closes connections.
  void stop();
  uint16_t port() const;

 private:
  Shared shared_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> http_;
  uint16_t port_ = 0;
};

}  // namespace inlet::server
