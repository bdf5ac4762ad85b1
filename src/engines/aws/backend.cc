// The AWS engine: paths, configuration and roles. Credential issue, revoke and rollback live in
// creds.cc.
#include "engines/aws/backend.h"

#include <algorithm>
#include <set>

#include "engines/aws/policy.h"
#include "usertemplate/username_template.h"
#include "util/duration.h"
#include "util/log.h"
#include "util/random.h"
#include "util/strings.h"

namespace vault::engines {

namespace awsengine {

using logical::Field;
using logical::FieldType;
using logical::Operation;

namespace {

constexpr char kBackendHelp[] =
    "The AWS backend dynamically generates AWS access keys for a set of\n"
    "IAM policies. The AWS access keys have a configurable lease set and\n"
    "are automatically revoked at the end of the lease.\n"
    "\n"
    "After mounting this backend, credentials to generate IAM keys must\n"
    "be configured with the \"root\" path and policies must be written using\n"
    "the \"roles/\" endpoints before any access keys can be generated.";

constexpr char kNamePattern[] = "(?P<name>\\w(([\\w-.@]+)?\\w)?)";
constexpr char kLegacyWarning[] =
    "Detected use of legacy role or policy parameter. Please upgrade to use the new parameters.";

// The role parameters that cannot be combined with the legacy `policy`/`arn`.
const std::vector<std::string>& NewRoleParams() {
  static const std::vector<std::string> k = {"credential_type",
                                             "credential_types",
                                             "role_arns",
                                             "policy_arns",
                                             "policy_document",
                                             "iam_groups",
                                             "iam_tags",
                                             "session_tags",
                                             "external_id",
                                             "default_sts_ttl",
                                             "max_sts_ttl",
                                             "user_path",
                                             "permissions_boundary_arn",
                                             "mfa_serial_number",
                                             "wait_for_propagation",
                                             "propagation_timeout"};
  return k;
}

std::vector<std::string> SplitTypes(const std::string& s) {
  std::vector<std::string> out;
  for (auto& part : Split(s, ',')) {
    std::string t = Trim(part);
    if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

Task<bool> SleepCancelled() { co_return false; }

std::map<std::string, std::string> ToStringMap(const Json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (auto& [k, v] : j.items()) out[k] = v.is_string() ? v.get<std::string>() : DumpJson(v);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RootConfig

Json RootConfig::ToStorage() const {
  return {{"access_key", access_key},
          {"secret_key", secret_key},
          {"region", region},
          {"iam_endpoint", iam_endpoint},
          {"sts_endpoint", sts_endpoint},
          {"sts_region", sts_region},
          {"sts_fallback_endpoints", sts_fallback_endpoints},
          {"sts_fallback_regions", sts_fallback_regions},
          {"max_retries", max_retries},
          {"max_calls_per_second", max_calls_per_second},
          {"username_template", username_template}};
}

RootConfig RootConfig::FromStorage(const Json& j) {
  RootConfig c;
  if (!j.is_object()) return c;
  c.access_key = j.value("access_key", "");
  c.secret_key = j.value("secret_key", "");
  c.region = j.value("region", "");
  c.iam_endpoint = j.value("iam_endpoint", "");
  c.sts_endpoint = j.value("sts_endpoint", "");
  c.sts_region = j.value("sts_region", "");
  c.sts_fallback_endpoints = j.value("sts_fallback_endpoints", std::vector<std::string>{});
  c.sts_fallback_regions = j.value("sts_fallback_regions", std::vector<std::string>{});
  c.max_retries = j.value("max_retries", int64_t{-1});
  c.max_calls_per_second = j.value("max_calls_per_second", int64_t{0});
  c.username_template = j.value("username_template", "");
  return c;
}

Json RootConfig::ToResponseData() const {
  return {{"access_key", access_key},
          {"region", region},
          {"iam_endpoint", iam_endpoint},
          {"sts_endpoint", sts_endpoint},
          {"sts_region", sts_region},
          {"sts_fallback_endpoints", sts_fallback_endpoints},
          {"sts_fallback_regions", sts_fallback_regions},
          {"max_retries", max_retries},
          {"max_calls_per_second", max_calls_per_second},
          {"username_template", EffectiveTemplate()}};
}

const std::string& RootConfig::EffectiveTemplate() const {
  static const std::string kDefault = kDefaultUsernameTemplate;
  return username_template.empty() ? kDefault : username_template;
}

// ---------------------------------------------------------------------------------------------
// Construction and paths

AwsBackend::AwsBackend(std::shared_ptr<::vault::aws::ClientFactory> factory, Clock* clock,
                       AwsBackendOptions options)
    : logical::FrameworkBackend(kBackendHelp, BuildPaths(this),
                                {"config/root", "config/rotate-root"}),
      factory_(std::move(factory)),
      clock_(clock ? clock : SystemClock::Get()) {
  SetClock(clock_);
  if (options.sleep) {
    sleep_ = std::move(options.sleep);
  } else {
    timer_ = std::make_shared<DelayTimer>();
    std::weak_ptr<DelayTimer> weak = timer_;
    sleep_ = [weak](int64_t ms) -> Task<bool> {
      // Not a coroutine itself: returns the timer's task (or an immediate false).
      if (auto t = weak.lock()) return t->Sleep(ms);
      return SleepCancelled();
    };
  }
  SetSecretTypes({logical::SecretType{
      "access_keys",
      [this](Request& r) { return RenewSecret(r); },
      [this](Request& r) { return RevokeSecret(r); },
  }});
  SetWalRollback(logical::WalRollback{
      [this](Request& r, const logical::WalEntry& e) { return RollbackWal(r, e); }, 60});
  SetPeriodic([this](Request& r) { return RotateDueStaticRoles(r); });
}

std::vector<logical::Path> AwsBackend::BuildPaths(AwsBackend* self) {
  using logical::Path;
  auto async = [self](Task<Result<Response>> (AwsBackend::*fn)(Request&, const FieldData&)) {
    return [self, fn](Request& r, const FieldData& d) { return (self->*fn)(r, d); };
  };
  std::vector<Path> paths;

  Path root;
  root.pattern = "config/root";
  root.fields = {
      {"access_key", FieldType::kString, "Access key with permission to create new keys."},
      {"secret_key", FieldType::kString,
       "Secret key with permission to create new keys. Never returned on read."},
      {"region", FieldType::kString,
       "Region for API calls. Default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1."},
      {"iam_endpoint", FieldType::kString, "Endpoint to use for IAM calls (default: AWS's)."},
      {"sts_endpoint", FieldType::kString,
       "Endpoint to use for STS calls (default: https://sts.<region>.amazonaws.com)."},
      {"sts_region", FieldType::kString,
       "Signing region for sts_endpoint (default: region). Only used with sts_endpoint."},
      {"sts_fallback_endpoints", FieldType::kCommaStringSlice,
       "STS endpoints tried in order when sts_endpoint does not answer."},
      {"sts_fallback_regions", FieldType::kCommaStringSlice,
       "Signing regions of sts_fallback_endpoints (same length)."},
      {"max_retries", FieldType::kInt,
       "Maximum number of retries for recoverable errors of AWS calls; -1 = the client's "
       "default (3).",
       Json(-1)},
      {"max_calls_per_second", FieldType::kInt,
       "vault-cpp extension: the most IAM calls per second this mount makes (issue, revocation, "
       "rollback and static-role rotation share it; STS calls have a budget of the same size). "
       "0 = unlimited, backing off adaptively when AWS throttles.",
       Json(0)},
      {"username_template", FieldType::kString,
       "Template for the names of IAM users, role sessions and federation tokens. Rejected at "
       "write if it cannot parse or can produce names over 64 (IAM) / 32 (STS) characters. "
       "Empty resets to the default."},
  };
  root.async_operations[Operation::kRead] = async(&AwsBackend::ConfigRootRead);
  root.async_operations[Operation::kUpdate] = async(&AwsBackend::ConfigRootWrite);
  root.async_operations[Operation::kCreate] = async(&AwsBackend::ConfigRootWrite);
  root.existence_check = [](Request& r, const FieldData&) -> Task<Result<bool>> {
    CO_ASSIGN_OR_RETURN(auto v, co_await r.storage->Get("config/root"));
    co_return v.has_value();
  };
  root.synopsis = "Configure the root credentials that are used to manage IAM.";
  root.description =
      "Before doing anything, the AWS backend needs credentials that are able\n"
      "to manage IAM users, policies and access keys, and to call STS. This path\n"
      "configures them along with the region, optional IAM/STS endpoints, the\n"
      "retry budget and the username template. Writes are partial: only the\n"
      "fields sent are changed. The secret key is never returned on read.\n"
      "This endpoint does not check the credentials against AWS.";
  paths.push_back(std::move(root));

  Path rotate;
  rotate.pattern = "config/rotate-root";
  rotate.async_operations[Operation::kUpdate] = async(&AwsBackend::RotateRoot);
  rotate.synopsis = "Request to rotate the AWS credentials used by Vault.";
  rotate.description =
      "This path attempts to rotate the AWS credentials used by Vault for this\n"
      "mount: it finds the IAM user of the configured access key (iam:GetUser),\n"
      "creates a new access key for it, stores that key in config/root and then\n"
      "deletes the old key. The IAM user must not already have a second access\n"
      "key (IAM allows two per user). The new access key id is returned. Due to AWS eventual "
      "consistency, calls made with the new key\n"
      "may fail for a few seconds after rotation.";
  paths.push_back(std::move(rotate));

  Path lease;
  lease.pattern = "config/lease";
  lease.fields = {
      {"lease", FieldType::kString,
       "Default lease for iam_user credentials, as a duration (\"1h\", \"30m\", \"3600s\")."},
      {"lease_max", FieldType::kString,
       "Maximum lease for iam_user credentials, as a duration (\"24h\")."},
  };
  lease.async_operations[Operation::kRead] = async(&AwsBackend::ConfigLeaseRead);
  lease.async_operations[Operation::kUpdate] = async(&AwsBackend::ConfigLeaseWrite);
  lease.synopsis = "Configure the default lease information for generated credentials.";
  lease.description =
      "This configures the default lease information used for iam_user\n"
      "credentials generated by this backend. The lease specifies the duration\n"
      "that a credential will be valid for, as well as the maximum session for\n"
      "a set of credentials. The format of the lease is \"1h\" or a similar Go\n"
      "duration string; \"h\" is the largest suffix. STS credentials carry the\n"
      "lifetime AWS gives them instead.";
  paths.push_back(std::move(lease));

  Path list;
  list.pattern = "roles/?";
  list.async_operations[Operation::kList] = async(&AwsBackend::RoleList);
  list.synopsis = "List the existing roles in this backend";
  list.description = "Roles will be listed by the role name.";
  paths.push_back(std::move(list));

  Path role;
  role.pattern = std::string("roles/") + kNamePattern;
  role.fields = {
      {"name", FieldType::kString, "Name of the role."},
      {"credential_type", FieldType::kString,
       "Type of credential to retrieve: iam_user, assumed_role, federation_token or "
       "session_token."},
      {"credential_types", FieldType::kCommaStringSlice,
       "Alias of credential_type accepting a list (as older role reads showed it)."},
      {"role_arns", FieldType::kCommaStringSlice,
       "ARNs of AWS roles allowed to be assumed. Only valid when credential_type is "
       "assumed_role."},
      {"policy_arns", FieldType::kCommaStringSlice,
       "ARNs of AWS policies to attach to IAM users (iam_user) or to pass as session policies "
       "(assumed_role, federation_token)."},
      {"policy_document", FieldType::kString,
       "JSON-encoded IAM policy document. Validated before it is stored. Inline policy of IAM "
       "users (named after the role) or session policy for assumed_role and federation_token."},
      {"iam_groups", FieldType::kCommaStringSlice,
       "Names of IAM groups: iam_user users are added to them; for assumed_role and "
       "federation_token their policies are added to the session policies."},
      {"iam_tags", FieldType::kKvPairs,
       "IAM tags applied to generated IAM users (iam_user), as a map or key=value pairs."},
      {"session_tags", FieldType::kKvPairs,
       "Session tags passed to AssumeRole. Only valid when credential_type is assumed_role."},
      {"external_id", FieldType::kString,
       "External ID passed to AssumeRole. Only valid when credential_type is assumed_role."},
      {"default_sts_ttl", FieldType::kDurationSecond,
       "Default TTL for STS credentials when no ttl is requested. Only valid for "
       "assumed_role, federation_token and session_token."},
      {"max_sts_ttl", FieldType::kDurationSecond,
       "Maximum TTL for STS credentials. Only valid for assumed_role, federation_token and "
       "session_token."},
      {"user_path", FieldType::kString,
       "Path for IAM users (default \"/\"). Only valid when credential_type is iam_user."},
      {"permissions_boundary_arn", FieldType::kString,
       "ARN of a managed policy to use as the permissions boundary of IAM users. Only valid "
       "when credential_type is iam_user."},
      {"mfa_serial_number", FieldType::kString,
       "Identification number or ARN of the MFA device of the root user. Only valid when "
       "credential_type is session_token."},
      {"wait_for_propagation", FieldType::kBool,
       "iam_user only: answer only once AWS accepts the new access key (probed with "
       "sts:GetCallerIdentity signed by it). Best effort: other AWS services may lag behind.",
       Json(false)},
      {"propagation_timeout", FieldType::kDurationSecond,
       "How long to wait for the new key with wait_for_propagation before giving up (the user "
       "is then deleted).",
       Json(kDefaultPropagationTimeout)},
      {"policy", FieldType::kString,
       "Deprecated: IAM policy document. Creates an iam_user (creds/) / federation_token (sts/) "
       "role."},
      {"arn", FieldType::kString,
       "Deprecated: ARN of a role (assumed via sts/) or managed policy (attached to IAM users "
       "via creds/)."},
  };
  role.async_operations[Operation::kRead] = async(&AwsBackend::RoleRead);
  role.async_operations[Operation::kUpdate] = async(&AwsBackend::RoleWrite);
  role.async_operations[Operation::kCreate] = async(&AwsBackend::RoleWrite);
  role.async_operations[Operation::kDelete] = async(&AwsBackend::RoleDelete);
  // A stored lambda (it lives as long as the engine), so its capture outlives the coroutine.
  role.existence_check = [self](Request& r, const FieldData& d) -> Task<Result<bool>> {
    CO_ASSIGN_OR_RETURN(auto role, co_await self->LoadRole(r.storage, d.GetString("name")));
    co_return role.has_value();
  };
  role.synopsis = "Read, write and reference IAM policies that access keys can be made for.";
  role.description =
      "This path allows you to read and write roles that are used to\n"
      "create access keys. These roles are associated with IAM policies that\n"
      "map directly to the route to read the access keys. For example, if the\n"
      "backend is mounted at \"aws\" and you create a role at \"aws/roles/deploy\"\n"
      "then a user could request access credentials at \"aws/creds/deploy\".\n"
      "\n"
      "You can either supply a user inline policy (via the policy_document\n"
      "argument), a list of managed policy ARNs (policy_arns) and IAM groups\n"
      "(iam_groups), or role ARNs to assume (role_arns). The policy document is\n"
      "checked before it is stored.\n"
      "\n"
      "Writes update the fields sent and keep the others. The legacy \"policy\"\n"
      "and \"arn\" parameters replace the role and cannot be mixed with the new\n"
      "ones. Deleting a role does not revoke credentials already issued.";
  paths.push_back(std::move(role));

  for (const char* prefix : {"creds/", "sts/"}) {
    Path creds;
    creds.pattern = std::string(prefix) + kNamePattern;
    creds.fields = {
        {"name", FieldType::kString, "Name of the role."},
        {"role_arn", FieldType::kString,
         "ARN of the role to assume when credential_type is assumed_role. Optional if the role "
         "allows a single ARN."},
        {"ttl", FieldType::kDurationSecond,
         "Lifetime of STS credentials (default: the role's default_sts_ttl, else 1h; capped by "
         "max_sts_ttl). Ignored for iam_user, whose lease comes from config/lease.",
         Json(3600)},
        {"role_session_name", FieldType::kString,
         "Session name for assumed_role (2-64 characters; default: generated from the username "
         "template)."},
        {"mfa_code", FieldType::kString,
         "MFA code (6 digits) for session_token roles with an mfa_serial_number."},
    };
    creds.async_operations[Operation::kRead] = async(&AwsBackend::Creds);
    creds.async_operations[Operation::kUpdate] = async(&AwsBackend::Creds);
    if (std::string(prefix) == "creds/") {
      creds.synopsis = "Generate AWS credentials from a specific Vault role.";
      creds.description =
          "This path generates AWS credentials for a given role: an IAM user with an\n"
          "access key (iam_user, revoked with the lease), or temporary STS\n"
          "credentials (assumed_role, federation_token, session_token) that expire\n"
          "on their own. Legacy roles written with \"policy\" give IAM users here.";
    } else {
      creds.synopsis = "Generate AWS credentials from a specific Vault role (STS).";
      creds.description =
          "This path generates temporary STS credentials for a given role. It is\n"
          "the same as creds/ except for legacy roles: a role written with \"policy\"\n"
          "gives a federation token here, and one written with a role \"arn\" can\n"
          "only be used here.";
    }
    paths.push_back(std::move(creds));
  }
  AddStaticRolePaths(self, &paths);  // static-roles/, static-creds/ (static_roles.cc)
  return paths;
}

// ---------------------------------------------------------------------------------------------
// config/root

Task<Result<std::optional<RootConfig>>> AwsBackend::LoadConfig(logical::Storage* s,
                                                               std::string* raw) {
  CO_ASSIGN_OR_RETURN(std::optional<std::string> v, co_await s->Get("config/root"));
  if (raw) *raw = v.value_or("");
  if (!v) co_return std::optional<RootConfig>();
  {
    std::lock_guard lock(parsed_mu_);
    if (parsed_config_.value && parsed_config_.raw == *v)
      co_return std::optional<RootConfig>(*parsed_config_.value);
  }
  auto j = ParseJson(*v);
  if (!j.ok()) co_return Internal("corrupt config/root entry");
  RootConfig cfg = RootConfig::FromStorage(*j);
  std::lock_guard lock(parsed_mu_);
  parsed_config_ = Parsed<RootConfig>{std::move(*v), cfg};
  co_return std::optional<RootConfig>(std::move(cfg));
}

Task<Result<Response>> AwsBackend::ConfigRootRead(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> cfg, co_await LoadConfig(req.storage));
  if (!cfg) co_return Response();
  co_return Response::WithData(cfg->ToResponseData());
}

Status AwsBackend::ValidateUsernameTemplate(const std::string& text) const {
  auto tmpl = UsernameTemplate::Parse(text);
  if (!tmpl.ok())
    return InvalidArgument("unable to parse username_template: " + tmpl.status().message());
  // Maximal-length names made of every character a normalised name can hold, so templates that
  // grow a name (replace) are caught too, plus short names.
  static const std::string kChars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-";
  std::string longest;
  while (longest.size() < kMaxTemplateInputLength) longest += kChars;
  longest.resize(kMaxTemplateInputLength);
  TemplateEnv env;
  env.now_nanos = clock_->NowNanos();
  env.random_alnum = [](size_t n) { return BufferedRandomAlnum(n); };
  env.uuid = [] { return NewUuid(); };
  struct Case {
    const char* type;
    size_t limit;
  };
  for (Case c : {Case{"IAM", kIamNameLimit}, Case{"STS", kStsNameLimit}}) {
    for (const auto& [display, policy] :
         std::vector<std::pair<std::string, std::string>>{{longest, longest}, {"token", "role"}}) {
      UsernameMetadata md{c.type, display, policy};
      auto out = tmpl->Execute(md, env);
      if (!out.ok()) return InvalidArgument("invalid username_template: " + out.status().message());
      if (out->empty())
        return InvalidArgument(std::string("invalid username_template: it produces an empty name "
                                           "for Type \"") +
                               c.type + "\"");
      if (out->size() > c.limit)
        return InvalidArgument(
            std::string("invalid username_template: for Type \"") + c.type + "\" and names of " +
            std::to_string(display.size()) + " characters it produces " +
            std::to_string(out->size()) + " characters, over the " +
            (std::string(c.type) == "STS" ? "STS federation token name limit of 32"
                                          : "IAM username limit of 64") +
            "; use truncate");
    }
  }
  return Status::Ok();
}

Task<Result<Response>> AwsBackend::ConfigRootWrite(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> existing, co_await LoadConfig(req.storage));
  RootConfig c = existing.value_or(RootConfig{});
  auto set_str = [&](const char* name, std::string* field) {
    if (d.Has(name)) *field = d.GetString(name);
  };
  set_str("access_key", &c.access_key);
  set_str("secret_key", &c.secret_key);
  set_str("region", &c.region);
  set_str("iam_endpoint", &c.iam_endpoint);
  set_str("sts_endpoint", &c.sts_endpoint);
  set_str("sts_region", &c.sts_region);
  if (d.Has("sts_fallback_endpoints"))
    c.sts_fallback_endpoints = d.GetStrings("sts_fallback_endpoints");
  if (d.Has("sts_fallback_regions")) c.sts_fallback_regions = d.GetStrings("sts_fallback_regions");
  if (d.Has("max_retries")) c.max_retries = d.GetInt("max_retries");
  if (d.Has("max_calls_per_second")) c.max_calls_per_second = d.GetInt("max_calls_per_second");
  if (d.Has("username_template")) {
    c.username_template = d.GetString("username_template");
    if (c.username_template == kDefaultUsernameTemplate) c.username_template.clear();
  }
  if (c.sts_fallback_endpoints.size() != c.sts_fallback_regions.size())
    co_return InvalidArgument("fallback endpoints and fallback regions must be the same length");
  if (c.max_retries < -1) co_return InvalidArgument("max_retries must be -1 (default) or >= 0");
  if (c.max_calls_per_second < 0)
    co_return InvalidArgument("max_calls_per_second must be 0 (unlimited) or more");
  if (!c.username_template.empty())
    CO_RETURN_IF_ERROR(ValidateUsernameTemplate(c.username_template));
  CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, "config/root", c.ToStorage()));
  co_return Response();
}

// ---------------------------------------------------------------------------------------------
// config/lease

Task<Result<Response>> AwsBackend::ConfigLeaseRead(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(std::optional<Json> j,
                      co_await logical::GetJson(req.storage, "config/lease"));
  if (!j) co_return Response();
  co_return Response::WithData(
      {{"lease", FormatGoDuration(j->value("lease", int64_t{0}))},
       {"lease_max", FormatGoDuration(j->value("lease_max", int64_t{0}))}});
}

Task<Result<Response>> AwsBackend::ConfigLeaseWrite(Request& req, const FieldData& d) {
  std::string lease_raw = d.GetString("lease"), max_raw = d.GetString("lease_max");
  if (Trim(lease_raw).empty()) co_return InvalidArgument("'lease' is a required parameter");
  if (Trim(max_raw).empty()) co_return InvalidArgument("'lease_max' is a required parameter");
  auto lease = ParseDurationSeconds(Trim(lease_raw));
  if (!lease.ok() || *lease < 0)
    co_return InvalidArgument("Invalid lease: " + (lease.ok() ? std::string("must not be negative")
                                                              : lease.status().message()));
  auto lease_max = ParseDurationSeconds(Trim(max_raw));
  if (!lease_max.ok() || *lease_max < 0)
    co_return InvalidArgument("Invalid lease_max: " + (lease_max.ok()
                                                           ? std::string("must not be negative")
                                                           : lease_max.status().message()));
  Json cfg = {{"lease", *lease}, {"lease_max", *lease_max}};
  CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, "config/lease", cfg));
  co_return Response();
}

