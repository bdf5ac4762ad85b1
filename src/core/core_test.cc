#include "core/core.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engines/kv/kv.h"
#include "storage/inmem.h"

namespace vault::core {
namespace {

using logical::Operation;

// A test auth method: login takes the token fields from the request; renewals are refused once
// "refuse" has been written.
std::shared_ptr<logical::Backend> NewFakeAuth() {
  using logical::FieldData;
  using logical::Request;
  using logical::Response;
  logical::Path login;
  login.pattern = "login";
  login.fields = {{"policies", logical::FieldType::kCommaStringSlice},
                  {"ttl", logical::FieldType::kInt},
                  {"max_ttl", logical::FieldType::kInt},
                  {"cidrs", logical::FieldType::kCommaStringSlice}};
  login.operations[Operation::kUpdate] = [](Request&, const FieldData& d) -> Result<Response> {
    Response r;
    logical::LoginAuth a;
    a.token.policies = d.GetStrings("policies");
    a.token.ttl = d.GetInt("ttl");
    a.token.max_ttl = d.GetInt("max_ttl");
    a.token.bound_cidrs = d.GetStrings("cidrs");
    a.display_name = "who";
    a.metadata = {{"k", "v"}};
    r.login = a;
    return r;
  };
  logical::Path refuse;
  refuse.pattern = "refuse";
  refuse.async_operations[Operation::kUpdate] = [](Request& r,
                                                   const FieldData&) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(co_await r.storage->Put("refuse", "1"));
    co_return Response();
  };
  auto b = std::make_shared<logical::FrameworkBackend>("fake",
                                                       std::vector<logical::Path>{login, refuse});
  b->SetUnauthenticatedPaths({"login"});
  b->SetAuthRenew([](Request& r) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto v, co_await r.storage->Get("refuse"));
    if (v) co_return InvalidArgument("not renewing");
    Response resp;
    resp.login = *r.auth;
    co_return resp;
  });
  return b;
}

class CoreTest : public testing::Test {
 protected:
  void SetUp() override {
    EngineRegistry reg;
    reg["kv"] = [](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
      return engines::NewKvBackend(m);
    };
    reg["auth/fake"] = [](const logical::MountInfo&) -> Result<std::shared_ptr<logical::Backend>> {
      return NewFakeAuth();
    };
    core_ = std::make_unique<Core>(&physical_, reg, CoreConfig{}, &clock_);
    auto init = SyncWait(core_->Initialize(1, 1));
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    key_ = init->keys[0];
    root_ = init->root_token;
    ASSERT_TRUE(core_->Sealed());
    ASSERT_TRUE(SyncWait(core_->Unseal(key_)).ok());
  }
  Result<logical::Response> Do(Operation op, std::string path, Json data = Json::object(),
                               std::string token = "", std::string remote = "127.0.0.1") {
    logical::Request r;
    r.operation = op;
    r.path = std::move(path);
    r.data = std::move(data);
    r.client_token = token == "-" ? "" : token.empty() ? root_ : token;
    r.remote_address = std::move(remote);
    return core_->HandleRequest(r);
  }
  storage::InmemBackend physical_;
  FakeClock clock_;
  std::unique_ptr<Core> core_;
  std::string key_, root_;
};

