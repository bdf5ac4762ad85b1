#include "aws/client.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <ctime>
#include <deque>
#include <future>
#include <thread>

#include "net/fake_http_client.h"
#include "util/thread_pool.h"

namespace vault::aws {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kToken[] = "SESSIONTOKEN-abc/def+ghi";

net::HttpResponse Ok(const std::string& action, const std::string& result_inner) {
  std::string body = "<" + action + "Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">";
  if (!result_inner.empty()) {
    body += "<" + action + "Result>" + result_inner + "</" + action + "Result>";
  }
  body +=
      "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></" + action + "Response>";
  return net::HttpResponse{200, {{"x-amzn-RequestId", "rid"}}, body};
}

net::HttpResponse Err(int status, const std::string& code, const std::string& message) {
  return net::HttpResponse{status,
                           {{"x-amzn-RequestId", "err-rid"}},
                           "<ErrorResponse><Error><Type>Sender</Type><Code>" + code +
                               "</Code><Message>" + message +
                               "</Message></Error><RequestId>err-rid</RequestId></ErrorResponse>"};
}

std::string ActionOf(const net::HttpRequest& r) {
  size_t a = r.body.find("Action=");
  size_t amp = r.body.find('&', a);
  return r.body.substr(a + 7, amp - a - 7);
}

// The Authorization header a standalone signer gives an IAM request with r's URL and body at
// `unix_seconds`.
std::string StandaloneAuthorization(const net::HttpRequest& r, int64_t unix_seconds) {
  net::HttpRequest copy;
  copy.method = "POST";
  copy.url = r.url;
  copy.body = r.body;
  copy.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  SigV4Signer signer({"AKIDEXAMPLE", kSecret, ""}, "us-east-1", "iam");
  return signer.Sign(copy, unix_seconds).authorization;
}

const char kUserXml[] =
    "<User><Path>/</Path><UserName>u1</UserName><UserId>AIDA1</UserId>"
    "<Arn>arn:aws:iam::123456789012:user/u1</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>"
    "</User>";

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : clock_(1795458414LL * 1000000000LL), timer_(true, &clock_) {}

  ClientDeps Deps() {
    ClientDeps d;
    d.http = &http_;
    d.timer = &timer_;
    d.clock = &clock_;
    d.random = [] { return 0.5; };
    return d;
  }
  ClientConfig Config() {
    ClientConfig cfg;
    cfg.credentials = {"AKIDEXAMPLE", kSecret, ""};
    cfg.iam_endpoint = "http://127.0.0.1:9/";
    cfg.sts_endpoint = "http://127.0.0.1:9/";
    return cfg;
  }
  std::shared_ptr<IamApi> Iam(ClientConfig cfg) { return NewClientFactory(Deps())->NewIam(cfg); }
  std::shared_ptr<IamApi> Iam() { return Iam(Config()); }
  std::shared_ptr<StsApi> Sts(ClientConfig cfg) { return NewClientFactory(Deps())->NewSts(cfg); }

  FakeClock clock_;
  net::FakeTimer timer_;
  net::FakeHttpClient http_;
};

TEST(RetryPolicyTest, BackoffIsCappedExponentialWithFullJitter) {
  RetryOptions o;
  EXPECT_EQ(BackoffDelayMs(o, 0, false, 0.0), 0);
  EXPECT_EQ(BackoffDelayMs(o, 0, false, 0.5), 15);
  EXPECT_EQ(BackoffDelayMs(o, 3, false, 0.5), 120);
  EXPECT_EQ(BackoffDelayMs(o, 0, true, 0.5), 250);
  EXPECT_EQ(BackoffDelayMs(o, 2, true, 0.5), 1000);
  EXPECT_EQ(BackoffDelayMs(o, 10, true, 0.999999), 19999);  // capped at 20 s
  EXPECT_EQ(BackoffDelayMs(o, 1000, true, 0.5), 10000);
  for (int attempt = 0; attempt < 6; ++attempt) {
    EXPECT_LE(BackoffDelayMs(o, attempt, false, 0.999), 30 << attempt);
  }
}

