#include "http_sink.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <istream>
#include <ostream>

namespace inlet::sinks {

namespace {

std::string contentTypeOf(const sdk::Event& e) {
  if (!e.headers_json.empty()) {
    try {
      Poco::JSON::Parser parser;
      auto obj = parser.parse(std::string(e.headers_json)).extract<Poco::JSON::Object::Ptr>();
      if (obj && obj->has("content-type")) {
        auto v = obj->get("content-type");
        if (v.isString()) return v.extract<std::string>();
      }
    } catch (const std::exception&) {
      // Fall through: a header map we cannot read only costs the content-type.
    }
  }
  return e.data_json.empty() ? "application/octet-stream" : "application/json";
}

// Header values must not carry CR/LF (request splitting); ids and names from the journal never
// should, but a provider-controlled event type could.
std::string headerSafe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v)
    if (c != '\r' && c != '\n') out.push_back(c);
  return out;
}

}  // namespace

HttpSink::HttpSink(Options options, sdk::Host host) : options_(std::move(options)), host_(host) {
  Poco::URI uri(options_.url);
  const std::string scheme = uri.getScheme();
  if (scheme != "http" && scheme != "https")
    throw std::invalid_argument("http sink: `url` must start with http:// or https:// (got '" +
                                options_.url + "')");
  if (scheme == "http" && !options_.ca_file.empty())
    throw std::invalid_argument("http sink: `ca_file` is for https:// URLs only");
  if (scheme == "https") {
    Poco::Net::initializeSSL();
    try {
      // VERIFY_STRICT: the peer's chain must verify and its certificate must name the URL's
      // host, loopback included. With `ca_file`, only those CAs are trusted.
      tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", options_.ca_file,
                                    Poco::Net::Context::VERIFY_STRICT, 9, options_.ca_file.empty());
      tls_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    } catch (const Poco::Exception& e) {
      Poco::Net::uninitializeSSL();
      throw std::invalid_argument(
          "http sink: cannot set up TLS" +
          (options_.ca_file.empty() ? std::string() : " with ca_file " + options_.ca_file) + ": " +
          e.displayText());
    }
  }
  host_name_ = uri.getHost();
  if (host_name_.empty()) throw std::invalid_argument("http sink: `url` has no host");
  port_ = uri.getPort();
  target_ = uri.getPathEtc();
  if (target_.empty()) target_ = "/";
}

HttpSink::~HttpSink() {
  session_.reset();
  if (tls_) {
    tls_.reset();
    Poco::Net::uninitializeSSL();
  }
}

