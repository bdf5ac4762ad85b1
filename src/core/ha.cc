// High availability: standby and active (Vault's vault/ha.go). An unsealed server with an HA lock
// competes for it on its `ha` thread; the holder sets up as the active node and keeps the lock
// alive; it steps down when the lock is lost, on sys/step-down, on seal and at shutdown.
#include <spdlog/spdlog.h>

#include "core/core.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/random.h"
#include "util/thread_attrs.h"

namespace vault::core {
namespace {

constexpr std::string_view kLeaderPrefix = "core/leader/";
// After a manual step-down the node waits this long before competing again, so another wins.
constexpr int64_t kStepDownDelayMs = 10000;

}  // namespace

void Core::EnableHa(storage::HaLock* lock, HaConfig config) {
  ha_lock_ = lock;
  ha_config_ = std::move(config);
}

void Core::StartHa() {
  std::lock_guard lock(ha_mu_);
  if (ha_running_) return;
  ha_running_ = true;
  ha_stop_ = false;
  standby_ = true;
  ha_thread_ = std::thread([this] { HaLoop(); });
}

void Core::StopHa() {
  {
    std::lock_guard lock(ha_mu_);
    if (!ha_running_) return;
    ha_running_ = false;
    ha_stop_ = true;
    ha_cv_.notify_all();
  }
  if (ha_thread_.joinable()) ha_thread_.join();
  standby_ = false;
}

bool Core::HaWait(int64_t ms) {
  std::unique_lock lock(ha_mu_);
  ha_cv_.wait_for(lock, std::chrono::milliseconds(ms),
                  [this] { return ha_stop_.load() || step_down_requested_; });
  return !ha_stop_.load();
}

void Core::HaLoop() {
  SetThreadName("ha");
  while (!ha_stop_.load()) {
    const std::string id = NewUuid();
    auto acquired = ha_lock_->Acquire(id, ha_stop_);
    if (!acquired.ok()) {
      spdlog::error("ha: acquiring the HA lock failed: {}", acquired.status().message());
      if (!HaWait(1000)) break;
      continue;
    }
    if (!*acquired) break;  // stopped
    if (Status st = SyncWait(BecomeActive(id)); !st.ok()) {
      spdlog::error("ha: becoming the active node failed: {}", st.message());
      SyncWait(BecomeStandby(id)).IgnoreError();
      ha_lock_->Release().IgnoreError();
      if (!HaWait(1000)) break;
      continue;
    }
    // Active: renew the lock until it is lost or given up.
    bool manual = false;
    for (;;) {
      HaWait(ha_lock_->KeepAliveIntervalMs());
      {
        std::lock_guard lock(ha_mu_);
        if (ha_stop_.load() || step_down_requested_) {
          manual = step_down_requested_;
          step_down_requested_ = false;
          break;
        }
      }
      if (!ha_lock_->KeepAlive() || ha_lock_->Lost()) {
        spdlog::warn("ha: lost the HA lock: stepping down");
        break;
      }
    }
    SyncWait(BecomeStandby(id)).IgnoreError();
    if (Status st = ha_lock_->Release(); !st.ok())
      spdlog::warn("ha: releasing the HA lock failed (it ends with its lease): {}", st.message());
    if (manual) {
      spdlog::info("ha: stepped down; competing again in {} s", kStepDownDelayMs / 1000);
      if (!HaWait(kStepDownDelayMs)) break;
    }
  }
}

Task<Status> Core::BecomeActive(std::string id) {
  AsyncMutex::Guard transition = co_await transition_mu_.Lock();
  if (!standby_.load() || ha_stop_.load()) co_return Unavailable("sealed meanwhile");
  // The keyring as the previous active left it (it may have rotated in a new term).
  CO_RETURN_IF_ERROR(co_await barrier_.ReloadKeyring());
  // The previous active's leader entries go (it may have died without removing its own).
  auto old = co_await barrier_.List(kLeaderPrefix);
  if (Status setup = co_await PostUnsealLocked(); !setup.ok()) {
    PreSealLocked();
    co_return setup;
  }
  if (old.ok()) {
    for (const auto& o : *old) {
      if (o == id) continue;
      std::string stale = std::string(kLeaderPrefix) + o;
      Status gone = co_await barrier_.Delete(stale);
      gone.IgnoreError();  // the next active tries again
    }
  }
  Json leader = {{"api_addr", ha_config_.api_addr},
                 {"cluster_addr", ha_config_.cluster_addr},
                 {"disable_clustering", ha_config_.disable_clustering}};
  std::string key = std::string(kLeaderPrefix) + id;
  std::string value = DumpJson(leader);
  Status wrote = co_await barrier_.Put(key, value);
  if (!wrote.ok()) co_return wrote;
  active_since_ns_ = SystemClock::Get()->NowNanos();
  standby_ = false;
  {
    std::lock_guard lock(leader_mu_);
    leader_cache_.reset();
  }
  spdlog::info("ha: this server is the active node ({})", ha_config_.api_addr);
  co_return Status::Ok();
}

Task<Status> Core::BecomeStandby(std::string id) {
  AsyncMutex::Guard transition = co_await transition_mu_.Lock();
  const bool was_active = active_.load();
  standby_ = true;  // first: requests from now on go to the active node
  active_since_ns_ = 0;
  if (was_active) {
    PreSealLocked();
    // Only succeeds while the lock is still ours (fenced); the next active removes it otherwise.
    std::string key = std::string(kLeaderPrefix) + id;
    Status gone = co_await barrier_.Delete(key);
    gone.IgnoreError();
    spdlog::info("ha: this server is a standby");
  }
  {
    std::lock_guard lock(leader_mu_);
    leader_cache_.reset();
  }
  co_return Status::Ok();
}

Task<Result<std::optional<LeaderInfo>>> Core::Leader() {
  std::optional<LeaderInfo> none;
  if (ha_lock_ == nullptr) co_return none;
  if (active_.load() && !standby_.load()) {
    LeaderInfo self{true, ha_config_.api_addr, ha_config_.cluster_addr, active_since_ns_.load()};
    co_return std::optional<LeaderInfo>(self);
  }
  {
    std::lock_guard lock(leader_mu_);
    if (leader_cache_ &&
        std::chrono::steady_clock::now() - leader_cached_at_ < std::chrono::seconds(1))
      co_return leader_cache_;
  }
  auto holder = co_await ha_lock_->Holder();
  if (!holder.ok()) co_return holder.status();
  if (!holder->has_value()) co_return none;
  std::string key = std::string(kLeaderPrefix) + **holder;
  auto raw = co_await barrier_.Get(key);
  if (!raw.ok()) {
    // Written under a key term the active added after this standby was unsealed.
    CO_RETURN_IF_ERROR(co_await barrier_.ReloadKeyring());
    raw = co_await barrier_.Get(key);
  }
  if (!raw.ok()) co_return raw.status();
  if (!raw->has_value()) co_return none;  // the new active has not written it yet
  auto parsed = ParseJson(**raw);
  if (!parsed.ok() || !parsed->is_object()) co_return Internal("ha: unreadable leader entry");
  LeaderInfo info;
  info.api_addr = parsed->value("api_addr", "");
  info.cluster_addr = parsed->value("cluster_addr", "");
  info.forwarding_disabled = parsed->value("disable_clustering", false);
  {
    std::lock_guard lock(leader_mu_);
    leader_cache_ = info;
    leader_cached_at_ = std::chrono::steady_clock::now();
  }
  co_return std::optional<LeaderInfo>(info);
}

Task<Status> Core::StepDown(std::string client_token) {
  if (ha_lock_ == nullptr || !active_.load()) co_return Status::Ok();  // as Vault: a no-op
  CO_RETURN_IF_ERROR(co_await CheckSudoUpdate(std::move(client_token), "sys/step-down"));
  std::lock_guard lock(ha_mu_);
  step_down_requested_ = true;
  ha_cv_.notify_all();
  co_return Status::Ok();
}

}  // namespace vault::core
