// sys/auth, sys/auth/<path> (enable, read, disable) and sys/auth/<path>/tune: auth methods as
// mounts under auth/. Disabling one revokes every token it issued (and their leases).
#pragma once

#include <vector>

#include "core/expiration.h"
#include "core/mount_manager.h"
#include "core/token_store.h"
#include "logical/framework.h"

namespace vault::core {

std::vector<logical::Path> AuthMountPaths(MountManager* mounts, ExpirationManager* expiration,
                                          TokenStore* tokens);

}  // namespace vault::core
