#include "core/expiration.h"

#include <algorithm>
#include <limits>
#include <random>

#include "util/duration.h"
#include "util/json_reader.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/random.h"
#include "util/run_bounded.h"
#include "util/strings.h"
#include "util/thread_attrs.h"

namespace vault::core {

namespace {

constexpr std::string_view kIdPrefix = "sys/expire/id/";
constexpr std::string_view kDeadlinePrefix = "sys/expire/deadline/";
constexpr std::string_view kTokenPrefix = "sys/expire/token/";
// A revocation deferred because the lease was in use (RevokeRequestKey): "f/<id>" with force,
// "p/<id>" without. Read at restore, so that a server stopped before the hold ended still revokes
// the lease then instead of at its TTL; dropped at a later restore once the lease is gone.
constexpr std::string_view kRevokeRequestPrefix = "sys/expire/revoke-requested/";
// An index of the irrevocable leases (which have no deadline key): "<id>" -> "". Written and
// removed in the same batch as the lease itself.
constexpr std::string_view kIrrevocablePrefix = "sys/expire/irrevocable/";
constexpr int kDeadlineDigits = 15;
constexpr size_t kMaxRevokeErrorLen = 240;

std::string IdKey(std::string_view id) { return std::string(kIdPrefix) + std::string(id); }
std::string IrrevocableKey(std::string_view id) {
  return std::string(kIrrevocablePrefix) + std::string(id);
}

std::string DeadlineKey(int64_t ms, std::string_view id) {
  // kDeadlineDigits zero-padded decimal digits (more if ms needs them), then "/" and the id; not
  // by snprintf, whose formatting machinery is a noticeable part of registering a lease.
  std::string out;
  out.reserve(kDeadlinePrefix.size() + kDeadlineDigits + 1 + id.size());
  out += kDeadlinePrefix;
  AppendZeroPadded(&out, static_cast<uint64_t>(ms < 0 ? 0 : ms), kDeadlineDigits);
  out += '/';
  out += id;
  return out;
}

std::string RevokeRequestKey(std::string_view id, bool force) {
  return std::string(kRevokeRequestPrefix) + (force ? "f/" : "p/") + std::string(id);
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

constexpr char kLeaseFormatV1 = 0x01;  // JSON, the earlier form, starts with '{'

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void PutString(std::string& out, std::string_view v) {
  uint32_t n = static_cast<uint32_t>(v.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  out.append(v);
}

// Reads what PutU64/PutString wrote; any overrun marks the reader failed.
struct Reader {
  std::string_view in;
  bool ok = true;

  uint64_t U64() {
    if (in.size() < 8) return Fail();
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    in.remove_prefix(8);
    return v;
  }
  uint8_t U8() {
    if (in.empty()) {
      Fail();
      return 0;
    }
    uint8_t v = static_cast<unsigned char>(in[0]);
    in.remove_prefix(1);
    return v;
  }
  std::string_view Str() {
    if (in.size() < 4) {
      Fail();
      return {};
    }
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    in.remove_prefix(4);
    if (in.size() < n) {
      Fail();
      return {};
    }
    std::string_view v = in.substr(0, n);
    in.remove_prefix(n);
    return v;
  }
  uint64_t Fail() {
    ok = false;
    in = {};
    return 0;
  }
};

}  // namespace

std::string LeaseEntry::Encode() const {
  // Encoded into a per-thread buffer: to_cbor's own vector grows one push at a time.
  thread_local std::string data;
  data.clear();
  Json::to_cbor(internal_data, data);
  std::string out;
  out.reserve(64 + lease_id.size() + path.size() + token_accessor.size() + data.size() +
              revoke_error.size());
  out.push_back(kLeaseFormatV1);
  out.push_back(static_cast<char>((renewable ? 1 : 0) | (irrevocable ? 2 : 0)));
  PutString(out, lease_id);
  PutString(out, path);
  PutString(out, token_accessor);
  PutString(out, data);
  PutU64(out, static_cast<uint64_t>(issue_time_ms));
  PutU64(out, static_cast<uint64_t>(expire_time_ms));
  PutU64(out, static_cast<uint64_t>(last_renewal_ms));
  PutU64(out, static_cast<uint64_t>(ttl));
  PutU64(out, static_cast<uint64_t>(revoke_attempts));
  PutU64(out, static_cast<uint64_t>(next_attempt_ms));
  PutString(out, revoke_error);
  // One lease with large internal data must not pin that much memory in every thread that ever
  // encoded it.
  if (data.capacity() > 64 * 1024) std::string().swap(data);
  return out;
}

Result<LeaseEntry> LeaseEntry::Decode(std::string_view stored) {
  if (!stored.empty() && stored[0] == '{') {
    auto j = ParseJson(stored);
    if (!j.ok()) return Internal("corrupt lease entry");
    return FromJson(*j);
  }
  if (stored.empty() || stored[0] != kLeaseFormatV1) return Internal("corrupt lease entry");
  Reader r{stored.substr(1)};
  LeaseEntry e;
  uint8_t flags = r.U8();
  e.renewable = flags & 1;
  e.irrevocable = flags & 2;
  e.lease_id = r.Str();
  e.path = r.Str();
  e.token_accessor = r.Str();
  std::string_view data = r.Str();
  e.issue_time_ms = static_cast<int64_t>(r.U64());
  e.expire_time_ms = static_cast<int64_t>(r.U64());
  e.last_renewal_ms = static_cast<int64_t>(r.U64());
  e.ttl = static_cast<int64_t>(r.U64());
  e.revoke_attempts = static_cast<int>(r.U64());
  e.next_attempt_ms = static_cast<int64_t>(r.U64());
  e.revoke_error = r.Str();
  if (!r.ok || !r.in.empty() || e.lease_id.empty()) return Internal("corrupt lease entry");
  // Without exceptions a malformed document comes back discarded, but nlohmann still throws for
  // an array or map whose declared length exceeds what a container can hold.
  try {
    e.internal_data = Json::from_cbor(data.begin(), data.end(), /*strict=*/true,
                                      /*allow_exceptions=*/false);
  } catch (const Json::exception&) {
    return Internal("corrupt lease entry");
  }
  if (e.internal_data.is_discarded()) return Internal("corrupt lease entry");
  return e;
}

Result<LeaseEntry> LeaseEntry::FromJson(const Json& j) {
  JsonReader r(j);
  LeaseEntry e;
  e.lease_id = r.String("lease_id");
  e.path = r.String("path");
  e.token_accessor = r.String("token_accessor");
  e.internal_data = r.Value("internal_data", Json::object());
  e.issue_time_ms = r.Int("issue_time_ms");
  e.expire_time_ms = r.Int("expire_time_ms");
  e.last_renewal_ms = r.Int("last_renewal_ms");
  e.ttl = r.Int("ttl");
  e.renewable = r.Bool("renewable");
  const int64_t attempts = r.Int("revoke_attempts");
  e.next_attempt_ms = r.Int("next_attempt_ms");
  e.revoke_error = r.String("revoke_error");
  e.irrevocable = r.Bool("irrevocable");
  if (!r.ok() || e.lease_id.empty() || attempts < std::numeric_limits<int>::min() ||
      attempts > std::numeric_limits<int>::max())
    return Internal("corrupt lease entry");
  e.revoke_attempts = static_cast<int>(attempts);
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
                           "\" exceeded the effective max_ttl of \"" + FormatGoDuration(room) +
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
  live_ = 0;
  irrevocable_ = 0;
  {
    std::lock_guard plock(paths_mu_);
    for (auto& c : path_counts_) {
      c.leases = 0;
      c.irrevocable = 0;
    }
  }
  odd_counts_.leases = 0;
  odd_counts_.irrevocable = 0;
  inflight_ = 0;
  uncommitted_ = 0;
  uint64_t gen = ++generation_;
  heap_.clear();
  odd_ids_.clear();
  {
    std::lock_guard clock(commit_mu_);
    completed_.clear();
    commit_generation_ = gen;
    committing_ = true;
  }
  // The dispatcher first arms the stored leases' timers (a key scan; requests are served and new
  // leases registered meanwhile), then revokes what comes due.
  dispatcher_ = std::thread([this, gen] {
    SetThreadName("lease-expiry");
    RestoreLoop(gen);
    DispatchLoop();
  });
  committer_ = std::thread([this] {
    SetThreadName("lease-commit");
    CommitLoop();
  });
}

void ExpirationManager::Stop() {
  {
    std::unique_lock lock(mu_);
    if (!running_) return;
    running_ = false;
    ++generation_;
    cv_.notify_all();
    settle_cv_.notify_all();
  }
  {
    std::lock_guard lock(commit_mu_);
    committing_ = false;
    ++commit_generation_;
    commit_cv_.notify_all();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
  if (committer_.joinable()) committer_.join();
  // Engine revocations still in flight finish on their own threads and report outcomes of an
  // old generation, which are dropped; their leases stay stored and are re-armed by Start().
  {
    std::lock_guard lock(commit_mu_);
    completed_.clear();
  }
  std::unique_lock lock(mu_);
  heap_.clear();
  heap_.shrink_to_fit();
  odd_ids_.clear();
  busy_.clear();
  forced_.clear();
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A lease id's suffix in NewUuid's form (8-4-4-4-12 lowercase hex) as 128 bits.
bool ParseUuid(std::string_view u, uint64_t* hi, uint64_t* lo) {
  if (u.size() != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-') return false;
  uint64_t v[2] = {0, 0};
  int nibble = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    int h = HexValue(u[i]);
    if (h < 0) return false;
    v[nibble / 16] = (v[nibble / 16] << 4) | static_cast<uint64_t>(h);
    ++nibble;
  }
  *hi = v[0];
  *lo = v[1];
  return true;
}

void AppendUuid(std::string& out, uint64_t hi, uint64_t lo) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v[2] = {hi, lo};
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) out.push_back('-');
    out.push_back(kHex[(v[nibble / 16] >> (4 * (15 - nibble % 16))) & 0xF]);
  }
}

}  // namespace

ExpirationManager::Timer ExpirationManager::MakeTimer(int64_t deadline_ms,
                                                      std::string_view lease_id) {
  Timer t{deadline_ms, kOddId, 0, 0, 0};
  auto slash = lease_id.rfind('/');
  if (slash != std::string_view::npos && ParseUuid(lease_id.substr(slash + 1), &t.hi, &t.lo)) {
    std::string_view path = lease_id.substr(0, slash);
    std::lock_guard lock(paths_mu_);
    t.path = InternLocked(path);
    if (t.path != kOddId) return t;
  }
  // Not <path>/<uuid> (e.g. written by hand or by another version): keep the id itself. The
  // key is assigned under mu_ by PushLocked.
  t.path = kOddId;
  t.hi = 0;
  t.lo = 0;
  return t;
}

uint32_t ExpirationManager::InternLocked(std::string_view path) {
  auto it = path_index_.find(std::string(path));
  if (it != path_index_.end()) return it->second;
  if (paths_.size() >= kOddId) return kOddId;
  auto index = static_cast<uint32_t>(paths_.size());
  paths_.emplace_back(path);
  path_counts_.emplace_back();
  path_index_.emplace(std::string(path), index);
  return index;
}

ExpirationManager::PathCounts* ExpirationManager::CountsOf(std::string_view lease_id) {
  auto slash = lease_id.rfind('/');
  uint64_t hi, lo;
  if (slash == std::string_view::npos || !ParseUuid(lease_id.substr(slash + 1), &hi, &lo))
    return &odd_counts_;
  std::lock_guard lock(paths_mu_);
  uint32_t index = InternLocked(lease_id.substr(0, slash));
  return index == kOddId ? &odd_counts_ : &path_counts_[index];
}

std::vector<ExpirationManager::PathLeaseCount> ExpirationManager::LeaseCountsByPath() {
  std::vector<PathLeaseCount> out;
  {
    std::lock_guard lock(paths_mu_);
    for (size_t i = 0; i < paths_.size(); ++i) {
      int64_t n = path_counts_[i].leases.load(), irr = path_counts_[i].irrevocable.load();
      if (n != 0 || irr != 0) out.push_back({paths_[i], n, irr});
    }
  }
  int64_t n = odd_counts_.leases.load(), irr = odd_counts_.irrevocable.load();
  if (n != 0 || irr != 0) out.push_back({"", n, irr});
  return out;
}

std::string ExpirationManager::TakeId(const Timer& t) {
  if (t.path == kOddId) {
    auto it = odd_ids_.find(t.lo);
    if (it == odd_ids_.end()) return std::string();
    std::string id = std::move(it->second);
    odd_ids_.erase(it);
    return id;
  }
  std::string id;
  {
    std::lock_guard lock(paths_mu_);
    const std::string& path = paths_[t.path];
    id.reserve(path.size() + 37);
    id = path;
  }
  id.push_back('/');
  AppendUuid(id, t.hi, t.lo);
  return id;
}

void ExpirationManager::PushLocked(Timer t) {
  heap_.push_back(t);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Timer>());
}

