#include "core/token_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <mutex>

#include "crypto/hash.h"
#include "util/encoding.h"
#include "util/json_reader.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/random.h"
#include "util/run_bounded.h"

namespace vault::core {
namespace {
constexpr char kSaltPath[] = "sys/token/salt";
constexpr char kIdPrefix[] = "sys/token/id/";
constexpr int64_t kExpiryRetrySeconds = 10;
// Expired tokens revoked at the same time (RevokeExpired), each a coroutine, not a thread.
constexpr size_t kExpiryConcurrency = 64;
constexpr char kAccessorPrefix[] = "sys/token/accessor/";
constexpr char kParentPrefix[] = "sys/token/parent/";
}  // namespace

bool TokenEntry::IsRoot() const {
  return std::find(policies.begin(), policies.end(), "root") != policies.end();
}

Json TokenEntry::ToJson() const {
  Json j = {{"id_hash", id_hash},
            {"accessor", accessor},
            {"parent", parent_hash},
            {"policies", policies},
            {"display_name", display_name},
            {"path", path},
            {"meta", meta},
            {"num_uses", num_uses},
            {"creation_time", creation_time},
            {"ttl", ttl},
            {"expire_time", expire_time},
            {"last_renewal_time", last_renewal_time},
            {"explicit_max_ttl", explicit_max_ttl},
            {"period", period},
            {"renewable", renewable}};
  if (!bound_cidrs.empty()) j["bound_cidrs"] = bound_cidrs;
  if (!login.is_null()) j["login"] = login;
  if (!mount_accessor.empty()) j["mount_accessor"] = mount_accessor;
  if (!role.empty()) j["role"] = role;
  return j;
}

Result<TokenEntry> TokenEntry::FromJson(const Json& j) {
  JsonReader r(j);
  TokenEntry e;
  e.id_hash = r.String("id_hash");
  e.accessor = r.String("accessor");
  e.parent_hash = r.String("parent");
  e.policies = r.Strings("policies");
  e.display_name = r.String("display_name");
  e.path = r.String("path");
  e.meta = r.Value("meta", Json::object());
  if (!e.meta.is_object()) e.meta = Json::object();
  e.num_uses = r.Int("num_uses");
  e.creation_time = r.Int("creation_time");
  e.ttl = r.Int("ttl");
  // Entries written before expire_time existed expire at creation + ttl.
  if (r.Has("expire_time")) {
    e.expire_time = r.Int("expire_time");
  } else if (e.ttl > 0 && __builtin_add_overflow(e.creation_time, e.ttl, &e.expire_time)) {
    return Internal("corrupt token entry");
  }
  e.last_renewal_time = r.Int("last_renewal_time");
  e.explicit_max_ttl = r.Int("explicit_max_ttl");
  e.period = r.Int("period");
  e.renewable = r.Bool("renewable");
  e.bound_cidrs = r.Strings("bound_cidrs");
  e.login = r.Value("login");
  e.mount_accessor = r.String("mount_accessor");
  e.role = r.String("role");
  if (!r.ok()) return Internal("corrupt token entry");
  return e;
}

Task<Status> TokenStore::Setup() {
  CO_ASSIGN_OR_RETURN(auto salt, co_await storage_->Get(kSaltPath));
  std::string value;
  if (salt) {
    value = std::move(*salt);
  } else {
    value = RandomBytes(32);
    CO_RETURN_IF_ERROR(co_await storage_->Put(kSaltPath, value));
  }
  {
    std::unique_lock lock(mu_);
    salt_ = std::move(value);
    hmac_ = std::make_unique<crypto::HmacSha256Key>(salt_);
    cache_.clear();
  }
  // Every token that can expire is queued for RevokeExpired().
  {
    std::lock_guard elock(expiry_mu_);
    expiry_.clear();
  }
  CO_ASSIGN_OR_RETURN(auto ids, co_await storage_->List(kIdPrefix));
  for (const auto& h : ids) {
    CO_ASSIGN_OR_RETURN(TokenRef e, co_await Load(h));
    if (!e) continue;
    // Pending: a revocation that failed part-way before the restart, finished now.
    if (e->num_uses == -1)
      RevokeSoon(h);
    else
      QueueExpiry(*e);
  }
  co_return Status::Ok();
}

Task<Result<int64_t>> TokenStore::Count() {
  CO_ASSIGN_OR_RETURN(auto ids, co_await storage_->List(kIdPrefix));
  co_return static_cast<int64_t>(ids.size());
}

void TokenStore::Teardown() {
  std::unique_lock lock(mu_);
  if (!salt_.empty()) OPENSSL_cleanse(salt_.data(), salt_.size());
  salt_.clear();
  hmac_.reset();
  cache_.clear();
  lock.unlock();
  std::lock_guard elock(expiry_mu_);
  expiry_.clear();
}

void TokenStore::SetRevokeHook(RevokeHook hook) { revoke_hook_ = std::move(hook); }

std::string TokenStore::HashLocked(const std::string& value) const {
  return HexEncode(hmac_->Mac(value));
}

Result<std::string> TokenStore::HashOf(const std::string& token) const {
  std::shared_lock lock(mu_);
  if (salt_.empty()) return Unavailable("Vault is sealed");
  return HashLocked(token);
}

Task<Status> TokenStore::Persist(const TokenEntry& e) {
  std::string key = kIdPrefix + e.id_hash;
  CO_RETURN_IF_ERROR(co_await logical::PutJson(storage_, key, e.ToJson()));
  QueueExpiry(e);
  co_return Status::Ok();
}

void TokenStore::QueueExpiry(const TokenEntry& e) {
  // A revocation-pending entry is being revoked by whoever marked it (a failure there is retried
  // by RevokeExpired's own queueing, or by Tidy).
  if (e.expire_time <= 0 || e.num_uses == -1) return;
  std::lock_guard lock(expiry_mu_);
  expiry_.emplace(e.expire_time, e.id_hash);
}

void TokenStore::RevokeSoon(const std::string& id_hash) {
  std::lock_guard lock(expiry_mu_);
  expiry_.emplace(clock_->NowSeconds(), id_hash);
}

Task<Status> TokenStore::RevokeExpired() {
  const int64_t now = clock_->NowSeconds();
  std::vector<std::string> due;
  {
    std::lock_guard lock(expiry_mu_);
    while (!expiry_.empty() && expiry_.begin()->first <= now) {
      due.push_back(expiry_.begin()->second);
      expiry_.erase(expiry_.begin());
    }
  }
  // Each revocation waits for the token's leases to be revoked (AWS calls: a second or so for an
  // IAM user). Tokens due together (many jobs' tokens, or all that expired while the server was
  // down) are therefore revoked up to kExpiryConcurrency at a time, as coroutines: a revocation
  // waiting on AWS holds no thread. Revoke is safe to run concurrently, also for a parent
  // and its child.
  std::vector<std::function<Task<Status>()>> jobs;
  jobs.reserve(due.size());
  for (const auto& h : due) {
    jobs.push_back([this, h, now]() -> Task<Status> {
      auto e = co_await Load(h);
      // Expired, or revocation-pending (a revocation that failed): revoke. Gone (revoked
      // meanwhile, e.g. with its parent) or renewed (its new deadline is queued): nothing to do.
      Status st = e.status();
      if (e.ok() && *e && ((*e)->Expired(now) || (*e)->num_uses == -1)) {
        st = co_await RevokeTree(h);
      }
      if (!st.ok()) {
        // Sealed meanwhile (the queue is rebuilt at unseal) or the hook failed: try again later.
        spdlog::warn("token: revoking an expired or used-up token failed, retrying in {} s: {}",
                     kExpiryRetrySeconds, st.message());
        std::lock_guard lock(expiry_mu_);
        expiry_.emplace(now + kExpiryRetrySeconds, h);
      }
      co_return st;
    });
  }
  std::vector<Status> results =
      co_await RunBounded(std::move(jobs), static_cast<int>(kExpiryConcurrency));
  for (auto& st : results) {
    if (!st.ok()) co_return st;
  }
  co_return Status::Ok();
}

void TokenStore::CacheErase(const std::string& id_hash) {
  std::unique_lock lock(mu_);
  cache_.erase(id_hash);
}

std::optional<Result<TokenRef>> TokenStore::Cached(const std::string& id_hash) const {
  std::shared_lock lock(mu_);
  if (salt_.empty()) return Result<TokenRef>(Unavailable("Vault is sealed"));
  auto it = cache_.find(id_hash);
  if (it != cache_.end()) return Result<TokenRef>(it->second);
  return std::nullopt;
}

Task<Result<TokenRef>> TokenStore::Load(std::string id_hash) {
  if (auto cached = Cached(id_hash)) co_return std::move(*cached);
  std::string key = kIdPrefix + id_hash;
  CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(storage_, key));
  if (!j) co_return TokenRef();
  CO_ASSIGN_OR_RETURN(TokenEntry e, TokenEntry::FromJson(*j));
  e.id_hash = id_hash;
  auto ref = std::make_shared<const TokenEntry>(std::move(e));
  std::unique_lock lock(mu_);
  auto [it, inserted] = cache_.emplace(id_hash, ref);
  co_return it->second;
}

