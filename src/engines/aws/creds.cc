// The AWS engine: AWS clients, credential issue (creds/, sts/), renew, revoke, WAL rollback and
// root rotation.
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "engines/aws/backend.h"
#include "engines/aws/policy.h"
#include "engines/aws/username_template.h"
#include "logical/wal.h"
#include "util/log.h"
#include "util/random.h"
#include "util/strings.h"

namespace vault::engines::awsengine {

constexpr int64_t kDefaultIamLeaseSeconds = 3600;

namespace awsapi = ::vault::aws;

namespace {

bool IsNoSuchEntity(const awsapi::AwsError& e) { return e.code == "NoSuchEntity"; }

// An error after which the request may or may not have taken effect on AWS's side.
bool Ambiguous(const awsapi::AwsError& e) { return e.http_status == 0 || e.http_status >= 500; }

std::string EnvOr(const char* a, const char* b, const char* fallback) {
  for (const char* name : {a, b}) {
    const char* v = std::getenv(name);
    if (v && *v) return v;
  }
  return fallback;
}

// The steps of an iam_user issue after CreateUser, which depend only on the user and run together
// (IssueIamUser). Each is given its call already made (the real client has encoded and signed it)
// and yields its error as the Status the request answers with, prefixed by `what`.
Task<Status> EmptyStep(Task<awsapi::Outcome<awsapi::Empty>> call, const char* what) {
  auto r = co_await std::move(call);
  if (!r.ok()) co_return r.error().ToStatus(what);
  co_return Status::Ok();
}

// `out` belongs to the caller, who awaits this step.
Task<Status> CreateKeyStep(Task<awsapi::Outcome<awsapi::AccessKey>> call, awsapi::AccessKey* out) {
  auto r = co_await std::move(call);
  if (!r.ok()) co_return r.error().ToStatus("Error creating access keys");
  *out = std::move(r.value());
  co_return Status::Ok();
}

// CreateUser, its outcome left in `*out` (the caller's, who awaits this).
Task<Status> CreateUserStep(Task<awsapi::Outcome<awsapi::User>> call,
                            std::optional<awsapi::Outcome<awsapi::User>>* out) {
  out->emplace(co_await std::move(call));
  co_return Status::Ok();
}

// The calls after CreateUser, in Vault's order, made (and so, with the real client, encoded and
// signed) into `*out` without sending them. The role and strings are the caller's.
Task<Status> MakeUserSteps(awsapi::IamApi* iam, const std::string* user,
                           const std::string* role_name, const Role* role, awsapi::AccessKey* key,
                           std::vector<Task<Status>>* out) {
  for (const auto& arn : role->policy_arns) {
    out->push_back(EmptyStep(iam->AttachUserPolicy(*user, arn), "Error attaching user policy"));
  }
  if (!role->policy_document.empty()) {
    out->push_back(EmptyStep(iam->PutUserPolicy(*user, *role_name, role->policy_document),
                             "Error putting user policy"));
  }
  for (const auto& group : role->iam_groups) {
    out->push_back(EmptyStep(iam->AddUserToGroup(group, *user), "Error adding user to group"));
  }
  if (!role->iam_tags.empty()) {
    awsapi::Tags tags(role->iam_tags.begin(), role->iam_tags.end());
    out->push_back(EmptyStep(iam->TagUser(*user, std::move(tags)), "Error adding tags to user"));
  }
  out->push_back(CreateKeyStep(iam->CreateAccessKey(*user), key));
  co_return Status::Ok();
}

// The lease of an IAM user (issued or renewed), from config/lease when set.
logical::SecretSpec IamUserLease(const std::optional<Json>& lease_cfg) {
  logical::SecretSpec spec;
  // Without config/lease Vault 0.2's 1 h applies (Vault 0.1's default for this backend; modern
  // Vault falls back to the mount's 768 h, which leaves IAM users around for a month).
  spec.ttl = kDefaultIamLeaseSeconds;
  if (lease_cfg) {
    spec.ttl = lease_cfg->value("lease", int64_t{0});
    spec.max_ttl = lease_cfg->value("lease_max", int64_t{0});
  }
  spec.renewable = true;
  return spec;
}

// An STS call whose outcome is left in `*out` (the caller's, who awaits this).
Task<Status> StsStep(Task<awsapi::Outcome<awsapi::TemporaryCredentials>> call,
                     std::optional<awsapi::Outcome<awsapi::TemporaryCredentials>>* out) {
  out->emplace(co_await std::move(call));
  co_return Status::Ok();
}

// Registers the issue's lease through core (logical::LeaseRegistrar) while the calls after
// CreateUser are at AWS; `*out` is the caller's.
Task<Status> RegisterLeaseStep(logical::LeaseRegistrar* leases, const logical::SecretSpec* spec,
                               std::optional<logical::RegisteredLease>* out) {
  Result<logical::RegisteredLease> reg = co_await leases->Register(*spec);
  if (!reg.ok()) co_return Internal("error registering the lease: " + reg.status().message());
  *out = std::move(*reg);
  co_return Status::Ok();
}

bool IsSixDigits(const std::string& s) {
  return s.size() == 6 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ValidSessionName(const std::string& s) {
  if (s.size() < 2 || s.size() > 64) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("+=,.@_-").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

std::string Capped(std::string s) {
  if (s.size() > kMaxTemplateInputLength) s.resize(kMaxTemplateInputLength);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Clients

awsapi::ClientConfig AwsBackend::BaseClientConfig(const RootConfig& cfg) const {
  awsapi::ClientConfig cc;
  cc.credentials.access_key_id = cfg.access_key;
  cc.credentials.secret_access_key = cfg.secret_key;
  cc.region =
      cfg.region.empty() ? EnvOr("AWS_REGION", "AWS_DEFAULT_REGION", "us-east-1") : cfg.region;
  cc.iam_endpoint = cfg.iam_endpoint;
  cc.sts_endpoint = cfg.sts_endpoint;
  // As in Vault, sts_region only applies to an explicit sts_endpoint.
  cc.sts_region = cfg.sts_endpoint.empty() ? "" : cfg.sts_region;
  cc.max_retries = static_cast<int>(cfg.max_retries);
  cc.rate_limit = static_cast<double>(cfg.max_calls_per_second);
  return cc;
}

std::vector<awsapi::ClientConfig> AwsBackend::StsCandidates(const RootConfig& cfg) const {
  std::vector<awsapi::ClientConfig> out{BaseClientConfig(cfg)};
  if (cfg.sts_endpoint.empty()) return out;  // fallbacks only apply with an explicit endpoint
  for (size_t i = 0; i < cfg.sts_fallback_endpoints.size() && i < cfg.sts_fallback_regions.size();
       ++i) {
    awsapi::ClientConfig cc = BaseClientConfig(cfg);
    cc.sts_endpoint = cfg.sts_fallback_endpoints[i];
    cc.sts_region = cfg.sts_fallback_regions[i];
    out.push_back(std::move(cc));
  }
  return out;
}

Task<Result<std::shared_ptr<awsapi::IamApi>>> AwsBackend::IamClient(logical::Storage* s) {
  std::string raw;
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> cfg, co_await LoadConfig(s, &raw));
  co_return IamClient(cfg.value_or(RootConfig{}), raw);
}

Result<std::shared_ptr<awsapi::IamApi>> AwsBackend::IamClient(const RootConfig& cfg,
                                                              const std::string& raw) {
  {
    std::lock_guard lock(mu_);
    if (iam_ && iam_key_ == raw) return iam_;
  }
  auto client = factory_->NewIam(BaseClientConfig(cfg));
  if (!client) return Internal("could not create an IAM client");
  std::lock_guard lock(mu_);
  // Concurrent first requests after a change each built one: the first to get here wins and the
  // others use it, so the mount keeps one client and one rate limit per configuration.
  if (iam_ && iam_key_ == raw) return iam_;
  iam_ = client;
  iam_key_ = raw;
  return client;
}

Task<Result<AwsBackend::StsHandle>> AwsBackend::StsClient(logical::Storage* s) {
  std::string raw;
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> cfg, co_await LoadConfig(s, &raw));
  {
    std::lock_guard lock(mu_);
    if (sts_ && sts_key_ == raw) co_return *sts_;
  }
  std::vector<awsapi::ClientConfig> candidates = StsCandidates(cfg.value_or(RootConfig{}));
  std::optional<StsHandle> chosen;
  std::string last_error;
  if (candidates.size() == 1) {
    chosen = StsHandle{factory_->NewSts(candidates[0]), candidates[0]};
  } else {
    // With fallbacks, the first endpoint that answers sts:GetCallerIdentity wins (as Vault).
    for (auto& cc : candidates) {
      std::shared_ptr<awsapi::StsApi> client = factory_->NewSts(cc);
      if (!client) continue;
      auto probe = co_await client->GetCallerIdentity();
      if (probe.ok()) {
        chosen = StsHandle{client, cc};
        break;
      }
      last_error = probe.error().ToString();
    }
  }
  if (!chosen || !chosen->client)
    co_return Upstream("could not obtain sts client" +
                       (last_error.empty() ? std::string() : ": " + last_error));
  std::lock_guard lock(mu_);
  if (sts_ && sts_key_ == raw) co_return *sts_;  // a concurrent request got here first (as IAM)
  sts_ = *chosen;
  sts_key_ = raw;
  co_return *chosen;
}

// ---------------------------------------------------------------------------------------------
// Names

Result<std::string> AwsBackend::GenerateName(const RootConfig& cfg, const std::string& type,
                                             const std::string& display_name,
                                             const std::string& role_name) {
  const std::string& text = cfg.EffectiveTemplate();
  TemplateEnv env;
  env.now_nanos = clock_->NowNanos();
  env.random_alnum = [](size_t n) { return PooledRandomAlnum(n); };
  env.uuid = [] { return NewUuid(); };
  UsernameMetadata md{type, Capped(NormalizeName(display_name.empty() ? "token" : display_name)),
                      Capped(NormalizeName(role_name))};
  // Vault's default needs no interpreter, and its names are always within the limits below.
  if (text == kDefaultUsernameTemplate) return RenderDefaultUsername(md, env);
  std::optional<UsernameTemplate> tmpl;
  {
    std::lock_guard lock(template_mu_);
    if (template_ && template_text_ == text) tmpl = template_;
  }
  if (!tmpl) {
    auto parsed = UsernameTemplate::Parse(text);
    if (!parsed.ok())
      return Internal("unable to parse username_template: " + parsed.status().message());
    tmpl = *parsed;
    std::lock_guard lock(template_mu_);
    template_text_ = text;
    template_ = *parsed;
  }
  auto name = tmpl->Execute(md, env);
  if (!name.ok()) return Internal("failed to generate username: " + name.status().message());
  if (type == "STS" && name->size() > kStsNameLimit)
    return Internal(
        "the username generated by the template exceeds the STS username length "
        "limits of 32 chars");
  if (name->size() > kIamNameLimit)
    return Internal(
        "the username generated by the template exceeds the IAM username length "
        "limits of 64 chars");
  if (name->empty()) return Internal("the username template generated an empty name");
  return *name;
}

// ---------------------------------------------------------------------------------------------
// creds/ and sts/

Task<Result<Response>> AwsBackend::Creds(Request& req, const FieldData& d) {
  std::string name = d.GetString("name");
  bool sts_path = req.path.rfind("sts/", 0) == 0;
  CO_ASSIGN_OR_RETURN(std::optional<Role> loaded, co_await LoadRole(req.storage, name));
  if (!loaded) co_return InvalidArgument("Role \"" + name + "\" not found");
  Role role = std::move(*loaded);
  if (!role.invalid_data.empty())
    co_return InvalidArgument("role \"" + name + "\" holds unparseable legacy data; rewrite it");

  std::string type;
  if (role.credential_types.size() == 1) {
    type = role.credential_types[0];
  } else if (role.credential_types.empty()) {
    co_return InvalidArgument("role \"" + name + "\" has no credential_type");
  } else if (!sts_path && role.Has(kIamUser)) {
    type = kIamUser;  // legacy policy roles: creds/ means an IAM user
  } else if (sts_path && role.Has(kFederationToken)) {
    type = kFederationToken;  // … and sts/ a federation token
  } else if (sts_path && role.Has(kAssumedRole)) {
    type = kAssumedRole;
  } else {
    type = role.credential_types[0];
  }
  if (role.prohibit_flexible_cred_path) {
    if (type == kIamUser && sts_path)
      co_return InvalidArgument(
          "attempted to retrieve iam_user credentials through the sts path; this is not allowed "
          "for legacy roles");
    if (type != kIamUser && !sts_path)
      co_return InvalidArgument("attempted to retrieve " + type +
                                " credentials through the creds path; this is not allowed for "
                                "legacy roles");
  }
  std::string cfg_raw;
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> loaded_cfg,
                      co_await LoadConfig(req.storage, &cfg_raw));
  RootConfig cfg = loaded_cfg ? std::move(*loaded_cfg) : RootConfig{};
  Result<Response> out = Status::Ok();
  if (type == kIamUser) {
    out = co_await IssueIamUser(req, d, name, std::move(role), std::move(cfg), std::move(cfg_raw));
  } else {
    out = co_await IssueSts(req, d, name, std::move(role), std::move(cfg), type);
  }
  co_return out;
}

Task<Result<Response>> AwsBackend::IssueIamUser(Request& req, const FieldData& d,
                                                std::string role_name, Role role, RootConfig cfg,
                                                std::string cfg_raw) {
  Response resp;
  if (d.Has("ttl"))
    resp.warnings.push_back(
        "the ttl parameter is ignored for iam_user credentials; their lease comes from "
        "config/lease");
  CO_ASSIGN_OR_RETURN(std::string username, GenerateName(cfg, "IAM", req.display_name, role_name));
  // config/root was read once by Creds: the client comes from that copy, not a second read.
  CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, IamClient(cfg, cfg_raw));
  CO_ASSIGN_OR_RETURN(std::optional<Json> lease_cfg,
                      co_await logical::GetJson(req.storage, "config/lease"));

