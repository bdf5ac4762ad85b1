#include "core/expiration.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>

#include "util/duration.h"
#include "util/log.h"
#include "util/random.h"

namespace vault::core {

namespace {

constexpr std::string_view kIdPrefix = "sys/expire/id/";
constexpr std::string_view kDeadlinePrefix = "sys/expire/deadline/";
constexpr std::string_view kTokenPrefix = "sys/expire/token/";
constexpr int kDeadlineDigits = 15;
constexpr size_t kMaxRevokeErrorLen = 240;

std::string IdKey(std::string_view id) { return std::string(kIdPrefix) + std::string(id); }

std::string DeadlineKey(int64_t ms, std::string_view id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*" PRId64 "/", kDeadlineDigits, ms < 0 ? 0 : ms);
  return std::string(kDeadlinePrefix) + buf + std::string(id);
}

std::string TokenKey(std::string_view accessor, std::string_view id) {
  return std::string(kTokenPrefix) + std::string(accessor) + "/" + std::string(id);
}

int64_t DeadlineOf(const LeaseEntry& e) { return std::max(e.expire_time_ms, e.next_attempt_ms); }

bool IsThrottle(const Status& st) {
  return st.code() == StatusCode::kRateLimited || st.code() == StatusCode::kUpstreamThrottled;
}

int64_t Jitter(int64_t ms) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  // +-50%, as Vault does.
  std::uniform_int_distribution<int64_t> d(ms / 2, ms + ms / 2);
  return d(rng);
}

// Runs jobs with at most `limit` at once; resolves with every job's status, in order.
struct BoundedState {
  std::mutex mu;
  std::vector<std::function<Task<Status>()>> jobs;
  std::vector<Status> results;
  size_t next = 0;
  size_t runners_left = 0;
  std::function<void(std::vector<Status>)> finish;
};

Task<Status> BoundedRunner(std::shared_ptr<BoundedState> st) {
  for (;;) {
    size_t i;
    {
      std::lock_guard lock(st->mu);
      if (st->next >= st->jobs.size()) break;
      i = st->next++;
    }
    Status r = co_await st->jobs[i]();
    std::lock_guard lock(st->mu);
    st->results[i] = std::move(r);
  }
  co_return Status::Ok();
}

Task<std::vector<Status>> RunBounded(std::vector<std::function<Task<Status>()>> jobs, int limit) {
  if (jobs.empty()) co_return std::vector<Status>{};
  auto st = std::make_shared<BoundedState>();
  st->results.resize(jobs.size());
  st->jobs = std::move(jobs);
  size_t n = std::min<size_t>(std::max(1, limit), st->jobs.size());
  st->runners_left = n;
  // The lambda captures by reference only: GCC 12 destroys a lambda temporary in a co_await
  // expression twice (a captured shared_ptr was released twice; found by ASan).
  std::vector<Status> results = co_await AwaitCallback<std::vector<Status>>(
      [&st, n](std::function<void(std::vector<Status>)> cb) {
        st->finish = std::move(cb);
        for (size_t k = 0; k < n; ++k) {
          StartTask(BoundedRunner(st), [st](Status) {
            bool last;
            {
              std::lock_guard lock(st->mu);
              last = --st->runners_left == 0;
            }
            if (last) st->finish(std::move(st->results));
          });
        }
      });
  co_return results;
}

}  // namespace

Json LeaseEntry::ToJson() const {
  Json j = {{"lease_id", lease_id},
            {"path", path},
            {"token_accessor", token_accessor},
            {"internal_data", internal_data},
            {"issue_time_ms", issue_time_ms},
            {"expire_time_ms", expire_time_ms},
            {"last_renewal_ms", last_renewal_ms},
            {"ttl", ttl},
            {"renewable", renewable},
            {"revoke_attempts", revoke_attempts},
            {"next_attempt_ms", next_attempt_ms},
            {"revoke_error", revoke_error},
            {"irrevocable", irrevocable}};
  return j;
}

