// The AWS engine's static roles: static-roles/ (adopt an existing IAM user), static-creds/ (its
// current access key, no lease) and the rotation that replaces the key every rotation_period.
//
// Rotation of a role (RotateStaticKey), under the role's lock:
//   0. undo what an earlier, interrupted rotation of the role left (its static_key WAL entries);
//   1. GetUser: the user must still have the UserId recorded at adoption (skipped right after a
//      create/update validated it);
//   2. ListAccessKeys; at IAM's limit of two keys, delete one to make room: Vault's previous key
//      if the user still has it, else the oldest (Vault's rule, for users adopted with two keys);
//   3. PutWal(static_key) → CreateAccessKey → store static-creds/<name> with the new key and
//      expiration = now + rotation_period;
//   4. DeleteAccessKey(Vault's previous key) → DeleteWal.
// So the user keeps one Vault key (Vault deletes only "the oldest when there are two", which
// leaves users with two keys, hashicorp/vault#27477), and the schedule is the expiration stored
// with the key, read on every pass (no in-memory queue to lose, #21935). A crash or an ambiguous
// failure after step 3's WAL write is undone by the WAL rollback or by the role's next rotation
// (step 0).
#include <algorithm>

#include "engines/aws/backend.h"
#include "logical/wal.h"
#include "util/log.h"
#include "util/strings.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;
using logical::Field;
using logical::FieldType;
using logical::Operation;

