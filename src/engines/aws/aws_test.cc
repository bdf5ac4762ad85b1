#include "engines/aws/aws.h"

#include <gtest/gtest.h>

#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "engines/aws/testing/fake_aws.h"
#include "logical/testing.h"
#include "logical/wal.h"
#include "usertemplate/username_template.h"

namespace vault::engines::awsengine {
namespace {

using logical::Operation;
using logical::Response;
using testing::FakeAws;
using testing::kRootAccessKey;
using testing::kRootSecretKey;
using Actions = std::vector<std::string>;

constexpr char kPolicy[] =
    "{\n\"Version\": \"2012-10-17\",\n\"Statement\": {\n\"Effect\": \"Allow\",\n\"Action\": "
    "\"iam:*\",\n\"Resource\": \"*\"\n}\n}";
constexpr char kPolicyCompact[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iam:*\","
    "\"Resource\":\"*\"}}";
constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/DeployRole";

const Actions kIssueIamUser = {"CreateUser",     "AttachUserPolicy", "PutUserPolicy",
                               "AddUserToGroup", "TagUser",          "CreateAccessKey"};
// The teardown's first round: everything that can hang off a user is looked for at once (and the
// login profile deleted, there being no list for it).
const Actions kRevokeFirstRound = {"ListGroupsForUser",        "ListUserPolicies",
                                   "ListAttachedUserPolicies", "ListAccessKeys",
                                   "ListMFADevices",           "ListSigningCertificates",
                                   "ListSSHPublicKeys",        "ListServiceSpecificCredentials",
                                   "DeleteLoginProfile"};
Actions Concat(Actions a, const Actions& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
const Actions kRevokeIamUser =
    Concat(kRevokeFirstRound, {"DeleteAccessKey", "DetachUserPolicy", "DeleteUserPolicy",
                               "RemoveUserFromGroup", "DeleteUser"});

// In-memory storage whose writes of one key can be made to fail.
class FlakyStorage : public logical::MemStorage {
 public:
  Task<Status> Put(std::string_view key, std::string_view value) override {
    if (!fail_puts_of.empty() && key == fail_puts_of) co_return Internal("disk full");
    co_return PutNow(key, value);
  }
  std::string fail_puts_of;
};

class AwsEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_shared<FakeAws>(&clock_);
    AwsBackendOptions opts;
    opts.sleep = [this](int64_t ms) { return FakeSleep(ms); };
    mount_.path = "aws/";
    mount_.type = "aws";
    mount_.default_lease_ttl = 2764800;
    mount_.max_lease_ttl = 2764800;
    auto b = NewAwsBackend(mount_, fake_, &clock_, opts);
    ASSERT_TRUE(b.ok());
    backend_ = *b;
  }

  Task<bool> FakeSleep(int64_t ms) {
    sleeps_.push_back(ms);
    clock_.SetNanos(clock_.NowNanos() + ms * 1000000);
    if (during_sleep_) {
      auto fn = std::move(during_sleep_);
      during_sleep_ = nullptr;
      fn();
    }
    co_return true;
  }

  Result<Response> Do(Operation op, const std::string& path, Json data = Json::object(),
                      const std::string& display_name = "root") {
    logical::Request r;
    r.operation = op;
    r.path = path;
    r.data = std::move(data);
    r.storage = &storage_;
    r.mount = mount_;
    r.display_name = display_name;
    return backend_->HandleRequest(r);
  }
  Result<Response> Write(const std::string& path, Json data) {
    return Do(Operation::kUpdate, path, std::move(data));
  }
  Result<Response> Read(const std::string& path) { return Do(Operation::kRead, path); }

  // kRenew/kRevoke as the expiration manager sends them for an issued secret.
  Result<Response> LeaseOp(Operation op, const Response& issued, int64_t increment = 0) {
    logical::Request r;
    r.operation = op;
    r.path = "creds/x";
    r.storage = &storage_;
    r.mount = mount_;
    logical::LeaseSecret s;
    s.lease_id = "aws/creds/x/abc";
    s.internal_data = issued.secret->internal_data;
    s.issue_time = clock_.NowSeconds();
    s.ttl = issued.secret->ttl;
    s.increment = increment;
    r.secret = s;
    return backend_->HandleRequest(r);
  }

  Result<Response> Rollback(std::optional<int64_t> min_age = std::nullopt) {
    logical::Request r;
    r.operation = Operation::kRollback;
    r.storage = &storage_;
    r.mount = mount_;
    if (min_age) r.data = {{"min_age", *min_age}};
    return backend_->HandleRequest(r);
  }

  void ConfigureRoot() {
    ASSERT_TRUE(Write("config/root", {{"access_key", kRootAccessKey},
                                      {"secret_key", kRootSecretKey},
                                      {"region", "us-east-1"}})
                    .ok());
  }

  // A role that exercises every iam_user issue step.
  void FullIamRole(const std::string& name = "full") {
    fake_->AddGroup("devs");
    auto r = Write("roles/" + name, {{"credential_type", "iam_user"},
                                     {"policy_arns", "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                                     {"policy_document", kPolicy},
                                     {"iam_groups", "devs"},
                                     {"iam_tags", Json::array({"team=eng"})}});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }

  std::vector<std::string> Wals() { return *SyncWait(logical::ListWal(&storage_)); }

  FakeClock clock_;
  FlakyStorage storage_;
  logical::MountInfo mount_;
  std::shared_ptr<FakeAws> fake_;
  std::shared_ptr<logical::Backend> backend_;
  std::vector<int64_t> sleeps_;
  std::function<void()> during_sleep_;  // runs once inside the next FakeSleep
};

// ---------------------------------------------------------------------------------------------
// config/root

TEST_F(AwsEngineTest, ConfigRootWriteReadNeverReturnsSecret) {
  EXPECT_TRUE(Read("config/root")->Empty());  // 404 before it is written
  auto w = Write(
      "config/root",
      {{"access_key", kRootAccessKey}, {"secret_key", kRootSecretKey}, {"region", "eu-west-1"}});
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->Empty());  // 204
  auto r = Read("config/root");
  ASSERT_TRUE(r.ok());
  std::set<std::string> keys;
  for (auto& [k, v] : r->data.items()) keys.insert(k);
  EXPECT_EQ(keys,
            (std::set<std::string>{"access_key", "region", "iam_endpoint", "sts_endpoint",
                                   "sts_region", "sts_fallback_endpoints", "sts_fallback_regions",
                                   "max_retries", "max_calls_per_second", "username_template"}));
  EXPECT_EQ(r->data["access_key"], kRootAccessKey);
  EXPECT_EQ(r->data["region"], "eu-west-1");
  EXPECT_EQ(r->data["max_retries"], -1);
  EXPECT_EQ(r->data["max_calls_per_second"], 0);
  EXPECT_EQ(r->data["username_template"], usertemplate::kDefaultUsernameTemplate);
  EXPECT_EQ(DumpJson(r->data).find(kRootSecretKey), std::string::npos);
}

TEST_F(AwsEngineTest, ConfigRootPartialUpdateKeepsOtherFields) {
  ASSERT_TRUE(Write("config/root", {{"access_key", kRootAccessKey},
                                    {"secret_key", kRootSecretKey},
                                    {"region", "us-east-1"},
                                    {"username_template", "vault-{{ random 10 }}"}})
                  .ok());
  ASSERT_TRUE(
      Write("config/root", {{"sts_endpoint", "https://sts.example"}, {"max_retries", "5"}}).ok());
  auto r = Read("config/root");
  EXPECT_EQ(r->data["access_key"], kRootAccessKey);
  EXPECT_EQ(r->data["region"], "us-east-1");
  EXPECT_EQ(r->data["sts_endpoint"], "https://sts.example");
  EXPECT_EQ(r->data["max_retries"], 5);
  // Unlike Vault (#29851), omitting username_template keeps it.
  EXPECT_EQ(r->data["username_template"], "vault-{{ random 10 }}");
  // An empty value resets it to the default.
  ASSERT_TRUE(Write("config/root", {{"username_template", ""}}).ok());
  EXPECT_EQ(Read("config/root")->data["username_template"], usertemplate::kDefaultUsernameTemplate);
  // The secret key is still the one first written: issuing works.
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  EXPECT_TRUE(Read("creds/r").ok());
}

TEST_F(AwsEngineTest, ConfigRootValidation) {
  auto r = Write("config/root", {{"sts_endpoint", "https://a"},
                                 {"sts_fallback_endpoints", "https://b,https://c"},
                                 {"sts_fallback_regions", "us-west-2"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "fallback endpoints and fallback regions must be the same length");
  EXPECT_EQ(Write("config/root", {{"max_retries", -2}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Write("config/root", {{"max_calls_per_second", -1}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Write("config/root", {{"max_calls_per_second", "fast"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Read("config/root")->Empty());  // nothing stored
}

TEST_F(AwsEngineTest, RootPathsAndExistenceCheck) {
  EXPECT_EQ(backend_->RootPaths(), (std::vector<std::string>{"config/root", "config/rotate-root"}));
  logical::Request r;
  r.operation = Operation::kUpdate;
  r.path = "config/root";
  r.storage = &storage_;
  EXPECT_EQ(*SyncWait(backend_->ExistenceCheck(r)), std::optional<bool>(false));
  ConfigureRoot();
  EXPECT_EQ(*SyncWait(backend_->ExistenceCheck(r)), std::optional<bool>(true));
  r.path = "roles/x";
  EXPECT_EQ(*SyncWait(backend_->ExistenceCheck(r)), std::optional<bool>(false));
}

TEST_F(AwsEngineTest, UsernameTemplateRejectedAtWrite) {
  struct Case {
    const char* tmpl;
    const char* reason;
  } cases[] = {
      {"{{ nope }}", "unable to parse username_template"},
      {"{{ if .Type }}x", "unable to parse username_template"},
      {"{{ .Unknown }}", "invalid username_template"},
      // Unbounded display name: over 64 for long names.
      {"vault-{{ .DisplayName }}", "over the IAM username limit of 64"},
      // 37 characters for STS.
      {"vault-{{ unix_time }}-{{ random 20 }}", "over the STS federation token name limit of 32"},
      {"{{ if eq .Type \"STS\" }}{{ else }}x{{ end }}", "empty name"},
  };
  for (const auto& c : cases) {
    auto r = Write("config/root", {{"username_template", c.tmpl}});
    ASSERT_FALSE(r.ok()) << c.tmpl;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos)
        << c.tmpl << ": " << r.status().message();
  }
  EXPECT_TRUE(Read("config/root")->Empty());
  // Bounded templates pass, including the default one written explicitly.
  EXPECT_TRUE(
      Write("config/root", {{"username_template", usertemplate::kDefaultUsernameTemplate}}).ok());
  EXPECT_TRUE(Write("config/root", {{"username_template",
                                     "{{ printf \"v-%s-%s\" .DisplayName .PolicyName | "
                                     "truncate_sha256 30 }}"}})
                  .ok());
}

TEST_F(AwsEngineTest, CustomUsernameTemplateIsUsed) {
  ConfigureRoot();
  ASSERT_TRUE(Write("config/root",
                    {{"username_template",
                      "{{ if eq .Type \"STS\" }}fed-{{ random 8 }}{{ else }}"
                      "{{ .PolicyName | uppercase | truncate 20 }}-{{ unix_time }}{{ end }}"}})
                  .ok());
  ASSERT_TRUE(
      Write("roles/deploy", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto r = Read("creds/deploy");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->secret->internal_data["username"], "DEPLOY-1700000000");
}

// ---------------------------------------------------------------------------------------------
// config/lease

TEST_F(AwsEngineTest, ConfigLease) {
  EXPECT_TRUE(Read("config/lease")->Empty());
  EXPECT_EQ(Write("config/lease", {{"lease_max", "1h"}}).status().message(),
            "'lease' is a required parameter");
  EXPECT_EQ(Write("config/lease", {{"lease", "1h"}}).status().message(),
            "'lease_max' is a required parameter");
  auto bad = Write("config/lease", {{"lease", "soon"}, {"lease_max", "1h"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("Invalid lease: ", 0), 0u);
  EXPECT_EQ(Write("config/lease", {{"lease", "1h"}, {"lease_max", "x"}})
                .status()
                .message()
                .rfind("Invalid lease_max: ", 0),
            0u);
  EXPECT_TRUE(Read("config/lease")->Empty());
  auto w = Write("config/lease", {{"lease", "30m"}, {"lease_max", "3600s"}});
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->Empty());
  auto r = Read("config/lease");
  EXPECT_EQ(r->data, Json({{"lease", "30m0s"}, {"lease_max", "1h0m0s"}}));
  ASSERT_TRUE(Write("config/lease", {{"lease", "1h"}, {"lease_max", "12h"}}).ok());
  EXPECT_EQ(Read("config/lease")->data, Json({{"lease", "1h0m0s"}, {"lease_max", "12h0m0s"}}));
}

// ---------------------------------------------------------------------------------------------
// roles

TEST_F(AwsEngineTest, RoleWriteReadListDelete) {
  EXPECT_TRUE(Do(Operation::kList, "roles/")->Empty());
  auto w = Write("roles/deploy",
                 {{"credential_type", "iam_user"},
                  {"policy_document", kPolicy},
                  {"policy_arns", "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                  {"iam_groups", Json::array({"g1", "g2"})},
                  {"iam_tags", {{"team", "eng"}}},
                  {"user_path", "/vault/"},
                  {"permissions_boundary_arn", "arn:aws:iam::123456789012:policy/Boundary"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->Empty());
  auto r = Read("roles/deploy");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data["credential_type"], "iam_user");
  EXPECT_EQ(r->data["policy_document"], kPolicyCompact);
  EXPECT_EQ(r->data["policy_arns"], Json({"arn:aws:iam::aws:policy/ReadOnlyAccess"}));
  EXPECT_EQ(r->data["iam_groups"], Json({"g1", "g2"}));
  EXPECT_EQ(r->data["iam_tags"], Json({{"team", "eng"}}));
  EXPECT_EQ(r->data["role_arns"], nullptr);
  EXPECT_EQ(r->data["session_tags"], nullptr);
  EXPECT_EQ(r->data["user_path"], "/vault/");
  EXPECT_EQ(r->data["default_sts_ttl"], 0);
  EXPECT_EQ(r->data["wait_for_propagation"], false);
  EXPECT_EQ(r->data["propagation_timeout"], 30);
  EXPECT_FALSE(r->data.contains("policy"));

  // Partial update: only the fields sent change.
  ASSERT_TRUE(Write("roles/deploy", {{"iam_groups", "g3"}}).ok());
  r = Read("roles/deploy");
  EXPECT_EQ(r->data["iam_groups"], Json({"g3"}));
  EXPECT_EQ(r->data["policy_document"], kPolicyCompact);

  ASSERT_TRUE(
      Write("roles/sts.role@x", {{"credential_type", "assumed_role"}, {"role_arns", kRoleArn}})
          .ok());
  EXPECT_EQ(Do(Operation::kList, "roles/")->data["keys"], Json({"deploy", "sts.role@x"}));
  EXPECT_TRUE(Do(Operation::kDelete, "roles/deploy")->Empty());
  EXPECT_TRUE(Do(Operation::kDelete, "roles/never-existed")->Empty());  // 204 even if absent
  EXPECT_TRUE(Read("roles/deploy")->Empty());
  EXPECT_EQ(Do(Operation::kList, "roles")->data["keys"], Json({"sts.role@x"}));
  EXPECT_EQ(Read("roles/-bad").status().code(), StatusCode::kNotFound);
}

TEST_F(AwsEngineTest, RoleValidationRules) {
  struct Case {
    Json data;
    std::vector<std::string> errors;
  };
  std::vector<Case> cases = {
      {{{"policy_arns", "arn:aws:iam::aws:policy/X"}}, {"did not supply credential_type"}},
      {{{"credential_type", "magic"}}, {"unrecognized credential type: magic"}},
      {{{"credential_type", "iam_user"}, {"role_arns", kRoleArn}},
       {"cannot supply role_arns when credential_type isn't assumed_role"}},
      {{{"credential_type", "iam_user"}, {"default_sts_ttl", "1h"}, {"max_sts_ttl", "2h"}},
       {"default_sts_ttl parameter only valid for assumed_role, federation_token and session_token "
        "credential types",
        "max_sts_ttl parameter only valid for assumed_role, federation_token and session_token "
        "credential types"}},
      {{{"credential_type", "assumed_role"}, {"default_sts_ttl", "2h"}, {"max_sts_ttl", "1h"}},
       {"\"default_sts_ttl\" value must be less than or equal to \"max_sts_ttl\" value"}},
      {{{"credential_type", "assumed_role"}, {"user_path", "/x/"}},
       {"user_path parameter only valid for iam_user credential type"}},
      {{{"credential_type", "iam_user"}, {"user_path", "no-slash"}},
       {"The specified value for user_path is invalid. It must match "
        "\"^\\\\/([\\\\x21-\\\\x7F]{0,510}\\\\/)?$\" regexp"}},
      {{{"credential_type", "federation_token"},
        {"permissions_boundary_arn", "arn:aws:iam::1:policy/B"}},
       {"cannot supply permissions_boundary_arn when credential_type isn't iam_user"}},
      {{{"credential_type", "iam_user"}, {"permissions_boundary_arn", "arn:aws:iam::1:role/B"}},
       {"invalid permissions_boundary_arn parameter: ARN \"arn:aws:iam::1:role/B\" is not an IAM "
        "policy ARN"}},
      {{{"credential_type", "federation_token"}, {"session_tags", "a=b"}},
       {"cannot supply session_tags when credential_type isn't assumed_role"}},
      {{{"credential_type", "iam_user"}, {"external_id", "ext"}},
       {"cannot supply external_id when credential_type isn't assumed_role"}},
      {{{"credential_type", "session_token"}, {"policy_arns", "arn:aws:iam::aws:policy/X"}},
       {"cannot supply a policy or role when using credential_type session_token"}},
      {{{"credential_type", "iam_user"}, {"mfa_serial_number", "arn:aws:iam::1:mfa/x"}},
       {"mfa_serial_number parameter only valid for session_token credential type"}},
      {{{"credential_type", "assumed_role"}, {"iam_tags", "a=b"}},
       {"iam_tags parameter only valid for iam_user credential type"}},
      {{{"credential_type", "federation_token"}, {"wait_for_propagation", true}},
       {"wait_for_propagation parameter only valid for iam_user credential type"}},
      {{{"credential_type", "iam_user"}, {"propagation_timeout", "1h"}},
       {"propagation_timeout must be between 1s and 600s"}},
  };
  for (const auto& c : cases) {
    auto r = Write("roles/bad", c.data);
    ASSERT_FALSE(r.ok()) << c.data.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    std::string expected = "error(s) validating supplied role data: ";
    for (size_t i = 0; i < c.errors.size(); ++i) expected += (i ? "; " : "") + c.errors[i];
    EXPECT_EQ(r.status().message(), expected) << c.data.dump();
  }
  // All violations are reported together.
  auto many =
      Write("roles/bad",
            {{"credential_type", "iam_user"}, {"role_arns", kRoleArn}, {"external_id", "x"}});
  EXPECT_NE(many.status().message().find("role_arns"), std::string::npos);
  EXPECT_NE(many.status().message().find("external_id"), std::string::npos);
  EXPECT_TRUE(Read("roles/bad")->Empty());
}

TEST_F(AwsEngineTest, RolePolicyDocumentValidatedBeforeStoring) {
  auto r = Write("roles/p", {{"credential_type", "iam_user"}, {"policy_document", "{not json"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("cannot parse policy document: ", 0), 0u);
  r = Write("roles/p",
            {{"credential_type", "iam_user"},
             {"policy_document", R"({"Statement":{"Effect":"Allow","Action":"s3:*"}})"}});
  EXPECT_EQ(r.status().message(),
            "invalid policy document: Statement 1: Policy statement must contain resources.");
  EXPECT_TRUE(Read("roles/p")->Empty());
}

TEST_F(AwsEngineTest, LegacyPolicyRole) {
  ConfigureRoot();
  auto w = Write("roles/deploy", {{"policy", kPolicy}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->Empty());  // 204, as Vault 0.2's docs show
  auto r = Read("roles/deploy");
  EXPECT_EQ(r->data["policy"], kPolicyCompact);  // the 2015 read shape
  EXPECT_EQ(r->data["credential_type"], "iam_user,federation_token");
  EXPECT_EQ(r->data["policy_document"], kPolicyCompact);

  // creds/ = the 2015 behaviour: CreateUser, PutUserPolicy named after the role, CreateAccessKey.
  auto c = Read("creds/deploy");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(fake_->actions(), (Actions{"CreateUser", "PutUserPolicy", "CreateAccessKey"}));
  EXPECT_EQ(fake_->calls()[1].params["PolicyName"], "deploy");
  EXPECT_EQ(fake_->calls()[1].params["PolicyDocument"], kPolicyCompact);
  // sts/ = federation token with the same policy.
  fake_->ClearCalls();
  auto s = Read("sts/deploy");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(fake_->actions(), Actions{"GetFederationToken"});
  EXPECT_EQ(fake_->calls()[0].params["Policy"], kPolicyCompact);

  // Mixing legacy and new parameters, or both legacy ones, is refused.
  EXPECT_EQ(Write("roles/x", {{"policy", kPolicy}, {"iam_groups", "g"}}).status().message(),
            "cannot supply deprecated role or policy parameters with iam_groups");
  EXPECT_EQ(Write("roles/x", {{"policy", kPolicy}, {"arn", kRoleArn}}).status().message(),
            "cannot supply both policy and arn");
  EXPECT_EQ(Write("roles/x", {{"policy", "{bad"}}).status().code(), StatusCode::kInvalidArgument);
  // A later write with new parameters upgrades the role and lifts the path restriction.
  ASSERT_TRUE(Write("roles/deploy", {{"credential_type", "iam_user"}}).ok());
  r = Read("roles/deploy");
  EXPECT_FALSE(r->data.contains("policy"));
  EXPECT_EQ(r->data["policy_document"], kPolicyCompact);
}

TEST_F(AwsEngineTest, LegacyArnRoles) {
  ConfigureRoot();
  ASSERT_TRUE(Write("roles/assume", {{"arn", kRoleArn}}).ok());
  EXPECT_EQ(Read("roles/assume")->data["arn"], kRoleArn);
  EXPECT_EQ(Read("creds/assume").status().message(),
            "attempted to retrieve assumed_role credentials through the creds path; this is not "
            "allowed for legacy roles");
  auto s = Read("sts/assume");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(fake_->actions(), Actions{"AssumeRole"});

  fake_->ClearCalls();
  ASSERT_TRUE(Write("roles/managed", {{"arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"}}).ok());
  EXPECT_EQ(Read("sts/managed").status().message(),
            "attempted to retrieve iam_user credentials through the sts path; this is not allowed "
            "for legacy roles");
  ASSERT_TRUE(Read("creds/managed").ok());
  EXPECT_EQ(fake_->actions(), (Actions{"CreateUser", "AttachUserPolicy", "CreateAccessKey"}));
  EXPECT_EQ(Write("roles/x", {{"arn", "arn:aws:s3:::bucket"}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AwsEngineTest, LegacyStorageEntriesAreListedAndUpgraded) {
  ASSERT_TRUE(SyncWait(storage_.Put("policy/old", kPolicy)).ok());
  ASSERT_TRUE(SyncWait(storage_.Put("policy/oldarn", kRoleArn)).ok());
  ASSERT_TRUE(SyncWait(storage_.Put("policy/broken", "{nope")).ok());
  EXPECT_EQ(Do(Operation::kList, "roles/")->data["keys"], Json({"broken", "old", "oldarn"}));
  auto r = Read("roles/old");
  EXPECT_EQ(r->data["credential_type"], "iam_user,federation_token");
  EXPECT_EQ(r->data["policy_document"], kPolicyCompact);
  EXPECT_FALSE(SyncWait(storage_.Get("policy/old"))->has_value());  // upgraded in place
  EXPECT_TRUE(SyncWait(storage_.Get("role/old"))->has_value());
  EXPECT_EQ(Read("roles/oldarn")->data["role_arns"], Json({kRoleArn}));
  EXPECT_EQ(Read("roles/broken")->data["invalid_data"], "{nope");
  EXPECT_EQ(Read("creds/broken").status().code(), StatusCode::kInvalidArgument);
  // Writing new parameters clears the invalid data with a warning.
  auto w = Write("roles/broken", {{"credential_type", "iam_user"}});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->warnings.size(), 1u);
  EXPECT_FALSE(Read("roles/broken")->data.contains("invalid_data"));
}

// ---------------------------------------------------------------------------------------------
// iam_user

TEST_F(AwsEngineTest, IamUserIssueCallOrderResponseAndLease) {
  ConfigureRoot();
  ASSERT_TRUE(Write("config/lease", {{"lease", "1h"}, {"lease_max", "24h"}}).ok());
  FullIamRole("full");
  ASSERT_TRUE(Write("roles/full",
                    {{"user_path", "/vault/"},
                     {"permissions_boundary_arn", "arn:aws:iam::123456789012:policy/Boundary"}})
                  .ok());
  auto r = Read("creds/full");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(fake_->actions(), kIssueIamUser);
  auto calls = fake_->calls();
  std::string user = calls[0].params["UserName"];
  EXPECT_TRUE(std::regex_match(user, std::regex("vault-root-full-1700000000-[A-Za-z0-9]{20}")))
      << user;
  EXPECT_EQ(calls[0].params["Path"], "/vault/");
  EXPECT_EQ(calls[0].params["PermissionsBoundary"], "arn:aws:iam::123456789012:policy/Boundary");
  EXPECT_EQ(calls[1].params["PolicyArn"], "arn:aws:iam::aws:policy/ReadOnlyAccess");
  EXPECT_EQ(calls[2].params["PolicyName"], "full");
  EXPECT_EQ(calls[2].params["PolicyDocument"], kPolicyCompact);
  EXPECT_EQ(calls[3].params["GroupName"], "devs");
  EXPECT_EQ(calls[4].params["Tags"], Json::array({Json::array({"team", "eng"})}));
  for (const auto& c : calls) EXPECT_EQ(c.access_key, kRootAccessKey);

  // Vault's data shape.
  EXPECT_EQ(r->data["access_key"].get<std::string>().rfind("AKIA", 0), 0u);
  EXPECT_FALSE(r->data["secret_key"].get<std::string>().empty());
  EXPECT_TRUE(r->data["security_token"].is_null());
  EXPECT_TRUE(r->data["session_token"].is_null());
  // The lease: renewable, config/lease TTLs, internal data without the secret key.
  ASSERT_TRUE(r->secret.has_value());
  EXPECT_TRUE(r->secret->renewable);
  EXPECT_EQ(r->secret->ttl, 3600);
  EXPECT_EQ(r->secret->max_ttl, 86400);
  EXPECT_EQ(r->secret->internal_data["username"], user);
  EXPECT_EQ(r->secret->internal_data["credential_type"], "iam_user");
  EXPECT_EQ(r->secret->internal_data["policy_name"], "full");
  EXPECT_EQ(r->secret->internal_data["secret_type"], "access_keys");
  EXPECT_EQ(DumpJson(r->secret->internal_data).find(r->data["secret_key"].get<std::string>()),
            std::string::npos);
  // The WAL entry is still there and handed to core in wal_ids.
  auto wals = Wals();
  ASSERT_EQ(wals.size(), 1u);
  EXPECT_EQ(r->secret->wal_ids, wals);
  auto entry = SyncWait(logical::GetWal(&storage_, wals[0]));
  EXPECT_EQ((*entry)->kind, "user");
  EXPECT_EQ((*entry)->data["username"], user);
  // The user is complete in IAM.
  auto u = fake_->user(user);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->keys.size(), 1u);
  EXPECT_EQ(u->groups.count("devs"), 1u);
}

TEST_F(AwsEngineTest, ParsedRoleAndConfigFollowEveryChangeOfTheStoredText) {
  // Creds reuse the parsed role and config/root while their stored text is unchanged; any change,
  // through the API or straight in storage (another node's write, a restore), must be seen.
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r",
            {{"credential_type", "iam_user"}, {"user_path", "/a/"}, {"policy_document", kPolicy}})
          .ok());
  ASSERT_TRUE(Read("creds/r").ok());
  ASSERT_TRUE(Read("creds/r").ok());
  EXPECT_EQ(fake_->calls()[0].params["Path"], "/a/");
  ASSERT_TRUE(Write("roles/r", {{"user_path", "/b/"}}).ok());
  fake_->ClearCalls();
  ASSERT_TRUE(Read("creds/r").ok());
  EXPECT_EQ(fake_->calls()[0].params["Path"], "/b/");

  auto stored = *SyncWait(logical::GetJson(&storage_, "role/r"));
  (*stored)["user_path"] = "/c/";
  ASSERT_TRUE(SyncWait(logical::PutJson(&storage_, "role/r", *stored)).ok());
  fake_->ClearCalls();
  ASSERT_TRUE(Read("creds/r").ok());
  EXPECT_EQ(fake_->calls()[0].params["Path"], "/c/");
  EXPECT_EQ(Read("roles/r")->data["user_path"], "/c/");

  ASSERT_TRUE(SyncWait(storage_.Delete("role/r")).ok());
  EXPECT_FALSE(Read("creds/r").ok());
  ASSERT_TRUE(SyncWait(storage_.Put("role/r", "{not json")).ok());
  auto corrupt = Read("creds/r");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("corrupt"), std::string::npos);

  // config/root: a new username_template written straight to storage is used at once.
  ASSERT_TRUE(SyncWait(storage_.Delete("role/r")).ok());
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto cfg = *SyncWait(logical::GetJson(&storage_, "config/root"));
  (*cfg)["username_template"] = "vault-direct-{{ random 8 }}";
  ASSERT_TRUE(SyncWait(logical::PutJson(&storage_, "config/root", *cfg)).ok());
  fake_->ClearCalls();
  ASSERT_TRUE(Read("creds/r").ok());
  EXPECT_EQ(fake_->calls()[0].params["UserName"].get<std::string>().rfind("vault-direct-", 0), 0u)
      << fake_->calls()[0].params["UserName"];
}

TEST_F(AwsEngineTest, IamUserLeaseDefaultsWithoutConfigLeaseAndTtlIgnored) {
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto r = Do(Operation::kUpdate, "creds/r", {{"ttl", "5m"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secret->ttl, 3600);   // Vault 0.2's 1 h without config/lease
  EXPECT_EQ(r->secret->max_ttl, 0);  // 0 = the mount's max
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("ttl parameter is ignored"), std::string::npos);
}

TEST_F(AwsEngineTest, UsernameFromDisplayName) {
  ConfigureRoot();
  ASSERT_TRUE(Write("roles/my role", {{"credential_type", "iam_user"}}).status().code() ==
              StatusCode::kNotFound);  // names with spaces never match the route
  ASSERT_TRUE(
      Write("roles/r.1", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto a = Do(Operation::kRead, "creds/r.1", Json::object(), "userpass-some user@example.com");
  ASSERT_TRUE(a.ok());
  std::string name = a->secret->internal_data["username"];
  EXPECT_EQ(name.rfind("vault-userpass-some_user@example.com-r.1-1700000000-", 0), 0u) << name;
  EXPECT_LE(name.size(), 64u);
  auto b = Do(Operation::kRead, "creds/r.1", Json::object(), "");
  std::string token_name = b->secret->internal_data["username"];
  EXPECT_EQ(token_name.rfind("vault-token-r.1-", 0), 0u) << token_name;
  // Very long display names are cut to fit.
  auto c = Do(Operation::kRead, "creds/r.1", Json::object(), std::string(300, 'd'));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->secret->internal_data["username"].get<std::string>().size(), 64u);
}

TEST_F(AwsEngineTest, UnknownRole) {
  ConfigureRoot();
  EXPECT_EQ(Read("creds/nope").status().message(), "Role \"nope\" not found");
  EXPECT_EQ(Read("sts/nope").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_->actions().empty());
}

// A failure at any step after CreateUser undoes everything before answering. The steps after
// CreateUser are requested together, so all of them are sent, then the full teardown.
TEST_F(AwsEngineTest, IamUserFailureAtEachStepRollsBack) {
  ConfigureRoot();
  FullIamRole("full");
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"AttachUserPolicy", "Error attaching user policy: injected"},
      {"PutUserPolicy", "Error putting user policy: injected"},
      {"AddUserToGroup", "Error adding user to group: injected"},
      {"TagUser", "Error adding tags to user: injected"},
      {"CreateAccessKey", "Error creating access keys: injected"},
  };
  for (const auto& [action, message] : steps) {
    fake_->ClearCalls();
    fake_->FailNext(action, FakeAws::Error("AccessDenied", 403));
    auto r = Read("creds/full");
    ASSERT_FALSE(r.ok()) << action;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), message);
    EXPECT_EQ(fake_->user_count(), 0u) << action;
    EXPECT_TRUE(Wals().empty()) << action;
    // The whole issue sequence (the fake answers inline, so in Vault's order), then the teardown.
    Actions expected(kIssueIamUser.begin(), kIssueIamUser.end());
    auto actions = fake_->actions();
    ASSERT_GT(actions.size(), expected.size());
    EXPECT_EQ(Actions(actions.begin(), actions.begin() + expected.size()), expected);
    EXPECT_EQ(actions[expected.size()], "ListGroupsForUser");
    EXPECT_EQ(actions.back(), "DeleteUser");
  }
}

TEST_F(AwsEngineTest, CreateUserFailures) {
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  // A plain refusal: nothing was created, nothing to undo.
  fake_->FailNext("CreateUser",
                  FakeAws::Error("AccessDenied", 403,
                                 "User: arn:aws:iam::000000000000:user/hashicorp is not authorized "
                                 "to perform: iam:CreateUser"));
  auto r = Read("creds/r");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Error creating IAM user: User: arn:aws:iam::000000000000:user/hashicorp "
            "is not authorized to perform: iam:CreateUser");
  EXPECT_EQ(fake_->actions(), Actions{"CreateUser"});
  EXPECT_TRUE(Wals().empty());
  // Throttling after the client's retries: 502.
  fake_->ClearCalls();
  fake_->FailNext("CreateUser", FakeAws::Error("Throttling", 400, "Rate exceeded"));
  EXPECT_EQ(Read("creds/r").status().code(), StatusCode::kUpstreamThrottled);
  // A 5xx may have created the user anyway: the engine checks and cleans up.
  fake_->ClearCalls();
  fake_->FailNext("CreateUser", FakeAws::Error("ServiceFailure", 500));
  r = Read("creds/r");
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_EQ(fake_->actions(), Concat({"CreateUser"}, kRevokeFirstRound));
  EXPECT_TRUE(Wals().empty());
}

TEST_F(AwsEngineTest, FailedCleanupLeavesWalForRollback) {
  ConfigureRoot();
  FullIamRole("full");
  fake_->FailNext("CreateAccessKey", FakeAws::Error("AccessDenied", 403));
  fake_->FailNext("DeleteUser", FakeAws::Error("ServiceFailure", 500));
  auto r = Read("creds/full");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.status().messages().size(), 2u);
  EXPECT_EQ(r.status().messages()[0], "Error creating access keys: injected");
  EXPECT_NE(r.status().messages()[1].find("will be removed by rollback"), std::string::npos);
  EXPECT_EQ(fake_->user_count(), 1u);
  ASSERT_EQ(Wals().size(), 1u);
  // Too young for the periodic rollback…
  auto rb = Rollback();
  EXPECT_EQ(rb->data["pending"], 1);
  EXPECT_EQ(fake_->user_count(), 1u);
  // …but not a minute later.
  clock_.AdvanceSeconds(61);
  rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 1);
  EXPECT_EQ(fake_->user_count(), 0u);
  EXPECT_TRUE(Wals().empty());
}

TEST_F(AwsEngineTest, RollbackRemovesLeftoversOfACrash) {
  ConfigureRoot();
  // A crash after CreateAccessKey: the user exists with everything attached, only the WAL
  // entry knows about it.
  testing::FakeUser u;
  u.name = "vault-root-x-1700000000-crashcrashcrashcras";
  u.path = "/";
  u.inline_policies["x"] = kPolicyCompact;
  u.attached = {"arn:aws:iam::aws:policy/ReadOnlyAccess"};
  u.groups = {"devs"};
  u.keys = {"AKIACRASH00000000001"};
  fake_->AddGroup("devs");
  fake_->AddUser(u);
  ASSERT_TRUE(
      SyncWait(logical::PutWal(&storage_, "user", {{"username", u.name}}, clock_.NowSeconds()))
          .ok());
  // A crash before CreateUser landed: nothing to undo, the entry just goes.
  ASSERT_TRUE(SyncWait(logical::PutWal(&storage_, "user", {{"username", "vault-never-created"}},
                                       clock_.NowSeconds()))
                  .ok());
  clock_.AdvanceSeconds(60);
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 2);
  EXPECT_EQ(rb->data["failed"], 0);
  EXPECT_FALSE(fake_->HasUser(u.name));
  EXPECT_TRUE(Wals().empty());
  // Unknown kinds are reported, not dropped.
  ASSERT_TRUE(
      SyncWait(logical::PutWal(&storage_, "other", Json::object(), clock_.NowSeconds())).ok());
  rb = Rollback(0);
  EXPECT_EQ(rb->data["failed"], 1);
  EXPECT_EQ(Wals().size(), 1u);
}

TEST_F(AwsEngineTest, RollbackUndoesEntriesOfAnEarlierProcessAtOnce) {
  ConfigureRoot();
  testing::FakeUser u;
  u.name = "vault-root-x-1700000000-killedkilledkilledk";
  u.path = "/";
  u.keys = {"AKIAKILLED0000000001"};
  fake_->AddUser(u);
  // Written by a process that was killed a moment ago (another boot id, or none: older builds).
  Json doc = {{"kind", "user"},
              {"data", {{"username", u.name}}},
              {"created_at", clock_.NowSeconds()},
              {"boot", "an-earlier-process"}};
  ASSERT_TRUE(SyncWait(logical::PutJson(&storage_, "wal/earlier", doc)).ok());
  // Our own young entry (a request that may still be running) is left alone.
  ASSERT_TRUE(SyncWait(logical::PutWal(&storage_, "user", {{"username", "vault-mine"}},
                                       clock_.NowSeconds()))
                  .ok());
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 1);
  EXPECT_EQ(rb->data["pending"], 1);
  EXPECT_FALSE(fake_->HasUser(u.name));
  // Kept until min age: a CreateUser the dead process had sent may still land.
  EXPECT_EQ(Wals().size(), 2u);
  fake_->AddUser(u);  // ... and it did
  clock_.AdvanceSeconds(60);
  rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 2);
  EXPECT_FALSE(fake_->HasUser(u.name));
  EXPECT_TRUE(Wals().empty());
}

TEST_F(AwsEngineTest, RevokeCallOrderAndIdempotence) {
  ConfigureRoot();
  FullIamRole("full");
  auto issued = Read("creds/full");
  ASSERT_TRUE(issued.ok());
  std::string user = issued->secret->internal_data["username"];
  fake_->ClearCalls();
  auto rv = LeaseOp(Operation::kRevoke, *issued);
  ASSERT_TRUE(rv.ok()) << rv.status().message();
  EXPECT_EQ(fake_->actions(), kRevokeIamUser);
  auto calls = fake_->calls();
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(calls[i].params["MaxItems"], 1000) << calls[i].action;
  EXPECT_EQ(calls[9].params["AccessKeyId"], issued->data["access_key"]);
  EXPECT_EQ(calls[10].params["PolicyArn"], "arn:aws:iam::aws:policy/ReadOnlyAccess");
  EXPECT_EQ(calls[11].params["PolicyName"], "full");
  EXPECT_EQ(calls[12].params["GroupName"], "devs");
  for (const auto& c : calls) EXPECT_EQ(c.params.value("UserName", user), user) << c.action;
  EXPECT_FALSE(fake_->HasUser(user));
  EXPECT_FALSE(fake_->KeyExists(issued->data["access_key"]));
  // Revoking again: NoSuchEntity in the first round means already gone (even for a young lease).
  fake_->ClearCalls();
  EXPECT_TRUE(LeaseOp(Operation::kRevoke, *issued).ok());
  EXPECT_EQ(fake_->actions(), kRevokeFirstRound);
}

// Whatever was done to the issued user (a console password, MFA, certificates, SSH keys, Git
// credentials, more policies), the revocation removes it all, then the user.
TEST_F(AwsEngineTest, RevokeRemovesEverythingAttachedToTheUser) {
  ConfigureRoot();
  FullIamRole("full");
  auto issued = Read("creds/full");
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  std::string user = issued->secret->internal_data["username"];
  fake_->SetLoginProfile(user, true);
  std::string virtual_mfa = fake_->AddMfaDevice(user, /*is_virtual=*/true);
  std::string hardware_mfa = fake_->AddMfaDevice(user, /*is_virtual=*/false);
  std::string cert = fake_->AddSigningCertificate(user);
  std::string ssh = fake_->AddSshPublicKey(user);
  std::string git = fake_->AddServiceCredential(user);
  std::string second_key = fake_->AddKey(user);
  // As it is, DeleteUser refuses.
  ::vault::aws::ClientConfig root;
  root.credentials = {kRootAccessKey, kRootSecretKey, ""};
  auto refused = SyncWait(fake_->NewIam(root)->DeleteUser(user));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "Cannot delete entity, must delete login profile first.");
  fake_->ClearCalls();

  auto rv = LeaseOp(Operation::kRevoke, *issued);
  ASSERT_TRUE(rv.ok()) << rv.status().message();
  EXPECT_FALSE(fake_->HasUser(user));
  EXPECT_FALSE(fake_->VirtualMfaDeviceExists(virtual_mfa));  // deactivated, then deleted
  EXPECT_FALSE(fake_->KeyExists(second_key));
  Actions expected =
      Concat(kRevokeFirstRound,
             {"DeleteAccessKey", "DeleteAccessKey", "DeleteSigningCertificate",
              "DeleteSSHPublicKey", "DeleteServiceSpecificCredential", "DeactivateMFADevice",
              "DeleteVirtualMFADevice", "DeactivateMFADevice", "DetachUserPolicy",
              "DeleteUserPolicy", "RemoveUserFromGroup", "DeleteUser"});
  EXPECT_EQ(fake_->actions(), expected);
  auto calls = fake_->calls();
  auto find = [&](const std::string& action, size_t nth = 0) -> Json {
    for (const auto& c : calls)
      if (c.action == action && nth-- == 0) return c.params;
    return Json();
  };
  EXPECT_EQ(find("DeleteSigningCertificate")["CertificateId"], cert);
  EXPECT_EQ(find("DeleteSSHPublicKey")["SSHPublicKeyId"], ssh);
  EXPECT_EQ(find("DeleteServiceSpecificCredential")["ServiceSpecificCredentialId"], git);
  EXPECT_EQ(find("DeactivateMFADevice", 0)["SerialNumber"], virtual_mfa);
  EXPECT_EQ(find("DeleteVirtualMFADevice")["SerialNumber"], virtual_mfa);
  // A hardware device has no ARN: it is deactivated only.
  EXPECT_EQ(find("DeactivateMFADevice", 1)["SerialNumber"], hardware_mfa);
}

// A user left by a crashed issue, with everything attached, is removed by the rollback too.
TEST_F(AwsEngineTest, RollbackRemovesEverythingAttachedToTheUser) {
  ConfigureRoot();
  testing::FakeUser u;
  u.name = "vault-root-x-1700000000-crashcrashcrashcras";
  u.path = "/";
  u.login_profile = true;
  u.mfa_devices = {"arn:aws:iam::123456789012:mfa/crash"};
  u.signing_certificates = {"CERTCRASHCRASHCRASHCRASH"};
  u.ssh_public_keys = {"APKACRASHCRASHCRASH1"};
  u.service_credentials = {"ACCACRASHCRASHCRASH1"};
  fake_->AddUser(u);
  ASSERT_TRUE(
      SyncWait(logical::PutWal(&storage_, "user", {{"username", u.name}}, clock_.NowSeconds()))
          .ok());
  clock_.AdvanceSeconds(60);
  auto rb = Rollback();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 1);
  EXPECT_FALSE(fake_->HasUser(u.name));
  EXPECT_FALSE(fake_->VirtualMfaDeviceExists(u.mfa_devices[0]));
  EXPECT_TRUE(Wals().empty());
}

TEST_F(AwsEngineTest, RevokeFailsWhileSomethingCannotBeRemoved) {
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto issued = Read("creds/r");
  ASSERT_TRUE(issued.ok());
  std::string user = issued->secret->internal_data["username"];
  fake_->AddSshPublicKey(user);
  fake_->FailNext("DeleteSSHPublicKey", FakeAws::Error("ServiceFailure", 500, "try later"));
  auto rv = LeaseOp(Operation::kRevoke, *issued);
  EXPECT_EQ(rv.status().code(), StatusCode::kUpstream);
  EXPECT_EQ(rv.status().message(),
            "Error deleting SSH public key of IAM user " + user + ": try later");
  EXPECT_TRUE(fake_->HasUser(user));
  EXPECT_TRUE(LeaseOp(Operation::kRevoke, *issued).ok());  // the retry succeeds
  EXPECT_FALSE(fake_->HasUser(user));
  // A list that fails (other than NoSuchEntity) stops the teardown before any deletion.
  issued = Read("creds/r");
  ASSERT_TRUE(issued.ok());
  user = issued->secret->internal_data["username"];
  fake_->FailNext("ListSigningCertificates", FakeAws::Error("Throttling", 400, "Rate exceeded"));
  fake_->ClearCalls();
  rv = LeaseOp(Operation::kRevoke, *issued);
  EXPECT_EQ(rv.status().code(), StatusCode::kUpstreamThrottled);
  EXPECT_EQ(rv.status().message(),
            "Error listing signing certificates of IAM user " + user + ": Rate exceeded");
  EXPECT_EQ(fake_->actions(), kRevokeFirstRound);
  EXPECT_TRUE(fake_->HasUser(user));
}

// Vault's recommended policy for the mount's credentials does not allow the calls that look for
// login profiles, MFA devices, certificates, SSH keys and service-specific credentials. Refused,
// they do not stop the revocation of a user that has none; DeleteUser is the judge, and when it
// refuses, the error says which calls were not allowed.
TEST_F(AwsEngineTest, RevokeWithoutPermissionToLookForTheRest) {
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto denied = [&] {
    for (const char* action : {"ListMFADevices", "ListSigningCertificates", "ListSSHPublicKeys",
                               "ListServiceSpecificCredentials", "DeleteLoginProfile"})
      fake_->FailNext(action, FakeAws::Error("AccessDenied", 403, "not authorized"));
  };
  auto issued = Read("creds/r");
  ASSERT_TRUE(issued.ok());
  std::string user = issued->secret->internal_data["username"];
  denied();
  auto rv = LeaseOp(Operation::kRevoke, *issued);
  ASSERT_TRUE(rv.ok()) << rv.status().message();
  EXPECT_FALSE(fake_->HasUser(user));

  issued = Read("creds/r");
  ASSERT_TRUE(issued.ok());
  user = issued->secret->internal_data["username"];
  fake_->SetLoginProfile(user, true);
  denied();
  rv = LeaseOp(Operation::kRevoke, *issued);
  EXPECT_EQ(rv.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(rv.status().messages().size(), 2u);
  EXPECT_EQ(rv.status().messages()[0], "Error deleting IAM user " + user +
                                           ": Cannot delete entity, must delete login profile "
                                           "first.");
  EXPECT_EQ(rv.status().messages()[1],
            "not allowed to look for what blocks the deletion: iam:ListMFADevices "
            "iam:ListSigningCertificates iam:ListSSHPublicKeys "
            "iam:ListServiceSpecificCredentials iam:DeleteLoginProfile");
  EXPECT_TRUE(fake_->HasUser(user));
  // The lists that were always needed are not excused.
  fake_->FailNext("ListAccessKeys", FakeAws::Error("AccessDenied", 403, "not authorized"));
  rv = LeaseOp(Operation::kRevoke, *issued);
  EXPECT_EQ(rv.status().message(),
            "Error listing access keys of IAM user " + user + ": not authorized");
  // Once allowed, the revocation goes through.
  EXPECT_TRUE(LeaseOp(Operation::kRevoke, *issued).ok());
  EXPECT_FALSE(fake_->HasUser(user));
}

// A virtual MFA device that cannot be deleted once deactivated no longer blocks the user's
// deletion: it is logged and left, the user goes.
TEST_F(AwsEngineTest, RevokeGoesOnWhenAVirtualMfaDeviceCannotBeDeleted) {
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto issued = Read("creds/r");
  ASSERT_TRUE(issued.ok());
  std::string user = issued->secret->internal_data["username"];
  std::string serial = fake_->AddMfaDevice(user);
  fake_->FailNext("DeleteVirtualMFADevice", FakeAws::Error("AccessDenied", 403, "not authorized"));
  auto rv = LeaseOp(Operation::kRevoke, *issued);
  ASSERT_TRUE(rv.ok()) << rv.status().message();
  EXPECT_FALSE(fake_->HasUser(user));
  EXPECT_TRUE(fake_->VirtualMfaDeviceExists(serial));
}

TEST_F(AwsEngineTest, RenewReappliesConfigLease) {
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  auto issued = Read("creds/r");
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(Write("config/lease", {{"lease", "2h"}, {"lease_max", "48h"}}).ok());
  fake_->ClearCalls();
  auto rn = LeaseOp(Operation::kRenew, *issued, 600);
  ASSERT_TRUE(rn.ok()) << rn.status().message();
  ASSERT_TRUE(rn->secret.has_value());
  EXPECT_EQ(rn->secret->ttl, 7200);
  EXPECT_EQ(rn->secret->max_ttl, 172800);
  EXPECT_TRUE(rn->secret->renewable);
  EXPECT_EQ(rn->secret->internal_data["username"], issued->secret->internal_data["username"]);
  EXPECT_TRUE(fake_->actions().empty());  // renewing needs no AWS call
}

TEST_F(AwsEngineTest, ConcurrentIssueAndRevoke) {
  ConfigureRoot();
  FullIamRole("full");
  std::mutex mu;
  std::vector<Response> issued;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto r = Read("creds/full");
        ASSERT_TRUE(r.ok()) << r.status().message();
        std::lock_guard l(mu);
        issued.push_back(std::move(*r));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(issued.size(), 40u);
  EXPECT_EQ(fake_->user_count(), 40u);
  EXPECT_EQ(Wals().size(), 40u);
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < issued.size(); i += 4)
        EXPECT_TRUE(LeaseOp(Operation::kRevoke, issued[i]).ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fake_->user_count(), 0u);
}

// ---------------------------------------------------------------------------------------------
// wait_for_propagation

TEST_F(AwsEngineTest, WaitForPropagationProbesWithTheNewKey) {
  ConfigureRoot();
  ASSERT_TRUE(Write("roles/r", {{"credential_type", "iam_user"},
                                {"policy_document", kPolicy},
                                {"wait_for_propagation", true}})
                  .ok());
  fake_->RejectNewKeysFor(3);
  auto r = Read("creds/r");
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto calls = fake_->calls();
  Actions expected = {"CreateUser",        "PutUserPolicy",     "CreateAccessKey",
                      "GetCallerIdentity", "GetCallerIdentity", "GetCallerIdentity",
                      "GetCallerIdentity"};
  EXPECT_EQ(fake_->actions(), expected);
  for (size_t i = 3; i < calls.size(); ++i) EXPECT_EQ(calls[i].access_key, r->data["access_key"]);
  EXPECT_EQ(sleeps_, (std::vector<int64_t>{250, 500, 1000}));  // backoff between probes
  // The probe client uses the configured endpoints with the new key.
  auto sts = fake_->sts_configs();
  ASSERT_FALSE(sts.empty());
  EXPECT_EQ(sts.back().credentials.access_key_id, r->data["access_key"]);
  EXPECT_EQ(sts.back().region, "us-east-1");
  EXPECT_EQ(Wals().size(), 1u);
}

TEST_F(AwsEngineTest, WaitForPropagationTimesOutAndRollsBack) {
  ConfigureRoot();
  ASSERT_TRUE(Write("roles/r", {{"credential_type", "iam_user"},
                                {"policy_document", kPolicy},
                                {"wait_for_propagation", true},
                                {"propagation_timeout", "10s"}})
                  .ok());
  fake_->RejectNewKeysFor(1000);
  int64_t start = clock_.NowSeconds();
  auto r = Read("creds/r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_NE(r.status().message().find("timed out after 10s"), std::string::npos);
  EXPECT_GE(clock_.NowSeconds() - start, 10);
  EXPECT_LE(clock_.NowSeconds() - start, 11);
  EXPECT_EQ(fake_->user_count(), 0u);
  EXPECT_TRUE(Wals().empty());
  EXPECT_EQ(fake_->actions().back(), "DeleteUser");
}

TEST_F(AwsEngineTest, RollbackLeavesEntriesOfRunningRequestsAlone) {
  ConfigureRoot();
  ASSERT_TRUE(Write("roles/r", {{"credential_type", "iam_user"},
                                {"policy_document", kPolicy},
                                {"wait_for_propagation", true},
                                {"propagation_timeout", "2m"}})
                  .ok());
  fake_->RejectNewKeysFor(1);
  // While the request waits for propagation, its entry is far older than the rollback age.
  Result<Response> rb = Status::Ok();
  during_sleep_ = [&] {
    clock_.AdvanceSeconds(90);
    rb = Rollback();
  };
  auto r = Read("creds/r");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->data["rolled_back"], 0);
  EXPECT_EQ(rb->data["failed"], 1);
  EXPECT_NE(rb->data["errors"][0].get<std::string>().find("still in progress"), std::string::npos);
  EXPECT_TRUE(fake_->HasUser(r->secret->internal_data["username"]));
  EXPECT_EQ(Wals().size(), 1u);
  // Once the request is done (and had core not taken the entry over), rollback may act.
  EXPECT_EQ(Rollback()->data["rolled_back"], 1);
}

// ---------------------------------------------------------------------------------------------
// STS credential types

TEST_F(AwsEngineTest, AssumedRole) {
  ConfigureRoot();
  fake_->AddGroup(
      "readers", {"arn:aws:iam::aws:policy/GroupPolicy"},
      {{"inline",
        R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}})"}});
  ASSERT_TRUE(
      Write("roles/assume", {{"credential_type", "assumed_role"},
                             {"role_arns", std::string(kRoleArn) + ",arn:aws:iam::1:role/Other"},
                             {"policy_document", kPolicy},
                             {"policy_arns", "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                             {"iam_groups", "readers"},
                             {"session_tags", {{"team", "eng"}, {"env", "prod"}}},
                             {"external_id", "ext-123"},
                             {"default_sts_ttl", "30m"},
                             {"max_sts_ttl", "2h"}})
          .ok());
  // Two allowed ARNs: one must be chosen, and from the list.
  EXPECT_EQ(Read("sts/assume").status().message(),
            "did not supply a role_arn parameter and unable to determine one");
  EXPECT_EQ(
      Do(Operation::kRead, "sts/assume", {{"role_arn", "arn:aws:iam::1:role/Nope"}})
          .status()
          .message(),
      "role_arn \"arn:aws:iam::1:role/Nope\" not in allowed role arns for Vault role \"assume\"");
  EXPECT_TRUE(fake_->actions().empty());

  auto r = Do(Operation::kRead, "sts/assume", {{"role_arn", kRoleArn}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(fake_->actions(), (Actions{"ListAttachedGroupPolicies", "ListGroupPolicies",
                                       "GetGroupPolicy", "AssumeRole"}));
  auto call = fake_->calls().back().params;
  EXPECT_EQ(call["RoleArn"], kRoleArn);
  EXPECT_EQ(call["DurationSeconds"], 1800);  // default_sts_ttl
  EXPECT_EQ(call["ExternalId"], "ext-123");
  EXPECT_EQ(call["PolicyArns"], Json({"arn:aws:iam::aws:policy/ReadOnlyAccess",
                                      "arn:aws:iam::aws:policy/GroupPolicy"}));
  EXPECT_EQ(call["Tags"],
            Json::array({Json::array({"env", "prod"}), Json::array({"team", "eng"})}));
  auto policy = ParseJson(call["Policy"].get<std::string>());
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)["Statement"].size(), 2u);  // role's + the group's inline policy
  std::string session = call["RoleSessionName"];
  EXPECT_TRUE(std::regex_match(session, std::regex("vault-root-assume-1700000000-[A-Za-z0-9]{20}")))
      << session;
  // Response shape and lease.
  for (const char* k :
       {"access_key", "secret_key", "security_token", "session_token", "arn", "ttl"})
    EXPECT_TRUE(r->data.contains(k)) << k;
  EXPECT_EQ(r->data["security_token"], r->data["session_token"]);
  EXPECT_EQ(r->data["arn"], "arn:aws:sts::123456789012:assumed-role/DeployRole/" + session);
  EXPECT_EQ(r->data["ttl"], 1800);
  EXPECT_FALSE(r->secret->renewable);
  EXPECT_EQ(r->secret->ttl, 1800);
  EXPECT_TRUE(r->secret->wal_ids.empty());
  EXPECT_TRUE(Wals().empty());

  // Requested ttl wins, capped by max_sts_ttl; a given session name is normalised.
  fake_->ClearCalls();
  r = Do(Operation::kUpdate, "sts/assume",
         {{"role_arn", kRoleArn}, {"ttl", "5h"}, {"role_session_name", "my session"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(fake_->calls().back().params["DurationSeconds"], 7200);
  EXPECT_EQ(fake_->calls().back().params["RoleSessionName"], "my_session");
  EXPECT_EQ(Do(Operation::kRead, "sts/assume", {{"role_arn", kRoleArn}, {"role_session_name", "x"}})
                .status()
                .message(),
            "role_session_name must be 2 to 64 characters long");

  // Not renewable; revoking is a no-op.
  EXPECT_EQ(LeaseOp(Operation::kRenew, *r).status().code(), StatusCode::kInvalidArgument);
  fake_->ClearCalls();
  EXPECT_TRUE(LeaseOp(Operation::kRevoke, *r).ok());
  EXPECT_TRUE(fake_->actions().empty());
}

TEST_F(AwsEngineTest, AssumedRoleSingleArnAndCredsPath) {
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/a", {{"credential_type", "assumed_role"}, {"role_arns", kRoleArn}}).ok());
  auto r = Read("creds/a");  // creds/ works for non-legacy STS roles too
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto call = fake_->calls().back().params;
  EXPECT_EQ(call["RoleArn"], kRoleArn);
  EXPECT_EQ(call["DurationSeconds"], 3600);
  EXPECT_EQ(call["Policy"], "");
  EXPECT_EQ(call["ExternalId"], "");
  // Without max_sts_ttl the mount's max caps the TTL.
  mount_.max_lease_ttl = 1000;
  fake_->ClearCalls();
  ASSERT_TRUE(Do(Operation::kRead, "sts/a", {{"ttl", "2h"}}).ok());
  EXPECT_EQ(fake_->calls().back().params["DurationSeconds"], 1000);
  // Errors from STS read like Vault's.
  fake_->FailNext("AssumeRole", FakeAws::Error("AccessDenied", 403, "not authorized"));
  EXPECT_EQ(Read("sts/a").status().message(), "Error assuming role: not authorized");
}

TEST_F(AwsEngineTest, FederationToken) {
  ConfigureRoot();
  ASSERT_TRUE(Write("roles/fed", {{"credential_type", "federation_token"}}).ok());
  EXPECT_EQ(Read("sts/fed").status().message(),
            "must specify at least one of policy_arns or policy_document with federation_token "
            "credential_type");
  ASSERT_TRUE(Write("roles/fed", {{"policy_document", kPolicy}, {"default_sts_ttl", "2h"}}).ok());
  auto r = Read("sts/fed");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(fake_->actions(), Actions{"GetFederationToken"});
  auto call = fake_->calls().back().params;
  std::string name = call["Name"];
  EXPECT_TRUE(std::regex_match(name, std::regex("vault-1700000000-[A-Za-z0-9]{15}"))) << name;
  EXPECT_EQ(name.size(), 32u);
  EXPECT_EQ(call["DurationSeconds"], 7200);
  EXPECT_EQ(call["Policy"], kPolicyCompact);
  EXPECT_FALSE(r->data.contains("arn"));
  EXPECT_EQ(r->data["ttl"], 7200);
  EXPECT_FALSE(r->secret->renewable);
  EXPECT_EQ(r->secret->internal_data["username"], name);
  fake_->FailNext("GetFederationToken", FakeAws::Error("Throttling", 400, "Rate exceeded"));
  auto t = Read("sts/fed");
  EXPECT_EQ(t.status().code(), StatusCode::kUpstreamThrottled);
  EXPECT_EQ(t.status().message(), "Error generating STS keys: Rate exceeded");
}

TEST_F(AwsEngineTest, SessionToken) {
  ConfigureRoot();
  ASSERT_TRUE(Write("roles/st", {{"credential_type", "session_token"},
                                 {"mfa_serial_number", "arn:aws:iam::123456789012:mfa/dev"}})
                  .ok());
  EXPECT_EQ(Do(Operation::kRead, "sts/st", {{"mfa_code", "12ab"}}).status().message(),
            "mfa_code must be 6 digits");
  auto r = Do(Operation::kUpdate, "creds/st", {{"mfa_code", "123456"}, {"ttl", "900"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto call = fake_->calls().back().params;
  EXPECT_EQ(fake_->actions(), Actions{"GetSessionToken"});
  EXPECT_EQ(call["SerialNumber"], "arn:aws:iam::123456789012:mfa/dev");
  EXPECT_EQ(call["TokenCode"], "123456");
  EXPECT_EQ(call["DurationSeconds"], 900);
  for (const char* k : {"access_key", "secret_key", "security_token", "session_token", "ttl"})
    EXPECT_TRUE(r->data.contains(k)) << k;
  EXPECT_EQ(r->secret->ttl, 900);
  EXPECT_FALSE(r->secret->renewable);
}

// ---------------------------------------------------------------------------------------------
// Clients

TEST_F(AwsEngineTest, ClientsBuiltFromConfigAndRebuiltOnChange) {
  ASSERT_TRUE(Write("config/root", {{"access_key", kRootAccessKey},
                                    {"secret_key", kRootSecretKey},
                                    {"region", "eu-central-1"},
                                    {"iam_endpoint", "https://iam.example"},
                                    {"sts_endpoint", "https://sts.example"},
                                    {"sts_region", "eu-west-1"},
                                    {"max_retries", 7}})
                  .ok());
  EXPECT_TRUE(fake_->iam_configs().empty());  // lazily
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  ASSERT_TRUE(Read("creds/r").ok());
  ASSERT_TRUE(Read("creds/r").ok());
  auto iam = fake_->iam_configs();
  ASSERT_EQ(iam.size(), 1u);  // cached
  EXPECT_EQ(iam[0].credentials.access_key_id, kRootAccessKey);
  EXPECT_EQ(iam[0].credentials.secret_access_key, kRootSecretKey);
  EXPECT_EQ(iam[0].region, "eu-central-1");
  EXPECT_EQ(iam[0].iam_endpoint, "https://iam.example");
  EXPECT_EQ(iam[0].sts_endpoint, "https://sts.example");
  EXPECT_EQ(iam[0].sts_region, "eu-west-1");
  EXPECT_EQ(iam[0].max_retries, 7);
  ASSERT_TRUE(Write("config/root", {{"max_retries", 2}}).ok());
  ASSERT_TRUE(Read("creds/r").ok());
  iam = fake_->iam_configs();
  ASSERT_EQ(iam.size(), 2u);  // rebuilt after the change
  EXPECT_EQ(iam[1].max_retries, 2);
  EXPECT_EQ(iam[1].rate_limit, 0);  // unlimited unless configured
}

TEST_F(AwsEngineTest, ConcurrentFirstRequestsShareOneClient) {
  // Two creds reads after a config change both find no client for it and build one. The one that
  // finishes second must use the first one's client, not replace it: the mount's rate limit lives
  // in the client, and two clients would each allow a full burst. IAM and STS alike.
  ConfigureRoot();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  ASSERT_TRUE(
      Write("roles/fed", {{"credential_type", "federation_token"}, {"policy_document", kPolicy}})
          .ok());
  for (const std::string path : {"creds/r", "sts/fed"}) {
    fake_->ClearCalls();
    bool inner_ok = false;
    fake_->during_new_client = [&] { inner_ok = Read(path).ok(); };
    ASSERT_TRUE(Read(path).ok()) << path;
    ASSERT_TRUE(inner_ok) << path;
    ASSERT_TRUE(Read(path).ok()) << path;
    std::set<const void*> used;
    for (const auto& c : fake_->calls()) used.insert(c.client);
    EXPECT_EQ(used.size(), 1u) << path << ": the requests used " << used.size() << " clients";
  }
  EXPECT_EQ(fake_->iam_configs().size(), 2u);  // both first requests built one
  EXPECT_EQ(fake_->sts_configs().size(), 2u);
}

TEST_F(AwsEngineTest, MaxCallsPerSecondIsStoredAndReachesTheClients) {
  ConfigureRoot();
  ASSERT_TRUE(Write("config/root", {{"max_calls_per_second", "150"}}).ok());
  EXPECT_EQ(Read("config/root")->data["max_calls_per_second"], 150);
  EXPECT_EQ(Read("config/root")->data["access_key"], kRootAccessKey);  // partial update
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  ASSERT_TRUE(
      Write("roles/s", {{"credential_type", "federation_token"}, {"policy_document", kPolicy}})
          .ok());
  ASSERT_TRUE(Read("creds/r").ok());
  ASSERT_TRUE(Read("sts/s").ok());
  ASSERT_EQ(fake_->iam_configs().size(), 1u);
  EXPECT_EQ(fake_->iam_configs()[0].rate_limit, 150);
  ASSERT_FALSE(fake_->sts_configs().empty());
  EXPECT_EQ(fake_->sts_configs().back().rate_limit, 150);
  // Other writes keep it; 0 lifts it and rebuilds the clients.
  ASSERT_TRUE(Write("config/root", {{"max_retries", 2}}).ok());
  EXPECT_EQ(Read("config/root")->data["max_calls_per_second"], 150);
  ASSERT_TRUE(Write("config/root", {{"max_calls_per_second", 0}}).ok());
  ASSERT_TRUE(Read("creds/r").ok());
  EXPECT_EQ(fake_->iam_configs().back().rate_limit, 0);
}

TEST_F(AwsEngineTest, StsFallbackEndpoints) {
  ASSERT_TRUE(
      Write("config/root", {{"access_key", kRootAccessKey},
                            {"secret_key", kRootSecretKey},
                            {"sts_endpoint", "https://sts.primary"},
                            {"sts_region", "us-east-2"},
                            {"sts_fallback_endpoints", "https://sts.second,https://sts.third"},
                            {"sts_fallback_regions", "us-west-1,us-west-2"}})
          .ok());
  EXPECT_EQ(Read("config/root")->data["sts_fallback_regions"], Json({"us-west-1", "us-west-2"}));
  fake_->BreakStsEndpoint("https://sts.primary");
  ASSERT_TRUE(
      Write("roles/a", {{"credential_type", "assumed_role"}, {"role_arns", kRoleArn}}).ok());
  auto r = Read("sts/a");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(fake_->actions(), (Actions{"GetCallerIdentity", "GetCallerIdentity", "AssumeRole"}));
  auto sts = fake_->sts_configs();
  ASSERT_EQ(sts.size(), 2u);
  EXPECT_EQ(sts[1].sts_endpoint, "https://sts.second");
  EXPECT_EQ(sts[1].sts_region, "us-west-1");
  fake_->ClearCalls();
  ASSERT_TRUE(Read("sts/a").ok());
  EXPECT_EQ(fake_->actions(), Actions{"AssumeRole"});  // the chosen client is cached
}

// ---------------------------------------------------------------------------------------------
// config/rotate-root

TEST_F(AwsEngineTest, RotateRoot) {
  EXPECT_EQ(Write("config/rotate-root", Json::object()).status().message(),
            "no configuration found for config/root");
  ASSERT_TRUE(Write("config/root", {{"access_key", kRootAccessKey}}).ok());
  EXPECT_EQ(Write("config/rotate-root", Json::object()).status().message(),
            "Cannot call config/rotate-root when either access_key or secret_key is empty");
  ConfigureRoot();
  auto r = Write("config/rotate-root", Json::object());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(fake_->actions(),
            (Actions{"GetUser", "CreateAccessKey", "GetCallerIdentity", "DeleteAccessKey"}));
  auto calls = fake_->calls();
  std::string new_key = r->data["access_key"];
  EXPECT_NE(new_key, kRootAccessKey);
  EXPECT_EQ(calls[1].params["UserName"], testing::kRootUser);
  EXPECT_EQ(calls[2].access_key, new_key);  // the proof: the new key signs
  EXPECT_EQ(calls[3].params["AccessKeyId"], kRootAccessKey);
  for (size_t i : {0, 1, 3}) EXPECT_EQ(calls[i].access_key, kRootAccessKey);  // IAM: the old key
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(r->data.size(), 1u);
  EXPECT_EQ(Read("config/root")->data["access_key"], new_key);
  EXPECT_FALSE(fake_->KeyExists(kRootAccessKey));
  // The clients now sign with the new key.
  fake_->ClearCalls();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  ASSERT_TRUE(Read("creds/r").ok());
  EXPECT_EQ(fake_->calls()[0].access_key, new_key);
  // A user that already has two keys cannot rotate.
  fake_->AddKey(testing::kRootUser);
  fake_->ClearCalls();
  auto full = Write("config/rotate-root", Json::object());
  EXPECT_EQ(full.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(full.status().message().find("Cannot exceed quota for AccessKeysPerUser"),
            std::string::npos);
  EXPECT_EQ(Read("config/root")->data["access_key"], new_key);
}

// IAM is eventually consistent: the new key may be refused for a while. It is retried, and the
// old key deleted only once the new one worked and was stored.
TEST_F(AwsEngineTest, RotateRootWaitsForTheNewKeyToWork) {
  ConfigureRoot();
  fake_->RejectNewKeysFor(2);
  auto r = Write("config/rotate-root", Json::object());
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::string new_key = r->data["access_key"];
  EXPECT_EQ(fake_->actions(),
            (Actions{"GetUser", "CreateAccessKey", "GetCallerIdentity", "GetCallerIdentity",
                     "GetCallerIdentity", "DeleteAccessKey"}));
  EXPECT_EQ(sleeps_, (std::vector<int64_t>{250, 500}));
  EXPECT_EQ(Read("config/root")->data["access_key"], new_key);
  EXPECT_EQ(fake_->keys_of(testing::kRootUser), std::vector<std::string>{new_key});
}

// A new key that never works is deleted again; config/root keeps the old key, which still works.
TEST_F(AwsEngineTest, RotateRootKeepsTheOldKeyWhenTheNewOneDoesNotWork) {
  ConfigureRoot();
  fake_->RejectNewKeysFor(1000);
  int64_t start = clock_.NowSeconds();
  auto r = Write("config/rotate-root", Json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_EQ(r.status().message().rfind("timed out after 30s waiting for AWS to accept the new "
                                       "access key (last error: InvalidClientTokenId: ",
                                       0),
            0u)
      << r.status().message();
  EXPECT_TRUE(r.status().message().ends_with("; the new key was deleted and the old one kept"))
      << r.status().message();
  EXPECT_GE(clock_.NowSeconds() - start, 30);
  EXPECT_LE(clock_.NowSeconds() - start, 31);
  auto calls = fake_->calls();
  ASSERT_GE(calls.size(), 4u);
  EXPECT_EQ(calls.back().action, "DeleteAccessKey");
  EXPECT_EQ(calls.back().access_key, kRootAccessKey);
  std::string new_key = calls.back().params["AccessKeyId"];
  EXPECT_NE(new_key, kRootAccessKey);
  EXPECT_EQ(calls[1].action, "CreateAccessKey");
  for (size_t i = 2; i + 1 < calls.size(); ++i) {
    EXPECT_EQ(calls[i].action, "GetCallerIdentity");
    EXPECT_EQ(calls[i].access_key, new_key);
  }
  EXPECT_EQ(Read("config/root")->data["access_key"], kRootAccessKey);
  EXPECT_EQ(fake_->keys_of(testing::kRootUser), std::vector<std::string>{kRootAccessKey});
  // The engine still works with the old key.
  fake_->ClearCalls();
  ASSERT_TRUE(
      Write("roles/r", {{"credential_type", "iam_user"}, {"policy_document", kPolicy}}).ok());
  ASSERT_TRUE(Read("creds/r").ok());
  EXPECT_EQ(fake_->calls()[0].access_key, kRootAccessKey);
  // A refusal that is no propagation delay ends the wait at once, the same way.
  fake_->RejectNewKeysFor(0);
  fake_->FailNext("GetCallerIdentity", FakeAws::Error("AccessDenied", 403, "no"));
  fake_->ClearCalls();
  sleeps_.clear();
  r = Write("config/rotate-root", Json::object());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Error verifying the new access key: no; the new key was deleted and the old one "
            "kept");
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(fake_->keys_of(testing::kRootUser), std::vector<std::string>{kRootAccessKey});
  // If even that deletion fails, the error says so (and the old key is still kept).
  fake_->FailNext("GetCallerIdentity", FakeAws::Error("AccessDenied", 403, "no"));
  fake_->FailNext("DeleteAccessKey", FakeAws::Error("ServiceFailure", 500, "down"));
  r = Write("config/rotate-root", Json::object());
  EXPECT_NE(r.status().message().find("; the old key was kept, but deleting the new key AKIA"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(Read("config/root")->data["access_key"], kRootAccessKey);
  EXPECT_EQ(fake_->keys_of(testing::kRootUser).size(), 2u);
}

// A new key that works but cannot be stored is deleted; the old key stays.
TEST_F(AwsEngineTest, RotateRootKeepsTheOldKeyWhenTheNewOneCannotBeStored) {
  ConfigureRoot();
  storage_.fail_puts_of = "config/root";
  auto r = Write("config/rotate-root", Json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "error storing new access key: disk full");
  EXPECT_EQ(fake_->actions(),
            (Actions{"GetUser", "CreateAccessKey", "GetCallerIdentity", "DeleteAccessKey"}));
  storage_.fail_puts_of.clear();
  EXPECT_EQ(Read("config/root")->data["access_key"], kRootAccessKey);
  EXPECT_EQ(fake_->keys_of(testing::kRootUser), std::vector<std::string>{kRootAccessKey});
}

// ---------------------------------------------------------------------------------------------
// Help

TEST_F(AwsEngineTest, PathHelp) {
  auto root = Do(Operation::kHelp, "");
  ASSERT_TRUE(root.ok());
  EXPECT_NE(root->help->find("The AWS backend dynamically generates AWS access keys"),
            std::string::npos);
  for (const char* p : {"^config/root$", "^config/rotate-root$", "^config/lease$", "^roles/?$",
                        "^roles/(?P<name>", "^creds/(?P<name>", "^sts/(?P<name>"})
    EXPECT_NE(root->help->find(p), std::string::npos) << p;
  for (const char* p : {"config/root", "config/rotate-root", "config/lease", "roles/", "roles/x",
                        "creds/x", "sts/x"}) {
    auto h = Do(Operation::kHelp, p);
    ASSERT_TRUE(h.ok()) << p;
    EXPECT_NE(h->help->find("## DESCRIPTION"), std::string::npos) << p;
  }
  EXPECT_NE(Do(Operation::kHelp, "roles/x")->help->find("    policy_document (string)"),
            std::string::npos);
}

}  // namespace
}  // namespace vault::engines::awsengine
