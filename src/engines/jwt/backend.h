// The JWT auth method's backend: its stored config and roles, and the handlers of its paths
// (config.cc, role.cc, login.cc; construction and shared state in backend.cc).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engines/jwt/jwt.h"
#include "engines/jwt/keyset.h"
#include "logical/framework.h"
#include "logical/token_fields.h"
#include "util/async_mutex.h"
#include "util/lock_annotations.h"

namespace vault::engines::jwt {

using logical::FieldData;
using logical::Request;
using logical::Response;

// The tokens a login refuses before looking at them (Vault has no limit; 64 KiB is far above
// any real ID token and bounds the work an unauthenticated caller can ask for).
inline constexpr size_t kMaxTokenBytes = 64 * 1024;

// The mount's config (storage key "config").
struct Config {
  std::string oidc_discovery_url;
  std::string oidc_discovery_ca_pem;
  std::string oidc_client_id;
  std::string oidc_client_secret;  // never returned
  std::string oidc_response_mode;
  std::vector<std::string> oidc_response_types;
  std::string jwks_url;
  std::string jwks_ca_pem;
  std::vector<std::string> jwt_validation_pubkeys;
  std::vector<std::string> jwt_supported_algs;
  std::string bound_issuer;
  std::string default_role;
  Json provider_config = Json::object();
  bool namespace_in_state = true;

  Json ToStorage() const;
  static Config FromStorage(const Json& j);
  // GET config: Vault's keys (oidc_client_secret omitted, jwks_pairs always empty).
  Json ToResponseData() const;
};

// A role (storage key "role/<name>"). Lists and maps never written are null, as Vault reads them.
struct Role {
  std::string role_type = "jwt";  // stored roles without one are legacy jwt roles
  std::string user_claim;
  bool user_claim_json_pointer = false;
  Json bound_audiences;  // null or an array of strings
  std::string bound_subject;
  std::string bound_claims_type = "string";
  Json bound_claims;    // null or an object
  Json claim_mappings;  // null or an object claim -> metadata key
  std::string groups_claim;
  int64_t clock_skew_leeway = 0;  // seconds; 0 = default, < 0 = none
  int64_t expiration_leeway = 0;
  int64_t not_before_leeway = 0;
  Json allowed_redirect_uris;  // null or an array
  Json oidc_scopes;            // null or an array
  std::string callback_mode = "client";
  int64_t poll_interval = 0;
  bool verbose_oidc_logging = false;
  int64_t max_age = 0;
  logical::TokenParams token;

  std::vector<std::string> BoundAudiences() const;
  Json ToStorage() const;
  static Role FromStorage(const Json& j);
  Json ToResponseData() const;
};

// The config in force and the key set made from it; replaced whole by a config write (which so
// drops the cached keys). Immutable once published.
struct ConfigState {
  Config config;
  std::shared_ptr<KeySet> keys;
};

class JwtBackend : public logical::FrameworkBackend {
 public:
  JwtBackend(JwtHttpFactory http, Clock* clock);

 private:
  static std::vector<logical::Path> BuildPaths(JwtBackend* self);

  // config.cc
  Task<Result<Response>> ConfigRead(Request& req, const FieldData& d);
  Task<Result<Response>> ConfigWrite(Request& req, const FieldData& d);
  // The key set of a config (static keys, or a remote set not yet fetched).
  Result<std::shared_ptr<KeySet>> KeySetFor(const Config& c) const;
  // The published config state, loaded from storage on first use; null when there is no config.
  Task<Result<std::shared_ptr<const ConfigState>>> State(logical::Storage* storage);

  // role.cc
  Task<Result<Response>> RoleRead(Request& req, const FieldData& d);
  Task<Result<Response>> RoleWrite(Request& req, const FieldData& d);
  Task<Result<Response>> RoleDelete(Request& req, const FieldData& d);
  Task<Result<Response>> RoleList(Request& req, const FieldData& d);
  Task<Result<bool>> RoleExists(Request& req, const FieldData& d);
  static Task<Result<std::optional<Role>>> ReadRole(logical::Storage* storage,
                                                    const std::string& name);

  // login.cc
  Task<Result<Response>> Login(Request& req, const FieldData& d);
  Task<Result<Response>> Renew(Request& req);

  const JwtHttpFactory http_;
  Clock* const clock_;

  AsyncMutex config_mu_;  // config writes and the first load, one at a time
  std::mutex mu_;
  std::shared_ptr<const ConfigState> state_ GUARDED_BY(mu_);
  bool loaded_ GUARDED_BY(mu_) = false;  // state_ reflects storage (null = no config)
};

}  // namespace vault::engines::jwt