namespace {

// framework.GenericNameWithAtRegex, as for roles/.
constexpr char kNamePattern[] = "(?P<name>\\w(([\\w-.@]+)?\\w)?)";
constexpr int64_t kNanos = 1000000000;
// How long a request waits for a static role another request or the rotation pass is working on.
constexpr int64_t kLockWaitMillis = 30000;
constexpr int64_t kLockPollMillis = 20;
// A key missing from a static_key WAL entry's list of the user's keys is taken for the key the
// interrupted rotation created only if AWS dates it within this window around the entry's time.
constexpr int64_t kOrphanWindowSeconds = 900;

Status Prefixed(const Status& st, const std::string& prefix) {
  return Status(st.code(), prefix + ": " + st.message());
}

constexpr char kEnterpriseOnly[] =
    "cross-account static roles are only supported in Vault Enterprise";

Task<Result<std::optional<StaticRole>>> LoadStaticRole(logical::Storage* s, std::string name) {
  std::string key = kStaticRolePrefix + name;
  CO_ASSIGN_OR_RETURN(std::optional<Json> j, co_await logical::GetJson(s, key));
  if (!j) co_return std::optional<StaticRole>();
  CO_ASSIGN_OR_RETURN(StaticRole r, StaticRole::FromStorage(*j));
  if (r.name.empty()) r.name = name;
  co_return std::optional<StaticRole>(std::move(r));
}

Task<Result<std::optional<StaticCreds>>> LoadStaticCreds(logical::Storage* s, std::string name) {
  std::string key = kStaticCredsPrefix + name;
  CO_ASSIGN_OR_RETURN(std::optional<Json> j, co_await logical::GetJson(s, key));
  if (!j) co_return std::optional<StaticCreds>();
  CO_ASSIGN_OR_RETURN(StaticCreds c, StaticCreds::FromStorage(*j));
  co_return std::optional<StaticCreds>(std::move(c));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Stored shapes

Json StaticRole::ToStorage() const {
  return {{"name", name}, {"id", id}, {"username", username}, {"rotation_period", rotation_period}};
}

Result<StaticRole> StaticRole::FromStorage(const Json& j) {
  if (!j.is_object() || !j.contains("username") || !j["username"].is_string())
    return Internal("corrupt static role entry");
  StaticRole r;
  r.name = j.value("name", "");
  r.id = j.value("id", "");
  r.username = j.value("username", "");
  r.rotation_period = j.value("rotation_period", int64_t{0});
  return r;
}

Json StaticRole::ToResponseData() const {
  return {{"name", name},          {"id", id},
          {"username", username},  {"rotation_period", rotation_period},
          {"assume_role_arn", ""}, {"assume_role_session_name", ""},
          {"external_id", ""}};
}

Json StaticCreds::ToStorage() const {
  return {{"access_key", access_key},
          {"secret_key", secret_key},
          {"expiration", FormatRfc3339Nano(expiration_nanos)}};
}

Result<StaticCreds> StaticCreds::FromStorage(const Json& j) {
  if (!j.is_object()) return Internal("corrupt static credentials entry");
  StaticCreds c;
  c.access_key = j.value("access_key", "");
  c.secret_key = j.value("secret_key", "");
  auto exp = ParseRfc3339Nanos(j.value("expiration", ""));
  // Without a readable schedule the key is due: the next pass replaces it.
  c.expiration_nanos = exp.ok() ? *exp : 0;
  return c;
}

Json StaticCreds::ToResponseData() const { return ToStorage(); }

std::string KeyToMakeRoom(const std::vector<awsapi::AccessKey>& keys, const std::string& previous) {
  if (keys.size() < 2) return "";
  if (!previous.empty()) {
    for (const auto& k : keys)
      if (k.access_key_id == previous) return previous;
  }
  const awsapi::AccessKey* oldest = nullptr;
  int64_t oldest_at = 0;
  for (const auto& k : keys) {
    auto at = ParseRfc3339Nanos(k.create_date);
    int64_t t = at.ok() ? *at : INT64_MAX;
    if (!oldest || t < oldest_at) {
      oldest = &k;
      oldest_at = t;
    }
  }
  return oldest->access_key_id;
}

// ---------------------------------------------------------------------------------------------
// Per-role lock

std::unique_ptr<AwsBackend::StaticRoleLock> AwsBackend::TryLockStaticRole(const std::string& name) {
  return static_busy_.TryClaim(name);
}

Task<Result<std::unique_ptr<AwsBackend::StaticRoleLock>>> AwsBackend::LockStaticRole(
    std::string name) {
  for (int64_t waited = 0;; waited += kLockPollMillis) {
    if (auto lock = TryLockStaticRole(name)) co_return std::move(lock);
    if (waited >= kLockWaitMillis) break;
    bool slept = co_await sleep_(kLockPollMillis);
    if (!slept) break;
  }
  co_return Unavailable("static role \"" + name + "\" is busy (being rotated); try again");
}

// ---------------------------------------------------------------------------------------------
// Paths

void AwsBackend::AddStaticRolePaths(AwsBackend* self, std::vector<logical::Path>* paths) {
  using logical::Path;
  auto async = [self](Task<Result<Response>> (AwsBackend::*fn)(Request&, const FieldData&)) {
    return [self, fn](Request& r, const FieldData& d) { return (self->*fn)(r, d); };
  };

  Path list;
  list.pattern = "static-roles/?";
  list.async_operations[Operation::kList] = async(&AwsBackend::StaticRoleList);
  list.synopsis = "List the static roles of this backend.";
  list.description = "Static roles are listed by name.";
  paths->push_back(std::move(list));

  Path role;
  role.pattern = std::string("static-roles/") + kNamePattern;
  role.fields = {
      {"name", FieldType::kString, "Name of the static role."},
      {"username", FieldType::kString,
       "Name of the existing IAM user to adopt. Required on create. The user must exist "
       "(iam:GetUser); its UserId is recorded, and a later write naming a different user (or the "
       "same name recreated) is refused."},
      {"rotation_period", FieldType::kDurationSecond,
       "How often Vault replaces the user's access key, as a duration (\"1h\", \"24h\") or "
       "seconds; at least 1 minute. Required on create. Changing it reschedules the next rotation "
       "to now + the new period."},
      {"assume_role_arn", FieldType::kString,
       "Vault Enterprise only (cross-account static roles); rejected."},
      {"assume_role_session_name", FieldType::kString,
       "Vault Enterprise only (cross-account static roles); rejected."},
      {"external_id", FieldType::kString,
       "Vault Enterprise only (cross-account static roles); rejected."},
  };
  role.async_operations[Operation::kRead] = async(&AwsBackend::StaticRoleRead);
  role.async_operations[Operation::kUpdate] = async(&AwsBackend::StaticRoleWrite);
  role.async_operations[Operation::kDelete] = async(&AwsBackend::StaticRoleDelete);
  role.synopsis = "Manage static roles: existing IAM users whose access key Vault rotates.";
  role.description =
      "A static role adopts one existing IAM user. On create, Vault checks the user\n"
      "(iam:GetUser) and makes it an access key of its own, which static-creds/<name>\n"
      "returns until it is rotated. Every rotation_period Vault creates a new key,\n"
      "stores it and deletes its previous one, so the user is left with a single key\n"
      "from Vault. If the user already has two keys (IAM's limit) that are not Vault's,\n"
      "the oldest is deleted to make room. Deleting the role deletes Vault's key; the\n"
      "IAM user itself is never deleted.\n"
      "\n"
      "Vault's root credentials need iam:GetUser, iam:ListAccessKeys,\n"
      "iam:CreateAccessKey and iam:DeleteAccessKey on the user.";
  paths->push_back(std::move(role));

  Path creds;
  creds.pattern = std::string("static-creds/") + kNamePattern;
  creds.fields = {{"name", FieldType::kString, "Name of the static role."}};
  creds.async_operations[Operation::kRead] = async(&AwsBackend::StaticCredsRead);
  creds.synopsis = "Read the current access key of a static role.";
  creds.description =
      "This path returns the access key Vault currently holds for a static role, with\n"
      "the time it will be replaced (expiration). The same key is returned until it is\n"
      "rotated; there is no lease. Due to AWS eventual consistency a freshly rotated\n"
      "key may be refused by AWS for a few seconds.";
  paths->push_back(std::move(creds));
}

// ---------------------------------------------------------------------------------------------
// static-roles/, static-creds/

Task<Result<Response>> AwsBackend::StaticRoleList(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(std::vector<std::string> keys, co_await req.storage->List(kStaticRolePrefix));
  std::vector<std::string> names;
  for (auto& k : keys)
    if (!k.empty() && k.back() != '/') names.push_back(k);
  if (names.empty()) co_return Response();
  std::sort(names.begin(), names.end());
  co_return Response::WithData({{"keys", names}});
}

Task<Result<Response>> AwsBackend::StaticRoleRead(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(std::optional<StaticRole> role,
                      co_await LoadStaticRole(req.storage, d.GetString("name")));
  if (!role) co_return Response();
  co_return Response::WithData(role->ToResponseData());
}

Task<Result<Response>> AwsBackend::StaticCredsRead(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(std::optional<StaticCreds> creds,
                      co_await LoadStaticCreds(req.storage, d.GetString("name")));
  if (!creds) co_return Response();
  co_return Response::WithData(creds->ToResponseData());
}

Task<Result<Response>> AwsBackend::StaticRoleWrite(Request& req, const FieldData& d) {
  std::string name = d.GetString("name");
  // Checks that need neither storage nor AWS first.
  for (const char* f : {"assume_role_arn", "assume_role_session_name", "external_id"})
    if (!d.GetString(f).empty()) co_return InvalidArgument(kEnterpriseOnly);
  const bool has_period = d.Has("rotation_period");
  const int64_t period = d.GetInt("rotation_period");
  if (has_period && period < kMinStaticRotationPeriod)
    co_return InvalidArgument(
        "role rotation period out of range: must be greater than 60.00 seconds");
  const std::string username = d.GetString("username");

  CO_ASSIGN_OR_RETURN(std::unique_ptr<StaticRoleLock> lock, co_await LockStaticRole(name));
  CO_ASSIGN_OR_RETURN(std::optional<StaticRole> existing,
                      co_await LoadStaticRole(req.storage, name));
  const bool create = !existing;
  if (create && username.empty()) co_return InvalidArgument("missing \"username\" parameter");
  if (create && !has_period) co_return InvalidArgument("missing \"rotation_period\" parameter");
  StaticRole role = existing.value_or(StaticRole{});
  role.name = name;
  if (has_period) role.rotation_period = period;

  if (!username.empty()) {
    CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
    auto user = co_await iam->GetUser(username);
    if (!user.ok())
      co_return user.error().ToStatus("unable to validate username \"" + username + "\"");
    if (user->user_name != username)
      co_return InvalidArgument("AWS GetUser returned a username, but it didn't match: \"" +
                                username + "\" was requested, but \"" + user->user_name +
                                "\" was returned");
    if (!create && user->user_id != role.id)
      co_return InvalidArgument("AWS GetUser returned a user, but the ID did not match: \"" +
                                role.id + "\" was requested, but \"" + user->user_id +
                                "\" was returned");
    role.username = username;
    role.id = user->user_id;
  }
  const std::string role_key = kStaticRolePrefix + name, creds_key = kStaticCredsPrefix + name;
  CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, role_key, role.ToStorage()));

