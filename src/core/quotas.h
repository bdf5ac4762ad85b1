// Rate-limit quotas (Vault's open-source sys/quotas): a named quota allows `rate` requests per
// `interval` from each client address, globally (path ""), on a mount ("kv/") or under a path
// ("kv/app"); the most specific quota that matches a request applies. A client over it gets 429
// with Retry-After, for `block_interval` when one is set. sys/health, seal-status, unseal,
// step-down and the generate-root endpoints are never limited.
//
// Storage (through the barrier): sys/quotas/config, sys/quotas/rate-limit/<name>.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "logical/framework.h"
#include "logical/logical.h"
#include "util/clock.h"
#include "util/lock_annotations.h"

namespace vault::core {

struct RateLimitQuota {
  std::string name;
  std::string path;  // "" (global), "<mount>/" or a path prefix
  double rate = 0;   // requests per interval
  int64_t interval_ms = 1000;
  int64_t block_interval_ms = 0;
};

class QuotaManager {
 public:
  QuotaManager(logical::Storage* barrier, Clock* clock) : barrier_(barrier), clock_(clock) {}

  // Loads the stored quotas (after unseal) / forgets them (on seal).
  Task<Status> Load();
  void Unload();

  // The seconds a client at `address` must wait before a request to `path` (the full request
  // path, "kv/app/x") is served; nullopt when it may go now (and the request is counted).
  // Cheap when no quota exists.
  std::optional<int64_t> Check(const std::string& path, const std::string& address);

  // sys/quotas/config and sys/quotas/rate-limit[/<name>].
  std::vector<logical::Path> Paths();

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ms = 0;
    int64_t blocked_until_ms = 0;
  };
  struct Live {
    RateLimitQuota quota;
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets GUARDED_BY(mu);  // by client address
  };
  bool Exempt(const std::string& path) const;
  Task<Status> Persist(const RateLimitQuota& q);
  void Install(const RateLimitQuota& q);

  logical::Storage* barrier_;
  Clock* clock_;
  std::atomic<bool> any_{false};
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Live>> quotas_ GUARDED_BY(mu_);  // by name
  std::vector<std::string> exempt_ GUARDED_BY(mu_);
};

}  // namespace vault::core
