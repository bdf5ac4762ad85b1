// Core: the request pipeline (sealed? -> token -> ACL -> audit -> route -> engine -> audit) and
// the seal lifecycle. Composes the barrier, seal manager, token store, policy store, audit
// broker, mount manager and router. Thread safety: requests run concurrently; seal transitions
// (init, unseal, seal) run one at a time (transition_mu_). A request that meets a transition
// fails cleanly with "Vault is sealed" from whatever part it reaches.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "barrier/barrier.h"
#include "barrier/seal.h"
#include "core/audit.h"
#include "core/expiration.h"
#include "core/mount_manager.h"
#include "core/mounts.h"
#include "core/policy.h"
#include "core/quotas.h"
#include "core/token_store.h"
#include "logical/framework.h"
#include "storage/backend.h"
#include "util/async_mutex.h"
#include "util/clock.h"
#include "util/lock_annotations.h"

namespace vault::core {

// The server config's telemetry stanza (Vault's settings of that name).
struct TelemetryConfig {
  int64_t prometheus_retention_s = 24 * 3600;  // 0: ?format=prometheus is refused
  bool disable_hostname = false;               // else gauge names carry the host
  int64_t usage_gauge_period_ms = 600000;      // token counts etc.; 0 ("none"): not collected
};

struct CoreConfig {
  SystemTtls ttls;
  TelemetryConfig telemetry;
  ExpirationConfig expiration;
  // How often engines are asked to roll back leftover write-ahead entries (also once at unseal).
  int64_t rollback_interval_ms = 60000;
};

// High availability (a storage backend with an HA lock, etcd): what this server advertises.
struct HaConfig {
  std::string api_addr;             // where clients (and standbys forwarding) reach this server
  std::string cluster_addr;         // reported in sys/leader; requests are forwarded over api_addr
  bool disable_clustering = false;  // while active: standbys redirect clients instead of forwarding
};

// The active node, as sys/leader reports it.
struct LeaderInfo {
  bool is_self = false;
  std::string api_addr;
  std::string cluster_addr;
  int64_t active_since_ns = 0;       // when it became active (unix ns); 0 when not known
  bool forwarding_disabled = false;  // its disable_clustering: standbys redirect to it
};

struct InitResult {
  std::vector<std::string> keys;  // raw share bytes
  std::string root_token;
};

// Where a wrapping token's answer is kept (core/wrapping.cc).
std::string WrappingStorageKey(const std::string& id_hash);

class Core {
 public:
  Core(storage::Backend* physical, EngineRegistry registry, CoreConfig config, Clock* clock);
  ~Core();

  Task<Result<bool>> Initialized();
  // sys/init: splits the root key into `shares`, creates the root token (with `root_token_id`
  // when given, as dev mode does) and leaves the core sealed, as Vault does.
  Task<Result<InitResult>> Initialize(int shares, int threshold,
                                      std::optional<std::string> root_token_id = std::nullopt);
  // sys/unseal with one raw key share; runs post-unseal setup when the threshold is met.
  Task<Result<barrier::SealStatus>> Unseal(std::string share);
  Task<Result<barrier::SealStatus>> ResetUnseal();
  Task<Result<barrier::SealStatus>> SealStatus();
  // sys/seal: needs a root token or sudo + update on sys/seal. kPermissionDenied otherwise.
  Task<Status> Seal(std::string client_token);
  bool Sealed() const { return !active_.load(); }

