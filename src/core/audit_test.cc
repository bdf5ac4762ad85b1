#include "core/audit.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/hash.h"
#include "logical/testing.h"
#include "util/encoding.h"

namespace vault::core {
namespace {

std::vector<Json> ReadLines(const std::string& path) {
  std::ifstream f(path);
  std::vector<Json> out;
  std::string line;
  while (std::getline(f, line)) {
    auto j = ParseJson(line);
    EXPECT_TRUE(j.ok()) << line;
    if (j.ok()) out.push_back(*j);
  }
  return out;
}

class AuditTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vault-audit-test-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    log_ = (dir_ / "audit.log").string();
    ASSERT_TRUE(SyncWait(broker_.Load()).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Status EnableFile(const std::string& path, Json options) {
    AuditDeviceEntry e;
    e.path = path;
    e.type = "file";
    e.options = std::move(options);
    return SyncWait(broker_.Enable(e));
  }

  std::filesystem::path dir_;
  std::string log_;
  logical::MemStorage storage_;
  FakeClock clock_;
  AuditBroker broker_{&storage_, &clock_};
};

TEST_F(AuditTest, NoDevicesNoAuditing) {
  logical::Request req;
  AuditRecord rec{"", &req, "kv", nullptr};
  EXPECT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  EXPECT_TRUE(rec.request_id.empty());
}

TEST_F(AuditTest, SecretsAreHmacedAndTheHashEndpointMatches) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  TokenEntry token;
  token.accessor = "acc123";
  token.policies = {"default", "app"};
  token.display_name = "token-app";
  logical::Request req;
  req.operation = logical::Operation::kUpdate;
  req.path = "secret/app/x";
  req.client_token = "hvs.supersecrettoken";
  req.data = {{"password", "hunter2"}, {"port", 5432}, {"nested", {{"k", "v"}}}};
  AuditRecord rec{"", &req, "kv", &token};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  logical::Response resp = logical::Response::WithData({{"password", "hunter2"}});
  resp.auth = {{"client_token", "hvs.minted"}, {"accessor", "acc2"}, {"policies", {"x"}}};
  ASSERT_TRUE(broker_.LogResponse(rec, Result<logical::Response>(resp)).ok());