TEST(RetryPolicyTest, ThrottlingCodes) {
  for (const char* c : {"Throttling", "ThrottlingException", "RequestLimitExceeded",
                        "TooManyRequestsException", "SlowDown", "RequestThrottled"}) {
    EXPECT_TRUE(IsThrottlingCode(c)) << c;
  }
  for (const char* c : {"LimitExceeded", "NoSuchEntity", "AccessDenied", "ServiceFailure", ""}) {
    EXPECT_FALSE(IsThrottlingCode(c)) << c;
  }
}

TEST(EndpointTest, IamAndStsDefaultsAndOverrides) {
  ClientConfig cfg;
  QueryClientOptions iam = IamOptions(cfg);
  EXPECT_EQ(iam.endpoint, "https://iam.amazonaws.com/");
  EXPECT_EQ(iam.signing_region, "us-east-1");
  EXPECT_EQ(iam.service, "iam");
  EXPECT_EQ(iam.retry.max_retries, 3);
  cfg.region = "eu-west-1";
  EXPECT_EQ(IamOptions(cfg).signing_region, "us-east-1");
  QueryClientOptions sts = StsOptions(cfg);
  EXPECT_EQ(sts.endpoint, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_EQ(sts.signing_region, "eu-west-1");
  EXPECT_EQ(sts.service, "sts");
  cfg.sts_region = "us-west-2";
  EXPECT_EQ(StsOptions(cfg).endpoint, "https://sts.us-west-2.amazonaws.com/");
  EXPECT_EQ(StsOptions(cfg).signing_region, "us-west-2");
  cfg.sts_endpoint = "sts.example.internal:8443";
  EXPECT_EQ(StsOptions(cfg).endpoint, "https://sts.example.internal:8443/");
  EXPECT_EQ(StsOptions(cfg).signing_region, "us-west-2");
  cfg.iam_endpoint = "http://127.0.0.1:4566";
  cfg.max_retries = 0;
  cfg.rate_limit = 7;
  cfg.timeout_ms = 1234;
  iam = IamOptions(cfg);
  EXPECT_EQ(iam.endpoint, "http://127.0.0.1:4566/");
  EXPECT_EQ(iam.signing_region, "us-east-1");
  EXPECT_EQ(iam.retry.max_retries, 0);
  EXPECT_EQ(iam.rate_limit, 7);
  EXPECT_EQ(iam.timeout_ms, 1234);
  ClientConfig gov;
  gov.region = "us-gov-west-1";
  EXPECT_EQ(IamOptions(gov).endpoint, "https://iam.us-gov.amazonaws.com/");
  EXPECT_EQ(IamOptions(gov).signing_region, "us-gov-west-1");
  ClientConfig cn;
  cn.region = "cn-northwest-1";
  EXPECT_EQ(IamOptions(cn).signing_region, "cn-north-1");
  EXPECT_EQ(StsOptions(cn).endpoint, "https://sts.cn-northwest-1.amazonaws.com.cn/");
}

TEST_F(ClientTest, CreateUserSendsASignedQueryRequestAndParsesTheUser) {
  http_.set_handler([](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return Ok("CreateUser", kUserXml);
  });
  CreateUserInput in;
  in.user_name = "u1";
  in.path = "/vault/";
  Outcome<User> u = SyncWait(Iam()->CreateUser(in));
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  EXPECT_EQ(u->user_name, "u1");
  EXPECT_EQ(u->arn, "arn:aws:iam::123456789012:user/u1");

  auto reqs = http_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const net::HttpRequest& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:9/");
  EXPECT_EQ(r.body, BuildCreateUser(in).Body());
  EXPECT_EQ(r.timeout_ms, 30000);
  EXPECT_EQ(*net::FindHeader(r.headers, "Content-Type"),
            "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(*net::FindHeader(r.headers, "X-Amz-Date"), "20261123T182654Z");
  EXPECT_EQ(net::FindHeader(r.headers, "X-Amz-Security-Token"), nullptr);
  const std::string& auth = *net::FindHeader(r.headers, "Authorization");
  EXPECT_TRUE(auth.starts_with(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/iam/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, Signature="))
      << auth;
  // Cross-check the signature with a standalone signer.
  EXPECT_EQ(StandaloneAuthorization(r, 1795458414), auth);
}

// A call is encoded and signed when its Task is made, so it can be ready while another call is in
// flight; it goes out with that signature if sent within a minute, and is signed again after.
TEST_F(ClientTest, CallsAreSignedWhenMadeAndSignedAgainWhenSentLate) {
  http_.set_handler([](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return Ok("CreateAccessKey",
              "<AccessKey><UserName>u1</UserName><AccessKeyId>AKIA1</AccessKeyId>"
              "<Status>Active</Status><SecretAccessKey>s</SecretAccessKey></AccessKey>");
  });
  auto iam = Iam();
  auto date_sent = [&](int64_t wait_seconds) {
    Task<Outcome<AccessKey>> call = iam->CreateAccessKey("u1");  // signed here
    clock_.AdvanceSeconds(wait_seconds);
    Outcome<AccessKey> key = SyncWait(std::move(call));
    EXPECT_TRUE(key.ok());
    return *net::FindHeader(http_.requests().back().headers, "X-Amz-Date");
  };
  EXPECT_EQ(date_sent(QueryClient::kPreparedMaxAgeSeconds), "20261123T182654Z");  // as made
  // 1795458414 + 60 = 18:27:54; sent 61 s after that, at 18:28:55: signed again.
  EXPECT_EQ(date_sent(QueryClient::kPreparedMaxAgeSeconds + 1), "20261123T182855Z");
  // Each request, either way, carries a valid signature for its date.
  for (const auto& r : http_.requests()) {
    std::tm tm{};
    strptime(net::FindHeader(r.headers, "X-Amz-Date")->c_str(), "%Y%m%dT%H%M%SZ", &tm);
    EXPECT_EQ(StandaloneAuthorization(r, timegm(&tm)),
              *net::FindHeader(r.headers, "Authorization"));
  }
  // A Task made and dropped unsent sends nothing.
  size_t before = http_.requests().size();
  { Task<Outcome<AccessKey>> unsent = iam->CreateAccessKey("u2"); }
  EXPECT_EQ(http_.requests().size(), before);
}

TEST_F(ClientTest, StsUsesItsRegionAndSessionToken) {
  http_.set_handler([](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return Ok("GetCallerIdentity",
              "<Arn>arn:aws:iam::123456789012:user/root</Arn><UserId>AIDA</UserId>"
              "<Account>123456789012</Account>");
  });
  ClientConfig cfg = Config();
  cfg.region = "eu-central-1";
  cfg.credentials.session_token = kToken;
  Outcome<CallerIdentity> id = SyncWait(Sts(cfg)->GetCallerIdentity());
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(id->account, "123456789012");
  const net::HttpRequest r = http_.requests().at(0);
  EXPECT_EQ(r.body, "Action=GetCallerIdentity&Version=2011-06-15");
  EXPECT_EQ(*net::FindHeader(r.headers, "X-Amz-Security-Token"), kToken);
  EXPECT_NE(net::FindHeader(r.headers, "Authorization")
                ->find("/20261123/eu-central-1/sts/aws4_request, SignedHeaders=content-type;host;"
                       "x-amz-date;x-amz-security-token,"),
            std::string::npos);
}

TEST_F(ClientTest, ThrottlingIsRetriedWithThrottleBackoffUntilSuccess) {
  int calls = 0;
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    clock_.AdvanceSeconds(1);  // each exchange takes a second
    if (++calls <= 2) return Err(400, "Throttling", "Rate exceeded");
    return Ok("DeleteUser", "");
  });
  Outcome<Empty> r = SyncWait(Iam()->DeleteUser("u1"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(calls, 3);
  std::vector<int64_t> delays = timer_.delays();
  // Backoff delays (0.5 * 500 * 2^attempt); the rate limiter may add its own waits in between.
  std::vector<int64_t> backoff;
  for (int64_t d : delays) {
    if (d == 250 || d == 500) backoff.push_back(d);
  }
  EXPECT_EQ(backoff, (std::vector<int64_t>{250, 500}));
  // Each retry was re-signed (fresh X-Amz-Date after the fake clock moved), not stacked.
  auto reqs = http_.requests();
  EXPECT_NE(*net::FindHeader(reqs[0].headers, "X-Amz-Date"),
            *net::FindHeader(reqs[2].headers, "X-Amz-Date"));
  EXPECT_NE(*net::FindHeader(reqs[0].headers, "Authorization"),
            *net::FindHeader(reqs[2].headers, "Authorization"));
  for (const auto& r : reqs) EXPECT_EQ(r.headers.size(), 3u);  // Content-Type, date, auth
}

TEST_F(ClientTest, ThrottlingAfterRetriesExhaustedIsFlaggedAndMapsTo502) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return Err(400, "Throttling", "Rate exceeded");
  });
  Outcome<Empty> r = SyncWait(Iam()->DeleteUser("u1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(http_.requests().size(), 4u);  // 1 + max_retries (3)
  EXPECT_EQ(r.error().code, "Throttling");
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_TRUE(r.error().throttled);
  EXPECT_EQ(r.error().request_id, "err-rid");
  EXPECT_EQ(r.error().ToStatus("Error deleting user").code(), StatusCode::kUpstreamThrottled);
  EXPECT_EQ(r.error().ToStatus("Error deleting user").message(),
            "Error deleting user: Rate exceeded");
}

TEST_F(ClientTest, ServerErrorsAndTransportErrorsAreRetriedWithBaseBackoff) {
  int calls = 0;
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    ++calls;
    if (calls == 1) return Err(500, "ServiceFailure", "internal");
    if (calls == 2) return Status(StatusCode::kUpstream, "POST http://127.0.0.1:9/: refused");
    return Ok("GetUser", kUserXml);
  });
  Outcome<User> u = SyncWait(Iam()->GetUser(""));
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(timer_.delays(), (std::vector<int64_t>{15, 30}));
  EXPECT_EQ(http_.requests()[0].body, "Action=GetUser&Version=2010-05-08");
}

TEST_F(ClientTest, TransportFailureAfterRetriesIsARequestError) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return Status(StatusCode::kUpstream, "POST http://127.0.0.1:9/: Couldn't connect to server");
  });
  ClientConfig cfg = Config();
  cfg.max_retries = 1;
  Outcome<User> u = SyncWait(Iam(cfg)->GetUser("x"));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(http_.requests().size(), 2u);
  EXPECT_EQ(u.error().code, "RequestError");
  EXPECT_EQ(u.error().http_status, 0);
  EXPECT_FALSE(u.error().throttled);
  EXPECT_EQ(u.error().ToStatus("x").code(), StatusCode::kUpstream);
}