  // Key ceremonies, Vault 2.x style: besides the key shares, each step needs a token that is
  // root or has sudo + update on the endpoint's path (sys/rekey/..., sys/generate-root/...).
  Task<Status> AuthorizeOperator(std::string client_token, std::string path) {
    return CheckSudoUpdate(std::move(client_token), std::move(path));
  }
  // sys/rekey/*: the seal's rekey (barrier/seal.h).
  barrier::SealManager& seal_manager() { return seal_; }
  // sys/generate-root/* (core/generate_root.cc): a threshold of unseal key shares makes a new
  // root token, handed out XOR-ed with a one-time password (Vault's encoding).
  struct RootGeneration {
    std::string nonce;
    bool started = false;
    int progress = 0;
    int required = 0;
    bool complete = false;
    std::string encoded_token;  // base64 (no padding) of token XOR otp, when complete
    std::string otp;            // the OTP the server generated, in the answer that started it
    int otp_length = 0;
  };
  Task<Result<RootGeneration>> GenerateRootStatus();
  // Starts a generation; an empty otp has the server generate one (returned once).
  Task<Result<RootGeneration>> GenerateRootInit(std::string otp);
  void GenerateRootCancel();
  Task<Result<RootGeneration>> GenerateRootSubmit(std::string share, std::string nonce);

  // High availability. EnableHa (before the first unseal) makes an unsealed server a standby
  // that competes for `lock` on its own thread (`ha`): the holder becomes active (mounts,
  // policies, tokens, lease timers, rollbacks), the others stay standbys until it goes. Not owned.
  void EnableHa(storage::HaLock* lock, HaConfig config);
  bool HaEnabled() const { return ha_lock_ != nullptr; }
  const HaConfig& ha_config() const { return ha_config_; }
  // Unsealed, but another server is (or may become) the active one.
  bool Standby() const { return standby_.load(); }
  // The active node: this one, or the one holding the lock (read from storage, cached for a
  // second). std::nullopt when there is none (yet) or HA is off.
  Task<Result<std::optional<LeaderInfo>>> Leader();
  // sys/step-down on the active node: needs root, or sudo + update on sys/step-down. The node
  // gives the lock up at once and competes again after 10 s (Vault's delay).
  Task<Status> StepDown(std::string client_token);
  std::string StorageType() const { return physical_->Name(); }

  // Runs one logical request. req.path is the full path ("secret/foo"); req.client_token is
  // the caller's token. Errors carry Vault's codes (503 sealed, 403 denied, 404 no route,
  // 500 when audit devices are enabled and none can record the request...).
  // A response carrying a secret has its lease registered (durably) before the task completes.
  // `req` must outlive the task; the task never blocks a thread waiting on the network.
  Task<Result<logical::Response>> HandleRequestAsync(logical::Request& req);
  // Blocking form (tests, tools): waits for HandleRequestAsync.
  Result<logical::Response> HandleRequest(logical::Request& req);

  ExpirationManager* expiration() { return expiration_.get(); }

  // Rate-limit quotas (core/quotas.h): seconds the client at `address` must wait before a request
  // to `path` is served (answer 429 with Retry-After), nullopt when it may go (it is counted).
  std::optional<int64_t> CheckQuota(const std::string& path, const std::string& address) {
    return quotas_.Check(path, address);
  }

  // Response wrapping (core/wrapping.cc): keeps `response` (a whole answer as sent) under a new
  // single-use token of `ttl` seconds and returns Vault's wrap_info block for it.
  Task<Result<Json>> Wrap(std::string response, int64_t ttl, std::string creation_path,
                          std::string wrapped_accessor);

  // Reopens the audit log files (SIGHUP, after log rotation). No-op while sealed.
  Status ReopenAuditDevices();

  // The background pass's token expiry, run now on the calling thread (which may block): tests
  // move a fake clock and call this instead of waiting for the next pass.
  Status RevokeExpiredTokensNow();
  // Rotates the barrier key when sys/rotate/config says it is due (the background pass does this
  // every second on the active node; tests move a fake clock and call it). May block.
  void MaybeRotateBarrierKey();
  // sys/metrics' answer (core/metrics.cc) in `format` ("" or "json", "prometheus"): the body
  // and its content type. 400 for an unknown format, or Prometheus when its retention is 0.
  // Needs no token: the HTTP layer serves it unauthenticated where the listener allows it.
  Result<std::pair<std::string, std::string>> RenderMetrics(const std::string& format);
  // Collects the usage gauges (vault.token.count) now; the background pass does this every
  // usage_gauge_period. May block.
  void CollectUsageGauges();
  // Rollback passes (every mount's rollback) that have finished since start.
  int64_t RollbackPassesDone() const { return rollback_passes_done_.load(); }