Task<Result<std::string>> TokenStore::CreateRoot(std::optional<std::string> id) {
  TokenCreateParams p;
  p.id = std::move(id);
  p.policies = {"root"};
  p.display_name = "root";
  p.path = "auth/token/root";
  p.ttl = 0;
  p.renewable = false;
  Result<std::string> token = co_await Create(p);
  co_return token;
}

Task<Result<std::string>> TokenStore::Create(const TokenCreateParams& params, TokenEntry* out) {
  // The write lock orders a child's creation with its parent's revocation, and a chosen id's
  // duplicate check with other creations. A new orphan with a random id needs neither, so
  // logins store their tokens concurrently (and share the storage's group commit).
  AsyncMutex::Guard wlock;
  if (params.id || !params.parent_hash.empty()) {
    AsyncMutex::Guard g = co_await write_mu_.Lock();
    wlock = std::move(g);
  }
  std::string token = params.id ? *params.id : "hvs." + RandomAlnum(24);
  if (token.empty()) co_return InvalidArgument("token id must not be empty");
  if (token.size() > 1024) co_return InvalidArgument("token id too long");
  std::string hash, accessor_hash;
  TokenEntry e;
  e.accessor = RandomAlnum(24);
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) co_return Unavailable("Vault is sealed");
    hash = HashLocked(token);
    accessor_hash = HashLocked(e.accessor);
  }
  if (params.id) {
    CO_ASSIGN_OR_RETURN(auto existing, co_await Load(hash));
    if (existing) co_return InvalidArgument("cannot create a token with a duplicate ID");
  }
  if (!params.parent_hash.empty()) {
    CO_ASSIGN_OR_RETURN(auto parent, co_await Load(params.parent_hash));
    if (!parent || parent->num_uses == -1)
      co_return PermissionDenied("parent token is no longer valid");
  }
  int64_t now = clock_->NowSeconds();
  e.id_hash = hash;
  e.parent_hash = params.parent_hash;
  e.policies = params.policies;
  e.display_name = params.display_name;
  e.path = params.path;
  e.meta = params.meta.is_object() ? params.meta : Json::object();
  e.num_uses = params.num_uses;
  e.creation_time = now;
  e.ttl = params.ttl;
  e.expire_time = params.ttl > 0 ? now + params.ttl : 0;
  e.explicit_max_ttl = params.explicit_max_ttl;
  e.period = params.period;
  e.renewable = params.renewable && params.ttl > 0;
  e.bound_cidrs = params.bound_cidrs;
  e.login = params.login;
  e.mount_accessor = params.mount_accessor;
  e.role = params.role;
  // Indexes first: a crash in between leaves only dangling index entries (removed by Tidy),
  // never a live token that revocation of its parent would miss.
  const std::string accessor_key = kAccessorPrefix + accessor_hash;
  Json accessor_entry = {{"accessor", e.accessor}, {"id_hash", hash}};
  CO_RETURN_IF_ERROR(co_await logical::PutJson(storage_, accessor_key, accessor_entry));
  if (!e.parent_hash.empty()) {
    const std::string parent_key = kParentPrefix + e.parent_hash + "/" + hash;
    CO_RETURN_IF_ERROR(co_await storage_->Put(parent_key, ""));
  }
  CO_RETURN_IF_ERROR(co_await Persist(e));
  metrics::Registry::Get()
      .GetCounter("vault.token.creation",
                  {{"auth_method", params.auth_method.empty() ? "token" : params.auth_method},
                   {"mount_point", params.mount_point.empty() ? "auth/token/" : params.mount_point},
                   {"creation_ttl", metrics::CreationTtlBucket(e.ttl)},
                   {"token_type", "service"},
                   {"namespace", "root"}})
      ->Add();
  if (out) *out = e;
  auto ref = std::make_shared<const TokenEntry>(std::move(e));
  std::unique_lock lock(mu_);
  cache_[hash] = std::move(ref);
  co_return token;
}

