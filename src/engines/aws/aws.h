// The AWS secrets engine (mount type "aws"): dynamic AWS credentials from IAM and STS.
//
// Paths (relative to the mount):
//   config/root         root credentials and endpoints (root-protected; secret_key never read)
//   config/rotate-root  replace the root access key (root-protected)
//   config/lease        lease and lease_max for iam_user credentials
//   roles/, roles/:name role definitions (credential_type, policies, groups, tags, STS TTLs…)
//   creds/:name, sts/:name  issue credentials (iam_user, assumed_role, federation_token,
//                       session_token)
//   static-roles/, static-roles/:name  adopt an existing IAM user whose access key Vault rotates
//   static-creds/:name  that user's current key (no lease)
//
// Crash safety: an IAM user is recorded in a write-ahead entry (logical/wal.h, kind "user")
// before CreateUser. A failed issue undoes what it created before answering; a successful one
// hands the entry to core through SecretSpec::wal_ids, which deletes it atomically with the
// lease. Entries left by a crash are undone by the engine's rollback (kRollback, min age 60 s).
// Each kRollback pass also rotates the static roles whose key has expired (kind "static_key"
// entries cover a rotation interrupted half-way).
//
// Concurrency: the backend serves concurrent requests; everything it waits for (AWS calls,
// storage, delays) is awaited, never blocked on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "aws/api.h"
#include "logical/logical.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/task.h"

namespace vault::engines {

struct AwsBackendOptions {
  // Waits `millis` (awaited), then completes with true (false if the wait was cut short by
  // shutdown). Used between propagation probes (roles with wait_for_propagation).
  // Null: a DelayTimer (util/delay_timer.h) owned by the backend.
  std::function<Task<bool>(int64_t millis)> sleep;
};

// Creates the engine for one mount. `factory` builds the IAM/STS clients from config/root (and
// the probe clients that test a new key); `clock` is used for WAL ages, TTLs and username
// templates and must outlive the backend (null = system clock). Never fails today; Result
// leaves room for mount-time validation.
Result<std::shared_ptr<logical::Backend>> NewAwsBackend(const logical::MountInfo& mount,
                                                        std::shared_ptr<aws::ClientFactory> factory,
                                                        Clock* clock);
Result<std::shared_ptr<logical::Backend>> NewAwsBackend(const logical::MountInfo& mount,
                                                        std::shared_ptr<aws::ClientFactory> factory,
                                                        Clock* clock, AwsBackendOptions options);

}  // namespace vault::engines