  // Intent first: if we crash anywhere below, rollback finds the user by this entry.
  Json wal_data = Json::object();
  wal_data["username"] = username;
  Result<std::string> wal =
      co_await logical::PutWal(req.storage, "user", std::move(wal_data), clock_->NowSeconds());
  if (!wal.ok()) co_return Internal("error writing WAL entry: " + wal.status().message());
  std::string wal_id = *wal;
  // Owned by this request until it ends: the rollback pass leaves the entry alone meanwhile.
  // (WAL ids are random: the claim cannot be held already.)
  std::unique_ptr<ClaimSet::Claim> inflight = inflight_wals_.TryClaim(wal_id);

  awsapi::CreateUserInput in;
  in.user_name = username;
  in.path = role.user_path;
  in.permissions_boundary_arn = role.permissions_boundary_arn;
  // Everything else needs only the user: policies, groups, tags and the access key are requested
  // together (Vault sends them one after the other), so an issue costs two AWS round trips instead
  // of three or more. They are made while CreateUser is in flight (WhenAll starts CreateUser first,
  // which sends it, then makes the rest), so once the user exists they go out at once, signed. The
  // key is returned only once all of them succeeded; if any failed, the teardown below removes
  // what the others made. The first failure in Vault's order is reported.
  awsapi::AccessKey key;
  std::vector<Task<Status>> steps;
  std::optional<awsapi::Outcome<awsapi::User>> created;
  {
    std::vector<Task<Status>> first;
    first.push_back(CreateUserStep(iam->CreateUser(std::move(in)), &created));
    first.push_back(MakeUserSteps(iam.get(), &username, &role_name, &role, &key, &steps));
    co_await WhenAll(std::move(first));
  }
  if (!created->ok()) {
    Status err = created->error().ToStatus("Error creating IAM user");
    // After a timeout or a 5xx the user may exist anyway: undo before forgetting the intent.
    Status undo = Status::Ok();
    if (Ambiguous(created->error())) undo = co_await DeleteIamUser(iam, username);
    if (undo.ok()) (co_await logical::DeleteWal(req.storage, wal_id)).IgnoreError();
    co_return err;
  }