TEST_F(CoreTest, DefaultMountsAndKv) {
  auto mounts = Do(Operation::kRead, "sys/mounts");
  ASSERT_TRUE(mounts.ok()) << mounts.status().ToString();
  EXPECT_EQ(mounts->data["secret/"]["type"], "kv");
  EXPECT_EQ(mounts->data["sys/"]["type"], "system");
  EXPECT_FALSE(mounts->data.contains("auth/token/"));
  ASSERT_TRUE(Do(Operation::kUpdate, "secret/foo", {{"value", "bar"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "secret/foo")->data["value"], "bar");
}

TEST_F(CoreTest, LoginsMakeOrphanTokensUnderTheMountsTtls) {
  ASSERT_TRUE(
      Do(Operation::kUpdate, "sys/auth/fake",
         {{"type", "fake"}, {"config", {{"max_lease_ttl", "1h"}, {"default_lease_ttl", "10m"}}}})
          .ok());
  // No token needed on the login path; a token is needed everywhere else under the method.
  auto login = Do(Operation::kUpdate, "auth/fake/login", {{"policies", "dev,ops"}}, "-");
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(Do(Operation::kUpdate, "auth/fake/refuse", {}, "-").status().code(),
            StatusCode::kPermissionDenied);
  const Json& auth = login->auth;
  EXPECT_EQ(auth["policies"], Json({"default", "dev", "ops"}));
  EXPECT_EQ(auth["lease_duration"], 600);
  EXPECT_EQ(auth["orphan"], true);
  EXPECT_EQ(auth["metadata"]["k"], "v");
  std::string token = auth["client_token"];
  auto look = Do(Operation::kRead, "auth/token/lookup-self", {}, token);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->data["display_name"], "fake-who");
  EXPECT_EQ(look->data["path"], "auth/fake/login");
  // A role TTL above the mount's max is capped, with a warning.
  auto capped = Do(Operation::kUpdate, "auth/fake/login", {{"ttl", 7200}}, "-");
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->auth["lease_duration"], 3600);
  EXPECT_FALSE(capped->warnings.empty());
  // Renewal: up to the role's max, and only while the method agrees.
  auto limited = Do(Operation::kUpdate, "auth/fake/login", {{"max_ttl", 900}}, "-");
  std::string lt = limited->auth["client_token"];
  clock_.AdvanceSeconds(300);
  auto renewed = Do(Operation::kUpdate, "auth/token/renew-self", {{"increment", 3600}}, lt);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->auth["lease_duration"], 600);  // 900 s from creation
  ASSERT_TRUE(Do(Operation::kUpdate, "auth/fake/refuse").ok());
  EXPECT_EQ(Do(Operation::kUpdate, "auth/token/renew-self", {}, lt).status().message(),
            "not renewing");
  // No root tokens from a login; bound CIDRs hold where the token is used.
  EXPECT_EQ(
      Do(Operation::kUpdate, "auth/fake/login", {{"policies", "root"}}, "-").status().message(),
      "auth methods cannot create root tokens");
  auto bound = Do(Operation::kUpdate, "auth/fake/login", {{"cidrs", "10.0.0.0/8"}}, "-");
  std::string bt = bound->auth["client_token"];
  EXPECT_TRUE(Do(Operation::kRead, "auth/token/lookup-self", {}, bt, "10.1.2.3").ok());
  EXPECT_EQ(Do(Operation::kRead, "auth/token/lookup-self", {}, bt, "192.168.0.1").status().code(),
            StatusCode::kPermissionDenied);
  // Disabling the method revokes what it issued.
  ASSERT_TRUE(Do(Operation::kDelete, "sys/auth/fake").ok());
  EXPECT_EQ(Do(Operation::kRead, "auth/token/lookup-self", {}, token).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_FALSE(Do(Operation::kRead, "sys/auth")->data.contains("fake/"));
}

