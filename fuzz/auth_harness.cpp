// Generic libFuzzer harness for one auth provider, driven through the plugin C ABI exactly as
// the host drives a loaded .so (the provider's entry file is compiled into this executable).
//
// Fuzz input (text-ish, so seeds stay readable):
//   line 1:   "<instance> <METHOD> <URL>"   instance: which configured instance gets the request
//                                           (decimal, taken modulo the instance count)
//   lines:    "Name: value"                 headers until the first empty line (names are
//                                           lower-cased, as the host does; repeats are kept)
//   rest:     the raw body
// Malformed framing still produces a request (missing parts are empty): the provider must
// cope with anything.
//
// Instances come from INLET_FUZZ_CONFIG (fuzz/configs/<provider>.json), a JSON array of
// {"options": {...}, "secrets": ["value" | {"name": ..., "value": ...}, ...]},
// created once in LLVMFuzzerInitialize. The clock is pinned at 1700000000 s.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <inlet/abi.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

extern "C" const inlet_plugin* inlet_plugin_entry(void);
extern "C" const inlet_magic* inlet_plugin_magic(void);

namespace {

constexpr int64_t kNowMs = 1700000000000;

int64_t fixedNow(void*) { return kNowMs; }
void quietLog(void*, inlet_log_level, inlet_str) {}
const inlet_host kHost = {sizeof(inlet_host), nullptr, &quietLog, &fixedNow};

const inlet_plugin* g_plugin = nullptr;
std::vector<void*> g_instances;

std::string readConfig() {
  std::ifstream in(INLET_FUZZ_CONFIG);
  if (!in) return R"([{"options": {}, "secrets": ["fuzz-secret"]}])";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void createInstances() {
  g_plugin = inlet_plugin_entry();
  if (!g_plugin || !g_plugin->create || !g_plugin->verify || !inlet_plugin_magic()) {
    std::fprintf(stderr, "fuzz: %s: not an auth plugin\n", INLET_FUZZ_PROVIDER);
    std::abort();
  }
  Poco::JSON::Parser parser;
  auto configs = parser.parse(readConfig()).extract<Poco::JSON::Array::Ptr>();
  for (size_t i = 0; i < configs->size(); ++i) {
    auto entry = configs->getObject(static_cast<unsigned>(i));
    std::ostringstream options;
    Poco::JSON::Stringifier::stringify(entry->getObject("options"), options);
    std::string options_json = options.str();
    // A secret is "value" (named "fuzz") or {"name": ..., "value": ...}.
    std::vector<std::string> names, values;
    auto secrets = entry->getArray("secrets");
    for (size_t j = 0; secrets && j < secrets->size(); ++j) {
      auto item = secrets->get(static_cast<unsigned>(j));
      if (item.isString()) {
        names.push_back("fuzz");
        values.push_back(item.extract<std::string>());
      } else {
        auto obj = secrets->getObject(static_cast<unsigned>(j));
        names.push_back(obj->getValue<std::string>("name"));
        values.push_back(obj->getValue<std::string>("value"));
      }
    }
    std::vector<inlet_secret> c_secrets;
    for (size_t j = 0; j < values.size(); ++j)
      c_secrets.push_back(
          {{names[j].data(), names[j].size()}, {values[j].data(), values[j].size()}});
    void* instance = nullptr;
    inlet_error err{sizeof(inlet_error), {0}};
    if (g_plugin->create(&kHost, {options_json.data(), options_json.size()}, c_secrets.data(),
                         c_secrets.size(), &instance, &err) == INLET_OK) {
      g_instances.push_back(instance);
    } else {
      // A config that no longer matches the provider's options is reported, not fatal, so one
      // stale instance does not stop the others from being fuzzed.
      std::fprintf(stderr, "fuzz: %s: instance %zu refused: %s\n", INLET_FUZZ_PROVIDER, i,
                   err.message);
    }
  }
  if (g_instances.empty()) {
    std::fprintf(stderr, "fuzz: %s: no instance could be created\n", INLET_FUZZ_PROVIDER);
    std::abort();
  }
}

std::string_view takeLine(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  createInstances();
  // Destroyed at exit (before g_instances itself), so LeakSanitizer sees a clean shutdown and
  // destroy() is exercised too.
  std::atexit([] {
    for (void* instance : g_instances) g_plugin->destroy(instance);
    g_instances.clear();
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Own copy, so reads past the input's end are caught by ASan against this exact buffer.
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string_view in(input);

  std::string_view first = takeLine(in);
  size_t index = 0;
  while (!first.empty() && first.front() >= '0' && first.front() <= '9') {
    index = (index * 10 + static_cast<size_t>(first.front() - '0')) % 1000003;
    first.remove_prefix(1);
  }
  if (!first.empty() && first.front() == ' ') first.remove_prefix(1);
  size_t sp = first.find(' ');
  std::string method(first.substr(0, sp));
  std::string url(sp == std::string_view::npos ? std::string_view() : first.substr(sp + 1));
  std::string target = "/";
  if (auto scheme = url.find("://"); scheme != std::string::npos) {
    auto slash = url.find('/', scheme + 3);
    if (slash != std::string::npos) target = url.substr(slash);
  }

  std::vector<std::string> names, values;
  while (!in.empty()) {
    std::string_view line = takeLine(in);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (auto& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    names.push_back(std::move(name));
    values.emplace_back(value);
  }
  std::string body(in);

  std::vector<inlet_header> headers;
  for (size_t i = 0; i < names.size(); ++i)
    headers.push_back({{names[i].data(), names[i].size()}, {values[i].data(), values[i].size()}});

  inlet_auth_request request{};
  request.size = sizeof(request);
  request.method = {method.data(), method.size()};
  request.url = {url.data(), url.size()};
  request.target = {target.data(), target.size()};
  request.headers = headers.data();
  request.header_count = headers.size();
  request.body = {body.data(), body.size()};
  request.received_ms = kNowMs;
  request.remote_addr = {"127.0.0.1:1", 11};

  inlet_auth_result result{};
  result.size = sizeof(result);
  void* instance = g_instances[index % g_instances.size()];
  if (g_plugin->verify(instance, &request, &result) != INLET_OK) std::abort();

  // Contract checks: a verdict is one of the three values, rejects carry a 4xx and a code,
  // every returned string is NUL-terminated inside its buffer.
  if (result.verdict != INLET_REJECT && result.verdict != INLET_ACCEPT &&
      result.verdict != INLET_RESPOND)
    std::abort();
  if (result.verdict == INLET_REJECT &&
      (result.http_status < 400 || result.http_status > 499 || result.code[0] == '\0'))
    std::abort();
  if (result.verdict == INLET_REJECT && std::strcmp(result.code, "malformed_request") == 0) {
    // The SDK's catch-all: verify() threw. Safe (the request is refused), but a provider
    // should reject explicitly; INLET_FUZZ_STRICT=1 turns this into a finding.
    static bool strict = std::getenv("INLET_FUZZ_STRICT") != nullptr;
    static bool warned = false;
    if (strict) std::abort();
    if (!warned)
      std::fprintf(stderr, "fuzz: %s: note: verify() threw on some input (malformed_request)\n",
                   INLET_FUZZ_PROVIDER);
    warned = true;
  }
  static bool verbose = std::getenv("INLET_FUZZ_VERBOSE") != nullptr;  // to check seeds
  if (verbose)
    std::fprintf(stderr, "fuzz: instance %zu verdict %d %s %s\n", index % g_instances.size(),
                 result.verdict, result.code, result.message);
  for (const char* s : {result.code, result.message, result.detail, result.delivery_id,
                        result.event_type, result.response_content_type, result.response_body})
    (void)std::strlen(s);
  return 0;
}
