// The plugin boundary: deliberately broken plugins are refused with a reason naming the file
// and the problem; misbehaving plugins never take the host down; every built plugin passes a
// conformance check.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <inlet/testing/server.h>

#include "plugin/instances.h"
#include "plugin/loader.h"

using namespace inlet::testing;
using inlet::plugin::loadPluginFile;

namespace {

const std::string kBroken = std::string(INLET_TEST_PLUGIN_DIR) + "/broken/";
const std::string kMisbehaving = std::string(INLET_TEST_PLUGIN_DIR) + "/misbehaving";

struct RefusalCase {
  const char* file;
  const char* reason;
};

void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.file; }

class Refusal : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(Refusal, IsRefusedWithAReason) {
  auto outcome = loadPluginFile(kBroken + GetParam().file);
  EXPECT_EQ(outcome.plugin, nullptr);
  EXPECT_NE(outcome.refusal.find(GetParam().reason), std::string::npos) << outcome.refusal;
}

INSTANTIATE_TEST_SUITE_P(
    Broken, Refusal,
    ::testing::Values(RefusalCase{"bad_major.so", "ABI major 2, this host speaks 1"},
                      RefusalCase{"newer_minor.so", "newer plugin ABI"},
                      RefusalCase{"bad_cxx_abi.so", "C++ ABI mismatch"},
                      RefusalCase{"bad_openssl.so", "OpenSSL major mismatch"},
                      RefusalCase{"bad_tag.so", "invalid magic block"},
                      RefusalCase{"no_entry.so", "missing entry point inlet_plugin_entry"},
                      RefusalCase{"no_magic.so", "missing entry point inlet_plugin_magic"},
                      RefusalCase{"small_descriptor.so", "descriptor is missing or too small"},
                      RefusalCase{"no_verify.so", "auth plugin without verify()"},
                      RefusalCase{"journal_sink.so",
                                  "sink plugin 'journal' takes the name of the host's own sink "
                                  "type"},
                      RefusalCase{"not_elf.so", "cannot be loaded"},
                      RefusalCase{"does_not_exist.so", "cannot be loaded"}),
    [](const ::testing::TestParamInfo<RefusalCase>& info) {
      std::string name = info.param.file;
      name = name.substr(0, name.find('.'));
      return name;
    });

TEST(PluginsCommand, ListsPluginsAndRefusals) {
  TempDir dir;
  std::string cfg = "server: { listen: 127.0.0.1:0 }\nplugins:\n  path: [" +
                    std::string(INLET_PLUGIN_DIR) + ", " + kBroken +
                    "]\nsecrets: { s: { value: x } }\npipelines:\n  p: { auth: { provider: github, "
                    "secrets: [s] } }\n";
  writeFile(dir.path() / "c.yaml", cfg);
  auto r = runInlet({"plugins", "-c", dir.str("c.yaml")});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("auth  github"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sink  sqlite"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REFUSED " + kBroken + "bad_major.so: built for plugin ABI major 2"),
            std::string::npos)
      << r.out;
}

class Misbehaving : public ::testing::Test {
 protected:
  std::string config(bool fail_create = false) {
    return "server: { listen: 127.0.0.1:0 }\njournal: { path: " + dir_.str("journal.db") +
           " }\nplugins:\n  path: [" + std::string(INLET_PLUGIN_DIR) + ", " + kMisbehaving +
           "]\npipelines:\n  m:\n    path: /m\n    auth: { provider: misbehaving" +
           (fail_create ? ", fail_create: true" : "") + " }\n    decode: raw\n";
  }
  TempDir dir_;
};