TEST_F(ClientTest, ClientErrorsAreNotRetried) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    if (ActionOf(r) == "DeleteUser") {
      return Err(409, "DeleteConflict", "Cannot delete entity, must delete policies first.");
    }
    return Err(404, "NoSuchEntity", "The user with name u1 cannot be found.");
  });
  Outcome<User> u = SyncWait(Iam()->GetUser("u1"));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code, "NoSuchEntity");
  EXPECT_EQ(u.error().http_status, 404);
  EXPECT_EQ(u.error().ToStatus("").code(), StatusCode::kInvalidArgument);
  Outcome<Empty> d = SyncWait(Iam()->DeleteUser("u1"));
  EXPECT_EQ(d.error().code, "DeleteConflict");
  EXPECT_EQ(http_.requests().size(), 2u);
  EXPECT_TRUE(timer_.delays().empty());
}

TEST_F(ClientTest, MalformedSuccessIsASerializationErrorWithoutSecrets) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return net::HttpResponse{200,
                             {},
                             "<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey>"
                             "<SecretAccessKey>LEAKME</SecretAccessKey></AccessKey>"
                             "</CreateAccessKeyResult></CreateAccessKeyResponse>"};
  });
  Outcome<AccessKey> k = SyncWait(Iam()->CreateAccessKey("u1"));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code, "SerializationError");
  EXPECT_EQ(k.error().message.find("LEAKME"), std::string::npos);
  EXPECT_EQ(k.error().ToStatus("").code(), StatusCode::kUpstream);
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return net::HttpResponse{200, {}, "<html>captive portal</html>"};
  });
  EXPECT_EQ(SyncWait(Iam()->DeleteUser("u1")).error().code, "SerializationError");
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(ClientTest, OurCredentialsNeverAppearInErrors) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    return Err(
        403, "SignatureDoesNotMatch",
        std::string("The String-to-Sign was for secret ") + kSecret + " and token " + kToken);
  });
  ClientConfig cfg = Config();
  cfg.credentials.session_token = kToken;
  Outcome<User> u = SyncWait(Iam(cfg)->GetUser(""));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().message.find(kSecret), std::string::npos);
  EXPECT_EQ(u.error().message.find(kToken), std::string::npos);
  EXPECT_NE(u.error().message.find("[redacted]"), std::string::npos);
}