Result<LeaseEntry> LeaseEntry::FromJson(const Json& j) {
  if (!j.is_object() || !j.contains("lease_id") || !j["lease_id"].is_string())
    return Internal("corrupt lease entry");
  LeaseEntry e;
  e.lease_id = j.value("lease_id", "");
  e.path = j.value("path", "");
  e.token_accessor = j.value("token_accessor", "");
  e.internal_data = j.value("internal_data", Json::object());
  e.issue_time_ms = j.value("issue_time_ms", int64_t{0});
  e.expire_time_ms = j.value("expire_time_ms", int64_t{0});
  e.last_renewal_ms = j.value("last_renewal_ms", int64_t{0});
  e.ttl = j.value("ttl", int64_t{0});
  e.renewable = j.value("renewable", false);
  e.revoke_attempts = j.value("revoke_attempts", 0);
  e.next_attempt_ms = j.value("next_attempt_ms", int64_t{0});
  e.revoke_error = j.value("revoke_error", "");
  e.irrevocable = j.value("irrevocable", false);
  return e;
}

Result<TtlDecision> CalculateTtl(const logical::MountInfo& mount, int64_t increment,
                                 int64_t engine_ttl, int64_t engine_max_ttl, int64_t issue_time_s,
                                 int64_t now_s) {
  TtlDecision d;
  int64_t max_ttl = mount.max_lease_ttl;
  if (engine_max_ttl > 0 && (max_ttl <= 0 || engine_max_ttl < max_ttl)) max_ttl = engine_max_ttl;
  int64_t ttl = increment > 0 ? increment : engine_ttl > 0 ? engine_ttl : mount.default_lease_ttl;
  if (max_ttl > 0) {
    int64_t ceiling = issue_time_s + max_ttl;
    if (now_s >= ceiling) return InvalidArgument("past the max TTL, cannot renew");
    int64_t room = ceiling - now_s;
    if (ttl > room) {
      d.warnings.push_back("TTL of \"" + FormatGoDuration(ttl) +
                           "\" exceeded the effective max_ttl of \"" +
                           FormatGoDuration(room) +
                           "\"; TTL value is capped accordingly");
      ttl = room;
    }
  }
  d.ttl = ttl;
  return d;
}

ExpirationManager::ExpirationManager(barrier::Barrier* barrier, Clock* clock, Dispatch dispatch,
                                     MountTtls ttls, ExpirationConfig config)
    : barrier_(barrier),
      clock_(clock),
      dispatch_(std::move(dispatch)),
      mount_ttls_(std::move(ttls)),
      config_(config) {}

ExpirationManager::~ExpirationManager() { Stop(); }

void ExpirationManager::Start() {
  std::unique_lock lock(mu_);
  if (running_) return;
  running_ = true;
  restored_ = false;
  uint64_t gen = ++generation_;
  heap_.clear();
  completed_.clear();
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  restorer_ = std::thread([this, gen] { RestoreLoop(gen); });
}

void ExpirationManager::Stop() {
  {
    std::unique_lock lock(mu_);
    if (!running_) return;
    running_ = false;
    ++generation_;
    cv_.notify_all();
  }
  if (restorer_.joinable()) restorer_.join();
  if (dispatcher_.joinable()) dispatcher_.join();
  // Engine revocations still in flight finish on their own threads and report into
  // completed_, which the next Start() discards; their leases stay stored and are re-armed.
  std::unique_lock lock(mu_);
  heap_.clear();
  heap_.shrink_to_fit();
  completed_.clear();
  busy_.clear();
}

