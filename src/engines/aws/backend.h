// Internal: the AWS engine's backend class. Users include engines/aws/aws.h.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "aws/api.h"
#include "engines/aws/aws.h"
#include "engines/aws/role.h"
#include "engines/aws/static_roles.h"
#include "logical/framework.h"
#include "usertemplate/username_template.h"
#include "util/claim_set.h"
#include "util/delay_timer.h"
#include "util/lock_annotations.h"

namespace vault::engines::awsengine {

using logical::FieldData;
using logical::Request;
using logical::Response;
using usertemplate::kDefaultUsernameTemplate;
using usertemplate::NormalizeName;
using usertemplate::RenderDefaultUsername;
using usertemplate::TemplateEnv;
using usertemplate::UsernameMetadata;
using usertemplate::UsernameTemplate;

// config/root as stored. secret_key never leaves the engine except towards the ClientFactory.
struct RootConfig {
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::string iam_endpoint;
  std::string sts_endpoint;
  std::string sts_region;
  std::vector<std::string> sts_fallback_endpoints;
  std::vector<std::string> sts_fallback_regions;
  int64_t max_retries = -1;
  // vault-cpp extension: the IAM call budget of this mount (calls/second, shared by all of its IAM
  // calls; STS has a budget of the same size of its own). 0 = unlimited.
  int64_t max_calls_per_second = 0;
  std::string username_template;  // "" = the default template

  Json ToStorage() const;
  static RootConfig FromStorage(const Json& j);
  Json ToResponseData() const;  // everything except secret_key
  const std::string& EffectiveTemplate() const;
};

// config/lease, seconds.
struct LeaseConfig {
  int64_t lease = 0;
  int64_t lease_max = 0;
};

// Longest display and role names a username template is checked against at config/root write;
// longer names are cut to this length before they reach the template, so the check is sound.
inline constexpr size_t kMaxTemplateInputLength = 128;
inline constexpr size_t kIamNameLimit = 64;
inline constexpr size_t kStsNameLimit = 32;

// The lease of an IAM user (issued or renewed), from config/lease when set (issue_iam_user.cc).
logical::SecretSpec IamUserLease(const std::optional<Json>& lease_cfg);
// Registers an issue's lease through core (logical::LeaseRegistrar) while its last calls are at
// AWS; `*spec` and `*out` are the caller's, who awaits this (issue_iam_user.cc).
Task<Status> RegisterLeaseStep(logical::LeaseRegistrar* leases, const logical::SecretSpec* spec,
                               std::optional<logical::RegisteredLease>* out);

class AwsBackend : public logical::FrameworkBackend {
 public:
  AwsBackend(std::shared_ptr<::vault::aws::ClientFactory> factory, Clock* clock,
             AwsBackendOptions options);

 private:
  struct StsHandle {
    std::shared_ptr<::vault::aws::StsApi> client;
    ::vault::aws::ClientConfig config;
  };

  static std::vector<logical::Path> BuildPaths(AwsBackend* self);

  // config/root, config/rotate-root, config/lease
  Task<Result<Response>> ConfigRootRead(Request& req, const FieldData& d);
  Task<Result<Response>> ConfigRootWrite(Request& req, const FieldData& d);
  Task<Result<Response>> RotateRoot(Request& req, const FieldData& d);
  Task<Result<Response>> ConfigLeaseRead(Request& req, const FieldData& d);
  Task<Result<Response>> ConfigLeaseWrite(Request& req, const FieldData& d);
  Status ValidateUsernameTemplate(const std::string& text) const;

  // roles
  Task<Result<Response>> RoleRead(Request& req, const FieldData& d);
  Task<Result<Response>> RoleWrite(Request& req, const FieldData& d);
  Task<Result<Response>> RoleDelete(Request& req, const FieldData& d);
  Task<Result<Response>> RoleList(Request& req, const FieldData& d);
  // The role, upgrading a 2015 "policy/<name>" entry on the way; nullopt if neither exists.
  Task<Result<std::optional<Role>>> LoadRole(logical::Storage* s, std::string name);

  // creds/ and sts/
  Task<Result<Response>> Creds(Request& req, const FieldData& d);
  // `cfg_raw`: config/root's stored text, which keys the cached IAM client.
  Task<Result<Response>> IssueIamUser(Request& req, const FieldData& d, std::string role_name,
                                      Role role, RootConfig cfg, std::string cfg_raw);
  Task<Result<Response>> IssueSts(Request& req, const FieldData& d, std::string role_name,
                                  Role role, RootConfig cfg, std::string type);
  // The teardown of an IAM user: lists (together) its groups, inline and attached policies,
  // access keys, MFA devices, signing certificates, SSH public keys and service-specific
  // credentials and deletes its login profile, then removes each of those, then the user.
  // NoSuchEntity anywhere means "already gone" and counts as success.
  Task<Status> DeleteIamUser(std::shared_ptr<::vault::aws::IamApi> iam, std::string username);
  // Probes the new key with sts:GetCallerIdentity until AWS accepts it or the timeout passes
  // (retrying InvalidClientTokenId, throttling and 5xx with backoff). A timeout's error ends with
  // `after_timeout` (what the caller does about the key, e.g. "; the IAM user was deleted").
  Task<Status> WaitForPropagation(RootConfig cfg, ::vault::aws::Credentials creds,
                                  int64_t timeout_seconds, std::string after_timeout);
  Result<std::string> GenerateName(const RootConfig& cfg, const std::string& type,
                                   const std::string& display_name, const std::string& role_name);