 private:
  // The outcome of the token and ACL checks for one request (core/request_auth.cc).
  struct RequestAuth {
    TokenRef token;             // the caller's token entry, when the token is valid
    Status status;              // Ok, or why the request is refused (403...)
    bool revoke_after = false;  // the last use of a limited-use token: revoke when done
  };
  // Resolves the token, decides create vs update (existence check), checks the ACL (with sudo
  // on root-protected paths), spends one use of a limited-use token and sets
  // req.display_name. req.path is the full path; mount may be null (no route).
  Task<RequestAuth> CheckRequest(logical::Request& req, const Mount* mount);
  // After the request: revokes a token whose last use this was.
  void FinishRequest(const RequestAuth& auth);
  // kPermissionDenied unless the token is root or has sudo + update on `path` (sys/seal,
  // sys/step-down).
  Task<Status> CheckSudoUpdate(std::string client_token, std::string path);
  // Whether token has sudo on a full path (root: always).
  Task<bool> HasSudo(const TokenEntry& token, std::string path);

  // Under transition_mu_: sets up the unsealed core / tears it down before sealing.
  Task<Status> PostUnsealLocked();
  void PreSealLocked();
  class EarlyLeases;  // a request's logical::LeaseRegistrar (core.cc)
  // How long after its registration an early lease is answered, when that is long enough (over a
  // second, or 1 % of its TTL) to move the lease to start now; else 0.
  int64_t EarlyLeaseLagMs(const logical::RegisteredLease& reg) const;
  // Fills the answer's lease fields from the lease its engine registered early, moving the lease
  // to start now when lag_ms > 0 (a storage write).
  Task<bool> ReportEarlyLease(logical::Response& resp, int64_t lag_ms);
  // Registers the lease of a secret the engine returned; revokes the secret if that fails.
  Task<Result<logical::Response>> RegisterLease(logical::Request& req, const std::string& relative,
                                                const Mount& mount, const RequestAuth& auth,
                                                logical::Response resp);
  // Turns an auth method's Response::login into a token (core/login.cc): an orphan with the
  // method's policies (+ default), TTLs under the mount's, bound CIDRs; answers `auth`.
  Task<Result<logical::Response>> IssueLoginToken(const logical::Request& req, const Mount& mount,
                                                  logical::Response resp);
  // A login token's renewal: the issuing method may refuse it (role gone, policies changed) and
  // names the max TTL that applies now (the role's, under the mount's). 0 for other tokens.
  Task<Result<int64_t>> LoginRenewalMaxTtl(const TokenEntry& e);
  // sys/wrapping/lookup, unwrap, rewrap, wrap (core/wrapping.cc).
  std::vector<logical::Path> WrappingPaths();
  // The live wrapping token `token` and its stored answer; 400 "wrapping token is not valid or
  // does not exist" otherwise.
  Task<Result<std::pair<TokenRef, Json>>> WrappedEntry(std::string token);
  // Makes req (whose path is the full path) a request to `mount`'s engine: the path relative to
  // the mount, the mount's TTLs and storage view.
  void ScopeToMount(logical::Request& req, const Mount& mount) const;
  // Routes a lease's renew/revoke to its engine (the expiration manager's Dispatch).
  Task<Result<logical::Response>> DispatchLease(logical::Request& req);
  // Automatic barrier key rotation (core/rotation.cc): sys/rotate/config, loaded at unseal and
  // checked on every background pass of the active node.
  struct RotationConfig {
    int64_t max_operations = 3865470566LL;
    int64_t interval = 0;  // seconds; 0 = no time-based rotation
    bool enabled = true;
  };
  Task<Status> LoadRotationConfig();
  // sys/metrics and core's gauges (core/metrics.cc).
  std::vector<logical::Path> MetricsPaths();
  void RegisterGauges();
  void UnregisterGauges();
  std::atomic<int64_t> in_flight_{0};           // requests in HandleRequestAsync
  std::atomic<int64_t> usage_token_count_{-1};  // the last usage-gauge collection; -1: none yet
  // Write-ahead entries each mount's last rollback pass left (mount path -> count).
  std::mutex wal_counts_mu_;
  std::map<std::string, int64_t> wal_counts_ GUARDED_BY(wal_counts_mu_);
  // Gauges whose label sets follow the mounts (leases and write-ahead entries by mount), set
  // anew before each scrape.
  void RefreshMountGauges();
  std::vector<logical::Path> RotationPaths();
  std::mutex rotation_mu_;
  RotationConfig rotation_ GUARDED_BY(rotation_mu_);
  void StartBackground();
  void StopBackground();
  // The background thread: the engines' rollbacks every rollback_interval_ms and, each second,
  // expired and used-up tokens (TokenStore::RevokeExpired). KickBackground runs a pass now.
  void KickBackground();
  void RunRollbacks();

