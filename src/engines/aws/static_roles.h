// Internal: the stored shapes and pure rules of the AWS engine's static roles (static-roles/,
// static-creds/): an existing IAM user whose access key Vault owns and rotates on a schedule.
// The paths, the rotation sequence and the rollback pass are AwsBackend members in
// static_roles.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aws/api.h"
#include "util/json.h"
#include "util/status.h"

namespace vault::engines::awsengine {

// Vault's minimum rotation_period, seconds.
inline constexpr int64_t kMinStaticRotationPeriod = 60;
// WAL kind of a static-role rotation in progress (see AwsBackend::RotateStaticKey).
inline constexpr const char* kStaticKeyWalKind = "static_key";
inline constexpr const char* kStaticRolePrefix = "static-roles/";
inline constexpr const char* kStaticCredsPrefix = "static-creds/";

// static-roles/<name> as stored.
struct StaticRole {
  std::string name;
  std::string id;  // the IAM user's UserId when adopted: detects a deleted and recreated user
  std::string username;
  int64_t rotation_period = 0;  // seconds

  Json ToStorage() const;
  static Result<StaticRole> FromStorage(const Json& j);
  // Vault's key set: name, id, username, rotation_period (seconds) and the Enterprise-only
  // assume_role_arn, assume_role_session_name, external_id (always "").
  Json ToResponseData() const;
};

// static-creds/<name>: the key Vault currently owns for the role. `expiration_nanos` is the
// persisted schedule: the first rollback pass at or after it rotates the key.
struct StaticCreds {
  std::string access_key;
  std::string secret_key;  // secret: never logged, never in errors
  int64_t expiration_nanos = 0;

  Json ToStorage() const;  // {"access_key","secret_key","expiration": RFC 3339}
  static Result<StaticCreds> FromStorage(const Json& j);
  Json ToResponseData() const;  // the same keys, as static-creds/ answers
};

// The key to delete before CreateAccessKey when `keys` are at IAM's limit of two: Vault's
// `previous` key if the user still has it, else the oldest by CreateDate (Vault's rule; a
// CreateDate that does not parse counts as newest, ties go to the first listed). Empty when
// there is room.
std::string KeyToMakeRoom(const std::vector<::vault::aws::AccessKey>& keys,
                          const std::string& previous);

}  // namespace vault::engines::awsengine
