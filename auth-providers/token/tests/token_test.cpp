#include "token.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>

#include "credentials.h"

using inlet::auth::CredentialMatcher;
using inlet::auth::CredentialScheme;
using inlet::auth::TokenProvider;
using inlet::sdk::Config;
using inlet::sdk::Host;
using inlet::sdk::Secret;
using inlet::sdk::Verdict;
using inlet::testing::RequestBuilder;
namespace credentials = inlet::auth::credentials;

namespace {

std::unique_ptr<TokenProvider> make(const std::string& options, std::vector<std::string> secrets) {
  std::vector<Secret> s;
  for (size_t i = 0; i < secrets.size(); ++i) s.push_back({"s" + std::to_string(i), secrets[i]});
  return TokenProvider::create(Config::parse(options), s, Host());
}

Verdict run(const TokenProvider& p, const RequestBuilder& r) { return p.verify(r.request()); }

void expectReject(const Verdict& v, const std::string& code, int status = 401) {
  EXPECT_EQ(v.verdict, INLET_REJECT);
  EXPECT_EQ(v.code, code);
  EXPECT_EQ(v.http_status, status);
}

// RFC 6750 §2.1 example token.
TEST(TokenBearer, Rfc6750Example) {
  auto p = make("{}", {"mF_9.B5f-4.1JqM"});
  RequestBuilder r;
  r.header("Authorization", "Bearer mF_9.B5f-4.1JqM");
  auto v = run(*p, r);
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.message;
  EXPECT_TRUE(v.code.empty());
}

TEST(TokenBearer, SchemeWordIsCaseInsensitive) {
  auto p = make(R"({"scheme":"bearer"})", {"tok"});
  for (const char* h : {"bearer tok", "BEARER tok", "BeArEr tok"}) {
    RequestBuilder r;
    r.header("authorization", h);
    EXPECT_EQ(run(*p, r).verdict, INLET_ACCEPT) << h;
  }
}

TEST(TokenBearer, MissingWrongAndGarbled) {
  auto p = make("{}", {"tok"});
  expectReject(run(*p, RequestBuilder()), "missing_credentials");
  RequestBuilder wrong;
  wrong.header("authorization", "Bearer tok2");
  expectReject(run(*p, wrong), "bad_credentials");
  for (const char* bad : {"", "Bearer", "Bearer ", "Bearer  tok", "Bearer\ttok", "Basic tok",
                          "Token tok", "Bearertok", " Bearer tok", "Bearer tok ", "Bearer tok\r",
                          "tok", "Bearer t\xC3\xB6k", "Bearer \x01\x02"}) {
    RequestBuilder r;
    r.header("authorization", bad);
    expectReject(run(*p, r), "bad_credentials");
  }
}

TEST(TokenBearer, PrefixAndExtensionOfSecretDoNotMatch) {
  auto p = make("{}", {"secret-token"});
  for (const char* t : {"secret-toke", "secret-token2", "SECRET-TOKEN", "secret-token "}) {
    RequestBuilder r;
    r.header("authorization", std::string("Bearer ") + t);
    expectReject(run(*p, r), "bad_credentials");
  }
}

TEST(TokenBearer, RotationAnySecretMatches) {
  auto p = make("{}", {"new", "old"});
  for (const char* t : {"new", "old"}) {
    RequestBuilder r;
    r.header("authorization", std::string("Bearer ") + t);
    EXPECT_EQ(run(*p, r).verdict, INLET_ACCEPT) << t;
  }
}

TEST(TokenBearer, DuplicatedAuthorizationIsRejected) {
  auto p = make("{}", {"tok"});
  RequestBuilder r;
  r.header("authorization", "Bearer tok").header("authorization", "Bearer tok");
  expectReject(run(*p, r), "bad_credentials");
}

TEST(TokenBearer, HugeHeaderIsCleanReject) {
  auto p = make("{}", {"tok"});
  RequestBuilder r;
  r.header("authorization", "Bearer " + std::string(1 << 20, 'a'));
  expectReject(run(*p, r), "bad_credentials");
}

TEST(TokenBearer, MessagesNeverCarryTheSecret) {
  auto p = make("{}", {"very-secret-value"});
  RequestBuilder r;
  r.header("authorization", "Bearer very-secret-valuX");
  auto v = run(*p, r);
  EXPECT_EQ(v.message.find("very-secret"), std::string::npos);
  EXPECT_EQ(v.detail.find("very-secret"), std::string::npos);
}

// RFC 7617 §2 example: Aladdin / open sesame.
TEST(TokenBasic, Rfc7617Example) {
  auto p = make(R"({"scheme":"basic"})", {"Aladdin:open sesame"});
  RequestBuilder r;
  r.header("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(run(*p, r).verdict, INLET_ACCEPT);
  RequestBuilder lower;
  lower.header("Authorization", "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(run(*p, lower).verdict, INLET_ACCEPT);
}

TEST(TokenBasic, WrongPasswordAndUser) {
  auto p = make(R"({"scheme":"basic"})", {"Aladdin:open sesame"});
  for (const char* creds :
       {"Aladdin:open sesamE", "aladdin:open sesame", "Aladdin:", ":open sesame"}) {
    RequestBuilder r;
    r.header("authorization", "Basic " + inlet::sdk::crypto::toBase64(creds));
    expectReject(run(*p, r), "bad_credentials");
  }
}

TEST(TokenBasic, GarbledCredentials) {
  auto p = make(R"({"scheme":"basic"})", {"Aladdin:open sesame"});
  for (std::string bad :
       {std::string("Basic"), std::string("Basic "),
        std::string("Basic  QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        std::string("Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        std::string("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==="),
        std::string("Basic QWxh ZGRpbjpvcGVuIHNlc2FtZQ=="),
        std::string("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ-_"), std::string("Basic !!!!"),
        std::string("Basic Q"), "Basic " + inlet::sdk::crypto::toBase64("no colon here"),
        std::string("Basic \xC3\xA9\xC3\xA9")}) {
    RequestBuilder r;
    r.header("authorization", bad);
    expectReject(run(*p, r), "bad_credentials");
  }
}

TEST(TokenBasic, UnpaddedBase64IsAccepted) {
  // "Aladdin:open sesame" is 19 bytes: padded form ends in "==", unpadded is also unambiguous.
  auto p = make(R"({"scheme":"basic"})", {"Aladdin:open sesame"});
  RequestBuilder r;
  r.header("authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ");
  // Strict: unpadded input has length % 4 == 3 here, which RFC 4648 decoders accept when
  // padding is optional; we allow it (same bytes, no ambiguity).
  EXPECT_EQ(run(*p, r).verdict, INLET_ACCEPT);
}

TEST(TokenBasic, SecretMustBeUserColonPassword) {
  EXPECT_THROW(make(R"({"scheme":"basic"})", {"nocolon"}), std::invalid_argument);
}

TEST(TokenHeader, DefaultAndCustomName) {
  auto p = make(R"({"scheme":"header"})", {"k1"});
  RequestBuilder r;
  r.header("X-Api-Key", "k1");
  EXPECT_EQ(run(*p, r).verdict, INLET_ACCEPT);

  auto q = make(R"({"scheme":"header","header":"X-Signing-Key"})", {"k1", "k2"});
  RequestBuilder ok;
  ok.header("x-signing-key", "k2");
  EXPECT_EQ(run(*q, ok).verdict, INLET_ACCEPT);
  expectReject(run(*q, r), "missing_credentials");  // x-api-key is not the configured header
  RequestBuilder wrong;
  wrong.header("x-signing-key", "k3");
  expectReject(run(*q, wrong), "bad_credentials");
  RequestBuilder empty;
  empty.header("x-signing-key", "");
  expectReject(run(*q, empty), "bad_credentials");
  RequestBuilder dup;
  dup.header("x-signing-key", "k1").header("x-signing-key", "k1");
  expectReject(run(*q, dup), "bad_credentials");
  RequestBuilder spaced;
  spaced.header("x-signing-key", " k1");
  expectReject(run(*q, spaced), "bad_credentials");
}

TEST(TokenQuery, PercentDecodedValue) {
  auto p = make(R"({"scheme":"query","param":"key"})", {"a+b/c=="});
  RequestBuilder r;
  r.url("https://example.com/webhook?x=1&key=a%2Bb%2Fc%3D%3D&y=2");
  EXPECT_EQ(run(*p, r).verdict, INLET_ACCEPT);
  RequestBuilder literal;
  literal.url("https://example.com/webhook?key=a+b/c==");  // '+' is kept literally
  EXPECT_EQ(run(*p, literal).verdict, INLET_ACCEPT);
}

TEST(TokenQuery, MissingWrongDuplicatedGarbled) {
  auto p = make(R"({"scheme":"query"})", {"tok"});
  RequestBuilder none;
  none.url("https://example.com/webhook");
  expectReject(run(*p, none), "missing_credentials");
  RequestBuilder other;
  other.url("https://example.com/webhook?tokenx=tok&xtoken=tok");
  expectReject(run(*p, other), "missing_credentials");
  for (const char* target : {"?token=tok2", "?token=", "?token", "?token=tok&token=tok",
                             "?token=%zz", "?token=to%", "?token=to%6", "?token=%74%6f%6b%00"}) {
    RequestBuilder r;
    r.url(std::string("https://example.com/webhook") + target);
    expectReject(run(*p, r), "bad_credentials");
  }
  RequestBuilder encoded_name;
  encoded_name.url("https://example.com/webhook?%74oken=%74%6f%6b");
  EXPECT_EQ(run(*p, encoded_name).verdict, INLET_ACCEPT);
}

TEST(TokenOptions, RefusesBadConfigurations) {
  EXPECT_THROW(make("{}", {}), std::invalid_argument);
  EXPECT_THROW(make("{}", {""}), std::invalid_argument);
  EXPECT_THROW(make(R"({"scheme":"digest"})", {"t"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"header":"x-key"})", {"t"}), std::invalid_argument);  // scheme bearer
  EXPECT_THROW(make(R"({"scheme":"header","param":"x"})", {"t"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"scheme":"header","header":"bad header"})", {"t"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"scheme":"query","param":""})", {"t"}), std::invalid_argument);
}

TEST(TokenOptions, DeliveryAndEventHeaders) {
  auto p = make(R"({"delivery_header":"X-Request-Id","event_header":"X-Event"})", {"tok"});
  RequestBuilder r;
  r.header("authorization", "Bearer tok").header("x-request-id", "d-1").header("x-event", "ping");
  auto v = run(*p, r);
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.delivery_id, "d-1");
  EXPECT_EQ(v.event_type, "ping");
}

TEST(Credentials, PercentDecode) {
  EXPECT_EQ(credentials::percentDecode("a%20b%2B+"), "a b++");
  EXPECT_EQ(credentials::percentDecode(""), "");
  EXPECT_FALSE(credentials::percentDecode("%"));
  EXPECT_FALSE(credentials::percentDecode("%4"));
  EXPECT_FALSE(credentials::percentDecode("%g0"));
}

TEST(Credentials, MatcherIsReusable) {
  CredentialMatcher m(CredentialScheme::Header, "X-Gitlab-Token", {"abc"});
  EXPECT_EQ(m.name(), "x-gitlab-token");
  RequestBuilder r;
  r.header("x-gitlab-token", "abc");
  EXPECT_FALSE(m.check(r.request()).has_value());
}

}  // namespace