// ---------------------------------------------------------------------------------------------
// roles

Task<Result<std::optional<Role>>> AwsBackend::LoadRole(logical::Storage* s, std::string name) {
  const std::string key = "role/" + name;
  CO_ASSIGN_OR_RETURN(std::optional<std::string> raw, co_await s->Get(key));
  if (raw) {
    {
      std::lock_guard lock(parsed_mu_);
      auto it = parsed_roles_.find(name);
      if (it != parsed_roles_.end() && it->second.raw == *raw)
        co_return std::optional<Role>(*it->second.value);
    }
    auto j = ParseJson(*raw);
    if (!j.ok()) co_return Internal("corrupt entry at " + key);
    CO_ASSIGN_OR_RETURN(Role r, Role::FromStorage(*j));
    std::lock_guard lock(parsed_mu_);
    if (parsed_roles_.size() >= kParsedRolesKept) parsed_roles_.clear();
    parsed_roles_[name] = Parsed<Role>{std::move(*raw), r};
    co_return std::optional<Role>(std::move(r));
  }
  const std::string legacy_key = "policy/" + name;
  CO_ASSIGN_OR_RETURN(std::optional<std::string> legacy, co_await s->Get(legacy_key));
  if (!legacy) co_return std::optional<Role>();
  Role r = UpgradeLegacyEntry(*legacy);
  // Persist the upgrade; if that fails the legacy entry is simply upgraded again next time.
  if ((co_await logical::PutJson(s, key, r.ToStorage())).ok())
    (co_await s->Delete(legacy_key)).IgnoreError();
  co_return std::optional<Role>(std::move(r));
}