  storage::Backend* physical_;
  Clock* clock_;
  EngineRegistry registry_;
  CoreConfig config_;
  barrier::Barrier barrier_;
  barrier::SealManager seal_;
  // A root token generation under way (core/generate_root.cc).
  struct RootGenState {
    std::string nonce;
    std::string otp;
    std::vector<std::string> parts;
  };
  std::mutex root_gen_mu_;
  std::optional<RootGenState> root_gen_ GUARDED_BY(root_gen_mu_);
  AsyncMutex root_gen_op_mu_;  // one step at a time (held across the token's storage write)
  TokenStore tokens_;
  PolicyStore policies_;
  AuditBroker audit_;
  Router router_;
  MountManager mounts_;
  QuotaManager quotas_;
  std::unique_ptr<ExpirationManager> expiration_;
  class CpuPool;  // logical::CpuWork on core's `cpu-work` threads (core.cc)
  std::unique_ptr<CpuPool> cpu_;
  AsyncMutex transition_mu_;         // seal transitions, one at a time
  std::atomic<bool> active_{false};  // post-unseal setup done; cleared first when sealing
  std::mutex background_mu_;
  std::condition_variable background_cv_;
  bool background_running_ GUARDED_BY(background_mu_) = false;
  bool background_kicked_ GUARDED_BY(background_mu_) =
      false;  // run the background pass now (a used-up token to revoke)
  std::thread background_thread_;
  std::atomic<int64_t> rollback_passes_done_{0};

  // High availability (core/ha.cc).
  void StartHa();
  void StopHa();
  void HaLoop();
  // Under transition_mu_: from standby to active as lock holder `id` / back to standby.
  Task<Status> BecomeActive(std::string id);
  Task<Status> BecomeStandby(std::string id);
  // Waits up to `ms` or until the HA thread is stopped; false when stopped.
  bool HaWait(int64_t ms);
  storage::HaLock* ha_lock_ = nullptr;
  HaConfig ha_config_;
  std::atomic<bool> standby_{false};
  std::atomic<bool> ha_stop_{false};
  std::atomic<int64_t> active_since_ns_{0};
  std::mutex ha_mu_;
  std::condition_variable ha_cv_;
  bool ha_running_ GUARDED_BY(ha_mu_) = false;
  bool step_down_requested_ GUARDED_BY(ha_mu_) = false;
  std::thread ha_thread_;
  std::mutex leader_mu_;
  std::optional<LeaderInfo> leader_cache_ GUARDED_BY(leader_mu_);
  std::chrono::steady_clock::time_point leader_cached_at_ GUARDED_BY(leader_mu_);
};

}  // namespace vault::core
