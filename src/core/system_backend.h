// The sys/ engine: mounts, remount, key status and rotation; policies, capabilities and audit
// come in through extra_paths (core/system_acl_paths.h). Built on the path framework, so `vault
// path-help sys/mounts` works.
#pragma once

#include <memory>

#include "barrier/barrier.h"
#include "core/expiration.h"
#include "core/mount_manager.h"
#include "logical/framework.h"

namespace vault::core {

// `expiration` revokes a mount's leases before it is unmounted or moved. extra_paths: the paths
// other parts of core contribute (policies, capabilities, audit...).
std::shared_ptr<logical::Backend> NewSystemBackend(MountManager* mounts, barrier::Barrier* barrier,
                                                   ExpirationManager* expiration,
                                                   std::vector<logical::Path> extra_paths = {});
// sys/leases/*, sys/renew, sys/revoke, sys/revoke-prefix, sys/revoke-force (system_leases.cc).
std::vector<logical::Path> LeasePaths(ExpirationManager* expiration);

// The JSON Vault returns for one mount in sys/mounts (and sys/auth).
Json MountToJson(const MountEntry& e);
// A mount TTL from a request: "1h", 3600, "system" (0: the system's), ""/null/absent (nullopt).
Result<std::optional<int64_t>> OptionalTtl(const Json& config, const char* key);
// Mount config keys this server does not implement (audit_non_hmac_*, passthrough and allowed
// headers, user_lockout_config, plugin_version): a set one is refused, not stored and ignored.
Status CheckUnsupportedConfig(const Json& config);
// listing_visibility: "", "hidden" or "unauth"; null = unchanged.
Result<std::optional<std::string>> ListingVisibility(const Json& v);
// Before a mount goes (unmount, remount, auth disable), as Vault does: taint it so that no new
// request starts on it, wait (up to a minute in all, holding no thread) for the requests under
// way to end, then revoke its leases, including those just issued. On failure the mount is
// untainted and stays.
Task<Status> RetireMount(MountManager* mounts, ExpirationManager* exp, const std::string& path);

}  // namespace vault::core
