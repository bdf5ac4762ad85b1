// KV version 2: versions, check-and-set, soft delete, undelete, destroy, metadata, trimming,
// delete_version_after (on a fake clock), subkeys, config, the in-place upgrade from version 1
// and Vault's answers for paths a version 2 mount does not serve.
#include <gtest/gtest.h>

#include <thread>

#include "engines/kv/kv.h"
#include "logical/testing.h"

namespace vault::engines {
namespace {

using logical::Operation;

class KvV2Test : public testing::Test {
 protected:
  KvV2Test() {
    mount_.path = "kv2/";
    mount_.type = "kv";
    mount_.uuid = "u-1";
    mount_.options = {{"version", "2"}};
    backend_ = NewKvBackend(mount_, &clock_);
  }
  Result<logical::Response> Do(Operation op, std::string path, Json data = Json::object()) {
    logical::Request r;
    r.operation = op;
    r.path = std::move(path);
    r.data = std::move(data);
    r.storage = &storage_;
    r.mount = mount_;
    return backend_->HandleRequest(r);
  }
  Json Put(const std::string& key, Json data, Json options = Json::object()) {
    auto r = Do(Operation::kUpdate, "data/" + key, {{"data", data}, {"options", options}});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->data : Json();
  }
  FakeClock clock_;
  logical::MountInfo mount_;
  logical::MemStorage storage_;
  std::shared_ptr<logical::Backend> backend_;
};

TEST_F(KvV2Test, WritesVersionsAndReadsAnyOfThem) {
  Json w1 = Put("app/db", {{"user", "svc"}, {"pass", "one"}});
  EXPECT_EQ(w1["version"], 1);
  EXPECT_EQ(w1["destroyed"], false);
  EXPECT_EQ(w1["deletion_time"], "");
  EXPECT_EQ(w1["custom_metadata"], nullptr);
  EXPECT_EQ(w1["created_time"], "2023-11-14T22:13:20Z");
  clock_.AdvanceSeconds(1);
  EXPECT_EQ(Put("app/db", {{"user", "svc"}, {"pass", "two"}})["version"], 2);

  auto latest = Do(Operation::kRead, "data/app/db");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->http_status, 0);
  EXPECT_EQ(latest->data["data"], Json({{"user", "svc"}, {"pass", "two"}}));
  EXPECT_EQ(latest->data["metadata"]["version"], 2);
  EXPECT_EQ(latest->data["metadata"]["created_time"], "2023-11-14T22:13:21Z");
  auto first = Do(Operation::kRead, "data/app/db", {{"version", "1"}});
  EXPECT_EQ(first->data["data"]["pass"], "one");
  // Never written, and no such key: 404 without a body.
  auto none = Do(Operation::kRead, "data/app/db", {{"version", "3"}});
  EXPECT_TRUE(none->Empty());
  EXPECT_EQ(none->http_status, 404);
  EXPECT_TRUE(Do(Operation::kRead, "data/nothing")->Empty());
}

TEST_F(KvV2Test, TheHttpLayerGetsTheStoredTextSpliced) {
  Put("k", {{"a", 1}, {"b", {{"c", "d"}}}});
  logical::Request r;
  r.operation = Operation::kRead;
  r.path = "data/k";
  r.storage = &storage_;
  r.mount = mount_;
  r.accepts_data_json = true;
  auto resp = backend_->HandleRequest(r);
  ASSERT_TRUE(resp.ok());
  auto parsed = ParseJson(resp->data_json);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)["data"], Json({{"a", 1}, {"b", {{"c", "d"}}}}));
  EXPECT_EQ((*parsed)["metadata"]["version"], 1);
}

TEST_F(KvV2Test, CheckAndSet) {
  Put("k", {{"v", 1}}, {{"cas", 0}});
  auto again = Do(Operation::kUpdate, "data/k", {{"data", {{"v", 2}}}, {"options", {{"cas", 0}}}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), "check-and-set parameter did not match the current version");
  EXPECT_EQ(Put("k", {{"v", 2}}, {{"cas", "1"}})["version"], 2);
  auto bad = Do(Operation::kUpdate, "data/k", {{"data", {{"v", 3}}}, {"options", {{"cas", "x"}}}});
  EXPECT_EQ(bad.status().message(), "error parsing check-and-set parameter");

  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"cas_required", true}}).ok());
  auto missing = Do(Operation::kUpdate, "data/k", {{"data", {{"v", 3}}}});
  EXPECT_EQ(missing.status().message(), "check-and-set parameter required for this call");
  EXPECT_EQ(Put("k", {{"v", 3}}, {{"cas", 2}})["version"], 3);
  // The key's own setting, and the warning when it would lift the mount's.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"cas_required", false}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/k", {{"cas_required", true}}).ok());
  EXPECT_FALSE(Do(Operation::kUpdate, "data/k", {{"data", {{"v", 4}}}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"cas_required", true}}).ok());
  auto warn = Do(Operation::kUpdate, "metadata/k", {{"cas_required", false}});
  ASSERT_TRUE(warn.ok());
  ASSERT_EQ(warn->warnings.size(), 1u);
  EXPECT_NE(warn->warnings[0].find("mandated by backend config"), std::string::npos);
}

