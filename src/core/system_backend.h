// The sys/ engine: mounts, remount, key status and rotation (policies, leases and audit join it
// with their issues). Built on the path framework, so `vault path-help sys/mounts` works.
#pragma once

#include <memory>

#include "barrier/barrier.h"
#include "core/expiration.h"
#include "core/mount_manager.h"
#include "core/token_store.h"
#include "logical/framework.h"

namespace vault::core {

// `expiration` revokes a mount's leases before it is unmounted or moved.
std::shared_ptr<logical::Backend> NewSystemBackend(MountManager* mounts, barrier::Barrier* barrier,
                                                   ExpirationManager* expiration);
// sys/leases/*, sys/renew, sys/revoke, sys/revoke-prefix, sys/revoke-force (system_leases.cc).
std::vector<logical::Path> LeasePaths(ExpirationManager* expiration);
// The auth/token/ engine (this slice: lookup-self, lookup; the rest with the tokens issue).
std::shared_ptr<logical::Backend> NewTokenBackend(TokenStore* tokens);

// The JSON Vault returns for one mount in sys/mounts.
Json MountToJson(const MountEntry& e);

}  // namespace vault::core
