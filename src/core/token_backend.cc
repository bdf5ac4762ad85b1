#include "core/token_backend.h"

#include <algorithm>
#include <cctype>

#include "core/token_roles.h"
#include "util/clock.h"
#include "util/strings.h"

namespace vault::core {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

namespace {

std::string Rfc3339(int64_t unix_seconds) { return FormatRfc3339Nano(unix_seconds * 1000000000LL); }

// Vault's policyutil.SanitizePolicies: trimmed, lower-cased, deduplicated, no empties;
// "default" added when asked; "root" is never combined with "default".
std::vector<std::string> Sanitize(const std::vector<std::string>& in, bool add_default) {
  std::vector<std::string> out;
  for (const auto& p : in) {
    for (const auto& part : Split(p, ',')) {
      std::string s = ToLower(Trim(part));
      if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
  }
  if (add_default && std::find(out.begin(), out.end(), "default") == out.end())
    out.push_back("default");
  if (std::find(out.begin(), out.end(), "root") != out.end())
    out.erase(std::remove(out.begin(), out.end(), "default"), out.end());
  std::sort(out.begin(), out.end());
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// "token-" + the display name with runs of characters outside [A-Za-z0-9-] replaced by '-'.
std::string TokenDisplayName(const std::string& requested) {
  if (requested.empty()) return "token";
  std::string full = "token-";
  bool in_run = false;
  for (char c : requested) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      full.push_back(c);
      in_run = false;
    } else if (!in_run) {
      full.push_back('-');
      in_run = true;
    }
  }
  while (!full.empty() && full.back() == '-') full.pop_back();
  return full;
}

}  // namespace

Json TokenAuthBlock(const TokenEntry& e, const std::string& token, int64_t now) {
  int64_t lease = e.expire_time == 0 ? 0 : std::max<int64_t>(0, e.expire_time - now);
  return {{"client_token", token},
          {"accessor", e.accessor},
          {"policies", e.policies},
          {"token_policies", e.policies},
          {"metadata", e.meta.empty() ? Json() : e.meta},
          {"lease_duration", lease},
          {"renewable", e.renewable && e.expire_time != 0},
          {"entity_id", ""},
          {"token_type", "service"},
          {"orphan", e.Orphan()},
          {"mfa_requirement", nullptr},
          {"num_uses", std::max<int64_t>(0, e.num_uses)}};
}

namespace {

std::vector<Field> CreateFields() {
  return {
      {"id", FieldType::kString, "Value for the token (root/sudo only)."},
      {"policies", FieldType::kCommaStringSlice, "List of policies for the token."},
      {"meta", FieldType::kMap, "Arbitrary key=value metadata to associate with the token."},
      {"metadata", FieldType::kMap, "Alias of meta."},
      {"no_parent", FieldType::kBool, "Create the token with no parent (root/sudo only)."},
      {"no_default_policy", FieldType::kBool, "Do not include the default policy."},
      {"renewable", FieldType::kBool, "Allow the token to be renewed.", Json(true)},
      {"ttl", FieldType::kDurationSecond, "Time to live for this token."},
      {"lease", FieldType::kDurationSecond, "Deprecated alias of ttl."},
      {"explicit_max_ttl", FieldType::kDurationSecond, "Explicit maximum lifetime."},
      {"display_name", FieldType::kString, "Name to associate with this token."},
      {"num_uses", FieldType::kInt, "Max number of uses for this token (0: unlimited)."},
      {"period", FieldType::kDurationSecond, "Renew period (root/sudo only)."},
      {"type", FieldType::kString, "Token type; only \"service\" is supported."},
      {"entity_alias", FieldType::kString, "Not supported; ignored."},
  };
}

}  // namespace

Json TokenLookupData(const TokenEntry& e, const std::string& id, int64_t now) {
  int64_t ttl = e.expire_time == 0 ? 0 : std::max<int64_t>(0, e.expire_time - now);
  Json d = {{"id", id},
            {"accessor", e.accessor},
            {"policies", e.policies},
            {"path", e.path},
            {"meta", e.meta.empty() ? Json() : e.meta},
            {"display_name", e.display_name},
            {"num_uses", std::max<int64_t>(0, e.num_uses)},
            {"orphan", e.Orphan()},
            {"creation_time", e.creation_time},
            {"creation_ttl", e.ttl},
            {"expire_time", e.expire_time == 0 ? Json() : Json(Rfc3339(e.expire_time))},
            {"ttl", ttl},
            {"explicit_max_ttl", e.explicit_max_ttl},
            {"renewable", e.renewable && e.expire_time != 0},
            {"entity_id", ""},
            {"type", "service"},
            {"issue_time", Rfc3339(e.creation_time)}};
  if (e.last_renewal_time) d["last_renewal_time"] = e.last_renewal_time;
  if (e.period) d["period"] = e.period;
  if (!e.role.empty()) d["role"] = e.role;
  if (!e.bound_cidrs.empty()) d["bound_cidrs"] = e.bound_cidrs;
  return d;
}

std::shared_ptr<logical::Backend> NewTokenBackend(TokenStore* tokens, PolicyStore* policies,
                                                  SudoCheck has_sudo, LoginRenewal login_renewal,
                                                  Clock* clock) {
  // The caller's entry (core has validated it already; nullptr only if revoked meanwhile).
  auto caller = [tokens](Request& r) -> Task<Result<TokenRef>> {
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await tokens->Lookup(r.client_token));
    if (!e) co_return PermissionDenied();
    co_return e;
  };

