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

// The JSON Vault returns for one mount in sys/mounts.
Json MountToJson(const MountEntry& e);

}  // namespace vault::core