  Response resp;
  CO_ASSIGN_OR_RETURN(std::optional<StaticCreds> creds,
                      co_await LoadStaticCreds(req.storage, name));
  if (!creds) {
    // AWS shows a secret key only when it is created: every role starts with a key of its own.
    auto fresh = co_await RotateStaticKey(req.storage, role, std::nullopt,
                                          /*check_user=*/username.empty(), &resp.warnings);
    if (!fresh.ok()) {
      // A new role that has no key is not kept (Vault keeps it, without a key or a schedule).
      if (create) (co_await req.storage->Delete(role_key)).IgnoreError();
      co_return Prefixed(fresh.status(),
                         "failed to create new credentials for role \"" + name + "\"");
    }
  } else if (has_period) {
    // The new period applies from now (Vault ignored it until the old schedule ran, #21967).
    creds->expiration_nanos = clock_->NowNanos() + role.rotation_period * kNanos;
    CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, creds_key, creds->ToStorage()));
  }
  resp.data = role.ToResponseData();
  co_return resp;
}

Task<Result<Response>> AwsBackend::StaticRoleDelete(Request& req, const FieldData& d) {
  std::string name = d.GetString("name");
  CO_ASSIGN_OR_RETURN(std::unique_ptr<StaticRoleLock> lock, co_await LockStaticRole(name));
  CO_ASSIGN_OR_RETURN(std::optional<StaticRole> role, co_await LoadStaticRole(req.storage, name));
  if (!role) co_return Response();
  CO_ASSIGN_OR_RETURN(std::optional<StaticCreds> creds,
                      co_await LoadStaticCreds(req.storage, name));
  if (creds && !creds->access_key.empty()) {
    // The key first: if IAM refuses, nothing is forgotten and the delete can be retried.
    CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
    auto del = co_await iam->DeleteAccessKey(role->username, creds->access_key);
    if (!del.ok() && !del.error().NoSuchEntity())
      co_return del.error().ToStatus("failed to delete the access key of static role \"" + name +
                                     "\" from IAM");
  }
  const std::string role_key = kStaticRolePrefix + name, creds_key = kStaticCredsPrefix + name;
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(creds_key));
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(role_key));
  co_return Response();
}