TEST_F(KvV2Test, ConcurrentCheckAndSetWritersNeverBothSucceed) {
  Put("race", {{"v", 0}});
  for (int round = 0; round < 20; ++round) {
    int64_t current = round + 1;
    std::atomic<int> won{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        auto r = Do(Operation::kUpdate, "data/race",
                    {{"data", {{"v", w}}}, {"options", {{"cas", current}}}});
        if (r.ok()) ++won;
      });
    }
    for (auto& t : writers) t.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
  }
  EXPECT_EQ(Do(Operation::kRead, "data/race")->data["metadata"]["version"], 21);
}

TEST_F(KvV2Test, SoftDeleteUndeleteDestroy) {
  Put("k", {{"v", 1}});
  Put("k", {{"v", 2}});
  clock_.AdvanceSeconds(5);
  ASSERT_TRUE(Do(Operation::kDelete, "data/k").ok());
  auto deleted = Do(Operation::kRead, "data/k");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->http_status, 404);  // with the version's metadata
  EXPECT_EQ(deleted->data["data"], nullptr);
  EXPECT_EQ(deleted->data["metadata"]["version"], 2);
  EXPECT_EQ(deleted->data["metadata"]["deletion_time"], "2023-11-14T22:13:25Z");
  EXPECT_EQ(Do(Operation::kRead, "data/k", {{"version", 1}})->data["data"]["v"], 1);

  auto none = Do(Operation::kUpdate, "undelete/k", Json::object());
  EXPECT_EQ(none.status().message(), "No version number provided");
  ASSERT_TRUE(Do(Operation::kUpdate, "undelete/k", {{"versions", {2}}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "data/k")->data["data"]["v"], 2);

  ASSERT_TRUE(Do(Operation::kUpdate, "delete/k", {{"versions", "1,2"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "data/k", {{"version", 1}})->http_status, 404);
  EXPECT_EQ(Do(Operation::kUpdate, "destroy/k", Json::object()).status().message(),
            "no version number provided");
  ASSERT_TRUE(Do(Operation::kUpdate, "destroy/k", {{"versions", {"1"}}}).ok());
  auto destroyed = Do(Operation::kRead, "data/k", {{"version", 1}});
  EXPECT_EQ(destroyed->http_status, 404);
  EXPECT_EQ(destroyed->data["metadata"]["destroyed"], true);
  // A destroyed version's data is gone from storage, and it cannot be undeleted.
  auto raw = storage_.GetNow("u-1/versions/k/@1");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ((*raw)->find("\"v\""), std::string::npos);
  ASSERT_TRUE(Do(Operation::kUpdate, "undelete/k", {{"versions", {1}}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "data/k", {{"version", 1}})->data["metadata"]["destroyed"], true);

  auto meta = Do(Operation::kRead, "metadata/k");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->data["versions"]["1"]["destroyed"], true);
  EXPECT_EQ(meta->data["versions"]["2"]["deletion_time"], "2023-11-14T22:13:25Z");
  EXPECT_EQ(meta->data["current_version"], 2);
}

TEST_F(KvV2Test, MaxVersionsTrimsTheOldest) {
  for (int i = 1; i <= 12; ++i) Put("k", {{"v", i}});
  auto meta = Do(Operation::kRead, "metadata/k");
  EXPECT_EQ(meta->data["current_version"], 12);
  EXPECT_EQ(meta->data["oldest_version"], 3);  // the default keeps 10
  EXPECT_EQ(meta->data["versions"].size(), 10u);
  EXPECT_FALSE(meta->data["versions"].contains("2"));
  EXPECT_TRUE(Do(Operation::kRead, "data/k", {{"version", 2}})->Empty());
  EXPECT_FALSE(storage_.GetNow("u-1/versions/k/@2")->has_value());

  // The larger of the key's and the mount's limit applies.
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/k", {{"max_versions", 2}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"max_versions", 3}}).ok());
  Put("k", {{"v", 13}});
  meta = Do(Operation::kRead, "metadata/k");
  EXPECT_EQ(meta->data["oldest_version"], 11);
  EXPECT_EQ(meta->data["versions"].size(), 3u);
  EXPECT_EQ(meta->data["max_versions"], 2);
  EXPECT_FALSE(storage_.GetNow("u-1/versions/k/@10")->has_value());
  EXPECT_FALSE(storage_.GetNow("u-1/versions/k/@3")->has_value());
}

TEST_F(KvV2Test, OldestVersionStaysZeroUntilTheLimitIsReached) {
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/k", {{"max_versions", 3}}).ok());
  Put("k", {{"v", 1}});
  Put("k", {{"v", 2}});
  EXPECT_EQ(Do(Operation::kRead, "metadata/k")->data["oldest_version"], 0);
  Put("k", {{"v", 3}});
  EXPECT_EQ(Do(Operation::kRead, "metadata/k")->data["oldest_version"], 1);
  Put("k", {{"v", 4}});
  EXPECT_EQ(Do(Operation::kRead, "metadata/k")->data["oldest_version"], 2);
}

TEST_F(KvV2Test, DeleteVersionAfterDeletesOnTime) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"delete_version_after", "1h"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "config")->data["delete_version_after"], "1h0m0s");
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/k", {{"delete_version_after", "10m"}}).ok());
  Json w = Put("k", {{"v", 1}});
  EXPECT_EQ(w["deletion_time"], "2023-11-14T22:23:20Z");  // the shorter of the two
  clock_.AdvanceSeconds(599);
  EXPECT_EQ(Do(Operation::kRead, "data/k")->data["data"]["v"], 1);
  clock_.AdvanceSeconds(1);
  EXPECT_EQ(Do(Operation::kRead, "data/k")->http_status, 404);
  // Undelete counts again from now.
  ASSERT_TRUE(Do(Operation::kUpdate, "undelete/k", {{"versions", {1}}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "data/k")->data["metadata"]["deletion_time"],
            "2023-11-14T22:33:20Z");
  // A negative mount value disables it for every key.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", {{"delete_version_after", -1}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "config")->data["delete_version_after"], "-1s");
  EXPECT_EQ(Put("k", {{"v", 2}})["deletion_time"], "");
  EXPECT_FALSE(Do(Operation::kUpdate, "metadata/k", {{"delete_version_after", "-5s"}}).ok());
}