void ExpirationManager::RestoreLoop(uint64_t generation) {
  int64_t start = NowMs();
  constexpr size_t kChunk = 16384;
  std::vector<Timer> batch;
  std::vector<std::pair<size_t, std::string>> odd;  // index in batch -> id
  batch.reserve(kChunk);
  int64_t count = 0;
  std::vector<int64_t> per_path;  // leases restored per interned path
  int64_t odd_count = 0;
  auto flush = [&] {
    std::lock_guard lock(mu_);
    if (generation != generation_) return false;
    for (auto& [i, id] : odd) {
      batch[i].lo = next_odd_++;
      odd_ids_.emplace(batch[i].lo, std::move(id));
    }
    for (const Timer& t : batch) PushLocked(t);
    batch.clear();
    odd.clear();
    cv_.notify_all();
    return true;
  };
  bool stale = false;
  // This thread may block on storage (it is the restore's own): it waits for the scan.
  Status st = SyncWait(barrier_->ScanKeys(kDeadlinePrefix, [&](std::string_view key) {
    std::string_view rest = key.substr(kDeadlinePrefix.size());
    if (rest.size() <= kDeadlineDigits + 1 || rest[kDeadlineDigits] != '/') return true;
    int64_t ms = 0;
    for (int i = 0; i < kDeadlineDigits; ++i) {
      if (rest[i] < '0' || rest[i] > '9') return true;
      ms = ms * 10 + (rest[i] - '0');
    }
    std::string_view id = rest.substr(kDeadlineDigits + 1);
    batch.push_back(MakeTimer(ms, id));
    if (batch.back().path == kOddId) {
      odd.emplace_back(batch.size() - 1, std::string(id));
      ++odd_count;
    } else {
      if (batch.back().path >= per_path.size()) per_path.resize(batch.back().path + 1);
      ++per_path[batch.back().path];
    }
    ++count;
    if (batch.size() >= kChunk && !flush()) {
      stale = true;
      return false;
    }
    return true;
  }));
  if (stale || !flush()) return;
  if (!st.ok()) {
    spdlog::error("expiration: restoring leases failed: {}", st.message());
    return;
  }
  // Irrevocable leases have no timer: counted from their index.
  std::vector<std::string> irrevocable_ids;
  st = SyncWait(barrier_->ScanKeys(kIrrevocablePrefix, [&](std::string_view key) {
    irrevocable_ids.emplace_back(key.substr(kIrrevocablePrefix.size()));
    return true;
  }));
  if (!st.ok()) {
    spdlog::error("expiration: restoring irrevocable leases failed: {}", st.message());
    return;
  }
  {
    std::lock_guard plock(paths_mu_);
    for (size_t i = 0; i < per_path.size() && i < path_counts_.size(); ++i)
      path_counts_[i].leases += per_path[i];
  }
  odd_counts_.leases += odd_count;
  for (const auto& id : irrevocable_ids) {
    PathCounts* c = CountsOf(id);
    ++c->leases;
    ++c->irrevocable;
  }
  irrevocable_ += static_cast<int64_t>(irrevocable_ids.size());
  live_ += count + static_cast<int64_t>(irrevocable_ids.size());
  RestoreRevokeRequests();
  {
    std::lock_guard lock(mu_);
    restored_ = true;
    settle_cv_.notify_all();
  }
  spdlog::info("expiration: restored {} lease timers in {} ms", count, NowMs() - start);
}

