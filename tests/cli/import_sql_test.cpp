#include "cli/import_sql.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "expression.h"

using inlet::cli::importSqlText;
using inlet::cli::runImportSql;

namespace {

struct Result {
  int code;
  std::string out, err;
  YAML::Node yaml() const { return YAML::Load(out); }
};

Result run(const std::string& sql, bool include_values = false) {
  std::ostringstream out, err;
  int code = importSqlText(sql, "in.sql", include_values, out, err);
  return {code, out.str(), err.str()};
}

const char kDocsExample[] = R"sql(
CREATE SECRET test_secret WITH (backend = 'meta') AS 'secret_value';
CREATE TABLE wbhtable (data JSONB) WITH (connector = 'webhook')
VALIDATE SECRET test_secret AS secure_compare(
  headers->>'x-hub-signature-256',
  'sha256=' || encode(hmac(test_secret, data, 'sha256'), 'hex'));
)sql";

const char kDocsExpression[] =
    "secure_compare(\n  headers->>'x-hub-signature-256',\n  'sha256=' || encode(hmac(test_secret, "
    "data, 'sha256'), 'hex'))";

TEST(ImportSql, RisingWaveDocsExample) {
  auto r = run(kDocsExample);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto y = r.yaml();
  EXPECT_EQ(y["server"]["listen"].as<std::string>(), "127.0.0.1:4560");
  EXPECT_EQ(y["plugins"]["path"][0].as<std::string>(), "build/plugins");
  EXPECT_EQ(y["secrets"]["test_secret"]["env"].as<std::string>(), "INLET_SECRET_TEST_SECRET");
  EXPECT_FALSE(y["secrets"]["test_secret"]["value"]);
  // The embedded store: the journal serves the tables.
  EXPECT_EQ(y["journal"]["path"].as<std::string>(), "data/inlet.db");
  EXPECT_EQ(y["sinks"]["local"]["type"].as<std::string>(), "journal");
  auto loaded = inlet::config::loadConfigText(r.out, "generated.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
  ASSERT_EQ(loaded.config->journal.tables.size(), 1u);
  EXPECT_EQ(loaded.config->journal.tables[0].table, "wbhtable");
  auto p = y["pipelines"]["wbhtable"];
  ASSERT_TRUE(p) << r.out;
  EXPECT_EQ(p["path"].as<std::string>(), "/webhook/dev/public/wbhtable");
  EXPECT_EQ(p["auth"]["provider"].as<std::string>(), "expression");
  EXPECT_EQ(p["auth"]["secrets"].size(), 1u);
  EXPECT_EQ(p["auth"]["secrets"][0].as<std::string>(), "test_secret");
  EXPECT_EQ(p["auth"]["expression"].as<std::string>(), kDocsExpression);
  EXPECT_FALSE(p["auth"]["body_name"]);
  EXPECT_EQ(p["sinks"][0].as<std::string>(), "local");
  EXPECT_EQ(p["table"].as<std::string>(), "wbhtable");
  // The comment tells the operator how to supply the value; the value itself is absent.
  EXPECT_NE(r.out.find("export INLET_SECRET_TEST_SECRET="), std::string::npos);
  EXPECT_EQ(r.out.find("secret_value"), std::string::npos);
}

TEST(ImportSql, IncludeSecretValues) {
  auto r = run(kDocsExample, /*include_values=*/true);
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.yaml()["secrets"]["test_secret"]["value"].as<std::string>(), "secret_value");
  EXPECT_FALSE(r.yaml()["secrets"]["test_secret"]["env"]);
}

TEST(ImportSql, UnicodeEscapesReadAsTheExpressionProviderReadsThem) {
  const std::string table =
      "CREATE TABLE t (data JSONB) WITH (connector = 'webhook')\n"
      "VALIDATE SECRET s AS secure_compare(headers->>'x-sig', encode(hmac(s, data, 'sha256'), "
      "'hex'));\n";
  auto r = run("CREATE SECRET s WITH (backend = 'meta') AS E'caf\\u00e9\\U0001F600';\n" + table,
               /*include_values=*/true);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.yaml()["secrets"]["s"]["value"].as<std::string>(), "caf\xC3\xA9\xF0\x9F\x98\x80");
  // A bad escape is reported with the line it is on.
  auto bad = run("CREATE SECRET s WITH (backend = 'meta') AS\nE'\\uZZZZ';\n" + table);
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err, "in.sql:2: invalid Unicode escape in E'' string\n");
}

