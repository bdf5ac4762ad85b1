// The AppRole auth method (mount type "approle", default path auth/approle/): machines log in
// with a role_id (which role) and a secret_id (a credential issued for that role), and get a
// token with the role's token_* settings.
//
// Paths (relative to the mount):
//   role (LIST), role/:role_name          roles: bind_secret_id, secret_id_bound_cidrs,
//                                         secret_id_num_uses, secret_id_ttl, role_id,
//                                         local_secret_ids and the token_* fields
//   role/:n/role-id                       read or set the role_id
//   role/:n/secret-id (POST, LIST)        issue a secret ID; list their accessors
//   role/:n/custom-secret-id              register a caller-chosen secret ID
//   role/:n/secret-id/lookup|destroy      by secret ID
//   role/:n/secret-id-accessor/lookup|destroy   by accessor (another role's accessor: 403)
//   role/:n/local-secret-ids and the single-field paths (policies, secret-id-num-uses,
//                                         secret-id-ttl, token-ttl, token-max-ttl,
//                                         token-num-uses, bind-secret-id, secret-id-bound-cidrs,
//                                         token-bound-cidrs, bound-cidr-list, period)
//   login (unauthenticated)               {role_id, secret_id} -> Response::login
//   tidy/secret-id                        remove expired secret IDs now
//
// Secret IDs are stored only as HMAC-SHA256 under a per-role key; the plaintext never reaches
// storage. Expired secret IDs are refused at login and removed by every kRollback pass.
//
// Concurrency: requests run concurrently; changes to one role, and the use count of one secret
// ID, are serialized with AsyncMutexes (never blocking a thread).
#pragma once

#include <memory>

#include "logical/logical.h"
#include "util/clock.h"

namespace vault::engines {

// Creates the method for one mount. `clock` (null = system clock) dates secret IDs and decides
// their expiry; it must outlive the backend.
std::shared_ptr<logical::Backend> NewAppRoleBackend(const logical::MountInfo& mount, Clock* clock);

}  // namespace vault::engines