  // Lease handling and rollback.
  Task<Result<Response>> RenewSecret(Request& req);
  Task<Result<Response>> RevokeSecret(Request& req);
  Task<Status> RollbackWal(Request& req, logical::WalEntry entry);

  // static-roles/ and static-creds/ (static_roles.cc).
  using StaticRoleLock = ClaimSet::Claim;
  static void AddStaticRolePaths(AwsBackend* self, std::vector<logical::Path>* paths);
  Task<Result<Response>> StaticRoleWrite(Request& req, const FieldData& d);
  Task<Result<Response>> StaticRoleRead(Request& req, const FieldData& d);
  Task<Result<Response>> StaticRoleDelete(Request& req, const FieldData& d);
  Task<Result<Response>> StaticRoleList(Request& req, const FieldData& d);
  Task<Result<Response>> StaticCredsRead(Request& req, const FieldData& d);
  // The periodic pass (every kRollback): rotates each static role whose key has expired, and
  // retries roles left without a key. A failed rotation keeps the current key.
  Task<Status> RotateDueStaticRoles(Request& req);
  // Replaces the role's access key and stores the new one with expiration now + period; on
  // failure the stored key is unchanged. The caller holds the role's lock. `check_user` first
  // verifies with GetUser that the IAM user is still the one adopted.
  Task<Result<StaticCreds>> RotateStaticKey(logical::Storage* s, StaticRole role,
                                            std::optional<StaticCreds> current, bool check_user,
                                            std::vector<std::string>* warnings);
  // Undoes what a rotation recorded in `entry` (kind static_key) left behind: its new key if
  // it was never stored, Vault's previous key if it was replaced but not deleted.
  Task<Status> UndoStaticKeyWal(logical::Storage* s, std::shared_ptr<::vault::aws::IamApi> iam,
                                logical::WalEntry entry);
  Task<Status> RollbackStaticKeyWal(Request& req, logical::WalEntry entry);
  // One request or rotation per static role at a time. Lock waits (awaited, never blocking)
  // and fails with kUnavailable after 30 s; TryLock returns null when the role is busy.
  Task<Result<std::unique_ptr<StaticRoleLock>>> LockStaticRole(std::string name);
  std::unique_ptr<StaticRoleLock> TryLockStaticRole(const std::string& name);

  // Clients: built through the factory from config/root and rebuilt whenever the stored
  // config/root differs from the one they were built from.
  Task<Result<std::optional<RootConfig>>> LoadConfig(logical::Storage* s,
                                                     std::string* raw = nullptr);
  Task<Result<std::shared_ptr<::vault::aws::IamApi>>> IamClient(logical::Storage* s);
  // The same for a config/root the caller has loaded already (`raw`: its stored text).
  Result<std::shared_ptr<::vault::aws::IamApi>> IamClient(const RootConfig& cfg,
                                                          const std::string& raw);
  Task<Result<StsHandle>> StsClient(logical::Storage* s);
  std::vector<::vault::aws::ClientConfig> StsCandidates(const RootConfig& cfg) const;
  ::vault::aws::ClientConfig BaseClientConfig(const RootConfig& cfg) const;

  std::shared_ptr<::vault::aws::ClientFactory> factory_;
  Clock* clock_;
  std::function<Task<bool>(int64_t)> sleep_;
  std::shared_ptr<DelayTimer> timer_;  // only when no sleep function was injected

  // WAL entries whose issuing request is still running: rollback leaves them alone even when
  // they are older than its minimum age (slow IAM, long propagation waits).
  ClaimSet inflight_wals_;
  ClaimSet static_busy_;  // static roles locked by a request or rotation

  std::mutex mu_;  // guards the client cache
  std::string iam_key_ GUARDED_BY(mu_);
  std::shared_ptr<::vault::aws::IamApi> iam_ GUARDED_BY(mu_);
  std::string sts_key_ GUARDED_BY(mu_);
  std::optional<StsHandle> sts_ GUARDED_BY(mu_);

  // Parsed roles and config/root, reused while their stored text is unchanged: a creds read
  // compares the text it read with the one parsed instead of parsing it again. Writes need no
  // invalidation (a new text misses); the roles kept are bounded.
  template <typename T>
  struct Parsed {
    std::string raw;
    std::optional<T> value;
  };
  static constexpr size_t kParsedRolesKept = 256;
  std::mutex parsed_mu_;
  std::unordered_map<std::string, Parsed<Role>> parsed_roles_ GUARDED_BY(parsed_mu_);
  Parsed<RootConfig> parsed_config_ GUARDED_BY(parsed_mu_);
  std::mutex template_mu_;  // guards the parsed username_template, reused while its text holds
  std::string template_text_ GUARDED_BY(template_mu_);
  std::optional<UsernameTemplate> template_ GUARDED_BY(template_mu_);
};

}  // namespace vault::engines::awsengine
