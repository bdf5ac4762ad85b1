// The etcd storage backend: the server's storage (barrier ciphertext only) kept in an etcd v3
// cluster under a key prefix (Vault's `path`, "/vault/" by default). A Put or Delete is one etcd
// write, an atomic batch one transaction; reads are linearizable. Listing and scanning read in
// ranged pages pinned to one revision, so a scan sees one consistent state and never holds more
// than a page in memory; a listing jumps over each sub-folder instead of reading its keys.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "etcd/client.h"
#include "storage/backend.h"
#include "util/event_loop.h"
#include "util/lock_annotations.h"

namespace vault::etcd {

struct BackendOptions {
  std::string path = "/vault/";  // key prefix; a leading and a trailing '/' are added if missing
  bool ha_enabled = false;       // Lock() gives the HA lock (else null)
  int64_t lock_timeout_s = 15;   // the HA lock's lease TTL
  int64_t page_size = 1000;      // keys per ranged read
  // Keys per ranged read of ScanKeys (keys only: a lease restore). Large: etcd 3.4 walks its
  // index from a page's first key to the end of the range for every page, so small pages make a
  // scan of N keys cost N^2 / page.
  int64_t keys_page_size = 100000;
  size_t max_txn_ops = 128;  // etcd's --max-txn-ops
  // Group commit: concurrent writes share transactions, at most this many in flight at once
  // (a write finding fewer in flight goes out at once, alone).
  int max_txns_in_flight = 4;
  // A shared transaction carries at most this many bytes of keys and values (etcd refuses
  // requests over --max-request-bytes, 1.5 MiB by default); a larger write goes alone.
  size_t max_group_bytes = 1 << 20;
  // Values (and absences) read or written recently, kept while this server is the one that
  // writes (with ha_enabled: while it holds the lock): reads of them skip etcd, as Vault's
  // physical cache does.
  size_t cache_bytes = 64 << 20;  // 0 = no cache
};

class EtcdHaLock;

class EtcdBackend final : public storage::HaBackend {
 public:
  // `client` is not owned and must outlive the backend.
  EtcdBackend(Client* client, BackendOptions options);
  ~EtcdBackend() override;

  Task<Result<std::optional<std::string>>> Get(std::string_view key) override;
  Task<Status> Put(std::string_view key, std::string_view value) override;
  Task<Status> Delete(std::string_view key) override;
  // One transaction. A key written twice in the batch keeps its last mutation (etcd refuses a key
  // twice in a transaction). etcd takes at most --max-txn-ops (128 by default) operations per
  // transaction: a larger batch is applied as consecutive transactions of max_txn_ops, each
  // atomic, the whole not. The server's batches that large are bulk deletes (revoked leases,
  // tidy), for which that is harmless: what a crash between two leaves, tidy removes.
  Task<Status> Write(std::vector<storage::Mutation> batch) override;
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override;
  Task<Status> Scan(std::string_view prefix, ScanFn fn) override;
  // Keys only, in pages of keys_page_size, the next page read while this one is handed to `fn`
  // (on the thread that runs the scan): a restore of a million lease timers reads keys of ~100
  // bytes.
  Task<Status> ScanKeys(std::string_view prefix, KeyFn fn) override;
  std::string Name() const override { return "etcd"; }
  // The HA lock: a key under <path>core/lock/ on a lease of lock_timeout. Null without ha_enabled.
  storage::HaLock* Lock() override;

  const std::string& prefix() const { return prefix_; }

  // Fencing (set by the HA lock). kOpen: writes are plain. kHeld: every write is a transaction
  // conditioned on `compare` (the lock key still being ours); when it fails the write is refused
  // and `on_refused` runs. kClosed: writes are refused (a standby, or after the lock was lost).
  enum class Fence { kOpen, kHeld, kClosed };
  void SetFence(Fence fence, std::optional<Compare> compare = std::nullopt,
                std::function<void()> on_refused = nullptr);

 private:
  // A write-through LRU of values by key (std::nullopt = known absent). Reads insert only when no
  // write started since the read began (`epoch`), so a read racing a write never caches the
  // value the write replaced.
  struct Cache {
    std::mutex mu;
    size_t capacity = 0;
    size_t bytes GUARDED_BY(mu) = 0;
    uint64_t epoch GUARDED_BY(mu) = 0;
    bool enabled GUARDED_BY(mu) = true;
    std::list<std::string> order GUARDED_BY(mu);  // most recent first
    struct Slot {
      std::optional<std::string> value;
      std::list<std::string>::iterator pos;
    };
    std::unordered_map<std::string, Slot> slots GUARDED_BY(mu);
    // The cached value, if any; sets *epoch_out for a later Insert.
    std::optional<std::optional<std::string>> Lookup(const std::string& key, uint64_t* epoch_out);
    void Insert(const std::string& key, std::optional<std::string> value, uint64_t read_epoch);
    // Before a write: reads that began earlier may not insert what they read.
    void BeginWrite();
    // After a write: what the keys hold now (ok), or forget them (failed: unknown).
    void EndWrite(std::span<const TxnOp> ops, bool ok);
    void Clear(bool enabled);

   private:
    void Set(const std::string& key, std::optional<std::string> value) REQUIRES(mu);
    void Erase(const std::string& key) REQUIRES(mu);
  };

  struct FenceState {
    Fence fence = Fence::kOpen;
    std::optional<Compare> compare;
    std::function<void()> on_refused;
  };
  // One transaction with the fence's compare (when held). Refusals as described above. Writes
  // of up to max_txn_ops operations go through the group commit; larger ones are applied as
  // consecutive transactions of max_txn_ops.
  Task<Status> Commit(std::vector<TxnOp> ops);
  Task<Status> CommitAlone(std::vector<TxnOp> ops);
  FenceState CurrentFence() const;

  // Group commit. A write joins the last queued group if its operations fit (count, bytes, no key
  // twice), else starts a new one; a group is sent when fewer than max_txns_in_flight are in
  // flight. Every writer of a group gets the group's outcome, on the loop it waited on.
  struct Waiter {
    EventLoop* loop = nullptr;
    std::function<void(Status)> done;
  };
  struct Group {
    std::vector<TxnOp> ops;
    std::unordered_set<std::string> keys;
    size_t bytes = 0;
    std::vector<Waiter> waiters;
  };
  // Queues `ops` (done(status) when its group is applied or refused); sends what may be sent.
  void Enqueue(std::vector<TxnOp> ops, Waiter waiter);
  // Sends the next queued group if one may go; `finished` = one in flight just ended.
  void Pump(bool finished);
  Task<bool> SendGroup(std::unique_ptr<Group> group);

  Client* client_;
  mutable std::mutex fence_mu_;
  FenceState fence_ GUARDED_BY(fence_mu_);
  std::unique_ptr<EtcdHaLock> lock_;
  Cache cache_;
  bool ha_enabled_ = false;
  std::string prefix_;
  int64_t page_size_;
  int64_t keys_page_size_;
  size_t max_txn_ops_;
  int max_txns_in_flight_;
  size_t max_group_bytes_;
  std::mutex group_mu_;
  std::list<std::unique_ptr<Group>> queued_ GUARDED_BY(group_mu_);
  int in_flight_ GUARDED_BY(group_mu_) = 0;
};

// "/vault" -> "/vault/", "vault" -> "/vault/", "" -> "/".
std::string NormalizePrefix(std::string_view path);

}  // namespace vault::etcd
