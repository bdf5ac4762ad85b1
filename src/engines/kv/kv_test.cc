#include "engines/kv/kv.h"

#include <gtest/gtest.h>

#include "logical/testing.h"

namespace vault::engines {
namespace {

using logical::Operation;

class KvTest : public testing::Test {
 protected:
  Result<logical::Response> Do(Operation op, std::string path, Json data = Json::object()) {
    logical::Request r;
    r.operation = op;
    r.path = std::move(path);
    r.data = std::move(data);
    r.storage = &storage_;
    r.mount.default_lease_ttl = 2764800;
    return backend_->HandleRequest(r);
  }
  logical::MemStorage storage_;
  std::shared_ptr<logical::Backend> backend_ = NewKvBackend({});
};

TEST_F(KvTest, WriteReadListDelete) {
  ASSERT_TRUE(Do(Operation::kUpdate, "app/db", {{"password", "s3cr3t"}, {"n", 1}}).ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "app/sub/x", {{"a", "b"}}).ok());
  auto r = Do(Operation::kRead, "app/db");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data["password"], "s3cr3t");
  EXPECT_EQ(r->data["n"], 1);
  EXPECT_EQ(r->lease_duration, 2764800);
  auto l = Do(Operation::kList, "app/");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->data["keys"], Json({"db", "sub/"}));
  ASSERT_TRUE(Do(Operation::kDelete, "app/db").ok());
  EXPECT_TRUE(Do(Operation::kRead, "app/db")->Empty());
  EXPECT_TRUE(Do(Operation::kList, "nothing/")->Empty());
}

TEST_F(KvTest, TtlHintBecomesLeaseDuration) {
  ASSERT_TRUE(Do(Operation::kUpdate, "t", {{"v", "x"}, {"ttl", "1h"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "t")->lease_duration, 3600);
  ASSERT_TRUE(Do(Operation::kUpdate, "l", {{"v", "x"}, {"lease", "30m"}}).ok());
  EXPECT_EQ(Do(Operation::kRead, "l")->lease_duration, 1800);
  EXPECT_EQ(Do(Operation::kRead, "l")->data["lease"], "30m");  // stored verbatim
}

// A caller that renders JSON gets the stored document as text, byte for byte what DumpJson of
// the parsed data prints; a document with a TTL hint is parsed, since the hint needs reading.
TEST_F(KvTest, ReadHandsOverTheStoredTextWhenTheCallerTakesIt) {
  Json doc = {{"password", "p\"w\u00e9\n"},
              {"n", 1.5},
              {"big", 12345678901234LL},
              {"nested", {{"k", Json::array({1, "x", nullptr})}}}};
  ASSERT_TRUE(Do(Operation::kUpdate, "doc", doc).ok());
  logical::Request r;
  r.operation = Operation::kRead;
  r.path = "doc";
  r.storage = &storage_;
  r.mount.default_lease_ttl = 60;
  r.accepts_data_json = true;
  auto raw = backend_->HandleRequest(r);
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(raw->data.is_null());
  EXPECT_EQ(raw->data_json, DumpJson(doc));
  EXPECT_EQ(raw->data_json, DumpJson(Do(Operation::kRead, "doc")->data));  // the parsed path
  EXPECT_EQ(raw->lease_duration, 60);
  EXPECT_FALSE(raw->Empty());

  ASSERT_TRUE(Do(Operation::kUpdate, "hinted", {{"v", "x"}, {"ttl", "1h"}}).ok());
  r.path = "hinted";
  auto hinted = backend_->HandleRequest(r);
  ASSERT_TRUE(hinted.ok());
  EXPECT_TRUE(hinted->data_json.empty());
  EXPECT_EQ(hinted->data["v"], "x");
  EXPECT_EQ(hinted->lease_duration, 3600);

  r.path = "absent";
  EXPECT_TRUE(backend_->HandleRequest(r)->Empty());
}

TEST_F(KvTest, BadWritesChangeNothing) {
  EXPECT_EQ(Do(Operation::kUpdate, "e", Json::object()).status().message(), "missing data fields");
  EXPECT_EQ(Do(Operation::kUpdate, "e", {{"ttl", "soon"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(storage_.size(), 0u);
}

TEST_F(KvTest, ExistenceCheck) {
  logical::Request r;
  r.operation = Operation::kUpdate;
  r.path = "x";
  r.storage = &storage_;
  EXPECT_EQ(*SyncWait(backend_->ExistenceCheck(r)), std::optional<bool>(false));
  ASSERT_TRUE(Do(Operation::kUpdate, "x", {{"a", "b"}}).ok());
  EXPECT_EQ(*SyncWait(backend_->ExistenceCheck(r)), std::optional<bool>(true));
}

}  // namespace
}  // namespace vault::engines
