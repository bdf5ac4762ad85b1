// sys/internal/ui/mounts and sys/internal/ui/mounts/<path>: the mounts a token can reach, which
// today's CLI asks before every `vault kv` command (which mount a path is under, which KV
// version it has) and the web UI lists.
#include "core/acl.h"
#include "core/system_acl_paths.h"
#include "core/system_backend.h"

namespace vault::core {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

namespace {

// Whether the token may know of the mount at `path` (Vault's hasMountAccess): some capability
// on the mount path itself, or a rule under it that grants something.
bool HasMountAccess(const Acl& acl, const std::string& path) {
  uint32_t caps = acl.Capabilities(path);
  if (caps != 0 && !(caps & kCapDeny)) return true;
  return acl.GrantsUnder(path);
}

Json FullMountInfo(const MountEntry& e) {
  Json j = MountToJson(e);
  if (e.Credential()) j["config"]["token_type"] = "default-service";
  return j;
}

// The calling token's ACL; PermissionDenied for a missing or unknown token.
Task<Result<std::shared_ptr<const Acl>>> CallerAcl(TokenStore* tokens, PolicyStore* policies,
                                                   const std::string& token) {
  if (token.empty()) co_return PermissionDenied();
  CO_ASSIGN_OR_RETURN(TokenRef t, co_await tokens->Lookup(token));
  if (!t) co_return PermissionDenied();
  Result<std::shared_ptr<const Acl>> acl = co_await policies->AclFor(t->policies);
  co_return acl;
}

}  // namespace

std::vector<Path> UiMountPaths(MountManager* mounts, const Router* router, TokenStore* tokens,
                               PolicyStore* policies) {
  Path list;
  list.pattern = "internal/ui/mounts";
  list.synopsis = "Information about mounts returned according to their tuned visibility.";
  list.async_operations[Operation::kRead] = [=](Request& r,
                                                const FieldData&) -> Task<Result<Response>> {
    std::shared_ptr<const Acl> acl;
    if (!r.client_token.empty()) {
      CO_ASSIGN_OR_RETURN(acl, co_await CallerAcl(tokens, policies, r.client_token));
    }
    Json secret = Json::object(), auth = Json::object();
    for (const auto& e : mounts->List()) {
      Json* section = e.Credential() ? &auth : &secret;
      std::string key = e.Credential() ? e.path.substr(5) : e.path;
      if (acl && HasMountAccess(*acl, e.path)) {
        (*section)[key] = FullMountInfo(e);
      } else if (e.listing_visibility == "unauth") {
        (*section)[key] = {
            {"type", e.type}, {"description", e.description}, {"options", e.options}};
      }
    }
    co_return Response::WithData({{"secret", secret}, {"auth", auth}});
  };

  Path one;
  one.pattern = "internal/ui/mounts/(?P<path>.+)";
  one.synopsis = "Information about the mount a path is under, for a token that can reach it.";
  one.fields = {{"path", FieldType::kString, "The path of the mount, or of anything under it."}};
  one.async_operations[Operation::kRead] = [=](Request& r,
                                               const FieldData& d) -> Task<Result<Response>> {
    std::string path = d.GetString("path");
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (path.empty() || path.back() != '/') path += '/';
    CO_ASSIGN_OR_RETURN(auto acl, co_await CallerAcl(tokens, policies, r.client_token));
    // 403 (not 404) for a path under no mount as well, so that mounts cannot be enumerated.
    std::shared_ptr<const Mount> m = router->Route(path);
    if (!m || !HasMountAccess(*acl, m->entry.path)) {
      co_return PermissionDenied(
          "preflight capability check returned 403, please ensure client's policies grant access "
          "to path \"" +
          path + "\"");
    }
    Json data = FullMountInfo(m->entry);
    data["path"] = m->entry.path;
    co_return Response::WithData(std::move(data));
  };
  return {list, one};
}

}  // namespace vault::core
