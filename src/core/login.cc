// Logins: the token core makes from an auth method's Response::login, and the method's say in
// that token's renewal.
#include <algorithm>

#include "core/core.h"
#include "core/token_backend.h"
#include "logical/token_fields.h"
#include "util/log.h"

namespace vault::core {
namespace {

Json LoginToJson(const logical::LoginAuth& a) {
  return {{"token", logical::TokenParamsToJson(a.token)},
          {"display_name", a.display_name},
          {"alias_name", a.alias_name},
          {"metadata", a.metadata},
          {"internal_data", a.internal_data},
          {"renewable", a.renewable}};
}

logical::LoginAuth LoginFromJson(const Json& j) {
  logical::LoginAuth a;
  if (!j.is_object()) return a;
  a.token = logical::TokenParamsFromJson(j.value("token", Json::object()));
  a.display_name = j.value("display_name", "");
  a.alias_name = j.value("alias_name", "");
  a.metadata = j.value("metadata", Json::object());
  a.internal_data = j.value("internal_data", Json::object());
  a.renewable = j.value("renewable", true);
  return a;
}

// "auth/userpass/" -> "userpass"; "auth/ci/github/" -> "ci-github".
std::string MountDisplayPrefix(const std::string& mount_path) {
  std::string p = mount_path.substr(5);
  while (!p.empty() && p.back() == '/') p.pop_back();
  std::replace(p.begin(), p.end(), '/', '-');
  return p;
}

}  // namespace

Task<Result<logical::Response>> Core::IssueLoginToken(const logical::Request& req,
                                                      const Mount& mount, logical::Response resp) {
  if (!mount.entry.Credential())
    co_return Internal("a secrets engine answered with a login; only auth methods may");
  logical::LoginAuth login = std::move(*resp.login);
  resp.login.reset();
  const logical::TokenParams& tp = login.token;
  std::vector<std::string> policies = tp.policies;
  if (!tp.no_default_policy &&
      std::find(policies.begin(), policies.end(), "default") == policies.end())
    policies.push_back("default");
  std::sort(policies.begin(), policies.end());
  policies.erase(std::unique(policies.begin(), policies.end()), policies.end());
  if (std::find(policies.begin(), policies.end(), "root") != policies.end())
    co_return InvalidArgument("auth methods cannot create root tokens");
  if (tp.type != "default" && tp.type != "service")
    co_return InvalidArgument("token_type \"" + tp.type + "\" is not supported by this server");
  if (tp.num_uses < 0) co_return InvalidArgument("'token_num_uses' cannot be negative");

  // Vault's CalculateTTL: the role's max (else the mount's), the period or the role's TTL (else
  // the mount's default) under it, and the explicit max over all.
  const logical::MountInfo info = mounts_.Info(mount.entry);
  int64_t max_ttl = info.max_lease_ttl;
  if (tp.max_ttl > 0 && tp.max_ttl < max_ttl) max_ttl = tp.max_ttl;
  int64_t ttl = 0;
  if (tp.period > 0) {
    ttl = tp.period;
  } else {
    ttl = tp.ttl > 0 ? tp.ttl : info.default_lease_ttl;
    if (max_ttl > 0 && ttl > max_ttl) {
      resp.warnings.push_back("TTL of \"" + std::to_string(ttl) +
                              "s\" exceeded the effective max_ttl of \"" + std::to_string(max_ttl) +
                              "s\"; TTL value is capped accordingly");
      ttl = max_ttl;
    }
  }
  if (tp.explicit_max_ttl > 0 && (ttl == 0 || ttl > tp.explicit_max_ttl)) ttl = tp.explicit_max_ttl;

  TokenCreateParams p;
  p.parent_hash = "";  // logins make orphans
  p.policies = policies;
  std::string prefix = MountDisplayPrefix(mount.entry.path);
  p.display_name = login.display_name.empty() ? prefix : prefix + "-" + login.display_name;
  p.path = req.path;  // the full request path, e.g. auth/approle/login
  p.meta = Json::object();
  if (login.metadata.is_object()) {
    for (auto& [k, v] : login.metadata.items()) {
      if (v.is_string()) p.meta[k] = v;
    }
  }
  p.num_uses = tp.num_uses;
  p.ttl = ttl;
  p.explicit_max_ttl = tp.explicit_max_ttl;
  p.period = tp.period;
  p.renewable = login.renewable;
  p.bound_cidrs = tp.bound_cidrs;
  p.login = LoginToJson(login);
  p.mount_accessor = mount.entry.accessor;
  p.auth_method = mount.entry.type;
  p.mount_point = mount.entry.path;
  TokenEntry created;
  CO_ASSIGN_OR_RETURN(std::string token, co_await tokens_.Create(p, &created));
  resp.auth = TokenAuthBlock(created, token, clock_->NowSeconds());
  co_return resp;
}

Task<Result<int64_t>> Core::LoginRenewalMaxTtl(const TokenEntry& e) {
  if (e.login.is_null()) co_return int64_t{0};
  std::shared_ptr<const Mount> mount = router_.Route(e.path);
  if (!mount || mount->entry.accessor != e.mount_accessor)
    co_return InvalidArgument("the auth method that issued this token is no longer enabled");
  logical::Request req;
  req.operation = logical::Operation::kRenew;
  req.path = e.path;
  ScopeToMount(req, *mount);
  req.auth = LoginFromJson(e.login);
  auto resp = co_await mount->backend->HandleRequestAsync(req);
  if (!resp.ok()) co_return resp.status();
  int64_t max_ttl = req.mount.max_lease_ttl;
  if (resp->login && resp->login->token.max_ttl > 0 && resp->login->token.max_ttl < max_ttl)
    max_ttl = resp->login->token.max_ttl;
  co_return max_ttl;
}

}  // namespace vault::core