TEST_F(ClientTest, ListsAndGroupPolicyDecoding) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    std::string a = ActionOf(r);
    if (a == "ListGroupPolicies") {
      return Ok(a,
                "<PolicyNames><member>p1</member><member>p2</member></PolicyNames>"
                "<IsTruncated>false</IsTruncated>");
    }
    if (a == "GetGroupPolicy") {
      return Ok(a,
                "<GroupName>g</GroupName><PolicyName>p1</PolicyName><PolicyDocument>"
                "%7B%22Statement%22%3A%5B%5D%7D</PolicyDocument>");
    }
    if (a == "ListAccessKeys") {
      return Ok(a,
                "<UserName>u</UserName><AccessKeyMetadata><member><UserName>u</UserName>"
                "<AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status>"
                "<CreateDate>2026-01-02T03:04:05Z</CreateDate></member><member>"
                "<UserName>u</UserName><AccessKeyId>AKIA2</AccessKeyId><Status>Inactive"
                "</Status><CreateDate>2026-01-01T00:00:00.5Z</CreateDate></member>"
                "</AccessKeyMetadata><IsTruncated>false</IsTruncated>");
    }
    return Err(400, "InvalidAction", a);
  });
  auto iam = Iam();
  EXPECT_EQ(SyncWait(iam->ListGroupPolicies("g")).value(), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(SyncWait(iam->GetGroupPolicy("g", "p1")).value(), R"({"Statement":[]})");
  // Static-role rotation picks the oldest key by CreateDate.
  auto keys = SyncWait(iam->ListAccessKeys("u")).value();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].access_key_id, "AKIA1");
  EXPECT_EQ(keys[0].user_name, "u");
  EXPECT_EQ(keys[0].create_date, "2026-01-02T03:04:05Z");
  EXPECT_EQ(keys[1].status, "Inactive");
  EXPECT_EQ(keys[1].create_date, "2026-01-01T00:00:00.5Z");
  EXPECT_TRUE(keys[1].secret_access_key.empty());
  EXPECT_EQ(http_.requests()[0].body,
            "Action=ListGroupPolicies&Version=2010-05-08&GroupName=g&MaxItems=1000");
}

