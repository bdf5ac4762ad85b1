// Mount lifecycle: enable/disable/tune/remount engines, persisted at core/mounts through the
// barrier, live in the Router. Used by the system backend (sys/mounts) and by Core at unseal.
#pragma once

#include <mutex>

#include "core/mounts.h"
#include "util/async_mutex.h"
#include "util/lock_annotations.h"
#include "util/task.h"

namespace vault::core {

struct SystemTtls {
  int64_t default_lease_ttl = 768 * 3600;
  int64_t max_lease_ttl = 768 * 3600;
};

// What a tune changes; nullopt (or null options) = unchanged.
struct MountTune {
  std::optional<int64_t> default_ttl;  // seconds; 0 = the system's
  std::optional<int64_t> max_ttl;
  std::optional<std::string> description;
  std::optional<std::string> listing_visibility;
  // String values. Given keys replace the mount's, an empty value removes one; `version` of a kv
  // mount may go from 1 to 2 (the engine then upgrades its data in place), never back.
  Json options;
};

// Decodes the `options` of a mount request as Vault does (weakly): numbers become their decimal
// text, booleans "1"/"0", a list of "k=v" strings a map; null values are dropped.
Result<Json> DecodeMountOptions(const Json& in);

class MountManager {
 public:
  MountManager(logical::Storage* barrier, const EngineRegistry* registry, Router* router,
               SystemTtls ttls)
      : barrier_(barrier), registry_(registry), router_(router), ttls_(ttls) {}

  // Loads the table and starts every engine; creates the default table (sys/, secret/,
  // auth/token/) when none is stored. Call after unseal.
  Task<Status> Load();
  // Stops every engine (router cleared). Call on seal.
  void Unload();

  // Enables `entry.type` at `entry.path` (normalized). Errors: 400 bad type / path in use,
  // 403 protected path ("cannot mount \"sys/\""). With `credential`, an auth method (sys/auth)
  // at auth/<entry.path>: its type is looked up in the registry as "auth/<type>".
  Task<Status> Mount(MountEntry entry, bool credential = false);
  // Disables the mount at path. Unknown path: success (as current Vault).
  Task<Status> Unmount(std::string path);
  Task<Status> Remount(std::string from, std::string to);
  // Changes a mount's settings (see MountTune). Answers the warnings to pass on (a KV upgrade).
  // A change of options restarts the engine with them (the same storage and traffic).
  Task<Result<std::vector<std::string>>> Tune(std::string path, MountTune tune);
  std::vector<MountEntry> List() const;
  std::optional<MountEntry> Get(std::string_view path) const;
  // The routed mount at `path` (its engine and traffic); null if none.
  std::shared_ptr<const core::Mount> Live(std::string_view path) const;
  // Effective TTLs of a mount (mount value, else system value).
  logical::MountInfo Info(const MountEntry& e) const;
  const SystemTtls& ttls() const { return ttls_; }
  // Registers an engine instance that is not created through the registry (sys/, auth/token/).
  void RegisterBuiltin(const std::string& type, EngineFactory factory);

 private:
  // Stores `table` as the mount table; the caller holds change_mu_.
  Task<Status> Persist(std::vector<MountEntry> table);
  Result<std::shared_ptr<core::Mount>> Start(const MountEntry& e);

  logical::Storage* barrier_;
  const EngineRegistry* registry_;
  EngineRegistry builtins_;
  Router* router_;
  SystemTtls ttls_;
  AsyncMutex change_mu_;  // orders table changes across their storage writes
  mutable std::mutex mu_;
  std::vector<MountEntry> table_ GUARDED_BY(mu_);
};

}  // namespace vault::core
