// The token store. Token ids are random and stored only as a keyed hash (HMAC-SHA256 with a
// per-store salt kept under the barrier), so a copy of storage yields no usable token.
// This slice holds root tokens; policies, TTLs, parents and accessors arrive with the
// tokens/ACL issue on the same storage layout (sys/token/id/<hash>).
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/hash.h"
#include "logical/logical.h"
#include "util/clock.h"

namespace vault::core {

struct TokenEntry {
  std::string accessor;
  std::vector<std::string> policies;
  std::string display_name;
  std::string path;
  int64_t creation_time = 0;  // unix seconds
  int64_t ttl = 0;            // seconds; 0 = never expires (root)
  Json meta = Json::object();

  bool IsRoot() const;
  Json ToJson() const;
  static TokenEntry FromJson(const Json& j);
};

// Thread safety: all methods may be called concurrently.
class TokenStore {
 public:
  TokenStore(logical::Storage* storage, Clock* clock) : storage_(storage), clock_(clock) {}

  // Loads (or creates) the salt. Call after unseal.
  Status Setup();
  // Drops every cached secret. Call on seal.
  void Teardown();
  // Creates a root token; with `id` the token has exactly that id (dev -dev-root-token-id).
  Result<std::string> CreateRoot(const std::optional<std::string>& id);
  // The entry for a token id; nullopt if unknown or expired. Constant-time on the hash.
  Result<std::optional<TokenEntry>> Lookup(const std::string& token);
  Status Revoke(const std::string& token);

 private:
  std::string Hash(const std::string& token) const;
  logical::Storage* storage_;
  Clock* clock_;
  mutable std::shared_mutex mu_;
  std::string salt_;
  std::unique_ptr<crypto::HmacSha256Key> hmac_;  // keyed with salt_
  std::unordered_map<std::string, TokenEntry> cache_;  // by hash
};

}  // namespace vault::core