void ExpirationManager::RestoreLoop(uint64_t generation) {
  int64_t start = NowMs();
  std::vector<Timer> batch;
  int64_t count = 0;
  auto flush = [&] {
    std::lock_guard lock(mu_);
    if (generation != generation_) return false;
    for (auto& t : batch) heap_.push_back(std::move(t));
    std::make_heap(heap_.begin(), heap_.end(), std::greater<Timer>());
    batch.clear();
    cv_.notify_all();
    return true;
  };
  Status st = barrier_->ScanKeys(kDeadlinePrefix, [&](std::string_view key) {
    std::string_view rest = key.substr(kDeadlinePrefix.size());
    if (rest.size() <= kDeadlineDigits + 1 || rest[kDeadlineDigits] != '/') return true;
    int64_t ms = 0;
    for (int i = 0; i < kDeadlineDigits; ++i) {
      if (rest[i] < '0' || rest[i] > '9') return true;
      ms = ms * 10 + (rest[i] - '0');
    }
    batch.push_back({ms, std::string(rest.substr(kDeadlineDigits + 1))});
    ++count;
    return true;
  });
  if (!flush()) return;
  if (!st.ok()) {
    spdlog::error("expiration: restoring leases failed: {}", st.message());
    return;
  }
  restored_ = true;
  spdlog::info("expiration: restored {} lease timers in {} ms", count, NowMs() - start);
}

void ExpirationManager::Arm(int64_t deadline_ms, std::string lease_id) {
  std::lock_guard lock(mu_);
  if (!running_) return;
  // The dispatcher sleeps until the earliest deadline: wake it only when this one is earlier
  // (every issued secret arms a timer; waking the dispatcher for each costs the request a
  // context switch on a busy machine).
  bool earliest = heap_.empty() || deadline_ms < heap_.front().deadline_ms;
  heap_.push_back({deadline_ms, std::move(lease_id)});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Timer>());
  if (earliest) cv_.notify_all();
}

bool ExpirationManager::TryClaim(const std::string& lease_id) {
  std::lock_guard lock(mu_);
  return busy_.insert(lease_id).second;
}

void ExpirationManager::Release(const std::string& lease_id) {
  std::lock_guard lock(mu_);
  busy_.erase(lease_id);
}

void ExpirationManager::DispatchLoop() {
  constexpr size_t kMaxBatch = 1024;
  for (;;) {
    std::vector<Timer> due;
    std::vector<Outcome> done;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (!running_) return;
        if (!completed_.empty()) break;
        int64_t now = NowMs();
        bool can_start = inflight_.load() < config_.max_inflight;
        if (!heap_.empty() && heap_.front().deadline_ms <= now && can_start) break;
        if (heap_.empty() || !can_start) {
          cv_.wait(lock);
        } else {
          int64_t wait_ms = std::min<int64_t>(heap_.front().deadline_ms - now, 1000);
          cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait_ms, 1)));
        }
      }
      done.swap(completed_);
      int64_t now = NowMs();
      int64_t room = config_.max_inflight - inflight_.load();
      while (!heap_.empty() && heap_.front().deadline_ms <= now && room > 0 &&
             due.size() < kMaxBatch) {
        std::pop_heap(heap_.begin(), heap_.end(), std::greater<Timer>());
        due.push_back(std::move(heap_.back()));
        heap_.pop_back();
        --room;
      }
    }

    // Commit finished revocations in one batch.
    if (!done.empty()) {
      std::vector<storage::Mutation> batch;
      std::vector<std::string> ok_ids;
      for (auto& o : done) {
        if (o.status.ok()) {
          auto m = DeleteMutations(o.entry);
          batch.insert(batch.end(), m.begin(), m.end());
          ok_ids.push_back(o.entry.lease_id);
        } else {
          HandleFailure(std::move(o.entry), o.status);
        }
      }
      if (!batch.empty()) {
        Status st = barrier_->Write(batch);
        if (!st.ok()) {
          spdlog::error("expiration: deleting {} revoked leases failed: {}", ok_ids.size(),
                        st.message());
        } else {
          revoked_ += static_cast<int64_t>(ok_ids.size());
        }
      }
      for (const auto& id : ok_ids) Release(id);
    }

    for (auto& t : due) {
      if (!TryClaim(t.lease_id)) {
        Arm(NowMs() + 1000, t.lease_id);  // being renewed/revoked by a user: look again later
        continue;
      }
      auto loaded = Load(t.lease_id);
      if (!loaded.ok()) {
        spdlog::error("expiration: loading lease {} failed: {}", t.lease_id,
                      loaded.status().message());
        Release(t.lease_id);
        if (loaded.status().code() != StatusCode::kUnavailable) Arm(NowMs() + 5000, t.lease_id);
        continue;
      }
      if (!loaded->has_value() || (*loaded)->irrevocable || DeadlineOf(**loaded) > t.deadline_ms) {
        // Gone, given up on, or renewed (its new deadline has its own timer).
        Release(t.lease_id);
        continue;
      }
      ++inflight_;
      LeaseEntry entry = std::move(**loaded);
      Task<Status> task = EngineRevoke(entry);
      StartTask(std::move(task), [this, entry = std::move(entry)](Status st) mutable {
        std::lock_guard lock(mu_);
        --inflight_;
        completed_.push_back({std::move(entry), std::move(st)});
        cv_.notify_all();
      });
    }
  }
}