// What can hang off a user besides keys, policies and groups (AWS's sample answers, with the
// certificate body and a hardware device AWS shows alongside virtual ones).
TEST_F(ClientTest, UserAttachmentListsAndDeletes) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    std::string a = ActionOf(r);
    if (a == "ListMFADevices") {
      return Ok(a,
                "<IsTruncated>false</IsTruncated><MFADevices><member><UserName>Bob</UserName>"
                "<SerialNumber>R1234</SerialNumber><EnableDate>2011-10-19T23:56:00Z</EnableDate>"
                "</member><member><UserName>Bob</UserName><SerialNumber>arn:aws:iam::"
                "123456789012:mfa/Bob</SerialNumber><EnableDate>2012-10-19T23:56:00Z"
                "</EnableDate></member></MFADevices>");
    }
    if (a == "ListSigningCertificates") {
      return Ok(a,
                "<UserName>Bob</UserName><Certificates><member><UserName>Bob</UserName>"
                "<CertificateId>TA7SMP42TDN5Z26OBPJE7EXAMPLE</CertificateId><CertificateBody>"
                "-----BEGIN CERTIFICATE-----\nMIICdzCCAeCgAwIBAgIGANc+Ha2wMA0GCSqGSIb3DQEBBQUA"
                "\n-----END CERTIFICATE-----</CertificateBody><Status>Active</Status>"
                "<UploadDate>2013-06-06T21:40:08Z</UploadDate></member></Certificates>"
                "<IsTruncated>false</IsTruncated>");
    }
    if (a == "ListSSHPublicKeys") {
      return Ok(a,
                "<SSHPublicKeys><member><Status>Active</Status><UploadDate>2015-06-05T20:56:46Z"
                "</UploadDate><SSHPublicKeyId>APKAEIVFHP46CEXAMPLE</SSHPublicKeyId><UserName>"
                "Bob</UserName></member><member><Status>Inactive</Status><UploadDate>"
                "2015-06-06T20:56:46Z</UploadDate><SSHPublicKeyId>APKAEIVFHP46CEXAMPLF"
                "</SSHPublicKeyId><UserName>Bob</UserName></member></SSHPublicKeys>"
                "<IsTruncated>false</IsTruncated>");
    }
    if (a == "ListServiceSpecificCredentials") {
      return Ok(a,
                "<ServiceSpecificCredentials><member><UserName>Bob</UserName><Status>Active"
                "</Status><ServiceUserName>Bob-at-123456789012</ServiceUserName><CreateDate>"
                "2016-11-01T17:44:54Z</CreateDate><ServiceSpecificCredentialId>"
                "ACCAQFODXMPL4YFHP7DZE</ServiceSpecificCredentialId><ServiceName>"
                "codecommit.amazonaws.com</ServiceName></member></ServiceSpecificCredentials>");
    }
    if (a == "DeleteLoginProfile") {
      return Err(404, "NoSuchEntity", "Login Profile for User Bob cannot be found.");
    }
    return Ok(a, "");  // the deletions: no result element
  });
  auto iam = Iam();

  auto mfa = SyncWait(iam->ListMFADevices("Bob"));
  ASSERT_TRUE(mfa.ok()) << mfa.error().ToString();
  ASSERT_EQ(mfa->size(), 2u);
  EXPECT_EQ((*mfa)[0].serial_number, "R1234");
  EXPECT_EQ((*mfa)[0].user_name, "Bob");
  EXPECT_EQ((*mfa)[1].serial_number, "arn:aws:iam::123456789012:mfa/Bob");
  EXPECT_EQ((*mfa)[1].enable_date, "2012-10-19T23:56:00Z");

  auto certs = SyncWait(iam->ListSigningCertificates("Bob"));
  ASSERT_TRUE(certs.ok()) << certs.error().ToString();
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].certificate_id, "TA7SMP42TDN5Z26OBPJE7EXAMPLE");
  EXPECT_EQ((*certs)[0].status, "Active");
  EXPECT_EQ((*certs)[0].upload_date, "2013-06-06T21:40:08Z");

  auto ssh = SyncWait(iam->ListSSHPublicKeys("Bob"));
  ASSERT_TRUE(ssh.ok()) << ssh.error().ToString();
  ASSERT_EQ(ssh->size(), 2u);
  EXPECT_EQ((*ssh)[0].ssh_public_key_id, "APKAEIVFHP46CEXAMPLE");
  EXPECT_EQ((*ssh)[1].status, "Inactive");
  EXPECT_EQ((*ssh)[1].user_name, "Bob");

  auto creds = SyncWait(iam->ListServiceSpecificCredentials("Bob"));
  ASSERT_TRUE(creds.ok()) << creds.error().ToString();
  ASSERT_EQ(creds->size(), 1u);
  EXPECT_EQ((*creds)[0].service_specific_credential_id, "ACCAQFODXMPL4YFHP7DZE");
  EXPECT_EQ((*creds)[0].service_name, "codecommit.amazonaws.com");
  EXPECT_EQ((*creds)[0].service_user_name, "Bob-at-123456789012");
  EXPECT_EQ((*creds)[0].create_date, "2016-11-01T17:44:54Z");

  EXPECT_TRUE(SyncWait(iam->DeactivateMFADevice("Bob", "R1234")).ok());
  EXPECT_TRUE(SyncWait(iam->DeleteVirtualMFADevice("arn:aws:iam::123456789012:mfa/Bob")).ok());
  EXPECT_TRUE(SyncWait(iam->DeleteSigningCertificate("Bob", "TA7SMP42TDN5Z26OBPJE7EXAMPLE")).ok());
  EXPECT_TRUE(SyncWait(iam->DeleteSSHPublicKey("Bob", "APKAEIVFHP46CEXAMPLE")).ok());
  EXPECT_TRUE(SyncWait(iam->DeleteServiceSpecificCredential("Bob", "ACCAQFODXMPL4YFHP7DZE")).ok());
  auto profile = SyncWait(iam->DeleteLoginProfile("Bob"));
  ASSERT_FALSE(profile.ok());
  EXPECT_TRUE(profile.error().NoSuchEntity());
  EXPECT_EQ(profile.error().http_status, 404);

  // Each call went out as its builder encodes it (the bodies botocore sends, query_test.cc).
  std::vector<std::string> bodies;
  for (const auto& r : http_.requests()) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{
                        BuildListMFADevices("Bob").Body(),
                        BuildListSigningCertificates("Bob").Body(),
                        BuildListSSHPublicKeys("Bob").Body(),
                        BuildListServiceSpecificCredentials("Bob").Body(),
                        BuildDeactivateMFADevice("Bob", "R1234").Body(),
                        BuildDeleteVirtualMFADevice("arn:aws:iam::123456789012:mfa/Bob").Body(),
                        BuildDeleteSigningCertificate("Bob", "TA7SMP42TDN5Z26OBPJE7EXAMPLE").Body(),
                        BuildDeleteSSHPublicKey("Bob", "APKAEIVFHP46CEXAMPLE").Body(),
                        BuildDeleteServiceSpecificCredential("Bob", "ACCAQFODXMPL4YFHP7DZE").Body(),
                        BuildDeleteLoginProfile("Bob").Body(),
                    }));
  EXPECT_EQ(bodies[0], "Action=ListMFADevices&Version=2010-05-08&UserName=Bob&MaxItems=1000");
  EXPECT_EQ(bodies[3], "Action=ListServiceSpecificCredentials&Version=2010-05-08&UserName=Bob");
}

