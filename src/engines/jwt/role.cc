// The role paths: validation in Vault's order (path_role.go), storage, reads with Vault's keys.
#include <set>

#include "engines/jwt/backend.h"
#include "engines/jwt/claims.h"
#include "util/duration.h"
#include "util/strings.h"

namespace vault::engines::jwt {
namespace {

constexpr char kRolePrefix[] = "role/";

const logical::TokenFieldOptions& TokenOptions() {
  static const logical::TokenFieldOptions k{
      {"policies", "num_uses", "ttl", "max_ttl", "period", "bound_cidrs"}, false};
  return k;
}

// Go's %q of a time.Duration's String(), as Vault's period message prints it.
std::string QuotedDuration(int64_t seconds) { return "\"" + FormatGoDuration(seconds) + "\""; }

bool NonEmpty(const Json& j) { return (j.is_array() || j.is_object()) && !j.empty(); }

}  // namespace

std::vector<std::string> Role::BoundAudiences() const {
  std::vector<std::string> out;
  if (bound_audiences.is_array())
    for (const auto& a : bound_audiences)
      if (a.is_string()) out.push_back(a.get<std::string>());
  return out;
}

Json Role::ToStorage() const {
  return {{"role_type", role_type},
          {"user_claim", user_claim},
          {"user_claim_json_pointer", user_claim_json_pointer},
          {"bound_audiences", bound_audiences},
          {"bound_subject", bound_subject},
          {"bound_claims_type", bound_claims_type},
          {"bound_claims", bound_claims},
          {"claim_mappings", claim_mappings},
          {"groups_claim", groups_claim},
          {"clock_skew_leeway", clock_skew_leeway},
          {"expiration_leeway", expiration_leeway},
          {"not_before_leeway", not_before_leeway},
          {"allowed_redirect_uris", allowed_redirect_uris},
          {"oidc_scopes", oidc_scopes},
          {"callback_mode", callback_mode},
          {"poll_interval", poll_interval},
          {"verbose_oidc_logging", verbose_oidc_logging},
          {"max_age", max_age},
          {"token", logical::TokenParamsToJson(token)}};
}

Role Role::FromStorage(const Json& j) {
  Role r;
  if (!j.is_object()) return r;
  auto str = [&](const char* k, const char* def) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(def);
  };
  auto num = [&](const char* k) {
    return j.contains(k) && j[k].is_number() ? j[k].get<int64_t>() : int64_t{0};
  };
  auto flag = [&](const char* k) { return j.contains(k) && j[k].is_boolean() && j[k].get<bool>(); };
  auto any = [&](const char* k) { return j.contains(k) ? j[k] : Json(); };
  r.role_type = str("role_type", "");
  if (r.role_type.empty()) r.role_type = "jwt";  // roles from before role_type existed
  r.user_claim = str("user_claim", "");
  r.user_claim_json_pointer = flag("user_claim_json_pointer");
  r.bound_audiences = any("bound_audiences");
  r.bound_subject = str("bound_subject", "");
  r.bound_claims_type = str("bound_claims_type", "");
  if (r.bound_claims_type.empty()) r.bound_claims_type = "string";
  r.bound_claims = any("bound_claims");
  r.claim_mappings = any("claim_mappings");
  r.groups_claim = str("groups_claim", "");
  r.clock_skew_leeway = num("clock_skew_leeway");
  r.expiration_leeway = num("expiration_leeway");
  r.not_before_leeway = num("not_before_leeway");
  r.allowed_redirect_uris = any("allowed_redirect_uris");
  r.oidc_scopes = any("oidc_scopes");
  r.callback_mode = str("callback_mode", "client");
  r.poll_interval = num("poll_interval");
  r.verbose_oidc_logging = flag("verbose_oidc_logging");
  r.max_age = num("max_age");
  r.token = logical::TokenParamsFromJson(any("token"));
  return r;
}