TEST_F(CoreTest, AWrappedAnswerUnwrapsOnceAndGoesWithItsToken) {
  auto info = SyncWait(core_->Wrap(R"({"data":{"k":"v"}})", 60, "secret/x", ""));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  std::string wt = (*info)["token"];
  auto look = Do(Operation::kUpdate, "sys/wrapping/lookup", {{"token", wt}}, "-");
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  EXPECT_EQ(look->data["creation_path"], "secret/x");
  // The wrapping token can do nothing but unwrap.
  EXPECT_EQ(Do(Operation::kRead, "secret/x", {}, wt).status().code(),
            StatusCode::kPermissionDenied);
  auto first = Do(Operation::kUpdate, "sys/wrapping/unwrap", {}, wt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first->raw_body, R"({"data":{"k":"v"}})");
  EXPECT_EQ(Do(Operation::kUpdate, "sys/wrapping/unwrap", {}, wt).status().message(),
            "wrapping token is not valid or does not exist");
  // A third party needs its own token; an expired wrapping token unwraps nothing.
  auto other = SyncWait(core_->Wrap("{}", 60, "secret/y", ""));
  std::string ot = (*other)["token"];
  EXPECT_EQ(Do(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", ot}}, "bogus").status().code(),
            StatusCode::kPermissionDenied);
  clock_.AdvanceSeconds(61);
  EXPECT_EQ(Do(Operation::kUpdate, "sys/wrapping/unwrap", {{"token", ot}}).status().message(),
            "wrapping token is not valid or does not exist");
  EXPECT_EQ(
      Do(Operation::kUpdate, "sys/policy/response-wrapping", {{"policy", ""}}).status().code(),
      StatusCode::kInvalidArgument);
}

TEST_F(CoreTest, RateLimitQuotasPerClientMostSpecificFirst) {
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/quotas/rate-limit/global", {{"rate", 100}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/quotas/rate-limit/app",
                 {{"path", "secret/app"}, {"rate", 2}, {"interval", "1s"}})
                  .ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/quotas/rate-limit/blocky",
                 {{"path", "secret/b"}, {"rate", 1}, {"block_interval", "30s"}})
                  .ok());
  // Two per second under secret/app, per client address.
  EXPECT_FALSE(core_->CheckQuota("secret/app/x", "10.0.0.1"));
  EXPECT_FALSE(core_->CheckQuota("secret/app/y", "10.0.0.1"));
  EXPECT_EQ(core_->CheckQuota("secret/app/x", "10.0.0.1"), std::optional<int64_t>(1));
  EXPECT_FALSE(core_->CheckQuota("secret/app/x", "10.0.0.2"));
  EXPECT_FALSE(core_->CheckQuota("secret/other", "10.0.0.1"));  // the global quota: 100/s
  clock_.AdvanceSeconds(1);
  EXPECT_FALSE(core_->CheckQuota("secret/app/x", "10.0.0.1"));
  // Over the rate with a block interval: refused for its whole length.
  EXPECT_FALSE(core_->CheckQuota("secret/b/1", "10.0.0.1"));
  EXPECT_EQ(core_->CheckQuota("secret/b/1", "10.0.0.1"), std::optional<int64_t>(30));
  clock_.AdvanceSeconds(10);
  EXPECT_EQ(core_->CheckQuota("secret/b/1", "10.0.0.1"), std::optional<int64_t>(20));
  // Never limited: health, unseal, step-down.
  for (int i = 0; i < 500; ++i) EXPECT_FALSE(core_->CheckQuota("sys/health", "10.0.0.1"));
  // Quotas survive a seal and unseal; deleting one lifts it.
  ASSERT_TRUE(SyncWait(core_->Seal(root_)).ok());
  ASSERT_TRUE(SyncWait(core_->Unseal(key_)).ok());
  EXPECT_EQ(core_->CheckQuota("secret/b/1", "10.0.0.3").has_value(), false);
  EXPECT_EQ(core_->CheckQuota("secret/b/1", "10.0.0.3"), std::optional<int64_t>(30));
  ASSERT_TRUE(Do(Operation::kDelete, "sys/quotas/rate-limit/blocky").ok());
  ASSERT_TRUE(Do(Operation::kDelete, "sys/quotas/rate-limit/global").ok());
  EXPECT_FALSE(core_->CheckQuota("secret/b/1", "10.0.0.3"));
  EXPECT_EQ(Do(Operation::kList, "sys/quotas/rate-limit/")->data["keys"], Json({"app"}));
}