void ExpirationManager::Arm(int64_t deadline_ms, const std::string& lease_id) {
  Timer t = MakeTimer(deadline_ms, lease_id);
  std::lock_guard lock(mu_);
  if (!running_) return;
  if (t.path == kOddId) {
    t.lo = next_odd_++;
    odd_ids_.emplace(t.lo, lease_id);
  }
  // The dispatcher sleeps until the earliest deadline: wake it only when this one is earlier
  // (every issued secret arms a timer; waking the dispatcher for each costs the request a
  // context switch on a busy machine).
  bool earliest = heap_.empty() || deadline_ms < heap_.front().deadline_ms;
  PushLocked(t);
  if (earliest) cv_.notify_all();
}

bool ExpirationManager::TryClaim(const std::string& lease_id, bool revoking) {
  std::lock_guard lock(mu_);
  return busy_.try_emplace(lease_id, Claim{revoking}).second;
}

Task<bool> ExpirationManager::ClaimToRevoke(std::string lease_id, bool force) {
  bool deferred = false;
  {
    std::lock_guard lock(mu_);
    auto [it, claimed] = busy_.try_emplace(lease_id, Claim{true});
    if (claimed) co_return true;
    if (!it->second.revoking) it->second.revoke_requested = deferred = true;
    if (force) it->second.force_requested = deferred = true;
  }
  if (deferred) co_await PersistRevokeRequest(lease_id, force);
  co_return false;
}

Task<bool> ExpirationManager::PersistRevokeRequest(std::string lease_id, bool force) {
  // The request itself is already in memory and is applied when the hold ends; this write only
  // covers a stop before then, so a failure is logged, not returned.
  std::vector<storage::Mutation> record;
  record.push_back({RevokeRequestKey(lease_id, force), std::string()});
  Status w = co_await barrier_->Write(std::move(record));
  if (!w.ok()) {
    spdlog::error("expiration: recording the deferred revocation of lease {} failed: {}", lease_id,
                  w.message());
  }
  co_return w.ok();
}

