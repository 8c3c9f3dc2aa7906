// RisingWave users move a webhook table over by pasting what they wrote: the documented
// validation expressions, JSON Lines batches, typed columns, and `inlet import-sql` — all through
// the real server.
#include <gtest/gtest.h>
#include <inlet/testing/server.h>

#include <regex>

using namespace inlet::testing;
namespace crypto = inlet::sdk::crypto;

namespace {

const std::string kSecret = "TEST_WEBHOOK";

std::string hexHmac(crypto::Digest d, const std::string& body) {
  return crypto::toHex(crypto::hmac(d, kSecret, body));
}

struct Case {
  const char* name;
  const char* expression;
  // Returns the headers a correctly signing provider sends for `body`.
  std::function<std::vector<std::pair<std::string, std::string>>(const std::string& body)> sign;
};

std::vector<Case> cases() {
  return {
      {"github_sha256",
       "secure_compare(headers->>'x-hub-signature-256', 'sha256=' || encode(hmac(test_secret, "
       "data, 'sha256'), 'hex'))",
       [](const std::string& b) {
         return std::vector<std::pair<std::string, std::string>>{
             {"X-Hub-Signature-256", "sha256=" + hexHmac(crypto::Digest::Sha256, b)}};
       }},
      {"github_sha1",
       "secure_compare(headers->>'x-hub-signature', 'sha1=' || encode(hmac(test_secret, data, "
       "'sha1'), 'hex'))",
       [](const std::string& b) {
         return std::vector<std::pair<std::string, std::string>>{
             {"X-Hub-Signature", "sha1=" + hexHmac(crypto::Digest::Sha1, b)}};
       }},
      {"segment",
       "secure_compare(headers->>'x-signature', encode(hmac(test_secret, data, 'sha1'), 'hex'))",
       [](const std::string& b) {
         return std::vector<std::pair<std::string, std::string>>{
             {"X-Signature", hexHmac(crypto::Digest::Sha1, b)}};
       }},
      {"rudderstack", "secure_compare(headers->>'authorization', test_secret)",
       [](const std::string&) {
         return std::vector<std::pair<std::string, std::string>>{{"Authorization", kSecret}};
       }},
      {"hubspot_v2",
       "secure_compare(headers->>'x-hubspot-signature', encode(sha256(convert_to((test_secret || "
       "'POST' || "
       "'https://hooks.example.com/webhook/dev/public/hubspot_v2' || convert_from(data, 'utf8')), "
       "'UTF8')), 'hex'))",
       [](const std::string& b) {
         return std::vector<std::pair<std::string, std::string>>{
             {"X-HubSpot-Signature",
              crypto::toHex(crypto::hash(crypto::Digest::Sha256, kSecret, "POST",
                                         "https://hooks.example.com/webhook/dev/public/hubspot_v2",
                                         b))}};
       }},
  };
}

std::string yamlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

class RisingWave : public ::testing::Test {
 protected:
  void start(const std::string& pipelines) {
    server_ = std::make_unique<InletServer>(
        dir_, baseConfig(dir_) + "secrets:\n  test_secret: { value: " + kSecret +
                  " }\npipelines:\n" + pipelines);
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  TempDir dir_;
  std::unique_ptr<InletServer> server_;
};

TEST_F(RisingWave, DocumentedExpressionsAcceptSignedAndRejectTampered) {
  std::string pipelines;
  for (const auto& c : cases())
    pipelines += std::string("  ") + c.name + ":\n    path: /webhook/dev/public/" + c.name +
                 "\n    public_url: https://hooks.example.com\n    auth: { provider: expression, "
                 "secrets: [test_secret], "
                 "expression: " +
                 yamlQuote(c.expression) + " }\n    sinks: [local]\n";
  start(pipelines);
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    std::string body = R"({"event":"signup","n":1})";
    auto ok =
        post(server_->port(), std::string("/webhook/dev/public/") + c.name, body, c.sign(body));
    EXPECT_EQ(ok.status, 200) << ok.body;
    if (std::string(c.name) != "rudderstack") {  // a static token does not cover the body
      auto tampered = post(server_->port(), std::string("/webhook/dev/public/") + c.name,
                           body + " ", c.sign(body));
      EXPECT_EQ(tampered.status, 401) << tampered.body;
    }
    auto wrong = post(server_->port(), std::string("/webhook/dev/public/") + c.name, body,
                      {{"X-Hub-Signature-256", "sha256=00"},
                       {"X-Hub-Signature", "sha1=00"},
                       {"X-Signature", "00"},
                       {"Authorization", "nope"},
                       {"X-HubSpot-Signature", "00"}});
    EXPECT_EQ(wrong.status, 401) << wrong.body;
    // RisingWave: a NULL comparison (the header the expression reads is absent) is 400.
    auto absent = post(server_->port(), std::string("/webhook/dev/public/") + c.name, body);
    EXPECT_EQ(absent.status, 400) << absent.body;
  }
  EXPECT_EQ(sqlite(dir_.str("journal.db"), "SELECT count(*) FROM events"),
            std::to_string(cases().size()) + "\n");
}

TEST_F(RisingWave, JsonLinesBatchLandsAsRowsOrNotAtAll) {
  start(
      "  batch:\n    path: /webhook/dev/public/batch\n    auth: { provider: none }\n    split: "
      "jsonl\n"
      "    sinks: [local]\n    columns:\n      - { name: i, type: integer, required: true }\n"
      "      - { name: source, header: x-source }\n");
  std::string body;
  for (int i = 0; i < 10; ++i)
    body += "{\"i\":" + std::to_string(i) + ",\"name\":\"row" + std::to_string(i) + "\"}\n\n";
  auto r = post(server_->port(), "/webhook/dev/public/batch", body, {{"X-Source", "rw"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"count\":10"), std::string::npos) << r.body;
  EXPECT_EQ(waitForQuery(dir_.str("inlet.db"), "SELECT count(*), sum(i), min(source) FROM batch",
                         "10|45|rw\n"),
            "10|45|rw\n");

  auto bad =
      post(server_->port(), "/webhook/dev/public/batch", "{\"i\":100}\n{\"i\":101\n{\"i\":102}\n");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("line 2"), std::string::npos) << bad.body;
  auto missing =
      post(server_->port(), "/webhook/dev/public/batch", "{\"i\":200}\n{\"name\":\"no i\"}\n");
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("missing_column"), std::string::npos) << missing.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(sqlite(dir_.str("journal.db"), "SELECT count(*) FROM events"), "10\n");
}