std::optional<Result<TokenRef>> TokenStore::LookupCached(const std::string& token) {
  if (token.empty() || token.size() > 1024) return Result<TokenRef>(TokenRef());
  std::string hash;
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) return Result<TokenRef>(Unavailable("Vault is sealed"));
    hash = HashLocked(token);
    auto it = cache_.find(hash);
    if (it == cache_.end()) return std::nullopt;
  }
  std::optional<Result<TokenRef>> cached = Cached(hash);
  if (!cached) return std::nullopt;  // evicted meanwhile
  if (!cached->ok()) return cached;
  return Live(std::move(**cached), hash);
}

Task<Result<TokenRef>> TokenStore::Lookup(std::string token) {
  if (token.empty() || token.size() > 1024) co_return TokenRef();
  std::string hash;
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) co_return Unavailable("Vault is sealed");
    hash = HashLocked(token);
  }
  Result<TokenRef> r = co_await LookupByHash(std::move(hash));
  co_return r;
}

Result<TokenRef> TokenStore::Live(TokenRef e, const std::string& id_hash) {
  // The map is keyed by the keyed hash, so its timing reveals nothing about valid ids; the
  // final comparison is constant-time as well.
  if (!e || !crypto::ConstantTimeEquals(e->id_hash, id_hash)) return TokenRef();
  if (e->num_uses == -1) return TokenRef();
  if (e->Expired(clock_->NowSeconds())) {
    // Refused at once; revoked (with its leases: AWS calls) by RevokeExpired's next pass, not on
    // this request's thread.
    RevokeSoon(id_hash);
    return TokenRef();
  }
  return e;
}