void ExpirationManager::RestoreRevokeRequests() {
  std::vector<std::pair<std::string, bool>> found;  // lease id, force
  Status st = SyncWait(barrier_->ScanKeys(kRevokeRequestPrefix, [&](std::string_view key) {
    std::string_view rest = key.substr(kRevokeRequestPrefix.size());
    if (rest.size() > 2 && rest[1] == '/') found.emplace_back(rest.substr(2), rest[0] == 'f');
    return true;
  }));
  if (!st.ok()) {
    spdlog::error("expiration: reading deferred revocations failed: {}", st.message());
    return;
  }
  for (const auto& [id, force] : found) {
    auto loaded = SyncWait(Load(id));
    if (!loaded.ok()) continue;  // looked at again at the next restore
    if (!loaded->has_value()) {  // revoked since: the record has done its job
      std::vector<storage::Mutation> drop;
      drop.push_back({RevokeRequestKey(id, force), std::nullopt});
      Status w = SyncWait(barrier_->Write(std::move(drop)));
      if (!w.ok()) spdlog::warn("expiration: dropping a deferred revocation record failed");
      continue;
    }
    spdlog::info("expiration: lease {} was to be revoked when the server stopped; revoking it{}",
                 id, force ? " (force)" : "");
    RequestRevoke(id, force);
  }
}

void ExpirationManager::Release(const std::string& lease_id, bool apply_request) {
  bool requested;
  bool force;
  {
    std::lock_guard lock(mu_);
    auto it = busy_.find(lease_id);
    if (it == busy_.end()) return;
    requested = it->second.revoke_requested;
    force = it->second.force_requested;
    busy_.erase(it);
  }
  // (Claimed again meanwhile, e.g. renewed: the request then waits for that claim.) A forced
  // revocation is applied even after a failed attempt (apply_request false): that attempt's retry
  // would keep the lease, which the user asked to remove whatever the engine says.
  if (force || (requested && apply_request)) RequestRevoke(lease_id, force);
}

void ExpirationManager::RequestRevoke(const std::string& lease_id, bool force) {
  {
    std::lock_guard lock(mu_);
    auto it = busy_.find(lease_id);
    if (it != busy_.end()) {
      // Applied when its holder releases it; a revocation holding it needs nothing more, unless
      // this one is forced.
      if (!it->second.revoking) it->second.revoke_requested = true;
      if (force) it->second.force_requested = true;
      return;
    }
    forced_[lease_id] |= force;
  }
  Arm(NowMs(), lease_id);
}

bool ExpirationManager::TokenRevoked(const std::string& token_accessor) {
  if (token_accessor.empty()) return false;
  std::lock_guard lock(mu_);
  return revoked_tokens_.count(token_accessor) > 0;
}

void ExpirationManager::DispatchLoop() {
  constexpr size_t kMaxBatch = 1024;  // timers popped per pass
  for (;;) {
    struct Due {
      int64_t deadline;  // the timer's
      std::string id;
      bool forced;  // revoke whatever its deadline (a deferred revocation)
      bool force;   // ... and delete it even if the engine fails (a deferred revoke-force)
    };
    std::vector<Due> due;  // claimed
    uint64_t generation;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (!running_) return;
        int64_t now = NowMs();
        bool can_start =
            inflight_.load() < config_.max_inflight && uncommitted_.load() < kMaxUncommitted;
        if (!heap_.empty() && heap_.front().deadline_ms <= now && can_start) break;
        settle_cv_.notify_all();  // nothing due can start now: Settle() may return
        if (heap_.empty() || !can_start) {
          cv_.wait(lock);
        } else {
          int64_t wait_ms = std::min<int64_t>(heap_.front().deadline_ms - now, 1000);
          cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait_ms, 1)));
        }
      }
      generation = generation_;
      dispatching_ = true;
      int64_t now = NowMs();
      int64_t room =
          std::min(config_.max_inflight - inflight_.load(), kMaxUncommitted - uncommitted_.load());
      std::vector<std::string> busy_now;
      while (!heap_.empty() && heap_.front().deadline_ms <= now && room > 0 &&
             due.size() < kMaxBatch) {
        std::pop_heap(heap_.begin(), heap_.end(), std::greater<Timer>());
        Timer t = heap_.back();
        heap_.pop_back();
        std::string id = TakeId(t);
        if (id.empty()) continue;
        if (!busy_.try_emplace(id, Claim{true}).second) {
          // A stale timer of a renewed lease and its current one fired together: this one is
          // later (the heap pops in deadline order), and it is the one that counts.
          auto same =
              std::find_if(due.begin(), due.end(), [&](const Due& d) { return d.id == id; });
          if (same != due.end()) {
            same->deadline = t.deadline_ms;
            continue;
          }
          busy_now.push_back(std::move(id));  // being renewed/revoked by a user: look again later
          continue;
        }
        bool forced = false;
        bool force = false;
        if (auto f = forced_.find(id); f != forced_.end()) {
          forced = true;
          force = f->second;
          forced_.erase(f);
        }
        due.push_back({t.deadline_ms, std::move(id), forced, force});
        --room;
      }
      lock.unlock();
      for (const auto& id : busy_now) Arm(now + 1000, id);
    }

    // The leases, loaded up to 64 at a time: a networked backend's reads overlap instead of
    // costing a round trip each (this thread may block on them: it is the dispatcher's own).
    constexpr size_t kLoadsAtOnce = 64;
    std::vector<Result<std::optional<LeaseEntry>>> loads;
    loads.reserve(due.size());
    for (size_t i = 0; i < due.size(); i += kLoadsAtOnce) {
      std::vector<Task<Result<std::optional<LeaseEntry>>>> chunk;
      for (size_t j = i; j < std::min(due.size(), i + kLoadsAtOnce); ++j)
        chunk.push_back(Load(due[j].id));
      for (auto& r : SyncWait(WhenAll(std::move(chunk)))) loads.push_back(std::move(r));
    }
    std::vector<std::string> skipped;  // not started: released below without a storage change
    for (size_t k = 0; k < due.size(); ++k) {
      auto& [deadline, id, forced, force] = due[k];
      auto& loaded = loads[k];
      if (!loaded.ok()) {
        spdlog::error("expiration: loading lease {} failed: {}", id, loaded.status().message());
        if (loaded.status().code() != StatusCode::kUnavailable) Arm(NowMs() + 5000, id);
        skipped.push_back(std::move(id));
        continue;
      }
      if (!loaded->has_value() || ((*loaded)->irrevocable && !force) ||
          (!forced && DeadlineOf(**loaded) > deadline)) {
        // Gone, given up on, or renewed (its new deadline has its own timer).
        skipped.push_back(std::move(id));
        continue;
      }
      // The entry lives in the completion callback (which outlives the task) and the task reads
      // it by reference: one copy of the lease less per expiry.
      auto entry = std::make_unique<LeaseEntry>(std::move(**loaded));
      ++inflight_;
      Task<Status> task = EngineRevoke(*entry);
      StartTask(std::move(task),
                // `force` by init-capture: clang before 16 cannot capture a structured binding.
                [this, entry = std::move(entry), generation, force = force](Status st) mutable {
                  size_t queued;
                  int64_t before;
                  {
                    std::lock_guard lock(commit_mu_);
                    // A revocation started before a seal/unseal: its lease was re-armed; drop the
                    // outcome.
                    if (generation != commit_generation_) return;
                    completed_.push_back({std::move(*entry), std::move(st), force});
                    queued = completed_.size();
                    ++uncommitted_;
                    before = inflight_--;
                  }
                  // Wake the committer for the first outcome of a batch, a full batch, or the last
                  // one.
                  if (queued == 1 || queued >= kCommitBatch || before == 1) commit_cv_.notify_one();
                  if (before >= config_.max_inflight) {  // the dispatcher may be waiting for room
                    std::lock_guard lock(mu_);
                    cv_.notify_all();
                  }
                });
    }
    std::lock_guard lock(mu_);
    if (generation == generation_) {
      for (const auto& id : skipped) busy_.erase(id);
    }
    dispatching_ = false;
  }
}

