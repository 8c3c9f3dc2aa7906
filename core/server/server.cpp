#include "server/server.h"

#include <Poco/Net/SocketAddress.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "server/http.h"
#include "util/log.h"
#include "util/thread.h"

namespace inlet::server {

struct Settings {
  http::Limits limits;
  int64_t read_timeout_ms;
  int64_t keepalive_timeout_ms;
  int max_keepalive_requests;
  int max_connections;
};

namespace {

int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadChunk = 64 * 1024;

// What other threads hand to a loop: answers from the journal's writer thread (and delivery's
// waiter), connections accepted by another loop, and the stop signal. One eventfd write per
// batch, not per item.
struct Mailbox {
  std::mutex mutex;
  std::vector<std::pair<uint64_t, Reply>> replies;
  std::vector<int> adopted;  // accepted sockets handed over for balance
  bool open = true;
  int event_fd = -1;

  Mailbox() : event_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (event_fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
  ~Mailbox() { ::close(event_fd); }
  void wake() {
    uint64_t one = 1;
    ssize_t n = ::write(event_fd, &one, sizeof one);
    (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake anyway
  }
  void post(uint64_t id, Reply&& reply) {
    bool first;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!open) return;  // the loop is gone; the event is durable all the same
      first = replies.empty() && adopted.empty();
      replies.emplace_back(id, std::move(reply));
    }
    if (first) wake();
  }
  bool adopt(int fd) {
    bool first;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!open) return false;
      first = replies.empty() && adopted.empty();
      adopted.push_back(fd);
    }
    if (first) wake();
    return true;
  }
};

}  // namespace

