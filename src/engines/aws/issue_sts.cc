// The STS credential types (assumed_role, federation_token, session_token): one STS call, with
// the lease registered while it is at AWS. STS credentials cannot be revoked; they expire.
#include <algorithm>
#include <cctype>
#include <optional>

#include "engines/aws/backend.h"
#include "engines/aws/policy.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;

namespace {

// An STS call whose outcome is left in `*out` (the caller's, who awaits this).
Task<Status> StsStep(Task<awsapi::Outcome<awsapi::TemporaryCredentials>> call,
                     std::optional<awsapi::Outcome<awsapi::TemporaryCredentials>>* out) {
  out->emplace(co_await std::move(call));
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

}  // namespace

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

}  // namespace vault::engines::awsengine
