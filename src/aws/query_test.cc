#include "aws/query.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "util/json.h"

namespace vault::aws {
namespace {

const char kPolicy[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","ec2:*"],)"
    R"("Resource":"arn:aws:s3:::bucket/a b+c&d=e"}]})";
const char kUser[] = "vault-token-myrole-1700000000-AbCdEfGhIjKlMnOpQrSt";

// The same calls as testdata/query_vectors.py, built with the C++ builders.
std::map<std::string, std::function<QueryRequest()>> Builders() {
  return {
      {"create_user_full",
       [] {
         CreateUserInput in;
         in.path = "/vault/";
         in.user_name = kUser;
         in.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/Boundary";
         in.tags = {{"team", "eng"}, {"cost center", "R&D/caf\xC3\xA9 ~*!'()+="}};
         return BuildCreateUser(in);
       }},
      {"create_user_minimal",
       [] {
         CreateUserInput in;
         in.user_name = "u@x.y+z=,_-";
         return BuildCreateUser(in);
       }},
      {"get_user_caller", [] { return BuildGetUser(""); }},
      {"get_user_named", [] { return BuildGetUser("alice"); }},
      {"delete_user", [] { return BuildDeleteUser(kUser); }},
      {"tag_user",
       [] {
         return BuildTagUser("u", {{"team", "eng"}});
       }},
      {"put_user_policy", [] { return BuildPutUserPolicy("u", "deploy role", kPolicy); }},
      {"delete_user_policy", [] { return BuildDeleteUserPolicy("u", "deploy"); }},
      {"list_user_policies", [] { return BuildListUserPolicies("u"); }},
      {"attach_user_policy",
       [] { return BuildAttachUserPolicy("u", "arn:aws:iam::aws:policy/ReadOnlyAccess"); }},
      {"detach_user_policy",
       [] { return BuildDetachUserPolicy("u", "arn:aws:iam::aws:policy/ReadOnlyAccess"); }},
      {"list_attached_user_policies", [] { return BuildListAttachedUserPolicies("u"); }},
      {"add_user_to_group", [] { return BuildAddUserToGroup("devs", "u"); }},
      {"remove_user_from_group", [] { return BuildRemoveUserFromGroup("devs", "u"); }},
      {"list_groups_for_user", [] { return BuildListGroupsForUser("u"); }},
      {"create_access_key", [] { return BuildCreateAccessKey("u"); }},
      {"delete_access_key", [] { return BuildDeleteAccessKey("u", "AKIAIOSFODNN7EXAMPLE"); }},
      {"list_access_keys", [] { return BuildListAccessKeys("u"); }},
      {"delete_login_profile", [] { return BuildDeleteLoginProfile(kUser); }},
      {"list_mfa_devices", [] { return BuildListMFADevices("u"); }},
      {"deactivate_mfa_device",
       [] { return BuildDeactivateMFADevice("u", "arn:aws:iam::123456789012:mfa/path/u-phone"); }},
      {"delete_virtual_mfa_device",
       [] { return BuildDeleteVirtualMFADevice("arn:aws:iam::123456789012:mfa/path/u-phone"); }},
      {"list_signing_certificates", [] { return BuildListSigningCertificates("u"); }},
      {"delete_signing_certificate",
       [] { return BuildDeleteSigningCertificate("u", "TA7SMP42TDN5Z26OBPJE7EXAMPLE"); }},
      {"list_ssh_public_keys", [] { return BuildListSSHPublicKeys("u"); }},
      {"delete_ssh_public_key",
       [] { return BuildDeleteSSHPublicKey("u", "APKAEIBAERJR2EXAMPLE"); }},
      {"list_service_specific_credentials",
       [] { return BuildListServiceSpecificCredentials("u"); }},
      {"delete_service_specific_credential",
       [] { return BuildDeleteServiceSpecificCredential("u", "ACCAEXAMPLE123EXAMPLE"); }},
      {"list_attached_group_policies", [] { return BuildListAttachedGroupPolicies("devs"); }},
      {"list_group_policies", [] { return BuildListGroupPolicies("devs"); }},
      {"get_group_policy", [] { return BuildGetGroupPolicy("devs", "p1"); }},
      {"assume_role_full",
       [] {
         AssumeRoleInput in;
         in.role_arn = "arn:aws:iam::123456789012:role/deploy";
         in.role_session_name = "vault-x";
         in.policy_arns = {"arn:aws:iam::aws:policy/ReadOnlyAccess",
                           "arn:aws:iam::123456789012:policy/Extra"};
         in.policy = kPolicy;
         in.duration_seconds = 3600;
         in.tags = {{"k", "v"}, {"k2", ""}};
         in.external_id = "ext123";
         return BuildAssumeRole(in);
       }},
      {"assume_role_minimal",
       [] {
         AssumeRoleInput in;
         in.role_arn = "arn:aws:iam::123456789012:role/deploy";
         in.role_session_name = "vault-x";
         return BuildAssumeRole(in);
       }},
      {"get_federation_token",
       [] {
         GetFederationTokenInput in;
         in.name = "vault-1700000000-AbCdEfGhIjKlMnO";
         in.policy = kPolicy;
         in.policy_arns = {"arn:aws:iam::aws:policy/ReadOnlyAccess"};
         in.duration_seconds = 43200;
         return BuildGetFederationToken(in);
       }},
      {"get_session_token_mfa",
       [] {
         GetSessionTokenInput in;
         in.duration_seconds = 3600;
         in.serial_number = "arn:aws:iam::123456789012:mfa/dev";
         in.token_code = "123456";
         return BuildGetSessionToken(in);
       }},
      {"get_session_token_plain",
       [] {
         GetSessionTokenInput in;
         in.duration_seconds = 900;
         return BuildGetSessionToken(in);
       }},
      {"get_caller_identity", [] { return BuildGetCallerIdentity(); }},
  };
}

TEST(QueryTest, BodiesMatchBotocoreByteForByte) {
  std::ifstream in(std::string(VAULT_AWS_TESTDATA) + "/query_vectors.json");
  std::stringstream ss;
  ss << in.rdbuf();
  Result<Json> doc = ParseJson(ss.str());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  auto builders = Builders();
  size_t checked = 0;
  for (const Json& v : (*doc)["vectors"]) {
    std::string name = v["name"];
    SCOPED_TRACE(name);
    auto it = builders.find(name);
    ASSERT_NE(it, builders.end()) << "no C++ builder for vector " << name;
    QueryRequest q = it->second();
    EXPECT_EQ(q.action(), v["operation"].get<std::string>());
    EXPECT_EQ(q.Body(), v["body"].get<std::string>());
    ++checked;
  }
  EXPECT_EQ(checked, builders.size());
}

TEST(QueryTest, ReferenceSamplesFromTheEngineSpec) {
  CreateUserInput in;
  in.user_name = "u";
  in.tags = {{"team", "eng"}};
  EXPECT_EQ(BuildTagUser("u", {{"team", "eng"}}).Body(),
            "Action=TagUser&Version=2010-05-08&UserName=u&Tags.member.1.Key=team&"
            "Tags.member.1.Value=eng");
  GetSessionTokenInput st;
  st.duration_seconds = 3600;
  st.serial_number = "arn:aws:iam::123456789012:mfa/dev";
  st.token_code = "123456";
  EXPECT_EQ(BuildGetSessionToken(st).Body(),
            "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=3600&SerialNumber=arn%3Aaws"
            "%3Aiam%3A%3A123456789012%3Amfa%2Fdev&TokenCode=123456");
}

TEST(QueryTest, Encodings) {
  EXPECT_EQ(PercentEncode("aZ09-_.~ /+=&%\xC3\xA9"), "aZ09-_.~%20%2F%2B%3D%26%25%C3%A9");
  EXPECT_EQ(FormEncode("a b+c%20"), "a+b%2Bc%2520");
  EXPECT_EQ(*QueryUnescape("%7B%22a%22%3A1%7D+x%2By"), "{\"a\":1} x+y");
  EXPECT_FALSE(QueryUnescape("%").ok());
  EXPECT_FALSE(QueryUnescape("%4").ok());
  EXPECT_FALSE(QueryUnescape("%zz").ok());
}

TEST(QueryTest, Iso8601) {
  EXPECT_EQ(*ParseIso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseIso8601("2026-11-23T19:22:33.470454Z"), 1795461753);
  EXPECT_EQ(*ParseIso8601("2026-11-23T21:22:33+02:00"), 1795461753);
  EXPECT_EQ(*ParseIso8601("2024-02-29T00:00:00Z"), 1709164800);
  EXPECT_FALSE(ParseIso8601("2023-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseIso8601("2026-11-23T19:22:33").ok());
  EXPECT_FALSE(ParseIso8601("2026-11-23").ok());
  EXPECT_FALSE(ParseIso8601("2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseIso8601("2026-11-23T19:22:33Zjunk").ok());
}

XmlElement Parse(const std::string& s) {
  Result<XmlElement> r = ParseXml(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : XmlElement();
}

TEST(QueryTest, ParsesIamResponses) {
  XmlElement create = Parse(
      R"(<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User><Path>/</Path><UserName>vault-root-x</UserName><UserId>AIDA1</UserId><Arn>arn:aws:iam::123456789012:user/vault-root-x</Arn><CreateDate>2026-11-23T18:22:33.351073Z</CreateDate><PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType><PermissionsBoundaryArn>arn:aws:iam::123456789012:policy/B</PermissionsBoundaryArn></PermissionsBoundary></User></CreateUserResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></CreateUserResponse>)");
  Result<User> user = ParseUserResponse(create, "CreateUser");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->user_name, "vault-root-x");
  EXPECT_EQ(user->user_id, "AIDA1");
  EXPECT_EQ(user->arn, "arn:aws:iam::123456789012:user/vault-root-x");
  EXPECT_EQ(user->path, "/");
  EXPECT_EQ(user->permissions_boundary_arn, "arn:aws:iam::123456789012:policy/B");
  EXPECT_EQ(user->create_date, "2026-11-23T18:22:33.351073Z");
  EXPECT_FALSE(ParseUserResponse(create, "GetUser").ok());  // wrong root

  XmlElement key = Parse(
      R"(<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey><UserName>u</UserName><AccessKeyId>AKIARZPUZDIKDVNTM7OL</AccessKeyId><Status>Active</Status><SecretAccessKey>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</SecretAccessKey><CreateDate>2026-11-23T18:22:33Z</CreateDate></AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>)");
  Result<AccessKey> k = ParseCreateAccessKeyResponse(key);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->access_key_id, "AKIARZPUZDIKDVNTM7OL");
  EXPECT_EQ(k->secret_access_key, "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");
  EXPECT_EQ(k->status, "Active");

  XmlElement nosecret = Parse(
      R"(<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey><AccessKeyId>AKIA</AccessKeyId></AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>)");
  EXPECT_FALSE(ParseCreateAccessKeyResponse(nosecret).ok());

  XmlElement keys = Parse(
      R"(<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata><member><UserName>u</UserName><AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status><CreateDate>2026-01-01T00:00:00Z</CreateDate></member><member><UserName>u</UserName><AccessKeyId>AKIA2</AccessKeyId><Status>Inactive</Status></member></AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>)");
  Result<std::vector<AccessKey>> ks = ParseListAccessKeysResponse(keys);
  ASSERT_TRUE(ks.ok());
  ASSERT_EQ(ks->size(), 2u);
  EXPECT_EQ((*ks)[1].access_key_id, "AKIA2");
  EXPECT_EQ((*ks)[1].status, "Inactive");
  EXPECT_EQ((*ks)[0].create_date, "2026-01-01T00:00:00Z");

  XmlElement groups = Parse(
      R"(<ListGroupsForUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListGroupsForUserResult><Groups><member><Path>/</Path><GroupName>g1</GroupName><GroupId>x</GroupId><Arn>arn:aws:iam::123456789012:group/g1</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></member></Groups><IsTruncated>false</IsTruncated></ListGroupsForUserResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListGroupsForUserResponse>)");
  EXPECT_EQ(*ParseNameListResponse(groups, "ListGroupsForUser"), std::vector<std::string>{"g1"});

  XmlElement attached = Parse(
      R"(<ListAttachedUserPoliciesResponse><ListAttachedUserPoliciesResult><AttachedPolicies><member><PolicyName>R</PolicyName><PolicyArn>arn:aws:iam::aws:policy/R</PolicyArn></member></AttachedPolicies><IsTruncated>false</IsTruncated></ListAttachedUserPoliciesResult></ListAttachedUserPoliciesResponse>)");
  EXPECT_EQ(*ParseNameListResponse(attached, "ListAttachedUserPolicies"),
            std::vector<std::string>{"arn:aws:iam::aws:policy/R"});

  XmlElement names = Parse(
      R"(<ListUserPoliciesResponse><ListUserPoliciesResult><PolicyNames><member>a</member><member>b</member></PolicyNames><IsTruncated>false</IsTruncated></ListUserPoliciesResult></ListUserPoliciesResponse>)");
  EXPECT_EQ(*ParseNameListResponse(names, "ListUserPolicies"),
            (std::vector<std::string>{"a", "b"}));
  XmlElement empty_list = Parse(
      R"(<ListUserPoliciesResponse><ListUserPoliciesResult><PolicyNames/><IsTruncated>false</IsTruncated></ListUserPoliciesResult></ListUserPoliciesResponse>)");
  EXPECT_TRUE(ParseNameListResponse(empty_list, "ListUserPolicies")->empty());

  XmlElement gp = Parse(
      R"(<GetGroupPolicyResponse><GetGroupPolicyResult><GroupName>g</GroupName><PolicyName>p</PolicyName><PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D</PolicyDocument></GetGroupPolicyResult></GetGroupPolicyResponse>)");
  EXPECT_EQ(*ParseGetGroupPolicyResponse(gp), R"({"Version":"2012-10-17","Statement":[]})");

  XmlElement del = Parse(
      R"(<DeleteUserResponse><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>)");
  EXPECT_TRUE(ParseEmptyResponse(del, "DeleteUser").ok());
  EXPECT_FALSE(ParseEmptyResponse(del, "TagUser").ok());
}

TEST(QueryTest, ParsesStsResponses) {
  XmlElement ar = Parse(
      R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>sek</SecretAccessKey><SessionToken>FQoG</SessionToken><Expiration>2026-11-23T19:22:33.470454Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:vault-sess</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/R/vault-sess</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>)");
  Result<TemporaryCredentials> c = ParseCredentialsResponse(ar, "AssumeRole");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAX");
  EXPECT_EQ(c->credentials.secret_access_key, "sek");
  EXPECT_EQ(c->credentials.session_token, "FQoG");
  EXPECT_EQ(c->expiration, "2026-11-23T19:22:33.470454Z");
  EXPECT_EQ(c->expiration_unix, 1795461753);
  EXPECT_EQ(c->assumed_role_arn, "arn:aws:sts::123456789012:assumed-role/R/vault-sess");

  XmlElement ft = Parse(
      R"(<GetFederationTokenResponse><GetFederationTokenResult><Credentials><AccessKeyId>ASIAF</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2026-01-01T00:00:00Z</Expiration></Credentials><FederatedUser><FederatedUserId>1:n</FederatedUserId><Arn>arn:aws:sts::1:federated-user/n</Arn></FederatedUser></GetFederationTokenResult></GetFederationTokenResponse>)");
  Result<TemporaryCredentials> f = ParseCredentialsResponse(ft, "GetFederationToken");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->federated_user_arn, "arn:aws:sts::1:federated-user/n");

  XmlElement bad_exp = Parse(
      R"(<GetSessionTokenResponse><GetSessionTokenResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>TOPSECRET</SecretAccessKey><SessionToken>t</SessionToken><Expiration>soon</Expiration></Credentials></GetSessionTokenResult></GetSessionTokenResponse>)");
  Result<TemporaryCredentials> b = ParseCredentialsResponse(bad_exp, "GetSessionToken");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message().find("TOPSECRET"), std::string::npos);

  // Found by fuzz/aws_xml: an Expiration in the year 1011 overflowed the conversion to unix
  // nanoseconds (undefined behaviour); it is refused like any unreadable time.
  XmlElement old_exp = Parse(
      R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/demo/vault</Arn><AssumedRoleId>AROA:vault</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken><Expiration>1011-11-14T23:13:20.470454Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>)");
  EXPECT_FALSE(ParseCredentialsResponse(old_exp, "AssumeRole").ok());

  XmlElement id = Parse(
      R"(<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/vault-root</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>)");
  Result<CallerIdentity> ci = ParseGetCallerIdentityResponse(id);
  ASSERT_TRUE(ci.ok());
  EXPECT_EQ(ci->account, "123456789012");
  EXPECT_EQ(ci->user_id, "AIDA");
}

TEST(QueryTest, ParsesErrorResponses) {
  net::HttpResponse r;
  r.status = 409;
  r.body =
      R"(<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>LimitExceeded</Code><Message>Cannot exceed quota for AccessKeysPerUser: 2</Message><message>dup</message></Error><RequestId>req-9</RequestId></ErrorResponse>)";
  AwsError e = ParseErrorResponse(r);
  EXPECT_EQ(e.code, "LimitExceeded");
  EXPECT_EQ(e.message, "Cannot exceed quota for AccessKeysPerUser: 2");
  EXPECT_EQ(e.http_status, 409);
  EXPECT_EQ(e.request_id, "req-9");
  EXPECT_FALSE(e.throttled);
  EXPECT_EQ(e.ToStatus("Error creating IAM user").code(), StatusCode::kInvalidArgument);

  r.headers = {{"x-amzn-RequestId", "hdr-id"}};
  EXPECT_EQ(ParseErrorResponse(r).request_id, "hdr-id");

  net::HttpResponse ec2;
  ec2.status = 503;
  ec2.body =
      "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>m</Message></Error>"
      "</Errors><RequestID>ec2-id</RequestID></Response>";
  AwsError e2 = ParseErrorResponse(ec2);
  EXPECT_EQ(e2.code, "RequestLimitExceeded");
  EXPECT_EQ(e2.request_id, "ec2-id");

  net::HttpResponse html;
  html.status = 502;
  html.body = "<html><body>Bad Gateway SECRET</body></html>";
  AwsError e3 = ParseErrorResponse(html);
  EXPECT_EQ(e3.code, "502");
  EXPECT_EQ(e3.message.find("SECRET"), std::string::npos);
  EXPECT_EQ(e3.ToStatus("").code(), StatusCode::kUpstream);

  net::HttpResponse garbage;
  garbage.status = 400;
  garbage.body = "\x01\x02<<<";
  EXPECT_EQ(ParseErrorResponse(garbage).code, "400");
}

}  // namespace
}  // namespace vault::aws
