#include "core/core.h"

#include <gtest/gtest.h>

#include "engines/kv/kv.h"
#include "storage/inmem.h"

namespace vault::core {
namespace {

using logical::Operation;

class CoreTest : public testing::Test {
 protected:
  void SetUp() override {
    EngineRegistry reg;
    reg["kv"] = [](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
      return engines::NewKvBackend(m);
    };
    core_ = std::make_unique<Core>(&physical_, reg, CoreConfig{}, &clock_);
    auto init = core_->Initialize(1, 1);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    key_ = init->keys[0];
    root_ = init->root_token;
    ASSERT_TRUE(core_->Sealed());
    ASSERT_TRUE(core_->Unseal(key_).ok());
  }
  Result<logical::Response> Do(Operation op, std::string path, Json data = Json::object(),
                               std::string token = "") {
    logical::Request r;
    r.operation = op;
    r.path = std::move(path);
    r.data = std::move(data);
    r.client_token = token.empty() ? root_ : token;
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

TEST_F(CoreTest, TokensAreCheckedAndStoredHashed) {
  EXPECT_EQ(Do(Operation::kRead, "secret/foo", {}, "not-a-token").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(root_.rfind("hvs.", 0) == 0);
  bool leaked = false;
  ASSERT_TRUE(physical_.Scan("", [&](std::string_view k, std::string_view v) {
    if (k.find(root_) != std::string_view::npos || v.find(root_) != std::string_view::npos)
      leaked = true;
    return true;
  }).ok());
  EXPECT_FALSE(leaked);
}

TEST_F(CoreTest, MountUnmountTuneRemount) {
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/kv2", {{"type", "generic"}, {"description", "d"}}).ok());
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
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/kv2/tune", {{"default_lease_ttl", "1h"}, {"max_lease_ttl", "2h"}}).ok());
  auto tune = Do(Operation::kRead, "sys/mounts/kv2/tune");
  ASSERT_TRUE(tune.ok());
  EXPECT_EQ(tune->data["default_lease_ttl"], 3600);
  EXPECT_EQ(tune->data["max_lease_ttl"], 7200);
  EXPECT_EQ(Do(Operation::kRead, "kv2/a")->lease_duration, 3600);
  EXPECT_EQ(Do(Operation::kUpdate, "sys/mounts/kv2/tune", {{"default_lease_ttl", "3h"}}).status().code(),
            StatusCode::kInvalidArgument);
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

TEST_F(CoreTest, SealBlocksAndUnsealRestoresState) {
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/custom", {{"type", "kv"}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "custom/k", {{"v", "1"}}).ok());
  EXPECT_EQ(core_->Seal("wrong").code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(core_->Seal(root_).ok());
  auto r = Do(Operation::kRead, "custom/k");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "Vault is sealed");
  ASSERT_TRUE(core_->Unseal(key_).ok());
  EXPECT_EQ(Do(Operation::kRead, "custom/k")->data["v"], "1");
}

TEST_F(CoreTest, UnknownRoutes) {
  auto r = Do(Operation::kRead, "nowhere/x");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "no handler for route \"nowhere/x\". route entry not found.");
  EXPECT_EQ(Do(Operation::kRead, "sys/nothing").status().message(), "unsupported path");
  EXPECT_EQ(Do(Operation::kDelete, "sys/mounts").status().code(), StatusCode::kUnsupportedOperation);
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

}  // namespace
}  // namespace vault::core