Json Role::ToResponseData() const {
  Json d = {{"role_type", role_type},
            {"expiration_leeway", expiration_leeway},
            {"not_before_leeway", not_before_leeway},
            {"clock_skew_leeway", clock_skew_leeway},
            {"bound_audiences", bound_audiences},
            {"bound_subject", bound_subject},
            {"bound_claims_type", bound_claims_type},
            {"bound_claims", bound_claims},
            {"claim_mappings", claim_mappings},
            {"user_claim", user_claim},
            {"user_claim_json_pointer", user_claim_json_pointer},
            {"groups_claim", groups_claim},
            {"allowed_redirect_uris", allowed_redirect_uris},
            {"callback_mode", callback_mode},
            {"oidc_scopes", oidc_scopes},
            {"verbose_oidc_logging", verbose_oidc_logging},
            {"max_age", max_age}};
  logical::AddTokenFieldsToData(token, &d);
  if (poll_interval > 0) d["poll_interval"] = poll_interval;
  return d;
}

Task<Result<std::optional<Role>>> JwtBackend::ReadRole(logical::Storage* storage,
                                                       const std::string& name) {
  CO_ASSIGN_OR_RETURN(auto stored, co_await logical::GetJson(storage, kRolePrefix + name));
  if (!stored) co_return std::optional<Role>();
  co_return std::optional<Role>(Role::FromStorage(*stored));
}

Task<Result<bool>> JwtBackend::RoleExists(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(auto stored, co_await logical::GetJson(
                                       req.storage, kRolePrefix + ToLower(d.GetString("name"))));
  co_return stored.has_value();
}

Task<Result<Response>> JwtBackend::RoleList(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(auto keys, co_await req.storage->List(kRolePrefix));
  if (keys.empty()) co_return Response();
  co_return Response::WithData({{"keys", keys}});
}

Task<Result<Response>> JwtBackend::RoleRead(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(auto role, co_await ReadRole(req.storage, ToLower(d.GetString("name"))));
  if (!role) co_return Response();
  co_return Response::WithData(role->ToResponseData());
}

Task<Result<Response>> JwtBackend::RoleDelete(Request& req, const FieldData& d) {
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(kRolePrefix + ToLower(d.GetString("name"))));
  co_return Response();
}

