#include "engines/aws/policy.h"

#include <gtest/gtest.h>

#include "util/json.h"

namespace vault::engines::awsengine {
namespace {

TEST(Policy, CompactKeepsOrderAndStrings) {
  auto c = CompactJson("{ \"b\" : 1,\n \"a\": \"x y\\\" z\" }");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, "{\"b\":1,\"a\":\"x y\\\" z\"}");
  EXPECT_FALSE(CompactJson("{nope").ok());
  EXPECT_FALSE(CompactJson("{} trailing").ok());
}

TEST(Policy, SeedExampleIsValid) {
  auto c = ValidatePolicyDocument(
      "{\n\"Version\": \"2012-10-17\",\n\"Statement\": {\n\"Effect\": \"Allow\",\n\"Action\": "
      "\"iam:*\",\n\"Resource\": \"*\"\n}\n}");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(*c,
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iam:*\","
            "\"Resource\":\"*\"}}");
  EXPECT_TRUE(
      ValidatePolicyDocument(
          R"({"Statement":[{"Sid":"a","Effect":"Deny","NotAction":["s3:Get*","ec2:*"],)"
          R"("NotResource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})")
          .ok());
}

TEST(Policy, RejectsWithReason) {
  struct Case {
    const char* doc;
    const char* reason;
  } cases[] = {
      {"not json", "cannot parse policy document"},
      {"[]", "must be a JSON object"},
      {R"({"Version":"2012-10-17"})", "Statement is required"},
      {R"({"Version":"2020-01-01","Statement":[]})", "Version must be"},
      {R"({"Statement":[]})", "non-empty"},
      {R"({"Statement":{"Action":"s3:*","Resource":"*"}})", "Effect is required"},
      {R"({"Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}})", "Effect must be"},
      {R"({"Statement":{"Effect":"Allow","Resource":"*"}})", "exactly one of Action or NotAction"},
      {R"({"Statement":{"Effect":"Allow","Action":"s3:*"}})",
       "Policy statement must contain resources."},
      {R"({"Statement":{"Effect":"Allow","Action":"s3","Resource":"*"}})", "action \"s3\""},
      {R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}})",
       "resource \"bucket\""},
      {R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"}})",
       "principal"},
      {R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Extra":1}})",
       "unknown key \"Extra\""},
      {R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":[]}})",
       "Condition must be an object"},
      {R"({"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}})", "non-empty list"},
      {R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"},"Foo":1})",
       "unknown top-level key"},
  };
  for (const auto& c : cases) {
    auto r = ValidatePolicyDocument(c.doc);
    ASSERT_FALSE(r.ok()) << c.doc;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos)
        << c.doc << " -> " << r.status().message();
  }
}

TEST(Policy, MergeStatements) {
  auto m = MergePolicyDocuments(
      {"", R"({"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}})",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"c:d","Resource":"*"}]})"});
  ASSERT_TRUE(m.ok());
  auto j = ParseJson(*m);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["Version"], "2012-10-17");
  ASSERT_EQ((*j)["Statement"].size(), 2u);
  EXPECT_EQ((*j)["Statement"][1]["Effect"], "Deny");
  EXPECT_EQ(*MergePolicyDocuments({"", ""}), "");
}

TEST(Policy, ParseArn) {
  auto a = ParseArn("arn:aws:iam::123456789012:policy/path/Boundary");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->service, "iam");
  EXPECT_EQ(a->account, "123456789012");
  EXPECT_EQ(a->resource, "policy/path/Boundary");
  EXPECT_TRUE(ParseArn("arn:aws:sts::1:assumed-role/x:y").ok());
  EXPECT_FALSE(ParseArn("arn:aws:iam").ok());
  EXPECT_FALSE(ParseArn("nope").ok());
}

}  // namespace
}  // namespace vault::engines::awsengine