TEST_F(CoreTest, TokensAreCheckedAndStoredHashed) {
  EXPECT_EQ(Do(Operation::kRead, "secret/foo", {}, "not-a-token").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(root_.rfind("hvs.", 0) == 0);
  bool leaked = false;
  ASSERT_TRUE(SyncWait(physical_.Scan("", [&](std::string_view k, std::string_view v) {
                if (k.find(root_) != std::string_view::npos ||
                    v.find(root_) != std::string_view::npos)
                  leaked = true;
                return true;
              })).ok());
  EXPECT_FALSE(leaked);
}

TEST_F(CoreTest, MountUnmountTuneRemount) {
  ASSERT_TRUE(
      Do(Operation::kUpdate, "sys/mounts/kv2", {{"type", "generic"}, {"description", "d"}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "kv2/a", {{"x", "1"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "kv2/a")->data["x"], "1");
  // Conflicts and protected paths.
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/kv2", {{"type", "kv"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/kv2/nested", {{"type", "kv"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/sys", {{"type", "kv"}}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/x", {{"type", "nope"}}).status().code(),
            StatusCode::kInvalidArgument);
  // Tune.
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/kv2/tune",
                 {{"default_lease_ttl", "1h"}, {"max_lease_ttl", "2h"}})
                  .ok());
  auto tune = Do(Operation::kRead, "sys/mounts/kv2/tune");
  ASSERT_TRUE(tune.ok());
  EXPECT_EQ(tune->data["default_lease_ttl"], 3600);
  EXPECT_EQ(tune->data["max_lease_ttl"], 7200);
  EXPECT_EQ(Do(Operation::kRead, "kv2/a")->lease_duration, 3600);
  EXPECT_EQ(
      Do(Operation::kUpdate, "sys/mounts/kv2/tune", {{"default_lease_ttl", "3h"}}).status().code(),
      StatusCode::kInvalidArgument);
  // A max above the system's is Vault's to accept (the system max is 768h); a default above the
  // max is not.
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/kv2/tune", {{"max_lease_ttl", "9000h"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "sys/mounts/kv2/tune")->data["max_lease_ttl"], 9000 * 3600);
  EXPECT_NE(Do(Operation::kUpdate, "sys/mounts/kv2/tune",
               {{"default_lease_ttl", "2h"}, {"max_lease_ttl", "1h"}})
                .status()
                .message()
                .find("less than backend default lease TTL"),
            std::string::npos);
  // Remount keeps data.
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/remount", {{"from", "kv2"}, {"to", "kv3"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "kv3/a")->data["x"], "1");
  EXPECT_EQ(Do(Operation::kRead, "kv2/a").status().code(), StatusCode::kNotFound);
  // Unmount drops the data.
  ASSERT_TRUE(Do(Operation::kDelete, "sys/mounts/kv3").ok());
  EXPECT_EQ(Do(Operation::kRead, "kv3/a").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/kv3", {{"type", "kv"}}).ok());
  EXPECT_TRUE(Do(Operation::kRead, "kv3/a")->Empty());
}

TEST_F(CoreTest, MountOptionsAreCheckedNotIgnored) {
  // Numbers and booleans are stored as strings, as Vault does.
  ASSERT_TRUE(
      Do(Operation::kUpdate, "sys/mounts/v1", {{"type", "kv"}, {"options", {{"version", 1}}}})
          .ok());
  EXPECT_EQ(Do(Operation::kRead, "sys/mounts")->data["v1/"]["options"]["version"], "1");
  // KV version 2 (a number or a string; kv-v2 as the type), served as version 2.
  for (Json options : {Json{{"version", "2"}}, Json{{"version", 2}}}) {
    ASSERT_TRUE(
        Do(Operation::kUpdate, "sys/mounts/v2", {{"type", "kv"}, {"options", options}}).ok());
    EXPECT_EQ(Do(Operation::kRead, "sys/mounts")->data["v2/"]["options"]["version"], "2");
    ASSERT_TRUE(Do(Operation::kUpdate, "v2/data/app", {{"data", {{"k", "v"}}}}).ok());
    auto read = Do(Operation::kRead, "v2/data/app");
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->data["data"]["k"], "v");
    EXPECT_EQ(read->data["metadata"]["version"], 1);
    ASSERT_TRUE(Do(Operation::kDelete, "sys/mounts/v2").ok());
  }
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/kvv2", {{"type", "kv-v2"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "sys/mounts")->data["kvv2/"]["options"]["version"], "2");
  // A list of "k=v" strings is a map too; 2.0 is not a version.
  ASSERT_TRUE(
      Do(Operation::kUpdate, "sys/mounts/listed", {{"type", "kv"}, {"options", {"version=2"}}})
          .ok());
  EXPECT_EQ(
      Do(Operation::kUpdate, "sys/mounts/float", {{"type", "kv"}, {"options", {{"version", 2.0}}}})
          .status()
          .code(),
      StatusCode::kInvalidArgument);
  EXPECT_NE(
      Do(Operation::kUpdate, "sys/mounts/v3", {{"type", "kv"}, {"options", {{"version", "7"}}}})
          .status()
          .message()
          .find("options.version: invalid KV version \"7\""),
      std::string::npos);
  EXPECT_NE(
      Do(Operation::kUpdate, "sys/mounts/v3", {{"type", "kv"}, {"options", {{"flavour", "x"}}}})
          .status()
          .message()
          .find("options.flavour"),
      std::string::npos);
}

TEST_F(CoreTest, TuneUpgradesKvVersion1To2InPlace) {
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/old", {{"type", "kv"}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "old/app/db", {{"password", "s3cr3t"}}).ok());
  auto tuned = Do(Operation::kUpdate, "sys/mounts/old/tune", {{"options", {{"version", "2"}}}});
  ASSERT_TRUE(tuned.ok()) << tuned.status().message();
  ASSERT_EQ(tuned->warnings.size(), 1u);
  EXPECT_EQ(tuned->warnings[0],
            "Upgrading mount from version 0 to version 2. This mount will be unavailable for a "
            "brief period and will resume service shortly.");
  auto read = Do(Operation::kRead, "old/data/app/db");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->data["data"]["password"], "s3cr3t");
  EXPECT_EQ(Do(Operation::kRead, "sys/mounts/old/tune")->data["options"], Json({{"version", "2"}}));
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/old/tune", {{"options", {{"version", "1"}}}})
                .status()
                .message(),
            "cannot downgrade mount from version 2");
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/old/tune", {{"options", {{"version", "3"}}}})
                .status()
                .message(),
            "invalid version provided: 3");
  // Other engines have no version; an unknown mount says so.
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/secret/tune", {{"options", {{"colour", "x"}}}})
                .status()
                .message(),
            "options.colour: the kv secrets engine has no such option");
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/none/tune", {{"options", {{"version", "2"}}}})
                .status()
                .message(),
            "tune of path \"none/\" failed: no mount entry found");
  // The upgraded mount survives a seal: the version 2 engine comes back.
  ASSERT_TRUE(SyncWait(core_->Seal(root_)).ok());
  ASSERT_TRUE(SyncWait(core_->Unseal(key_)).ok());
  EXPECT_EQ(Do(Operation::kRead, "old/data/app/db")->data["metadata"]["version"], 1);
}