  auto create = [=](bool orphan_path) {
    return [=](Request& r, const FieldData& d) -> Task<Result<Response>> {
      CO_ASSIGN_OR_RETURN(TokenRef parent, co_await caller(r));
      bool sudo = parent->IsRoot();
      if (!sudo) sudo = co_await has_sudo(*parent, "auth/token/create");
      if (d.Has("type") && d.GetString("type") != "service" && d.GetString("type") != "default")
        co_return InvalidArgument("unsupported token type \"" + d.GetString("type") + "\"");
      bool no_parent = d.GetBool("no_parent");
      if (no_parent && !sudo && !orphan_path)
        co_return PermissionDenied("root or sudo privileges required to create orphan token");
      if (d.Has("id") && !d.GetString("id").empty() && !sudo)
        co_return PermissionDenied("root or sudo privileges required to specify token id");
      if (d.Has("period") && d.GetInt("period") > 0 && !sudo)
        co_return PermissionDenied("root or sudo privileges required to create periodic token");
      int64_t num_uses = d.GetInt("num_uses");
      if (num_uses < 0) co_return InvalidArgument("number of uses cannot be negative");

      bool no_default = d.GetBool("no_default_policy");
      std::vector<std::string> requested = d.GetStrings("policies");
      std::vector<std::string> parent_policies = Sanitize(parent->policies, false);
      std::vector<std::string> pols;
      // auth/token/create/<role>: the role decides what the token may and must carry.
      std::optional<TokenRole> role;
      if (d.Has("role_name")) {
        CO_ASSIGN_OR_RETURN(role, co_await LoadTokenRole(r.storage, d.GetString("role_name")));
        if (!role) co_return InvalidArgument("unknown role " + d.GetString("role_name"));
      }
      if (role && role->HasPolicyLists()) {
        std::vector<std::string> req = Sanitize(requested, false);
        std::vector<std::string> parent_no_default = parent_policies;
        CO_ASSIGN_OR_RETURN(pols, RoleTokenPolicies(*role, req, parent_no_default, no_default));
      } else if (requested.empty() || Sanitize(requested, false).empty()) {
        pols = parent_policies;
        if (no_default) pols.erase(std::remove(pols.begin(), pols.end(), "default"), pols.end());
      } else {
        pols = Sanitize(requested, !no_default && (sudo || Contains(parent_policies, "default")));
        if (!sudo) {
          for (const auto& p : pols) {
            if (!Contains(parent_policies, p))
              co_return InvalidArgument("child policies must be subset of parent");
          }
        }
      }
      if (Contains(pols, "root") && !parent->IsRoot())
        co_return PermissionDenied(
            "root tokens may not be created without parent token being root");
      if (pols.empty()) co_return InvalidArgument("token must have at least one policy");

      int64_t ttl = d.Has("ttl") ? d.GetInt("ttl") : d.GetInt("lease");
      int64_t explicit_max = d.GetInt("explicit_max_ttl");
      int64_t period = d.GetInt("period");
      if (role) {
        const logical::TokenParams& rt = role->token;
        if (rt.period > 0) period = rt.period;
        if (rt.explicit_max_ttl > 0 && (explicit_max == 0 || explicit_max > rt.explicit_max_ttl))
          explicit_max = rt.explicit_max_ttl;
        if (rt.num_uses > 0 && (num_uses == 0 || num_uses > rt.num_uses)) num_uses = rt.num_uses;
      }
      if (ttl < 0 || explicit_max < 0 || period < 0)
        co_return InvalidArgument("ttl must be positive");
      if (period > 0) ttl = period;
      bool root_only = pols.size() == 1 && pols[0] == "root";
      if (ttl == 0 && !(root_only && parent->expire_time == 0)) ttl = r.mount.default_lease_ttl;
      if (ttl > 0 && period == 0 && r.mount.max_lease_ttl > 0)
        ttl = std::min(ttl, r.mount.max_lease_ttl);
      if (explicit_max > 0 && (ttl == 0 || ttl > explicit_max)) ttl = explicit_max;
      if (ttl == 0 && parent->expire_time != 0)
        co_return InvalidArgument("expiring root tokens cannot create non-expiring root tokens");

      TokenCreateParams p;
      if (d.Has("id") && !d.GetString("id").empty()) p.id = d.GetString("id");
      p.parent_hash = (orphan_path || no_parent || (role && role->orphan)) ? "" : parent->id_hash;
      p.policies = pols;
      p.display_name = TokenDisplayName(d.GetString("display_name"));
      p.path = std::string("auth/token/") + (orphan_path ? "create-orphan" : "create");
      if (role) {
        p.path = "auth/token/create/" + role->name;
        if (!role->path_suffix.empty()) p.path += "/" + role->path_suffix;
        p.role = role->name;
        p.bound_cidrs = role->token.bound_cidrs;
      }
      Json meta = d.Has("meta") ? d.Get("meta") : d.Get("metadata");
      p.meta = Json::object();
      if (meta.is_object()) {
        for (auto& [k, v] : meta.items()) {
          if (!v.is_string()) co_return InvalidArgument("metadata values must be strings");
          p.meta[k] = v;
        }
      }
      p.num_uses = num_uses;
      p.ttl = ttl;
      p.explicit_max_ttl = explicit_max;
      p.period = period;
      p.renewable = d.GetBool("renewable") && (!role || role->renewable);
      TokenEntry created;
      CO_ASSIGN_OR_RETURN(std::string token, co_await tokens->Create(p, &created));
      Response resp;
      resp.auth = TokenAuthBlock(created, token, clock->NowSeconds());
      for (const auto& name : pols) {
        if (name == "root" || name == "default") continue;
        auto pol = co_await policies->Get(name);
        if (pol.ok() && !*pol) resp.warnings.push_back("Policy \"" + name + "\" does not exist");
      }
      co_return resp;
    };
  };