// ---------------------------------------------------------------------------------------------
// Rotation

Task<Result<StaticCreds>> AwsBackend::RotateStaticKey(logical::Storage* s, StaticRole role,
                                                      std::optional<StaticCreds> current,
                                                      bool check_user,
                                                      std::vector<std::string>* warnings) {
  CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(s));
  const std::string& user = role.username;

  // 0. Leftovers of an interrupted rotation of this role, so that the key count below is right
  //    and a key of ours is not taken for someone else's.
  CO_ASSIGN_OR_RETURN(std::vector<std::string> wal_ids, co_await logical::ListWal(s));
  for (const std::string& id : wal_ids) {
    auto got = co_await logical::GetWal(s, id);
    if (!got.ok()) continue;  // corrupt: the rollback pass reports it
    std::optional<logical::WalEntry>& entry = *got;
    if (!entry || entry->kind != kStaticKeyWalKind || !entry->data.is_object() ||
        entry->data.value("role", "") != role.name)
      continue;
    Status undone = co_await UndoStaticKeyWal(s, iam, *entry);
    if (!undone.ok()) co_return Prefixed(undone, "cleaning up an interrupted rotation");
    (co_await logical::DeleteWal(s, id)).IgnoreError();
  }

  // 1. Still the user that was adopted?
  if (check_user) {
    auto got = co_await iam->GetUser(user);
    if (!got.ok()) co_return got.error().ToStatus("unable to validate username \"" + user + "\"");
    if (got->user_id != role.id)
      co_return InvalidArgument("IAM user \"" + user + "\" has ID \"" + got->user_id +
                                "\", not the adopted user's \"" + role.id +
                                "\" (deleted and recreated?); its keys are left alone");
  }

  // 2. Room for a new key.
  auto listed = co_await iam->ListAccessKeys(user);
  if (!listed.ok())
    co_return listed.error().ToStatus("unable to list existing access keys for IAM user \"" + user +
                                      "\"");
  const std::string previous = current ? current->access_key : "";
  bool previous_listed = false;
  for (const auto& k : listed.value()) previous_listed |= k.access_key_id == previous;
  const std::string victim = KeyToMakeRoom(listed.value(), previous);
  if (!victim.empty()) {
    auto del = co_await iam->DeleteAccessKey(user, victim);
    if (!del.ok() && !del.error().NoSuchEntity())
      co_return del.error().ToStatus("unable to delete access key \"" + victim +
                                     "\" of IAM user \"" + user + "\" to make room for a new one");
    if (victim != previous) {
      spdlog::warn(
          "aws: static role {}: IAM user {} had two access keys, none of them Vault's; "
          "deleted the oldest, {}",
          role.name, user, victim);
      warnings->push_back("IAM user \"" + user + "\" had two access keys; the oldest, " + victim +
                          ", was deleted to make room for Vault's");
    }
  }
  Json others = Json::array();
  for (const auto& k : listed.value())
    if (k.access_key_id != victim) others.push_back(k.access_key_id);

  // 3. Intent, new key, store.
  Json wal_data = {{"role", role.name},
                   {"username", user},
                   {"previous_key", previous},
                   {"existing_keys", others}};
  auto wal =
      co_await logical::PutWal(s, kStaticKeyWalKind, std::move(wal_data), clock_->NowSeconds());
  if (!wal.ok()) co_return Internal("error writing WAL entry: " + wal.status().message());
  const std::string wal_id = *wal;
  auto created = co_await iam->CreateAccessKey(user);
  if (!created.ok()) {
    // After a timeout or a 5xx the key may exist anyway: the WAL entry stays for the undo.
    if (!created.error().Ambiguous()) (co_await logical::DeleteWal(s, wal_id)).IgnoreError();
    co_return created.error().ToStatus("unable to create new access keys for user \"" + user +
                                       "\"");
  }
  StaticCreds fresh;
  fresh.access_key = created->access_key_id;
  fresh.secret_key = created->secret_access_key;
  fresh.expiration_nanos = clock_->NowNanos() + role.rotation_period * kNanos;
  const std::string creds_key = kStaticCredsPrefix + role.name;
  Status stored = co_await logical::PutJson(s, creds_key, fresh.ToStorage());
  if (!stored.ok()) {
    auto undo = co_await iam->DeleteAccessKey(user, fresh.access_key);
    if (undo.ok()) {
      (co_await logical::DeleteWal(s, wal_id)).IgnoreError();
    } else {
      spdlog::warn(
          "aws: static role {}: could not delete the new access key after a storage "
          "failure; rollback will retry: {}",
          role.name, undo.error().ToString());
    }
    co_return Internal("failed to store the new access key: " + stored.message());
  }

  // 4. Retire Vault's previous key.
  if (previous_listed && victim != previous) {
    auto del = co_await iam->DeleteAccessKey(user, previous);
    if (!del.ok() && !del.error().NoSuchEntity()) {
      // The new key is in place; the WAL entry makes rollback delete the old one later.
      spdlog::warn(
          "aws: static role {}: could not delete the previous access key {} yet; "
          "rollback will retry: {}",
          role.name, previous, del.error().ToString());
      warnings->push_back(
          "the previous access key " + previous +
          " could not be deleted yet and will be deleted by rollback: " + del.error().message);
      co_return fresh;
    }
  }
  (co_await logical::DeleteWal(s, wal_id)).IgnoreError();
  co_return fresh;
}

