// The token store. Token ids are random ("hvs." + 24 alphanumerics) and stored only as a keyed
// hash (HMAC-SHA256 with a per-store salt kept under the barrier), so a copy of storage yields
// no usable token. Tokens form a tree: revoking one revokes its children first.
//
// Storage (through the barrier):
//   sys/token/salt                          the HMAC key (32 random bytes, created once)
//   sys/token/id/<id_hash>                  TokenEntry JSON
//   sys/token/accessor/<HMAC(accessor)>     {"accessor", "id_hash"}
//   sys/token/parent/<parent_hash>/<child_hash>   child index (empty value)
//
// `id_hash` (hex HMAC-SHA256 of the token id) is the stable identifier of a token for other
// parts of core (the lease index keys leases by it); it survives restarts (the salt is stored).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/hash.h"
#include "logical/logical.h"
#include "util/async_mutex.h"
#include "util/clock.h"
#include "util/lock_annotations.h"
#include "util/task.h"

namespace vault::core {

struct TokenEntry {
  std::string id_hash;      // hex HMAC of the id: the storage key; stable; not a credential
  std::string accessor;     // a second handle on the token (lookup/revoke without the id)
  std::string parent_hash;  // "" for orphans (root tokens, create-orphan, no_parent)
  std::vector<std::string> policies;
  std::string display_name;
  std::string path;  // the creation path, e.g. "auth/token/create"
  Json meta = Json::object();
  int64_t num_uses = 0;       // remaining uses; 0 = unlimited; -1 = revocation pending
  int64_t creation_time = 0;  // unix seconds
  int64_t ttl = 0;            // the TTL at creation (seconds); 0 = never expires
  int64_t expire_time = 0;    // unix seconds; 0 = never expires
  int64_t last_renewal_time = 0;
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  bool renewable = false;
  std::vector<std::string> bound_cidrs;  // where the token may be used from; empty = anywhere
  // For a token an auth method issued: the login (logical::LoginAuth as JSON: internal data,
  // metadata, the role's token fields) and the issuing mount's accessor, for renewal.
  Json login;
  std::string mount_accessor;
  std::string role;  // the token role it was created through (auth/token/create/<role>)

  bool IsRoot() const;
  bool Orphan() const { return parent_hash.empty(); }
  bool Expired(int64_t now) const { return expire_time != 0 && expire_time <= now; }
  Json ToJson() const;
  // The stored form back; kInternal("corrupt token entry") when `j` is not an object or a member
  // has the wrong type.
  static Result<TokenEntry> FromJson(const Json& j);
};

struct TokenCreateParams {
  std::optional<std::string> id;  // a chosen id (root/sudo only; checked by the caller)
  std::string parent_hash;        // "" = orphan
  std::vector<std::string> policies;
  std::string display_name;
  std::string path;
  Json meta = Json::object();
  int64_t num_uses = 0;
  int64_t ttl = 0;  // already computed by the caller; 0 = never expires
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  bool renewable = true;
  std::vector<std::string> bound_cidrs;
  Json login;  // see TokenEntry
  std::string mount_accessor;
  std::string role;
  // Labels of vault.token.creation: the issuing method's type and mount ("token" and
  // "auth/token/" when empty).
  std::string auth_method;
  std::string mount_point;
};

using TokenRef = std::shared_ptr<const TokenEntry>;

// Thread safety: all methods may be called concurrently. Storage is awaited (never a thread
// chosen or blocked): mu_ guards the salt and cache and is never held across a wait; write_mu_,
// an AsyncMutex, orders creates, uses and revocation steps across theirs.
class TokenStore {
 public:
  TokenStore(logical::Storage* storage, Clock* clock) : storage_(storage), clock_(clock) {}

  // Loads (or creates) the salt. Call after unseal.
  Task<Status> Setup();
  // Drops every cached secret. Call on seal.
  void Teardown();

  // Called for every token being revoked (children before parents, before the entry is
  // deleted; also for expired tokens when they are cleaned up). An error stops the
  // revocation (the token stays marked revocation-pending and unusable) and is returned.
  // Core's hook revokes the token's leases (AWS calls): a coroutine, so that a revocation holds
  // no thread while AWS answers.
  using RevokeHook = std::function<Task<Status>(const TokenEntry&)>;
  void SetRevokeHook(RevokeHook hook);

  // Creates a root token; with `id` the token has exactly that id (dev -dev-root-token-id).
  Task<Result<std::string>> CreateRoot(std::optional<std::string> id);
  // Creates a token; returns its id. kInvalidArgument if a chosen id is taken; kPermissionDenied
  // if the parent is gone (revoked meanwhile). `params` and `out` must outlive the task.
  Task<Result<std::string>> Create(const TokenCreateParams& params, TokenEntry* out = nullptr);

