#include "core/core.h"

#include <algorithm>
#include <mutex>

#include "core/acl.h"
#include "core/auth_mounts.h"
#include "core/system_acl_paths.h"
#include "core/system_backend.h"
#include "core/token_backend.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/thread_attrs.h"
#include "util/thread_pool.h"

namespace vault::core {

namespace {
// Secrets' write-ahead entries as full storage keys of `mount`.
std::vector<std::string> WalKeys(const Mount& mount, const logical::SecretSpec& spec) {
  std::vector<std::string> keys;
  keys.reserve(spec.wal_ids.size());
  for (const auto& id : spec.wal_ids)
    keys.push_back(mount.entry.StoragePrefix() + logical::kWalPrefix + id);
  return keys;
}
}  // namespace

// The Request::leases of one request: registers held leases for the engine and remembers them,
// so that the request's end can release the one it hands out and revoke the others.
class Core::EarlyLeases final : public logical::LeaseRegistrar {
 public:
  // Everything referenced lives in the request's frame, which outlives this object.
  EarlyLeases(ExpirationManager* expiration, const std::string& full_path, const Mount& mount,
              const logical::MountInfo& info, const std::string& accessor)
      : expiration_(expiration),
        path_(full_path),
        mount_(mount),
        info_(info),
        accessor_(accessor) {}

  Task<Result<logical::RegisteredLease>> Register(const logical::SecretSpec& spec) override {
    auto reg = co_await expiration_->Register(path_, info_, spec, accessor_, WalKeys(mount_, spec),
                                              /*hold=*/true);
    if (!reg.ok()) co_return reg.status();
    {
      std::lock_guard lock(mu_);
      held_.push_back(reg->lease_id);
    }
    co_return std::move(*reg);
  }

  // Whether this request registered `lease_id`; any lease.
  bool Holds(const std::string& lease_id) {
    std::lock_guard lock(mu_);
    return std::find(held_.begin(), held_.end(), lease_id) != held_.end();
  }
  bool HoldsAny() {
    std::lock_guard lock(mu_);
    return !held_.empty();
  }

  // At the request's end: releases `delivered` (the lease of the secret being answered, or
  // empty) and revokes the other held leases through their engine. The errors of revocations
  // that failed (those leases are retried); empty when all went.
  Task<std::vector<std::string>> Finish(const std::string& delivered) {
    std::vector<std::string> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    std::vector<std::string> failures;
    for (const auto& id : held) {
      if (id == delivered) {
        expiration_->ReleaseHeld(id);
        continue;
      }
      Status st = co_await expiration_->RevokeHeld(id);
      if (!st.ok()) {
        spdlog::error(
            "core: revoking lease {}, registered for a secret that was not handed out, "
            "failed; it is retried: {}",
            id, st.message());
        failures.push_back("lease " + id + " (registered before the failure) could not be " +
                           "revoked yet and is retried: " + st.message());
      }
    }
    co_return failures;
  }

 private:
  ExpirationManager* expiration_;
  const std::string& path_;
  const Mount& mount_;
  const logical::MountInfo& info_;
  const std::string& accessor_;
  std::mutex mu_;
  std::vector<std::string> held_;
};

// Password hashes and other CPU-heavy work of engines, off the HTTP I/O threads.
class Core::CpuPool : public logical::CpuWork {
 public:
  CpuPool() : pool_(2, "cpu-work") {}
  Task<std::string> Run(std::function<std::string()> fn) override {
    std::string out = co_await RunBlocking(&pool_, std::move(fn));
    co_return out;
  }