Task<Result<TokenRef>> TokenStore::LookupByHash(std::string id_hash) {
  CO_ASSIGN_OR_RETURN(TokenRef e, co_await Load(id_hash));
  co_return Live(std::move(e), id_hash);
}

Task<Result<TokenRef>> TokenStore::LookupAccessor(std::string accessor) {
  if (accessor.empty() || accessor.size() > 1024) co_return TokenRef();
  std::string key;
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) co_return Unavailable("Vault is sealed");
    key = kAccessorPrefix + HashLocked(accessor);
  }
  CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(storage_, key));
  if (!j) co_return TokenRef();
  Result<TokenRef> r = co_await LookupByHash(j->value("id_hash", ""));
  co_return r;
}

Task<Result<bool>> TokenStore::Use(std::string id_hash) {
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(id_hash);
    if (it != cache_.end() && it->second->num_uses == 0) co_return false;  // unlimited: no write
  }
  AsyncMutex::Guard wlock = co_await write_mu_.Lock();
  CO_ASSIGN_OR_RETURN(TokenRef e, co_await Load(id_hash));
  if (!e || e->num_uses == -1) co_return PermissionDenied();
  if (e->num_uses == 0) co_return false;
  TokenEntry next = *e;
  bool last = --next.num_uses == 0;
  if (last) next.num_uses = -1;  // revocation pending: unusable from now on
  CO_RETURN_IF_ERROR(co_await Persist(next));
  std::unique_lock lock(mu_);
  cache_[id_hash] = std::make_shared<const TokenEntry>(std::move(next));
  co_return last;
}

Task<Result<TokenRef>> TokenStore::MarkPending(std::string id_hash) {
  CO_ASSIGN_OR_RETURN(TokenRef e, co_await Load(id_hash));
  if (e && e->num_uses != -1) {
    TokenEntry pending = *e;
    pending.num_uses = -1;
    CO_RETURN_IF_ERROR(co_await Persist(pending));
    std::unique_lock lock(mu_);
    cache_[id_hash] = std::make_shared<const TokenEntry>(pending);
  }
  co_return e;
}

