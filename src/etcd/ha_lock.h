// The HA lock on etcd (etcd's mutex recipe, with fencing): each candidate holds a key
// `<path>core/lock/<lease id in hex>` on a lease of lock_timeout that it keeps alive; the key with
// the smallest create revision holds the lock. The holder's value is its server id; where that
// server can be reached is in the barrier-encrypted `core/leader/<id>` entry it writes.
//
// Fencing: once held, every write of the backend is a transaction conditioned on the holder's key
// still existing with the create revision it had when it won, so a server that was paused or cut
// off past its lease, while another took over, cannot write, even for requests it was in the
// middle of. A refused write marks the lock lost.
//
// The calls block (SyncWait on the etcd client): they are made by the server's HA thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "etcd/backend.h"
#include "etcd/client.h"
#include "storage/backend.h"
#include "util/lock_annotations.h"

namespace vault::etcd {

class EtcdHaLock final : public storage::HaLock {
 public:
  // `prefix` without a trailing '/' ("/vault/core/lock"); `ttl_s` = lock_timeout.
  EtcdHaLock(Client* client, EtcdBackend* backend, std::string prefix, int64_t ttl_s);
  ~EtcdHaLock() override;

  Result<bool> Acquire(const std::string& value, const std::atomic<bool>& cancelled) override;
  bool KeepAlive() override;
  int64_t KeepAliveIntervalMs() const override { return ttl_s_ * 1000 / 3; }
  bool Lost() const override { return lost_.load(); }
  Status Release() override;
  Task<Result<std::optional<std::string>>> Holder() override;

  // The lease this candidate's key lives on (0 = none); tests.
  int64_t lease_id() const;

 private:
  // A new lease and this candidate's key on it; false if the key could not be written.
  Status Campaign(const std::string& value);
  // The key with the smallest create revision under the prefix (the holder), if any.
  Task<Result<std::optional<KeyValue>>> Owner();
  void MarkLost();

  Client* client_;
  EtcdBackend* backend_;
  const std::string prefix_;
  const int64_t ttl_s_;
  std::atomic<bool> lost_{false};
  mutable std::mutex mu_;
  int64_t lease_ GUARDED_BY(mu_) = 0;
  std::string key_ GUARDED_BY(mu_);
  int64_t key_revision_ GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point last_renewed_ GUARDED_BY(mu_);
};

}  // namespace vault::etcd