void ExpirationManager::HandleFailure(LeaseEntry entry, const Status& st) {
  ++failed_attempts_;
  bool throttled = IsThrottle(st);
  if (!throttled) ++entry.revoke_attempts;
  entry.revoke_error = st.message().substr(0, kMaxRevokeErrorLen);
  std::optional<LeaseEntry> old = entry;
  int64_t now = NowMs();
  if (entry.revoke_attempts >= config_.max_attempts) {
    entry.irrevocable = true;
    entry.revoke_error = ("out of retries: " + st.message()).substr(0, kMaxRevokeErrorLen);
    ++irrevocable_;
    spdlog::error("expiration: maximum revoke attempts for lease {} reached; it is irrevocable: {}",
                  entry.lease_id, st.message());
  } else {
    int64_t delay;
    if (throttled) {
      delay = Jitter(config_.throttle_retry_ms);
    } else {
      int shift = std::min(entry.revoke_attempts - 1, 30);
      delay = std::min(config_.retry_cap_ms, config_.retry_base_ms << shift);
      delay = Jitter(delay);
    }
    entry.next_attempt_ms = now + delay;
    spdlog::warn("expiration: revoking lease {} failed (attempt {}, retry in {} ms): {}",
                 entry.lease_id, entry.revoke_attempts, delay, st.message());
  }
  Status w = barrier_->Write(PutMutations(entry, old));
  if (!w.ok()) spdlog::error("expiration: saving lease {} failed: {}", entry.lease_id, w.message());
  if (!entry.irrevocable) Arm(DeadlineOf(entry), entry.lease_id);
  Release(entry.lease_id);
}

Result<std::optional<LeaseEntry>> ExpirationManager::Load(const std::string& lease_id) {
  ASSIGN_OR_RETURN(auto raw, barrier_->Get(IdKey(lease_id)));
  if (!raw) return std::optional<LeaseEntry>();
  auto j = ParseJson(*raw);
  if (!j.ok()) return Internal("corrupt lease entry " + lease_id);
  ASSIGN_OR_RETURN(LeaseEntry e, LeaseEntry::FromJson(*j));
  return std::optional<LeaseEntry>(std::move(e));
}

std::vector<storage::Mutation> ExpirationManager::DeleteMutations(const LeaseEntry& e) const {
  std::vector<storage::Mutation> m;
  m.push_back({IdKey(e.lease_id), std::nullopt});
  m.push_back({DeadlineKey(DeadlineOf(e), e.lease_id), std::nullopt});
  if (!e.token_accessor.empty()) m.push_back({TokenKey(e.token_accessor, e.lease_id), std::nullopt});
  return m;
}