Task<Status> TokenStore::Remove(std::string id_hash, bool orphan_children) {
  CO_ASSIGN_OR_RETURN(TokenRef e, co_await Load(id_hash));
  if (e) {
    std::string accessor_key;
    {
      std::shared_lock lock(mu_);
      if (salt_.empty()) co_return Unavailable("Vault is sealed");
      accessor_key = kAccessorPrefix + HashLocked(e->accessor);
    }
    CO_RETURN_IF_ERROR(co_await storage_->Delete(accessor_key));
    if (!e->parent_hash.empty()) {
      const std::string parent_key = kParentPrefix + e->parent_hash + "/" + id_hash;
      CO_RETURN_IF_ERROR(co_await storage_->Delete(parent_key));
    }
  }
  if (orphan_children) {
    std::string dir = kParentPrefix + id_hash + "/";
    CO_ASSIGN_OR_RETURN(auto children, co_await storage_->List(dir));
    for (const auto& child : children) {
      CO_ASSIGN_OR_RETURN(TokenRef c, co_await Load(child));
      if (c) {
        TokenEntry orphan = *c;
        orphan.parent_hash.clear();
        CO_RETURN_IF_ERROR(co_await Persist(orphan));
        std::unique_lock lock(mu_);
        cache_[child] = std::make_shared<const TokenEntry>(std::move(orphan));
      }
      const std::string child_key = dir + child;
      CO_RETURN_IF_ERROR(co_await storage_->Delete(child_key));
    }
  }
  const std::string id_key = kIdPrefix + id_hash;
  CO_RETURN_IF_ERROR(co_await storage_->Delete(id_key));
  CacheErase(id_hash);
  co_return Status::Ok();
}

// Three steps, so that the hook (core's: revoke the token's leases, i.e. AWS calls that can take
// seconds) runs without write_mu_: (1) under the lock, the set is gathered (the token, and with
// `tree` its descendants, children first) and every token of it marked revocation-pending, i.e.
// unusable from then on, so none can get new children; (2) without the lock, the hook runs for
// each; (3) under the lock again, the entries are deleted. Token creation, uses and other
// revocations go on meanwhile. A hook failure stops at step 2: the rest stay pending (unusable)
// and Tidy() finishes them later.
Task<Status> TokenStore::Revoke(std::string id_hash, bool tree) {
  std::vector<std::string> order;
  std::vector<TokenRef> entries;  // as they were before the mark; null if unknown
  {
    AsyncMutex::Guard wlock = co_await write_mu_.Lock();
    if (tree) {
      // Post-order walk without recursion: children are revoked before their parent.
      std::vector<std::pair<std::string, bool>> stack = {{id_hash, false}};
      while (!stack.empty()) {
        auto [h, expanded] = stack.back();
        stack.pop_back();
        if (expanded) {
          order.push_back(h);
          continue;
        }
        stack.emplace_back(h, true);
        const std::string dir = kParentPrefix + h + "/";
        CO_ASSIGN_OR_RETURN(auto children, co_await storage_->List(dir));
        for (auto& c : children) {
          if (!c.empty() && c.back() != '/') stack.emplace_back(std::move(c), false);
        }
      }
    } else {
      order.push_back(id_hash);
    }
    for (const auto& h : order) {
      CO_ASSIGN_OR_RETURN(TokenRef e, co_await MarkPending(h));
      entries.push_back(std::move(e));
    }
  }
  if (revoke_hook_) {
    for (const auto& e : entries) {
      if (e) CO_RETURN_IF_ERROR(co_await revoke_hook_(*e));
    }
  }
  AsyncMutex::Guard wlock = co_await write_mu_.Lock();
  for (const auto& h : order) CO_RETURN_IF_ERROR(co_await Remove(h, !tree));
  co_return Status::Ok();
}

Task<Status> TokenStore::RevokeTree(std::string id_hash) {
  return Revoke(std::move(id_hash), true);
}

Task<Status> TokenStore::RevokeOrphan(std::string id_hash) {
  return Revoke(std::move(id_hash), false);
}