// An empty list element, or none at all, is an empty list; a member without its id is a
// malformed answer, not a silently skipped item.
TEST_F(ClientTest, UserAttachmentListsEmptyAndMalformed) {
  http_.set_handler([&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    std::string a = ActionOf(r);
    if (a == "ListMFADevices") return Ok(a, "<MFADevices/><IsTruncated>false</IsTruncated>");
    if (a == "ListSSHPublicKeys") return Ok(a, "<IsTruncated>false</IsTruncated>");
    if (a == "ListServiceSpecificCredentials") return Ok(a, "<ServiceSpecificCredentials/>");
    return Ok(a,
              "<Certificates><member><UserName>Bob</UserName><Status>Active</Status>"
              "</member></Certificates>");
  });
  auto iam = Iam();
  EXPECT_TRUE(SyncWait(iam->ListMFADevices("Bob"))->empty());
  EXPECT_TRUE(SyncWait(iam->ListSSHPublicKeys("Bob"))->empty());
  EXPECT_TRUE(SyncWait(iam->ListServiceSpecificCredentials("Bob"))->empty());
  auto certs = SyncWait(iam->ListSigningCertificates("Bob"));
  ASSERT_FALSE(certs.ok());
  EXPECT_EQ(certs.error().code, "SerializationError");
  EXPECT_NE(certs.error().message.find("CertificateId"), std::string::npos);
  EXPECT_EQ(certs.error().request_id, "rid");
}

