// The sys/ paths of the ACL and audit features, added to the system backend's path list:
//   sys/policy, sys/policy/<name>, sys/policies/acl[/<name>]      (PolicyStore)
//   sys/capabilities, sys/capabilities-self, sys/capabilities-accessor
//   sys/audit, sys/audit/<path>, sys/audit-hash/<path>             (AuditBroker)
//   sys/internal/ui/mounts[/<path>]                                 (MountManager, ACLs)
#pragma once

#include <vector>

#include "core/audit.h"
#include "core/mount_manager.h"
#include "core/policy.h"
#include "core/token_store.h"
#include "logical/framework.h"

namespace vault::core {

std::vector<logical::Path> PolicyPaths(PolicyStore* policies);
std::vector<logical::Path> CapabilitiesPaths(TokenStore* tokens, PolicyStore* policies);
std::vector<logical::Path> AuditPaths(AuditBroker* audit);
// sys/internal/ui/mounts[/<path>] (ui_mounts.cc): served without core's token check (the list
// answers the "unauth"-visible mounts to anyone); each handler reads the caller's token itself.
std::vector<logical::Path> UiMountPaths(MountManager* mounts, const Router* router,
                                        TokenStore* tokens, PolicyStore* policies);

// A token's capabilities on a full path as sys/capabilities reports them: ["root"] for root,
// ["deny"] when nothing is granted.
// `token` must outlive the task.
Task<Result<std::vector<std::string>>> TokenCapabilities(PolicyStore* policies,
                                                         const TokenEntry& token, std::string path);

}  // namespace vault::core
