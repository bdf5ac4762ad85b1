// The engine over the real AWS client (aws::NewClientFactory: Query encoding, SigV4, XML), with an
// HTTP client that answers only when the test says so: what an iam_user issue sends, and when.
#include <gtest/gtest.h>

#include <algorithm>
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
  if (!result_inner.empty())
    body += "<" + action + "Result>" + result_inner + "</" + action + "Result>";
  body +=
      "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></" + action + "Response>";
  return net::HttpResponse{200, {}, body};
}

// Core's registrar, as far as the engine sees it: records what it was asked to register.
class FakeRegistrar : public logical::LeaseRegistrar {
 public:
  Task<Result<logical::RegisteredLease>> Register(const logical::SecretSpec& spec) override {
    specs.push_back(spec);
    if (!fail.ok()) co_return fail;
    logical::RegisteredLease reg;
    reg.lease_id = "aws/creds/deploy/lease" + std::to_string(specs.size());
    reg.lease_duration = 3600;
    co_return reg;
  }
  std::vector<logical::SecretSpec> specs;
  Status fail = Status::Ok();
};

class IamUserIssueOrderTest : public testing::Test {
 protected:
  void SetUp() override {
    deps_.http = &http_;
    deps_.timer = &timer_;
    deps_.clock = &clock_;
    deps_.random = [] { return 0.5; };
    mount_.path = "aws/";
    mount_.type = "aws";
    mount_.default_lease_ttl = 3600;
    mount_.max_lease_ttl = 3600;
    auto made = NewAwsBackend(mount_, aws::NewClientFactory(deps_), &clock_, AwsBackendOptions());
    ASSERT_TRUE(made.ok());
    backend_ = *made;
    ASSERT_TRUE(Write("config/root", {{"access_key", "AKIDEXAMPLE"},
                                      {"secret_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                                      {"region", "us-east-1"},
                                      {"iam_endpoint", "http://127.0.0.1:9/"}})
                    .ok());
    ASSERT_TRUE(Write("roles/deploy", {{"credential_type", "iam_user"},
                                       {"policy_document", R"({"Version":"2012-10-17","Statement":)"
                                                           R"({"Effect":"Allow","Action":"ec2:*",)"
                                                           R"("Resource":"*"}})"}})
                    .ok());
    ASSERT_TRUE(http_.pending().empty());
  }
  Result<logical::Response> Write(const std::string& path, Json data) {
    logical::Request r;
    r.operation = logical::Operation::kUpdate;
    r.path = path;
    r.data = std::move(data);
    r.storage = &storage_;
    r.mount = mount_;
    return backend_->HandleRequest(r);
  }
  // Starts `vault read aws/creds/deploy` (with `leases` as core's registrar, or none); its outcome
  // lands in out_.
  void StartIssue(logical::LeaseRegistrar* leases) {
    req_.operation = logical::Operation::kRead;
    req_.path = "creds/deploy";
    req_.storage = &storage_;
    req_.mount = mount_;
    req_.display_name = "root";
    req_.leases = leases;
    StartTask(backend_->HandleRequestAsync(req_),
              [this](Result<logical::Response> r) { out_ = std::move(r); });
  }
  // Answers the one pending call, CreateUser; returns the user's name.
  std::string AnswerCreateUser() {
    EXPECT_EQ(http_.pending().size(), 1u);
    if (http_.pending().size() != 1u) return "";
    EXPECT_EQ(ActionOf(http_.pending()[0].request), "CreateUser");
    const std::string user = Param(http_.pending()[0].request, "UserName");
    auto cu = std::move(http_.pending()[0]);
    http_.pending().clear();
    cu.done(Answer("CreateUser",
                   "<User><Path>/</Path><UserName>" + user +
                       "</UserName><UserId>AIDA1</UserId><Arn>arn:aws:iam::123456789012:user/" +
                       user + "</Arn><CreateDate>2026-11-23T18:26:54Z</CreateDate></User>"));
    return user;
  }
  // The pending calls' actions, in the order they were sent.
  std::vector<std::string> PendingActions() {
    std::vector<std::string> out;
    for (const auto& p : http_.pending()) out.push_back(ActionOf(p.request));
    return out;
  }
  // The stored write-ahead entry ids.
  std::vector<std::string> Wals() {
    auto keys = SyncWait(storage_.List("wal/"));
    return keys.ok() ? *keys : std::vector<std::string>{"<list failed>"};
  }
  net::HttpResponse KeyAnswer(const std::string& user) {
    return Answer("CreateAccessKey",
                  "<AccessKey><UserName>" + user +
                      "</UserName><AccessKeyId>AKIANEW</AccessKeyId><Status>Active"
                      "</Status><SecretAccessKey>new-secret</SecretAccessKey>"
                      "</AccessKey>");
  }

  // 2026-11-23T18:26:54Z
  FakeClock clock_{1795458414LL * 1000000000LL};
  net::FakeTimer timer_{true, &clock_};
  DeferredHttpClient http_;
  aws::ClientDeps deps_;
  logical::MountInfo mount_;
  std::shared_ptr<logical::Backend> backend_;
  logical::MemStorage storage_;
  logical::Request req_;
  std::optional<Result<logical::Response>> out_;
};

TEST_F(IamUserIssueOrderTest, CallsAfterCreateUserAreMadeWhileItIsInFlight) {
  StartIssue(nullptr);

  // Only CreateUser is on the wire; the issue waits for it.
  ASSERT_EQ(http_.pending().size(), 1u);
  ASSERT_EQ(ActionOf(http_.pending()[0].request), "CreateUser");
  EXPECT_EQ(DateOf(http_.pending()[0].request), "20261123T182654Z");
  EXPECT_FALSE(out_.has_value());
  const std::string user = Param(http_.pending()[0].request, "UserName");
  ASSERT_EQ(user.rfind("vault-", 0), 0u) << user;

  // CreateUser takes 30 s to answer.
  clock_.AdvanceSeconds(30);
  AnswerCreateUser();

  // The next calls go out together the moment the user exists, and they were made (encoded and
  // signed) while CreateUser was in flight: they carry its date, not the answer's 18:27:24.
  ASSERT_EQ(PendingActions(), (std::vector<std::string>{"PutUserPolicy", "CreateAccessKey"}));
  for (const auto& p : http_.pending())
    EXPECT_EQ(DateOf(p.request), "20261123T182654Z") << ActionOf(p.request);
  EXPECT_FALSE(out_.has_value());

  auto rest = std::move(http_.pending());
  http_.pending().clear();
  rest[0].done(Answer("PutUserPolicy", ""));
  EXPECT_FALSE(out_.has_value());  // the key is returned only once every call succeeded
  rest[1].done(KeyAnswer(user));
  ASSERT_TRUE(out_.has_value());
  ASSERT_TRUE(out_->ok()) << out_->status().message();
  EXPECT_EQ((*out_)->data["access_key"], "AKIANEW");
  EXPECT_EQ((*out_)->data["secret_key"], "new-secret");
  EXPECT_TRUE(http_.pending().empty());
  // Without core's registrar the lease is left to core, with the write-ahead entry to drop.
  ASSERT_TRUE((*out_)->secret.has_value());
  EXPECT_FALSE((*out_)->secret->registered.has_value());
  EXPECT_EQ((*out_)->secret->wal_ids, Wals());
}

// With core's registrar, the lease is registered while PutUserPolicy and CreateAccessKey are at
// AWS, after they left: the answer then does not wait for the lease write. The lease registered is
// the one answered, and it takes the write-ahead entry with it.
TEST_F(IamUserIssueOrderTest, TheLeaseIsRegisteredWhileTheLastCallsAreAtAws) {
  FakeRegistrar leases;
  StartIssue(&leases);
  ASSERT_EQ(Wals().size(), 1u);
  EXPECT_TRUE(leases.specs.empty());  // not while CreateUser may still fail
  const std::string user = AnswerCreateUser();
  ASSERT_EQ(PendingActions(), (std::vector<std::string>{"PutUserPolicy", "CreateAccessKey"}));
  ASSERT_EQ(leases.specs.size(), 1u);
  const logical::SecretSpec& spec = leases.specs[0];
  EXPECT_EQ(spec.internal_data["username"], user);
  EXPECT_EQ(spec.internal_data["credential_type"], "iam_user");
  EXPECT_EQ(spec.internal_data["policy_name"], "deploy");
  EXPECT_EQ(spec.ttl, 3600);  // Vault 0.2's default without config/lease
  EXPECT_TRUE(spec.renewable);
  EXPECT_EQ(spec.wal_ids, Wals());
  EXPECT_FALSE(out_.has_value());

  auto rest = std::move(http_.pending());
  http_.pending().clear();
  rest[0].done(Answer("PutUserPolicy", ""));
  rest[1].done(KeyAnswer(user));
  ASSERT_TRUE(out_.has_value());
  ASSERT_TRUE(out_->ok()) << out_->status().message();
  EXPECT_EQ((*out_)->data["access_key"], "AKIANEW");
  ASSERT_TRUE((*out_)->secret.has_value());
  ASSERT_TRUE((*out_)->secret->registered.has_value());
  EXPECT_EQ((*out_)->secret->registered->lease_id, "aws/creds/deploy/lease1");
  EXPECT_EQ(leases.specs.size(), 1u);
}

// A call after CreateUser fails once the lease is registered: the engine answers with the error
// and leaves the user to the lease, which core revokes before answering (RevokeSecret removes the
// user). It does not start removing the user itself.
TEST_F(IamUserIssueOrderTest, AFailureAfterTheLeaseWasRegisteredLeavesTheUndoToTheLease) {
  FakeRegistrar leases;
  StartIssue(&leases);
  AnswerCreateUser();
  ASSERT_EQ(leases.specs.size(), 1u);
  auto rest = std::move(http_.pending());
  http_.pending().clear();
  rest[0].done(Answer("PutUserPolicy", ""));
  rest[1].done(net::HttpResponse{
      409,
      {},
      "<ErrorResponse><Error><Type>Sender</Type><Code>LimitExceeded</Code><Message>Cannot "
      "exceed quota for AccessKeysPerUser: 2</Message></Error><RequestId>r</RequestId>"
      "</ErrorResponse>"});
  ASSERT_TRUE(out_.has_value());
  ASSERT_FALSE(out_->ok());
  EXPECT_EQ(out_->status().message(),
            "Error creating access keys: Cannot exceed quota for AccessKeysPerUser: 2");
  EXPECT_TRUE(http_.pending().empty());  // no ListGroupsForUser...DeleteUser from the engine
}

// When the registration fails, nothing covers the user but the write-ahead entry: the engine
// removes the user itself, as without a registrar, then drops the entry and reports the failure.
TEST_F(IamUserIssueOrderTest, WhenTheRegistrationFailsTheEngineRemovesTheUserItself) {
  FakeRegistrar leases;
  leases.fail = Unavailable("storage is gone");
  StartIssue(&leases);
  const std::string user = AnswerCreateUser();
  auto rest = std::move(http_.pending());
  http_.pending().clear();
  rest[0].done(Answer("PutUserPolicy", ""));
  rest[1].done(KeyAnswer(user));
  // The removal looks for everything that can hang off the user at once (and deletes its login
  // profile, if any), then removes what it found one call at a time. Each call is answered as AWS
  // would for this user.
  std::vector<std::string> undo;
  std::vector<size_t> rounds;
  for (int i = 0; i < 20 && !out_.has_value(); ++i) {
    ASSERT_FALSE(http_.pending().empty());
    auto round = std::move(http_.pending());
    http_.pending().clear();
    rounds.push_back(round.size());
    for (auto& p : round) {
      const std::string action = ActionOf(p.request);
      undo.push_back(action);
      if (action == "DeleteLoginProfile") {
        p.done(net::HttpResponse{404,
                                 {},
                                 "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity"
                                 "</Code><Message>Login Profile for User " +
                                     user +
                                     " cannot be found.</Message></Error><RequestId>r"
                                     "</RequestId></ErrorResponse>"});
        continue;
      }
      std::string inner;
      if (action == "ListUserPolicies")
        inner = "<PolicyNames><member>deploy</member></PolicyNames>";
      if (action == "ListAccessKeys")
        inner = "<AccessKeyMetadata><member><UserName>" + user +
                "</UserName><AccessKeyId>AKIANEW"
                "</AccessKeyId><Status>Active</Status></member></AccessKeyMetadata>";
      if (action == "ListServiceSpecificCredentials")
        inner = "<ServiceSpecificCredentials/>";  // a list without paging
      else if (action.rfind("List", 0) == 0)
        inner += "<IsTruncated>false</IsTruncated>";
      p.done(Answer(action, inner));
    }
  }
  ASSERT_TRUE(out_.has_value());
  ASSERT_FALSE(out_->ok());
  EXPECT_EQ(out_->status().message(), "error registering the lease: storage is gone");
  EXPECT_EQ(rounds, (std::vector<size_t>{9, 1, 1, 1}));
  EXPECT_EQ(std::vector<std::string>(undo.begin() + 9, undo.end()),
            (std::vector<std::string>{"DeleteAccessKey", "DeleteUserPolicy", "DeleteUser"}));
  EXPECT_TRUE(Wals().empty());
}

// With wait_for_propagation the answer may wait up to propagation_timeout for the new key: the
// lease is left to core after that wait, so that its TTL runs from the answer, not from before it.
TEST_F(IamUserIssueOrderTest, WithWaitForPropagationTheLeaseIsRegisteredAfterTheWait) {
  ASSERT_TRUE(Write("roles/deploy", {{"credential_type", "iam_user"},
                                     {"policy_arns", "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                                     {"wait_for_propagation", true}})
                  .ok());
  FakeRegistrar leases;
  StartIssue(&leases);
  const std::string user = AnswerCreateUser();
  ASSERT_EQ(PendingActions(),
            (std::vector<std::string>{"AttachUserPolicy", "PutUserPolicy", "CreateAccessKey"}));
  EXPECT_TRUE(leases.specs.empty());
  auto rest = std::move(http_.pending());
  http_.pending().clear();
  rest[0].done(Answer("AttachUserPolicy", ""));
  rest[1].done(Answer("PutUserPolicy", ""));
  rest[2].done(KeyAnswer(user));
  // The probe with the new key.
  ASSERT_EQ(PendingActions(), std::vector<std::string>{"GetCallerIdentity"});
  auto probe = std::move(http_.pending()[0]);
  http_.pending().clear();
  probe.done(Answer("GetCallerIdentity", "<Arn>arn:aws:iam::123456789012:user/" + user +
                                             "</Arn><UserId>AIDA1</UserId><Account>123456789012"
                                             "</Account>"));
  ASSERT_TRUE(out_.has_value());
  ASSERT_TRUE(out_->ok()) << out_->status().message();
  EXPECT_TRUE(leases.specs.empty());
  ASSERT_TRUE((*out_)->secret.has_value());
  EXPECT_FALSE((*out_)->secret->registered.has_value());
  EXPECT_EQ((*out_)->secret->wal_ids, Wals());  // core drops it with the lease
}

// STS credentials: their lease is registered while the call is at AWS, with the requested TTL;
// a failed call leaves the registered lease to core (which drops it: STS credentials cannot be
// revoked).
TEST_F(IamUserIssueOrderTest, AnStsLeaseIsRegisteredWhileTheCallIsAtAws) {
  ASSERT_TRUE(Write("roles/fed", {{"credential_type", "federation_token"},
                                  {"policy_document", R"({"Version":"2012-10-17","Statement":)"
                                                      R"({"Effect":"Allow","Action":"s3:*",)"
                                                      R"("Resource":"*"}})"}})
                  .ok());
  for (bool fail : {false, true}) {
    SCOPED_TRACE(fail ? "the call fails" : "the call succeeds");
    out_.reset();
    FakeRegistrar leases;
    req_ = logical::Request();
    req_.operation = logical::Operation::kUpdate;
    req_.path = "sts/fed";
    req_.data = {{"ttl", "15m"}};
    req_.storage = &storage_;
    req_.mount = mount_;
    req_.display_name = "root";
    req_.leases = &leases;
    StartTask(backend_->HandleRequestAsync(req_),
              [this](Result<logical::Response> r) { out_ = std::move(r); });
    ASSERT_EQ(PendingActions(), std::vector<std::string>{"GetFederationToken"});
    const std::string name = Param(http_.pending()[0].request, "Name");
    ASSERT_EQ(leases.specs.size(), 1u);
    EXPECT_EQ(leases.specs[0].ttl, 900);
    EXPECT_FALSE(leases.specs[0].renewable);
    EXPECT_EQ(leases.specs[0].internal_data["username"], name);
    EXPECT_EQ(leases.specs[0].internal_data["is_sts"], true);
    EXPECT_FALSE(out_.has_value());
    auto p = std::move(http_.pending()[0]);
    http_.pending().clear();
    if (fail) {
      p.done(net::HttpResponse{403,
                               {},
                               "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied"
                               "</Code><Message>not allowed</Message></Error></ErrorResponse>"});
      ASSERT_TRUE(out_.has_value());
      ASSERT_FALSE(out_->ok());
      EXPECT_EQ(out_->status().message(), "Error generating STS keys: not allowed");
      continue;
    }
    p.done(
        Answer("GetFederationToken",
               "<Credentials><SessionToken>tok</SessionToken><SecretAccessKey>sts-secret"
               "</SecretAccessKey><Expiration>2026-11-23T18:41:54Z</Expiration><AccessKeyId>ASIANEW"
               "</AccessKeyId></Credentials><FederatedUser><Arn>arn:aws:sts::123456789012:"
               "federated-user/" +
                   name + "</Arn><FederatedUserId>123456789012:" + name +
                   "</FederatedUserId></FederatedUser>"));
    ASSERT_TRUE(out_.has_value());
    ASSERT_TRUE(out_->ok()) << out_->status().message();
    EXPECT_EQ((*out_)->data["access_key"], "ASIANEW");
    EXPECT_EQ((*out_)->data["security_token"], "tok");
    ASSERT_TRUE((*out_)->secret.has_value());
    ASSERT_TRUE((*out_)->secret->registered.has_value());
    EXPECT_EQ((*out_)->secret->registered->lease_id, "aws/creds/deploy/lease1");
  }
}

}  // namespace
}  // namespace vault::engines::awsengine
