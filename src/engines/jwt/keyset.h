// Where the JWT auth method's verification keys come from: static PEM keys
// (jwt_validation_pubkeys), a JWKS URL (jwks_url), or an OIDC issuer's discovery document
// (oidc_discovery_url, whose jwks_uri names the JWKS).
//
// Remote key sets cache the keys they fetched. A token whose "kid" is not in the cache (or, with
// no kid, that no cached key verifies) triggers a refetch, as go-oidc does, but at most one per
// kRefetchIntervalSeconds per key set, so a flood of tokens with made-up kids cannot make the
// server hammer the issuer; keys older than kMaxKeyAgeSeconds are refetched at the next login,
// so a key the issuer withdrew stops working within the hour. One fetch runs at a time; logins
// that need keys meanwhile wait for it and use its result.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/public_key.h"
#include "engines/jwt/jws.h"
#include "net/http_client.h"
#include "util/async_mutex.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/lock_annotations.h"
#include "util/status.h"
#include "util/task.h"

namespace vault::engines::jwt {

// The largest discovery document or JWKS accepted.
inline constexpr size_t kMaxDocumentBytes = 1 << 20;
inline constexpr int64_t kRefetchIntervalSeconds = 10;
inline constexpr int64_t kMaxKeyAgeSeconds = 3600;
inline constexpr int64_t kFetchTimeoutMs = 10000;

// One usable signature key of a JWKS.
struct Jwk {
  std::string kid;  // "" when the JWK has none
  std::string alg;  // "" when the JWK does not restrict its algorithm
  crypto::PublicKey key;
};

// Parses a JWKS document ({"keys": [...]}). Keys this method cannot use are skipped and counted:
// other types (e.g. "oct" secrets), "use" other than "sig", other curves, RSA keys under
// kMinRsaBits, malformed members. kInvalidArgument when the document itself is not a JSON object
// with a "keys" array.
struct ParsedJwks {
  std::vector<Jwk> keys;
  size_t skipped = 0;
};
Result<ParsedJwks> ParseJwks(std::string_view body);
Result<ParsedJwks> ParseJwksDocument(const Json& doc);

// A set of keys that verifies token signatures. Thread-safe.
class KeySet {
 public:
  virtual ~KeySet() = default;
  // Verifies the signature of `jws` (which must outlive the task) with a key that fits its alg
  // and returns the payload. kInvalidArgument whose message follows "error verifying token
  // signature: " in the login error; it never quotes the token.
  virtual Task<Result<std::string>> Verify(const Jws& jws) = 0;
};

// jwt_validation_pubkeys: each key whose type fits the token's alg is tried; "kid" is ignored.
class StaticKeySet : public KeySet {
 public:
  explicit StaticKeySet(std::vector<crypto::PublicKey> keys) : keys_(std::move(keys)) {}
  Task<Result<std::string>> Verify(const Jws& jws) override;

 private:
  const std::vector<crypto::PublicKey> keys_;
};

// jwks_url or oidc_discovery_url. `client` is the HTTP client for that source's CA; `clock`
// (not owned, outlives this) times the refetch limit and the keys' age.
class RemoteKeySet : public KeySet {
 public:
  static std::shared_ptr<RemoteKeySet> ForJwksUrl(std::string jwks_url,
                                                  std::shared_ptr<net::HttpClient> client,
                                                  Clock* clock);
  // `issuer` is oidc_discovery_url: the document is fetched from
  // <issuer without trailing '/'>/.well-known/openid-configuration and its "issuer" must equal
  // `issuer` exactly.
  static std::shared_ptr<RemoteKeySet> ForDiscovery(std::string issuer,
                                                    std::shared_ptr<net::HttpClient> client,
                                                    Clock* clock);

  // The check a config write makes: a discovery source fetches and checks its document (and
  // keeps the jwks_uri); a JWKS source fetches its key set (and keeps the keys). The error says
  // what failed (URLs without query, HTTP status), never a response body.
  Task<Status> Probe();
  Task<Result<std::string>> Verify(const Jws& jws) override;

  // For tests: with `interval_seconds` between refetches and `max_age_seconds` of keys.
  void SetLimitsForTest(int64_t interval_seconds, int64_t max_age_seconds);

 private:
  RemoteKeySet(std::string jwks_url, std::string issuer, std::shared_ptr<net::HttpClient> client,
               Clock* clock);

  struct Snapshot {
    std::shared_ptr<const std::vector<Jwk>> keys;  // null until a fetch succeeded
    uint64_t generation = 0;                       // bumped by every successful fetch
    int64_t fetched_at_ns = 0;
  };
  Snapshot Current() const;
  // Fetches the keys again unless another fetch installed keys since `seen_generation` or the
  // last attempt is younger than the refetch interval. Returns the outcome of the last attempt.
  Task<Status> Refresh(uint64_t seen_generation);
  // The fetches themselves; call with fetch_mu_ held.
  Task<Status> Discover();
  Task<Status> FetchKeys();
  Task<Result<Json>> GetJson(const std::string& url, const char* what);

  const std::string issuer_;  // "" for a JWKS URL source
  const std::shared_ptr<net::HttpClient> client_;
  Clock* const clock_;

  AsyncMutex fetch_mu_;  // one fetch at a time; guards jwks_url_
  std::string jwks_url_;

  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<Jwk>> keys_ GUARDED_BY(mu_);
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  int64_t fetched_at_ns_ GUARDED_BY(mu_) = 0;
  bool attempted_ GUARDED_BY(mu_) = false;
  int64_t last_attempt_ns_ GUARDED_BY(mu_) = 0;
  Status last_status_ GUARDED_BY(mu_);
  int64_t interval_ns_ GUARDED_BY(mu_) = kRefetchIntervalSeconds * 1000000000LL;
  int64_t max_age_ns_ GUARDED_BY(mu_) = kMaxKeyAgeSeconds * 1000000000LL;
};

}  // namespace vault::engines::jwt
