#include "engines/aws/role.h"

#include <gtest/gtest.h>

namespace vault::engines::awsengine {
namespace {

TEST(Role, UserPathRule) {
  EXPECT_TRUE(ValidUserPath("/"));
  EXPECT_TRUE(ValidUserPath("/vault/users/"));
  EXPECT_FALSE(ValidUserPath("vault/"));
  EXPECT_FALSE(ValidUserPath("/vault"));
  EXPECT_FALSE(ValidUserPath("/with space/"));
  EXPECT_FALSE(ValidUserPath("/" + std::string(511, 'a') + "/"));
  EXPECT_TRUE(ValidUserPath("/" + std::string(510, 'a') + "/"));
}

TEST(Role, StorageRoundTrip) {
  Role r;
  r.credential_types = {kAssumedRole};
  r.role_arns = {"arn:aws:iam::1:role/x"};
  r.session_tags = {{"a", "b"}};
  r.default_sts_ttl = 900;
  auto back = Role::FromStorage(r.ToStorage());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToStorage(), r.ToStorage());
}

TEST(Role, LegacyUpgrade) {
  Role p = UpgradeLegacyEntry("{ \"Version\": \"2012-10-17\" }");
  EXPECT_EQ(p.credential_types, (std::vector<std::string>{kIamUser, kFederationToken}));
  EXPECT_EQ(p.policy_document, "{\"Version\":\"2012-10-17\"}");
  EXPECT_TRUE(p.prohibit_flexible_cred_path);
  Role a = UpgradeLegacyEntry("arn:aws:iam::123456789012:role/Deploy");
  EXPECT_EQ(a.credential_types, std::vector<std::string>{kAssumedRole});
  EXPECT_EQ(a.role_arns, std::vector<std::string>{"arn:aws:iam::123456789012:role/Deploy"});
  Role m = UpgradeLegacyEntry("arn:aws:iam::aws:policy/ReadOnlyAccess");
  EXPECT_EQ(m.credential_types, std::vector<std::string>{kIamUser});
  EXPECT_EQ(m.policy_arns, std::vector<std::string>{"arn:aws:iam::aws:policy/ReadOnlyAccess"});
  EXPECT_EQ(UpgradeLegacyEntry("garbage{").invalid_data, "garbage{");
  EXPECT_EQ(UpgradeLegacyEntry("arn:aws:s3:::bucket").invalid_data, "arn:aws:s3:::bucket");
}

}  // namespace
}  // namespace vault::engines::awsengine