TEST_F(CoreTest, BarrierKeyRotatesWhenTheConfigSaysItIsDue) {
  auto cfg = Do(Operation::kRead, "sys/rotate/config");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->data,
            Json({{"max_operations", 3865470566LL}, {"enabled", true}, {"interval", 0}}));
  EXPECT_EQ(Do(Operation::kUpdate, "sys/rotate/config", {{"interval", "1h"}}).status().message(),
            "interval must be greater or equal to 24h0m0s");
  EXPECT_EQ(
      Do(Operation::kUpdate, "sys/rotate/config", {{"max_operations", 10}}).status().message(),
      "max_operations must be in the range [1000000,3865470566]");
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/rotate/config", {{"interval", "48h"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "sys/rotate/config")->data["interval"], "48h0m0s");
  ASSERT_TRUE(Do(Operation::kUpdate, "secret/before", {{"v", "1"}}).ok());
  const uint32_t term = Do(Operation::kRead, "sys/key-status")->data["term"];
  EXPECT_GT(Do(Operation::kRead, "sys/key-status")->data["encryptions"].get<int64_t>(), 0);
  clock_.AdvanceSeconds(47 * 3600);
  core_->MaybeRotateBarrierKey();
  EXPECT_EQ(Do(Operation::kRead, "sys/key-status")->data["term"], term);
  clock_.AdvanceSeconds(3600);
  core_->MaybeRotateBarrierKey();
  EXPECT_EQ(Do(Operation::kRead, "sys/key-status")->data["term"], term + 1);
  EXPECT_EQ(Do(Operation::kRead, "secret/before")->data["v"], "1");  // the old term still reads
  // Disabled: nothing rotates; the setting survives a seal.
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/rotate/config", {{"enabled", false}}).ok());
  clock_.AdvanceSeconds(100 * 3600);
  core_->MaybeRotateBarrierKey();
  EXPECT_EQ(Do(Operation::kRead, "sys/key-status")->data["term"], term + 1);
  ASSERT_TRUE(SyncWait(core_->Seal(root_)).ok());
  ASSERT_TRUE(SyncWait(core_->Unseal(key_)).ok());
  EXPECT_EQ(Do(Operation::kRead, "sys/rotate/config")->data["enabled"], false);
}

TEST_F(CoreTest, SealBlocksAndUnsealRestoresState) {
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/custom", {{"type", "kv"}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "custom/k", {{"v", "1"}}).ok());
  EXPECT_EQ(SyncWait(core_->Seal("wrong")).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(SyncWait(core_->Seal(root_)).ok());
  auto r = Do(Operation::kRead, "custom/k");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "Vault is sealed");
  ASSERT_TRUE(SyncWait(core_->Unseal(key_)).ok());
  EXPECT_EQ(Do(Operation::kRead, "custom/k")->data["v"], "1");
}

TEST_F(CoreTest, UnknownRoutes) {
  auto r = Do(Operation::kRead, "nowhere/x");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "no handler for route \"nowhere/x\". route entry not found.");
  EXPECT_EQ(Do(Operation::kRead, "sys/nothing").status().message(), "unsupported path");
  EXPECT_EQ(Do(Operation::kDelete, "sys/mounts").status().code(),
            StatusCode::kUnsupportedOperation);
}

TEST_F(CoreTest, HelpForMountRoot) {
  auto r = Do(Operation::kHelp, "secret");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->help.has_value());
  EXPECT_NE(r->help->find("generic backend"), std::string::npos);
}

TEST_F(CoreTest, LookupSelf) {
  auto r = Do(Operation::kRead, "auth/token/lookup-self");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->data["policies"], Json({"root"}));
}