  std::string text;
  {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  for (const char* secret : {"hunter2", "hvs.supersecrettoken", "hvs.minted", "acc123"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked: " << text;

  auto lines = ReadLines(log_);
  ASSERT_EQ(lines.size(), 2u);
  const Json& rq = lines[0];
  EXPECT_EQ(rq["type"], "request");
  EXPECT_EQ(rq["request"]["path"], "secret/app/x");
  EXPECT_EQ(rq["request"]["operation"], "update");
  EXPECT_EQ(rq["request"]["data"]["port"], 5432);  // numbers stay
  EXPECT_EQ(rq["auth"]["display_name"], "token-app");
  EXPECT_EQ(rq["request"]["id"], lines[1]["request"]["id"]);
  EXPECT_FALSE(rec.request_id.empty());
  auto hash = broker_.Hash("file", "hunter2");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("hmac-sha256:", 0), 0u);
  EXPECT_EQ(rq["request"]["data"]["password"], *hash);
  EXPECT_EQ(rq["request"]["data"]["nested"]["k"], *broker_.Hash("file/", "v"));
  EXPECT_EQ(rq["request"]["client_token"], *broker_.Hash("file", "hvs.supersecrettoken"));
  EXPECT_EQ(lines[1]["type"], "response");
  EXPECT_EQ(lines[1]["response"]["data"]["password"], *hash);
  EXPECT_EQ(lines[1]["response"]["auth"]["client_token"], *broker_.Hash("file", "hvs.minted"));
  EXPECT_EQ(broker_.Hash("nope", "x").status().code(), StatusCode::kInvalidArgument);
}

// A KV read over HTTP hands its data over serialized (Response::data_json): the device still
// records it, hashed like parsed data, and the secret never reaches the log.
TEST_F(AuditTest, SerializedResponseDataIsHashedToo) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  logical::Request req;
  req.path = "secret/app/x";
  req.accepts_data_json = true;
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  logical::Response resp;
  resp.data_json = R"({"password":"hunter2","port":5432})";
  ASSERT_TRUE(broker_.LogResponse(rec, Result<logical::Response>(resp)).ok());
  auto lines = ReadLines(log_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["response"]["data"]["password"], *broker_.Hash("file", "hunter2"));
  EXPECT_EQ(lines[1]["response"]["data"]["port"], 5432);
  std::ifstream f(log_);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str().find("hunter2"), std::string::npos);
}

TEST_F(AuditTest, EachDeviceHasItsOwnKeyAndLogRawSkipsHashing) {
  ASSERT_TRUE(EnableFile("a", {{"file_path", log_}}).ok());
  ASSERT_TRUE(EnableFile("b", {{"path", (dir_ / "b.log").string()}}).ok());  // 2015 option name
  ASSERT_TRUE(
      EnableFile("raw", {{"file_path", (dir_ / "raw.log").string()}, {"log_raw", "true"}}).ok());
  EXPECT_NE(*broker_.Hash("a", "x"), *broker_.Hash("b", "x"));
  logical::Request req;
  req.data = {{"k", "plain"}};
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  EXPECT_EQ(ReadLines((dir_ / "raw.log").string())[0]["request"]["data"]["k"], "plain");
  EXPECT_EQ(ReadLines((dir_ / "b.log").string())[0]["request"]["data"]["k"],
            *broker_.Hash("b", "plain"));
  EXPECT_EQ(broker_.List().size(), 3u);
}

TEST_F(AuditTest, EnableValidates) {
  EXPECT_EQ(EnableFile("f", Json::object()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnableFile("f", {{"file_path", "/nonexistent-dir/x/audit.log"}}).code(),
            StatusCode::kInvalidArgument);
  AuditDeviceEntry e;
  e.path = "s";
  e.type = "syslog";
  EXPECT_EQ(SyncWait(broker_.Enable(e)).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(EnableFile("f", {{"file_path", log_}}).ok());
  EXPECT_EQ(EnableFile("f/", {{"file_path", log_}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(broker_.List().size() == 1);
}

TEST_F(AuditTest, FailsClosedWhenNoDeviceCanWrite) {
  ASSERT_TRUE(EnableFile("full", {{"file_path", "/dev/full"}}).ok());
  logical::Request req;
  AuditRecord rec{"", &req, "kv", nullptr};
  EXPECT_EQ(broker_.LogRequest(rec, Status::Ok()).code(), StatusCode::kInternal);
  // One working device is enough.
  ASSERT_TRUE(EnableFile("ok", {{"file_path", log_}}).ok());
  EXPECT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  ASSERT_TRUE(SyncWait(broker_.Disable("ok")).ok());
  EXPECT_EQ(broker_.LogResponse(rec, Result<logical::Response>(logical::Response())).code(),
            StatusCode::kInternal);
}

TEST_F(AuditTest, ReopenAfterRotationLosesNoLine) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  logical::Request req;
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  std::filesystem::rename(log_, log_ + ".1");
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());  // still goes to the renamed file
  ASSERT_TRUE(broker_.Reopen().ok());
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  EXPECT_EQ(ReadLines(log_ + ".1").size(), 2u);
  EXPECT_EQ(ReadLines(log_).size(), 1u);
}

TEST_F(AuditTest, TheTableAndSaltsSurviveARestart) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  std::string before = *broker_.Hash("file", "x");
  AuditBroker again(&storage_, &clock_);
  ASSERT_TRUE(SyncWait(again.Load()).ok());
  ASSERT_EQ(again.List().size(), 1u);
  EXPECT_EQ(*again.Hash("file", "x"), before);
  ASSERT_TRUE(SyncWait(again.Disable("file")).ok());
  AuditBroker third(&storage_, &clock_);
  ASSERT_TRUE(SyncWait(third.Load()).ok());
  EXPECT_TRUE(third.List().empty());
}

}  // namespace
}  // namespace vault::core