  // The lease, decided now. With core's registrar it is persisted while the calls below are at
  // AWS (after they were sent), so the answer does not wait for the lease write; the write-ahead
  // entry goes in the same batch. From then on the lease covers the user: if the issue fails
  // afterwards, core revokes the lease, which removes the user (RevokeSecret), before answering.
  logical::SecretSpec spec = IamUserLease(lease_cfg);
  spec.internal_data = Json::object();
  spec.internal_data["username"] = username;
  spec.internal_data["credential_type"] = kIamUser;
  spec.internal_data["policy_name"] = role_name;
  spec.internal_data["is_sts"] = false;
  // Core deletes the WAL entry atomically with persisting the lease.
  spec.wal_ids.push_back(wal_id);
  std::optional<logical::RegisteredLease> early;
  // Not when the answer waits for the key to propagate (seconds, up to propagation_timeout):
  // core would then move the lease to the answer's time (a second write on the answer's path) so
  // that its TTL does not run during the wait; registering it after the wait is one write.
  if (req.leases != nullptr && !role.wait_for_propagation)
    steps.push_back(RegisterLeaseStep(req.leases, &spec, &early));

  Status step = Status::Ok();
  std::vector<Status> outcomes = co_await WhenAll(std::move(steps));
  for (Status& s : outcomes) {
    if (!s.ok()) {
      step = std::move(s);
      break;
    }
  }
  if (step.ok() && role.wait_for_propagation) {
    awsapi::Credentials creds{key.access_key_id, key.secret_access_key, ""};
    step = co_await WaitForPropagation(cfg, std::move(creds), role.propagation_timeout);
  }
  if (!step.ok() && early) co_return step;  // core revokes the lease, and with it the user
  if (!step.ok()) {
    // Undo synchronously rather than leaving a half-made user for a later rollback.
    Status undo = co_await DeleteIamUser(iam, username);
    if (undo.ok()) {
      (co_await logical::DeleteWal(req.storage, wal_id)).IgnoreError();
      co_return step;
    }
    spdlog::warn("aws: could not remove IAM user {} after a failed issue; rollback will retry: {}",
                 username, undo.message());
    std::vector<std::string> msgs = step.messages();
    msgs.push_back(
        "the IAM user \"" + username +
        "\" could not be removed yet and will be removed by rollback: " + undo.message());
    co_return Status(step.code(), std::move(msgs));
  }