// A token with policy `name` (created by root), its auth block.
class CoreAclTest : public CoreTest {
 protected:
  std::string Policy(const std::string& name, const std::string& text) {
    auto w = Do(Operation::kUpdate, "sys/policy/" + name, {{"policy", text}});
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return name;
  }
  Json Create(Json body, const std::string& parent = "") {
    auto r = Do(Operation::kUpdate, "auth/token/create", std::move(body), parent);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->auth : Json();
  }
  StatusCode Code(Operation op, const std::string& path, const std::string& token,
                  Json data = Json::object()) {
    return Do(op, path, std::move(data), token).status().code();
  }
};

TEST_F(CoreAclTest, TheDoneWhenScenario) {
  ASSERT_TRUE(Do(Operation::kUpdate, "secret/app/x", {{"v", "1"}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "secret/other", {{"v", "2"}}).ok());
  Policy("app-read", "path \"secret/app/*\" { capabilities = [\"read\"] }");
  Json auth = Create({{"policies", {"app-read"}}});
  std::string t = auth["client_token"];
  EXPECT_EQ(auth["policies"], Json({"app-read", "default"}));
  EXPECT_EQ(Do(Operation::kRead, "secret/app/x", {}, t)->data["v"], "1");
  EXPECT_EQ(Code(Operation::kUpdate, "secret/app/x", t, {{"v", "9"}}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kUpdate, "secret/app/new", t, {{"v", "9"}}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Do(Operation::kRead, "secret/app/x")->data["v"], "1");
  EXPECT_EQ(Code(Operation::kRead, "secret/other", t), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kRead, "sys/mounts", t), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kUpdate, "sys/mounts/x", t, {{"type", "kv"}}),
            StatusCode::kPermissionDenied);
  // Denials reveal nothing: an unmounted path is 403 too, not 404.
  EXPECT_EQ(Code(Operation::kRead, "nowhere/x", t), StatusCode::kPermissionDenied);
  // The default policy lets it look itself up; display name and path as Vault.
  auto self = Do(Operation::kRead, "auth/token/lookup-self", {}, t);
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  EXPECT_EQ(self->data["display_name"], "token");
  EXPECT_EQ(self->data["path"], "auth/token/create");
  EXPECT_EQ(self->data["ttl"], 768 * 3600);

  // It may not mint tokens; a parent that may does, and revoking it revokes the child.
  EXPECT_EQ(Code(Operation::kUpdate, "auth/token/create", t), StatusCode::kPermissionDenied);
  Policy("minter", "path \"auth/token/create\" { capabilities = [\"update\"] }");
  std::string parent = Create({{"policies", {"app-read", "minter"}}})["client_token"];
  Json child = Create({{"policies", {"app-read"}}}, parent);
  std::string c = child["client_token"];
  EXPECT_EQ(child["orphan"], false);
  EXPECT_EQ(Do(Operation::kRead, "secret/app/x", {}, c)->data["v"], "1");
  ASSERT_TRUE(Do(Operation::kUpdate, "auth/token/revoke", {{"token", parent}}).ok());
  EXPECT_EQ(Code(Operation::kRead, "secret/app/x", parent), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kRead, "secret/app/x", c), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Do(Operation::kRead, "secret/app/x", {}, t).ok());  // not in that tree
}

TEST_F(CoreAclTest, CreateRules) {
  Policy("app",
         "path \"secret/*\" { capabilities = [\"read\"] }\npath \"auth/token/create\" { "
         "capabilities = [\"update\"] }");
  std::string t = Create({{"policies", {"app"}}})["client_token"];
  // Subset of the parent's policies only; no root, no orphan, no chosen id.
  EXPECT_EQ(Code(Operation::kUpdate, "auth/token/create", t, {{"policies", {"other"}}}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(Operation::kUpdate, "auth/token/create", t, {{"policies", {"root"}}}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(Operation::kUpdate, "auth/token/create", t, {{"no_parent", true}}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kUpdate, "auth/token/create", t, {{"id", "mine"}}),
            StatusCode::kPermissionDenied);
  Json inherited = Create(Json::object(), t);
  EXPECT_EQ(inherited["policies"], Json({"app", "default"}));
  // Root with no policies mints another root token that never expires.
  Json r = Create(Json::object());
  EXPECT_EQ(r["policies"], Json({"root"}));
  EXPECT_EQ(r["lease_duration"], 0);
  // display_name, ttl, explicit_max_ttl, meta, num_uses, orphan.
  Json o = Create({{"policies", {"app"}},
                   {"display_name", "CI bot"},
                   {"ttl", "1h"},
                   {"explicit_max_ttl", "30m"},
                   {"meta", {{"team", "x"}}},
                   {"num_uses", 3},
                   {"no_parent", true}});
  EXPECT_EQ(o["lease_duration"], 1800);
  EXPECT_EQ(o["orphan"], true);
  EXPECT_EQ(o["num_uses"], 3);
  auto look = Do(Operation::kUpdate, "auth/token/lookup", {{"token", o["client_token"]}});
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->data["display_name"], "token-CI-bot");
  EXPECT_EQ(look->data["meta"]["team"], "x");
  auto acc = Do(Operation::kUpdate, "auth/token/lookup-accessor", {{"accessor", o["accessor"]}});
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->data["id"], "");
  EXPECT_EQ(acc->data["policies"], Json({"app", "default"}));
}

