// The HTTP edge: a few event-loop threads (epoll, edge-triggered) serve any number of
// keep-alive connections. A connection costs a buffer, not a thread, so no connection waits for
// another to finish, and a request waiting for the journal's group commit holds nothing but its
// connection. Poco provides the listening socket and address handling; the HTTP/1.1 framing is
// in http.h; what a request means is in handler.h.
#pragma once

#include <Poco/Net/ServerSocket.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "delivery/delivery.h"
#include "journal/journal.h"
#include "pipeline/runtime.h"
#include "server/handler.h"

namespace inlet::server {

class Loop;
struct Settings;

class Server {
 public:
  Server(pipeline::Runtime& runtime, journal::Journal& journal, delivery::Delivery* delivery);
  ~Server();
  // Binds and starts accepting. Throws std::runtime_error when the address is unusable (in use,
  // no permission): SO_REUSEPORT is deliberately off so a second instance cannot silently share
  // the port.
  void start();
  // Stops accepting, lets in-flight requests finish (up to the shutdown grace), then closes
  // every connection.
  void stop();
  uint16_t port() const { return port_; }
  int loops() const;

 private:
  pipeline::Runtime& runtime_;
  Handler handler_;
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Settings> settings_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<int> connections_{0};
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace inlet::server