std::vector<storage::Mutation> ExpirationManager::PutMutations(
    const LeaseEntry& e, const std::optional<LeaseEntry>& old) const {
  std::vector<storage::Mutation> m;
  m.push_back({IdKey(e.lease_id), DumpJson(e.ToJson())});
  std::string deadline = DeadlineKey(DeadlineOf(e), e.lease_id);
  if (old && !old->irrevocable) {
    std::string old_deadline = DeadlineKey(DeadlineOf(*old), old->lease_id);
    if (old_deadline != deadline || e.irrevocable) m.push_back({old_deadline, std::nullopt});
  }
  if (!e.irrevocable) m.push_back({deadline, std::string()});
  if (!old && !e.token_accessor.empty())
    m.push_back({TokenKey(e.token_accessor, e.lease_id), std::string()});
  return m;
}

Result<ExpirationManager::Registered> ExpirationManager::Register(
    const std::string& request_path, const logical::MountInfo& mount,
    const logical::SecretSpec& spec, const std::string& token_accessor,
    const std::vector<std::string>& wal_keys) {
  int64_t now_ms = NowMs();
  ASSIGN_OR_RETURN(TtlDecision d,
                   CalculateTtl(mount, 0, spec.ttl, spec.max_ttl, now_ms / 1000, now_ms / 1000));
  std::string base = request_path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  LeaseEntry e;
  e.lease_id = base + "/" + NewUuid();
  e.path = base;
  e.token_accessor = token_accessor;
  e.internal_data = spec.internal_data;
  e.issue_time_ms = now_ms;
  e.expire_time_ms = now_ms + d.ttl * 1000;
  e.ttl = d.ttl;
  e.renewable = spec.renewable;
  auto batch = PutMutations(e, std::nullopt);
  for (const auto& k : wal_keys) batch.push_back({k, std::nullopt});
  RETURN_IF_ERROR(barrier_->Write(batch));
  Arm(e.expire_time_ms, e.lease_id);
  Registered r;
  r.lease_id = e.lease_id;
  r.lease_duration = d.ttl;
  r.warnings = std::move(d.warnings);
  return r;
}

namespace {
// Releases a claimed lease when the coroutine that claimed it ends, whatever the path.
struct ClaimGuard {
  std::function<void()> release;
  ~ClaimGuard() {
    if (release) release();
  }
};
}  // namespace

Task<Result<logical::Response>> ExpirationManager::Renew(std::string lease_id, int64_t increment) {
  if (!TryClaim(lease_id)) co_return InvalidArgument("lease is being revoked");
  ClaimGuard guard{[this, lease_id] { Release(lease_id); }};
  auto loaded = Load(lease_id);
  if (!loaded.ok()) co_return loaded.status();
  if (!loaded->has_value()) co_return InvalidArgument("lease not found");
  LeaseEntry e = std::move(**loaded);
  int64_t now_ms = NowMs();
  if (e.irrevocable)
    co_return InvalidArgument("lease is expired and has failed previous revocation attempts");
  if (e.expire_time_ms <= now_ms) co_return InvalidArgument("lease expired");
  if (!e.renewable) co_return InvalidArgument("lease is not renewable");

  logical::Request req;
  req.operation = logical::Operation::kRenew;
  req.path = e.path;
  req.secret = logical::LeaseSecret{e.lease_id, e.internal_data, e.issue_time_ms / 1000, e.ttl,
                                    increment};
  auto resp = co_await dispatch_(req);
  if (!resp.ok()) co_return resp.status();
  if (!resp->secret) co_return InvalidArgument("lease is not renewable");
  auto mount = mount_ttls_(e.path);
  if (!mount) co_return InvalidArgument("no mount serves lease " + lease_id);
  now_ms = NowMs();
  auto d = CalculateTtl(*mount, increment, resp->secret->ttl, resp->secret->max_ttl,
                        e.issue_time_ms / 1000, now_ms / 1000);
  if (!d.ok()) co_return d.status();
  std::optional<LeaseEntry> old = e;
  if (resp->secret->internal_data.is_object() && !resp->secret->internal_data.empty()) {
    Json merged = resp->secret->internal_data;
    if (e.internal_data.contains("secret_type") && !merged.contains("secret_type"))
      merged["secret_type"] = e.internal_data["secret_type"];
    e.internal_data = std::move(merged);
  }
  e.renewable = resp->secret->renewable;
  e.ttl = d->ttl;
  e.expire_time_ms = now_ms + d->ttl * 1000;
  e.last_renewal_ms = now_ms;
  e.next_attempt_ms = 0;
  if (Status st = barrier_->Write(PutMutations(e, old)); !st.ok()) co_return st;
  Arm(e.expire_time_ms, e.lease_id);
  logical::Response out;
  out.secret = logical::SecretSpec{d->ttl, 0, e.renewable};
  out.lease_id = e.lease_id;
  out.lease_duration = d->ttl;
  out.warnings = resp->warnings;
  for (auto& w : d->warnings) out.warnings.push_back(w);
  co_return out;
}

