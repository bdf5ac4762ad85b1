// The kv secrets engine. Version 1 (the generic backend) stores arbitrary JSON objects at any
// path; a `ttl` (or legacy `lease`) key in the data is stored verbatim and reported as
// lease_duration on read, as Vault's generic backend does; no lease is created. Version 2 keeps
// versions and metadata (kv2.cc).
#pragma once

#include <memory>

#include "logical/logical.h"
#include "util/clock.h"

namespace vault::engines {

// The version the mount's options ask for: `version` "2" is version 2, anything else version 1
// (core refuses other values before a mount is made).
std::shared_ptr<logical::Backend> NewKvBackend(const logical::MountInfo& mount,
                                               Clock* clock = SystemClock::Get());
std::shared_ptr<logical::Backend> NewKvV2Backend(const logical::MountInfo& mount, Clock* clock);

}  // namespace vault::engines