  Path create_path;
  create_path.pattern = "create";
  create_path.synopsis = "The token create path is used to create new tokens.";
  create_path.fields = CreateFields();
  create_path.async_operations[Operation::kUpdate] = create(false);
  Path create_role = create_path;
  create_role.pattern = "create/(?P<role_name>\\w(([\\w\\-.]+)?\\w)?)";
  create_role.synopsis = "This endpoint will create a token against the specified role name.";
  create_role.fields.push_back({"role_name", FieldType::kString, "Name of the role"});
  Path create_orphan = create_path;
  create_orphan.pattern = "create-orphan";
  create_orphan.synopsis = "The token create path is used to create new orphan tokens.";
  create_orphan.async_operations[Operation::kUpdate] = create(true);

  // ---- lookup
  auto lookup_token = [=](const std::string& t) -> Task<Result<Response>> {
    if (t.empty()) co_return InvalidArgument("missing token to lookup");
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await tokens->Lookup(t));
    if (!e) co_return PermissionDenied("bad token");
    co_return Response::WithData(TokenLookupData(*e, t, clock->NowSeconds()));
  };
  Path self;
  self.pattern = "lookup-self";
  self.synopsis = "This endpoint will lookup a token and its properties.";
  self.async_operations[Operation::kRead] = [=](Request& r,
                                                const FieldData&) -> Task<Result<Response>> {
    Result<Response> out = co_await lookup_token(r.client_token);
    co_return out;
  };
  Path lookup;
  lookup.pattern = "lookup(/(?P<urltoken>.+))?";
  lookup.synopsis = "This endpoint will lookup a token and its properties.";
  lookup.fields = {{"token", FieldType::kString, "Token to lookup."},
                   {"urltoken", FieldType::kString, "Token to lookup (URL form, 0.x)."}};
  auto lookup_op = [=](Request& r, const FieldData& d) -> Task<Result<Response>> {
    std::string t = d.Has("urltoken") ? d.GetString("urltoken") : d.GetString("token");
    if (t.empty()) t = r.client_token;
    Result<Response> out = co_await lookup_token(t);
    co_return out;
  };
  lookup.async_operations[Operation::kUpdate] = lookup_op;
  lookup.async_operations[Operation::kRead] = lookup_op;

  Path lookup_accessor;
  lookup_accessor.pattern = "lookup-accessor(/(?P<urlaccessor>.+))?";
  lookup_accessor.synopsis =
      "This endpoint will lookup a token associated with the given accessor and its properties. "
      "Response will not contain the token ID.";
  lookup_accessor.fields = {{"accessor", FieldType::kString, "Accessor of the token to look up."},
                            {"urlaccessor", FieldType::kString, "Accessor (URL form)."}};
  lookup_accessor.async_operations[Operation::kUpdate] =
      [=](Request& r, const FieldData& d) -> Task<Result<Response>> {
    std::string a = d.Has("urlaccessor") ? d.GetString("urlaccessor") : d.GetString("accessor");
    if (a.empty()) co_return InvalidArgument("missing accessor");
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await tokens->LookupAccessor(a));
    if (!e) co_return InvalidArgument("invalid accessor");
    co_return Response::WithData(TokenLookupData(*e, "", clock->NowSeconds()));
  };

  // ---- renew
  auto renew_hash = [=](Request& r, const std::string& hash, const std::string& token,
                        int64_t increment) -> Task<Result<Response>> {
    // A token from a login: its auth method decides (and names the role's max TTL).
    int64_t max_ttl = r.mount.max_lease_ttl;
    CO_ASSIGN_OR_RETURN(TokenRef current, co_await tokens->LookupByHash(hash));
    if (!current) co_return PermissionDenied("bad token");
    if (!current->login.is_null()) {
      CO_ASSIGN_OR_RETURN(int64_t login_max, co_await login_renewal(*current));
      if (login_max > 0) max_ttl = login_max;
    }
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await tokens->Renew(hash, increment, max_ttl));
    Response resp;
    resp.auth = TokenAuthBlock(*e, token, clock->NowSeconds());
    co_return resp;
  };
  std::vector<Field> renew_fields = {
      {"token", FieldType::kString, "Token to renew."},
      {"urltoken", FieldType::kString, "Token to renew (URL form, 0.x)."},
      {"increment", FieldType::kDurationSecond,
       "The desired increment in seconds to the token expiration."}};
  Path renew;
  renew.pattern = "renew(/(?P<urltoken>.+))?";
  renew.synopsis = "This endpoint will renew the given token and prevent expiration.";
  renew.fields = renew_fields;
  renew.async_operations[Operation::kUpdate] = [=](Request& r,
                                                   const FieldData& d) -> Task<Result<Response>> {
    std::string t = d.Has("urltoken") ? d.GetString("urltoken") : d.GetString("token");
    if (t.empty()) co_return InvalidArgument("missing token to renew");
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await tokens->Lookup(t));
    if (!e) co_return PermissionDenied("bad token");
    Result<Response> out = co_await renew_hash(r, e->id_hash, t, d.GetInt("increment"));
    co_return out;
  };
  Path renew_self;
  renew_self.pattern = "renew-self";
  renew_self.synopsis =
      "This endpoint will renew the token used to call it and prevent expiration.";
  renew_self.fields = renew_fields;
  renew_self.async_operations[Operation::kUpdate] =
      [=](Request& r, const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await caller(r));
    Result<Response> out =
        co_await renew_hash(r, e->id_hash, r.client_token, d.GetInt("increment"));
    co_return out;
  };
  Path renew_accessor;
  renew_accessor.pattern = "renew-accessor";
  renew_accessor.synopsis =
      "This endpoint will renew a token associated with the given accessor and its properties. "
      "Response will not contain the token ID.";
  renew_accessor.fields = {{"accessor", FieldType::kString, "Accessor of the token to renew."},
                           {"increment", FieldType::kDurationSecond, "The desired increment."}};
  renew_accessor.async_operations[Operation::kUpdate] =
      [=](Request& r, const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await tokens->LookupAccessor(d.GetString("accessor")));
    if (!e) co_return InvalidArgument("invalid accessor");
    Result<Response> out = co_await renew_hash(r, e->id_hash, "", d.GetInt("increment"));
    co_return out;
  };

  // ---- revoke
  Path revoke;
  revoke.pattern = "revoke(/(?P<urltoken>.+))?";
  revoke.synopsis = "This endpoint will delete the given token and all of its child tokens.";
  revoke.fields = {{"token", FieldType::kString, "Token to revoke."},
                   {"urltoken", FieldType::kString, "Token to revoke (URL form, 0.x)."}};
  // The revocations are asynchronous: a token's leases are revoked at AWS, and no server thread
  // waits for that.
  revoke.async_operations[Operation::kUpdate] = [=](Request&,
                                                    const FieldData& d) -> Task<Result<Response>> {
    std::string t = d.Has("urltoken") ? d.GetString("urltoken") : d.GetString("token");
    if (t.empty()) co_return InvalidArgument("missing token to revoke");
    CO_ASSIGN_OR_RETURN(std::string hash, tokens->HashOf(t));
    CO_RETURN_IF_ERROR(co_await tokens->RevokeTree(std::move(hash)));
    co_return Response();
  };
  Path revoke_self;
  revoke_self.pattern = "revoke-self";
  revoke_self.synopsis =
      "This endpoint will delete the token used to call it and all of its child tokens.";
  revoke_self.async_operations[Operation::kUpdate] =
      [=](Request& r, const FieldData&) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(std::string hash, tokens->HashOf(r.client_token));
    CO_RETURN_IF_ERROR(co_await tokens->RevokeTree(std::move(hash)));
    co_return Response();
  };
  Path revoke_accessor;
  revoke_accessor.pattern = "revoke-accessor(/(?P<urlaccessor>.+))?";
  revoke_accessor.synopsis =
      "This endpoint will delete the token associated with the accessor and all of its child "
      "tokens.";
  revoke_accessor.fields = {{"accessor", FieldType::kString, "Accessor of the token."},
                            {"urlaccessor", FieldType::kString, "Accessor (URL form)."}};
  revoke_accessor.async_operations[Operation::kUpdate] =
      [=](Request&, const FieldData& d) -> Task<Result<Response>> {
    std::string a = d.Has("urlaccessor") ? d.GetString("urlaccessor") : d.GetString("accessor");
    if (a.empty()) co_return InvalidArgument("missing accessor");
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await tokens->LookupAccessor(a));
    if (!e) co_return InvalidArgument("invalid accessor");
    CO_RETURN_IF_ERROR(co_await tokens->RevokeTree(e->id_hash));
    co_return Response();
  };
  Path revoke_orphan;
  revoke_orphan.pattern = "revoke-orphan(/(?P<urltoken>.+))?";
  revoke_orphan.synopsis = "This endpoint will delete the token and orphan its child tokens.";
  revoke_orphan.fields = revoke.fields;
  revoke_orphan.async_operations[Operation::kUpdate] =
      [=](Request&, const FieldData& d) -> Task<Result<Response>> {
    std::string t = d.Has("urltoken") ? d.GetString("urltoken") : d.GetString("token");
    if (t.empty()) co_return InvalidArgument("missing token to revoke");
    CO_ASSIGN_OR_RETURN(std::string hash, tokens->HashOf(t));
    CO_RETURN_IF_ERROR(co_await tokens->RevokeOrphan(std::move(hash)));
    co_return Response();
  };

  Path accessors;
  accessors.pattern = "accessors/?";
  accessors.synopsis =
      "List token accessors, which can then be used to iterate and discover their properties or "
      "revoke them.";
  accessors.async_operations[Operation::kList] = [=](Request&,
                                                     const FieldData&) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto keys, co_await tokens->ListAccessors());
    if (keys.empty()) co_return Response();
    co_return Response::WithData({{"keys", keys}});
  };

  Path tidy;
  tidy.pattern = "tidy";
  tidy.synopsis =
      "This endpoint performs cleanup tasks that can be run if certain error conditions have "
      "occurred.";
  tidy.async_operations[Operation::kUpdate] = [=](Request&,
                                                  const FieldData&) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(co_await tokens->Tidy());
    co_return Response();
  };

  return std::make_shared<logical::FrameworkBackend>(
      "The token credential backend is always enabled and builtin to Vault.\nClient tokens are "
      "used to identify a client and to allow Vault to associate\npolicies and ACLs which are "
      "enforced on every request.",
      std::vector<Path>{create_path, create_role, create_orphan, self, lookup_accessor, lookup,
                        renew_self, renew_accessor, renew, revoke_self, revoke_accessor,
                        revoke_orphan, revoke, accessors, tidy, TokenRolePaths()[0],
                        TokenRolePaths()[1]},
      std::vector<std::string>{"revoke-orphan*", "accessors*"});
}

}  // namespace vault::core