TEST_F(RisingWave, ImportSqlOutputChecksAndVerifiesTheSameRequests) {
  writeFile(dir_.path() / "tables.sql",
            "CREATE SECRET test_secret WITH (backend = 'meta') AS '" + kSecret +
                "';\n"
                "CREATE TABLE github_hooks (data JSONB) WITH (connector = 'webhook')\n"
                "VALIDATE SECRET test_secret AS secure_compare(\n"
                "  headers->>'x-hub-signature-256',\n"
                "  'sha256=' || encode(hmac(test_secret, data, 'sha256'), 'hex'));\n");
  auto imported = runInlet({"import-sql", dir_.str("tables.sql")});
  ASSERT_EQ(imported.exit_code, 0) << imported.out;
  // The secret's value is not copied; the output names the variable that supplies it.
  EXPECT_EQ(imported.out.find(kSecret), std::string::npos) << imported.out;
  std::smatch m;
  std::string out = imported.out;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(env:\s*([A-Z_0-9]+))"))) << out;
  std::string env = m[1].str();
  // Keep only the YAML (stdout and stderr share the capture), and run it on a free port here.
  std::string yaml = out.substr(out.find("server:"));
  yaml = std::regex_replace(yaml, std::regex(R"(listen:\s*[0-9.:]+)"), "listen: 127.0.0.1:0");
  yaml = std::regex_replace(yaml, std::regex(R"(path:\s*\[\s*build/plugins\s*\])"),
                            "path: [" + std::string(INLET_PLUGIN_DIR) + "]");
  yaml = std::regex_replace(yaml, std::regex(R"(path:\s*data/inlet\.db)"),
                            "path: " + dir_.str("inlet.db"));
  writeFile(dir_.path() / "inlet.yaml", yaml);
  std::string check_out = dir_.str("check.txt");
  int rc = std::system(("cd '" + dir_.str() + "' && " + env + "='" + kSecret + "' '" +
                        INLET_BINARY + "' check -c inlet.yaml > '" + check_out + "' 2>&1")
                           .c_str());
  ASSERT_EQ(WEXITSTATUS(rc), 0) << readFile(check_out) << "\n" << yaml;

  InletServer server(dir_, yaml, {env + "=" + kSecret});
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  std::string body = R"({"action":"opened"})";
  auto ok = post(server.port(), "/webhook/dev/public/github_hooks", body,
                 {{"X-Hub-Signature-256", "sha256=" + hexHmac(crypto::Digest::Sha256, body)}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto tampered =
      post(server.port(), "/webhook/dev/public/github_hooks", body + "x",
           {{"X-Hub-Signature-256", "sha256=" + hexHmac(crypto::Digest::Sha256, body)}});
  EXPECT_EQ(tampered.status, 401) << tampered.body;
}

}  // namespace