bool ExpirationManager::Settle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  cv_.notify_all();  // the dispatcher reads the clock again
  return settle_cv_.wait_until(lock, deadline, [&] {
    if (!running_) return true;
    if (!restored_.load() || dispatching_ || inflight_.load() > 0 || uncommitted_.load() > 0)
      return false;
    return heap_.empty() || heap_.front().deadline_ms > NowMs();
  });
}

void ExpirationManager::CommitLoop() {
  for (;;) {
    std::vector<Outcome> done;
    uint64_t generation;
    {
      std::unique_lock lock(commit_mu_);
      commit_cv_.wait(lock, [&] { return !committing_ || !completed_.empty(); });
      // One synced write per batch: while revocations are still running, gather outcomes for up
      // to kCommitGatherMs (a small delay next to the 1 s expiry promise) instead of paying an
      // fsync for every few leases.
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCommitGatherMs);
      while (committing_ && completed_.size() < kCommitBatch && inflight_.load() > 0) {
        if (commit_cv_.wait_until(lock, until) == std::cv_status::timeout) break;
      }
      if (!committing_) return;
      done.swap(completed_);
      generation = commit_generation_;
    }
    // (Outcomes of an earlier generation never get here: the completion callback drops them.)

    std::vector<storage::Mutation> batch;
    std::vector<std::string> ok_ids;
    std::vector<bool> ok_force;   // per ok_ids: a revoke-force (deleted whatever the engine said)
    int64_t was_irrevocable = 0;  // force-revoked irrevocable leases among them
    std::vector<std::string> irrevocable_ids;
    for (auto& o : done) {
      if (!o.status.ok() && o.force) {
        spdlog::warn("expiration: force-revoking lease {} despite engine error: {}",
                     o.entry.lease_id, o.status.message());
      }
      if (o.status.ok() || o.force) {
        if (o.entry.irrevocable) {
          ++was_irrevocable;
          irrevocable_ids.push_back(o.entry.lease_id);
        }
        auto m = DeleteMutations(o.entry);
        for (auto& x : m) batch.push_back(std::move(x));
        ok_ids.push_back(o.entry.lease_id);
        ok_force.push_back(o.force);
      } else {
        // Stores the retry, re-arms, releases.
        SyncWait(HandleFailure(std::move(o.entry), o.status));
      }
    }
    if (!batch.empty()) {
      // In key order, RocksDB's memtable inserts reuse the previous insert's position (its
      // skiplist "splice") instead of searching from the top for each of the 3 keys per lease.
      std::sort(
          batch.begin(), batch.end(),
          [](const storage::Mutation& a, const storage::Mutation& b) { return a.key < b.key; });
      Status st = SyncWait(barrier_->Write(std::move(batch)));  // the committer's own thread
      if (!st.ok()) {
        spdlog::error("expiration: deleting {} revoked leases failed: {}", ok_ids.size(),
                      st.message());
        // Revoked in the engine but still stored: look again later (revocation is idempotent),
        // whatever the lease's deadline (a deferred revocation's is still ahead), and with force
        // where it was forced.
        {
          std::lock_guard lock(mu_);
          for (size_t i = 0; i < ok_ids.size(); ++i) forced_[ok_ids[i]] |= ok_force[i];
        }
        for (const auto& id : ok_ids) Arm(NowMs() + 5000, id);
      } else {
        revoked_ += static_cast<int64_t>(ok_ids.size());
        live_ -= static_cast<int64_t>(ok_ids.size());
        irrevocable_ -= was_irrevocable;
        for (const auto& id : ok_ids) --CountsOf(id)->leases;
        for (const auto& id : irrevocable_ids) --CountsOf(id)->irrevocable;
      }
    }
    std::lock_guard lock(mu_);
    if (generation != generation_) continue;
    for (const auto& id : ok_ids) busy_.erase(id);
    uncommitted_ -= static_cast<int64_t>(done.size());
    cv_.notify_all();
    settle_cv_.notify_all();
  }
}

