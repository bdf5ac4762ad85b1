#include "core/token_roles.h"

#include <algorithm>

#include "core/acl.h"
#include "logical/token_fields.h"
#include "util/strings.h"

namespace vault::core {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Quoted(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + std::string("\"") + v[i] + "\"";
  return out + "]";
}

Json RoleToJson(const TokenRole& r) {
  return {{"allowed_policies", r.allowed_policies},
          {"disallowed_policies", r.disallowed_policies},
          {"allowed_policies_glob", r.allowed_policies_glob},
          {"disallowed_policies_glob", r.disallowed_policies_glob},
          {"orphan", r.orphan},
          {"renewable", r.renewable},
          {"path_suffix", r.path_suffix},
          {"token", logical::TokenParamsToJson(r.token)}};
}

TokenRole RoleFromJson(const std::string& name, const Json& j) {
  TokenRole r;
  r.name = name;
  r.allowed_policies = j.value("allowed_policies", std::vector<std::string>{});
  r.disallowed_policies = j.value("disallowed_policies", std::vector<std::string>{});
  r.allowed_policies_glob = j.value("allowed_policies_glob", std::vector<std::string>{});
  r.disallowed_policies_glob = j.value("disallowed_policies_glob", std::vector<std::string>{});
  r.orphan = j.value("orphan", false);
  r.renewable = j.value("renewable", true);
  r.path_suffix = j.value("path_suffix", "");
  r.token = logical::TokenParamsFromJson(j.value("token", Json::object()));
  return r;
}

// Vault's role path_suffix: \w[\w-.]+\w, no "..".
bool ValidSuffix(const std::string& s) {
  if (s.empty()) return true;
  if (s.find("..") != std::string::npos || s.size() < 3) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(s.front()) || !word(s.back())) return false;
  for (char c : s) {
    if (!word(c) && c != '-' && c != '.') return false;
  }
  return true;
}

const logical::TokenFieldOptions& RoleTokenOptions() {
  static const logical::TokenFieldOptions o{{"period", "explicit_max_ttl", "bound_cidrs"}, false};
  return o;
}

}  // namespace

Task<Result<std::optional<TokenRole>>> LoadTokenRole(logical::Storage* storage, std::string name) {
  name = ToLower(name);
  CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(storage, "roles/" + name));
  if (!j) co_return std::optional<TokenRole>();
  co_return std::optional<TokenRole>(RoleFromJson(name, *j));
}

Result<std::vector<std::string>> RoleTokenPolicies(const TokenRole& role,
                                                   const std::vector<std::string>& requested,
                                                   const std::vector<std::string>& parent_policies,
                                                   bool no_default) {
  std::vector<std::string> pols;
  const bool has_allowed = !role.allowed_policies.empty() || !role.allowed_policies_glob.empty();
  if (has_allowed) {
    if (requested.empty()) {
      pols = role.allowed_policies;
    } else {
      for (const auto& p : requested) {
        if (p == "default") continue;
        if (!Has(role.allowed_policies, p) && !MatchesAnyGlob(role.allowed_policies_glob, p))
          return InvalidArgument("token policies (" + Quoted(requested) +
                                 ") must be subset of the role's allowed policies (" +
                                 Quoted(role.allowed_policies) + ") or glob policies (" +
                                 Quoted(role.allowed_policies_glob) + ")");
      }
      pols = requested;
    }
  } else {
    pols = requested.empty() ? parent_policies : requested;
  }
  const bool default_disallowed = Has(role.disallowed_policies, "default") ||
                                  MatchesAnyGlob(role.disallowed_policies_glob, "default");
  if (!no_default && !role.token.no_default_policy && !default_disallowed && !Has(pols, "default"))
    pols.push_back("default");
  if (no_default || role.token.no_default_policy)
    pols.erase(std::remove(pols.begin(), pols.end(), "default"), pols.end());
  for (const auto& p : pols) {
    if (p == "default" && default_disallowed && requested.empty()) continue;
    if (Has(role.disallowed_policies, p) || MatchesAnyGlob(role.disallowed_policies_glob, p))
      return InvalidArgument("token policy \"" + p + "\" is disallowed by this role");
  }
  if (default_disallowed) pols.erase(std::remove(pols.begin(), pols.end(), "default"), pols.end());
  std::sort(pols.begin(), pols.end());
  pols.erase(std::unique(pols.begin(), pols.end()), pols.end());
  return pols;
}