 private:
  ThreadPool pool_;
};

Core::Core(storage::Backend* physical, EngineRegistry registry, CoreConfig config, Clock* clock)
    : physical_(physical),
      clock_(clock),
      registry_(std::move(registry)),
      config_(config),
      barrier_(physical, clock),
      seal_(physical, &barrier_),
      tokens_(&barrier_, clock),
      policies_(&barrier_),
      audit_(&barrier_, clock),
      mounts_(&barrier_, &registry_, &router_, config.ttls),
      quotas_(&barrier_, clock),
      cpu_(std::make_unique<CpuPool>()) {
  expiration_ = std::make_unique<ExpirationManager>(
      &barrier_, clock_, [this](logical::Request& req) { return DispatchLease(req); },
      [this](std::string_view path) -> std::optional<logical::MountInfo> {
        auto m = router_.Route(path);
        if (!m) return std::nullopt;
        return mounts_.Info(m->entry);
      },
      config_.expiration);
  // Revoking a token revokes the leases it created (children first: the store walks the tree).
  tokens_.SetRevokeHook([this](const TokenEntry& e) -> Task<Status> {
    // A wrapping token takes its answer with it.
    if (e.policies.size() == 1 && e.policies[0] == kResponseWrappingPolicy) {
      Status st = co_await barrier_.Delete(WrappingStorageKey(e.id_hash));
      if (!st.ok()) co_return st;
    }
    Status st = co_await expiration_->RevokeByToken(e.accessor);
    co_return st;
  });
  mounts_.RegisterBuiltin(
      "system", [this](const logical::MountInfo&) -> Result<std::shared_ptr<logical::Backend>> {
        std::vector<logical::Path> extra = PolicyPaths(&policies_);
        for (auto& p : CapabilitiesPaths(&tokens_, &policies_)) extra.push_back(std::move(p));
        for (auto& p : AuditPaths(&audit_)) extra.push_back(std::move(p));
        for (auto& p : AuthMountPaths(&mounts_, expiration_.get(), &tokens_))
          extra.push_back(std::move(p));
        for (auto& p : WrappingPaths()) extra.push_back(std::move(p));
        for (auto& p : quotas_.Paths()) extra.push_back(std::move(p));
        for (auto& p : UiMountPaths(&mounts_, &router_, &tokens_, &policies_))
          extra.push_back(std::move(p));
        for (auto& p : RotationPaths()) extra.push_back(std::move(p));
        for (auto& p : MetricsPaths()) extra.push_back(std::move(p));
        return NewSystemBackend(&mounts_, &barrier_, expiration_.get(), std::move(extra));
      });
  mounts_.RegisterBuiltin(
      "token", [this](const logical::MountInfo&) -> Result<std::shared_ptr<logical::Backend>> {
        return NewTokenBackend(
            &tokens_, &policies_,
            [this](const TokenEntry& t, const std::string& p) { return HasSudo(t, p); },
            [this](const TokenEntry& t) { return LoginRenewalMaxTtl(t); }, clock_);
      });
  RegisterGauges();
}

Core::~Core() {
  UnregisterGauges();
  StopHa();  // an active node steps down and gives the lock up: a standby takes over at once
  PreSealLocked();
  seal_.Seal();
}

Task<Result<bool>> Core::Initialized() {
  Result<bool> init = co_await barrier_.Initialized();
  co_return init;
}

Task<Result<InitResult>> Core::Initialize(int shares, int threshold,
                                          std::optional<std::string> root_token_id) {
  AsyncMutex::Guard transition = co_await transition_mu_.Lock();
  InitResult out;
  CO_ASSIGN_OR_RETURN(out.keys, co_await seal_.Initialize(shares, threshold));
  // The barrier is unsealed now: set up, create the root token, then seal again.
  Status st = co_await PostUnsealLocked();
  if (st.ok()) {
    auto token = co_await tokens_.CreateRoot(root_token_id);
    if (token.ok())
      out.root_token = std::move(token).value();
    else
      st = token.status();
  }
  PreSealLocked();
  seal_.Seal();
  if (!st.ok()) co_return st;
  spdlog::info("core: vault initialized with {} key shares and a key threshold of {}", shares,
               threshold);
  co_return out;
}

Task<Status> Core::PostUnsealLocked() {
  CO_RETURN_IF_ERROR(co_await tokens_.Setup());
  CO_RETURN_IF_ERROR(co_await policies_.Setup());
  CO_RETURN_IF_ERROR(co_await mounts_.Load());
  CO_RETURN_IF_ERROR(co_await audit_.Load());
  CO_RETURN_IF_ERROR(co_await quotas_.Load());
  CO_RETURN_IF_ERROR(co_await LoadRotationConfig());
  active_ = true;
  expiration_->Start();
  StartBackground();
  co_return Status::Ok();
}

void Core::PreSealLocked() {
  active_ = false;  // first: requests from now on are refused as sealed
  GenerateRootCancel();
  StopBackground();
  expiration_->Stop();
  audit_.Unload();
  quotas_.Unload();
  mounts_.Unload();
  policies_.Teardown();
  tokens_.Teardown();
}

Task<Result<barrier::SealStatus>> Core::Unseal(std::string share) {
  AsyncMutex::Guard transition = co_await transition_mu_.Lock();
  CO_ASSIGN_OR_RETURN(barrier::SealStatus st, co_await seal_.SubmitShare(std::move(share)));
  if (!st.sealed && !active_ && ha_lock_ != nullptr) {
    // A standby until this server holds the HA lock (core/ha.cc).
    StartHa();
    spdlog::info("core: vault is unsealed (standby: competing for the HA lock)");
  } else if (!st.sealed && !active_) {
    Status setup = co_await PostUnsealLocked();
    if (!setup.ok()) {
      spdlog::error("core: post-unseal setup failed: {}", setup.message());
      PreSealLocked();
      seal_.Seal();
      co_return setup;
    }
    spdlog::info("core: vault is unsealed");
  }
  co_return st;
}

Task<Result<barrier::SealStatus>> Core::ResetUnseal() {
  if (!Sealed()) co_return InvalidArgument("vault is unsealed");
  seal_.ResetProgress();
  Result<barrier::SealStatus> st = co_await seal_.GetStatus();
  co_return st;
}

Task<Result<barrier::SealStatus>> Core::SealStatus() {
  Result<barrier::SealStatus> st = co_await seal_.GetStatus();
  co_return st;
}

Task<Status> Core::Seal(std::string client_token) {
  if (ha_lock_ != nullptr) {
    if (standby_.load()) {
      co_return InvalidArgument(
          "this server is a standby: only the active node can be sealed (restart a standby "
          "instead)");
    }
    {
      AsyncMutex::Guard transition = co_await transition_mu_.Lock();
      if (!active_) co_return Status::Ok();
      CO_RETURN_IF_ERROR(co_await CheckSudoUpdate(client_token, "sys/seal"));
    }
    // The HA thread steps down (under the transition lock) and gives the lock up.
    StopHa();
  }
  AsyncMutex::Guard transition = co_await transition_mu_.Lock();
  if (!active_ && !barrier_.Sealed()) {
    seal_.Seal();  // a standby that stepped down above
    spdlog::info("core: vault is sealed");
    co_return Status::Ok();
  }
  if (!active_) co_return Status::Ok();
  CO_RETURN_IF_ERROR(co_await CheckSudoUpdate(client_token, "sys/seal"));
  PreSealLocked();
  seal_.Seal();
  spdlog::info("core: vault is sealed");
  co_return Status::Ok();
}

Task<Status> Core::CheckSudoUpdate(std::string client_token, std::string path) {
  CO_ASSIGN_OR_RETURN(auto entry, co_await tokens_.Lookup(client_token));
  if (!entry) co_return PermissionDenied();
  CO_ASSIGN_OR_RETURN(auto acl, co_await policies_.AclFor(entry->policies));
  if (!acl->Allowed(logical::Operation::kUpdate, path, /*sudo_required=*/true))
    co_return PermissionDenied();
  co_return Status::Ok();
}

Result<logical::Response> Core::HandleRequest(logical::Request& req) {
  return SyncWait(HandleRequestAsync(req));
}

namespace {
// Counts a request on its mount's traffic for as long as the request runs.
struct CountedRequest {
  std::shared_ptr<const Mount> mount;
  ~CountedRequest() {
    if (mount) mount->traffic->requests.fetch_sub(1);
  }
};
}  // namespace

namespace {
// Times a request into vault.core.handle_request and counts it in flight.
struct RequestMetrics {
  std::atomic<int64_t>* in_flight;
  metrics::Timer timer;
  explicit RequestMetrics(std::atomic<int64_t>* n)
      : in_flight(n), timer([] {
          static metrics::Summary* s =
              metrics::Registry::Get().GetSummary("vault.core.handle_request");
          return s;
        }()) {
    in_flight->fetch_add(1, std::memory_order_relaxed);
  }
  ~RequestMetrics() { in_flight->fetch_sub(1, std::memory_order_relaxed); }
};
}  // namespace

namespace {
// vault.route.<operation>.<mount> (Vault's name: '/' in the mount path as '-'), cached on the
// mount so that a request finds it without the registry's lock.
metrics::Summary* RouteTiming(const Mount& mount, logical::Operation op) {
  auto i = static_cast<size_t>(op);
  auto& slot = mount.traffic->route_timing[i < 16 ? i : 15];
  metrics::Summary* s = slot.load(std::memory_order_acquire);
  if (s) return s;
  std::string name = mount.entry.path;
  for (char& c : name)
    if (c == '/') c = '-';
  s = metrics::Registry::Get().GetSummary(std::string("vault.route.") + logical::OperationName(op) +
                                          "." + name);
  slot.store(s, std::memory_order_release);
  return s;
}
}  // namespace

Task<Result<logical::Response>> Core::HandleRequestAsync(logical::Request& req) {
  RequestMetrics request_metrics(&in_flight_);
  const std::string full_path = req.path;
  std::shared_ptr<const Mount> mount;
  CountedRequest counted;
  RequestAuth auth;
  AuditRecord rec;
  if (!active_) co_return Unavailable("Vault is sealed");
  mount = router_.Route(full_path);
  if (mount) {
    // Counted, then the taint read (mounts.h): a mount being removed is as good as gone.
    mount->traffic->requests.fetch_add(1);
    counted.mount = mount;
    if (mount->traffic->tainted.load()) mount = nullptr;
  }
  // Token + ACL before routing, so a refusal reveals nothing about the path (request_auth.cc).
  auth = co_await CheckRequest(req, mount.get());
  // Audit (fail closed): nothing runs unless the request is on record.
  rec = AuditRecord{"", &req, mount ? mount->entry.type : "", auth.token.get()};
  if (Status st = audit_.LogRequest(rec, auth.status); !st.ok()) co_return st;
  if (!auth.status.ok()) co_return auth.status;
  if (mount) ScopeToMount(req, *mount);
  Result<logical::Response> resp = Status::Ok();
  if (!mount) {
    resp = NotFound("no handler for route \"" + full_path + "\". route entry not found.");
  } else {
    const std::string relative = req.path;
    static const std::string kNoAccessor;
    EarlyLeases early(expiration_.get(), full_path, *mount, req.mount,
                      auth.token ? auth.token->accessor : kNoAccessor);
    req.leases = &early;
    req.cpu = cpu_.get();
    const int64_t route_start_ns = metrics::MonotonicNanosNow();
    resp = co_await mount->backend->HandleRequestAsync(req);
    RouteTiming(*mount, req.operation)
        ->Observe(static_cast<double>(metrics::MonotonicNanosNow() - route_start_ns) / 1e6);
    req.leases = nullptr;
    req.cpu = nullptr;
    req.path = full_path;
    std::string delivered;
    if (resp.ok() && resp->secret && resp->secret->registered) {
      if (!early.Holds(resp->secret->registered->lease_id)) {
        resp = Internal("the engine returned a lease it did not register");
      } else {
        delivered = resp->secret->registered->lease_id;
        // The engine waited on AWS after registering the lease, seconds when calls were throttled
        // or rate-limited: the lease is then moved to start now, so that a short one is not spent
        // before the client has the secret.
        int64_t lag_ms = EarlyLeaseLagMs(*resp->secret->registered);
        co_await ReportEarlyLease(*resp, lag_ms);
      }
    } else if (resp.ok() && resp->secret && resp->lease_id.empty() &&
               req.operation != logical::Operation::kHelp) {
      // Responses that already name a lease (renewals through sys/) are not new secrets.
      resp = co_await RegisterLease(req, relative, *mount, auth, std::move(resp).value());
    }
    if (resp.ok() && resp->login) {
      resp = co_await IssueLoginToken(req, *mount, std::move(resp).value());
    }
    if (early.HoldsAny()) {
      std::vector<std::string> unrevoked = co_await early.Finish(delivered);
      if (!resp.ok() && !unrevoked.empty()) {
        std::vector<std::string> msgs = resp.status().messages();
        for (auto& m : unrevoked) msgs.push_back(std::move(m));
        resp = Status(resp.status().code(), std::move(msgs));
      }
    }
  }
  Status logged = audit_.LogResponse(rec, resp);
  FinishRequest(auth);
  if (!logged.ok()) co_return logged;
  co_return resp;
}

int64_t Core::EarlyLeaseLagMs(const logical::RegisteredLease& reg) const {
  int64_t lag_ms = reg.lease_duration * 1000 - (reg.expire_time_ms - clock_->NowNanos() / 1000000);
  // Normally a tenth of a second: only lags past a second (or 1 % of the TTL) count.
  return lag_ms > std::max<int64_t>(1000, reg.lease_duration * 10) ? lag_ms : 0;
}

Task<bool> Core::ReportEarlyLease(logical::Response& resp, int64_t lag_ms) {
  logical::RegisteredLease& reg = *resp.secret->registered;
  resp.lease_duration = reg.lease_duration;
  bool moved_ok = true;
  if (lag_ms > 0) {
    if (Status moved = co_await expiration_->Rebase(reg.lease_id); !moved.ok()) {
      spdlog::warn("core: moving lease {} to the time of its answer failed: {}", reg.lease_id,
                   moved.message());
      resp.lease_duration = std::max<int64_t>(0, reg.lease_duration - lag_ms / 1000);
      moved_ok = false;
    }
  }
  resp.lease_id = std::move(reg.lease_id);
  for (auto& w : reg.warnings) resp.warnings.push_back(std::move(w));
  co_return moved_ok;
}

Task<Result<logical::Response>> Core::RegisterLease(logical::Request& req,
                                                    const std::string& relative, const Mount& mount,
                                                    const RequestAuth& auth,
                                                    logical::Response resp) {
  // Persist the lease (and drop the engine's write-ahead entries in the same batch) before
  // anyone sees the secret.
  std::vector<std::string> wal_keys = WalKeys(mount, *resp.secret);
  std::string accessor = auth.token ? auth.token->accessor : "";
  auto reg = co_await expiration_->Register(req.path, req.mount, *resp.secret, accessor,
                                            std::move(wal_keys));
  if (!reg.ok()) {
    spdlog::error("core: registering a lease for {} failed, revoking the secret: {}", req.path,
                  reg.status().message());
    logical::Request undo;
    undo.operation = logical::Operation::kRevoke;
    undo.path = relative;
    undo.mount = req.mount;
    undo.storage = mount.storage.get();
    undo.secret = logical::LeaseSecret{"", resp.secret->internal_data, clock_->NowSeconds(),
                                       resp.secret->ttl, 0};
    auto undone = co_await mount.backend->HandleRequestAsync(undo);
    if (!undone.ok()) {
      spdlog::error(
          "core: revoking the unregistered secret failed (its write-ahead entry will "
          "roll it back): {}",
          undone.status().message());
    }
    co_return Internal("failed to register the lease: " + reg.status().message());
  }
  resp.lease_id = reg->lease_id;
  resp.lease_duration = reg->lease_duration;
  for (auto& w : reg->warnings) resp.warnings.push_back(std::move(w));
  co_return resp;
}
void Core::ScopeToMount(logical::Request& req, const Mount& mount) const {
  const std::string& mp = mount.entry.path;
  req.path = req.path.size() >= mp.size() ? req.path.substr(mp.size()) : "";
  req.mount = mounts_.Info(mount.entry);
  req.storage = mount.storage.get();
}

Task<Result<logical::Response>> Core::DispatchLease(logical::Request& req) {
  const std::string full_path = req.path;
  auto mount = router_.Route(full_path);
  if (!mount) co_return NotFound("no mount serves \"" + full_path + "\"");
  ScopeToMount(req, *mount);
  auto resp = co_await mount->backend->HandleRequestAsync(req);
  req.path = full_path;
  co_return resp;
}

void Core::StartBackground() {
  std::lock_guard lock(background_mu_);
  if (background_running_) return;
  background_running_ = true;
  // One background thread: the engines' rollbacks every rollback_interval_ms, and every second
  // the tokens whose TTL ran out (revoked with their leases, as Vault's expiration manager does).
  background_thread_ = std::thread([this] {
    SetThreadName("core-background");
    using Clock = std::chrono::steady_clock;
    const auto interval = std::chrono::milliseconds(config_.rollback_interval_ms);
    auto next_rollback = Clock::now();
    const auto usage_period = std::chrono::milliseconds(config_.telemetry.usage_gauge_period_ms);
    auto next_usage = Clock::now();
    std::unique_lock lock(background_mu_);
    while (background_running_) {
      lock.unlock();
      if (Clock::now() >= next_rollback) {
        RunRollbacks();
        next_rollback = Clock::now() + interval;
      }
      if (usage_period.count() > 0 && Clock::now() >= next_usage) {
        CollectUsageGauges();
        next_usage = Clock::now() + usage_period;
      }
      // This thread may block: it is the background pass's own. The revocations themselves hold
      // no thread while AWS answers.
      SyncWait(tokens_.RevokeExpired()).IgnoreError();  // logged and retried there
      MaybeRotateBarrierKey();
      lock.lock();
      auto wake = std::min(next_rollback, Clock::now() + std::chrono::seconds(1));
      if (usage_period.count() > 0) wake = std::min(wake, next_usage);
      background_cv_.wait_until(lock, wake,
                                [this] { return !background_running_ || background_kicked_; });
      background_kicked_ = false;
    }
  });
}

void Core::KickBackground() {
  std::lock_guard lock(background_mu_);
  background_kicked_ = true;
  background_cv_.notify_all();
}

void Core::StopBackground() {
  {
    std::lock_guard lock(background_mu_);
    if (!background_running_) return;
    background_running_ = false;
    background_cv_.notify_all();
  }
  if (background_thread_.joinable()) background_thread_.join();
}

Status Core::RevokeExpiredTokensNow() { return SyncWait(tokens_.RevokeExpired()); }

void Core::RunRollbacks() {
  // Each engine undoes the leftovers of requests that never completed (e.g. the server was
  // killed while creating an IAM user). Started without waiting: engines call out to AWS.
  struct Pass {
    std::atomic<int64_t>* done;
    ~Pass() { ++*done; }  // when the last job of the pass lets go
  };
  auto pass = std::shared_ptr<Pass>(new Pass{&rollback_passes_done_});
  for (const auto& m : router_.All()) {
    if (m->entry.type == "system" || m->entry.type == "token") continue;
    struct Job {
      std::shared_ptr<Pass> pass;
      std::shared_ptr<const Mount> mount;
      logical::Request req;
      int64_t start_ns = 0;
    };
    auto job = std::make_shared<Job>();
    job->pass = pass;
    job->mount = m;
    job->start_ns = metrics::MonotonicNanosNow();
    job->req.operation = logical::Operation::kRollback;
    job->req.path = m->entry.path;
    ScopeToMount(job->req, *m);
    StartTask(m->backend->HandleRequestAsync(job->req), [this, job](Result<logical::Response> r) {
      // vault.rollback.attempt.<mount> (Vault's name: the mount path with '/' as '-').
      std::string mount_name = job->mount->entry.path;
      for (char& c : mount_name)
        if (c == '/') c = '-';
      metrics::Registry::Get()
          .GetSummary("vault.rollback.attempt." + mount_name)
          ->Observe(static_cast<double>(metrics::MonotonicNanosNow() - job->start_ns) / 1e6);
      if (r.ok() && r->data.is_object() && r->data.contains("waiting")) {
        std::lock_guard lock(wal_counts_mu_);
        wal_counts_[job->mount->entry.path] = r->data.value("waiting", int64_t{0});
      }
      if (!r.ok()) {
        spdlog::warn("core: rollback of {} failed: {}", job->mount->entry.path,
                     r.status().message());
      } else if (r->data.is_object() && r->data.value("rolled_back", 0) > 0) {
        spdlog::info("core: rolled back {} leftover operations in {}",
                     r->data.value("rolled_back", 0), job->mount->entry.path);
      }
    });
  }
}

Status Core::ReopenAuditDevices() {
  if (!active_) return Status::Ok();
  return audit_.Reopen();
}

}  // namespace vault::core