std::unique_ptr<HttpSink> HttpSink::create(const sdk::Config& config,
                                           const std::vector<sdk::Secret>&, const sdk::Host& host) {
  Options o;
  o.url = config.getString("url");
  if (o.url.empty()) throw std::invalid_argument("http sink: `url` is required");
  o.ca_file = config.getString("ca_file");
  o.timeout_ms = config.getDurationMs("timeout", 10'000);
  if (o.timeout_ms <= 0) throw std::invalid_argument("http sink: `timeout` must be positive");
  if (auto headers = config.getObject("headers"))
    for (const auto& name : headers->keys()) o.headers[name] = headers->getString(name);
  return std::make_unique<HttpSink>(std::move(o), host);
}

void HttpSink::prepare(const sdk::TableSpec&) {}

sdk::WriteResult HttpSink::classify(int status) {
  if (status >= 200 && status < 300) return sdk::WriteResult::Ok;
  // 408 Request Timeout and 429 Too Many Requests invite a later retry (RFC 9110 §15.5.9,
  // RFC 6585 §4); 5xx is the server's own trouble.
  if (status == 408 || status == 429 || status >= 500) return sdk::WriteResult::Retry;
  // Other 4xx: the receiver refuses this request as it is, re-sending it will not help.
  // 1xx/3xx: redirects are not followed (a POST re-sent elsewhere is a different contract).
  return sdk::WriteResult::Drop;
}

sdk::WriteResult HttpSink::send(const sdk::Event& e, std::string& error) {
  if (!session_) {
    if (tls_)
      session_ = std::make_unique<Poco::Net::HTTPSClientSession>(host_name_, port_, tls_);
    else
      session_ = std::make_unique<Poco::Net::HTTPClientSession>(host_name_, port_);
    Poco::Timespan t(options_.timeout_ms * 1000);
    session_->setTimeout(t, t, t);
    session_->setKeepAlive(true);
    reused_ = false;
  }
  Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, target_,
                             Poco::Net::HTTPMessage::HTTP_1_1);
  req.setContentType(headerSafe(contentTypeOf(e)));
  req.setContentLength(static_cast<std::streamsize>(e.body.size()));
  for (const auto& [name, value] : options_.headers) req.set(name, value);
  req.set("X-Inlet-Event-Id", headerSafe(e.id));
  req.set("X-Inlet-Pipeline", headerSafe(e.pipeline));
  if (!e.provider.empty()) req.set("X-Inlet-Provider", headerSafe(e.provider));
  if (!e.event_type.empty()) req.set("X-Inlet-Event-Type", headerSafe(e.event_type));
  if (!e.delivery_id.empty()) req.set("X-Inlet-Delivery-Id", headerSafe(e.delivery_id));
  req.set("Idempotency-Key", headerSafe(e.dedup_key.empty() ? e.id : e.dedup_key));

  std::ostream& out = session_->sendRequest(req);
  out.write(e.body.data(), static_cast<std::streamsize>(e.body.size()));
  Poco::Net::HTTPResponse resp;
  std::istream& in = session_->receiveResponse(resp);
  // Drain (bounded) so the connection can be reused; a long answer just costs a reconnect.
  std::string answer;
  char buf[4096];
  while (in && answer.size() < 64 * 1024) {
    in.read(buf, sizeof buf);
    answer.append(buf, static_cast<size_t>(in.gcount()));
  }
  if (in && !in.eof()) session_.reset();
  reused_ = true;

  int status = static_cast<int>(resp.getStatus());
  auto result = classify(status);
  if (result != sdk::WriteResult::Ok) {
    error = "downstream answered " + std::to_string(status) + " " + resp.getReason() +
            " for event " + std::string(e.id);
    if (resp.has("Retry-After")) error += " (Retry-After: " + resp.get("Retry-After") + ")";
    if (!answer.empty()) error += ": " + answer.substr(0, 200);
  }
  return result;
}

sdk::WriteResult HttpSink::write(const std::vector<sdk::Event>& events, std::string& error) {
  // Sequential, stopping at the first failure: the host re-sends the whole batch, and the
  // receiver recognises the events it already has by their Idempotency-Key.
  for (const auto& e : events) {
    for (int attempt = 0;; ++attempt) {
      bool was_reused = reused_ && session_;
      try {
        auto r = send(e, error);
        if (r != sdk::WriteResult::Ok) return r;
        break;
      } catch (const Poco::TimeoutException& ex) {
        session_.reset();
        error = "timeout talking to " + options_.url + ": " + ex.displayText();
        return sdk::WriteResult::Retry;
      } catch (const Poco::Exception& ex) {
        session_.reset();
        error = "cannot deliver to " + options_.url + ": " + ex.displayText();
        // A kept-alive connection the server has closed in the meantime fails on first use;
        // that says nothing about the server, so try once more on a fresh connection.
        if (was_reused && attempt == 0) continue;
        return sdk::WriteResult::Retry;
      } catch (const std::exception& ex) {
        session_.reset();
        error = "cannot deliver to " + options_.url + ": " + ex.what();
        return sdk::WriteResult::Retry;
      }
    }
  }
  return sdk::WriteResult::Ok;
}

}  // namespace inlet::sinks
