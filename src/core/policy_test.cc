#include "core/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "logical/testing.h"

namespace vault::core {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The rules in the corpus' normalized shape: sorted by (path, prefix).
Json RulesJson(const Policy& p) {
  std::vector<PathRule> rules = p.rules;
  std::sort(rules.begin(), rules.end(), [](const PathRule& a, const PathRule& b) {
    return std::tie(a.path, a.is_prefix) < std::tie(b.path, b.is_prefix);
  });
  Json out = Json::array();
  for (const auto& r : rules) {
    out.push_back({{"path", r.path},
                   {"prefix", r.is_prefix},
                   {"capabilities", CapabilityNames(r.capabilities)}});
  }
  return out;
}

// Every corpus policy parses to the rules the pyhcl-based reference computed, and every
// error_ policy the reference rejects is rejected (syntax errors with a line and column).
TEST(PolicyCorpusTest, MatchesPyhclReference) {
  int compared = 0, rejected = 0;
  for (const auto& entry : std::filesystem::directory_iterator(POLICY_TESTDATA)) {
    if (entry.path().extension() != ".hcl") continue;
    SCOPED_TRACE(entry.path().filename().string());
    auto got = ParsePolicy("p", ReadFile(entry.path()));
    auto err = entry.path();
    err.replace_extension(".err");
    if (std::filesystem::exists(err)) {
      ASSERT_FALSE(got.ok()) << DumpJson(RulesJson(*got));
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
      if (ReadFile(err).rfind("syntax:", 0) == 0) {
        EXPECT_NE(got.status().message().find("At "), std::string::npos) << got.status().message();
      }
      ++rejected;
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    auto want_path = entry.path();
    want_path.replace_extension(".json");
    Json want = *ParseJson(ReadFile(want_path));
    EXPECT_EQ(RulesJson(*got), want) << DumpJson(RulesJson(*got));
    ++compared;
  }
  EXPECT_GE(compared, 20);
  EXPECT_GE(rejected, 9);
}

TEST(PolicyTest, SyntaxErrorsCarryLineAndColumn) {
  auto r = ParsePolicy("p", "path \"secret/*\" {\n  capabilities = [\"read\"\n}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("At 3:1"), std::string::npos) << r.status().message();
}

TEST(PolicyTest, CapabilityNamesAreSortedAndDenyIsAlone) {
  EXPECT_EQ(CapabilityNames(kCapUpdate | kCapRead | kCapSudo),
            (std::vector<std::string>{"read", "sudo", "update"}));
  EXPECT_EQ(CapabilityNames(kCapDeny | kCapRead), (std::vector<std::string>{"deny"}));
  EXPECT_TRUE(CapabilityNames(0).empty());
}

TEST(PolicyStoreTest, DefaultRootAndLifecycle) {
  logical::MemStorage storage;
  PolicyStore store(&storage);
  ASSERT_TRUE(SyncWait(store.Setup()).ok());
  EXPECT_EQ(*SyncWait(store.List()), (std::vector<std::string>{"default", "root"}));
  auto def = SyncWait(store.Get("default"));
  ASSERT_TRUE(def.ok() && *def);
  EXPECT_NE((*def)->raw.find("auth/token/lookup-self"), std::string::npos);

  ASSERT_TRUE(SyncWait(store.Put("Ops", "path \"secret/*\" { capabilities = [\"read\"] }")).ok());
  EXPECT_EQ(*SyncWait(store.List()), (std::vector<std::string>{"default", "ops", "root"}));
  EXPECT_EQ(SyncWait(store.Put("root", "")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SyncWait(store.Put("bad", "path {")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SyncWait(store.Delete("default")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SyncWait(store.Delete("root")).code(), StatusCode::kInvalidArgument);

  // The ACL cache follows policy changes.
  auto acl1 = *SyncWait(store.AclFor({"ops"}));
  EXPECT_EQ(acl1, *SyncWait(store.AclFor({"ops"})));
  ASSERT_TRUE(SyncWait(store.Put("ops", "path \"secret/*\" { capabilities = [\"list\"] }")).ok());
  auto acl2 = *SyncWait(store.AclFor({"ops"}));
  EXPECT_NE(acl1, acl2);
  ASSERT_TRUE(SyncWait(store.Delete("ops")).ok());
  EXPECT_FALSE(*SyncWait(store.Get("ops")));

  // A second store on the same storage (restart) sees the stored policies.
  PolicyStore again(&storage);
  ASSERT_TRUE(SyncWait(again.Setup()).ok());
  EXPECT_EQ(*SyncWait(again.List()), (std::vector<std::string>{"default", "root"}));
}

}  // namespace
}  // namespace vault::core
