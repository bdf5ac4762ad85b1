// The engine over the real AWS client (aws::NewClientFactory: Query encoding, SigV4, XML), with an
// HTTP client that answers only when the test says so: what an iam_user issue sends, and when.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/client.h"
#include "engines/aws/aws.h"
#include "logical/testing.h"
#include "net/fake_http_client.h"
#include "net/http_client.h"

namespace vault::engines::awsengine {
namespace {

// Holds every request with its callback until the test answers it.
class DeferredHttpClient : public net::HttpClient {
 public:
  struct Pending {
    net::HttpRequest request;
    Callback done;
  };
  void Send(net::HttpRequest request, Callback done) override {
    pending_.push_back({std::move(request), std::move(done)});
  }
  std::vector<Pending>& pending() { return pending_; }

 private:
  std::vector<Pending> pending_;
};

// A form parameter of a Query request's body, as sent (encoded), or "".
std::string Param(const net::HttpRequest& r, const std::string& name) {
  std::string_view body = r.body;
  const std::string key = name + "=";
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    if (pair.starts_with(key)) return std::string(pair.substr(key.size()));
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return "";
}

std::string ActionOf(const net::HttpRequest& r) { return Param(r, "Action"); }

std::string DateOf(const net::HttpRequest& r) {
  const std::string* d = net::FindHeader(r.headers, "X-Amz-Date");
  return d == nullptr ? "" : *d;
}

net::HttpResponse Answer(const std::string& action, const std::string& result_inner) {
  std::string body = "<" + action + "Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">";
  if (!result_inner.empty()) body += "<" + action + "Result>" + result_inner + "</" + action + "Result>";
  body += "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></" + action + "Response>";
  return net::HttpResponse{200, {}, body};
}

TEST(IamUserIssueOrderTest, CallsAfterCreateUserAreMadeWhileItIsInFlight) {
  // 2026-11-23T18:26:54Z
  FakeClock clock(1795458414LL * 1000000000LL);
  net::FakeTimer timer(true, &clock);
  DeferredHttpClient http;
  aws::ClientDeps deps;
  deps.http = &http;
  deps.timer = &timer;
  deps.clock = &clock;
  deps.random = [] { return 0.5; };
  logical::MountInfo mount;
  mount.path = "aws/";
  mount.type = "aws";
  mount.default_lease_ttl = 3600;
  mount.max_lease_ttl = 3600;
  auto made = NewAwsBackend(mount, aws::NewClientFactory(deps), &clock, AwsBackendOptions());
  ASSERT_TRUE(made.ok());
  std::shared_ptr<logical::Backend> backend = *made;
  logical::MemStorage storage;
  auto write = [&](const std::string& path, Json data) {
    logical::Request r;
    r.operation = logical::Operation::kUpdate;
    r.path = path;
    r.data = std::move(data);
    r.storage = &storage;
    r.mount = mount;
    return backend->HandleRequest(r);
  };
  ASSERT_TRUE(write("config/root", {{"access_key", "AKIDEXAMPLE"},
                                    {"secret_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                                    {"region", "us-east-1"},
                                    {"iam_endpoint", "http://127.0.0.1:9/"}})
                  .ok());
  ASSERT_TRUE(write("roles/deploy", {{"credential_type", "iam_user"},
                                     {"policy_document", R"({"Version":"2012-10-17","Statement":)"
                                                         R"({"Effect":"Allow","Action":"ec2:*",)"
                                                         R"("Resource":"*"}})"}})
                  .ok());
  ASSERT_TRUE(http.pending().empty());

  logical::Request req;
  req.operation = logical::Operation::kRead;
  req.path = "creds/deploy";
  req.storage = &storage;
  req.mount = mount;
  req.display_name = "root";
  std::optional<Result<logical::Response>> out;
  StartTask(backend->HandleRequestAsync(req), [&](Result<logical::Response> r) { out = std::move(r); });

  // Only CreateUser is on the wire; the issue waits for it.
  ASSERT_EQ(http.pending().size(), 1u);
  ASSERT_EQ(ActionOf(http.pending()[0].request), "CreateUser");
  EXPECT_EQ(DateOf(http.pending()[0].request), "20261123T182654Z");
  EXPECT_FALSE(out.has_value());
  const std::string user = Param(http.pending()[0].request, "UserName");
  ASSERT_EQ(user.rfind("vault-", 0), 0u) << user;

  // CreateUser takes 30 s to answer.
  clock.AdvanceSeconds(30);
  auto cu = std::move(http.pending()[0]);
  http.pending().clear();
  cu.done(Answer("CreateUser", "<User><Path>/</Path><UserName>" + user +
                                   "</UserName><UserId>AIDA1</UserId><Arn>arn:aws:iam::123456789012:user/" +
                                   user + "</Arn><CreateDate>2026-11-23T18:26:54Z</CreateDate></User>"));

  // The next calls go out together the moment the user exists, and they were made (encoded and
  // signed) while CreateUser was in flight: they carry its date, not the answer's 18:27:24.
  ASSERT_EQ(http.pending().size(), 2u);
  std::vector<std::string> actions = {ActionOf(http.pending()[0].request),
                                      ActionOf(http.pending()[1].request)};
  EXPECT_EQ(actions, (std::vector<std::string>{"PutUserPolicy", "CreateAccessKey"}));
  for (const auto& p : http.pending()) EXPECT_EQ(DateOf(p.request), "20261123T182654Z") << ActionOf(p.request);
  EXPECT_FALSE(out.has_value());

  auto rest = std::move(http.pending());
  http.pending().clear();
  rest[0].done(Answer("PutUserPolicy", ""));
  EXPECT_FALSE(out.has_value());  // the key is returned only once every call succeeded
  rest[1].done(Answer("CreateAccessKey", "<AccessKey><UserName>" + user +
                                             "</UserName><AccessKeyId>AKIANEW</AccessKeyId><Status>Active"
                                             "</Status><SecretAccessKey>new-secret</SecretAccessKey>"
                                             "</AccessKey>"));
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok()) << out->status().message();
  EXPECT_EQ((*out)->data["access_key"], "AKIANEW");
  EXPECT_EQ((*out)->data["secret_key"], "new-secret");
  EXPECT_TRUE(http.pending().empty());
}

}  // namespace
}  // namespace vault::engines::awsengine