  // Built by key, not from initializer lists (which copy a temporary array per member), and the
  // key moved in, not copied.
  resp.data = Json::object();
  resp.data["access_key"] = std::move(key.access_key_id);
  resp.data["secret_key"] = std::move(key.secret_access_key);
  resp.data["security_token"] = nullptr;
  resp.data["session_token"] = nullptr;
  spec.registered = std::move(early);
  resp.secret = std::move(spec);
  co_return resp;
}

Task<Status> AwsBackend::WaitForPropagation(RootConfig cfg, awsapi::Credentials creds,
                                            int64_t timeout_seconds) {
  awsapi::ClientConfig cc = BaseClientConfig(cfg);
  {
    std::lock_guard lock(mu_);
    if (sts_) cc = sts_->config;  // the endpoint that answered last (fallbacks)
  }
  cc.credentials = std::move(creds);
  std::shared_ptr<awsapi::StsApi> probe = factory_->NewSts(cc);
  if (!probe) co_return Internal("could not create an STS client to verify the new access key");
  const int64_t deadline = clock_->NowNanos() + timeout_seconds * 1000000000LL;
  int64_t backoff_ms = 250;
  std::string last;
  while (true) {
    auto r = co_await probe->GetCallerIdentity();
    if (r.ok()) co_return Status::Ok();
    const awsapi::AwsError& e = r.error();
    bool retry = e.code == "InvalidClientTokenId" || e.throttled || Ambiguous(e);
    if (!retry) co_return e.ToStatus("Error verifying the new access key");
    last = e.ToString();
    int64_t remaining_ms = (deadline - clock_->NowNanos()) / 1000000;
    if (remaining_ms <= 0) break;
    bool slept = co_await sleep_(std::min(backoff_ms, remaining_ms));
    if (!slept) break;
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 5000);
  }
  co_return Upstream("timed out after " + std::to_string(timeout_seconds) +
                     "s waiting for AWS to accept the new access key (last error: " + last +
                     "); the IAM user was deleted");
}

