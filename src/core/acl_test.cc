#include "core/acl.h"

#include <gtest/gtest.h>

#include <chrono>

namespace vault::core {
namespace {

using logical::Operation;

std::shared_ptr<const Policy> P(const std::string& text) {
  auto p = ParsePolicy("p", text);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::make_shared<const Policy>(std::move(p).value());
}

Acl Make(const std::vector<std::string>& texts) {
  std::vector<std::shared_ptr<const Policy>> ps;
  for (const auto& t : texts) ps.push_back(P(t));
  return Acl(ps, false);
}

TEST(AclTest, TheDoneWhenPolicy) {
  Acl acl = Make({"path \"secret/app/*\" { capabilities = [\"read\"] }"});
  EXPECT_TRUE(acl.Allowed(Operation::kRead, "secret/app/x", false));
  EXPECT_TRUE(acl.Allowed(Operation::kRead, "secret/app/deep/er", false));
  EXPECT_FALSE(acl.Allowed(Operation::kUpdate, "secret/app/x", false));
  EXPECT_FALSE(acl.Allowed(Operation::kCreate, "secret/app/x", false));
  EXPECT_FALSE(acl.Allowed(Operation::kRead, "secret/other", false));
  EXPECT_FALSE(acl.Allowed(Operation::kRead, "secret/app", false));
  EXPECT_FALSE(acl.Allowed(Operation::kRead, "sys/mounts", false));
  EXPECT_TRUE(acl.Allowed(Operation::kHelp, "anything", false));
}

TEST(AclTest, ExactBeatsGlobAndLongerGlobWins) {
  Acl acl = Make({R"(
    path "secret/*"      { capabilities = ["read"] }
    path "secret/a/*"    { capabilities = ["list"] }
    path "secret/a/b"    { capabilities = ["update"] }
  )"});
  EXPECT_EQ(acl.Capabilities("secret/x"), kCapRead);
  EXPECT_EQ(acl.Capabilities("secret/a/x"), kCapList);
  EXPECT_EQ(acl.Capabilities("secret/a/b"), kCapUpdate);
  EXPECT_EQ(acl.Capabilities("secret/a/bc"), kCapList);
  EXPECT_EQ(acl.Capabilities("secre"), 0u);
}

TEST(AclTest, DenyWinsAcrossPoliciesOnTheSamePath) {
  Acl acl = Make({"path \"secret/x\" { capabilities = [\"read\", \"update\"] }",
                  "path \"secret/x\" { capabilities = [\"deny\"] }",
                  "path \"secret/y\" { capabilities = [\"read\"] }",
                  "path \"secret/y\" { capabilities = [\"update\"] }"});
  EXPECT_FALSE(acl.Allowed(Operation::kRead, "secret/x", false));
  EXPECT_EQ(acl.Capabilities("secret/x"), kCapDeny);
  EXPECT_EQ(acl.Capabilities("secret/y"), kCapRead | kCapUpdate);
}

TEST(AclTest, DenyOnAMoreSpecificPathOnly) {
  Acl acl = Make({R"(
    path "secret/*" { capabilities = ["read"] }
    path "secret/super-secret" { capabilities = ["deny"] }
  )"});
  EXPECT_TRUE(acl.Allowed(Operation::kRead, "secret/normal", false));
  EXPECT_FALSE(acl.Allowed(Operation::kRead, "secret/super-secret", false));
}

TEST(AclTest, SegmentWildcards) {
  Acl acl = Make({R"(
    path "secret/+/config"  { capabilities = ["read"] }
    path "secret/+/+/x"     { capabilities = ["list"] }
    path "+/db/*"           { capabilities = ["update"] }
  )"});
  EXPECT_EQ(acl.Capabilities("secret/app/config"), kCapRead);
  EXPECT_EQ(acl.Capabilities("secret/app/configx"), 0u);
  EXPECT_EQ(acl.Capabilities("secret/a/b/config"), 0u);
  EXPECT_EQ(acl.Capabilities("secret/a/b/x"), kCapList);
  EXPECT_EQ(acl.Capabilities("kv/db/anything/else"), kCapUpdate);
  EXPECT_EQ(acl.Capabilities("kv/dbx"), 0u);
}

// vault/acl.go CheckAllowedFromNonExactPaths ordering.
TEST(AclTest, NonExactPrecedence) {
  // The first wildcard/glob later in the pattern wins: "secret/app/*" (glob at 11) beats
  // "secret/+/config" ('+' at 7).
  Acl a = Make({R"(
    path "secret/+/config" { capabilities = ["read"] }
    path "secret/app/*"    { capabilities = ["list"] }
  )"});
  EXPECT_EQ(a.Capabilities("secret/app/config"), kCapList);
  // Same first-wildcard position: non-prefix beats prefix.
  Acl b = Make({R"(
    path "secret/+/config"  { capabilities = ["read"] }
    path "secret/+/config*" { capabilities = ["list"] }
  )"});
  EXPECT_EQ(b.Capabilities("secret/a/config"), kCapRead);
  EXPECT_EQ(b.Capabilities("secret/a/configs"), kCapList);
  // Same position and kind: fewer '+' segments win.
  Acl c = Make({R"(
    path "secret/+/x/y" { capabilities = ["read"] }
    path "secret/+/+/y" { capabilities = ["list"] }
  )"});
  EXPECT_EQ(c.Capabilities("secret/a/x/y"), kCapRead);
  // Then the longer pattern.
  Acl d = Make({R"(
    path "secret/+/x*"  { capabilities = ["read"] }
    path "secret/+/xy*" { capabilities = ["list"] }
  )"});
  EXPECT_EQ(d.Capabilities("secret/a/xyz"), kCapList);
}

TEST(AclTest, ListTriesThePathWithoutTrailingSlash) {
  Acl acl = Make({"path \"secret/app\" { capabilities = [\"list\"] }"});
  EXPECT_TRUE(acl.Allowed(Operation::kList, "secret/app/", false));
  EXPECT_FALSE(acl.Allowed(Operation::kRead, "secret/app/", false));
}

TEST(AclTest, SudoAndRoot) {
  Acl acl = Make({R"(
    path "sys/mounts/*" { capabilities = ["update"] }
    path "sys/audit/*"  { capabilities = ["update", "sudo"] }
  )"});
  EXPECT_TRUE(acl.Allowed(Operation::kUpdate, "sys/mounts/x", false));
  EXPECT_FALSE(acl.Allowed(Operation::kUpdate, "sys/mounts/x", true));
  EXPECT_TRUE(acl.Allowed(Operation::kUpdate, "sys/audit/file", true));
  Acl root({}, true);
  EXPECT_TRUE(root.root());
  EXPECT_TRUE(root.Allowed(Operation::kDelete, "sys/mounts/secret", true));
}

TEST(AclTest, LegacyPolicies) {
  Acl acl = Make({R"(
    path "secret/r/*" { policy = "read" }
    path "secret/w/*" { policy = "write" }
    path "secret/d/*" { policy = "deny" }
  )"});
  EXPECT_TRUE(acl.Allowed(Operation::kList, "secret/r/", false));
  EXPECT_FALSE(acl.Allowed(Operation::kUpdate, "secret/r/x", false));
  EXPECT_TRUE(acl.Allowed(Operation::kCreate, "secret/w/x", false));
  EXPECT_TRUE(acl.Allowed(Operation::kDelete, "secret/w/x", false));
  EXPECT_FALSE(acl.Allowed(Operation::kRead, "secret/d/x", false));
}

TEST(AclTest, RootPathGlobs) {
  std::vector<std::string> roots = {"config/root", "revoke-prefix/*", "accessors*"};
  EXPECT_TRUE(MatchesAnyGlob(roots, "config/root"));
  EXPECT_FALSE(MatchesAnyGlob(roots, "config/rootx"));
  EXPECT_TRUE(MatchesAnyGlob(roots, "revoke-prefix/aws/creds"));
  EXPECT_FALSE(MatchesAnyGlob(roots, "revoke-prefix"));
  EXPECT_TRUE(MatchesAnyGlob(roots, "accessors/"));
}

// Pathological policies (thousands of globs, '+' at every level, a very long path) are answered
// quickly and without deep recursion: the walk follows the tree, it never scans the rules.
TEST(AclTest, PathologicalPoliciesStayFast) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "path \"secret/" + std::string(i % 50, 'a') + std::to_string(i) +
            "*\" { capabilities = [\"read\"] }\n";
  }
  std::string plus = "secret";
  for (int i = 0; i < 30; ++i) {
    plus += "/+";
    text += "path \"" + plus + "\" { capabilities = [\"list\"] }\n";
    text += "path \"" + plus + "/*\" { capabilities = [\"list\"] }\n";
  }
  Acl acl = Make({text});
  std::string long_path = "secret";
  for (int i = 0; i < 20000; ++i) long_path += "/x";
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(acl.Capabilities("secret/" + std::string(10, 'a') + "10"), kCapRead);
    EXPECT_EQ(acl.Capabilities("secret/a/b/c"), kCapList);
  }
  uint32_t caps = acl.Capabilities(long_path);
  EXPECT_EQ(caps, kCapList);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_LT(us, 500000) << "2000 lookups took " << us << "us";
}

}  // namespace
}  // namespace vault::core
