// An auth provider that misbehaves on purpose, selected by the request's x-misbehave header:
//   throw      verify() throws (the SDK must turn it into a rejection)
//   overflow   fills every result buffer to the last byte with no terminator (raw C entry)
//   error      returns INLET_ERROR from verify
//   verdict    returns INLET_OK with a verdict that is none of reject, accept or respond
// Anything else is accepted. Option `fail_create: true` makes create() throw.
#include <inlet/sdk.h>

#include <cstring>
#include <stdexcept>

namespace {

class Misbehaving : public inlet::sdk::AuthProvider {
 public:
  static std::unique_ptr<Misbehaving> create(const inlet::sdk::Config& c,
                                             const std::vector<inlet::sdk::Secret>&,
                                             const inlet::sdk::Host&) {
    if (c.getBool("fail_create")) throw std::runtime_error("create refused on purpose");
    return std::make_unique<Misbehaving>();
  }
  inlet::sdk::Verdict verify(const inlet::sdk::Request& r) const override {
    auto mode = r.header("x-misbehave").value_or("");
    if (mode == "throw") throw std::runtime_error("verify exploded");
    return inlet::sdk::Verdict::accept("", "misbehaving");
  }
};

const char kSchema[] = R"json({"type":"object","additionalProperties":false,
  "properties":{"fail_create":{"type":"boolean","default":false}}})json";

// The SDK entry for everything but the raw-C modes.
int32_t sdkVerify(void* instance, const inlet_auth_request* req, inlet_auth_result* out) noexcept {
  return inlet::sdk::detail::verify<Misbehaving>(instance, req, out);
}

int32_t rawVerify(void* instance, const inlet_auth_request* req, inlet_auth_result* out) noexcept {
  for (size_t i = 0; i < req->header_count; ++i) {
    std::string_view name(req->headers[i].name.ptr, req->headers[i].name.len);
    std::string_view value(req->headers[i].value.ptr, req->headers[i].value.len);
    if (name != "x-misbehave") continue;
    if (value == "error") return INLET_ERROR;
    if (value == "verdict") {
      out->verdict = 77;
      return INLET_OK;
    }
    if (value == "overflow") {
      out->verdict = INLET_REJECT;
      out->http_status = 401;
      std::memset(out->code, 'A', sizeof out->code);
      std::memset(out->message, 'B', sizeof out->message);
      std::memset(out->detail, 'C', sizeof out->detail);
      return INLET_OK;
    }
  }
  return sdkVerify(instance, req, out);
}

}  // namespace

INLET_DETAIL_MAGIC_EXPORT
extern "C" INLET_EXPORT const inlet_plugin* inlet_plugin_entry(void) {
  static const inlet_plugin p = {sizeof(inlet_plugin),
                                 INLET_ABI_MAJOR,
                                 INLET_ABI_MINOR,
                                 INLET_KIND_AUTH,
                                 "misbehaving",
                                 "0.0.1",
                                 "misbehaves on purpose (tests only)",
                                 kSchema,
                                 &inlet::sdk::detail::create<Misbehaving>,
                                 &inlet::sdk::detail::destroy<Misbehaving>,
                                 &rawVerify,
                                 nullptr,
                                 nullptr};
  return &p;
}