Task<Result<Response>> AwsBackend::IssueSts(Request& req, const FieldData& d, std::string role_name,
                                            Role role, RootConfig cfg, std::string type) {
  // TTL: request > role default > 1h, capped by max_sts_ttl (else the mount's max).
  int64_t ttl = d.Has("ttl") && d.GetInt("ttl") > 0 ? d.GetInt("ttl")
                : role.default_sts_ttl > 0          ? role.default_sts_ttl
                                                    : 3600;
  int64_t max_ttl = role.max_sts_ttl > 0 ? role.max_sts_ttl : req.mount.max_lease_ttl;
  if (max_ttl > 0 && ttl > max_ttl) ttl = max_ttl;

  // Inputs that need no AWS call are checked first.
  std::string role_arn = d.GetString("role_arn");
  std::string session_name;
  std::string mfa_code = d.GetString("mfa_code");
  if (type == kAssumedRole) {
    if (role_arn.empty()) {
      if (role.role_arns.size() != 1)
        co_return InvalidArgument(
            "did not supply a role_arn parameter and unable to determine one");
      role_arn = role.role_arns[0];
    } else if (std::find(role.role_arns.begin(), role.role_arns.end(), role_arn) ==
               role.role_arns.end()) {
      co_return InvalidArgument("role_arn \"" + role_arn +
                                "\" not in allowed role arns for Vault role \"" + role_name + "\"");
    }
    if (d.Has("role_session_name") && !d.GetString("role_session_name").empty()) {
      session_name = NormalizeName(d.GetString("role_session_name"));
      if (!ValidSessionName(session_name))
        co_return InvalidArgument("role_session_name must be 2 to 64 characters long");
    }
  }
  if (type == kSessionToken && !mfa_code.empty() && !IsSixDigits(mfa_code))
    co_return InvalidArgument("mfa_code must be 6 digits");

  // Group policies (IAM) join the role's own for assumed_role and federation_token.
  std::string policy_doc = role.policy_document;
  std::vector<std::string> policy_arns = role.policy_arns;
  if ((type == kAssumedRole || type == kFederationToken) && !role.iam_groups.empty()) {
    CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
    std::vector<std::string> docs{role.policy_document};
    for (const auto& group : role.iam_groups) {
      auto attached = co_await iam->ListAttachedGroupPolicies(group);
      if (!attached.ok()) co_return attached.error().ToStatus("Error getting IAM group policies");
      for (auto& arn : attached.value())
        if (std::find(policy_arns.begin(), policy_arns.end(), arn) == policy_arns.end())
          policy_arns.push_back(arn);
      auto names = co_await iam->ListGroupPolicies(group);
      if (!names.ok()) co_return names.error().ToStatus("Error getting IAM group policies");
      for (auto& pname : names.value()) {
        auto doc = co_await iam->GetGroupPolicy(group, pname);
        if (!doc.ok()) co_return doc.error().ToStatus("Error getting IAM group policies");
        docs.push_back(doc.value());
      }
    }
    auto merged = MergePolicyDocuments(docs);
    if (!merged.ok())
      co_return InvalidArgument("Error merging IAM group policies: " + merged.status().message());
    policy_doc = *merged;
  }
  if (type == kFederationToken && policy_doc.empty() && policy_arns.empty())
    co_return InvalidArgument(
        "must specify at least one of policy_arns or policy_document with federation_token "
        "credential_type");

  Result<StsHandle> sts_r = co_await StsClient(req.storage);
  if (!sts_r.ok()) co_return sts_r.status();
  StsHandle sts = std::move(sts_r).value();
  // The names first: they go into the lease as well as into the call.
  std::string username;
  Json internal = {{"credential_type", type}, {"policy_name", role_name}, {"is_sts", true}};
  std::optional<Task<awsapi::Outcome<awsapi::TemporaryCredentials>>> call;
  const char* what = "Error generating STS keys";
  if (type == kAssumedRole) {
    if (session_name.empty()) {
      CO_ASSIGN_OR_RETURN(session_name, GenerateName(cfg, "IAM", req.display_name, role_name));
    }
    awsapi::AssumeRoleInput in;
    in.role_arn = role_arn;
    in.role_session_name = session_name;
    in.duration_seconds = ttl;
    in.policy = policy_doc;
    in.policy_arns = policy_arns;
    in.tags = awsapi::Tags(role.session_tags.begin(), role.session_tags.end());
    in.external_id = role.external_id;
    call.emplace(sts.client->AssumeRole(std::move(in)));
    what = "Error assuming role";
    username = session_name;
    internal["role_arn"] = role_arn;
  } else if (type == kFederationToken) {
    CO_ASSIGN_OR_RETURN(username, GenerateName(cfg, "STS", req.display_name, role_name));
    awsapi::GetFederationTokenInput in;
    in.name = username;
    in.duration_seconds = ttl;
    in.policy = policy_doc;
    in.policy_arns = policy_arns;
    call.emplace(sts.client->GetFederationToken(std::move(in)));
  } else if (type == kSessionToken) {
    awsapi::GetSessionTokenInput in;
    in.duration_seconds = ttl;
    in.serial_number = role.mfa_serial_number;
    in.token_code = mfa_code;
    call.emplace(sts.client->GetSessionToken(std::move(in)));
  } else {
    co_return InvalidArgument("unrecognized credential type: " + type);
  }
  internal["username"] = username;

  // The lease: STS credentials cannot be revoked, so it only records them until they expire.
  // With core's registrar it is persisted while the call is at AWS (after it was sent), so the
  // answer does not wait for the lease write; if the call fails, core drops the lease (revoking
  // it is a no-op here).
  logical::SecretSpec spec;
  spec.ttl = ttl;
  spec.max_ttl = ttl;
  spec.renewable = false;
  spec.internal_data = std::move(internal);
  std::optional<awsapi::Outcome<awsapi::TemporaryCredentials>> outcome;
  std::optional<logical::RegisteredLease> early;
  {
    std::vector<Task<Status>> steps;
    steps.push_back(StsStep(std::move(*call), &outcome));
    if (req.leases != nullptr) steps.push_back(RegisterLeaseStep(req.leases, &spec, &early));
    std::vector<Status> done = co_await WhenAll(std::move(steps));
    if (!outcome->ok()) co_return outcome->error().ToStatus(what);
    // The credentials exist but their lease could not be stored (nothing to undo at AWS).
    if (done.size() > 1 && !done[1].ok()) co_return done[1];
  }
  awsapi::TemporaryCredentials tc = std::move(outcome->value());

  int64_t lease = std::max<int64_t>(tc.expiration_unix - clock_->NowSeconds(), 1);
  Response resp;
  resp.data = {{"access_key", tc.credentials.access_key_id},
               {"secret_key", tc.credentials.secret_access_key},
               {"security_token", tc.credentials.session_token},
               {"session_token", tc.credentials.session_token},
               {"ttl", lease}};
  if (type == kAssumedRole) resp.data["arn"] = tc.assumed_role_arn;
  if (early) {
    spec.registered = std::move(early);
  } else {
    // Registered by core after this: it expires with the credentials.
    spec.ttl = lease;
    spec.max_ttl = lease;
  }
  resp.secret = std::move(spec);
  co_return resp;
}