Task<bool> ExpirationManager::HandleFailure(LeaseEntry entry, Status st) {
  bool throttled = IsThrottle(st);
  if (!throttled) ++entry.revoke_attempts;
  entry.revoke_error = st.message().substr(0, kMaxRevokeErrorLen);
  std::optional<LeaseEntry> old = entry;
  int64_t now = NowMs();
  if (entry.revoke_attempts >= config_.max_attempts) {
    entry.irrevocable = true;
    entry.revoke_error = ("out of retries: " + st.message()).substr(0, kMaxRevokeErrorLen);
    ++irrevocable_;
    ++CountsOf(entry.lease_id)->irrevocable;
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
  Status w = co_await barrier_->Write(PutMutations(entry, old));
  if (!w.ok()) spdlog::error("expiration: saving lease {} failed: {}", entry.lease_id, w.message());
  if (!entry.irrevocable) Arm(DeadlineOf(entry), entry.lease_id);
  // A revocation requested meanwhile is what the retry does: no extra attempt before its backoff.
  Release(entry.lease_id, /*apply_request=*/false);
  ++failed_attempts_;  // last: once it shows, the retry is stored and armed
  co_return w.ok();
}

Task<Result<std::optional<LeaseEntry>>> ExpirationManager::Load(std::string lease_id) {
  const std::string key = IdKey(lease_id);
  CO_ASSIGN_OR_RETURN(auto raw, co_await barrier_->Get(key));
  if (!raw) co_return std::optional<LeaseEntry>();
  auto e = LeaseEntry::Decode(*raw);
  if (!e.ok()) co_return Internal("corrupt lease entry " + lease_id);
  co_return std::optional<LeaseEntry>(std::move(*e));
}

std::vector<storage::Mutation> ExpirationManager::DeleteMutations(const LeaseEntry& e) const {
  std::vector<storage::Mutation> m;
  m.push_back({IdKey(e.lease_id), std::nullopt});
  m.push_back({DeadlineKey(DeadlineOf(e), e.lease_id), std::nullopt});
  if (e.irrevocable) m.push_back({IrrevocableKey(e.lease_id), std::nullopt});
  if (!e.token_accessor.empty())
    m.push_back({TokenKey(e.token_accessor, e.lease_id), std::nullopt});
  return m;
}

std::vector<storage::Mutation> ExpirationManager::PutMutations(
    const LeaseEntry& e, const std::optional<LeaseEntry>& old) const {
  std::vector<storage::Mutation> m;
  m.push_back({IdKey(e.lease_id), e.Encode()});
  std::string deadline = DeadlineKey(DeadlineOf(e), e.lease_id);
  if (old && !old->irrevocable) {
    std::string old_deadline = DeadlineKey(DeadlineOf(*old), old->lease_id);
    if (old_deadline != deadline || e.irrevocable) m.push_back({old_deadline, std::nullopt});
  }
  if (!e.irrevocable) m.push_back({deadline, std::string()});
  if (e.irrevocable && !(old && old->irrevocable))
    m.push_back({IrrevocableKey(e.lease_id), std::string()});
  if (!old && !e.token_accessor.empty())
    m.push_back({TokenKey(e.token_accessor, e.lease_id), std::string()});
  return m;
}

Task<Result<logical::RegisteredLease>> ExpirationManager::Register(
    std::string request_path, logical::MountInfo mount, const logical::SecretSpec& spec,
    std::string token_accessor, std::vector<std::string> wal_keys, bool hold) {
  int64_t now_ms = NowMs();
  CO_ASSIGN_OR_RETURN(TtlDecision d,
                      CalculateTtl(mount, 0, spec.ttl, spec.max_ttl, now_ms / 1000, now_ms / 1000));
  std::string base = request_path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  LeaseEntry e;
  // Time-ordered: leases issued together sit together in storage, and they mostly expire
  // together, so the loads at expiry read neighbouring blocks instead of one random block each.
  e.lease_id = base + "/" + NewTimeOrderedUuid(now_ms);
  e.path = base;
  e.token_accessor = token_accessor;
  e.internal_data = spec.internal_data;
  e.issue_time_ms = now_ms;
  e.expire_time_ms = now_ms + d.ttl * 1000;
  e.ttl = d.ttl;
  e.renewable = spec.renewable;
  auto batch = PutMutations(e, std::nullopt);
  for (const auto& k : wal_keys) batch.push_back({k, std::nullopt});
  // Held before it exists in storage: no revocation can find it unheld.
  if (hold && !TryClaim(e.lease_id, false))
    co_return Internal("lease id " + e.lease_id + " is taken");
  if (Status w = co_await barrier_->Write(std::move(batch)); !w.ok()) {
    if (hold) Release(e.lease_id, false);
    co_return w;
  }
  ++live_;
  ++CountsOf(e.lease_id)->leases;
  metrics::Registry::Get()
      .GetCounter("vault.secret.lease.creation",
                  {{"secret_engine", mount.type},
                   {"mount_point", mount.path},
                   {"creation_ttl", metrics::CreationTtlBucket(d.ttl)},
                   {"namespace", "root"}})
      ->Add();
  Arm(e.expire_time_ms, e.lease_id);
  // The token's revocation scans its leases after noting it as revoked (RevokeByToken): a lease
  // stored after that scan is found here, one stored before it by the scan.
  if (TokenRevoked(token_accessor)) {
    spdlog::info(
        "expiration: lease {} belongs to a token revoked while it was being issued; "
        "revoking it",
        e.lease_id);
    if (hold) co_await PersistRevokeRequest(e.lease_id, false);  // deferred until it ends
    RequestRevoke(e.lease_id);
  }
  logical::RegisteredLease r;
  r.lease_id = e.lease_id;
  r.lease_duration = d.ttl;
  r.expire_time_ms = e.expire_time_ms;
  r.warnings = std::move(d.warnings);
  co_return r;
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
  if (!TryClaim(lease_id, false)) co_return InvalidArgument("lease is being revoked");
  ClaimGuard guard{[this, lease_id] { Release(lease_id); }};
  auto loaded = co_await Load(lease_id);
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
  req.secret =
      logical::LeaseSecret{e.lease_id, e.internal_data, e.issue_time_ms / 1000, e.ttl, increment};
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
  if (Status st = co_await barrier_->Write(PutMutations(e, old)); !st.ok()) co_return st;
  Arm(e.expire_time_ms, e.lease_id);
  logical::Response out;
  out.secret = logical::SecretSpec{d->ttl, 0, e.renewable};
  out.lease_id = e.lease_id;
  out.lease_duration = d->ttl;
  out.warnings = resp->warnings;
  for (auto& w : d->warnings) out.warnings.push_back(w);
  co_return out;
}

Task<Status> ExpirationManager::EngineRevoke(const LeaseEntry& entry) {
  // vault.expire.revoke: each revocation through the engine (at expiry, on revoke, with a token).
  static metrics::Summary* timing = metrics::Registry::Get().GetSummary("vault.expire.revoke");
  metrics::Timer timer(timing);
  logical::Request req;
  req.operation = logical::Operation::kRevoke;
  req.path = entry.path;
  req.secret = logical::LeaseSecret{entry.lease_id, entry.internal_data, entry.issue_time_ms / 1000,
                                    entry.ttl, 0};
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
  if (Status w = co_await barrier_->Write(DeleteMutations(entry)); !w.ok()) co_return w;
  ++revoked_;
  --live_;
  PathCounts* c = CountsOf(entry.lease_id);
  --c->leases;
  if (entry.irrevocable) {
    --irrevocable_;
    --c->irrevocable;
  }
  co_return Status::Ok();
}

Task<Status> ExpirationManager::Revoke(std::string lease_id) {
  auto loaded = co_await Load(lease_id);
  if (!loaded.ok()) co_return loaded.status();
  if (!loaded->has_value()) co_return InvalidArgument("invalid request");
  // Being revoked already, or revoked once its renewal or issue ends.
  if (!co_await ClaimToRevoke(lease_id)) co_return Status::Ok();
  ClaimGuard guard{[this, lease_id] { Release(lease_id); }};
  co_return co_await RevokeEntry(std::move(**loaded), false);
}

Task<Status> ExpirationManager::Rebase(std::string lease_id) {
  CO_ASSIGN_OR_RETURN(auto loaded, co_await Load(lease_id));
  if (!loaded) co_return NotFound("lease " + lease_id + " is gone");
  LeaseEntry e = std::move(*loaded);
  std::optional<LeaseEntry> old = e;
  const int64_t delta = NowMs() - e.issue_time_ms;
  if (delta > 0) {
    e.issue_time_ms += delta;
    e.expire_time_ms += delta;
    CO_RETURN_IF_ERROR(co_await barrier_->Write(PutMutations(e, old)));
    Arm(e.expire_time_ms, e.lease_id);  // the old deadline's timer finds a later one and skips
  }
  co_return Status::Ok();
}

Task<Status> ExpirationManager::RevokeHeld(std::string lease_id) {
  auto loaded = co_await Load(lease_id);
  if (!loaded.ok() || !loaded->has_value()) {
    Release(lease_id);
    co_return loaded.ok() ? Status::Ok() : loaded.status();
  }
  LeaseEntry entry = std::move(**loaded);
  Status st = co_await EngineRevoke(entry);
  if (!st.ok()) {
    // Its secret was never handed out: the lease ends now, so the retries come with backoff from
    // now rather than after its TTL.
    entry.expire_time_ms = std::min(entry.expire_time_ms, NowMs());
    co_await HandleFailure(std::move(entry), st);  // stores the retry, re-arms and releases
    co_return st;
  }
  // If this write fails the lease stays stored and armed: its timer revokes it again, which
  // engines treat as done when nothing is left.
  Status w = co_await barrier_->Write(DeleteMutations(entry));
  if (w.ok()) {
    ++revoked_;
    --live_;
    --CountsOf(lease_id)->leases;
  }
  Release(lease_id, /*apply_request=*/!w.ok());
  co_return w;
}

Task<Status> ExpirationManager::RevokeIds(std::vector<std::string> ids, bool force) {
  std::vector<std::function<Task<Status>()>> jobs;
  jobs.reserve(ids.size());
  for (const auto& id : ids) {
    jobs.push_back([this, id, force]() -> Task<Status> {
      auto loaded = co_await Load(id);
      if (!loaded.ok()) co_return loaded.status();
      if (!loaded->has_value()) co_return Status::Ok();
      if (!co_await ClaimToRevoke(id, force)) co_return Status::Ok();  // as in Revoke
      ClaimGuard guard{[this, id] { Release(id); }};
      co_return co_await RevokeEntry(std::move(**loaded), force);
    });
  }
  std::vector<Status> results = co_await RunBounded(std::move(jobs), config_.max_inflight);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      co_return Status(results[i].code(),
                       "failed to revoke \"" + ids[i] + "\" (" + std::to_string(i + 1) + " / " +
                           std::to_string(ids.size()) + "): " + results[i].message());
    }
  }
  co_return Status::Ok();
}

