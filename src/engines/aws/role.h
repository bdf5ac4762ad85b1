// A Vault role of the AWS engine: which kind of AWS credentials `creds/<name>` and `sts/<name>`
// hand out and with which policies. Stored as JSON at "role/<name>"; entries the 2015 engine
// stored at "policy/<name>" (a raw policy document or an ARN) are upgraded on read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/status.h"

namespace vault::engines::awsengine {

inline constexpr const char* kIamUser = "iam_user";
inline constexpr const char* kAssumedRole = "assumed_role";
inline constexpr const char* kFederationToken = "federation_token";
inline constexpr const char* kSessionToken = "session_token";

inline constexpr int64_t kDefaultPropagationTimeout = 30;  // seconds
inline constexpr int64_t kMaxPropagationTimeout = 600;

struct Role {
  std::vector<std::string> credential_types;
  std::vector<std::string> policy_arns;
  std::vector<std::string> role_arns;
  std::string policy_document;  // compacted JSON, "" if none
  std::vector<std::string> iam_groups;
  std::map<std::string, std::string> iam_tags;      // applied in key order
  std::map<std::string, std::string> session_tags;  // applied in key order
  std::string external_id;
  int64_t default_sts_ttl = 0;  // seconds
  int64_t max_sts_ttl = 0;      // seconds
  std::string user_path;        // "" = "/"
  std::string permissions_boundary_arn;
  std::string mfa_serial_number;
  bool wait_for_propagation = false;
  int64_t propagation_timeout = kDefaultPropagationTimeout;  // seconds
  // Legacy roles (written with `policy` or `arn`, or upgraded from "policy/<name>") may only be
  // used through the path that matches their 2015 meaning (creds/ = iam_user, sts/ = STS).
  bool prohibit_flexible_cred_path = false;
  std::string legacy_param;  // "policy" or "arn" when written with that legacy parameter
  std::string invalid_data;  // unparseable legacy data, shown on read

  bool Has(const std::string& type) const;
  Json ToStorage() const;
  static Result<Role> FromStorage(const Json& j);
  // The read response of roles/<name>.
  Json ToResponseData() const;
  // Every "only valid with" rule; returns all violations (empty = valid).
  std::vector<std::string> Validate() const;
};

// Upgrades a 2015 "policy/<name>" value: an ARN (role/… → assumed_role, policy/… → iam_user)
// or a policy document (→ iam_user + federation_token). Unparseable data → invalid_data.
Role UpgradeLegacyEntry(const std::string& raw);

// user_path must match ^\/([\x21-\x7F]{0,510}\/)?$
bool ValidUserPath(const std::string& path);

}  // namespace vault::engines::awsengine