Task<Status> AwsBackend::UndoStaticKeyWal(logical::Storage* s, std::shared_ptr<awsapi::IamApi> iam,
                                          logical::WalEntry entry) {
  const Json& data = entry.data;
  std::string role = data.is_object() ? data.value("role", "") : "";
  std::string user = data.is_object() ? data.value("username", "") : "";
  if (role.empty() || user.empty()) {
    spdlog::warn("aws: dropping static_key WAL entry {} without a role or username", entry.id);
    co_return Status::Ok();
  }
  std::string previous = data.value("previous_key", "");
  std::vector<std::string> existing;
  if (data.contains("existing_keys") && data["existing_keys"].is_array())
    for (const auto& k : data["existing_keys"])
      if (k.is_string()) existing.push_back(k.get<std::string>());
  CO_ASSIGN_OR_RETURN(std::optional<StaticCreds> creds, co_await LoadStaticCreds(s, role));
  const std::string stored = creds ? creds->access_key : "";

  auto listed = co_await iam->ListAccessKeys(user);
  if (!listed.ok()) {
    if (listed.error().NoSuchEntity()) co_return Status::Ok();  // the user is gone
    co_return listed.error().ToStatus("unable to list access keys of IAM user \"" + user + "\"");
  }
  for (const auto& k : listed.value()) {
    if (k.access_key_id == stored) continue;
    // Vault's replaced key, or the key the interrupted rotation created (not there before it,
    // created around its time); anything else belongs to someone else.
    bool ours = !previous.empty() && k.access_key_id == previous;
    if (!ours && std::find(existing.begin(), existing.end(), k.access_key_id) == existing.end()) {
      auto at = ParseRfc3339Nanos(k.create_date);
      ours = at.ok() && std::abs(*at / kNanos - entry.created_at) <= kOrphanWindowSeconds;
    }
    if (!ours) continue;
    auto del = co_await iam->DeleteAccessKey(user, k.access_key_id);
    if (!del.ok() && !del.error().NoSuchEntity())
      co_return del.error().ToStatus("unable to delete access key \"" + k.access_key_id +
                                     "\" of IAM user \"" + user + "\"");
    spdlog::info("aws: static role {}: deleted access key {} left by an interrupted rotation", role,
                 k.access_key_id);
  }
  co_return Status::Ok();
}

