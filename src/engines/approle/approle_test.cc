#include "engines/approle/approle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

#include "logical/testing.h"

namespace vault::engines {
namespace {

using logical::LoginAuth;
using logical::Operation;
using logical::Response;

constexpr int64_t kMountMax = 2764800;

// Storage that takes a while per call (blocking the calling thread), so that concurrent
// requests interleave between their reads and writes.
class SlowStorage : public logical::Storage {
 public:
  explicit SlowStorage(logical::MemStorage* inner) : inner_(inner) {}
  Task<Result<std::optional<std::string>>> Get(std::string_view key) override {
    Pause();
    auto r = co_await inner_->Get(key);
    co_return r;
  }
  Task<Status> Put(std::string_view key, std::string_view value) override {
    Pause();
    auto r = co_await inner_->Put(key, value);
    co_return r;
  }
  Task<Status> Delete(std::string_view key) override {
    Pause();
    auto r = co_await inner_->Delete(key);
    co_return r;
  }
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override {
    auto r = co_await inner_->List(prefix);
    co_return r;
  }

 private:
  static void Pause() { std::this_thread::sleep_for(std::chrono::microseconds(300)); }
  logical::MemStorage* inner_;
};

class AppRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_.path = "auth/approle/";
    mount_.type = "approle";
    mount_.default_lease_ttl = kMountMax;
    mount_.max_lease_ttl = kMountMax;
    backend_ = NewAppRoleBackend(mount_, &clock_);
  }

  Result<Response> Do(Operation op, const std::string& path, Json data = Json::object(),
                      const std::string& remote = "127.0.0.1") {
    logical::Request r;
    r.operation = op;
    r.path = path;
    r.data = std::move(data);
    r.storage = storage_override_ ? storage_override_ : &storage_;
    r.mount = mount_;
    r.remote_address = remote;
    return backend_->HandleRequest(r);
  }
  Result<Response> Write(const std::string& path, Json data = Json::object()) {
    return Do(Operation::kUpdate, path, std::move(data));
  }
  Result<Response> Read(const std::string& path) { return Do(Operation::kRead, path); }
  Result<Response> List(const std::string& path) { return Do(Operation::kList, path); }
  Result<Response> Delete(const std::string& path) { return Do(Operation::kDelete, path); }

  void CreateRole(const std::string& name, Json data = Json::object()) {
    auto r = Do(Operation::kCreate, "role/" + name, std::move(data));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::string RoleId(const std::string& name) {
    auto r = Read("role/" + name + "/role-id");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !r->data.is_object()) return "";
    return r->data["role_id"].get<std::string>();
  }
  // A new secret ID's response data.
  Json NewSecretId(const std::string& role, Json data = Json::object()) {
    auto r = Write("role/" + role + "/secret-id", std::move(data));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->data : Json();
  }
  Result<Response> Login(const std::string& role_id, const std::string& secret_id,
                         const std::string& remote = "127.0.0.1") {
    return Do(Operation::kUpdate, "login", {{"role_id", role_id}, {"secret_id", secret_id}},
              remote);
  }
  Result<Response> Rollback() {
    logical::Request r;
    r.operation = Operation::kRollback;
    r.storage = &storage_;
    r.mount = mount_;
    return backend_->HandleRequest(r);
  }
  Result<Response> Renew(const LoginAuth& auth) {
    logical::Request r;
    r.operation = Operation::kRenew;
    r.path = "login";
    r.storage = &storage_;
    r.mount = mount_;
    r.auth = auth;
    return backend_->HandleRequest(r);
  }

  // Every (key, value) in storage.
  std::vector<std::pair<std::string, std::string>> AllEntries() {
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> todo = {""};
    while (!todo.empty()) {
      std::string prefix = todo.back();
      todo.pop_back();
      auto children = storage_.ListNow(prefix);
      for (const auto& child : *children) {
        if (!child.empty() && child.back() == '/') {
          todo.push_back(prefix + child);
        } else {
          out.emplace_back(prefix + child, **storage_.GetNow(prefix + child));
        }
      }
    }
    return out;
  }
  size_t CountKeys(const std::string& prefix) {
    size_t n = 0;
    for (const auto& [k, v] : AllEntries())
      if (k.rfind(prefix, 0) == 0) ++n;
    return n;
  }

  static void ExpectError(const Result<Response>& r, StatusCode code, const std::string& msg) {
    ASSERT_FALSE(r.ok()) << "expected an error: " << msg;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_EQ(r.status().message(), msg);
  }

  FakeClock clock_;
  logical::MemStorage storage_;
  logical::Storage* storage_override_ = nullptr;
  logical::MountInfo mount_;
  std::shared_ptr<logical::Backend> backend_;
};

// ---------------------------------------------------------------------------------------------
// Roles

TEST_F(AppRoleTest, UnauthenticatedPathsAreLoginOnly) {
  EXPECT_EQ(backend_->UnauthenticatedPaths(), std::vector<std::string>{"login"});
}

TEST_F(AppRoleTest, RoleCreateReadListDelete) {
  CreateRole("MyApp", {{"token_policies", "b,a"},
                       {"token_ttl", "1h"},
                       {"token_max_ttl", 7200},
                       {"secret_id_num_uses", 5},
                       {"secret_id_ttl", "10m"},
                       {"secret_id_bound_cidrs", "10.0.0.0/8"}});
  auto r = Read("role/myapp");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Json& d = r->data;
  EXPECT_EQ(d["bind_secret_id"], true);
  EXPECT_EQ(d["secret_id_bound_cidrs"], Json::array({"10.0.0.0/8"}));
  EXPECT_EQ(d["secret_id_num_uses"], 5);
  EXPECT_EQ(d["secret_id_ttl"], 600);
  EXPECT_EQ(d["local_secret_ids"], false);
  EXPECT_EQ(d["token_policies"], Json::array({"a", "b"}));
  EXPECT_EQ(d["token_ttl"], 3600);
  EXPECT_EQ(d["token_max_ttl"], 7200);
  EXPECT_EQ(d["token_explicit_max_ttl"], 0);
  EXPECT_EQ(d["token_period"], 0);
  EXPECT_EQ(d["token_no_default_policy"], false);
  EXPECT_EQ(d["token_bound_cidrs"], Json::array());
  EXPECT_EQ(d["token_num_uses"], 0);
  EXPECT_EQ(d["token_type"], "default");
  EXPECT_FALSE(d.contains("policies"));
  EXPECT_FALSE(d.contains("period"));
  EXPECT_FALSE(d.contains("role_id"));
  EXPECT_FALSE(d.contains("hmac_key"));
  // Names are case-insensitive.
  EXPECT_TRUE(Read("role/MYAPP").ok());
  EXPECT_EQ(Read("role/MYAPP")->data, d);

  // Update keeps what is not sent.
  ASSERT_TRUE(Write("role/myapp", {{"secret_id_num_uses", 2}}).ok());
  r = Read("role/myapp");
  EXPECT_EQ(r->data["secret_id_num_uses"], 2);
  EXPECT_EQ(r->data["token_ttl"], 3600);

  CreateRole("other");
  auto l = List("role");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->data["keys"], Json::array({"myapp", "other"}));
  EXPECT_EQ(List("role/")->data["keys"], Json::array({"myapp", "other"}));

  ASSERT_TRUE(Delete("role/myapp").ok());
  ASSERT_TRUE(Delete("role/other").ok());
  EXPECT_TRUE(Read("role/myapp")->Empty());
  EXPECT_TRUE(List("role")->Empty());
  EXPECT_TRUE(Delete("role/never").ok());
}