class Loop {
 public:
  Loop(Handler& handler, const Settings& settings, int listen_fd, std::atomic<int>& connections)
      : handler_(handler),
        settings_(settings),
        listen_fd_(listen_fd),
        connections_(connections),
        mailbox_(std::make_shared<Mailbox>()) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeId;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, mailbox_->event_fd, &ev);
    // Every loop waits on the one listening socket; EPOLLEXCLUSIVE wakes one of them per
    // connection instead of all (no thundering herd).
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = kListenId;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0)
      throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
  }

  ~Loop() {
    for (auto& [id, c] : conns_)
      if (!c->dead) ::close(c->fd);
    ::close(epfd_);
  }

  void setPeers(std::vector<Loop*> peers) { peers_ = std::move(peers); }
  std::shared_ptr<Mailbox> mailbox() const { return mailbox_; }

  void requestStop(int64_t deadline_ms) {
    stop_deadline_.store(deadline_ms);
    stop_.store(true);
    mailbox_->wake();
  }

  void run() {
    epoll_event events[256];
    for (;;) {
      int n = ::epoll_wait(epfd_, events, 256, 100);
      if (n < 0 && errno != EINTR) {
        log::error(std::string("epoll_wait: ") + std::strerror(errno));
        break;
      }
      now_ = steadyMs();
      for (int i = 0; i < n; ++i) {
        uint64_t id = events[i].data.u64;
        if (id == kListenId) {
          acceptAll();
        } else if (id == kWakeId) {
          uint64_t count;
          ssize_t r = ::read(mailbox_->event_fd, &count, sizeof count);
          (void)r;
          drainMailbox();
        } else {
          auto it = conns_.find(id);
          if (it != conns_.end() && !it->second->dead) onEvent(*it->second, events[i].events);
        }
      }
      if (now_ - last_tick_ >= 100 || n == 0) tick();
      reap();
      if (stop_.load() && stopTick()) break;
    }
    {
      std::lock_guard<std::mutex> lock(mailbox_->mutex);
      mailbox_->open = false;
      for (int fd : mailbox_->adopted) {
        ::close(fd);
        --connections_;
      }
      mailbox_->adopted.clear();
    }
    for (auto& [id, c] : conns_)
      if (!c->dead) close(*c);
    reap();
  }

 private:
  enum class State { Idle, Head, Body, Chunked, Waiting, Lingering };

  struct Conn {
    int fd = -1;
    uint64_t id = 0;
    std::string peer, peer_host;
    State state = State::Idle;
    std::string in;
    size_t in_pos = 0;
    std::string out;
    size_t out_pos = 0;
    http::Head head;
    Handler::Admission admission;
    std::string body;
    uint64_t remaining = 0;
    uint64_t held = 0;  // body bytes taken from the handler's budget until the answer
    std::unique_ptr<http::ChunkedDecoder> chunked;
    int64_t received_ms = 0;
    int64_t deadline = 0;  // steady ms; 0 = none
    int served = 0;
    bool keep_alive = true;
    bool close_after = false;
    bool eof = false;
    bool read_blocked = false;  // input left in the kernel while an answer is pending
    bool dead = false;
    size_t unconsumed() const { return in.size() - in_pos; }
  };

  // ---- connections -----------------------------------------------------------------------

  void acceptAll() {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage ss;
      socklen_t len = sizeof ss;
      int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors: stop listening for a moment instead of spinning on a
          // readable listening socket; the kernel keeps the backlog.
          log::warn("accept: out of file descriptors; pausing accepts for 100 ms");
          epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          accept_paused_until_ = now_ + 100;
        }
        return;
      }
      if (connections_.fetch_add(1) >= settings_.max_connections) {
        // Over the limit: answer 503 and close gracefully (lingering, at most 2 s), so the
        // sender reads the answer instead of a reset.
        add(fd, /*refuse=*/true);
        continue;
      }
      // Round robin over the loops, so connections opened in a burst do not all land on the
      // loop that happened to wake up.
      Loop* target = peers_.empty() ? this : peers_[next_peer_++ % peers_.size()];
      if (target == this || !target->mailbox_->adopt(fd)) add(fd);
    }
  }

  void add(int fd, bool refuse = false) {
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = next_id_++;
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      try {
        Poco::Net::SocketAddress addr(reinterpret_cast<sockaddr*>(&ss), len);
        c->peer = addr.toString();
        c->peer_host = addr.host().toString();
      } catch (const Poco::Exception&) {
      }
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = c->id;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      --connections_;
      return;
    }
    c->deadline = now_ + settings_.keepalive_timeout_ms;
    Conn& ref = *c;
    conns_.emplace(c->id, std::move(c));
    if (refuse) {
      return respond(ref, Handler::refusal(503, "overloaded", "too many connections"));
    }
    onReadable(ref);  // data may have arrived before the socket joined this loop
  }

  void releaseBody(Conn& c) {
    handler_.releaseBody(c.held);
    c.held = 0;
  }

  void close(Conn& c) {
    if (c.dead) return;
    releaseBody(c);
    c.dead = true;
    ::close(c.fd);
    --connections_;
    dead_.push_back(c.id);
  }

  void reap() {
    for (uint64_t id : dead_) conns_.erase(id);
    dead_.clear();
  }

  // ---- events ----------------------------------------------------------------------------

  void onEvent(Conn& c, uint32_t events) {
    if ((events & EPOLLOUT) && c.out_pos < c.out.size()) {
      if (!flush(c)) return;
      if (c.dead) return;
      resume(c);
      if (c.dead) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) onReadable(c);
  }

  bool busy(const Conn& c) const { return c.state == State::Waiting || c.out_pos < c.out.size(); }

  void onReadable(Conn& c) {
    while (!c.dead) {
      if (busy(c)) {
        c.read_blocked = true;  // read it once the answer is out (edge-triggered: remember)
        return;
      }
      ssize_t n = ::recv(c.fd, buf_, sizeof buf_, 0);
      if (n > 0) {
        if (c.state == State::Lingering) continue;  // discarded
        if (c.in_pos == c.in.size()) {
          c.in.clear();
          c.in_pos = 0;
        }
        c.in.append(buf_, static_cast<size_t>(n));
        process(c);
        if (static_cast<size_t>(n) < sizeof buf_) return;  // drained; the next edge says more
      } else if (n == 0) {
        c.eof = true;
        if (c.state == State::Lingering) return close(c);
        process(c);
        return;
      } else {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) close(c);
        return;
      }
    }
  }

  // An answer went out: carry on with input that is already buffered or still in the kernel.
  void resume(Conn& c) {
    if (c.dead || busy(c) || c.state == State::Lingering) return;
    process(c);
    if (!c.dead && !busy(c) && c.read_blocked) {
      c.read_blocked = false;
      onReadable(c);
    }
  }

  // Advances the request state machine over buffered input.
  void process(Conn& c) {
    while (!c.dead && !busy(c)) {
      switch (c.state) {
        case State::Lingering:
          c.in.clear();
          c.in_pos = 0;
          return;
        case State::Waiting:
          return;
        case State::Idle:
        case State::Head: {
          if (c.unconsumed() == 0) {
            if (c.eof) close(c);
            return;
          }
          if (c.state == State::Idle) {
            // The head must be complete within the read timeout of its first byte.
            c.state = State::Head;
            c.deadline = now_ + settings_.read_timeout_ms;
          }
          size_t consumed = 0;
          http::Error error;
          auto r = http::parseHead(std::string_view(c.in).substr(c.in_pos), settings_.limits,
                                   c.head, consumed, error);
          if (r == http::Parse::Incomplete) {
            if (c.eof) close(c);
            return;
          }
          if (r == http::Parse::Failed) {
            respond(c, Handler::refusal(error.status, error.code, error.message));
            continue;
          }
          c.in_pos += consumed;
          c.received_ms = wallMs();
          c.keep_alive = c.head.keep_alive;
          c.admission = handler_.admit(c.head, c.peer_host);
          if (c.admission.reply) {
            respond(c, std::move(*c.admission.reply));
            continue;
          }
          c.held = c.admission.held;
          c.body.clear();
          if (c.head.chunked) {
            c.chunked =
                std::make_unique<http::ChunkedDecoder>(c.admission.max_body, settings_.limits);
            c.state = State::Chunked;
          } else {
            if (c.head.content_length > c.admission.max_body) {  // internal endpoints
              respond(c, Handler::refusal(413, "body_too_large", "body too large"));
              continue;
            }
            c.remaining = c.head.content_length;
            c.body.reserve(static_cast<size_t>(c.remaining));
            c.state = State::Body;
          }
          if (c.head.expect_continue && c.unconsumed() == 0 &&
              (c.state == State::Chunked || c.remaining > 0)) {
            // Only now, after admission: a body that would be refused is never invited.
            c.out = "HTTP/1.1 100 Continue\r\n\r\n";
            c.out_pos = 0;
            if (!flush(c)) return;
          }
          c.deadline = now_ + settings_.read_timeout_ms;
          break;
        }
        case State::Body: {
          size_t n = static_cast<size_t>(std::min<uint64_t>(c.remaining, c.unconsumed()));
          c.body.append(c.in, c.in_pos, n);
          c.in_pos += n;
          c.remaining -= n;
          if (c.remaining > 0) {
            if (c.eof) return close(c);
            c.deadline = now_ + settings_.read_timeout_ms;  // progress resets the clock
            return;
          }
          dispatch(c);
          break;
        }
        case State::Chunked: {
          size_t consumed = 0;
          http::Error error;
          auto r =
              c.chunked->feed(std::string_view(c.in).substr(c.in_pos), c.body, consumed, error);
          c.in_pos += consumed;
          if (r == http::Parse::Failed) {
            respond(c, Handler::refusal(error.status, error.code, error.message));
            continue;
          }
          // A chunked body takes from the budget what has arrived.
          if (c.body.size() > c.held) {
            if (!handler_.holdBody(c.body.size() - c.held)) {
              if (c.admission.pipeline) c.admission.pipeline->count("overloaded");
              respond(c, Handler::refusal(503, "overloaded", Handler::kOverBudget));
              continue;
            }
            c.held = c.body.size();
          }
          if (r == http::Parse::Incomplete) {
            if (c.eof) return close(c);
            c.deadline = now_ + settings_.read_timeout_ms;
            return;
          }
          c.chunked.reset();
          dispatch(c);
          break;
        }
      }
    }
  }

  void dispatch(Conn& c) {
    c.state = State::Waiting;
    c.deadline = 0;  // the journal always answers
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    uint64_t id = c.id;
    auto reply =
        handler_.handle(c.admission, std::move(c.head), std::move(c.body), c.peer, c.received_ms,
                        [mailbox, id](Reply&& r) { mailbox->post(id, std::move(r)); });
    c.body = std::string();
    if (reply) respond(c, std::move(*reply));
  }

  // Queues the answer to the current request and starts writing it.
  void respond(Conn& c, Reply&& reply) {
    releaseBody(c);  // answered: the body is stored, refused or dropped
    ++c.served;
    bool keep = c.keep_alive && !reply.close && !c.eof && !stop_.load() &&
                c.served < settings_.max_keepalive_requests &&
                (c.state == State::Waiting || c.state == State::Idle);
    // A refusal before the body was read leaves the body on the wire: the connection cannot
    // carry another request.
    c.out += http::response(reply.status, reply.content_type, reply.body, keep, reply.headers);
    c.close_after = !keep;
    c.state = keep ? State::Idle : State::Lingering;
    c.head = http::Head{};
    c.admission = Handler::Admission{};
    c.deadline = now_ + (keep ? settings_.keepalive_timeout_ms : settings_.read_timeout_ms);
    flush(c);
  }

  // Writes pending output. False when it could not finish (EAGAIN) or the connection closed.
  bool flush(Conn& c) {
    while (c.out_pos < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_pos += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c.deadline = now_ + settings_.read_timeout_ms;  // a peer that stops reading is dropped
        return false;
      } else {
        close(c);
        return false;
      }
    }
    c.out.clear();
    c.out_pos = 0;
    if (c.close_after) {
      c.close_after = false;
      if (c.eof) {
        close(c);
        return false;
      }
      // Lingering close: stop sending, drain what the peer still sends for a moment, so the
      // answer is not destroyed by a reset on unread input.
      ::shutdown(c.fd, SHUT_WR);
      c.state = State::Lingering;
      c.in.clear();
      c.in_pos = 0;
      c.deadline = now_ + std::min<int64_t>(2000, settings_.read_timeout_ms);
      c.read_blocked = false;
      onReadable(c);
      return false;
    }
    return true;
  }

  void drainMailbox() {
    std::vector<std::pair<uint64_t, Reply>> replies;
    std::vector<int> adopted;
    {
      std::lock_guard<std::mutex> lock(mailbox_->mutex);
      replies.swap(mailbox_->replies);
      adopted.swap(mailbox_->adopted);
    }
    for (int fd : adopted) add(fd);
    for (auto& [id, reply] : replies) {
      auto it = conns_.find(id);
      if (it == conns_.end() || it->second->dead || it->second->state != State::Waiting)
        continue;  // the sender hung up; the event is durable all the same
      Conn& c = *it->second;
      respond(c, std::move(reply));
      resume(c);
    }
  }

  // Deadlines, checked about every 100 ms.
  void tick() {
    last_tick_ = now_;
    if (accept_paused_until_ && now_ >= accept_paused_until_ && !stop_.load()) {
      accept_paused_until_ = 0;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLEXCLUSIVE;
      ev.data.u64 = kListenId;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    }
    for (auto& [id, cp] : conns_) {
      Conn& c = *cp;
      if (c.dead || c.deadline == 0 || now_ < c.deadline) continue;
      if (c.out_pos < c.out.size() || c.state == State::Lingering || c.state == State::Idle) {
        close(c);
      } else if (c.state == State::Head || c.state == State::Body || c.state == State::Chunked) {
        respond(c, Handler::refusal(408, "request_timeout", "the request did not arrive in time"));
      }
    }
  }

  // During shutdown: no new connections, idle ones closed; true once nothing is left.
  bool stopTick() {
    if (!stopped_listening_) {
      stopped_listening_ = true;
      if (!accept_paused_until_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      accept_paused_until_ = 0;
    }
    for (auto& [id, cp] : conns_)
      if (!cp->dead && cp->state == State::Idle && cp->out_pos == cp->out.size()) close(*cp);
    reap();
    return conns_.empty() || now_ >= stop_deadline_.load();
  }

  Handler& handler_;
  const Settings& settings_;
  int listen_fd_;
  std::atomic<int>& connections_;
  std::shared_ptr<Mailbox> mailbox_;
  int epfd_ = -1;
  std::vector<Loop*> peers_;
  size_t next_peer_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint64_t> dead_;
  uint64_t next_id_ = 2;
  int64_t now_ = steadyMs();
  int64_t last_tick_ = 0;
  int64_t accept_paused_until_ = 0;
  bool stopped_listening_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> stop_deadline_{0};
  char buf_[kReadChunk];
};