Task<Status> ExpirationManager::RevokePrefix(std::string prefix, bool force) {
  std::vector<std::string> ids;
  if (!prefix.empty() && prefix.back() != '/') {
    auto exact = co_await Load(prefix);
    if (!exact.ok()) co_return exact.status();
    if (exact->has_value()) ids.push_back(prefix);
  }
  if (ids.empty()) {
    std::string p = prefix;
    if (!p.empty() && p.back() != '/') p += '/';
    std::string scan = IdKey(p);
    Status st = co_await barrier_->ScanKeys(scan, [&](std::string_view key) {
      ids.emplace_back(key.substr(kIdPrefix.size()));
      return true;
    });
    if (!st.ok()) co_return st;
  }
  Status st = co_await RevokeIds(std::move(ids), force);
  co_return st;
}

Task<Result<int64_t>> ExpirationManager::CountUnder(std::string prefix, int64_t limit) {
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') p += '/';
  int64_t n = 0;
  const std::string scan = IdKey(p);
  CO_RETURN_IF_ERROR(
      co_await barrier_->ScanKeys(scan, [&](std::string_view) { return ++n < limit; }));
  co_return n;
}

Task<Status> ExpirationManager::RevokeMountLeases(std::string prefix,
                                                  std::chrono::steady_clock::time_point deadline) {
  // Left after each pass: leases a request on the mount is still issuing (revoked as it ends),
  // being renewed, or being revoked by their timer right now.
  int64_t left = 0;
  Result<bool> done = co_await PollUntil(&delay_, deadline, [&]() -> Task<Result<bool>> {
    if (Status st = co_await RevokePrefix(prefix, false); !st.ok()) co_return st;
    auto n = co_await CountUnder(prefix, 1000);
    if (!n.ok()) co_return n.status();
    left = *n;
    co_return left == 0;
  });
  if (!done.ok()) co_return done.status();
  if (*done) co_return Status::Ok();
  co_return Internal(std::to_string(left) + (left >= 1000 ? "+" : "") + " lease(s) under " +
                     prefix +
                     " are still being issued, renewed or revoked; the mount stays as it is, "
                     "try again");
}

