// config/rotate-root: a new access key for config/root's IAM user, proven to work, stored, then
// the old one deleted. The engine is never left without a working key: until the new key has
// signed a successful sts:GetCallerIdentity and is stored, the old one stays.
#include "engines/aws/backend.h"
#include "util/log.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;

namespace {
// How long the new key may take to be accepted (IAM is eventually consistent: a new key is
// usually accepted within seconds).
constexpr int64_t kRotateRootProofSeconds = 30;
}  // namespace

Task<Result<Response>> AwsBackend::RotateRoot(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> cfg, co_await LoadConfig(req.storage));
  if (!cfg) co_return InvalidArgument("no configuration found for config/root");
  if (cfg->access_key.empty() || cfg->secret_key.empty())
    co_return InvalidArgument(
        "Cannot call config/rotate-root when either access_key or secret_key is empty");
  // The old key signs every IAM call here, including the deletion of itself: it is the one known
  // to work.
  CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
  auto user = co_await iam->GetUser("");
  if (!user.ok()) co_return user.error().ToStatus("error calling GetUser");
  std::string username = user->user_name;
  auto created = co_await iam->CreateAccessKey(username);
  if (!created.ok()) co_return created.error().ToStatus("error calling CreateAccessKey");
  std::string new_key = created->access_key_id;

  // Proof before anything depends on the new key: it signs sts:GetCallerIdentity, retried while
  // IAM propagates it. If it never works, it goes and the old key stays in config/root.
  awsapi::Credentials creds{new_key, created->secret_access_key, ""};
  Status proven = co_await WaitForPropagation(*cfg, std::move(creds), kRotateRootProofSeconds, "");
  if (!proven.ok()) {
    auto undo = co_await iam->DeleteAccessKey(username, new_key);
    std::string msg = proven.message();
    if (undo.ok() || undo.error().NoSuchEntity()) {
      msg += "; the new key was deleted and the old one kept";
    } else {
      spdlog::warn("aws: rotate-root could not delete the new key {} that did not work: {}",
                   new_key, undo.error().ToString());
      msg += "; the old key was kept, but deleting the new key " + new_key +
             " failed: " + undo.error().ToString();
    }
    co_return Status(proven.code(), std::move(msg));
  }

  std::string old_key = cfg->access_key;
  RootConfig updated = *cfg;
  updated.access_key = new_key;
  updated.secret_key = created->secret_access_key;
  Status stored = co_await logical::PutJson(req.storage, "config/root", updated.ToStorage());
  if (!stored.ok()) {
    // Do not leave an orphan key behind (IAM allows only two per user).
    auto undo = co_await iam->DeleteAccessKey(username, new_key);
    if (!undo.ok())
      spdlog::warn("aws: rotate-root could not delete the new key after a storage failure: {}",
                   undo.error().ToString());
    co_return Internal("error storing new access key: " + stored.message());
  }
  auto deleted = co_await iam->DeleteAccessKey(username, old_key);
  if (!deleted.ok()) co_return deleted.error().ToStatus("error deleting old access key");
  co_return Response::WithData({{"access_key", new_key}});
}

}  // namespace vault::engines::awsengine
