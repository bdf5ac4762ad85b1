// Taking back what the engine issued: the teardown of an IAM user (everything IAM lets hang off
// it, then the user), lease renewal and revocation, and the rollback of write-ahead entries.
#include <iterator>
#include <optional>

#include "engines/aws/backend.h"
#include "util/log.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;

namespace {

// One call of the teardown's first round, its outcome left in `*out` (the caller's, who awaits
// this).
template <typename T>
Task<Status> Collect(Task<awsapi::Outcome<T>> call, std::optional<awsapi::Outcome<T>>* out) {
  out->emplace(co_await std::move(call));
  co_return Status::Ok();
}

// Virtual MFA devices have an ARN for serial number (arn:aws:iam::<account>:mfa/<path><name>) and
// exist in the account on their own: deactivated, they are deleted too. Hardware devices (a plain
// serial) and FIDO security keys (an ARN with :u2f/) are only deactivated.
bool IsVirtualMfaDevice(const std::string& serial) {
  return serial.starts_with("arn:") && serial.find(":mfa/") != std::string::npos;
}

}  // namespace

Task<Status> AwsBackend::DeleteIamUser(std::shared_ptr<awsapi::IamApi> iam, std::string username) {
  using awsapi::AwsError;
  using awsapi::Outcome;
  // Everything IAM lets hang off a user makes DeleteUser fail with DeleteConflict, whoever put it
  // there. One round trip finds all of it: the lists go out together, with the deletion of the
  // login profile (a console password), which needs no list (NoSuchEntity: there is none).
  std::optional<Outcome<std::vector<std::string>>> groups, policies, attached;
  std::optional<Outcome<std::vector<awsapi::AccessKey>>> keys;
  std::optional<Outcome<std::vector<awsapi::MfaDevice>>> mfa;
  std::optional<Outcome<std::vector<awsapi::SigningCertificate>>> certs;
  std::optional<Outcome<std::vector<awsapi::SshPublicKey>>> ssh_keys;
  std::optional<Outcome<std::vector<awsapi::ServiceSpecificCredential>>> service_creds;
  std::optional<Outcome<awsapi::Empty>> profile;
  {
    std::vector<Task<Status>> first;
    first.push_back(Collect(iam->ListGroupsForUser(username), &groups));
    first.push_back(Collect(iam->ListUserPolicies(username), &policies));
    first.push_back(Collect(iam->ListAttachedUserPolicies(username), &attached));
    first.push_back(Collect(iam->ListAccessKeys(username), &keys));
    first.push_back(Collect(iam->ListMFADevices(username), &mfa));
    first.push_back(Collect(iam->ListSigningCertificates(username), &certs));
    first.push_back(Collect(iam->ListSSHPublicKeys(username), &ssh_keys));
    first.push_back(Collect(iam->ListServiceSpecificCredentials(username), &service_creds));
    first.push_back(Collect(iam->DeleteLoginProfile(username), &profile));
    co_await WhenAll(std::move(first));
  }
  const AwsError* list_errors[] = {
      groups->ok() ? nullptr : &groups->error(),
      policies->ok() ? nullptr : &policies->error(),
      attached->ok() ? nullptr : &attached->error(),
      keys->ok() ? nullptr : &keys->error(),
      mfa->ok() ? nullptr : &mfa->error(),
      certs->ok() ? nullptr : &certs->error(),
      ssh_keys->ok() ? nullptr : &ssh_keys->error(),
      service_creds->ok() ? nullptr : &service_creds->error(),
  };
  // Already gone (a crash after a revoke, a second revoke, a CreateUser that never landed).
  for (const AwsError* e : list_errors) {
    if (e != nullptr && e->NoSuchEntity()) co_return Status::Ok();
  }
  const char* kWhat[] = {"groups",
                         "policies",
                         "attached policies",
                         "access keys",
                         "MFA devices",
                         "signing certificates",
                         "SSH public keys",
                         "service-specific credentials"};
  // Calls the mount's credentials may not be allowed to make: they were not needed before (and
  // are not in Vault's recommended policy). Refused, what they would have found is taken to be
  // absent; if it is not, DeleteUser fails with DeleteConflict and the error names them.
  const char* kNewCall[] = {nullptr,
                            nullptr,
                            nullptr,
                            nullptr,
                            "iam:ListMFADevices",
                            "iam:ListSigningCertificates",
                            "iam:ListSSHPublicKeys",
                            "iam:ListServiceSpecificCredentials"};
  std::vector<std::string> denied;
  for (size_t i = 0; i < std::size(list_errors); ++i) {
    const AwsError* e = list_errors[i];
    if (e == nullptr) continue;
    if (kNewCall[i] != nullptr && e->code == "AccessDenied") {
      denied.push_back(kNewCall[i]);
      continue;
    }
    co_return e->ToStatus(std::string("Error listing ") + kWhat[i] + " of IAM user " + username);
  }
  if (!profile->ok() && !profile->error().NoSuchEntity()) {
    if (profile->error().code != "AccessDenied")
      co_return profile->error().ToStatus("Error deleting login profile of IAM user " + username);
    denied.push_back("iam:DeleteLoginProfile");
  }

  // Then one call per item, credentials first.
  for (const auto& k : keys->value()) {
    auto r = co_await iam->DeleteAccessKey(username, k.access_key_id);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error deleting access key of IAM user " + username);
  }
  if (certs->ok()) {
    for (const auto& c : certs->value()) {
      auto r = co_await iam->DeleteSigningCertificate(username, c.certificate_id);
      if (!r.ok() && !r.error().NoSuchEntity())
        co_return r.error().ToStatus("Error deleting signing certificate of IAM user " + username);
    }
  }
  if (ssh_keys->ok()) {
    for (const auto& k : ssh_keys->value()) {
      auto r = co_await iam->DeleteSSHPublicKey(username, k.ssh_public_key_id);
      if (!r.ok() && !r.error().NoSuchEntity())
        co_return r.error().ToStatus("Error deleting SSH public key of IAM user " + username);
    }
  }
  if (service_creds->ok()) {
    for (const auto& c : service_creds->value()) {
      auto r =
          co_await iam->DeleteServiceSpecificCredential(username, c.service_specific_credential_id);
      if (!r.ok() && !r.error().NoSuchEntity())
        co_return r.error().ToStatus("Error deleting service-specific credential of IAM user " +
                                     username);
    }
  }
  if (mfa->ok()) {
    for (const auto& d : mfa->value()) {
      auto r = co_await iam->DeactivateMFADevice(username, d.serial_number);
      if (!r.ok() && !r.error().NoSuchEntity())
        co_return r.error().ToStatus("Error deactivating MFA device of IAM user " + username);
      if (!r.ok() || !IsVirtualMfaDevice(d.serial_number)) continue;
      // Deactivated, the device no longer blocks DeleteUser; one left behind is only litter.
      auto del = co_await iam->DeleteVirtualMFADevice(d.serial_number);
      if (!del.ok() && !del.error().NoSuchEntity())
        spdlog::warn("aws: could not delete virtual MFA device {} of IAM user {}: {}",
                     d.serial_number, username, del.error().ToString());
    }
  }
  for (const auto& arn : attached->value()) {
    auto r = co_await iam->DetachUserPolicy(username, arn);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error detaching policy from IAM user " + username);
  }
  for (const auto& p : policies->value()) {
    auto r = co_await iam->DeleteUserPolicy(username, p);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error deleting policy of IAM user " + username);
  }
  for (const auto& g : groups->value()) {
    auto r = co_await iam->RemoveUserFromGroup(g, username);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error removing IAM user " + username + " from group");
  }
  auto del = co_await iam->DeleteUser(username);
  if (!del.ok() && !del.error().NoSuchEntity()) {
    Status st = del.error().ToStatus("Error deleting IAM user " + username);
    if (denied.empty() || del.error().code != "DeleteConflict") co_return st;
    std::string note = "not allowed to look for what blocks the deletion:";
    for (const auto& call : denied) note += " " + call;
    std::vector<std::string> msgs = st.messages();
    msgs.push_back(std::move(note));
    co_return Status(st.code(), std::move(msgs));
  }
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

}  // namespace vault::engines::awsengine