TEST_F(AppRoleTest, RoleNamesFollowVaultsPattern) {
  CreateRole("a.b-c_d9");
  EXPECT_TRUE(Read("role/a.b-c_d9")->data.is_object());
  EXPECT_EQ(Write("role/-bad").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Write("role/bad.").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Write("role/with space").status().code(), StatusCode::kNotFound);
}

TEST_F(AppRoleTest, ExistenceCheckRoutesCreateAndUpdate) {
  logical::Request r;
  r.operation = Operation::kUpdate;
  r.path = "role/app";
  r.storage = &storage_;
  r.mount = mount_;
  auto e = SyncWait(backend_->ExistenceCheck(r));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_FALSE(**e);
  CreateRole("app");
  e = SyncWait(backend_->ExistenceCheck(r));
  EXPECT_TRUE(**e);
  r.path = "login";
  e = SyncWait(backend_->ExistenceCheck(r));
  EXPECT_FALSE(e->has_value());
}

TEST_F(AppRoleTest, LegacyPoliciesAndPeriod) {
  CreateRole("app", {{"policies", "dev, ops"}, {"period", "1h"}});
  auto r = Read("role/app");
  EXPECT_EQ(r->data["token_policies"], Json::array({"dev", "ops"}));
  EXPECT_EQ(r->data["policies"], Json::array({"dev", "ops"}));
  EXPECT_EQ(r->data["token_period"], 3600);
  EXPECT_EQ(r->data["period"], 3600);
  // The token_* field wins and the legacy key is no longer echoed.
  ASSERT_TRUE(Write("role/app", {{"token_policies", "x"}, {"token_period", 60}}).ok());
  r = Read("role/app");
  EXPECT_EQ(r->data["token_policies"], Json::array({"x"}));
  EXPECT_FALSE(r->data.contains("policies"));
  EXPECT_EQ(r->data["token_period"], 60);
  EXPECT_FALSE(r->data.contains("period"));
}