TEST(ImportSql, QuotingEscapesAndComments) {
  auto r = run(R"sql(
-- a comment; with a semicolon
/* block /* nested; */ comment */
create secret "Odd-Name" with (BACKEND = 'meta') as E'it\'s\n''multi''\tline';
Create Table Shop.Orders (body jsonb)
  WITH (connector = 'webhook', is_batched = true)
  validate secret "Odd-Name" as secure_compare(headers->>'x-sig', -- trailing; comment
    encode(hmac("Odd-Name", body, 'sha256'), 'base64') || E'\\;' || 'don''t');
)sql",
               true);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto y = r.yaml();
  EXPECT_EQ(y["secrets"]["Odd-Name"]["value"].as<std::string>(), "it's\n'multi'\tline");
  auto p = y["pipelines"]["orders"];
  ASSERT_TRUE(p) << r.out;
  EXPECT_EQ(p["path"].as<std::string>(), "/webhook/dev/shop/orders");
  EXPECT_EQ(p["auth"]["body_name"].as<std::string>(), "body");
  EXPECT_EQ(p["auth"]["secrets"][0].as<std::string>(), "Odd-Name");
  EXPECT_EQ(p["auth"]["expression"].as<std::string>(),
            "secure_compare(headers->>'x-sig', -- trailing; comment\n"
            "    encode(hmac(\"Odd-Name\", body, 'sha256'), 'base64') || E'\\\\;' || 'don''t')");
  EXPECT_NE(r.out.find("is_batched"), std::string::npos);
  EXPECT_NE(r.out.find("split: jsonl"), std::string::npos) << r.out;
}

TEST(ImportSql, QualifiedNamesAndValidateWithoutSecret) {
  auto r = run(R"sql(
CREATE TABLE prod.sales.events (data JSONB) WITH (connector = 'webhook')
  VALIDATE AS secure_compare(headers->>'authorization', 'Bearer literal-token');
CREATE TABLE IF NOT EXISTS public.events (id INT PRIMARY KEY, name VARCHAR) WITH (connector='webhook')
  VALIDATE AS secure_compare(headers->>'authorization', 'x');
CREATE TABLE events (data JSONB) WITH (connector='webhook') VALIDATE AS headers->>'a' = 'b';
)sql");
  ASSERT_EQ(r.code, 0) << r.err;
  auto y = r.yaml();
  EXPECT_FALSE(y["secrets"]);
  EXPECT_EQ(y["pipelines"]["events"]["path"].as<std::string>(), "/webhook/prod/sales/events");
  EXPECT_FALSE(y["pipelines"]["events"]["auth"]["secrets"]);
  // Same table name twice: the later pipelines get qualified names, paths stay RisingWave's.
  EXPECT_EQ(y["pipelines"]["public_events"]["path"].as<std::string>(),
            "/webhook/dev/public/events");
  EXPECT_FALSE(y["pipelines"]["public_events"]["auth"]["body_name"]);  // typed columns: payload
  EXPECT_EQ(y["pipelines"]["dev_public_events"]["path"].as<std::string>(),
            "/webhook/dev/public/events");
  EXPECT_EQ(y["pipelines"].size(), 3u);
  // A table named like the journal's own `events`: the tables go to a database of their own.
  EXPECT_FALSE(y["journal"]);
  EXPECT_EQ(y["sinks"]["local"]["type"].as<std::string>(), "sqlite");
  EXPECT_EQ(y["sinks"]["local"]["path"].as<std::string>(), "data/inlet.db");
}