Task<Status> ExpirationManager::EngineRevoke(LeaseEntry entry) {
  logical::Request req;
  req.operation = logical::Operation::kRevoke;
  req.path = entry.path;
  req.secret = logical::LeaseSecret{entry.lease_id, entry.internal_data,
                                    entry.issue_time_ms / 1000, entry.ttl, 0};
  auto resp = co_await dispatch_(req);
  co_return resp.ok() ? Status::Ok() : resp.status();
}

Task<Status> ExpirationManager::RevokeEntry(LeaseEntry entry, bool force) {
  Status st = co_await EngineRevoke(entry);
  if (!st.ok()) {
    if (!force) co_return st;
    spdlog::warn("expiration: force-revoking lease {} despite engine error: {}", entry.lease_id,
                 st.message());
  }
  if (Status w = barrier_->Write(DeleteMutations(entry)); !w.ok()) co_return w;
  ++revoked_;
  if (entry.irrevocable) --irrevocable_;
  co_return Status::Ok();
}

Task<Status> ExpirationManager::Revoke(std::string lease_id) {
  auto loaded = Load(lease_id);
  if (!loaded.ok()) co_return loaded.status();
  if (!loaded->has_value()) co_return InvalidArgument("invalid request");
  if (!TryClaim(lease_id)) co_return Status::Ok();  // the timer is revoking it right now
  ClaimGuard guard{[this, lease_id] { Release(lease_id); }};
  co_return co_await RevokeEntry(std::move(**loaded), false);
}

Task<Status> ExpirationManager::RevokeIds(std::vector<std::string> ids, bool force) {
  std::vector<std::function<Task<Status>()>> jobs;
  jobs.reserve(ids.size());
  for (const auto& id : ids) {
    jobs.push_back([this, id, force]() -> Task<Status> {
      auto loaded = Load(id);
      if (!loaded.ok()) co_return loaded.status();
      if (!loaded->has_value()) co_return Status::Ok();
      if (!TryClaim(id)) co_return Status::Ok();
      ClaimGuard guard{[this, id] { Release(id); }};
      co_return co_await RevokeEntry(std::move(**loaded), force);
    });
  }
  std::vector<Status> results = co_await RunBounded(std::move(jobs), config_.max_inflight);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      co_return Status(results[i].code(), "failed to revoke \"" + ids[i] + "\" (" +
                                              std::to_string(i + 1) + " / " +
                                              std::to_string(ids.size()) +
                                              "): " + results[i].message());
    }
  }
  co_return Status::Ok();
}