// ---------------------------------------------------------------------------------------------
// Teardown, renew, revoke, rollback

Task<Status> AwsBackend::DeleteIamUser(std::shared_ptr<awsapi::IamApi> iam, std::string username) {
  auto groups = co_await iam->ListGroupsForUser(username);
  if (!groups.ok()) {
    // Already gone (a crash after a revoke, a second revoke, a CreateUser that never landed).
    if (IsNoSuchEntity(groups.error())) co_return Status::Ok();
    co_return groups.error().ToStatus("Error listing groups of IAM user " + username);
  }
  auto policies = co_await iam->ListUserPolicies(username);
  if (!policies.ok()) {
    if (IsNoSuchEntity(policies.error())) co_return Status::Ok();
    co_return policies.error().ToStatus("Error listing policies of IAM user " + username);
  }
  auto attached = co_await iam->ListAttachedUserPolicies(username);
  if (!attached.ok()) {
    if (IsNoSuchEntity(attached.error())) co_return Status::Ok();
    co_return attached.error().ToStatus("Error listing attached policies of IAM user " + username);
  }
  auto keys = co_await iam->ListAccessKeys(username);
  if (!keys.ok()) {
    if (IsNoSuchEntity(keys.error())) co_return Status::Ok();
    co_return keys.error().ToStatus("Error listing access keys of IAM user " + username);
  }
  for (const auto& k : keys.value()) {
    auto r = co_await iam->DeleteAccessKey(username, k.access_key_id);
    if (!r.ok() && !IsNoSuchEntity(r.error()))
      co_return r.error().ToStatus("Error deleting access key of IAM user " + username);
  }
  for (const auto& arn : attached.value()) {
    auto r = co_await iam->DetachUserPolicy(username, arn);
    if (!r.ok() && !IsNoSuchEntity(r.error()))
      co_return r.error().ToStatus("Error detaching policy from IAM user " + username);
  }
  for (const auto& p : policies.value()) {
    auto r = co_await iam->DeleteUserPolicy(username, p);
    if (!r.ok() && !IsNoSuchEntity(r.error()))
      co_return r.error().ToStatus("Error deleting policy of IAM user " + username);
  }
  for (const auto& g : groups.value()) {
    auto r = co_await iam->RemoveUserFromGroup(g, username);
    if (!r.ok() && !IsNoSuchEntity(r.error()))
      co_return r.error().ToStatus("Error removing IAM user " + username + " from group");
  }
  auto del = co_await iam->DeleteUser(username);
  if (!del.ok() && !IsNoSuchEntity(del.error()))
    co_return del.error().ToStatus("Error deleting IAM user " + username);
  co_return Status::Ok();
}

