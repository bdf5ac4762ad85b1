// creds/ and sts/ dispatch, and the iam_user issue: a write-ahead entry, CreateUser, then the
// user's policies, groups, tags and access key together, with the lease registered while those
// are at AWS.
#include <algorithm>
#include <optional>

#include "engines/aws/backend.h"
#include "logical/wal.h"
#include "util/log.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;

constexpr int64_t kDefaultIamLeaseSeconds = 3600;

namespace {

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

}  // namespace

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

// Registers the issue's lease through core (logical::LeaseRegistrar) while the calls after
// CreateUser are at AWS; `*out` is the caller's.
Task<Status> RegisterLeaseStep(logical::LeaseRegistrar* leases, const logical::SecretSpec* spec,
                               std::optional<logical::RegisteredLease>* out) {
  Result<logical::RegisteredLease> reg = co_await leases->Register(*spec);
  if (!reg.ok()) co_return Internal("error registering the lease: " + reg.status().message());
  *out = std::move(*reg);
  co_return Status::Ok();
}

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
    if (created->error().Ambiguous()) undo = co_await DeleteIamUser(iam, username);
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
    step = co_await WaitForPropagation(cfg, std::move(creds), role.propagation_timeout,
                                       "; the IAM user was deleted");
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
                                            int64_t timeout_seconds, std::string after_timeout) {
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
    bool retry = e.code == "InvalidClientTokenId" || e.throttled || e.Ambiguous();
    if (!retry) co_return e.ToStatus("Error verifying the new access key");
    last = e.ToString();
    int64_t remaining_ms = (deadline - clock_->NowNanos()) / 1000000;
    if (remaining_ms <= 0) break;
    bool slept = co_await sleep_(std::min(backoff_ms, remaining_ms));
    if (!slept) break;
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 5000);
  }
  co_return Upstream("timed out after " + std::to_string(timeout_seconds) +
                     "s waiting for AWS to accept the new access key (last error: " + last + ")" +
                     after_timeout);
}

}  // namespace vault::engines::awsengine
