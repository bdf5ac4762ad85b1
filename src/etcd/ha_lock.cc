#include "etcd/ha_lock.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace vault::etcd {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Hex(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

EtcdHaLock::EtcdHaLock(Client* client, EtcdBackend* backend, std::string prefix, int64_t ttl_s)
    : client_(client), backend_(backend), prefix_(std::move(prefix)), ttl_s_(ttl_s) {}

EtcdHaLock::~EtcdHaLock() = default;

int64_t EtcdHaLock::lease_id() const {
  std::lock_guard lock(mu_);
  return lease_;
}

void EtcdHaLock::MarkLost() {
  if (!lost_.exchange(true)) spdlog::warn("ha: the HA lock is lost");
  backend_->SetFence(EtcdBackend::Fence::kClosed);
}

Status EtcdHaLock::Campaign(const std::string& value) {
  auto lease = SyncWait(client_->LeaseGrant(ttl_s_));
  if (!lease.ok()) return lease.status();
  const std::string key = prefix_ + "/" + Hex(lease->id);
  // Creates the key on the lease unless it exists (it cannot: the lease is new).
  TxnRequest txn;
  txn.compare.push_back({Compare::Target::kCreate, Compare::Result::kEqual, key, 0, ""});
  txn.success.push_back({TxnOp::Kind::kPut, key, value, lease->id, ""});
  txn.failure.push_back({TxnOp::Kind::kRange, key, "", 0, ""});
  auto r = SyncWait(client_->Txn(std::move(txn)));
  if (!r.ok()) {
    SyncWait(client_->LeaseRevoke(lease->id)).IgnoreError();
    return r.status();
  }
  int64_t revision = r->revision;
  if (!r->succeeded && !r->ranges.empty() && !r->ranges[0].kvs.empty())
    revision = r->ranges[0].kvs[0].create_revision;
  std::lock_guard lock(mu_);
  lease_ = lease->id;
  key_ = key;
  key_revision_ = revision;
  last_renewed_ = SteadyClock::now();
  return Status();
}

Task<Result<std::optional<KeyValue>>> EtcdHaLock::Owner() {
  RangeRequest r;
  r.key = prefix_ + "/";
  r.range_end = PrefixEnd(r.key);
  r.sort = RangeRequest::Sort::kCreateAscend;
  r.limit = 1;
  auto got = co_await client_->Range(std::move(r));
  if (!got.ok()) co_return got.status();
  std::optional<KeyValue> owner;
  if (!got->kvs.empty()) owner = std::move(got->kvs.front());
  co_return owner;
}

Result<bool> EtcdHaLock::Acquire(const std::string& value, const std::atomic<bool>& cancelled) {
  backend_->SetFence(EtcdBackend::Fence::kClosed);
  lost_ = false;
  const auto poll = std::chrono::milliseconds(std::min<int64_t>(250, ttl_s_ * 1000 / 10));
  while (!cancelled.load()) {
    if (lease_id() == 0) {
      if (Status st = Campaign(value); !st.ok()) {
        spdlog::warn("ha: entering the HA lock failed: {}", st.message());
        std::this_thread::sleep_for(std::chrono::seconds(1));  // the HA thread's own wait
        continue;
      }
    }
    auto owner = SyncWait(Owner());
    std::string key;
    int64_t revision = 0;
    {
      std::lock_guard lock(mu_);
      key = key_;
      revision = key_revision_;
    }
    if (owner.ok()) {
      if (!owner->has_value()) {
        // Not even our own key: its lease ended while we waited. Enter again.
        std::lock_guard lock(mu_);
        lease_ = 0;
        continue;
      }
      if ((*owner)->key == key && (*owner)->create_revision == revision) {
        backend_->SetFence(
            EtcdBackend::Fence::kHeld,
            Compare{Compare::Target::kCreate, Compare::Result::kEqual, key, revision, ""},
            [this] { MarkLost(); });
        spdlog::info("ha: holding the HA lock ({})", key);
        return true;
      }
    } else {
      spdlog::warn("ha: reading the HA lock failed: {}", owner.status().message());
    }
    // Somebody else holds it: keep our place (and our lease) and look again shortly.
    if (!KeepAlive()) {
      std::lock_guard lock(mu_);
      lease_ = 0;
      lost_ = false;
      continue;
    }
    std::this_thread::sleep_for(poll);  // the HA thread's own wait; a watch would save polls
  }
  // Cancelled: leave the line.
  Release().IgnoreError();
  return false;
}

bool EtcdHaLock::KeepAlive() {
  if (lost_.load()) return false;
  int64_t lease = lease_id();
  if (lease == 0) return false;
  {
    std::lock_guard lock(mu_);
    if (SteadyClock::now() - last_renewed_ < std::chrono::milliseconds(KeepAliveIntervalMs() / 2))
      return true;  // renewed recently enough (the wait loop polls more often than this)
  }
  auto ttl = SyncWait(client_->LeaseKeepAlive(lease));
  if (ttl.ok() && *ttl > 0) {
    std::lock_guard lock(mu_);
    last_renewed_ = SteadyClock::now();
    return true;
  }
  bool expired = ttl.ok();  // etcd says the lease is gone
  if (!expired) {
    std::lock_guard lock(mu_);
    // etcd could not be asked: the lease may still live, until a whole TTL since the last renewal.
    expired = SteadyClock::now() - last_renewed_ >= std::chrono::seconds(ttl_s_);
    if (!expired) {
      spdlog::warn("ha: renewing the HA lock's lease failed: {}", ttl.status().message());
      return true;
    }
  }
  MarkLost();
  return false;
}

Status EtcdHaLock::Release() {
  backend_->SetFence(EtcdBackend::Fence::kClosed);
  int64_t lease = 0;
  {
    std::lock_guard lock(mu_);
    lease = lease_;
    lease_ = 0;
    key_.clear();
    key_revision_ = 0;
  }
  if (lease == 0) return Status();
  // Revoking the lease deletes the key: the next candidate holds the lock at once.
  return SyncWait(client_->LeaseRevoke(lease));
}

Task<Result<std::optional<std::string>>> EtcdHaLock::Holder() {
  auto owner = co_await Owner();
  if (!owner.ok()) co_return owner.status();
  std::optional<std::string> value;
  if (owner->has_value()) value = (*owner)->value;
  co_return value;
}

}  // namespace vault::etcd