Task<Result<Response>> AwsBackend::RenewSecret(Request& req) {
  const Json& internal = req.secret->internal_data;
  if (internal.value("is_sts", false)) co_return InvalidArgument("lease is not renewable");
  CO_ASSIGN_OR_RETURN(std::optional<Json> lease_cfg,
                      co_await logical::GetJson(req.storage, "config/lease"));
  logical::SecretSpec spec = IamUserLease(lease_cfg);
  spec.internal_data = internal;
  Response resp;
  resp.secret = std::move(spec);
  co_return resp;
}

Task<Result<Response>> AwsBackend::RevokeSecret(Request& req) {
  const Json& internal = req.secret->internal_data;
  // STS credentials cannot be revoked; they expire on their own.
  if (internal.value("is_sts", false)) co_return Response();
  std::string username = internal.value("username", "");
  if (username.empty()) co_return Internal("secret is missing username internal data");
  CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
  Status st = co_await DeleteIamUser(iam, username);
  if (!st.ok()) co_return st;
  co_return Response();
}

Task<Status> AwsBackend::RollbackWal(Request& req, logical::WalEntry entry) {
  if (entry.kind == kStaticKeyWalKind)
    co_return co_await RollbackStaticKeyWal(req, std::move(entry));
  if (entry.kind != "user") co_return Internal("unknown type to rollback: " + entry.kind);
  if (inflight_wals_.Contains(entry.id))
    co_return Unavailable("WAL entry " + entry.id + " belongs to a request still in progress");
  std::string username;
  if (entry.data.is_object()) {
    username = entry.data.value("username", "");
    if (username.empty()) username = entry.data.value("UserName", "");  // Vault's payload
  }
  if (username.empty()) {
    spdlog::warn("aws: dropping WAL entry {} without a username", entry.id);
    co_return Status::Ok();
  }
  CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
  co_return co_await DeleteIamUser(iam, username);
}