Task<Status> ExpirationManager::RevokeByToken(std::string token_accessor) {
  if (token_accessor.empty()) co_return Status::Ok();
  {
    // Noted before the scan: a request of this token still issuing a secret registers its lease
    // either before the scan (found below) or after this (Register sees the note).
    std::lock_guard lock(mu_);
    int64_t now = NowMs();
    while (!revoked_tokens_order_.empty() &&
           revoked_tokens_order_.front().first < now - kRevokedTokenMemoryMs) {
      auto it = revoked_tokens_.find(revoked_tokens_order_.front().second);
      if (it != revoked_tokens_.end() && it->second == revoked_tokens_order_.front().first) {
        revoked_tokens_.erase(it);
      }
      revoked_tokens_order_.pop_front();
    }
    revoked_tokens_[token_accessor] = now;
    revoked_tokens_order_.emplace_back(now, token_accessor);
  }
  std::vector<std::string> ids;
  std::string prefix = std::string(kTokenPrefix) + token_accessor + "/";
  Status st = co_await barrier_->ScanKeys(prefix, [&](std::string_view key) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!st.ok()) co_return st;
  Status revoked = co_await RevokeIds(std::move(ids), false);
  co_return revoked;
}

Task<Result<Json>> ExpirationManager::Lookup(std::string lease_id) {
  CO_ASSIGN_OR_RETURN(auto loaded, co_await Load(lease_id));
  if (!loaded) co_return InvalidArgument("invalid lease");
  const LeaseEntry& e = *loaded;
  int64_t now = NowMs();
  int64_t ttl = std::max<int64_t>(0, (e.expire_time_ms - now + 500) / 1000);
  Json j = {{"id", e.lease_id},
            {"issue_time", FormatRfc3339Nano(e.issue_time_ms * 1000000)},
            {"expire_time", FormatRfc3339Nano(e.expire_time_ms * 1000000)},
            {"last_renewal",
             e.last_renewal_ms ? Json(FormatRfc3339Nano(e.last_renewal_ms * 1000000)) : Json()},
            {"renewable", e.renewable && !e.irrevocable},
            {"ttl", ttl}};
  if (e.revoke_attempts > 0 || !e.revoke_error.empty() || e.irrevocable) {
    j["revoke_error"] = e.revoke_error;
    j["revoke_attempts"] = e.revoke_attempts;
    j["irrevocable"] = e.irrevocable;
  }
  co_return j;
}

Task<Result<std::vector<std::string>>> ExpirationManager::List(std::string prefix) {
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') p += '/';
  const std::string key = IdKey(p);
  Result<std::vector<std::string>> r = co_await barrier_->List(key);
  co_return r;
}

Task<Result<Json>> ExpirationManager::Tidy() {
  // Index entries (index key, lease id) gathered first, then each lease looked up.
  std::vector<std::pair<std::string, std::string>> entries;
  CO_RETURN_IF_ERROR(co_await barrier_->ScanKeys(kDeadlinePrefix, [&](std::string_view key) {
    std::string_view rest = key.substr(kDeadlinePrefix.size());
    if (rest.size() > kDeadlineDigits + 1)
      entries.emplace_back(key, rest.substr(kDeadlineDigits + 1));
    return true;
  }));
  CO_RETURN_IF_ERROR(co_await barrier_->ScanKeys(kTokenPrefix, [&](std::string_view key) {
    std::string_view rest = key.substr(kTokenPrefix.size());
    auto slash = rest.find('/');
    if (slash != std::string_view::npos) entries.emplace_back(key, rest.substr(slash + 1));
    return true;
  }));
  std::vector<storage::Mutation> dangling;
  for (const auto& [key, id] : entries) {
    const std::string id_key = IdKey(id);
    auto raw = co_await barrier_->Get(id_key);
    if (raw.ok() && !raw->has_value()) dangling.push_back({key, std::nullopt});
  }
  const int64_t checked = static_cast<int64_t>(entries.size());
  const int64_t removed = static_cast<int64_t>(dangling.size());
  if (!dangling.empty()) CO_RETURN_IF_ERROR(co_await barrier_->Write(std::move(dangling)));
  co_return Json{{"checked", checked}, {"removed", removed}};
}

ExpirationManager::Stats ExpirationManager::GetStats() const {
  Stats s;
  {
    std::lock_guard lock(mu_);
    s.pending = static_cast<int64_t>(heap_.size());
  }
  s.leases = live_.load();
  s.inflight = inflight_.load();
  s.revoked = revoked_.load();
  s.failed_attempts = failed_attempts_.load();
  s.irrevocable = irrevocable_.load();
  return s;
}

Task<Result<std::pair<std::vector<LeaseEntry>, int64_t>>> ExpirationManager::ListIrrevocable(
    int64_t limit) {
  std::vector<std::string> ids;
  CO_RETURN_IF_ERROR(co_await barrier_->ScanKeys(kIrrevocablePrefix, [&](std::string_view key) {
    ids.emplace_back(key.substr(kIrrevocablePrefix.size()));
    return true;
  }));
  std::vector<LeaseEntry> leases;
  leases.reserve(ids.size());
  for (const auto& id : ids) {
    auto loaded = co_await Load(id);
    if (!loaded.ok()) co_return loaded.status();
    // Revoked (with force) since the scan: gone.
    if (loaded->has_value() && (*loaded)->irrevocable) leases.push_back(std::move(**loaded));
  }
  std::sort(leases.begin(), leases.end(), [](const LeaseEntry& a, const LeaseEntry& b) {
    return a.expire_time_ms != b.expire_time_ms ? a.expire_time_ms < b.expire_time_ms
                                                : a.lease_id < b.lease_id;
  });
  auto total = static_cast<int64_t>(leases.size());
  if (limit > 0 && total > limit) leases.resize(static_cast<size_t>(limit));
  co_return std::make_pair(std::move(leases), total);
}

}  // namespace vault::core
