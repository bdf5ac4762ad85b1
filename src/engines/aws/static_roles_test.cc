// Static roles (static-roles/, static-creds/) and their rotation on kRollback, against FakeAws
// and a fake clock.
#include "engines/aws/static_roles.h"

#include <gtest/gtest.h>

#include "engines/aws/aws.h"
#include "engines/aws/testing/fake_aws.h"
#include "logical/testing.h"
#include "logical/wal.h"

namespace vault::engines::awsengine {
namespace {

using logical::Operation;
using logical::Response;
using testing::FakeAws;
using Actions = std::vector<std::string>;
using Keys = std::vector<std::string>;

constexpr char kUser[] = "app-user";
constexpr int64_t kNanos = 1000000000;

namespace awsapi = ::vault::aws;

// FakeAws's IAM, except that CreateAccessKey can be held until the test releases it: a rotation
// in progress.
class GatedIam : public awsapi::IamApi {
 public:
  struct Gate {
    bool armed = false;
    std::function<void(bool)> release;  // set while a call is held
  };
  GatedIam(std::shared_ptr<awsapi::IamApi> inner, Gate* gate)
      : inner_(std::move(inner)), gate_(gate) {}

  Task<awsapi::Outcome<awsapi::AccessKey>> CreateAccessKey(std::string user) override {
    if (gate_->armed) {
      gate_->armed = false;
      co_await AwaitCallback<bool>([this](std::function<void(bool)> cb) { gate_->release = cb; });
    }
    co_return co_await inner_->CreateAccessKey(std::move(user));
  }
  Task<awsapi::Outcome<awsapi::User>> CreateUser(awsapi::CreateUserInput in) override {
    return inner_->CreateUser(std::move(in));
  }
  Task<awsapi::Outcome<awsapi::User>> GetUser(std::string u) override { return inner_->GetUser(u); }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteUser(std::string u) override {
    return inner_->DeleteUser(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> TagUser(std::string u, awsapi::Tags t) override {
    return inner_->TagUser(u, t);
  }
  Task<awsapi::Outcome<awsapi::Empty>> PutUserPolicy(std::string u, std::string n,
                                                     std::string d) override {
    return inner_->PutUserPolicy(u, n, d);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteUserPolicy(std::string u, std::string n) override {
    return inner_->DeleteUserPolicy(u, n);
  }
  Task<awsapi::Outcome<std::vector<std::string>>> ListUserPolicies(std::string u) override {
    return inner_->ListUserPolicies(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> AttachUserPolicy(std::string u, std::string a) override {
    return inner_->AttachUserPolicy(u, a);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DetachUserPolicy(std::string u, std::string a) override {
    return inner_->DetachUserPolicy(u, a);
  }
  Task<awsapi::Outcome<std::vector<std::string>>> ListAttachedUserPolicies(std::string u) override {
    return inner_->ListAttachedUserPolicies(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> AddUserToGroup(std::string g, std::string u) override {
    return inner_->AddUserToGroup(g, u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> RemoveUserFromGroup(std::string g, std::string u) override {
    return inner_->RemoveUserFromGroup(g, u);
  }
  Task<awsapi::Outcome<std::vector<std::string>>> ListGroupsForUser(std::string u) override {
    return inner_->ListGroupsForUser(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteAccessKey(std::string u, std::string k) override {
    return inner_->DeleteAccessKey(u, k);
  }
  Task<awsapi::Outcome<std::vector<awsapi::AccessKey>>> ListAccessKeys(std::string u) override {
    return inner_->ListAccessKeys(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteLoginProfile(std::string u) override {
    return inner_->DeleteLoginProfile(u);
  }
  Task<awsapi::Outcome<std::vector<awsapi::MfaDevice>>> ListMFADevices(std::string u) override {
    return inner_->ListMFADevices(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeactivateMFADevice(std::string u, std::string s) override {
    return inner_->DeactivateMFADevice(u, s);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteVirtualMFADevice(std::string s) override {
    return inner_->DeleteVirtualMFADevice(s);
  }
  Task<awsapi::Outcome<std::vector<awsapi::SigningCertificate>>> ListSigningCertificates(
      std::string u) override {
    return inner_->ListSigningCertificates(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteSigningCertificate(std::string u,
                                                                std::string c) override {
    return inner_->DeleteSigningCertificate(u, c);
  }
  Task<awsapi::Outcome<std::vector<awsapi::SshPublicKey>>> ListSSHPublicKeys(
      std::string u) override {
    return inner_->ListSSHPublicKeys(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteSSHPublicKey(std::string u, std::string k) override {
    return inner_->DeleteSSHPublicKey(u, k);
  }
  Task<awsapi::Outcome<std::vector<awsapi::ServiceSpecificCredential>>>
  ListServiceSpecificCredentials(std::string u) override {
    return inner_->ListServiceSpecificCredentials(u);
  }
  Task<awsapi::Outcome<awsapi::Empty>> DeleteServiceSpecificCredential(std::string u,
                                                                       std::string c) override {
    return inner_->DeleteServiceSpecificCredential(u, c);
  }
  Task<awsapi::Outcome<std::vector<std::string>>> ListAttachedGroupPolicies(
      std::string g) override {
    return inner_->ListAttachedGroupPolicies(g);
  }
  Task<awsapi::Outcome<std::vector<std::string>>> ListGroupPolicies(std::string g) override {
    return inner_->ListGroupPolicies(g);
  }
  Task<awsapi::Outcome<std::string>> GetGroupPolicy(std::string g, std::string p) override {
    return inner_->GetGroupPolicy(g, p);
  }

 private:
  std::shared_ptr<awsapi::IamApi> inner_;
  Gate* gate_;
};

class GatedFactory : public awsapi::ClientFactory {
 public:
  GatedFactory(std::shared_ptr<FakeAws> fake, GatedIam::Gate* gate)
      : fake_(std::move(fake)), gate_(gate) {}
  std::shared_ptr<awsapi::IamApi> NewIam(const awsapi::ClientConfig& cfg) override {
    return std::make_shared<GatedIam>(fake_->NewIam(cfg), gate_);
  }
  std::shared_ptr<awsapi::StsApi> NewSts(const awsapi::ClientConfig& cfg) override {
    return fake_->NewSts(cfg);
  }

 private:
  std::shared_ptr<FakeAws> fake_;
  GatedIam::Gate* gate_;
};

class StaticRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_shared<FakeAws>(&clock_);
    AwsBackendOptions opts;
    opts.sleep = [this](int64_t ms) -> Task<bool> {
      clock_.SetNanos(clock_.NowNanos() + ms * 1000000);
      ++sleeps_;
      if (during_sleep_) {
        auto fn = std::move(during_sleep_);
        during_sleep_ = nullptr;
        fn();
      }
      co_return true;
    };
    mount_.path = "aws/";
    mount_.type = "aws";
    auto b = NewAwsBackend(mount_, std::make_shared<GatedFactory>(fake_, &gate_), &clock_, opts);
    ASSERT_TRUE(b.ok());
    backend_ = *b;
    ASSERT_TRUE(Write("config/root", {{"access_key", testing::kRootAccessKey},
                                      {"secret_key", testing::kRootSecretKey},
                                      {"region", "us-east-1"}})
                    .ok());
    testing::FakeUser u;
    u.name = kUser;
    u.path = "/";
    fake_->AddUser(u);
  }

  Result<Response> Do(Operation op, const std::string& path, Json data = Json::object()) {
    logical::Request r;
    r.operation = op;
    r.path = path;
    r.data = std::move(data);
    r.storage = &storage_;
    r.mount = mount_;
    r.display_name = "root";
    return backend_->HandleRequest(r);
  }
  Result<Response> Write(const std::string& path, Json data) {
    return Do(Operation::kUpdate, path, std::move(data));
  }
  Result<Response> Read(const std::string& path) { return Do(Operation::kRead, path); }
  Result<Response> Rollback() {
    logical::Request r;
    r.operation = Operation::kRollback;
    r.storage = &storage_;
    r.mount = mount_;
    return backend_->HandleRequest(r);
  }

  // Creates static role `name` for kUser and returns Vault's first key.
  std::string Create(const std::string& name = "app", Json period = "1h") {
    auto w = Write("static-roles/" + name, {{"username", kUser}, {"rotation_period", period}});
    EXPECT_TRUE(w.ok()) << w.status().message();
    auto c = Read("static-creds/" + name);
    EXPECT_TRUE(c.ok() && !c->Empty());
    return c.ok() && !c->Empty() ? c->data["access_key"].get<std::string>() : "";
  }
  std::string CurrentKey(const std::string& name = "app") {
    return Read("static-creds/" + name)->data["access_key"];
  }
  std::vector<std::string> Wals() { return *SyncWait(logical::ListWal(&storage_)); }

  FakeClock clock_;
  logical::MemStorage storage_;
  logical::MountInfo mount_;
  std::shared_ptr<FakeAws> fake_;
  std::shared_ptr<logical::Backend> backend_;
  GatedIam::Gate gate_;
  int sleeps_ = 0;
  std::function<void()> during_sleep_;  // runs once inside the next sleep
};

TEST_F(StaticRolesTest, CreateBootstrapsAKeyAndCredsReadsIt) {
  fake_->ClearCalls();
  const int64_t t0 = clock_.NowNanos();
  auto w = Write("static-roles/app", {{"username", kUser}, {"rotation_period", "1h"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(fake_->actions(), (Actions{"GetUser", "ListAccessKeys", "CreateAccessKey"}));
  std::string id = fake_->user(kUser)->id;
  Json want = {{"name", "app"},         {"id", id},
               {"username", kUser},     {"rotation_period", 3600},
               {"assume_role_arn", ""}, {"assume_role_session_name", ""},
               {"external_id", ""}};
  EXPECT_EQ(w->data, want);  // 200 with the role
  EXPECT_EQ(Read("static-roles/app")->data, want);

  auto c = Read("static-creds/app");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->secret);  // no lease
  ASSERT_EQ(c->data.size(), 3u);
  std::string key = c->data["access_key"];
  EXPECT_EQ(fake_->keys_of(kUser), Keys{key});
  EXPECT_EQ(c->data["secret_key"], "s3cr3t/" + key + "/xxxxxxxxxxxxxx");
  EXPECT_EQ(c->data["expiration"], FormatRfc3339Nano(t0 + 3600 * kNanos));
  // The same key until it is rotated.
  EXPECT_EQ(CurrentKey(), key);
  // Stored under the engine's storage, the schedule with the key.
  auto stored = SyncWait(logical::GetJson(&storage_, "static-creds/app"));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((**stored)["expiration"], c->data["expiration"]);
  EXPECT_TRUE(SyncWait(logical::GetJson(&storage_, "static-roles/app"))->has_value());
  EXPECT_TRUE(Wals().empty());
}

TEST_F(StaticRolesTest, ValidationBeforeAnyAwsCall) {
  fake_->ClearCalls();
  auto code_and_message = [&](Json data) {
    auto r = Write("static-roles/app", std::move(data));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  };
  EXPECT_EQ(code_and_message({{"rotation_period", "1h"}}), "missing \"username\" parameter");
  EXPECT_EQ(code_and_message({{"username", kUser}}), "missing \"rotation_period\" parameter");
  EXPECT_EQ(code_and_message({{"username", kUser}, {"rotation_period", 59}}),
            "role rotation period out of range: must be greater than 60.00 seconds");
  EXPECT_EQ(code_and_message({{"username", kUser}, {"rotation_period", "30s"}}),
            "role rotation period out of range: must be greater than 60.00 seconds");
  for (const char* f : {"assume_role_arn", "assume_role_session_name", "external_id"})
    EXPECT_EQ(code_and_message({{"username", kUser}, {"rotation_period", "1h"}, {f, "x"}}),
              "cross-account static roles are only supported in Vault Enterprise");
  EXPECT_EQ(Write("static-roles/app", {{"username", kUser}, {"rotation_period", "bogus"}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_->actions().empty());
  // Exactly one minute is allowed; seconds too.
  ASSERT_TRUE(Write("static-roles/app", {{"username", kUser}, {"rotation_period", "1m"}}).ok());
  EXPECT_EQ(Read("static-roles/app")->data["rotation_period"], 60);
  ASSERT_TRUE(Write("static-roles/app", {{"rotation_period", 90}}).ok());
  EXPECT_EQ(Read("static-roles/app")->data["rotation_period"], 90);
}

TEST_F(StaticRolesTest, GetUserFailureIs400WithAwsMessageAndNothingIsKept) {
  auto r = Write("static-roles/app", {{"username", "ghost"}, {"rotation_period", "1h"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "unable to validate username \"ghost\": The user with name ghost cannot be found.");
  EXPECT_TRUE(Read("static-roles/app")->Empty());
  EXPECT_TRUE(Do(Operation::kList, "static-roles/")->Empty());
  // AWS failing (after the client's retries) is a 502.
  fake_->FailNext("GetUser", FakeAws::Error("ServiceFailure", 500, "try later"));
  r = Write("static-roles/app", {{"username", kUser}, {"rotation_period", "1h"}});
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_EQ(r.status().message(), "unable to validate username \"app-user\": try later");
}

TEST_F(StaticRolesTest, FailedBootstrapDoesNotKeepTheRole) {
  fake_->FailNext("CreateAccessKey", FakeAws::Error("AccessDenied", 403, "not authorized"));
  auto r = Write("static-roles/app", {{"username", kUser}, {"rotation_period", "1h"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "failed to create new credentials for role \"app\": unable to create new access keys "
            "for user \"app-user\": not authorized");
  EXPECT_TRUE(Read("static-roles/app")->Empty());
  EXPECT_TRUE(Read("static-creds/app")->Empty());
  EXPECT_TRUE(Wals().empty());
  EXPECT_TRUE(fake_->keys_of(kUser).empty());
}

TEST_F(StaticRolesTest, UnknownRolesAre404AndDeleteIs204) {
  EXPECT_TRUE(Read("static-roles/nope")->Empty());
  EXPECT_TRUE(Read("static-creds/nope")->Empty());
  auto d = Do(Operation::kDelete, "static-roles/nope");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->Empty());
  EXPECT_TRUE(Do(Operation::kList, "static-roles/")->Empty());
  EXPECT_EQ(Do(Operation::kDelete, "static-creds/nope").status().code(),
            StatusCode::kUnsupportedOperation);
}

TEST_F(StaticRolesTest, List) {
  Create("b");
  testing::FakeUser other;
  other.name = "other-user";
  fake_->AddUser(other);
  ASSERT_TRUE(
      Write("static-roles/a", {{"username", "other-user"}, {"rotation_period", 3600}}).ok());
  auto l = Do(Operation::kList, "static-roles/");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->data["keys"], Json::array({"a", "b"}));
  // static-creds/ of the roles are not listed as roles.
  EXPECT_EQ(Do(Operation::kList, "static-roles").value().data["keys"].size(), 2u);
}

TEST_F(StaticRolesTest, RotationAfterThePeriodReplacesVaultsKey) {
  std::string k1 = Create("app", "1m");
  fake_->ClearCalls();
  // Not due yet: the pass calls nothing.
  clock_.AdvanceSeconds(59);
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["failed"], 0);
  EXPECT_TRUE(fake_->actions().empty());
  EXPECT_EQ(CurrentKey(), k1);

  clock_.AdvanceSeconds(1);
  rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["failed"], 0);
  EXPECT_EQ(fake_->actions(),
            (Actions{"GetUser", "ListAccessKeys", "CreateAccessKey", "DeleteAccessKey"}));
  EXPECT_EQ(fake_->calls().back().params["AccessKeyId"], k1);
  auto c = Read("static-creds/app");
  std::string k2 = c->data["access_key"];
  EXPECT_NE(k2, k1);
  // One key, Vault's new one; the old one no longer works.
  EXPECT_EQ(fake_->keys_of(kUser), Keys{k2});
  EXPECT_FALSE(fake_->KeyExists(k1));
  EXPECT_EQ(c->data["expiration"], FormatRfc3339Nano(clock_.NowNanos() + 60 * kNanos));
  EXPECT_TRUE(Wals().empty());

  // And again a period later.
  clock_.AdvanceSeconds(60);
  ASSERT_TRUE(Rollback().ok());
  std::string k3 = CurrentKey();
  EXPECT_NE(k3, k2);
  EXPECT_EQ(fake_->keys_of(kUser), Keys{k3});
}

TEST_F(StaticRolesTest, OtherKeysOfTheUserAreKept) {
  std::string foreign = fake_->AddKey(kUser);
  std::string k1 = Create("app", "1m");
  EXPECT_EQ(fake_->keys_of(kUser), (Keys{foreign, k1}));
  // At the two-key limit Vault makes room by deleting its own key, never the user's.
  clock_.AdvanceSeconds(60);
  fake_->ClearCalls();
  ASSERT_TRUE(Rollback().ok());
  EXPECT_EQ(fake_->actions(),
            (Actions{"GetUser", "ListAccessKeys", "DeleteAccessKey", "CreateAccessKey"}));
  EXPECT_EQ(fake_->calls()[2].params["AccessKeyId"], k1);
  EXPECT_EQ(fake_->keys_of(kUser), (Keys{foreign, CurrentKey()}));
}

TEST_F(StaticRolesTest, UserWithTwoForeignKeysLosesTheOldest) {
  std::string older = fake_->AddKey(kUser);
  clock_.AdvanceSeconds(10);
  std::string newer = fake_->AddKey(kUser);
  clock_.AdvanceSeconds(10);
  fake_->ClearCalls();
  auto w = Write("static-roles/app", {{"username", kUser}, {"rotation_period", "1h"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(fake_->actions(),
            (Actions{"GetUser", "ListAccessKeys", "DeleteAccessKey", "CreateAccessKey"}));
  EXPECT_EQ(fake_->calls()[2].params["AccessKeyId"], older);
  EXPECT_EQ(fake_->keys_of(kUser), (Keys{newer, CurrentKey()}));
  ASSERT_EQ(w->warnings.size(), 1u);
  EXPECT_NE(w->warnings[0].find(older), std::string::npos);
}

TEST_F(StaticRolesTest, KeyToMakeRoom) {
  auto key = [](std::string id, std::string date) {
    ::vault::aws::AccessKey k;
    k.access_key_id = std::move(id);
    k.create_date = std::move(date);
    return k;
  };
  std::vector<::vault::aws::AccessKey> one = {key("A", "2024-01-01T00:00:00Z")};
  EXPECT_EQ(KeyToMakeRoom(one, "A"), "");
  std::vector<::vault::aws::AccessKey> two = {key("A", "2024-01-02T00:00:00Z"),
                                              key("B", "2024-01-01T23:59:59.5Z")};
  EXPECT_EQ(KeyToMakeRoom(two, ""), "B");
  EXPECT_EQ(KeyToMakeRoom(two, "A"), "A");     // Vault's own key first
  EXPECT_EQ(KeyToMakeRoom(two, "GONE"), "B");  // not the user's any more: the oldest
  two[1].create_date = "garbage";              // unknown dates count as newest
  EXPECT_EQ(KeyToMakeRoom(two, ""), "A");
}

TEST_F(StaticRolesTest, DeleteRemovesVaultsKeyAndLeavesTheUser) {
  std::string k1 = Create();
  std::string foreign = fake_->AddKey(kUser);
  fake_->ClearCalls();
  // IAM refusing keeps everything, so the delete can be retried.
  fake_->FailNext("DeleteAccessKey", FakeAws::Error("ServiceFailure", 500, "try later"));
  auto d = Do(Operation::kDelete, "static-roles/app");
  EXPECT_EQ(d.status().code(), StatusCode::kUpstream);
  EXPECT_EQ(CurrentKey(), k1);
  d = Do(Operation::kDelete, "static-roles/app");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->Empty());  // 204
  EXPECT_EQ(fake_->actions(), (Actions{"DeleteAccessKey", "DeleteAccessKey"}));
  EXPECT_EQ(fake_->calls()[1].params["AccessKeyId"], k1);
  EXPECT_TRUE(fake_->HasUser(kUser));
  EXPECT_EQ(fake_->keys_of(kUser), Keys{foreign});
  EXPECT_TRUE(Read("static-roles/app")->Empty());
  EXPECT_TRUE(Read("static-creds/app")->Empty());
  EXPECT_TRUE(Do(Operation::kList, "static-roles/")->Empty());
  // Nothing left to rotate.
  clock_.AdvanceSeconds(7200);
  fake_->ClearCalls();
  ASSERT_TRUE(Rollback().ok());
  EXPECT_TRUE(fake_->actions().empty());
}

TEST_F(StaticRolesTest, DeleteWhenVaultsKeyIsAlreadyGone) {
  std::string k1 = Create();
  fake_->RemoveUser(kUser);
  auto d = Do(Operation::kDelete, "static-roles/app");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(Read("static-roles/app")->Empty());
}

TEST_F(StaticRolesTest, RotationPeriodUpdateTakesEffectNow) {
  const int64_t t0 = clock_.NowNanos();
  std::string k1 = Create("app", "1h");
  clock_.AdvanceSeconds(1800);
  fake_->ClearCalls();
  auto w = Write("static-roles/app", {{"rotation_period", "10m"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(fake_->actions().empty());  // no username: nothing to check on AWS
  EXPECT_EQ(w->data["rotation_period"], 600);
  EXPECT_EQ(w->data["username"], kUser);
  EXPECT_EQ(Read("static-creds/app")->data["expiration"],
            FormatRfc3339Nano(t0 + (1800 + 600) * kNanos));
  EXPECT_EQ(CurrentKey(), k1);  // the key itself is not replaced
  // A write without rotation_period keeps the schedule.
  ASSERT_TRUE(Write("static-roles/app", {{"username", kUser}}).ok());
  EXPECT_EQ(Read("static-creds/app")->data["expiration"],
            FormatRfc3339Nano(t0 + (1800 + 600) * kNanos));
  // Due 10 minutes after the update, long before the old hour was over.
  clock_.AdvanceSeconds(600);
  ASSERT_TRUE(Rollback().ok());
  EXPECT_NE(CurrentKey(), k1);
}

TEST_F(StaticRolesTest, AnotherUserOrARecreatedOneIsRefused) {
  std::string k1 = Create();
  testing::FakeUser other;
  other.name = "other-user";
  fake_->AddUser(other);
  auto w = Write("static-roles/app", {{"username", "other-user"}});
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("AWS GetUser returned a user, but the ID did not match"),
            std::string::npos);
  EXPECT_EQ(Read("static-roles/app")->data["username"], kUser);

  // The user is deleted and recreated under the same name: rotation leaves it alone.
  fake_->RemoveUser(kUser);
  testing::FakeUser again;
  again.name = kUser;
  fake_->AddUser(again);
  std::string theirs = fake_->AddKey(kUser);
  clock_.AdvanceSeconds(3600);
  fake_->ClearCalls();
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["failed"], 1);
  EXPECT_NE(rb->data["errors"][0].get<std::string>().find("deleted and recreated"),
            std::string::npos);
  EXPECT_EQ(fake_->actions(), Actions{"GetUser"});
  EXPECT_EQ(fake_->keys_of(kUser), Keys{theirs});
  EXPECT_EQ(CurrentKey(), k1);
}

TEST_F(StaticRolesTest, FailedRotationKeepsTheKeyAndRetriesAtTheNextPass) {
  std::string k1 = Create("app", "1m");
  std::string secret = Read("static-creds/app")->data["secret_key"];
  clock_.AdvanceSeconds(60);
  fake_->FailNext("CreateAccessKey", FakeAws::Error("Throttling", 400, "Rate exceeded"));
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["failed"], 1);
  std::string err = rb->data["errors"][0];
  EXPECT_EQ(err,
            "static role \"app\": unable to create new access keys for user \"app-user\": "
            "Rate exceeded");
  EXPECT_EQ(err.find(secret), std::string::npos);
  EXPECT_EQ(CurrentKey(), k1);
  EXPECT_EQ(fake_->keys_of(kUser), Keys{k1});
  EXPECT_TRUE(Wals().empty());
  // The next pass (a minute later) tries again.
  clock_.AdvanceSeconds(60);
  rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["failed"], 0);
  std::string k2 = CurrentKey();
  EXPECT_NE(k2, k1);
  EXPECT_EQ(fake_->keys_of(kUser), Keys{k2});
}

TEST_F(StaticRolesTest, KeyCreatedDespiteAnErrorIsCleanedUpBeforeTheNextRotation) {
  std::string k1 = Create("app", "1m");
  clock_.AdvanceSeconds(60);
  // CreateAccessKey times out, yet the key was made on AWS's side.
  fake_->FailNext("CreateAccessKey", FakeAws::Error("RequestError", 0, "timeout"));
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["failed"], 1);
  EXPECT_EQ(Wals().size(), 1u);
  std::string orphan = fake_->AddKey(kUser);
  EXPECT_EQ(CurrentKey(), k1);

  clock_.AdvanceSeconds(30);
  fake_->ClearCalls();
  rb = Rollback();  // the WAL entry is too young for the WAL pass; the rotation cleans up first
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["failed"], 0);
  EXPECT_EQ(rb->data["pending"], 1);
  EXPECT_EQ(fake_->actions(), (Actions{"ListAccessKeys", "DeleteAccessKey", "GetUser",
                                       "ListAccessKeys", "CreateAccessKey", "DeleteAccessKey"}));
  EXPECT_EQ(fake_->calls()[1].params["AccessKeyId"], orphan);
  EXPECT_EQ(fake_->keys_of(kUser), Keys{CurrentKey()});
  EXPECT_TRUE(Wals().empty());
}

TEST_F(StaticRolesTest, WalRollbackFinishesAnInterruptedRotation) {
  std::string k1 = Create("app", "1h");
  // A crash after the new key was stored, before Vault's previous key was deleted.
  std::string k2 = fake_->AddKey(kUser);
  auto creds = *SyncWait(logical::GetJson(&storage_, "static-creds/app"));
  (*creds)["access_key"] = k2;
  ASSERT_TRUE(SyncWait(logical::PutJson(&storage_, "static-creds/app", *creds)).ok());
  ASSERT_TRUE(SyncWait(logical::PutWal(&storage_, kStaticKeyWalKind,
                                       {{"role", "app"},
                                        {"username", kUser},
                                        {"previous_key", k1},
                                        {"existing_keys", Json::array({k1})}},
                                       clock_.NowSeconds()))
                  .ok());
  // Someone adds a key of their own long after: not Vault's to delete.
  clock_.AdvanceSeconds(1800);
  std::string theirs = fake_->AddKey(kUser);
  fake_->ClearCalls();
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 1);
  EXPECT_EQ(rb->data["failed"], 0);
  EXPECT_EQ(fake_->actions(), (Actions{"ListAccessKeys", "DeleteAccessKey"}));
  EXPECT_EQ(fake_->calls()[1].params["AccessKeyId"], k1);
  EXPECT_EQ(fake_->keys_of(kUser), (Keys{k2, theirs}));
  EXPECT_TRUE(Wals().empty());
}

TEST_F(StaticRolesTest, WalRollbackAfterTheRoleWasDeleted) {
  std::string k1 = Create("app", "1h");
  // A crash right after CreateAccessKey (k2 never stored), then the role is deleted.
  std::string k2 = fake_->AddKey(kUser);
  ASSERT_TRUE(SyncWait(logical::PutWal(&storage_, kStaticKeyWalKind,
                                       {{"role", "app"},
                                        {"username", kUser},
                                        {"previous_key", k1},
                                        {"existing_keys", Json::array({k1})}},
                                       clock_.NowSeconds()))
                  .ok());
  ASSERT_TRUE(Do(Operation::kDelete, "static-roles/app").ok());
  EXPECT_EQ(fake_->keys_of(kUser), Keys{k2});
  clock_.AdvanceSeconds(60);
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 1);
  EXPECT_TRUE(fake_->keys_of(kUser).empty());
  EXPECT_TRUE(fake_->HasUser(kUser));
}

TEST_F(StaticRolesTest, OneRotationOrRequestPerRoleAtATime) {
  std::string k1 = Create("app", "1m");
  clock_.AdvanceSeconds(60);
  // A rotation pass holds in CreateAccessKey…
  gate_.armed = true;
  logical::Request pass;
  pass.operation = Operation::kRollback;
  pass.storage = &storage_;
  pass.mount = mount_;
  std::optional<Result<Response>> pass_done;
  StartTask(backend_->HandleRequestAsync(pass),
            [&](Result<Response> r) { pass_done.emplace(std::move(r)); });
  ASSERT_FALSE(pass_done);
  ASSERT_TRUE(gate_.release);
  // …an overlapping pass leaves the role alone…
  fake_->ClearCalls();
  auto second = Rollback();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->data["failed"], 0);
  EXPECT_TRUE(fake_->actions().empty());
  // …a write waits for it (the rotation finishes during the write's first wait)…
  during_sleep_ = [&] { gate_.release(true); };
  auto w = Write("static-roles/app", {{"rotation_period", "2m"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE(pass_done);
  ASSERT_TRUE(pass_done->ok());
  EXPECT_EQ((*pass_done)->data["failed"], 0);
  std::string k2 = CurrentKey();
  EXPECT_NE(k2, k1);
  EXPECT_EQ(fake_->keys_of(kUser), Keys{k2});
  EXPECT_EQ(Read("static-roles/app")->data["rotation_period"], 120);

  // …and gives up with 503 if the rotation takes too long.
  clock_.AdvanceSeconds(120);
  gate_.armed = true;
  gate_.release = nullptr;
  pass_done.reset();
  StartTask(backend_->HandleRequestAsync(pass),
            [&](Result<Response> r) { pass_done.emplace(std::move(r)); });
  ASSERT_TRUE(gate_.release);
  sleeps_ = 0;
  auto d = Do(Operation::kDelete, "static-roles/app");
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(d.status().message(), "static role \"app\" is busy (being rotated); try again");
  EXPECT_EQ(sleeps_, 1500);  // 30 s in 20 ms steps
  gate_.release(true);
  ASSERT_TRUE(pass_done && pass_done->ok());
  EXPECT_EQ(fake_->keys_of(kUser), Keys{CurrentKey()});
}

TEST_F(StaticRolesTest, PathHelp) {
  auto root = Do(Operation::kHelp, "");
  ASSERT_TRUE(root.ok());
  for (const char* p : {"^static-roles/?$", "^static-roles/(?P<name>", "^static-creds/(?P<name>"})
    EXPECT_NE(root->help->find(p), std::string::npos) << p;
  for (const char* p : {"static-roles/", "static-roles/x", "static-creds/x"}) {
    auto h = Do(Operation::kHelp, p);
    ASSERT_TRUE(h.ok()) << p;
    EXPECT_NE(h->help->find("## DESCRIPTION"), std::string::npos) << p;
  }
  EXPECT_NE(Do(Operation::kHelp, "static-roles/x")->help->find("    rotation_period (duration"),
            std::string::npos);
}

}  // namespace
}  // namespace vault::engines::awsengine