TEST_F(ClientTest, RateLimitSpacesCalls) {
  http_.set_handler(
      [&](const net::HttpRequest& r) -> Result<net::HttpResponse> { return Ok("DeleteUser", ""); });
  ClientConfig cfg = Config();
  cfg.rate_limit = 2;
  auto iam = Iam(cfg);
  int64_t start = clock_.NowNanos();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(SyncWait(iam->DeleteUser("u")).ok());
  // Burst of 2, then one call every 500 ms of (fake) time.
  EXPECT_EQ(timer_.delays(), (std::vector<int64_t>{500, 500, 500, 500}));
  EXPECT_EQ(clock_.NowNanos() - start, 2000 * 1000000LL);
}

// ---- threads ----

// Completes each exchange on a fresh thread after a short delay (like a real client's I/O thread).
class AsyncFakeHttp : public net::HttpClient {
 public:
  explicit AsyncFakeHttp(net::HttpResponse reply) : reply_(std::move(reply)) {}
  // Joins the answering threads: what runs after `done` (the coroutine's end, the last owner of
  // the client letting go) finishes before the test's process can exit, so LeakSanitizer never
  // sees a client half torn down.
  ~AsyncFakeHttp() override {
    for (;;) {  // an answer may lead to another call (a retry): join until none is left
      std::vector<std::thread> batch;
      {
        std::lock_guard lock(mu_);
        batch.swap(threads_);
      }
      if (batch.empty()) break;
      for (auto& t : batch) t.join();
    }
  }
  void Send(net::HttpRequest request, Callback done) override {
    std::lock_guard lock(mu_);
    if (hold_) {
      held_.push_back(std::move(done));
      cv_.notify_all();
      return;
    }
    threads_.emplace_back([this, done] { done(reply_); });
  }
  // Holding: calls wait for Release() (so a test knows the caller is suspended by then).
  void Hold() { hold_ = true; }
  // Answers the first held call from a new thread (waiting for it to be sent).
  void Release() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !held_.empty(); });
    Callback done = std::move(held_.front());
    held_.erase(held_.begin());
    threads_.emplace_back([this, done] { done(reply_); });
  }

 private:
  net::HttpResponse reply_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::vector<Callback> held_;
  std::vector<std::thread> threads_;
};

