// The expiration manager: every secret an engine returns with a lease is registered here,
// persisted under the barrier before the response leaves, armed on one timer heap, and revoked
// through its engine when it expires, is revoked by a user, or its token goes away.
//
// Storage (all under the barrier):
//   sys/expire/id/<lease_id>                      the lease (LeaseEntry::Encode, a compact binary
//                                                 record; never the secret itself)
//   sys/expire/deadline/<ms, 15 digits>/<lease_id> timer index: restore reads keys only
//   sys/expire/token/<token accessor>/<lease_id>  token -> leases index
// A lease write, its index entries and the deletion of the engine's write-ahead entries that the
// secret completes are one atomic batch.
//
// Timers: one min-heap of 32-byte entries for all leases: the deadline, the lease's path as an
// index into a table of distinct paths, and its random suffix as 128 bits (ids that are not
// "<path>/<uuid>" live in a side table). Renewals push a new entry and stale ones are skipped when
// they fire (the stored lease is the truth).
// Expired leases are revoked in a pipeline of two threads: the dispatcher pops due timers, loads
// the leases and starts engine revocations with bounded concurrency; the committer deletes
// completed leases in batches (one synced write per batch) while the dispatcher goes on. Failed
// revocations are retried with capped exponential backoff and jitter; throttling does not use up
// attempts; after max_attempts the lease is irrevocable (kept, shown by lookup, removable with
// revoke-force).
//
// Thread safety: every public method may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "barrier/barrier.h"
#include "logical/logical.h"
#include "util/clock.h"
#include "util/delay_timer.h"
#include "util/lock_annotations.h"
#include "util/task.h"

namespace vault::core {

struct ExpirationConfig {
  int max_inflight = 128;             // concurrent engine revocations
  int64_t retry_base_ms = 10000;      // first retry delay (Vault: 10 s)
  int64_t retry_cap_ms = 10 * 60000;  // backoff ceiling
  int max_attempts = 6;               // then the lease is irrevocable (Vault: 6)
  int64_t throttle_retry_ms = 5000;   // delay after a throttled attempt (not counted)
};

struct LeaseEntry {
  std::string lease_id;
  std::string path;  // the request path that created it, e.g. "aws/creds/deploy"
  std::string token_accessor;
  Json internal_data = Json::object();
  int64_t issue_time_ms = 0;
  int64_t expire_time_ms = 0;
  int64_t last_renewal_ms = 0;  // 0 = never renewed
  int64_t ttl = 0;              // seconds, as last granted
  bool renewable = false;
  int revoke_attempts = 0;
  int64_t next_attempt_ms = 0;  // after a failed revocation: when to retry
  std::string revoke_error;     // last failure
  bool irrevocable = false;

  // The stored form: a version byte, fixed-width integers, length-prefixed strings and
  // internal_data as CBOR. Decode also reads the JSON form earlier versions stored.
  std::string Encode() const;
  static Result<LeaseEntry> Decode(std::string_view stored);
  static Result<LeaseEntry> FromJson(const Json& j);
};

// Pure TTL rule (Vault's CalculateTTL): ttl = increment, else the engine's ttl, else the mount
// default; capped at issue_time + min(mount max, engine max) with Vault's warning text.
// kInvalidArgument "past the max TTL, cannot renew" when the ceiling has passed.
struct TtlDecision {
  int64_t ttl = 0;
  std::vector<std::string> warnings;
};
Result<TtlDecision> CalculateTtl(const logical::MountInfo& mount, int64_t increment,
                                 int64_t engine_ttl, int64_t engine_max_ttl, int64_t issue_time_s,
                                 int64_t now_s);

class ExpirationManager {
 public:
  // Routes a kRenew/kRevoke request (req.path = the lease's full request path) to the engine
  // that owns it and fills req.mount / req.storage. kNotFound if no mount serves the path.
  using Dispatch = std::function<Task<Result<logical::Response>>(logical::Request& req)>;
  // The effective TTLs of the mount serving a path.
  using MountTtls = std::function<std::optional<logical::MountInfo>(std::string_view path)>;

  ExpirationManager(barrier::Barrier* barrier, Clock* clock, Dispatch dispatch, MountTtls ttls,
                    ExpirationConfig config = {});
  ~ExpirationManager();