namespace {
// `threads: 0`: one event loop per core but one, at least one. The loops share the cores with
// the journal writer, which every acknowledgement waits for, and with the sinks; one loop per
// core takes CPU from the writer when the cores are few (bench/README.md: 2 cores, 1 loop).
int defaultLoops() { return std::max(1, util::usableCores() - 1); }

Settings settingsFrom(const config::ServerConfig& sc) {
  Settings s;
  s.limits.max_head_bytes = static_cast<size_t>(sc.max_header_bytes);
  s.limits.max_headers = static_cast<size_t>(sc.max_headers);
  s.read_timeout_ms = sc.read_timeout_ms;
  s.keepalive_timeout_ms = sc.keepalive_timeout_ms;
  s.max_keepalive_requests = sc.max_keepalive_requests;
  s.max_connections = sc.max_connections;
  return s;
}
}  // namespace

Server::Server(pipeline::Runtime& runtime, journal::Journal& journal, delivery::Delivery* delivery)
    : runtime_(runtime), handler_(runtime, journal, delivery) {}

Server::~Server() { stop(); }

void Server::start() {
  const auto& sc = runtime_.config.server;
  try {
    Poco::Net::SocketAddress addr(sc.listen);
    socket_.bind(addr, /*reuseAddress=*/true, /*reusePort=*/false);
    socket_.listen(1024);
    // Accepted sockets inherit TCP_NODELAY: an answer is one write and must not wait for the
    // peer's delayed ACK.
    socket_.setNoDelay(true);
    socket_.setBlocking(false);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("cannot listen on " + sc.listen + ": " + e.displayText());
  }
  port_ = socket_.address().port();
  settings_ = std::make_unique<Settings>(settingsFrom(sc));
  int n = sc.threads > 0 ? sc.threads : defaultLoops();
  std::vector<Loop*> peers;
  for (int i = 0; i < n; ++i) {
    loops_.push_back(
        std::make_unique<Loop>(handler_, *settings_, socket_.impl()->sockfd(), connections_));
    peers.push_back(loops_.back().get());
  }
  for (auto& loop : loops_) loop->setPeers(peers);
  for (size_t i = 0; i < loops_.size(); ++i) {
    threads_.emplace_back([l = loops_[i].get()] { l->run(); });
    util::nameThread(threads_.back(), "inlet-loop-" + std::to_string(i));
  }
  running_ = true;
}

void Server::stop() {
  if (!running_) return;
  running_ = false;
  int64_t deadline = steadyMs() + runtime_.config.server.shutdown_grace_ms;
  for (auto& loop : loops_) loop->requestStop(deadline);
  for (auto& t : threads_) t.join();
  threads_.clear();
  loops_.clear();
  socket_.close();
}

int Server::loops() const { return static_cast<int>(loops_.size()); }

}  // namespace inlet::server