Task<Result<TokenRef>> TokenStore::Renew(std::string id_hash, int64_t increment, int64_t max_ttl) {
  AsyncMutex::Guard wlock = co_await write_mu_.Lock();
  CO_ASSIGN_OR_RETURN(TokenRef e, co_await Load(id_hash));
  int64_t now = clock_->NowSeconds();
  if (!e || e->num_uses == -1 || e->Expired(now)) co_return PermissionDenied("bad token");
  if (e->expire_time == 0 || !e->renewable) co_return InvalidArgument("lease is not renewable");
  int64_t ttl = increment > 0 ? increment : (e->period > 0 ? e->period : e->ttl);
  int64_t limit = -1;  // seconds left before a hard maximum
  if (e->explicit_max_ttl > 0) limit = e->creation_time + e->explicit_max_ttl - now;
  if (max_ttl > 0 && e->period == 0) {
    int64_t m = e->creation_time + max_ttl - now;
    limit = limit < 0 ? m : std::min(limit, m);
  }
  if (limit >= 0) ttl = std::min(ttl, limit);
  if (ttl <= 0) co_return InvalidArgument("past the max TTL, cannot renew");
  TokenEntry next = *e;
  next.expire_time = now + ttl;
  next.last_renewal_time = now;
  CO_RETURN_IF_ERROR(co_await Persist(next));
  auto ref = std::make_shared<const TokenEntry>(std::move(next));
  std::unique_lock lock(mu_);
  cache_[id_hash] = ref;
  co_return TokenRef(ref);
}

Task<Result<std::vector<std::string>>> TokenStore::ListAccessors() {
  CO_ASSIGN_OR_RETURN(auto keys, co_await storage_->List(kAccessorPrefix));
  std::vector<std::string> out;
  for (const auto& k : keys) {
    const std::string key = kAccessorPrefix + k;
    CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(storage_, key));
    if (j) out.push_back(j->value("accessor", ""));
  }
  std::sort(out.begin(), out.end());
  co_return out;
}

Task<Result<int64_t>> TokenStore::RevokeByPathPrefix(std::string prefix) {
  CO_ASSIGN_OR_RETURN(auto ids, co_await storage_->List(kIdPrefix));
  int64_t revoked = 0;
  for (const auto& h : ids) {
    const std::string key = kIdPrefix + h;
    CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(storage_, key));
    if (!j) continue;
    CO_ASSIGN_OR_RETURN(TokenEntry e, TokenEntry::FromJson(*j));
    if (e.path.compare(0, prefix.size(), prefix) != 0) continue;
    CO_RETURN_IF_ERROR(co_await RevokeTree(e.id_hash));
    ++revoked;
  }
  co_return revoked;
}

Task<Status> TokenStore::Tidy() {
  int64_t now = clock_->NowSeconds();
  CO_ASSIGN_OR_RETURN(auto ids, co_await storage_->List(kIdPrefix));
  for (const auto& h : ids) {
    const std::string key = kIdPrefix + h;
    CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(storage_, key));
    if (!j) continue;
    CO_ASSIGN_OR_RETURN(TokenEntry e, TokenEntry::FromJson(*j));
    // Expired tokens, and revocations that failed part-way (pending), are revoked again.
    if (e.Expired(now) || e.num_uses == -1) CO_RETURN_IF_ERROR(co_await RevokeTree(h));
  }
  // Child index entries whose child no longer exists.
  AsyncMutex::Guard wlock = co_await write_mu_.Lock();
  CO_ASSIGN_OR_RETURN(auto parents, co_await storage_->List(kParentPrefix));
  for (const auto& p : parents) {
    std::string dir = kParentPrefix + p;  // p ends in '/'
    CO_ASSIGN_OR_RETURN(auto children, co_await storage_->List(dir));
    for (const auto& c : children) {
      const std::string child_key = kIdPrefix + c, index_key = dir + c;
      CO_ASSIGN_OR_RETURN(auto child, co_await storage_->Get(child_key));
      if (!child) CO_RETURN_IF_ERROR(co_await storage_->Delete(index_key));
    }
  }
  co_return Status::Ok();
}

}  // namespace vault::core