  // After unseal: arms the timers of stored leases in the background (requests are served
  // meanwhile) and starts the dispatcher. Stop() on seal: stops timers, touches no storage.
  void Start();
  void Stop();
  // Re-checks the timers now (tests call it after moving a fake clock).
  void Wake() { cv_.notify_all(); }
  // Waits until the work due at the clock's current time is done: the stored timers are restored,
  // every due timer was taken, the revocations it started have ended and their outcomes are
  // stored (or their retries armed). So after moving a fake clock, a test knows what was due has
  // happened and what was not due has not, without sleeping. False if `timeout` (real time)
  // passed first; true at once when stopped.
  bool Settle(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True once the stored leases have all been armed.
  bool Restored() const { return restored_.load(); }

  // Persists a lease for `spec`, returned by the engine serving `request_path` on `mount`, owned
  // by the token with `token_accessor`. `wal_keys` (full storage keys) are deleted in the same
  // batch. On failure the caller must revoke the secret through the engine.
  // With `hold`, the lease is held as a renewal holds it until ReleaseHeld or RevokeHeld: its
  // timer looks again a second later, and a revocation by a user (its lease id, a prefix, its
  // token) is deferred until the hold ends. When the token was revoked while the request ran (the
  // token's revocation found no lease of it yet), the lease is revoked as soon as it is released.
  // `spec` must outlive the task.
  Task<Result<logical::RegisteredLease>> Register(
      std::string request_path, logical::MountInfo mount, const logical::SecretSpec& spec,
      std::string token_accessor, std::vector<std::string> wal_keys, bool hold = false);
  // Moves a held lease's issue and expiry times forward to now, keeping its TTL: for a secret
  // handed out well after its lease was registered.
  Task<Status> Rebase(std::string lease_id);
  // Ends the hold of a lease registered with `hold` whose secret was handed out. A revocation
  // deferred meanwhile starts now (through the dispatcher, whatever the lease's TTL).
  void ReleaseHeld(const std::string& lease_id) { Release(lease_id); }
  // Revokes a lease registered with `hold` whose secret was never handed out, through its engine,
  // and ends the hold. When the engine fails, the lease stays, records the error and is retried
  // with backoff like a lease whose revocation at expiry failed; the engine's error is returned.
  Task<Status> RevokeHeld(std::string lease_id);

  // Renews through the engine. kInvalidArgument for unknown, expired, irrevocable or
  // non-renewable leases (Vault's messages).
  Task<Result<logical::Response>> Renew(std::string lease_id, int64_t increment);
  // Revokes one lease now through its engine, then forgets it. kInvalidArgument("invalid
  // request") for an unknown lease; the engine's error if revocation fails (the lease stays and
  // is retried on its timer). A lease being renewed, or held by the request issuing it, is
  // revoked as soon as that ends (Ok now); one being revoked already is left to that revocation.
  // The same holds for RevokePrefix and RevokeByToken. A deferred revocation lives in memory: if
  // the server stops before the hold ends, the lease keeps its TTL.
  Task<Status> Revoke(std::string lease_id);
  // Every lease whose id starts with prefix (an exact lease id, or prefix + "/"). With force,
  // engine errors are logged and the leases are forgotten anyway.
  Task<Status> RevokePrefix(std::string prefix, bool force);
  // Before a mount goes (unmount, remount): every lease under `prefix`, including those held by
  // a request or a renewal, which are revoked when it ends. Waits until `deadline` for those (off
  // the I/O thread), revoking again what was registered meanwhile; an error when leases remain
  // then, and the mount must stay.
  Task<Status> RevokeMountLeases(std::string prefix,
                                 std::chrono::steady_clock::time_point deadline);
  // Every lease created by the token with this accessor.
  Task<Status> RevokeByToken(std::string token_accessor);

  // sys/leases/lookup: Vault's shape plus our revoke_attempts/revoke_error/irrevocable.
  Task<Result<Json>> Lookup(std::string lease_id);
  // Immediate children under prefix ("" = top), directories ending in '/'.
  Task<Result<std::vector<std::string>>> List(std::string prefix);
  // Removes index entries whose lease is gone; returns counts.
  Task<Result<Json>> Tidy();
  // Sleeps for waits between attempts (RevokeMountLeases, an unmount's drain).
  DelayTimer* delay() { return &delay_; }

  struct Stats {
    int64_t leases = 0;    // stored leases (restored at start, plus registered, less revoked)
    int64_t pending = 0;   // timer entries (a lease revoked early keeps its timer until due)
    int64_t inflight = 0;  // engine revocations running
    int64_t revoked = 0;   // since start
    int64_t failed_attempts = 0;
    int64_t irrevocable = 0;
  };
  Stats GetStats() const;
  // Stored leases per lease path (the lease id less its uuid, e.g. "aws/creds/deploy"), for
  // metrics by mount; "" collects ids of another shape.
  struct PathLeaseCount {
    std::string path;
    int64_t leases = 0;
    int64_t irrevocable = 0;
  };
  std::vector<PathLeaseCount> LeaseCountsByPath();
  // sys/leases?type=irrevocable: the irrevocable leases (at most `limit`, 0 = all), sorted by
  // expire time then id, and how many there are.
  Task<Result<std::pair<std::vector<LeaseEntry>, int64_t>>> ListIrrevocable(int64_t limit);

 private:
  struct Timer {
    int64_t deadline_ms;
    uint32_t path;  // index into paths_, or kOddId (lo is then the key into odd_ids_)
    uint32_t reserved;
    uint64_t hi, lo;  // the lease id's uuid suffix
    bool operator>(const Timer& o) const { return deadline_ms > o.deadline_ms; }
  };
  static constexpr uint32_t kOddId = 0xFFFFFFFFu;
  struct Outcome {
    LeaseEntry entry;
    Status status;
    bool force = false;  // a deferred revoke-force: delete the lease even if `status` is an error
  };

  void RestoreLoop(uint64_t generation);
  void DispatchLoop();
  void CommitLoop();
  void Arm(int64_t deadline_ms, const std::string& lease_id);
  // Timer <-> lease id. MakeTimer interns the path (paths_mu_); TakeId (mu_ held) also forgets
  // an odd id's side-table entry.
  Timer MakeTimer(int64_t deadline_ms, std::string_view lease_id);
  std::string TakeId(const Timer& t);
  void PushLocked(Timer t);
  // Loads a lease; nullopt when absent.
  Task<Result<std::optional<LeaseEntry>>> Load(std::string lease_id);
  // Runs the engine's revoke for a lease (no storage change); `entry` must outlive the task.
  Task<Status> EngineRevoke(const LeaseEntry& entry);
  // EngineRevoke, then forgets the lease (with force, even when the engine failed).
  Task<Status> RevokeEntry(LeaseEntry entry, bool force);
  std::vector<storage::Mutation> DeleteMutations(const LeaseEntry& e) const;
  std::vector<storage::Mutation> PutMutations(const LeaseEntry& e,
                                              const std::optional<LeaseEntry>& old) const;
  // Records a failed revocation (a retry with backoff, or irrevocable), re-arms and releases the
  // lease. False when the record could not be stored (logged; the timer still retries).
  Task<bool> HandleFailure(LeaseEntry entry, Status st);
  // A claim on a lease: held while one operation revokes, renews or issues it.
  bool TryClaim(const std::string& lease_id, bool revoking);
  // Claims a lease to revoke it. When a renewal or an issue holds it, records that it is to be
  // revoked when released and returns false; when a revocation holds it, returns false (with
  // `force`, noting that the lease goes once that revocation ends, even if the engine fails).
  // What it records it also stores (PersistRevokeRequest).
  Task<bool> ClaimToRevoke(std::string lease_id, bool force = false);
  // Stores a deferred revocation, so that a restore applies it if the server stops before the
  // hold ends (best effort: the in-memory request stands either way). False if it failed.
  Task<bool> PersistRevokeRequest(std::string lease_id, bool force);
  // At restore: has the dispatcher revoke every lease with a stored deferred revocation, and
  // drops the records of leases that are gone.
  void RestoreRevokeRequests();
  // Ends a claim. With `apply_request`, a revocation requested meanwhile is handed to the
  // dispatcher (the lease's timer fires now and revokes it whatever its deadline).
  void Release(const std::string& lease_id, bool apply_request = true);
  // Has the dispatcher revoke `lease_id` now, whatever its deadline; deferred while it is claimed.
  // With `force` the lease is deleted even if the engine fails (and even if irrevocable).
  void RequestRevoke(const std::string& lease_id, bool force = false);
  // Whether the token with this accessor was revoked (within the last kRevokedTokenMemoryMs).
  bool TokenRevoked(const std::string& token_accessor);
  Task<Status> RevokeIds(std::vector<std::string> ids, bool force);
  // The number of leases stored under `prefix` (ids), counting at most `limit`.
  Task<Result<int64_t>> CountUnder(std::string prefix, int64_t limit);
  int64_t NowMs() const { return clock_->NowNanos() / 1000000; }

  barrier::Barrier* barrier_;
  Clock* clock_;
  DelayTimer delay_;
  Dispatch dispatch_;
  MountTtls mount_ttls_;
  ExpirationConfig config_;

  mutable std::mutex mu_;
  std::condition_variable cv_;                // wakes the dispatcher
  std::condition_variable settle_cv_;         // wakes Settle()
  bool dispatching_ GUARDED_BY(mu_) = false;  // the dispatcher is starting a batch it took
  std::vector<Timer> heap_
      GUARDED_BY(mu_);  // a min-heap on deadline (std::push_heap with std::greater)
  std::unordered_map<uint64_t, std::string> odd_ids_
      GUARDED_BY(mu_);  // lease ids that are not <path>/<uuid>
  uint64_t next_odd_ GUARDED_BY(mu_) = 0;
  struct Claim {
    bool revoking = false;          // else a renewal or the request issuing it
    bool revoke_requested = false;  // a user revoked it meanwhile: revoke when released
    bool force_requested = false;  // ... with force (revoke-force): delete even if the engine fails
  };
  std::unordered_map<std::string, Claim> busy_
      GUARDED_BY(mu_);  // leases being revoked, renewed or issued now
  // Leases whose next timer revokes them whatever their deadline (a deferred revocation); true:
  // with force (deleted even if the engine fails).
  std::unordered_map<std::string, bool> forced_ GUARDED_BY(mu_);
  // Accessors of tokens revoked lately, oldest first, so that a lease registered for one by a
  // request still in flight when its token was revoked is revoked too. Kept for the longest a
  // request can take to issue a secret, with room to spare.
  static constexpr int64_t kRevokedTokenMemoryMs = 15 * 60 * 1000;
  std::deque<std::pair<int64_t, std::string>> revoked_tokens_order_ GUARDED_BY(mu_);
  std::unordered_map<std::string, int64_t> revoked_tokens_ GUARDED_BY(mu_);  // accessor -> when
  bool running_ GUARDED_BY(mu_) = false;
  uint64_t generation_ GUARDED_BY(mu_) = 0;  // bumps on Stop so a restore still running stops

  std::mutex paths_mu_;  // the interned lease paths; only ever grows (one entry per role path)
  std::vector<std::string> paths_ GUARDED_BY(paths_mu_);
  std::unordered_map<std::string, uint32_t> path_index_ GUARDED_BY(paths_mu_);
  // Stored and irrevocable leases per interned path (parallel to paths_; a deque keeps the
  // counters where they are as it grows), and for ids of another shape.
  struct PathCounts {
    std::atomic<int64_t> leases{0};
    std::atomic<int64_t> irrevocable{0};
  };
  std::deque<PathCounts> path_counts_ GUARDED_BY(paths_mu_);
  PathCounts odd_counts_;
  // The counters of a lease id's path (interned on first use).
  PathCounts* CountsOf(std::string_view lease_id);
  // Interns a path (paths_mu_ held); its index.
  uint32_t InternLocked(std::string_view path);

  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::vector<Outcome> completed_
      GUARDED_BY(commit_mu_);  // finished timer revocations, to commit in a batch
  uint64_t commit_generation_ GUARDED_BY(commit_mu_) =
      0;  // outcomes of an earlier generation are dropped
  bool committing_ GUARDED_BY(commit_mu_) = false;

  std::thread dispatcher_;  // restores the timers at start, then dispatches
  std::thread committer_;
  std::atomic<bool> restored_{false};
  // Engine revocations running, and finished ones whose outcome the committer has not stored yet
  // (bounded so a burst of expiries cannot queue without limit).
  std::atomic<int64_t> inflight_{0};
  std::atomic<int64_t> uncommitted_{0};
  static constexpr int64_t kMaxUncommitted = 16384;
  static constexpr size_t kCommitBatch = 4096;
  static constexpr int kCommitGatherMs = 2;
  std::atomic<int64_t> revoked_{0};
  std::atomic<int64_t> failed_attempts_{0};
  std::atomic<int64_t> irrevocable_{0};
  std::atomic<int64_t> live_{0};  // Stats::leases
};

}  // namespace vault::core
