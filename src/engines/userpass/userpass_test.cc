#include "engines/userpass/userpass.h"

#include <gtest/gtest.h>

#include "logical/testing.h"
#include "util/task.h"

namespace vault::engines {
namespace {

using logical::Operation;

class UserpassTest : public ::testing::Test {
 protected:
  UserpassTest() : backend_(NewUserpassBackend(mount_)) {
    mount_.default_lease_ttl = 3600;
    mount_.max_lease_ttl = 7200;
  }
  Result<logical::Response> Do(Operation op, const std::string& path, Json data = Json::object(),
                               const std::string& remote = "127.0.0.1") {
    logical::Request r;
    r.operation = op;
    r.path = path;
    r.data = std::move(data);
    r.storage = &storage_;
    r.mount = mount_;
    r.remote_address = remote;
    return backend_->HandleRequest(r);
  }
  logical::MountInfo mount_{"auth/userpass/", "userpass", 3600, 7200};
  logical::MemStorage storage_;
  std::shared_ptr<logical::Backend> backend_;
};

TEST(Bcrypt, HashesAndVerifiesInGoCompatibleForm) {
  auto h = BcryptHash("s3cret", 4);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->substr(0, 7), "$2b$04$");
  EXPECT_EQ(h->size(), 60u);
  EXPECT_TRUE(BcryptVerify("s3cret", *h));
  EXPECT_FALSE(BcryptVerify("s3cret!", *h));
  EXPECT_FALSE(BcryptVerify("s3cret", "dummy"));
  // Go's bcrypt writes $2a$: the same algorithm under the older prefix verifies too.
  auto a = BcryptHash("password", 4);
  ASSERT_TRUE(a.ok());
  std::string go_form = "$2a$" + a->substr(4);
  EXPECT_TRUE(BcryptVerify("password", go_form));
}

TEST_F(UserpassTest, CreateReadLoginAndNothingStoredInClear) {
  auto w = Do(Operation::kCreate, "users/Alice",
              {{"password", "correct horse"}, {"token_policies", "dev,ops"}, {"token_ttl", "10m"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  auto r = Do(Operation::kRead, "users/alice");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data["token_policies"], Json({"dev", "ops"}));
  EXPECT_EQ(r->data["token_ttl"], 600);
  EXPECT_FALSE(r->data.contains("password"));
  EXPECT_FALSE(r->data.contains("password_hash"));
  auto stored = storage_.GetNow("user/alice");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->find("correct horse"), std::string::npos);

  auto login = Do(Operation::kUpdate, "login/ALICE", {{"password", "correct horse"}});
  ASSERT_TRUE(login.ok()) << login.status().message();
  ASSERT_TRUE(login->login.has_value());
  EXPECT_EQ(login->login->display_name, "alice");
  EXPECT_EQ(login->login->metadata["username"], "alice");
  EXPECT_EQ(login->login->token.policies, (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(login->login->token.ttl, 600);

  auto list = Do(Operation::kList, "users/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->data["keys"], Json({"alice"}));
}

TEST_F(UserpassTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  ASSERT_TRUE(Do(Operation::kCreate, "users/bob", {{"password", "pw1"}}).ok());
  auto wrong = Do(Operation::kUpdate, "login/bob", {{"password", "pw2"}});
  auto unknown = Do(Operation::kUpdate, "login/nobody", {{"password", "pw2"}});
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(), "invalid username or password");
  EXPECT_EQ(unknown.status().message(), wrong.status().message());
  auto missing = Do(Operation::kUpdate, "login/bob", Json::object());
  EXPECT_EQ(missing.status().message(), "missing password");
}

TEST_F(UserpassTest, CreateNeedsAPasswordAndValidatesFields) {
  EXPECT_EQ(Do(Operation::kCreate, "users/carol", Json::object()).status().message(),
            "missing password");
  EXPECT_EQ(Do(Operation::kCreate, "users/carol",
               {{"password", "x"}, {"token_ttl", "2h"}, {"token_max_ttl", "1h"}})
                .status()
                .message(),
            "'token_ttl' cannot be greater than 'token_max_ttl'");
  EXPECT_EQ(Do(Operation::kCreate, "users/carol", {{"password", "x"}, {"password_hash", "y"}})
                .status()
                .message(),
            "only one of password or password_hash may be provided");
  EXPECT_FALSE(Do(Operation::kCreate, "users/carol", {{"password_hash", "$2b$31$abc"}}).ok());
  EXPECT_FALSE(Do(Operation::kCreate, "users/carol", {{"password", std::string(73, 'a')}}).ok());
  EXPECT_FALSE(
      Do(Operation::kCreate, "users/carol", {{"password", "x"}, {"token_type", "batch"}}).ok());
  auto h = BcryptHash("hashed-pw", 4);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(Do(Operation::kCreate, "users/carol", {{"password_hash", *h}}).ok());
  EXPECT_TRUE(Do(Operation::kUpdate, "login/carol", {{"password", "hashed-pw"}}).ok());
  // Legacy names: policies and ttl; reads echo them.
  ASSERT_TRUE(Do(Operation::kUpdate, "users/carol", {{"policies", "a,b"}, {"ttl", 60}}).ok());
  auto r = Do(Operation::kRead, "users/carol");
  EXPECT_EQ(r->data["policies"], Json({"a", "b"}));
  EXPECT_EQ(r->data["token_policies"], Json({"a", "b"}));
  EXPECT_EQ(r->data["ttl"], 60);
}

TEST_F(UserpassTest, PasswordResetPoliciesAndBoundCidrs) {
  ASSERT_TRUE(Do(Operation::kCreate, "users/dan",
                 {{"password", "old"}, {"token_bound_cidrs", "10.0.0.0/8"}})
                  .ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "users/dan/password", {{"password", "new"}}).ok());
  EXPECT_FALSE(Do(Operation::kUpdate, "login/dan", {{"password", "old"}}, "10.1.1.1").ok());
  EXPECT_TRUE(Do(Operation::kUpdate, "login/dan", {{"password", "new"}}, "10.1.1.1").ok());
  auto outside = Do(Operation::kUpdate, "login/dan", {{"password", "new"}}, "192.168.1.1");
  EXPECT_EQ(outside.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Do(Operation::kUpdate, "users/ghost/password", {{"password", "x"}}).status().message(),
            "username does not exist");
  ASSERT_TRUE(Do(Operation::kUpdate, "users/dan/policies", {{"token_policies", "p1"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "users/dan")->data["token_policies"], Json({"p1"}));
}

TEST_F(UserpassTest, RenewalNeedsTheUserWithTheSamePolicies) {
  ASSERT_TRUE(
      Do(Operation::kCreate, "users/erin", {{"password", "pw"}, {"token_policies", "a"}}).ok());
  auto login = Do(Operation::kUpdate, "login/erin", {{"password", "pw"}});
  ASSERT_TRUE(login.ok());
  auto renew = [&]() {
    logical::Request r;
    r.operation = Operation::kRenew;
    r.path = "login/erin";
    r.storage = &storage_;
    r.mount = mount_;
    r.auth = *login->login;
    return backend_->HandleRequest(r);
  };
  auto ok = renew();
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_TRUE(ok->login.has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "users/erin", {{"token_policies", "b"}}).ok());
  EXPECT_EQ(renew().status().message(), "policies have changed, not renewing");
  ASSERT_TRUE(Do(Operation::kDelete, "users/erin").ok());
  EXPECT_FALSE(renew().ok());
}

}  // namespace
}  // namespace vault::engines