Task<Status> AwsBackend::RollbackStaticKeyWal(Request& req, logical::WalEntry entry) {
  std::string role = entry.data.is_object() ? entry.data.value("role", "") : "";
  auto lock = TryLockStaticRole(role);
  if (!lock)
    co_return Unavailable("static role \"" + role + "\" is being rotated; WAL entry " + entry.id +
                          " is left for the next pass");
  CO_ASSIGN_OR_RETURN(std::shared_ptr<awsapi::IamApi> iam, co_await IamClient(req.storage));
  co_return co_await UndoStaticKeyWal(req.storage, iam, std::move(entry));
}

Task<Status> AwsBackend::RotateDueStaticRoles(Request& req) {
  CO_ASSIGN_OR_RETURN(std::vector<std::string> names,
                      co_await req.storage->List(kStaticRolePrefix));
  std::vector<std::string> errors;
  StatusCode code = StatusCode::kOk;
  auto fail = [&](const std::string& name, const Status& st) {
    spdlog::warn(
        "aws: rotation of static role {} failed; its current key stays and the next "
        "pass retries: {}",
        name, st.message());
    errors.push_back("static role \"" + name + "\": " + st.message());
    if (code == StatusCode::kOk) code = st.code();
  };
  for (const std::string& name : names) {
    if (name.empty() || name.back() == '/') continue;
    // Busy: a request is writing or deleting it, or a slow earlier pass is rotating it.
    auto lock = TryLockStaticRole(name);
    if (!lock) continue;
    auto role = co_await LoadStaticRole(req.storage, name);
    if (!role.ok()) {
      fail(name, role.status());
      continue;
    }
    if (!*role) continue;  // deleted meanwhile
    auto creds = co_await LoadStaticCreds(req.storage, name);
    if (!creds.ok()) {
      fail(name, creds.status());
      continue;
    }
    if (*creds && clock_->NowNanos() < (*creds)->expiration_nanos) continue;
    std::vector<std::string> warnings;
    auto fresh =
        co_await RotateStaticKey(req.storage, **role, *creds, /*check_user=*/true, &warnings);
    if (!fresh.ok()) {
      fail(name, fresh.status());
      continue;
    }
    spdlog::info("aws: rotated the access key of static role {} (IAM user {})", name,
                 (*role)->username);
  }
  if (errors.empty()) co_return Status::Ok();
  co_return Status(code, Join(errors, "; "));
}

}  // namespace vault::engines::awsengine
