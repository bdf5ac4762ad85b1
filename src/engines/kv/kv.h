// The generic / KV version 1 secrets engine: stores arbitrary JSON objects at any path.
// A `ttl` (or legacy `lease`) key in the data is stored verbatim and reported as
// lease_duration on read, as Vault's generic backend does; no lease is created.
#pragma once

#include <memory>

#include "logical/logical.h"

namespace vault::engines {

std::shared_ptr<logical::Backend> NewKvBackend(const logical::MountInfo& mount);

}  // namespace vault::engines
