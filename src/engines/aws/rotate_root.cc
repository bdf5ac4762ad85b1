// config/rotate-root: a new access key for config/root's IAM user, stored, then the old one
// deleted (all calls signed by the old key, which is known to work).
#include "engines/aws/backend.h"
#include "util/log.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;

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