std::vector<logical::Path> TokenRolePaths() {
  Path list;
  list.pattern = "roles/?";
  list.synopsis = "This endpoint lists configured roles.";
  list.async_operations[Operation::kList] = [](Request& r,
                                               const FieldData&) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto keys, co_await r.storage->List("roles/"));
    if (keys.empty()) co_return Response();
    co_return Response::WithData({{"keys", keys}});
  };

  Path role;
  role.pattern = "roles/(?P<role_name>\\w(([\\w\\-.]+)?\\w)?)";
  role.synopsis = "This endpoint allows creating, reading, and deleting roles.";
  role.fields = {
      {"role_name", FieldType::kString, "Name of the role"},
      {"allowed_policies", FieldType::kCommaStringSlice, "Policies tokens may be given."},
      {"disallowed_policies", FieldType::kCommaStringSlice, "Policies tokens may never have."},
      {"allowed_policies_glob", FieldType::kCommaStringSlice, "Glob forms of allowed_policies."},
      {"disallowed_policies_glob", FieldType::kCommaStringSlice,
       "Glob forms of disallowed_policies."},
      {"orphan", FieldType::kBool, "Tokens created against this role will be orphan tokens."},
      {"renewable", FieldType::kBool, "Tokens created against this role are renewable.",
       Json(true)},
      {"path_suffix", FieldType::kString, "A suffix for the path tokens are created at."},
      {"allowed_entity_aliases", FieldType::kCommaStringSlice, "Not supported (no identity)."},
  };
  for (auto& f : logical::TokenFields(RoleTokenOptions())) {
    if (f.name == "token_ttl" || f.name == "token_max_ttl" || f.name == "token_policies") continue;
    role.fields.push_back(std::move(f));
  }
  role.existence_check = [](Request& r, const FieldData& d) -> Task<Result<bool>> {
    CO_ASSIGN_OR_RETURN(auto found, co_await LoadTokenRole(r.storage, d.GetString("role_name")));
    co_return found.has_value();
  };
  role.async_operations[Operation::kRead] = [](Request& r,
                                               const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto found, co_await LoadTokenRole(r.storage, d.GetString("role_name")));
    if (!found) co_return Response();
    const TokenRole& t = *found;
    Json data = {{"name", t.name},
                 {"allowed_policies", t.allowed_policies},
                 {"disallowed_policies", t.disallowed_policies},
                 {"allowed_policies_glob", t.allowed_policies_glob},
                 {"disallowed_policies_glob", t.disallowed_policies_glob},
                 {"orphan", t.orphan},
                 {"path_suffix", t.path_suffix},
                 {"renewable", t.renewable},
                 {"token_type", t.token.type == "default" ? "default-service" : t.token.type},
                 {"allowed_entity_aliases", nullptr},
                 {"token_no_default_policy", t.token.no_default_policy},
                 {"period", t.token.period},
                 {"token_period", t.token.period},
                 {"explicit_max_ttl", t.token.explicit_max_ttl},
                 {"token_explicit_max_ttl", t.token.explicit_max_ttl}};
    if (!t.token.bound_cidrs.empty()) {
      data["token_bound_cidrs"] = t.token.bound_cidrs;
      data["bound_cidrs"] = t.token.bound_cidrs;
    }
    if (t.token.num_uses) data["token_num_uses"] = t.token.num_uses;
    co_return Response::WithData(std::move(data));
  };
  auto write = [](Request& r, const FieldData& d) -> Task<Result<Response>> {
    std::string name = ToLower(d.GetString("role_name"));
    CO_ASSIGN_OR_RETURN(auto found, co_await LoadTokenRole(r.storage, name));
    TokenRole t = found ? *found : TokenRole();
    t.name = name;
    if (d.Has("allowed_policies"))
      t.allowed_policies = logical::SanitizePolicies(d.GetStrings("allowed_policies"));
    if (d.Has("disallowed_policies"))
      t.disallowed_policies = logical::SanitizePolicies(d.GetStrings("disallowed_policies"));
    if (d.Has("allowed_policies_glob"))
      t.allowed_policies_glob = logical::SanitizePolicies(d.GetStrings("allowed_policies_glob"));
    if (d.Has("disallowed_policies_glob"))
      t.disallowed_policies_glob =
          logical::SanitizePolicies(d.GetStrings("disallowed_policies_glob"));
    if (d.Has("orphan")) t.orphan = d.GetBool("orphan");
    // hvac's legacy create_token_role sends "renewable": null, which Vault reads as false.
    if (d.raw().contains("renewable"))
      t.renewable = d.raw()["renewable"].is_null() ? false : d.GetBool("renewable");
    if (d.Has("path_suffix")) {
      std::string suffix = d.GetString("path_suffix");
      if (!ValidSuffix(suffix))
        co_return InvalidArgument("path_suffix \"" + suffix + "\" is invalid");
      t.path_suffix = suffix;
    }
    if (d.Has("allowed_entity_aliases") && !d.GetStrings("allowed_entity_aliases").empty())
      co_return InvalidArgument(
          "allowed_entity_aliases is not supported: this server has no identity store");
    Response resp;
    CO_RETURN_IF_ERROR(logical::ApplyTokenFields(d, RoleTokenOptions(), &t.token, &resp.warnings));
    if (t.token.period > 0 && d.Has("period") && d.Has("token_period"))
      resp.warnings.push_back(
          "Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated "
          "value");
    CO_RETURN_IF_ERROR(co_await logical::PutJson(r.storage, "roles/" + name, RoleToJson(t)));
    co_return resp;
  };
  role.async_operations[Operation::kCreate] = write;
  role.async_operations[Operation::kUpdate] = write;
  role.async_operations[Operation::kDelete] = [](Request& r,
                                                 const FieldData& d) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(co_await r.storage->Delete("roles/" + ToLower(d.GetString("role_name"))));
    co_return Response();
  };
  return {list, role};
}

}  // namespace vault::core
