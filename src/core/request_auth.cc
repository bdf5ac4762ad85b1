// Core's token and ACL checks (kept apart from core.cc's pipeline so each can change alone).
#include <algorithm>

#include "core/acl.h"
#include "core/core.h"
#include "util/cidr.h"
#include "util/log.h"

namespace vault::core {
namespace {

using logical::Operation;

// sys/ paths whose changes (not reads) need sudo, on top of the system backend's RootPaths().
const std::vector<std::string> kSysWriteRootPaths = {"mounts/*", "policy/*", "policies/acl/*"};

bool Mutating(Operation op) {
  return op == Operation::kCreate || op == Operation::kUpdate || op == Operation::kPatch ||
         op == Operation::kDelete;
}

}  // namespace

Task<Core::RequestAuth> Core::CheckRequest(logical::Request& req, const Mount* mount) {
  RequestAuth out;
  // An auth method's login paths (and sys/wrapping/lookup, unwrap) need no token (one sent along
  // is not checked here, as in Vault).
  if (mount && req.operation != Operation::kHelp) {
    const std::string& mp = mount->entry.path;
    std::string_view rel = req.path.size() >= mp.size()
                               ? std::string_view(req.path).substr(mp.size())
                               : std::string_view();
    if (MatchesAnyGlob(mount->backend->UnauthenticatedPaths(), rel)) co_return out;
  }
  // Tokens and ACLs are cached: a request normally finds both without a storage read.
  // (No co_await inside ?: — GCC 12 miscompiles it.)
  std::optional<Result<TokenRef>> cached = tokens_.LookupCached(req.client_token);
  Result<TokenRef> token = TokenRef();
  if (cached) {
    token = std::move(*cached);
  } else {
    token = co_await tokens_.Lookup(req.client_token);
  }
  if (!token.ok()) {
    out.status = token.status();
    co_return out;
  }
  if (!*token) {
    out.status = PermissionDenied();
    co_return out;
  }
  out.token = std::move(token).value();
  // A token bound to CIDR blocks (token_bound_cidrs of the role that issued it) works only from
  // there.
  if (!out.token->bound_cidrs.empty() &&
      !AddressAllowed(out.token->bound_cidrs, req.remote_address)) {
    out.token = nullptr;
    out.status = PermissionDenied();
    co_return out;
  }
  std::shared_ptr<const Acl> cached_acl = policies_.CachedAcl(out.token->policies);
  Result<std::shared_ptr<const Acl>> acl = cached_acl;
  if (!cached_acl) acl = co_await policies_.AclFor(out.token->policies);
  if (!acl.ok()) {
    out.status = acl.status();
    co_return out;
  }

  bool sudo_required = false;
  if (mount) {
    const std::string& mp = mount->entry.path;
    std::string_view rel = req.path.size() >= mp.size()
                               ? std::string_view(req.path).substr(mp.size())
                               : std::string_view();
    std::vector<std::string> root_paths = mount->backend->RootPaths();
    sudo_required = MatchesAnyGlob(root_paths, rel) ||
                    (mount->entry.type == "system" && Mutating(req.operation) &&
                     MatchesAnyGlob(kSysWriteRootPaths, rel));
    // PUT/POST on an object that does not exist yet is a create (distinct capability).
    if (req.operation == Operation::kUpdate && !(*acl)->root()) {
      std::string full = req.path;
      req.path = std::string(rel);
      req.mount = mounts_.Info(mount->entry);
      req.storage = mount->storage.get();
      auto exists = co_await mount->backend->ExistenceCheck(req);
      req.path = std::move(full);
      if (!exists.ok()) {
        out.status = exists.status();
        co_return out;
      }
      if (exists->has_value() && !**exists) req.operation = Operation::kCreate;
    }
  }
  if (!(*acl)->Allowed(req.operation, req.path, sudo_required)) {
    out.status = PermissionDenied();
    co_return out;
  }
  if (out.token->num_uses != 0) {
    auto last = co_await tokens_.Use(out.token->id_hash);
    if (!last.ok()) {
      out.status = last.status();
      co_return out;
    }
    out.revoke_after = *last;
  }
  req.display_name = out.token->display_name;
  co_return out;
}

void Core::FinishRequest(const RequestAuth& auth) {
  if (!auth.revoke_after || !auth.token) return;
  // The token is unusable already (Use() marked it); its revocation, with its leases (AWS calls
  // that can take seconds), happens on core's background thread, woken now, not on this request's
  // thread, which may be an HTTP I/O thread serving other connections.
  tokens_.RevokeSoon(auth.token->id_hash);
  KickBackground();
}

Task<bool> Core::HasSudo(const TokenEntry& token, std::string path) {
  auto acl = co_await policies_.AclFor(token.policies);
  if (!acl.ok()) co_return false;
  if ((*acl)->root()) co_return true;
  uint32_t caps = (*acl)->Capabilities(path);
  co_return (caps & kCapSudo) && !(caps & kCapDeny);
}

}  // namespace vault::core
