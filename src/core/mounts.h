// The mount table: which engine serves which path prefix. Persisted (through the barrier) at
// core/mounts; each mount's engine sees only storage under logical/<uuid>/.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "logical/logical.h"

namespace vault::metrics {
class Summary;
}  // namespace vault::metrics

namespace vault::core {

struct MountEntry {
  std::string path;  // always ends in '/'
  std::string type;
  std::string description;
  std::string uuid;
  std::string accessor;
  int64_t default_lease_ttl = 0;  // 0 = system default
  int64_t max_lease_ttl = 0;      // 0 = system max
  Json options;                   // null or object
  bool local = false;
  bool seal_wrap = false;
  std::string listing_visibility;  // auth methods: "", "hidden" or "unauth" (stored, reported)

  // An auth method (mounted under auth/).
  bool Credential() const { return path.compare(0, 5, "auth/") == 0; }

  Json ToJson() const;
  static MountEntry FromJson(const Json& j);
  // The engine's storage prefix.
  std::string StoragePrefix() const { return "logical/" + uuid + "/"; }
};

// Engines are created by type name through a registry built in cmd/ (core never names engines).
using EngineFactory =
    std::function<Result<std::shared_ptr<logical::Backend>>(const logical::MountInfo&)>;
using EngineRegistry = std::map<std::string, EngineFactory>;

// Normalizes a user-supplied mount path: trims slashes, appends '/'. Empty -> "".
std::string NormalizeMountPath(std::string_view path);

// The requests under way on a mount, and whether it is being removed. Unmount and remount taint
// it (new requests are answered as if it were gone; lease revocations still go through it), then
// wait until `requests` is 0 before they revoke its leases. A request counts itself before it
// reads `tainted`, so either it sees the taint or the unmount sees it counted.
struct MountTraffic {
  std::atomic<int64_t> requests{0};
  std::atomic<bool> tainted{false};
  // vault.route.<operation>.<mount> per logical::Operation, found in the registry on first use.
  std::array<std::atomic<metrics::Summary*>, 16> route_timing{};
};

// A routed mount: the entry plus its live engine. Copies (a tune) share the traffic.
struct Mount {
  MountEntry entry;
  std::shared_ptr<logical::Backend> backend;
  std::shared_ptr<logical::PrefixStorage> storage;
  std::shared_ptr<MountTraffic> traffic = std::make_shared<MountTraffic>();
};

// The in-memory router. Thread safety: readers and writers are serialized by a shared mutex;
// Route returns shared ownership so a concurrent unmount cannot free an engine in use.
class Router {
 public:
  // Longest-prefix match of a full request path ("secret/foo"; "secret" matches "secret/").
  std::shared_ptr<const Mount> Route(std::string_view path) const;
  std::shared_ptr<const Mount> Get(std::string_view mount_path) const;
  // The existing mount that conflicts with path (equal, parent or child), if any.
  std::optional<std::string> Conflict(std::string_view mount_path) const;
  void Add(std::shared_ptr<const Mount> m);
  void Remove(std::string_view mount_path);
  void Clear();
  std::vector<std::shared_ptr<const Mount>> All() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<const Mount>, std::less<>> mounts_;
};

}  // namespace vault::core