Task<Result<Response>> JwtBackend::RoleWrite(Request& req, const FieldData& d) {
  const std::string name = ToLower(d.GetString("name"));
  if (name.empty()) co_return InvalidArgument("missing role name");
  CO_ASSIGN_OR_RETURN(auto existing, co_await ReadRole(req.storage, name));
  Role role = existing ? std::move(*existing) : Role();

  // Vault sets role_type on every write: a jwt role updated without it becomes an oidc role
  // (which then needs allowed_redirect_uris, and cannot log in here).
  std::string role_type = d.GetString("role_type");
  if (role_type.empty()) role_type = "oidc";
  if (role_type != "jwt" && role_type != "oidc")
    co_return InvalidArgument("invalid 'role_type': " + role_type);
  role.role_type = role_type;

  std::vector<std::string> warnings;
  CO_RETURN_IF_ERROR(logical::ApplyTokenFields(d, TokenOptions(), &role.token, &warnings));
  if (req.mount.max_lease_ttl > 0 && role.token.period > req.mount.max_lease_ttl)
    co_return InvalidArgument("'period' of '" + QuotedDuration(role.token.period) +
                              "' is greater than the backend's maximum lease TTL of '" +
                              QuotedDuration(req.mount.max_lease_ttl) + "'");

  if (d.Has("expiration_leeway")) role.expiration_leeway = d.GetInt("expiration_leeway");
  if (d.Has("not_before_leeway")) role.not_before_leeway = d.GetInt("not_before_leeway");
  if (d.Has("clock_skew_leeway")) role.clock_skew_leeway = d.GetInt("clock_skew_leeway");
  if (d.Has("bound_audiences")) role.bound_audiences = d.Get("bound_audiences");
  if (d.Has("bound_subject")) role.bound_subject = d.GetString("bound_subject");
  if (d.Has("verbose_oidc_logging")) role.verbose_oidc_logging = d.GetBool("verbose_oidc_logging");
  if (d.Has("max_age")) role.max_age = d.GetInt("max_age");

  // Like role_type, bound_claims_type takes its default on a write that omits it.
  const std::string claims_type = d.GetString("bound_claims_type");
  if (claims_type != "string" && claims_type != "glob")
    co_return InvalidArgument("invalid 'bound_claims_type': " + claims_type);
  role.bound_claims_type = claims_type;
  if (d.Has("bound_claims")) role.bound_claims = d.Get("bound_claims");
  // Checked on the role as it will be stored (Vault checks only bound_claims sent with
  // bound_claims_type=glob): a value no login could ever match is refused now.
  CO_RETURN_IF_ERROR(CheckBoundClaimsValues(role.bound_claims, claims_type == "glob"));

  if (d.Has("claim_mappings")) {
    Json mappings = d.Get("claim_mappings");
    std::set<std::string> targets;
    for (const auto& [claim, target] : mappings.items()) {
      const std::string t = target.get<std::string>();
      if (t == "role")
        co_return InvalidArgument("metadata key " + Quote(t) +
                                  " is reserved and may not be a mapping destination");
      if (!targets.insert(t).second)
        co_return InvalidArgument("multiple keys are mapped to metadata key " + Quote(t));
    }
    role.claim_mappings = std::move(mappings);
  }

  if (d.Has("user_claim")) role.user_claim = d.GetString("user_claim");
  if (role.user_claim.empty())
    co_return InvalidArgument("a user claim must be defined on the role");
  if (d.Has("user_claim_json_pointer"))
    role.user_claim_json_pointer = d.GetBool("user_claim_json_pointer");
  if (d.Has("groups_claim")) role.groups_claim = d.GetString("groups_claim");
  if (d.Has("oidc_scopes")) role.oidc_scopes = d.Get("oidc_scopes");
  if (d.Has("allowed_redirect_uris")) role.allowed_redirect_uris = d.Get("allowed_redirect_uris");
  if (d.Has("poll_interval")) role.poll_interval = d.GetInt("poll_interval");

  const std::string callback_mode = d.GetString("callback_mode");
  if (callback_mode != "device" && callback_mode != "direct" && callback_mode != "client")
    co_return InvalidArgument("invalid 'callback_mode': " + callback_mode);
  role.callback_mode = callback_mode;

  if (role.role_type == "oidc" && !NonEmpty(role.allowed_redirect_uris))
    co_return InvalidArgument(
        "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  // An OIDC provider binds the audience to the client id; a bare JWT role must be bound to
  // something, or any token the keys verify would log in.
  if (role.role_type != "oidc" && !NonEmpty(role.bound_audiences) &&
      role.token.bound_cidrs.empty() && role.bound_subject.empty() && !NonEmpty(role.bound_claims))
    co_return InvalidArgument(
        "must have at least one bound constraint when creating/updating a role");

  if (role.token.max_ttl > 0 && role.token.ttl > role.token.max_ttl)
    co_return InvalidArgument("ttl should not be greater than max ttl");

  if (req.mount.max_lease_ttl > 0 && role.token.max_ttl > req.mount.max_lease_ttl)
    warnings.push_back(
        "token max ttl is greater than the system or backend mount's maximum TTL value; issued "
        "tokens' max TTL value will be truncated");
  if (role.verbose_oidc_logging)
    warnings.push_back(
        "verbose_oidc_logging has been enabled for this role. This is not recommended in "
        "production since sensitive information may be present in OIDC responses.");
  // A glob is easy to make broader than meant ("repo:org/app*" matches "repo:org/app-evil"); with
  // nothing else bound, it is the role's only defence.
  if (role.role_type == "jwt" && role.bound_claims_type == "glob" && NonEmpty(role.bound_claims) &&
      !NonEmpty(role.bound_audiences) && role.bound_subject.empty() &&
      role.token.bound_cidrs.empty())
    warnings.push_back(
        "this role is bound only by glob patterns in bound_claims: a pattern such as "
        "\"repo:org/app*\" also matches \"repo:org/app-evil\"; consider binding bound_audiences "
        "or an exact claim as well");
  if (!role.groups_claim.empty() && d.Has("groups_claim"))
    warnings.push_back(
        "groups_claim is checked at login, but this server has no identity groups: the group "
        "names give the token no policies");

  CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, kRolePrefix + name, role.ToStorage()));
  Response resp;
  resp.warnings = std::move(warnings);
  co_return resp;
}

}  // namespace vault::engines::jwt
