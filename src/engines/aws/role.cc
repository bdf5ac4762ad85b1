#include "engines/aws/role.h"

#include <algorithm>

#include "engines/aws/policy.h"
#include "util/strings.h"

namespace vault::engines::awsengine {

namespace {

Json ListOrNull(const std::vector<std::string>& v) { return v.empty() ? Json(nullptr) : Json(v); }
Json MapOrNull(const std::map<std::string, std::string>& m) {
  return m.empty() ? Json(nullptr) : Json(m);
}

std::vector<std::string> Strings(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key) && j[key].is_array())
    for (const auto& e : j[key])
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::map<std::string, std::string> StringMap(const Json& j, const char* key) {
  std::map<std::string, std::string> out;
  if (j.contains(key) && j[key].is_object())
    for (auto& [k, v] : j[key].items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

}  // namespace

bool Role::Has(const std::string& type) const {
  return std::find(credential_types.begin(), credential_types.end(), type) !=
         credential_types.end();
}

Json Role::ToStorage() const {
  Json j = {{"credential_types", credential_types},
            {"policy_arns", policy_arns},
            {"role_arns", role_arns},
            {"policy_document", policy_document},
            {"iam_groups", iam_groups},
            {"iam_tags", iam_tags},
            {"session_tags", session_tags},
            {"external_id", external_id},
            {"default_sts_ttl", default_sts_ttl},
            {"max_sts_ttl", max_sts_ttl},
            {"user_path", user_path},
            {"permissions_boundary_arn", permissions_boundary_arn},
            {"mfa_serial_number", mfa_serial_number},
            {"wait_for_propagation", wait_for_propagation},
            {"propagation_timeout", propagation_timeout},
            {"prohibit_flexible_cred_path", prohibit_flexible_cred_path},
            {"version", 3}};
  if (!legacy_param.empty()) j["legacy_param"] = legacy_param;
  if (!invalid_data.empty()) j["invalid_data"] = invalid_data;
  return j;
}

Result<Role> Role::FromStorage(const Json& j) {
  if (!j.is_object()) return Internal("corrupt role entry");
  Role r;
  r.credential_types = Strings(j, "credential_types");
  r.policy_arns = Strings(j, "policy_arns");
  r.role_arns = Strings(j, "role_arns");
  r.policy_document = j.value("policy_document", "");
  r.iam_groups = Strings(j, "iam_groups");
  r.iam_tags = StringMap(j, "iam_tags");
  r.session_tags = StringMap(j, "session_tags");
  r.external_id = j.value("external_id", "");
  r.default_sts_ttl = j.value("default_sts_ttl", int64_t{0});
  r.max_sts_ttl = j.value("max_sts_ttl", int64_t{0});
  r.user_path = j.value("user_path", "");
  r.permissions_boundary_arn = j.value("permissions_boundary_arn", "");
  r.mfa_serial_number = j.value("mfa_serial_number", "");
  r.wait_for_propagation = j.value("wait_for_propagation", false);
  r.propagation_timeout = j.value("propagation_timeout", kDefaultPropagationTimeout);
  r.prohibit_flexible_cred_path = j.value("prohibit_flexible_cred_path", false);
  r.legacy_param = j.value("legacy_param", "");
  r.invalid_data = j.value("invalid_data", "");
  return r;
}

Json Role::ToResponseData() const {
  Json d = {{"credential_type", Join(credential_types, ",")},
            {"policy_arns", ListOrNull(policy_arns)},
            {"role_arns", ListOrNull(role_arns)},
            {"policy_document", policy_document},
            {"iam_groups", ListOrNull(iam_groups)},
            {"iam_tags", MapOrNull(iam_tags)},
            {"session_tags", MapOrNull(session_tags)},
            {"external_id", external_id},
            {"default_sts_ttl", default_sts_ttl},
            {"max_sts_ttl", max_sts_ttl},
            {"user_path", user_path.empty() && Has(kIamUser) ? "/" : user_path},
            {"permissions_boundary_arn", permissions_boundary_arn},
            {"mfa_serial_number", mfa_serial_number},
            {"wait_for_propagation", wait_for_propagation},
            {"propagation_timeout", propagation_timeout}};
  // The 2015 API read a role back as {"policy": "..."}; legacy roles keep that key.
  if (legacy_param == "policy") d["policy"] = policy_document;
  if (legacy_param == "arn")
    d["arn"] = role_arns.empty() ? (policy_arns.empty() ? "" : policy_arns[0]) : role_arns[0];
  if (!invalid_data.empty()) d["invalid_data"] = invalid_data;
  return d;
}

bool ValidUserPath(const std::string& path) {
  if (path.empty() || path.front() != '/' || path.back() != '/' || path.size() > 512) return false;
  for (unsigned char c : path)
    if (c < 0x21 || c > 0x7F) return false;
  return true;
}

std::vector<std::string> Role::Validate() const {
  std::vector<std::string> errs;
  if (credential_types.empty()) errs.push_back("did not supply credential_type");
  for (const auto& t : credential_types) {
    if (t != kIamUser && t != kAssumedRole && t != kFederationToken && t != kSessionToken)
      errs.push_back("unrecognized credential type: " + t);
  }
  bool sts_type = Has(kAssumedRole) || Has(kFederationToken) || Has(kSessionToken);
  if (default_sts_ttl != 0 && !sts_type)
    errs.push_back(
        "default_sts_ttl parameter only valid for assumed_role, federation_token and "
        "session_token credential types");
  if (max_sts_ttl != 0 && !sts_type)
    errs.push_back(
        "max_sts_ttl parameter only valid for assumed_role, federation_token and session_token "
        "credential types");
  if (max_sts_ttl > 0 && default_sts_ttl > 0 && default_sts_ttl > max_sts_ttl)
    errs.push_back("\"default_sts_ttl\" value must be less than or equal to \"max_sts_ttl\" value");
  if (!user_path.empty()) {
    if (!Has(kIamUser))
      errs.push_back("user_path parameter only valid for iam_user credential type");
    if (!ValidUserPath(user_path))
      errs.push_back(
          "The specified value for user_path is invalid. It must match "
          "\"^\\\\/([\\\\x21-\\\\x7F]{0,510}\\\\/)?$\" regexp");
  }
  if (!permissions_boundary_arn.empty()) {
    if (!Has(kIamUser))
      errs.push_back("cannot supply permissions_boundary_arn when credential_type isn't iam_user");
    auto arn = ParseArn(permissions_boundary_arn);
    if (!arn.ok()) {
      errs.push_back("invalid permissions_boundary_arn parameter: " + arn.status().message());
    } else if (arn->service != "iam" || arn->resource.rfind("policy/", 0) != 0) {
      errs.push_back("invalid permissions_boundary_arn parameter: ARN \"" +
                     permissions_boundary_arn + "\" is not an IAM policy ARN");
    }
  }
  if (!role_arns.empty() && !Has(kAssumedRole))
    errs.push_back("cannot supply role_arns when credential_type isn't assumed_role");
  if (!session_tags.empty() && !Has(kAssumedRole))
    errs.push_back("cannot supply session_tags when credential_type isn't assumed_role");
  if (!external_id.empty() && !Has(kAssumedRole))
    errs.push_back("cannot supply external_id when credential_type isn't assumed_role");
  if ((!policy_arns.empty() || !policy_document.empty() || !iam_groups.empty()) &&
      Has(kSessionToken))
    errs.push_back("cannot supply a policy or role when using credential_type session_token");
  if (!mfa_serial_number.empty() && !Has(kSessionToken))
    errs.push_back("mfa_serial_number parameter only valid for session_token credential type");
  if (!iam_tags.empty() && !Has(kIamUser))
    errs.push_back("iam_tags parameter only valid for iam_user credential type");
  if (wait_for_propagation && !Has(kIamUser))
    errs.push_back("wait_for_propagation parameter only valid for iam_user credential type");
  if (propagation_timeout < 1 || propagation_timeout > kMaxPropagationTimeout)
    errs.push_back("propagation_timeout must be between 1s and " +
                   std::to_string(kMaxPropagationTimeout) + "s");
  return errs;
}

Role UpgradeLegacyEntry(const std::string& raw) {
  Role r;
  r.prohibit_flexible_cred_path = true;
  if (raw.rfind("arn:", 0) == 0) {
    auto arn = ParseArn(raw);
    if (arn.ok() && arn->resource.rfind("role/", 0) == 0) {
      r.credential_types = {kAssumedRole};
      r.role_arns = {raw};
      r.legacy_param = "arn";
      return r;
    }
    if (arn.ok() && arn->resource.rfind("policy/", 0) == 0) {
      r.credential_types = {kIamUser};
      r.policy_arns = {raw};
      r.legacy_param = "arn";
      return r;
    }
    r.prohibit_flexible_cred_path = false;
    r.invalid_data = raw;
    return r;
  }
  auto compacted = CompactJson(raw);
  if (!compacted.ok()) {
    r.prohibit_flexible_cred_path = false;
    r.invalid_data = raw;
    return r;
  }
  r.credential_types = {kIamUser, kFederationToken};
  r.policy_document = *compacted;
  r.legacy_param = "policy";
  return r;
}

}  // namespace vault::engines::awsengine