// util::ThreadPool with one thread whose id tests can compare against.
class QueueExecutor : public Executor {
 public:
  QueueExecutor() {
    std::promise<std::thread::id> p;
    pool_.Post([&p] { p.set_value(std::this_thread::get_id()); });
    id_ = p.get_future().get();
  }
  void Post(std::function<void()> fn) override {
    ++posted_;
    pool_.Post(std::move(fn));
  }
  std::thread::id id() const { return id_; }
  int posted() const { return posted_.load(); }

 private:
  ThreadPool pool_{1};
  std::thread::id id_;
  std::atomic<int> posted_{0};
};

Task<std::thread::id> GetUserThenReportThread(std::shared_ptr<IamApi> iam) {
  Outcome<User> u = co_await iam->GetUser("u1");
  EXPECT_TRUE(u.ok());
  co_return std::this_thread::get_id();
}

TEST(ClientThreadsTest, AsynchronousCompletionsResumeOnTheExecutor) {
  AsyncFakeHttp http(Ok("GetUser", kUserXml));
  net::FakeTimer timer;
  QueueExecutor executor;
  ClientConfig cfg;
  cfg.credentials = {"AKID", "secret", ""};
  auto factory = NewClientFactory(&http, &timer, &executor, nullptr);
  // The answer comes only once the call is out and its caller suspended (an answer racing the
  // suspension would let the caller go on inline, which is correct but not what this checks).
  http.Hold();
  std::promise<std::thread::id> resumed;
  StartTask(GetUserThenReportThread(factory->NewIam(cfg)),
            [&](std::thread::id id) { resumed.set_value(id); });
  http.Release();
  std::thread::id resumed_on = resumed.get_future().get();
  EXPECT_EQ(resumed_on, executor.id());
  EXPECT_EQ(executor.posted(), 1);  // the free rate-limiter token did not cost a hop
}

TEST(ClientThreadsTest, DroppingTheClientDuringACallIsSafe) {
  AsyncFakeHttp http(Ok("GetUser", kUserXml));
  net::FakeTimer timer;
  ClientConfig cfg;
  cfg.credentials = {"AKID", "secret", ""};
  auto iam = NewClientFactory(&http, &timer, nullptr, nullptr)->NewIam(cfg);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool ok = false;
  StartTask(iam->GetUser("u1"), [&](Outcome<User> u) {
    std::lock_guard lock(mu);
    ok = u.ok();
    done = true;
    cv.notify_all();
  });
  iam.reset();  // the call keeps what it needs alive
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace vault::aws
