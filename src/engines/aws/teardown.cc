// Taking back what the engine issued: the teardown of an IAM user (everything IAM lets hang off
// it, then the user), lease renewal and revocation, and the rollback of write-ahead entries.
#include "engines/aws/backend.h"
#include "util/log.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;

Task<Status> AwsBackend::DeleteIamUser(std::shared_ptr<awsapi::IamApi> iam, std::string username) {
  auto groups = co_await iam->ListGroupsForUser(username);
  if (!groups.ok()) {
    // Already gone (a crash after a revoke, a second revoke, a CreateUser that never landed).
    if (groups.error().NoSuchEntity()) co_return Status::Ok();
    co_return groups.error().ToStatus("Error listing groups of IAM user " + username);
  }
  auto policies = co_await iam->ListUserPolicies(username);
  if (!policies.ok()) {
    if (policies.error().NoSuchEntity()) co_return Status::Ok();
    co_return policies.error().ToStatus("Error listing policies of IAM user " + username);
  }
  auto attached = co_await iam->ListAttachedUserPolicies(username);
  if (!attached.ok()) {
    if (attached.error().NoSuchEntity()) co_return Status::Ok();
    co_return attached.error().ToStatus("Error listing attached policies of IAM user " + username);
  }
  auto keys = co_await iam->ListAccessKeys(username);
  if (!keys.ok()) {
    if (keys.error().NoSuchEntity()) co_return Status::Ok();
    co_return keys.error().ToStatus("Error listing access keys of IAM user " + username);
  }
  for (const auto& k : keys.value()) {
    auto r = co_await iam->DeleteAccessKey(username, k.access_key_id);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error deleting access key of IAM user " + username);
  }
  for (const auto& arn : attached.value()) {
    auto r = co_await iam->DetachUserPolicy(username, arn);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error detaching policy from IAM user " + username);
  }
  for (const auto& p : policies.value()) {
    auto r = co_await iam->DeleteUserPolicy(username, p);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error deleting policy of IAM user " + username);
  }
  for (const auto& g : groups.value()) {
    auto r = co_await iam->RemoveUserFromGroup(g, username);
    if (!r.ok() && !r.error().NoSuchEntity())
      co_return r.error().ToStatus("Error removing IAM user " + username + " from group");
  }
  auto del = co_await iam->DeleteUser(username);
  if (!del.ok() && !del.error().NoSuchEntity())
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

}  // namespace vault::engines::awsengine