TEST_F(KvV2Test, PatchMergesIntoTheLatestVersion) {
  auto missing = Do(Operation::kPatch, "data/k", {{"data", {{"a", 1}}}});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->http_status, 404);
  Put("k", {{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}, {"e", 4}});
  auto p = Do(Operation::kPatch, "data/k",
              {{"data", {{"a", 10}, {"b", {{"d", nullptr}}}, {"e", nullptr}}}});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->data["version"], 2);
  EXPECT_EQ(Do(Operation::kRead, "data/k")->data["data"], Json({{"a", 10}, {"b", {{"c", 2}}}}));
  auto stale = Do(Operation::kPatch, "data/k", {{"data", {{"a", 0}}}, {"options", {{"cas", 1}}}});
  EXPECT_FALSE(stale.ok());
  ASSERT_TRUE(Do(Operation::kDelete, "data/k").ok());
  auto on_deleted = Do(Operation::kPatch, "data/k", {{"data", {{"a", 0}}}});
  EXPECT_EQ(on_deleted->http_status, 404);
  EXPECT_EQ(on_deleted->data["version"], 2);
}

TEST_F(KvV2Test, MetadataWriteListPatchAndDeleteAll) {
  // None of the fields: nothing is created.
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/empty", Json::object()).ok());
  EXPECT_TRUE(Do(Operation::kRead, "metadata/empty")->Empty());

  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/app/a",
                 {{"custom_metadata", {{"team", "core"}, {"n", 5}}}, {"max_versions", "4"}})
                  .ok());
  Put("app/a", {{"v", 1}});
  Put("app/sub/b", {{"v", 1}});
  auto read = Do(Operation::kRead, "data/app/a");
  EXPECT_EQ(read->data["metadata"]["custom_metadata"], Json({{"n", "5"}, {"team", "core"}}));
  auto list = Do(Operation::kList, "metadata/app/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->data["keys"], Json({"a", "sub/"}));
  EXPECT_EQ(Do(Operation::kList, "metadata/")->data["keys"], Json({"app/"}));
  EXPECT_TRUE(Do(Operation::kList, "metadata/none/")->Empty());

  ASSERT_TRUE(Do(Operation::kPatch, "metadata/app/a",
                 {{"custom_metadata", {{"team", nullptr}, {"owner", "ops"}}}})
                  .ok());
  auto meta = Do(Operation::kRead, "metadata/app/a");
  EXPECT_EQ(meta->data["custom_metadata"], Json({{"n", "5"}, {"owner", "ops"}}));
  EXPECT_EQ(meta->data["max_versions"], 4);
  EXPECT_EQ(Do(Operation::kPatch, "metadata/none", {{"max_versions", 1}})->http_status, 404);

  auto bad = Do(Operation::kUpdate, "metadata/app/a", {{"custom_metadata", {{"k", ""}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "custom_metadata validation failed: length of value for key \"k\" is 0 but must be "
            "0 < len(value) <= 512");

  ASSERT_TRUE(Do(Operation::kDelete, "metadata/app/a").ok());
  EXPECT_TRUE(Do(Operation::kRead, "metadata/app/a")->Empty());
  EXPECT_TRUE(Do(Operation::kRead, "data/app/a")->Empty());
  EXPECT_FALSE(storage_.GetNow("u-1/versions/app/a/@1")->has_value());
  EXPECT_EQ(Do(Operation::kList, "metadata/app/")->data["keys"], Json({"sub/"}));
}

TEST_F(KvV2Test, Subkeys) {
  Put("k", {{"a", 1}, {"b", {{"c", {{"d", 1}}}, {"e", Json::object()}}}});
  auto all = Do(Operation::kRead, "subkeys/k");
  EXPECT_EQ(all->data["subkeys"],
            Json({{"a", nullptr}, {"b", {{"c", {{"d", nullptr}}}, {"e", nullptr}}}}));
  auto one = Do(Operation::kRead, "subkeys/k", {{"depth", "1"}});
  EXPECT_EQ(one->data["subkeys"], Json({{"a", nullptr}, {"b", nullptr}}));
  EXPECT_EQ(one->data["metadata"]["version"], 1);
}

TEST_F(KvV2Test, PathsAVersion2MountDoesNotServe) {
  auto v1 = Do(Operation::kUpdate, "app/db", {{"k", "v"}});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->http_status, 404);
  ASSERT_EQ(v1->warnings.size(), 1u);
  EXPECT_NE(v1->warnings[0].find("use 'vault kv put' for this operation"), std::string::npos);
  EXPECT_NE(Do(Operation::kRead, "app/db")->warnings[0].find("'vault kv get'"), std::string::npos);
  auto root = Do(Operation::kRead, "data");
  EXPECT_EQ(root->http_status, 404);
  EXPECT_EQ(root->warnings[0],
            "Non-listing operations on the root of a K/V v2 mount are not supported.");
  EXPECT_EQ(Do(Operation::kUpdate, "data/k", {{"options", Json::object()}}).status().message(),
            "no data provided");
  EXPECT_EQ(Do(Operation::kList, "data/").status().code(), StatusCode::kOk);
  EXPECT_EQ(Do(Operation::kRead, "metadata/k/", Json::object())->http_status, 404);
}

TEST_F(KvV2Test, ExistenceIsTheKeysMetadata) {
  logical::Request r;
  r.operation = Operation::kUpdate;
  r.path = "data/k";
  r.storage = &storage_;
  r.mount = mount_;
  auto before = SyncWait(backend_->ExistenceCheck(r));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, std::optional<bool>(false));
  Put("k", {{"v", 1}});
  EXPECT_EQ(*SyncWait(backend_->ExistenceCheck(r)), std::optional<bool>(true));
}

TEST_F(KvV2Test, UpgradesVersion1EntriesInPlace) {
  // What a version 1 mount left in the same storage view.
  ASSERT_TRUE(storage_.PutNow("app/db", R"({"password":"s3cr3t"})").ok());
  ASSERT_TRUE(storage_.PutNow("top", R"({"a":"b"})").ok());
  auto read = Do(Operation::kRead, "data/app/db");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->data["data"], Json({{"password", "s3cr3t"}}));
  EXPECT_EQ(read->data["metadata"]["version"], 1);
  EXPECT_EQ(Do(Operation::kRead, "data/top")->data["data"]["a"], "b");
  EXPECT_FALSE(storage_.GetNow("app/db")->has_value());  // moved, not copied
  EXPECT_EQ(Do(Operation::kList, "metadata/")->data["keys"], Json({"app/", "top"}));
  // A second engine on the same storage finds the upgrade done.
  auto again = NewKvBackend(mount_, &clock_);
  logical::Request r;
  r.operation = Operation::kRead;
  r.path = "data/top";
  r.storage = &storage_;
  r.mount = mount_;
  EXPECT_EQ(again->HandleRequest(r)->data["metadata"]["version"], 1);
}

}  // namespace
}  // namespace vault::engines