  // The live entry for a token id; nullptr if unknown, expired (then queued for RevokeExpired) or
  // revocation-pending. Cached; the hash is compared in constant time.
  Task<Result<TokenRef>> Lookup(std::string token);
  Task<Result<TokenRef>> LookupByHash(std::string id_hash);
  Task<Result<TokenRef>> LookupAccessor(std::string accessor);
  // Lookup's answer when it needs no storage read (the token is cached, or the id cannot be one);
  // nullopt when Lookup must read storage. Every request asks this first.
  std::optional<Result<TokenRef>> LookupCached(const std::string& token);
  // The number of stored tokens (a listing of their index; vault.token.count).
  Task<Result<int64_t>> Count();
  // The id_hash a token id would have (kUnavailable when sealed).
  Result<std::string> HashOf(const std::string& token) const;

  // Spends one use of a limited-use token. Result: true if this was the last use (the caller
  // revokes the token once the request is done). kPermissionDenied if no use is left.
  Task<Result<bool>> Use(std::string id_hash);

  // Revokes the token and all its descendants (children first). Unknown tokens: Ok.
  Task<Status> RevokeTree(std::string id_hash);
  // Revokes only this token; its children become orphans.
  Task<Status> RevokeOrphan(std::string id_hash);
  // Extends a renewable token: new TTL = increment (or its original TTL when 0), capped by
  // explicit_max_ttl and max_ttl counted from creation. kInvalidArgument if not renewable.
  Task<Result<TokenRef>> Renew(std::string id_hash, int64_t increment, int64_t max_ttl);
  // Accessors of all stored tokens.
  Task<Result<std::vector<std::string>>> ListAccessors();
  // Revokes (tree, with the hook) every token created through a path under `prefix`
  // ("auth/userpass/"): disabling an auth method revokes what it issued. Returns how many.
  Task<Result<int64_t>> RevokeByPathPrefix(std::string prefix);
  // Revokes every expired token (and its subtree) and drops dangling index entries.
  Task<Status> Tidy();
  // Revokes (tree, with the hook: their leases) the tokens whose TTL has run out, as Vault's
  // expiration manager does at a token's expiry; core calls it every second. Deadlines are
  // queued at Setup() and whenever an entry is written. A failure is retried 10 s later.
  Task<Status> RevokeExpired();
  // Queues a token (expired, used up, or left revocation-pending) for RevokeExpired's next pass,
  // so that it is revoked, with its leases, off the caller's thread.
  void RevokeSoon(const std::string& id_hash);

 private:
  std::string HashLocked(const std::string& value) const;
  // The cached entry (nullopt: not cached; kUnavailable when sealed).
  std::optional<Result<TokenRef>> Cached(const std::string& id_hash) const;
  Task<Result<TokenRef>> Load(std::string id_hash);
  // LookupByHash's checks on a loaded entry.
  Result<TokenRef> Live(TokenRef e, const std::string& id_hash);
  Task<Status> Persist(const TokenEntry& e);
  // Under write_mu_: marks the token revocation-pending (num_uses -1, persisted); its entry as
  // it was, or null if unknown.
  Task<Result<TokenRef>> MarkPending(std::string id_hash);
  // Under write_mu_: deletes the token's entry and index entries (children orphaned if asked).
  Task<Status> Remove(std::string id_hash, bool orphan_children);
  // Revokes the token and, with `tree`, its descendants (children first; else its children become
  // orphans). The hook runs without write_mu_ held.
  Task<Status> Revoke(std::string id_hash, bool tree);
  void CacheErase(const std::string& id_hash);
  void QueueExpiry(const TokenEntry& e);

  logical::Storage* storage_;
  Clock* clock_;
  mutable std::shared_mutex mu_;
  std::string salt_ GUARDED_BY(mu_);
  std::unique_ptr<crypto::HmacSha256Key> hmac_ GUARDED_BY(mu_);      // keyed with salt_
  std::unordered_map<std::string, TokenRef> cache_ GUARDED_BY(mu_);  // by id_hash
  // Serializes creates, uses and revocation steps (never held across the hook).
  AsyncMutex write_mu_;
  RevokeHook revoke_hook_;  // set once, before the store is used
  std::mutex expiry_mu_;
  std::set<std::pair<int64_t, std::string>> expiry_
      GUARDED_BY(expiry_mu_);  // (expire_time, id_hash); may be stale
};

}  // namespace vault::core