TEST(ImportSql, UnsupportedStatementsAreReportedWithLines) {
  auto r = run(R"sql(SET x = 1;
CREATE MATERIALIZED VIEW mv AS SELECT 1;
CREATE TABLE plain (a INT);
CREATE TABLE k (data JSONB) WITH (connector = 'kafka') VALIDATE AS true;
CREATE SECRET vault WITH (backend = 'hashicorp_vault') AS 'x';
CREATE TABLE open (data JSONB) WITH (connector = 'webhook');
CREATE SECRET unused WITH (backend = 'meta') AS 'u';
CREATE TABLE ok (data JSONB) WITH (connector = 'webhook')
  VALIDATE SECRET missing AS secure_compare(headers->>'a', missing);
CREATE TABLE bad (data JSONB) WITH (connector = 'webhook') VALIDATE SECRET s;
)sql");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("in.sql:1: unsupported statement (SET X), skipped"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("in.sql:2: unsupported statement (CREATE MATERIALIZED VIEW), skipped"),
            std::string::npos);
  EXPECT_NE(r.err.find("in.sql:3: table plain is not a webhook table"), std::string::npos);
  EXPECT_NE(r.err.find("in.sql:4: table k is not a webhook table (connector = 'kafka')"),
            std::string::npos);
  EXPECT_NE(r.err.find("in.sql:5: secret vault uses backend 'hashicorp_vault'"), std::string::npos);
  EXPECT_NE(r.err.find("in.sql:6: table open has no VALIDATE clause"), std::string::npos);
  EXPECT_NE(r.err.find("in.sql:7: secret unused is not used by any webhook table"),
            std::string::npos);
  EXPECT_NE(
      r.err.find("secret missing is used but not created in this file; set INLET_SECRET_MISSING"),
      std::string::npos);
  EXPECT_NE(r.err.find("in.sql:10: expected AS at the end of the statement"), std::string::npos)
      << r.err;
  auto y = r.yaml();
  EXPECT_EQ(y["pipelines"].size(), 1u);
  EXPECT_EQ(y["secrets"]["missing"]["env"].as<std::string>(), "INLET_SECRET_MISSING");
  EXPECT_FALSE(y["secrets"]["unused"]);
}

TEST(ImportSql, NothingUsableIsExitCode2) {
  auto r = run("CREATE SECRET s WITH (backend = 'meta') AS 'v'; SELECT 1;");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("nothing to import"), std::string::npos);
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("CREATE SECRET s AS 'unterminated").code, 2);
  EXPECT_NE(
      run("CREATE SECRET s AS 'unterminated").err.find("in.sql:1: unterminated string literal"),
      std::string::npos);
  // An unclosed block comment is reported at the line it opens on; nested ones close in pairs.
  auto comment = run("CREATE SECRET s AS 'v';\n\n/* one /* two */\nstill open");
  EXPECT_EQ(comment.code, 2);
  EXPECT_NE(comment.err.find("in.sql:3: unterminated /* comment"), std::string::npos)
      << comment.err;

  std::ostringstream out, err;
  EXPECT_EQ(runImportSql("/nonexistent/dir/x.sql", false, out, err), 2);
  EXPECT_NE(err.str().find("cannot open"), std::string::npos);
}

TEST(ImportSql, ReadsAFile) {
  std::string path = ::testing::TempDir() + "import_sql_test.sql";
  {
    std::ofstream f(path, std::ios::binary);
    f << kDocsExample;
  }
  std::ostringstream out, err;
  EXPECT_EQ(runImportSql(path, false, out, err), 0) << err.str();
  EXPECT_EQ(YAML::Load(out.str())["pipelines"]["wbhtable"]["table"].as<std::string>(), "wbhtable");
  std::remove(path.c_str());
}

// End to end: the imported expression, with the secret the config names, verifies a request
// signed the way GitHub signs it.
TEST(ImportSql, ImportedExpressionVerifies) {
  auto r = run(kDocsExample, true);
  ASSERT_EQ(r.code, 0);
  auto y = r.yaml();
  auto auth = y["pipelines"]["wbhtable"]["auth"];
  inlet::auth::ExpressionProvider::Options o;
  o.expression = auth["expression"].as<std::string>();
  std::string name = auth["secrets"][0].as<std::string>();
  std::string value = y["secrets"][name]["value"].as<std::string>();
  inlet::auth::ExpressionProvider p(o, {{name, value}});
  inlet::testing::RequestBuilder req;
  namespace crypto = inlet::sdk::crypto;
  req.body(R"({"a":1})")
      .header("x-hub-signature-256",
              "sha256=" + crypto::toHex(
                              crypto::hmac(crypto::Digest::Sha256, "secret_value", R"({"a":1})")));
  EXPECT_TRUE(p.verify(req.request()).accepted());
}

}  // namespace