TEST_F(AppRoleTest, TokenFieldValidation) {
  ExpectError(Write("role/a", {{"token_ttl", 7200}, {"token_max_ttl", 3600}}),
              StatusCode::kInvalidArgument, "'token_ttl' cannot be greater than 'token_max_ttl'");
  ExpectError(Write("role/a", {{"token_num_uses", -1}}), StatusCode::kInvalidArgument,
              "'token_num_uses' cannot be negative");
  auto batch = Write("role/a", {{"token_type", "batch"}});
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  ExpectError(Write("role/a", {{"token_type", "weird"}}), StatusCode::kInvalidArgument,
              "invalid 'token_type' value \"weird\"");
  EXPECT_EQ(Write("role/a", {{"token_bound_cidrs", "nope"}}).status().code(),
            StatusCode::kInvalidArgument);
  ExpectError(Write("role/a", {{"secret_id_bound_cidrs", "10.0.0.0/33"}}),
              StatusCode::kInvalidArgument, "invalid CIDR blocks");
  ExpectError(Write("role/a", {{"bound_cidr_list", "x"}}), StatusCode::kInvalidArgument,
              "invalid CIDR blocks");
  ExpectError(Write("role/a", {{"secret_id_num_uses", -1}}), StatusCode::kInvalidArgument,
              "secret_id_num_uses cannot be negative");
  ExpectError(Write("role/a", {{"token_period", kMountMax + 1}}), StatusCode::kInvalidArgument,
              "period of \"768h0m1s\" is greater than the backend's maximum lease TTL of "
              "\"768h0m0s\"");
  EXPECT_EQ(Write("role/a", {{"secret_id_ttl", "-5s"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Read("role/a")->Empty());  // nothing above was stored

  // AppRole maps default-service to service, with a warning.
  auto ok = Write("role/a", {{"token_type", "default-service"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->warnings.size(), 1u);
  EXPECT_EQ(Read("role/a")->data["token_type"], "service");
  // A token_max_ttl above the mount's is kept, with a warning.
  ok = Write("role/a", {{"token_max_ttl", kMountMax + 10}});
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->warnings.size(), 1u);
  EXPECT_NE(ok->warnings[0].find("token_max_ttl is greater"), std::string::npos);
}

TEST_F(AppRoleTest, AtLeastOneConstraint) {
  ExpectError(Write("role/a", {{"bind_secret_id", false}}), StatusCode::kInternal,
              "at least one constraint should be enabled on the role");
  CreateRole("b", {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "10.0.0.0/8"}});
  CreateRole("c", {{"bind_secret_id", false}, {"token_bound_cidrs", "10.0.0.1"}});
  CreateRole("d");
  ExpectError(Write("role/d/bind-secret-id", {{"bind_secret_id", false}}), StatusCode::kInternal,
              "at least one constraint should be enabled on the role");
  ExpectError(Delete("role/b/secret-id-bound-cidrs"), StatusCode::kInternal,
              "at least one constraint should be enabled on the role");
  EXPECT_EQ(Read("role/b")->data["secret_id_bound_cidrs"], Json::array({"10.0.0.0/8"}));
}

TEST_F(AppRoleTest, CustomRoleIdIsUnique) {
  CreateRole("a", {{"role_id", "shared-id"}});
  EXPECT_EQ(RoleId("a"), "shared-id");
  ExpectError(Write("role/b", {{"role_id", "shared-id"}}), StatusCode::kInternal,
              "role_id already in use");
  EXPECT_TRUE(Read("role/b")->Empty());
  CreateRole("b");
  ExpectError(Write("role/b/role-id", {{"role_id", "shared-id"}}), StatusCode::kInternal,
              "role_id already in use");
  ExpectError(Write("role/a", {{"role_id", ""}}), StatusCode::kInvalidArgument,
              "invalid role_id supplied, or failed to generate a role_id");
  ExpectError(Write("role/a/role-id", {{"role_id", ""}}), StatusCode::kInvalidArgument,
              "missing role_id");
  EXPECT_EQ(Write("role/nope/role-id", {{"role_id", "x"}}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Read("role/nope/role-id")->Empty());

  // Moving a's role_id frees the old one, and logins follow the new one.
  std::string secret = NewSecretId("a")["secret_id"];
  ASSERT_TRUE(Write("role/a/role-id", {{"role_id", "moved-id"}}).ok());
  EXPECT_EQ(RoleId("a"), "moved-id");
  ExpectError(Login("shared-id", secret), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  EXPECT_TRUE(Login("moved-id", secret).ok());
  ASSERT_TRUE(Write("role/b/role-id", {{"role_id", "shared-id"}}).ok());
  EXPECT_EQ(RoleId("b"), "shared-id");
  // Generated role IDs are UUIDs, distinct per role.
  CreateRole("c");
  CreateRole("d");
  EXPECT_EQ(RoleId("c").size(), 36u);
  EXPECT_NE(RoleId("c"), RoleId("d"));
}

TEST_F(AppRoleTest, LocalSecretIdsOnlyAtCreation) {
  CreateRole("loc", {{"local_secret_ids", true}});
  EXPECT_EQ(Read("role/loc/local-secret-ids")->data, Json({{"local_secret_ids", true}}));
  EXPECT_EQ(Read("role/loc")->data["local_secret_ids"], true);
  ExpectError(Write("role/loc", {{"local_secret_ids", false}}), StatusCode::kInvalidArgument,
              "local_secret_ids can only be modified during role creation");
  CreateRole("glob");
  EXPECT_EQ(Read("role/glob/local-secret-ids")->data["local_secret_ids"], false);

  Json s = NewSecretId("loc");
  EXPECT_EQ(CountKeys("secret_id_local/"), 1u);
  EXPECT_EQ(CountKeys("accessor_local/"), 1u);
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
  EXPECT_TRUE(Login(RoleId("loc"), s["secret_id"]).ok());
  auto acc = Write("role/loc/secret-id-accessor/lookup",
                   {{"secret_id_accessor", s["secret_id_accessor"]}});
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->data["secret_id_accessor"], s["secret_id_accessor"]);
}

TEST_F(AppRoleTest, SingleFieldPaths) {
  CreateRole("app");
  struct Case {
    std::string path;
    Json body;
    Json read;   // what GET answers after the POST
    Json reset;  // what GET answers after DELETE
  };
  std::vector<Case> cases = {
      {"policies",
       {{"token_policies", "b,a"}},
       {{"token_policies", {"a", "b"}}},
       {{"token_policies", Json::array()}}},
      {"secret-id-num-uses",
       {{"secret_id_num_uses", 7}},
       {{"secret_id_num_uses", 7}},
       {{"secret_id_num_uses", 0}}},
      {"secret-id-ttl",
       {{"secret_id_ttl", "5m"}},
       {{"secret_id_ttl", 300}},
       {{"secret_id_ttl", 0}}},
      {"token-ttl", {{"token_ttl", "2m"}}, {{"token_ttl", 120}}, {{"token_ttl", 0}}},
      {"token-max-ttl",
       {{"token_max_ttl", "1h"}},
       {{"token_max_ttl", 3600}},
       {{"token_max_ttl", 0}}},
      {"token-num-uses", {{"token_num_uses", 3}}, {{"token_num_uses", 3}}, {{"token_num_uses", 0}}},
      {"bind-secret-id",
       {{"bind_secret_id", true}},
       {{"bind_secret_id", true}},
       {{"bind_secret_id", true}}},
      {"secret-id-bound-cidrs",
       {{"secret_id_bound_cidrs", "10.0.0.0/8,192.168.0.1/32"}},
       {{"secret_id_bound_cidrs", {"10.0.0.0/8", "192.168.0.1/32"}}},
       {{"secret_id_bound_cidrs", Json::array()}}},
      {"token-bound-cidrs",
       {{"token_bound_cidrs", "10.1.2.3"}},
       {{"token_bound_cidrs", {"10.1.2.3/32"}}},
       {{"token_bound_cidrs", Json::array()}}},
      {"bound-cidr-list",
       {{"bound_cidr_list", "172.16.0.0/12"}},
       {{"bound_cidr_list", {"172.16.0.0/12"}}},
       {{"bound_cidr_list", Json::array()}}},
      {"period", {{"token_period", "30m"}}, {{"token_period", 1800}}, {{"token_period", 0}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    std::string path = "role/app/" + c.path;
    auto w = Write(path, c.body);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto r = Read(path);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->data, c.read);
    ASSERT_TRUE(Delete(path).ok());
    EXPECT_EQ(Read(path)->data, c.reset);
    // POST without the field.
    auto missing = Write(path, {{"unrelated", 1}});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().message().rfind("missing ", 0), 0u) << missing.status().message();
    // Unknown role: 404 on GET (empty) and POST, 204 on DELETE.
    EXPECT_TRUE(Read("role/ghost/" + c.path)->Empty());
    EXPECT_EQ(Write("role/ghost/" + c.path, c.body).status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(Delete("role/ghost/" + c.path)->Empty());
  }
  // The messages of a POST without its field.
  ExpectError(Write("role/app/policies"), StatusCode::kInvalidArgument, "missing token_policies");
  ExpectError(Write("role/app/period"), StatusCode::kInvalidArgument, "missing period");
  ExpectError(Write("role/app/token-ttl"), StatusCode::kInvalidArgument, "missing token_ttl");
  ExpectError(Write("role/app/bound-cidr-list", {{"bound_cidr_list", ""}}),
              StatusCode::kInvalidArgument, "missing bound_cidr_list");
  // Legacy names echo on their single-field paths; bound-cidr-list warns.
  ASSERT_TRUE(Write("role/app/policies", {{"policies", "z"}}).ok());
  EXPECT_EQ(Read("role/app/policies")->data,
            Json({{"token_policies", {"z"}}, {"policies", {"z"}}}));
  ASSERT_TRUE(Write("role/app/period", {{"period", 60}}).ok());
  EXPECT_EQ(Read("role/app/period")->data, Json({{"token_period", 60}, {"period", 60}}));
  EXPECT_EQ(Read("role/app/bound-cidr-list")->warnings.size(), 1u);
  // Validation on single fields.
  ExpectError(Write("role/app/secret-id-num-uses", {{"secret_id_num_uses", -2}}),
              StatusCode::kInvalidArgument, "secret_id_num_uses cannot be negative");
  ExpectError(Write("role/app/secret-id-bound-cidrs", {{"secret_id_bound_cidrs", "bad"}}),
              StatusCode::kInvalidArgument, "failed to validate CIDR blocks");
  ASSERT_TRUE(Write("role/app/token-max-ttl", {{"token_max_ttl", 60}}).ok());
  ExpectError(Write("role/app/token-ttl", {{"token_ttl", 120}}), StatusCode::kInvalidArgument,
              "'token_ttl' cannot be greater than 'token_max_ttl'");
  // A field sent to another field's path is ignored.
  ASSERT_TRUE(Write("role/app/token-ttl", {{"token_ttl", 30}, {"token_num_uses", 9}}).ok());
  EXPECT_EQ(Read("role/app")->data["token_num_uses"], 0);
  EXPECT_EQ(Read("role/app")->data["token_ttl"], 30);
}

// ---------------------------------------------------------------------------------------------
// Secret IDs

TEST_F(AppRoleTest, SecretIdGenerationResponse) {
  CreateRole("app", {{"secret_id_ttl", "10m"}, {"secret_id_num_uses", 5}});
  Json s = NewSecretId("app");
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["secret_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(s["secret_id_accessor"].get<std::string>().size(), 36u);
  EXPECT_EQ(s["secret_id_ttl"], 600);
  EXPECT_EQ(s["secret_id_num_uses"], 5);
  // Narrower values than the role's are taken; wider ones refused.
  s = NewSecretId("app", {{"ttl", 60}, {"num_uses", 2}});
  EXPECT_EQ(s["secret_id_ttl"], 60);
  EXPECT_EQ(s["secret_id_num_uses"], 2);
  ExpectError(Write("role/app/secret-id", {{"ttl", 601}}), StatusCode::kInvalidArgument,
              "ttl cannot be longer than the role's secret_id_ttl");
  ExpectError(Write("role/app/secret-id", {{"ttl", 0}}), StatusCode::kInvalidArgument,
              "ttl cannot be longer than the role's secret_id_ttl");
  ExpectError(Write("role/app/secret-id", {{"num_uses", 6}}), StatusCode::kInvalidArgument,
              "num_uses cannot be higher than the role's secret_id_num_uses");
  ExpectError(Write("role/app/secret-id", {{"num_uses", 0}}), StatusCode::kInvalidArgument,
              "num_uses cannot be higher than the role's secret_id_num_uses");
  ExpectError(Write("role/app/secret-id", {{"num_uses", -1}}), StatusCode::kInvalidArgument,
              "num_uses cannot be negative");
  ExpectError(Write("role/ghost/secret-id"), StatusCode::kNotFound,
              "role \"ghost\" does not exist");

  // The role's secret_id_ttl above the mount's maximum is capped to it.
  CreateRole("long", {{"secret_id_ttl", kMountMax * 2}});
  EXPECT_EQ(Read("role/long")->data["secret_id_ttl"], kMountMax * 2);
  s = NewSecretId("long");
  EXPECT_EQ(s["secret_id_ttl"], kMountMax);
  auto look = Write("role/long/secret-id/lookup", {{"secret_id", s["secret_id"]}});
  EXPECT_EQ(look->data["secret_id_ttl"], kMountMax);
  // No TTL: never expires.
  CreateRole("forever");
  s = NewSecretId("forever");
  EXPECT_EQ(s["secret_id_ttl"], 0);
  look = Write("role/forever/secret-id/lookup", {{"secret_id", s["secret_id"]}});
  EXPECT_EQ(look->data["expiration_time"], "0001-01-01T00:00:00Z");

  CreateRole("nobind", {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "10.0.0.0/8"}});
  ExpectError(Write("role/nobind/secret-id"), StatusCode::kInvalidArgument,
              "bind_secret_id is not set on the role");
}

TEST_F(AppRoleTest, SecretIdMetadataForms) {
  CreateRole("app");
  auto meta_of = [&](const Json& secret) {
    auto r = Write("role/app/secret-id/lookup", {{"secret_id", secret["secret_id"]}});
    EXPECT_TRUE(r.ok());
    return r->data["metadata"];
  };
  Json want = {{"env", "prod"}, {"team", "ops"}};
  EXPECT_EQ(meta_of(NewSecretId("app", {{"metadata", "{\"env\":\"prod\",\"team\":\"ops\"}"}})),
            want);
  EXPECT_EQ(meta_of(NewSecretId("app", {{"metadata", want}})), want);  // hvac sends an object
  EXPECT_EQ(meta_of(NewSecretId("app", {{"metadata", "env=prod, team=ops"}})), want);
  EXPECT_EQ(meta_of(NewSecretId("app", {{"metadata", nullptr}})), Json::object());
  EXPECT_EQ(meta_of(NewSecretId("app")), Json::object());
  // base64 of {"env":"prod","team":"ops"}
  EXPECT_EQ(meta_of(NewSecretId("app", {{"metadata", "eyJlbnYiOiJwcm9kIiwidGVhbSI6Im9wcyJ9"}})),
            want);
  auto bad = Write("role/app/secret-id", {{"metadata", "no pairs here"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("failed to parse metadata", 0), 0u);
  bad = Write("role/app/secret-id", {{"metadata", {{"nested", {{"x", 1}}}}}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(AppRoleTest, SecretIdCidrsMustBeWithinTheRoles) {
  CreateRole("app",
             {{"secret_id_bound_cidrs", "10.0.0.0/8"}, {"token_bound_cidrs", "10.0.0.0/16"}});
  Json s = NewSecretId("app", {{"cidr_list", "10.1.0.0/16"}, {"token_bound_cidrs", "10.0.1.0/24"}});
  EXPECT_TRUE(s.is_object());
  ExpectError(Write("role/app/secret-id", {{"cidr_list", "11.0.0.0/8"}}), StatusCode::kInternal,
              "failed to verify subset relationship between CIDR blocks on the role "
              "[\"10.0.0.0/8\"] and CIDR blocks on the secret ID [\"11.0.0.0/8\"]: %!w(<nil>)");
  EXPECT_EQ(Write("role/app/secret-id", {{"token_bound_cidrs", "10.1.0.0/24"}}).status().code(),
            StatusCode::kInternal);
  ExpectError(Write("role/app/secret-id", {{"cidr_list", "bad"}}), StatusCode::kInvalidArgument,
              "failed to validate CIDR blocks");
  ExpectError(Write("role/app/secret-id", {{"token_bound_cidrs", "bad"}}),
              StatusCode::kInvalidArgument, "failed to validate token CIDR blocks");
}

TEST_F(AppRoleTest, SecretIdLookupListDestroy) {
  CreateRole("app", {{"secret_id_ttl", 120}});
  Json a = NewSecretId("app", {{"metadata", "{\"k\":\"v\"}"}, {"cidr_list", "127.0.0.0/8"}});
  clock_.AdvanceSeconds(10);
  Json b = NewSecretId("app");

  auto look = Write("role/app/secret-id/lookup", {{"secret_id", a["secret_id"]}});
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  const Json& d = look->data;
  EXPECT_EQ(d["secret_id_accessor"], a["secret_id_accessor"]);
  EXPECT_EQ(d["secret_id_num_uses"], 0);
  EXPECT_EQ(d["secret_id_ttl"], 120);
  EXPECT_EQ(d["creation_time"], FormatRfc3339Nano(1700000000LL * 1000000000LL));
  EXPECT_EQ(d["last_updated_time"], d["creation_time"]);
  EXPECT_EQ(d["expiration_time"], FormatRfc3339Nano(1700000120LL * 1000000000LL));
  EXPECT_EQ(d["metadata"], Json({{"k", "v"}}));
  EXPECT_EQ(d["cidr_list"], Json::array({"127.0.0.0/8"}));
  EXPECT_EQ(d["token_bound_cidrs"], Json::array());
  EXPECT_FALSE(d.contains("secret_id"));

  auto list = List("role/app/secret-id");
  ASSERT_TRUE(list.ok());
  std::vector<std::string> want = {a["secret_id_accessor"], b["secret_id_accessor"]};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(list->data["keys"], Json(want));
  ExpectError(List("role/ghost/secret-id/"), StatusCode::kInvalidArgument,
              "role \"ghost\" does not exist");

  // Unknown secret IDs: lookup and destroy answer nothing.
  EXPECT_TRUE(Write("role/app/secret-id/lookup", {{"secret_id", "nope"}})->Empty());
  EXPECT_TRUE(Write("role/app/secret-id/destroy", {{"secret_id", "nope"}})->Empty());
  ExpectError(Write("role/app/secret-id/lookup"), StatusCode::kInvalidArgument,
              "missing secret_id");
  ExpectError(Write("role/ghost/secret-id/lookup", {{"secret_id", "x"}}), StatusCode::kInternal,
              "role \"ghost\" does not exist");

  ASSERT_TRUE(Write("role/app/secret-id/destroy", {{"secret_id", a["secret_id"]}}).ok());
  EXPECT_TRUE(Write("role/app/secret-id/lookup", {{"secret_id", a["secret_id"]}})->Empty());
  ExpectError(Login(RoleId("app"), a["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  // DELETE works as well as POST.
  ASSERT_TRUE(
      Do(Operation::kDelete, "role/app/secret-id/destroy", {{"secret_id", b["secret_id"]}}).ok());
  EXPECT_TRUE(List("role/app/secret-id")->Empty());
  EXPECT_EQ(CountKeys("accessor/"), 0u);
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
}

TEST_F(AppRoleTest, AccessorLookupAndDestroy) {
  CreateRole("app");
  CreateRole("other");
  Json s = NewSecretId("app");
  Json o = NewSecretId("other");

  auto look = Write("role/app/secret-id-accessor/lookup",
                    {{"secret_id_accessor", s["secret_id_accessor"]}});
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->data["secret_id_accessor"], s["secret_id_accessor"]);
  ExpectError(Write("role/app/secret-id-accessor/lookup", {{"secret_id_accessor", "nope"}}),
              StatusCode::kNotFound,
              "failed to find accessor entry for secret_id_accessor: \"nope\"");
  ExpectError(Write("role/app/secret-id-accessor/lookup"), StatusCode::kInvalidArgument,
              "missing secret_id_accessor");
  // Another role's accessor shows nothing through this role.
  EXPECT_TRUE(
      Write("role/app/secret-id-accessor/lookup", {{"secret_id_accessor", o["secret_id_accessor"]}})
          ->Empty());

  // CVE-2023-24999: destroying another role's secret ID through this role is refused.
  ExpectError(Write("role/app/secret-id-accessor/destroy",
                    {{"secret_id_accessor", o["secret_id_accessor"]}}),
              StatusCode::kPermissionDenied, "invalid secret id accessor");
  ExpectError(Do(Operation::kDelete, "role/app/secret-id-accessor/destroy",
                 {{"secret_id_accessor", o["secret_id_accessor"]}}),
              StatusCode::kPermissionDenied, "invalid secret id accessor");
  EXPECT_TRUE(Login(RoleId("other"), o["secret_id"]).ok());

  ASSERT_TRUE(Write("role/app/secret-id-accessor/destroy",
                    {{"secret_id_accessor", s["secret_id_accessor"]}})
                  .ok());
  ExpectError(Login(RoleId("app"), s["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  EXPECT_EQ(Write("role/app/secret-id-accessor/destroy",
                  {{"secret_id_accessor", s["secret_id_accessor"]}})
                .status()
                .code(),
            StatusCode::kInternal);
  ASSERT_TRUE(Do(Operation::kDelete, "role/other/secret-id-accessor/destroy",
                 {{"secret_id_accessor", o["secret_id_accessor"]}})
                  .ok());
  EXPECT_EQ(CountKeys("accessor/"), 0u);
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
}

TEST_F(AppRoleTest, CustomSecretId) {
  CreateRole("app", {{"secret_id_num_uses", 3}});
  auto r = Write("role/app/custom-secret-id", {{"secret_id", "my-own-secret"}, {"num_uses", 2}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->data["secret_id"], "my-own-secret");
  EXPECT_EQ(r->data["secret_id_num_uses"], 2);
  EXPECT_EQ(r->data["secret_id_ttl"], 0);
  EXPECT_FALSE(r->data["secret_id_accessor"].get<std::string>().empty());
  ExpectError(Write("role/app/custom-secret-id", {{"secret_id", "my-own-secret"}}),
              StatusCode::kInternal, "SecretID is already registered");
  ExpectError(Write("role/app/custom-secret-id"), StatusCode::kInvalidArgument,
              "missing secret_id");
  ExpectError(Write("role/app/custom-secret-id", {{"secret_id", std::string(4097, 'x')}}),
              StatusCode::kInvalidArgument, "value is longer than maximum of 4096 bytes");
  EXPECT_TRUE(Login(RoleId("app"), "my-own-secret").ok());
  // The same text may be a secret ID of another role too.
  CreateRole("other");
  EXPECT_TRUE(Write("role/other/custom-secret-id", {{"secret_id", "my-own-secret"}}).ok());
}

TEST_F(AppRoleTest, DeletingARoleRemovesItsSecretIdsAndIndex) {
  CreateRole("app");
  std::string role_id = RoleId("app");
  Json s = NewSecretId("app");
  NewSecretId("app");
  CreateRole("keep");
  NewSecretId("keep");
  EXPECT_EQ(CountKeys("secret_id/"), 3u);
  EXPECT_EQ(CountKeys("role_id/"), 2u);
  ASSERT_TRUE(Delete("role/app").ok());
  EXPECT_EQ(CountKeys("secret_id/"), 1u);
  EXPECT_EQ(CountKeys("accessor/"), 1u);
  EXPECT_EQ(CountKeys("role_id/"), 1u);
  // Recreated under the same name, the role has new keys: old secret IDs stay dead.
  CreateRole("app", {{"role_id", role_id}});
  ExpectError(Login(role_id, s["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
}

// ---------------------------------------------------------------------------------------------
// Login

TEST_F(AppRoleTest, LoginAnswersTheRolesToken) {
  CreateRole("app", {{"token_policies", "dev,ops"},
                     {"token_ttl", "20m"},
                     {"token_max_ttl", "1h"},
                     {"token_num_uses", 4},
                     {"token_bound_cidrs", "127.0.0.0/8"},
                     {"token_no_default_policy", true}});
  Json s = NewSecretId("app", {{"metadata", "{\"env\":\"prod\",\"role_name\":\"spoofed\"}"}});
  std::string role_id = RoleId("app");
  auto r = Login(" " + role_id + " ", " " + s["secret_id"].get<std::string>() + "\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_TRUE(r->data.is_null());
  const LoginAuth& a = *r->login;
  EXPECT_EQ(a.token.policies, (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(a.token.ttl, 1200);
  EXPECT_EQ(a.token.max_ttl, 3600);
  EXPECT_EQ(a.token.num_uses, 4);
  EXPECT_TRUE(a.token.no_default_policy);
  EXPECT_EQ(a.token.bound_cidrs, std::vector<std::string>{"127.0.0.0/8"});
  EXPECT_EQ(a.display_name, "");
  EXPECT_EQ(a.alias_name, role_id);
  EXPECT_EQ(a.metadata, Json({{"env", "prod"}, {"role_name", "app"}}));
  EXPECT_EQ(a.internal_data, Json({{"role_name", "app"}}));
  EXPECT_TRUE(a.renewable);
}

TEST_F(AppRoleTest, LoginWithoutSecretIdBinding) {
  CreateRole("ci", {{"bind_secret_id", false}, {"secret_id_bound_cidrs", "10.0.0.0/8"}});
  auto r = Do(Operation::kUpdate, "login", {{"role_id", RoleId("ci")}}, "10.1.2.3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->login->metadata, Json({{"role_name", "ci"}}));
  ExpectError(Do(Operation::kUpdate, "login", {{"role_id", RoleId("ci")}}, "192.168.1.1"),
              StatusCode::kInvalidArgument,
              "source address \"192.168.1.1\" unauthorized by CIDR restrictions on the role: "
              "%!w(<nil>)");
}

TEST_F(AppRoleTest, LoginRefusals) {
  CreateRole("app");
  std::string role_id = RoleId("app");
  Json s = NewSecretId("app");
  ExpectError(Do(Operation::kUpdate, "login", {{"secret_id", s["secret_id"]}}),
              StatusCode::kInvalidArgument, "missing role_id");
  ExpectError(Login("  ", s["secret_id"]), StatusCode::kInvalidArgument, "missing role_id");
  ExpectError(Login("not-a-role-id", s["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  ExpectError(Do(Operation::kUpdate, "login", {{"role_id", role_id}}), StatusCode::kInvalidArgument,
              "missing secret_id");
  // hvac's login(role_id) sends "secret_id": null.
  ExpectError(Do(Operation::kUpdate, "login", {{"role_id", role_id}, {"secret_id", nullptr}}),
              StatusCode::kInvalidArgument, "missing secret_id");
  ExpectError(Login(role_id, "wrong"), StatusCode::kInvalidArgument, "invalid role or secret ID");
  // Another role's secret ID does not log in to this role.
  CreateRole("other");
  Json o = NewSecretId("other");
  ExpectError(Login(role_id, o["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  EXPECT_TRUE(Login(role_id, s["secret_id"]).ok());
  // A deleted role's role_id no longer logs in.
  ASSERT_TRUE(Delete("role/app").ok());
  ExpectError(Login(role_id, s["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
}

TEST_F(AppRoleTest, UseCountIsDecrementedAndTheLastUseDeletes) {
  CreateRole("app");
  std::string role_id = RoleId("app");
  Json s = NewSecretId("app", {{"num_uses", 3}});
  auto uses = [&]() -> Json {
    auto r = Write("role/app/secret-id/lookup", {{"secret_id", s["secret_id"]}});
    return r.ok() && r->data.is_object() ? r->data["secret_id_num_uses"] : Json();
  };
  EXPECT_EQ(uses(), 3);
  clock_.AdvanceSeconds(5);
  ASSERT_TRUE(Login(role_id, s["secret_id"]).ok());
  EXPECT_EQ(uses(), 2);
  auto look = Write("role/app/secret-id/lookup", {{"secret_id", s["secret_id"]}});
  EXPECT_NE(look->data["last_updated_time"], look->data["creation_time"]);
  ASSERT_TRUE(Login(role_id, s["secret_id"]).ok());
  EXPECT_EQ(uses(), 1);
  ASSERT_TRUE(Login(role_id, s["secret_id"]).ok());
  EXPECT_TRUE(uses().is_null());  // gone with its last use
  EXPECT_EQ(CountKeys("accessor/"), 0u);
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
  ExpectError(Login(role_id, s["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
}

TEST_F(AppRoleTest, ExpiredSecretIdIsRefusedAtLogin) {
  CreateRole("app", {{"secret_id_ttl", 60}});
  std::string role_id = RoleId("app");
  Json s = NewSecretId("app");
  Json limited = NewSecretId("app", {{"num_uses", 5}});
  clock_.AdvanceSeconds(59);
  EXPECT_TRUE(Login(role_id, s["secret_id"]).ok());
  clock_.AdvanceSeconds(1);
  // Refused at once, before any tidy, and removed.
  ExpectError(Login(role_id, s["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  ExpectError(Login(role_id, limited["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
  EXPECT_EQ(CountKeys("accessor/"), 0u);
}

TEST_F(AppRoleTest, CidrRestrictions) {
  CreateRole("app", {{"secret_id_bound_cidrs", "10.0.0.0/8"}});
  std::string role_id = RoleId("app");
  // The secret ID's own blocks (unlimited uses).
  Json s = NewSecretId("app", {{"cidr_list", "10.1.0.0/16"}});
  EXPECT_TRUE(Login(role_id, s["secret_id"], "10.1.2.3").ok());
  ExpectError(Login(role_id, s["secret_id"], "10.2.0.1"), StatusCode::kInvalidArgument,
              "source address \"10.2.0.1\" unauthorized through CIDR restrictions on the secret "
              "ID");
  ExpectError(Login(role_id, s["secret_id"], ""), StatusCode::kInternal,
              "failed to get connection information");
  // Limited uses: Vault's other wording; a refused attempt does not take a use.
  Json l = NewSecretId("app", {{"cidr_list", "10.1.0.0/16"}, {"num_uses", 1}});
  ExpectError(Login(role_id, l["secret_id"], "10.2.0.1"), StatusCode::kInvalidArgument,
              "source address \"10.2.0.1\" unauthorized by CIDR restrictions on the secret ID: "
              "%!w(<nil>)");
  EXPECT_TRUE(Login(role_id, l["secret_id"], "10.1.0.9").ok());
  // The role's blocks.
  Json r = NewSecretId("app");
  ExpectError(Login(role_id, r["secret_id"], "192.168.0.1"), StatusCode::kInvalidArgument,
              "source address \"192.168.0.1\" unauthorized by CIDR restrictions on the role: "
              "%!w(<nil>)");
  Json rl = NewSecretId("app", {{"num_uses", 1}});
  ExpectError(Login(role_id, rl["secret_id"], "192.168.0.1"), StatusCode::kInvalidArgument,
              "source address \"192.168.0.1\" unauthorized by CIDR restrictions on the role: "
              "%!w(<nil>)");
  EXPECT_TRUE(Login(role_id, rl["secret_id"], "10.9.9.9").ok());
  EXPECT_TRUE(Login(role_id, r["secret_id"], "::ffff:10.0.0.1").ok());
  // The role's blocks narrowed after issue: the secret ID's no longer fit (Vault: an error).
  ASSERT_TRUE(
      Write("role/app/secret-id-bound-cidrs", {{"secret_id_bound_cidrs", "10.2.0.0/16"}}).ok());
  EXPECT_EQ(Login(role_id, s["secret_id"], "10.1.2.3").status().code(), StatusCode::kInternal);
}

TEST_F(AppRoleTest, TokenBoundCidrsComeFromTheSecretIdWhenSet) {
  CreateRole("app", {{"token_bound_cidrs", "10.0.0.0/8"}});
  std::string role_id = RoleId("app");
  Json narrow = NewSecretId("app", {{"token_bound_cidrs", "10.1.0.0/16"}});
  Json plain = NewSecretId("app");
  auto r = Login(role_id, narrow["secret_id"]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->login->token.bound_cidrs, std::vector<std::string>{"10.1.0.0/16"});
  r = Login(role_id, plain["secret_id"]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->login->token.bound_cidrs, std::vector<std::string>{"10.0.0.0/8"});
  auto look = Write("role/app/secret-id/lookup", {{"secret_id", narrow["secret_id"]}});
  EXPECT_EQ(look->data["token_bound_cidrs"], Json::array({"10.1.0.0/16"}));
}

// Concurrent logins with one single-use secret ID: exactly one succeeds.
TEST_F(AppRoleTest, ConcurrentLoginsSpendASingleUseOnce) {
  SlowStorage slow(&storage_);
  storage_override_ = &slow;
  CreateRole("app");
  std::string role_id = RoleId("app");
  constexpr int kSecrets = 12;
  constexpr int kThreads = 4;
  std::vector<std::string> secrets;
  for (int i = 0; i < kSecrets; ++i)
    secrets.push_back(NewSecretId("app", {{"num_uses", 1}})["secret_id"]);
  for (const auto& secret : secrets) {
    std::atomic<int> ok{0}, refused{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        auto r = Login(role_id, secret);
        if (r.ok()) {
          ++ok;
        } else if (r.status().message() == "invalid role or secret ID") {
          ++refused;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(refused.load(), kThreads - 1);
  }
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
  EXPECT_EQ(CountKeys("accessor/"), 0u);
}

TEST_F(AppRoleTest, ConcurrentLoginsCountEveryUse) {
  SlowStorage slow(&storage_);
  storage_override_ = &slow;
  CreateRole("app");
  std::string role_id = RoleId("app");
  std::string secret = NewSecretId("app", {{"num_uses", 5}})["secret_id"];
  std::atomic<int> ok{0};
  std::latch start(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      if (Login(role_id, secret).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 5);
}

// ---------------------------------------------------------------------------------------------
// Renewal

TEST_F(AppRoleTest, RenewalReadsTheRoleAgain) {
  CreateRole("app", {{"token_ttl", 60}, {"token_bound_cidrs", "10.0.0.0/8"}});
  Json s = NewSecretId("app", {{"token_bound_cidrs", "10.1.0.0/16"}});
  auto login = Login(RoleId("app"), s["secret_id"]);
  ASSERT_TRUE(login.ok());
  ASSERT_TRUE(Write("role/app", {{"token_ttl", 120}, {"token_period", 300}}).ok());
  auto r = Renew(*login->login);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->token.ttl, 120);
  EXPECT_EQ(r->login->token.period, 300);
  EXPECT_EQ(r->login->token.bound_cidrs, std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(r->login->internal_data, Json({{"role_name", "app"}}));
  EXPECT_EQ(r->login->alias_name, login->login->alias_name);
  EXPECT_EQ(r->login->metadata, login->login->metadata);

  ASSERT_TRUE(Delete("role/app").ok());
  ExpectError(Renew(*login->login), StatusCode::kInvalidArgument,
              "role \"app\" does not exist during renewal");
  LoginAuth bare;
  EXPECT_EQ(Renew(bare).status().code(), StatusCode::kInternal);
}

// ---------------------------------------------------------------------------------------------
// Tidy

TEST_F(AppRoleTest, TidyRemovesExpiredSecretIds) {
  CreateRole("app", {{"secret_id_ttl", 60}});
  CreateRole("loc", {{"local_secret_ids", true}, {"secret_id_ttl", 60}});
  Json expiring = NewSecretId("app");
  Json loc = NewSecretId("loc");
  Json lasting = NewSecretId("app", {{"ttl", 30}});
  clock_.AdvanceSeconds(20);
  Json young = NewSecretId("app");
  EXPECT_EQ(CountKeys("secret_id/"), 3u);
  clock_.AdvanceSeconds(45);  // expiring (60 s) and lasting (30 s) are past; young is not
  auto r = Rollback();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->data["failed"], 0);
  EXPECT_EQ(CountKeys("secret_id/"), 1u);
  EXPECT_EQ(CountKeys("accessor/"), 1u);
  EXPECT_EQ(CountKeys("secret_id_local/"), 0u);
  EXPECT_EQ(CountKeys("accessor_local/"), 0u);
  EXPECT_TRUE(Login(RoleId("app"), young["secret_id"]).ok());

  // The endpoint runs the same pass and answers Vault's warning.
  clock_.AdvanceSeconds(60);
  auto t = Write("tidy/secret-id");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->data.is_null());
  ASSERT_EQ(t->warnings.size(), 1u);
  EXPECT_EQ(t->warnings[0].rfind("Tidy operation successfully started", 0), 0u);
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
  EXPECT_EQ(CountKeys("accessor/"), 0u);
}

TEST_F(AppRoleTest, TidyRemovesDanglingEntries) {
  CreateRole("app");
  Json a = NewSecretId("app");
  Json b = NewSecretId("app");
  // b's accessor index disappears: b is removed; an accessor entry naming nothing is removed.
  // b's entry holds its accessor; its accessor entry holds the HMAC that names the entry.
  std::string b_entry_key, b_accessor_key;
  for (const auto& [k, v] : AllEntries()) {
    if (k.rfind("secret_id/", 0) == 0 &&
        v.find(b["secret_id_accessor"].get<std::string>()) != std::string::npos)
      b_entry_key = k;
  }
  ASSERT_FALSE(b_entry_key.empty());
  std::string b_hmac = b_entry_key.substr(b_entry_key.rfind('/') + 1);
  for (const auto& [k, v] : AllEntries()) {
    if (k.rfind("accessor/", 0) == 0 && v.find(b_hmac) != std::string::npos) b_accessor_key = k;
  }
  ASSERT_FALSE(b_accessor_key.empty());
  SyncWait(storage_.Delete(b_accessor_key)).IgnoreError();
  ASSERT_TRUE(
      storage_.PutNow("accessor/deadbeef", "{\"secret_id_hmac\":\"00\",\"role_name_hmac\":\"11\"}")
          .ok());
  EXPECT_EQ(CountKeys("accessor/"), 2u);
  ASSERT_TRUE(Rollback().ok());
  EXPECT_EQ(CountKeys("secret_id/"), 1u);
  EXPECT_EQ(CountKeys("accessor/"), 1u);
  EXPECT_TRUE(Login(RoleId("app"), a["secret_id"]).ok());
}

TEST_F(AppRoleTest, SecretIdWithoutAccessorIsDeletedOnSight) {
  CreateRole("app");
  Json s = NewSecretId("app");
  for (const auto& [k, v] : AllEntries())
    if (k.rfind("accessor/", 0) == 0) SyncWait(storage_.Delete(k)).IgnoreError();
  ExpectError(Write("role/app/secret-id/lookup", {{"secret_id", s["secret_id"]}}),
              StatusCode::kInvalidArgument, "invalid secret id");
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
  Json t = NewSecretId("app");
  for (const auto& [k, v] : AllEntries())
    if (k.rfind("accessor/", 0) == 0) SyncWait(storage_.Delete(k)).IgnoreError();
  ExpectError(Login(RoleId("app"), t["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  EXPECT_EQ(CountKeys("secret_id/"), 0u);
}

// ---------------------------------------------------------------------------------------------
// Storage

TEST_F(AppRoleTest, SecretIdsAreNeverStoredInClear) {
  CreateRole("app", {{"secret_id_num_uses", 10}});
  std::vector<std::string> secrets;
  for (int i = 0; i < 3; ++i) secrets.push_back(NewSecretId("app")["secret_id"]);
  ASSERT_TRUE(
      Write("role/app/custom-secret-id", {{"secret_id", "Custom-Plaintext-Secret-42"}}).ok());
  secrets.push_back("Custom-Plaintext-Secret-42");
  for (const auto& s : secrets) ASSERT_TRUE(Login(RoleId("app"), s).ok());
  ASSERT_TRUE(Rollback().ok());
  auto all = AllEntries();
  ASSERT_GT(all.size(), 5u);
  for (const auto& s : secrets) {
    for (const auto& [k, v] : all) {
      EXPECT_EQ(k.find(s), std::string::npos) << "secret in key " << k;
      EXPECT_EQ(v.find(s), std::string::npos) << "secret in the value of " << k;
    }
  }
  // The role_id index is keyed by a salted hash, not the role_id.
  std::string role_id = RoleId("app");
  for (const auto& [k, v] : all) EXPECT_EQ(k.find(role_id), std::string::npos) << k;
  EXPECT_TRUE(storage_.GetNow("salt")->has_value());
}

TEST_F(AppRoleTest, RoleReadRepairsAMissingRoleIdIndex) {
  CreateRole("app");
  std::string role_id = RoleId("app");
  Json s = NewSecretId("app");
  for (const auto& [k, v] : AllEntries())
    if (k.rfind("role_id/", 0) == 0) SyncWait(storage_.Delete(k)).IgnoreError();
  ExpectError(Login(role_id, s["secret_id"]), StatusCode::kInvalidArgument,
              "invalid role or secret ID");
  auto r = Read("role/app");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("missing an index"), std::string::npos);
  EXPECT_TRUE(Login(role_id, s["secret_id"]).ok());
  EXPECT_TRUE(Read("role/app")->warnings.empty());
}

TEST_F(AppRoleTest, StateSurvivesANewBackendOnTheSameStorage) {
  CreateRole("app");
  std::string role_id = RoleId("app");
  Json s = NewSecretId("app");
  backend_ = NewAppRoleBackend(mount_, &clock_);  // e.g. after a restart: the salt is read back
  EXPECT_TRUE(Login(role_id, s["secret_id"]).ok());
  ASSERT_TRUE(Write("role/app/secret-id-accessor/destroy",
                    {{"secret_id_accessor", s["secret_id_accessor"]}})
                  .ok());
}

TEST_F(AppRoleTest, HelpListsThePaths) {
  logical::Request r;
  r.operation = Operation::kHelp;
  r.path = "";
  auto h = backend_->HandleRequest(r);
  ASSERT_TRUE(h.ok());
  EXPECT_NE(h->help->find("login"), std::string::npos);
  r.path = "role/app/secret-id";
  h = backend_->HandleRequest(r);
  ASSERT_TRUE(h.ok());
  EXPECT_NE(h->help->find("metadata"), std::string::npos);
}

}  // namespace
}  // namespace vault::engines