Task<Status> ExpirationManager::RevokePrefix(std::string prefix, bool force) {
  std::vector<std::string> ids;
  if (!prefix.empty() && prefix.back() != '/') {
    auto exact = Load(prefix);
    if (!exact.ok()) co_return exact.status();
    if (exact->has_value()) ids.push_back(prefix);
  }
  if (ids.empty()) {
    std::string p = prefix;
    if (!p.empty() && p.back() != '/') p += '/';
    std::string scan = IdKey(p);
    Status st = barrier_->ScanKeys(scan, [&](std::string_view key) {
      ids.emplace_back(key.substr(kIdPrefix.size()));
      return true;
    });
    if (!st.ok()) co_return st;
  }
  co_return co_await RevokeIds(std::move(ids), force);
}

Task<Status> ExpirationManager::RevokeByToken(std::string token_accessor) {
  if (token_accessor.empty()) co_return Status::Ok();
  std::vector<std::string> ids;
  std::string prefix = std::string(kTokenPrefix) + token_accessor + "/";
  Status st = barrier_->ScanKeys(prefix, [&](std::string_view key) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!st.ok()) co_return st;
  co_return co_await RevokeIds(std::move(ids), false);
}

Result<Json> ExpirationManager::Lookup(const std::string& lease_id) {
  ASSIGN_OR_RETURN(auto loaded, Load(lease_id));
  if (!loaded) return InvalidArgument("invalid lease");
  const LeaseEntry& e = *loaded;
  int64_t now = NowMs();
  int64_t ttl = std::max<int64_t>(0, (e.expire_time_ms - now + 500) / 1000);
  Json j = {{"id", e.lease_id},
            {"issue_time", FormatRfc3339Nano(e.issue_time_ms * 1000000)},
            {"expire_time", FormatRfc3339Nano(e.expire_time_ms * 1000000)},
            {"last_renewal", e.last_renewal_ms ? Json(FormatRfc3339Nano(e.last_renewal_ms * 1000000))
                                               : Json()},
            {"renewable", e.renewable && !e.irrevocable},
            {"ttl", ttl}};
  if (e.revoke_attempts > 0 || !e.revoke_error.empty() || e.irrevocable) {
    j["revoke_error"] = e.revoke_error;
    j["revoke_attempts"] = e.revoke_attempts;
    j["irrevocable"] = e.irrevocable;
  }
  return j;
}

Result<std::vector<std::string>> ExpirationManager::List(const std::string& prefix) {
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') p += '/';
  return barrier_->List(IdKey(p));
}

Result<Json> ExpirationManager::Tidy() {
  int64_t checked = 0, removed = 0;
  std::vector<storage::Mutation> dangling;
  auto check = [&](std::string_view key, std::string_view id) {
    ++checked;
    auto raw = barrier_->Get(IdKey(id));
    if (raw.ok() && !raw->has_value()) dangling.push_back({std::string(key), std::nullopt});
  };
  RETURN_IF_ERROR(barrier_->ScanKeys(kDeadlinePrefix, [&](std::string_view key) {
    std::string_view rest = key.substr(kDeadlinePrefix.size());
    if (rest.size() > kDeadlineDigits + 1) check(key, rest.substr(kDeadlineDigits + 1));
    return true;
  }));
  RETURN_IF_ERROR(barrier_->ScanKeys(kTokenPrefix, [&](std::string_view key) {
    std::string_view rest = key.substr(kTokenPrefix.size());
    auto slash = rest.find('/');
    if (slash != std::string_view::npos) check(key, rest.substr(slash + 1));
    return true;
  }));
  removed = static_cast<int64_t>(dangling.size());
  if (!dangling.empty()) RETURN_IF_ERROR(barrier_->Write(dangling));
  return Json{{"checked", checked}, {"removed", removed}};
}

ExpirationManager::Stats ExpirationManager::GetStats() const {
  Stats s;
  {
    std::lock_guard lock(mu_);
    s.pending = static_cast<int64_t>(heap_.size());
  }
  s.inflight = inflight_.load();
  s.revoked = revoked_.load();
  s.failed_attempts = failed_attempts_.load();
  s.irrevocable = irrevocable_.load();
  return s;
}

}  // namespace vault::core