Task<Result<Response>> AwsBackend::RoleRead(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(std::optional<Role> r, co_await LoadRole(req.storage, d.GetString("name")));
  if (!r) co_return Response();
  co_return Response::WithData(r->ToResponseData());
}

Task<Result<Response>> AwsBackend::RoleDelete(Request& req, const FieldData& d) {
  std::string name = d.GetString("name");
  std::string role_key = "role/" + name, legacy_key = "policy/" + name;
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(role_key));
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(legacy_key));
  co_return Response();
}

Task<Result<Response>> AwsBackend::RoleList(Request& req, const FieldData&) {
  std::set<std::string> names;
  for (const char* prefix : {"role/", "policy/"}) {
    CO_ASSIGN_OR_RETURN(std::vector<std::string> keys, co_await req.storage->List(prefix));
    for (auto& k : keys)
      if (!k.empty() && k.back() != '/') names.insert(k);
  }
  if (names.empty()) co_return Response();
  co_return Response::WithData({{"keys", std::vector<std::string>(names.begin(), names.end())}});
}

Task<Result<Response>> AwsBackend::RoleWrite(Request& req, const FieldData& d) {
  std::string name = d.GetString("name");
  Response resp;
  Role role;
  bool legacy_policy = d.Has("policy"), legacy_arn = d.Has("arn");
  if (legacy_policy || legacy_arn) {
    if (legacy_policy && legacy_arn) co_return InvalidArgument("cannot supply both policy and arn");
    for (const auto& p : NewRoleParams()) {
      if (d.Has(p))
        co_return InvalidArgument("cannot supply deprecated role or policy parameters with " + p);
    }
    role.prohibit_flexible_cred_path = true;
    if (legacy_policy) {
      auto doc = ValidatePolicyDocument(d.GetString("policy"));
      if (!doc.ok()) co_return doc.status();
      role.credential_types = {kIamUser, kFederationToken};
      role.policy_document = *doc;
      role.legacy_param = "policy";
    } else {
      std::string arn = d.GetString("arn");
      auto parsed = ParseArn(arn);
      if (parsed.ok() && parsed->resource.rfind("role/", 0) == 0) {
        role.credential_types = {kAssumedRole};
        role.role_arns = {arn};
      } else if (parsed.ok() && parsed->resource.rfind("policy/", 0) == 0) {
        role.credential_types = {kIamUser};
        role.policy_arns = {arn};
      } else {
        co_return InvalidArgument("unrecognized arn: \"" + arn +
                                  "\" (expected the ARN of an IAM role or managed policy)");
      }
      role.legacy_param = "arn";
    }
    // Vault 0.2's docs show this write as answering 204 ("Success! Data written to"), so the
    // upgrade notice goes to the log, not into a warning that would turn it into a 200.
    spdlog::info("aws: role {} written with the legacy `{}` parameter; upgraded ({})", name,
                 role.legacy_param.empty() ? "policy" : role.legacy_param, kLegacyWarning);
  } else {
    CO_ASSIGN_OR_RETURN(std::optional<Role> existing, co_await LoadRole(req.storage, name));
    if (existing) role = std::move(*existing);
    if (!role.invalid_data.empty()) {
      resp.warnings.push_back("Invalid data of \"" + role.invalid_data + "\" cleared out of role");
      role = Role{};
    }
    role.prohibit_flexible_cred_path = false;
    role.legacy_param.clear();
    if (d.Has("credential_type") || d.Has("credential_types")) {
      role.credential_types = SplitTypes(d.GetString("credential_type"));
      for (const auto& t : d.GetStrings("credential_types"))
        if (std::find(role.credential_types.begin(), role.credential_types.end(), t) ==
            role.credential_types.end())
          role.credential_types.push_back(t);
    }
    if (d.Has("role_arns")) role.role_arns = d.GetStrings("role_arns");
    if (d.Has("policy_arns")) role.policy_arns = d.GetStrings("policy_arns");
    if (d.Has("policy_document")) {
      std::string doc = d.GetString("policy_document");
      if (Trim(doc).empty()) {
        role.policy_document.clear();
      } else {
        auto compacted = ValidatePolicyDocument(doc);
        if (!compacted.ok()) co_return compacted.status();
        role.policy_document = *compacted;
      }
    }
    if (d.Has("iam_groups")) role.iam_groups = d.GetStrings("iam_groups");
    if (d.Has("iam_tags")) role.iam_tags = ToStringMap(d.Get("iam_tags"));
    if (d.Has("session_tags")) role.session_tags = ToStringMap(d.Get("session_tags"));
    if (d.Has("external_id")) role.external_id = d.GetString("external_id");
    if (d.Has("default_sts_ttl")) role.default_sts_ttl = d.GetInt("default_sts_ttl");
    if (d.Has("max_sts_ttl")) role.max_sts_ttl = d.GetInt("max_sts_ttl");
    if (d.Has("user_path")) role.user_path = d.GetString("user_path");
    if (d.Has("permissions_boundary_arn"))
      role.permissions_boundary_arn = d.GetString("permissions_boundary_arn");
    if (d.Has("mfa_serial_number")) role.mfa_serial_number = d.GetString("mfa_serial_number");
    if (d.Has("wait_for_propagation"))
      role.wait_for_propagation = d.GetBool("wait_for_propagation");
    if (d.Has("propagation_timeout")) role.propagation_timeout = d.GetInt("propagation_timeout");
  }
  std::vector<std::string> errs = role.Validate();
  if (!errs.empty())
    co_return InvalidArgument("error(s) validating supplied role data: " + Join(errs, "; "));
  std::string role_key = "role/" + name, legacy_key = "policy/" + name;
  CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, role_key, role.ToStorage()));
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(legacy_key));
  co_return resp;
}

}  // namespace awsengine

Result<std::shared_ptr<logical::Backend>> NewAwsBackend(
    const logical::MountInfo& mount, std::shared_ptr<::vault::aws::ClientFactory> factory,
    Clock* clock) {
  return NewAwsBackend(mount, std::move(factory), clock, AwsBackendOptions{});
}

Result<std::shared_ptr<logical::Backend>> NewAwsBackend(
    const logical::MountInfo&, std::shared_ptr<::vault::aws::ClientFactory> factory, Clock* clock,
    AwsBackendOptions options) {
  if (!factory) return InvalidArgument("the aws engine needs an AWS client factory");
  return std::shared_ptr<logical::Backend>(
      std::make_shared<awsengine::AwsBackend>(std::move(factory), clock, std::move(options)));
}

}  // namespace vault::engines