TEST_F(CoreAclTest, BadTokensAndNumUses) {
  Policy("app", "path \"secret/*\" { capabilities = [\"read\", \"create\", \"update\"] }");
  EXPECT_EQ(Code(Operation::kRead, "secret/x", "nope"), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kRead, "secret/x", std::string(5000, 'a')),
            StatusCode::kPermissionDenied);
  std::string t = Create({{"policies", {"app"}}, {"num_uses", 2}})["client_token"];
  EXPECT_TRUE(Do(Operation::kUpdate, "secret/x", {{"a", "1"}}, t).ok());
  EXPECT_TRUE(Do(Operation::kRead, "secret/x", {}, t).ok());
  // The third use is refused and does nothing.
  EXPECT_EQ(Code(Operation::kUpdate, "secret/x", t, {{"a", "2"}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(Do(Operation::kRead, "secret/x")->data["a"], "1");
  // Expired tokens stop at once.
  std::string e = Create({{"policies", {"app"}}, {"ttl", "60s"}})["client_token"];
  EXPECT_TRUE(Do(Operation::kRead, "secret/x", {}, e).ok());
  clock_.AdvanceSeconds(61);
  EXPECT_EQ(Code(Operation::kRead, "secret/x", e), StatusCode::kPermissionDenied);
  // Revoked tokens too (revoke-self through the default policy).
  std::string s = Create({{"policies", {"app"}}})["client_token"];
  ASSERT_TRUE(Do(Operation::kUpdate, "auth/token/revoke-self", {}, s).ok());
  EXPECT_EQ(Code(Operation::kRead, "secret/x", s), StatusCode::kPermissionDenied);
}

TEST_F(CoreAclTest, RootProtectedPathsNeedSudo) {
  Policy("ops", R"(
    path "sys/mounts/*" { capabilities = ["create", "read", "update", "delete"] }
    path "sys/policy/*" { capabilities = ["read", "update"] }
    path "sys/audit*"   { capabilities = ["read", "update"] }
  )");
  Policy("ops-sudo", R"(
    path "sys/mounts/*" { capabilities = ["update", "sudo"] }
    path "sys/policy/*" { capabilities = ["update", "sudo"] }
    path "auth/token/revoke-orphan" { capabilities = ["update", "sudo"] }
  )");
  std::string ops = Create({{"policies", {"ops"}}})["client_token"];
  std::string sudo = Create({{"policies", {"ops-sudo"}}})["client_token"];
  EXPECT_EQ(Code(Operation::kUpdate, "sys/mounts/kv9", ops, {{"type", "kv"}}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kUpdate, "sys/policy/x", ops, {{"policy", "path \"a\" {}"}}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(Operation::kRead, "sys/audit", ops), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Do(Operation::kRead, "sys/policy/ops", {}, ops).ok());  // reads need no sudo
  EXPECT_TRUE(Do(Operation::kUpdate, "sys/mounts/kv9", {{"type", "kv"}}, sudo).ok());
  EXPECT_TRUE(Do(Operation::kUpdate, "sys/policy/x", {{"policy", "path \"a\" {}"}}, sudo).ok());
  EXPECT_EQ(Code(Operation::kUpdate, "auth/token/revoke-orphan", ops, {{"token", sudo}}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(SyncWait(core_->Seal(ops)).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(core_->Sealed());
}

TEST_F(CoreAclTest, PolicyEndpointsAndCapabilities) {
  auto bad =
      Do(Operation::kUpdate, "sys/policy/bad", {{"policy", "path \"x\" {\n  capabilities = [\n"}});
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("At "), std::string::npos) << bad.status().message();
  Policy("App", "path \"secret/app/*\" { capabilities = [\"read\", \"list\"] }");
  auto list = Do(Operation::kRead, "sys/policy");
  EXPECT_EQ(list->data["policies"], Json({"app", "default", "root"}));
  EXPECT_EQ(Do(Operation::kList, "sys/policies/acl/")->data["keys"],
            Json({"app", "default", "root"}));
  EXPECT_EQ(Do(Operation::kRead, "sys/policy/app")->data["rules"],
            "path \"secret/app/*\" { capabilities = [\"read\", \"list\"] }");
  EXPECT_EQ(Do(Operation::kRead, "sys/policies/acl/app")->data["policy"],
            "path \"secret/app/*\" { capabilities = [\"read\", \"list\"] }");
  EXPECT_TRUE(Do(Operation::kRead, "sys/policy/missing")->Empty());
  EXPECT_EQ(Do(Operation::kDelete, "sys/policy/default").status().code(),
            StatusCode::kInvalidArgument);
  // rules= (the 2015 CLI) works too.
  ASSERT_TRUE(
      Do(Operation::kUpdate, "sys/policy/old", {{"rules", "path \"a/*\" { policy = \"write\" }"}})
          .ok());

  std::string t = Create({{"policies", {"app"}}})["client_token"];
  auto caps = Do(Operation::kUpdate, "sys/capabilities-self",
                 {{"paths", {"secret/app/x", "secret/no"}}}, t);
  ASSERT_TRUE(caps.ok()) << caps.status().ToString();
  EXPECT_EQ(caps->data["secret/app/x"], Json({"list", "read"}));
  EXPECT_EQ(caps->data["secret/no"], Json({"deny"}));
  auto one = Do(Operation::kUpdate, "sys/capabilities", {{"token", t}, {"path", "secret/app/y"}});
  EXPECT_EQ(one->data["capabilities"], Json({"list", "read"}));
  EXPECT_EQ(Do(Operation::kUpdate, "sys/capabilities-self", {{"path", "x"}})->data["capabilities"],
            Json({"root"}));
  // Changing the policy changes the token's rights at once.
  Policy("app", "path \"secret/app/*\" { capabilities = [\"deny\"] }");
  EXPECT_EQ(Code(Operation::kRead, "secret/app/x", t), StatusCode::kPermissionDenied);
}

TEST_F(CoreAclTest, AuditFailsClosedAndRecordsEverything) {
  std::string log = testing::TempDir() + "/core-audit-" + std::to_string(::getpid()) + ".log";
  std::remove(log.c_str());
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/audit/file",
                 {{"type", "file"}, {"options", {{"file_path", log}}}})
                  .ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "secret/k", {{"password", "hunter2"}}).ok());
  EXPECT_EQ(Code(Operation::kRead, "secret/k", "bad-token"), StatusCode::kPermissionDenied);
  auto h = Do(Operation::kUpdate, "sys/audit-hash/file", {{"input", "hunter2"}});
  ASSERT_TRUE(h.ok());
  std::string hash = h->data["hash"];
  std::ifstream f(log);
  std::string line, all;
  int requests = 0, responses = 0;
  bool found = false, denied = false;
  while (std::getline(f, line)) {
    all += line;
    Json j = *ParseJson(line);
    if (j["type"] == "request") ++requests;
    if (j["type"] == "response") ++responses;
    if (j["request"]["path"] == "secret/k" && j["request"]["data"].is_object() &&
        j["request"]["data"]["password"] == hash)
      found = true;
    if (j["error"] == "permission denied") denied = true;
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(denied);
  EXPECT_GE(requests, 3);
  EXPECT_GE(responses, 3);
  EXPECT_EQ(all.find("hunter2"), std::string::npos);
  EXPECT_EQ(all.find(root_), std::string::npos);
  EXPECT_EQ(Do(Operation::kRead, "sys/audit")->data["file/"]["options"]["file_path"], log);

  // Fail closed: when no device can write, requests are refused (500) and nothing is done.
  std::string log2 = log + ".2";
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/audit/second",
                 {{"type", "file"}, {"options", {{"file_path", log2}}}})
                  .ok());
  ASSERT_TRUE(Do(Operation::kDelete, "sys/audit/file").ok());
  ASSERT_TRUE(std::filesystem::remove(log2));
  ASSERT_TRUE(std::filesystem::create_directory(log2));  // reopening will fail
  EXPECT_FALSE(core_->ReopenAuditDevices().ok());
  auto refused = Do(Operation::kUpdate, "secret/k", {{"password", "changed"}});
  EXPECT_EQ(refused.status().code(), StatusCode::kInternal);
  EXPECT_EQ(refused.status().message(), "internal error");
  std::filesystem::remove(log2);  // writable again: the device reopens on the next entry
  auto after = Do(Operation::kRead, "secret/k");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->data["password"], "hunter2");
  std::filesystem::remove(log2);
  std::remove(log.c_str());
}

}  // namespace
}  // namespace vault::core