// ---------------------------------------------------------------------------------------------
// config/rotate-root

Task<Result<Response>> AwsBackend::RotateRoot(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> cfg, co_await LoadConfig(req.storage));
  if (!cfg) co_return InvalidArgument("no configuration found for config/root");
  if (cfg->access_key.empty() || cfg->secret_key.empty())
    co_return InvalidArgument(
        "Cannot call config/rotate-root when either access_key or secret_key is empty");
  // The old key signs every call here, including the deletion of itself: the new key may not
  // have propagated yet.
  CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
  auto user = co_await iam->GetUser("");
  if (!user.ok()) co_return user.error().ToStatus("error calling GetUser");
  std::string username = user->user_name;
  auto created = co_await iam->CreateAccessKey(username);
  if (!created.ok()) co_return created.error().ToStatus("error calling CreateAccessKey");
  std::string old_key = cfg->access_key;
  RootConfig updated = *cfg;
  updated.access_key = created->access_key_id;
  updated.secret_key = created->secret_access_key;
  Status stored = co_await logical::PutJson(req.storage, "config/root", updated.ToStorage());
  if (!stored.ok()) {
    // Do not leave an orphan key behind (IAM allows only two per user).
    auto undo = co_await iam->DeleteAccessKey(username, created->access_key_id);
    if (!undo.ok())
      spdlog::warn("aws: rotate-root could not delete the new key after a storage failure: {}",
                   undo.error().ToString());
    co_return Internal("error storing new access key: " + stored.message());
  }
  auto deleted = co_await iam->DeleteAccessKey(username, old_key);
  if (!deleted.ok()) co_return deleted.error().ToStatus("error deleting old access key");
  co_return Response::WithData({{"access_key", created->access_key_id}});
}

}  // namespace vault::engines::awsengine