TEST_F(Misbehaving, NeverTakesTheHostDown) {
  InletServer server(dir_, config());
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  auto thrown = post(server.port(), "/m", "x", {{"x-misbehave", "throw"}});
  EXPECT_EQ(thrown.status, 400);
  EXPECT_NE(thrown.body.find("\"code\":\"malformed_request\""), std::string::npos) << thrown.body;
  auto overflow = post(server.port(), "/m", "x", {{"x-misbehave", "overflow"}});
  EXPECT_EQ(overflow.status, 401);
  EXPECT_NE(overflow.body.find("\"code\":\"" + std::string(63, 'A') + "\""), std::string::npos)
      << overflow.body;
  auto failed = post(server.port(), "/m", "x", {{"x-misbehave", "error"}});
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body.find("\"code\":\"provider_error\""), std::string::npos);
  // A verdict the host does not know is not an acceptance: fail closed.
  auto unknown = post(server.port(), "/m", "x", {{"x-misbehave", "verdict"}});
  EXPECT_EQ(unknown.status, 500) << unknown.body;
  EXPECT_NE(unknown.body.find("\"code\":\"provider_error\""), std::string::npos) << unknown.body;
  auto ok = post(server.port(), "/m", "fine");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(server.running());
  EXPECT_EQ(sqlite(dir_.str("journal.db"), "SELECT count(*) FROM events"), "1\n");
}

TEST_F(Misbehaving, CreateFailureIsAConfigErrorAndTheServerRefusesToStart) {
  writeFile(dir_.path() / "c.yaml", config(true));
  auto check = runInlet({"check", "-c", dir_.str("c.yaml")});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.out.find("create refused on purpose"), std::string::npos) << check.out;
  InletServer server(dir_, config(true));
  std::string error;
  EXPECT_FALSE(server.start(&error));
  EXPECT_NE(error.find("refusing to start"), std::string::npos) << error;
}

// Conformance: every plugin the build produced loads, describes itself, has a readable schema,
// and survives hostile input (auth) or a basic write (sqlite).
TEST(Conformance, EveryBuiltPlugin) {
  size_t checked = 0;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(INLET_PLUGIN_DIR))
    if (e.path().extension() == ".so") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    auto outcome = loadPluginFile(f);
    ASSERT_NE(outcome.plugin, nullptr) << outcome.refusal;
    const auto& p = *outcome.plugin;
    EXPECT_FALSE(p.name.empty());
    EXPECT_FALSE(p.version.empty());
    EXPECT_FALSE(p.description.empty());
    // The file name matches the kind and name, so operators can find a plugin's file.
    std::string base = fs::path(f).stem().string();
    std::string expected = std::string("inlet_") + inlet::plugin::kindName(p.kind) + "_" + p.name;
    std::replace(expected.begin(), expected.end(), '-', '_');
    EXPECT_EQ(base, expected);
    Poco::JSON::Parser parser;
    Poco::JSON::Object::Ptr schema;
    ASSERT_NO_THROW(schema = parser.parse(p.schema).extract<Poco::JSON::Object::Ptr>()) << p.schema;
    EXPECT_EQ(schema->getValue<std::string>("type"), "object");
    if (p.kind == INLET_KIND_AUTH) {
      std::unique_ptr<inlet::plugin::AuthInstance> auth;
      try {
        auth = std::make_unique<inlet::plugin::AuthInstance>(
            p, "{}", std::vector<std::pair<std::string, std::string>>{{"s", "conformance-secret"}});
      } catch (const std::exception& e) {
        EXPECT_GT(std::strlen(e.what()), p.name.size() + 2) << "create() failed without saying why";
        ++checked;
        continue;
      }
      std::vector<std::vector<std::pair<std::string, std::string>>> header_sets = {
          {},
          {{"authorization", ""}, {"x-signature", ""}},
          {{"x-hub-signature-256", std::string(100000, 'a')}},
          {{"stripe-signature", "t=,v1="},
           {"webhook-signature", "v1,"},
           {"webhook-timestamp", "-1"}},
          {{"x-slack-request-timestamp", "99999999999999999999999"},
           {"x-slack-signature", "v0=\xff\xfe"}},
      };
      for (const auto& headers : header_sets) {
        for (std::string body : {std::string(), std::string("{}"), std::string("\0\xff[", 3)}) {
          inlet::plugin::AuthInput in;
          in.method = "POST";
          in.url = "http://127.0.0.1/x";
          in.target = "/x";
          in.body = body;
          in.headers = &headers;
          in.received_ms = 1700000000000;
          auto r = auth->verify(in);
          if (r.verdict == INLET_REJECT) {
            EXPECT_GE(r.http_status, 400);
            EXPECT_LT(r.http_status, 500)
                << "hostile input must be a 4xx, not a provider error (" << r.code << ")";
            EXPECT_GT(std::strlen(r.code), 0u);
          }
        }
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 2u);
}

}  // namespace
