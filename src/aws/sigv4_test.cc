#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "util/encoding.h"
#include "util/json.h"

namespace vault::aws {
namespace {

Json LoadVectors(const std::string& file) {
  std::ifstream in(std::string(VAULT_AWS_TESTDATA) + "/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  Result<Json> j = ParseJson(ss.str());
  EXPECT_TRUE(j.ok()) << file << ": " << j.status().ToString();
  return j.ok() ? *j : Json::object();
}

TEST(SigV4Test, MatchesBotocoreByteForByte) {
  Json doc = LoadVectors("sigv4_vectors.json");
  ASSERT_TRUE(doc.contains("vectors"));
  ASSERT_GE(doc["vectors"].size(), 12u);
  for (const Json& v : doc["vectors"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    net::HttpRequest req;
    req.method = v["method"];
    req.url = v["url"];
    req.body = v["body"];
    for (const Json& h : v["headers"]) req.headers.emplace_back(h[0], h[1]);
    Credentials creds{v["access_key"], v["secret_key"], v["session_token"]};
    SigV4Signer signer(creds, v["region"], v["service"]);
    SigV4Parts parts = signer.Sign(req, v["unix_time"].get<int64_t>());
    EXPECT_EQ(parts.amz_date, v["amz_date"].get<std::string>());
    EXPECT_EQ(parts.canonical_request, v["canonical_request"].get<std::string>());
    EXPECT_EQ(parts.string_to_sign, v["string_to_sign"].get<std::string>());
    EXPECT_EQ(parts.authorization, v["authorization"].get<std::string>());

    // The headers were added to the request.
    ASSERT_NE(net::FindHeader(req.headers, "Authorization"), nullptr);
    EXPECT_EQ(*net::FindHeader(req.headers, "Authorization"), parts.authorization);
    EXPECT_EQ(*net::FindHeader(req.headers, "X-Amz-Date"), parts.amz_date);
    const std::string* token = net::FindHeader(req.headers, "X-Amz-Security-Token");
    if (v["session_token"].get<std::string>().empty()) {
      EXPECT_EQ(token, nullptr);
    } else {
      ASSERT_NE(token, nullptr);
      EXPECT_EQ(*token, v["session_token"].get<std::string>());
    }
    // No intermediate string carries the secret key.
    for (const std::string* s :
         {&parts.canonical_request, &parts.string_to_sign, &parts.authorization}) {
      EXPECT_EQ(s->find(v["secret_key"].get<std::string>()), std::string::npos);
    }
  }
}

TEST(SigV4Test, ResigningReplacesPreviousSignatureHeaders) {
  Json doc = LoadVectors("sigv4_vectors.json");
  const Json& v = doc["vectors"][4];  // session credentials
  net::HttpRequest req;
  req.method = v["method"];
  req.url = v["url"];
  req.body = v["body"];
  for (const Json& h : v["headers"]) req.headers.emplace_back(h[0], h[1]);
  SigV4Signer signer({v["access_key"], v["secret_key"], v["session_token"]}, v["region"],
                     v["service"]);
  (void)signer.Sign(req, v["unix_time"].get<int64_t>() - 3600);        // a first attempt
  SigV4Parts parts = signer.Sign(req, v["unix_time"].get<int64_t>());  // the retry
  EXPECT_EQ(parts.authorization, v["authorization"].get<std::string>());
  int auth = 0, date = 0, token = 0;
  for (const auto& [k, val] : req.headers) {
    auth += k == "Authorization";
    date += k == "X-Amz-Date";
    token += k == "X-Amz-Security-Token";
  }
  EXPECT_EQ(auth, 1);
  EXPECT_EQ(date, 1);
  EXPECT_EQ(token, 1);
}

// The AWS documentation's signing-key derivation example.
TEST(SigV4Test, DerivesTheDocumentedSigningKey) {
  EXPECT_EQ(HexEncode(DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                       "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Test, SigningKeyCacheFollowsTheDate) {
  SigV4Signer signer({"AKID", "secret", ""}, "us-east-1", "iam");
  net::HttpRequest a, b;
  a.method = b.method = "POST";
  a.url = b.url = "https://iam.amazonaws.com/";
  a.body = b.body = "Action=GetUser&Version=2010-05-08";
  SigV4Parts day1 = signer.Sign(a, 1700000000);
  SigV4Parts day2 = signer.Sign(b, 1700000000 + 86400);
  SigV4Signer fresh({"AKID", "secret", ""}, "us-east-1", "iam");
  net::HttpRequest c = b;
  EXPECT_EQ(fresh.Sign(c, 1700000000 + 86400).signature, day2.signature);
  EXPECT_NE(day1.signature, day2.signature);
}

TEST(SigV4Test, Helpers) {
  EXPECT_EQ(FormatAmzDate(0), "19700101T000000Z");
  EXPECT_EQ(FormatAmzDate(1795458414), "20261123T182654Z");
  // Against the C library over leap years, century rules and every time of day.
  for (int64_t t = 0; t < 4102444800; t += 86399 * 7 + 3607) {  // 1970 .. 2100
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char want[32];
    std::strftime(want, sizeof(want), "%Y%m%dT%H%M%SZ", &tm);
    ASSERT_EQ(FormatAmzDate(t), want) << t;
  }
  EXPECT_EQ(FormatAmzDate(951782400), "20000229T000000Z");   // 2000 is a leap year
  EXPECT_EQ(FormatAmzDate(4107542399), "21000228T235959Z");  // 2100 is not
  EXPECT_EQ(FormatAmzDate(4107542400), "21000301T000000Z");
  EXPECT_EQ(HostFromUrl("https://IAM.amazonaws.com:443/"), "iam.amazonaws.com");
  EXPECT_EQ(HostFromUrl("http://127.0.0.1:8080"), "127.0.0.1:8080");
  EXPECT_EQ(HostFromUrl("http://user:pw@h:80/x"), "h");
  EXPECT_EQ(HostFromUrl("https://[::1]:8443/"), "[::1]:8443");
  EXPECT_EQ(HostFromUrl("https://[::1]:443/"), "[::1]");
  EXPECT_EQ(HostFromUrl("http://h:0080/"), "h");
  EXPECT_EQ(HostFromUrl("https://h:08443/"), "h:8443");
  // Found by fuzz/aws_query: a port of twenty digits overflowed the number it was read into
  // (undefined behaviour). A port that is no number up to 65535 is kept as written.
  EXPECT_EQ(HostFromUrl("https://iam.amazonaws.com:44656586374301122010/"),
            "iam.amazonaws.com:44656586374301122010");
  EXPECT_EQ(HostFromUrl("https://h:65536/"), "h:65536");
  EXPECT_EQ(HostFromUrl("https://h:44x3/"), "h:44x3");
  EXPECT_EQ(CanonicalUri(""), "/");
  EXPECT_EQ(CanonicalUri("/"), "/");
  EXPECT_EQ(CanonicalUri("/a/./b/../../c"), "/c");
  EXPECT_EQ(CanonicalUri("/../.."), "/");
  EXPECT_EQ(CanonicalUri("/a b/%41"), "/a%20b/%2541");
}

}  // namespace
}  // namespace vault::aws
