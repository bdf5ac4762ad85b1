#include "engines/jwt/keyset.h"

#include "util/json.h"
#include "util/log.h"

namespace vault::engines::jwt {
namespace {

using crypto::PublicKey;
using crypto::PublicKeyType;

// Decodes a JWK member holding base64url bytes; nullopt when absent or malformed.
std::optional<std::string> Member(const Json& k, const char* name) {
  if (!k.contains(name) || !k[name].is_string()) return std::nullopt;
  auto r = Base64UrlDecode(k[name].get<std::string>());
  if (!r.ok()) return std::nullopt;
  return std::move(*r);
}

std::optional<PublicKey> KeyOf(const Json& k) {
  if (!k.contains("kty") || !k["kty"].is_string()) return std::nullopt;
  const std::string kty = k["kty"].get<std::string>();
  const std::string crv =
      k.contains("crv") && k["crv"].is_string() ? k["crv"].get<std::string>() : "";
  if (kty == "RSA") {
    auto n = Member(k, "n");
    auto e = Member(k, "e");
    if (!n || !e) return std::nullopt;
    auto key = PublicKey::FromRsa(*n, *e);
    if (!key.ok() || key->bits() < kMinRsaBits) return std::nullopt;
    return std::move(*key);
  }
  if (kty == "EC") {
    PublicKeyType t;
    if (crv == "P-256") {
      t = PublicKeyType::kEcP256;
    } else if (crv == "P-384") {
      t = PublicKeyType::kEcP384;
    } else if (crv == "P-521") {
      t = PublicKeyType::kEcP521;
    } else {
      return std::nullopt;
    }
    auto x = Member(k, "x");
    auto y = Member(k, "y");
    if (!x || !y) return std::nullopt;
    auto key = PublicKey::FromEc(t, *x, *y);
    if (!key.ok()) return std::nullopt;
    return std::move(*key);
  }
  if (kty == "OKP" && crv == "Ed25519") {
    auto x = Member(k, "x");
    if (!x) return std::nullopt;
    auto key = PublicKey::FromEd25519(*x);
    if (!key.ok()) return std::nullopt;
    return std::move(*key);
  }
  return std::nullopt;
}

enum class Outcome { kVerified, kKidKnown, kNoMatch };

// Tries the keys that may have signed `jws`: those with its kid (all, when it has none) whose
// type fits its alg and whose own "alg", if any, is the token's. kKidKnown: a key named by the
// token's kid fits but does not verify it, so fetching the set again would not help.
Outcome TryKeys(const std::vector<Jwk>& keys, const Jws& jws, std::string* payload) {
  bool kid_known = false;
  for (const auto& k : keys) {
    if (!jws.kid.empty() && k.kid != jws.kid) continue;
    if (!k.alg.empty() && k.alg != jws.alg_name) continue;
    if (!KeyFitsAlg(k.key, *jws.alg)) continue;
    if (!jws.kid.empty()) kid_known = true;
    if (VerifyWithKey(jws, k.key)) {
      *payload = jws.payload;
      return Outcome::kVerified;
    }
  }
  return kid_known ? Outcome::kKidKnown : Outcome::kNoMatch;
}

constexpr char kNotVerified[] = "failed to verify id token signature";

}  // namespace

Result<ParsedJwks> ParseJwksDocument(const Json& doc) {
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return InvalidArgument("the JWKS is not a JSON object with a \"keys\" array");
  ParsedJwks out;
  for (const auto& k : doc["keys"]) {
    if (!k.is_object()) {
      ++out.skipped;
      continue;
    }
    // Encryption keys, and keys restricted to anything but one of the ten algorithms, never
    // verify a signature here.
    const bool use_ok =
        !k.contains("use") || (k["use"].is_string() && k["use"].get<std::string>() == "sig");
    const bool kid_ok = !k.contains("kid") || k["kid"].is_string();
    const bool alg_ok =
        !k.contains("alg") || (k["alg"].is_string() && AlgFromName(k["alg"].get<std::string>()));
    auto key = use_ok && kid_ok && alg_ok ? KeyOf(k) : std::nullopt;
    if (!key) {
      ++out.skipped;
      continue;
    }
    out.keys.push_back(Jwk{k.contains("kid") ? k["kid"].get<std::string>() : "",
                           k.contains("alg") ? k["alg"].get<std::string>() : "", std::move(*key)});
  }
  return out;
}

Result<ParsedJwks> ParseJwks(std::string_view body) {
  auto doc = ParseJson(body);
  if (!doc.ok()) return InvalidArgument("the JWKS is not a JSON object with a \"keys\" array");
  return ParseJwksDocument(*doc);
}

Task<Result<std::string>> StaticKeySet::Verify(const Jws& jws) {
  if (!jws.alg) co_return InvalidArgument(UnsupportedAlgMessage(jws.alg_name));
  for (const auto& key : keys_) {
    if (VerifyWithKey(jws, key)) co_return jws.payload;
  }
  co_return InvalidArgument("no known key successfully validated the token signature");
}

RemoteKeySet::RemoteKeySet(std::string jwks_url, std::string issuer,
                           std::shared_ptr<net::HttpClient> client, Clock* clock)
    : issuer_(std::move(issuer)),
      client_(std::move(client)),
      clock_(clock ? clock : SystemClock::Get()),
      jwks_url_(std::move(jwks_url)) {}

std::shared_ptr<RemoteKeySet> RemoteKeySet::ForJwksUrl(std::string jwks_url,
                                                       std::shared_ptr<net::HttpClient> client,
                                                       Clock* clock) {
  return std::shared_ptr<RemoteKeySet>(
      new RemoteKeySet(std::move(jwks_url), "", std::move(client), clock));
}

std::shared_ptr<RemoteKeySet> RemoteKeySet::ForDiscovery(std::string issuer,
                                                         std::shared_ptr<net::HttpClient> client,
                                                         Clock* clock) {
  return std::shared_ptr<RemoteKeySet>(
      new RemoteKeySet("", std::move(issuer), std::move(client), clock));
}

void RemoteKeySet::SetLimitsForTest(int64_t interval_seconds, int64_t max_age_seconds) {
  std::lock_guard lock(mu_);
  interval_ns_ = interval_seconds * 1000000000LL;
  max_age_ns_ = max_age_seconds * 1000000000LL;
}

RemoteKeySet::Snapshot RemoteKeySet::Current() const {
  std::lock_guard lock(mu_);
  return Snapshot{keys_, generation_, fetched_at_ns_};
}

Task<Result<Json>> RemoteKeySet::GetJson(const std::string& url, const char* what) {
  net::HttpRequest req;
  req.method = "GET";
  req.url = url;
  req.headers = {{"Accept", "application/json"}};
  req.timeout_ms = kFetchTimeoutMs;
  const std::string desc = net::DescribeRequest("GET", url);
  auto resp = co_await client_->SendAsync(std::move(req));
  if (!resp.ok()) co_return InvalidArgument(resp.status().message());
  if (resp->status != 200)
    co_return InvalidArgument("unexpected HTTP status " + std::to_string(resp->status) + " from " +
                              desc);
  if (resp->body.size() > kMaxDocumentBytes)
    co_return InvalidArgument(std::string("the ") + what + " from " + desc + " is larger than " +
                              std::to_string(kMaxDocumentBytes) + " bytes");
  auto doc = ParseJson(resp->body);
  if (!doc.ok() || !doc->is_object())
    co_return InvalidArgument(std::string("the ") + what + " from " + desc +
                              " is not a JSON object");
  co_return std::move(*doc);
}

Task<Status> RemoteKeySet::Discover() {
  std::string url = issuer_;
  if (!url.empty() && url.back() == '/') url.pop_back();
  url += "/.well-known/openid-configuration";
  auto doc = co_await GetJson(url, "discovery document");
  if (!doc.ok()) co_return doc.status();
  const Json& d = *doc;
  std::string got =
      d.contains("issuer") && d["issuer"].is_string() ? d["issuer"].get<std::string>() : "";
  if (got != issuer_) {
    if (got.size() > 256) got = got.substr(0, 256) + "...";
    co_return InvalidArgument("issuer did not match the returned issuer, expected " +
                              DumpJson(issuer_) + " got " + DumpJson(got));
  }
  if (!d.contains("jwks_uri") || !d["jwks_uri"].is_string() ||
      d["jwks_uri"].get<std::string>().empty())
    co_return InvalidArgument("the discovery document from " + net::DescribeRequest("GET", url) +
                              " has no jwks_uri");
  jwks_url_ = d["jwks_uri"].get<std::string>();
  co_return Status::Ok();
}

Task<Status> RemoteKeySet::FetchKeys() {
  if (jwks_url_.empty()) {
    Status st = co_await Discover();
    if (!st.ok()) co_return InvalidArgument("oidc discovery: " + st.message());
  }
  auto doc = co_await GetJson(jwks_url_, "JWKS");
  if (!doc.ok()) co_return doc.status();
  auto parsed = ParseJwksDocument(*doc);
  if (!parsed.ok()) co_return parsed.status();
  if (parsed->skipped > 0)
    spdlog::info("jwt auth: {} of the keys from {} cannot verify signatures here and are ignored",
                 parsed->skipped, net::DescribeRequest("GET", jwks_url_));
  auto keys = std::make_shared<const std::vector<Jwk>>(std::move(parsed->keys));
  std::lock_guard lock(mu_);
  keys_ = std::move(keys);
  ++generation_;
  fetched_at_ns_ = clock_->NowNanos();
  co_return Status::Ok();
}

Task<Status> RemoteKeySet::Probe() {
  AsyncMutex::Guard guard = co_await fetch_mu_.Lock();
  if (!issuer_.empty()) {
    Status st = co_await Discover();
    co_return st;
  }
  {
    std::lock_guard lock(mu_);
    attempted_ = true;
    last_attempt_ns_ = clock_->NowNanos();
  }
  Status st = co_await FetchKeys();
  std::lock_guard lock(mu_);
  last_status_ = st;
  co_return st;
}

Task<Status> RemoteKeySet::Refresh(uint64_t seen_generation) {
  AsyncMutex::Guard guard = co_await fetch_mu_.Lock();
  {
    std::lock_guard lock(mu_);
    // Another login fetched while this one waited for the lock: use its keys.
    if (generation_ != seen_generation) co_return Status::Ok();
    const int64_t now = clock_->NowNanos();
    if (attempted_ && now - last_attempt_ns_ < interval_ns_) {
      spdlog::debug("jwt auth: key refetch skipped, the last one was less than {} s ago",
                    interval_ns_ / 1000000000LL);
      co_return last_status_;
    }
    attempted_ = true;
    last_attempt_ns_ = now;
  }
  Status st = co_await FetchKeys();
  if (!st.ok()) spdlog::warn("jwt auth: fetching keys failed: {}", st.message());
  std::lock_guard lock(mu_);
  last_status_ = st;
  co_return st;
}

Task<Result<std::string>> RemoteKeySet::Verify(const Jws& jws) {
  if (!jws.alg) co_return InvalidArgument(UnsupportedAlgMessage(jws.alg_name));
  Snapshot snap = Current();
  bool stale = false;
  if (snap.keys) {
    std::lock_guard lock(mu_);
    stale = clock_->NowNanos() - snap.fetched_at_ns >= max_age_ns_;
  }
  if (stale) {
    // Refreshed keys replace the old ones; if the refresh fails the old ones still serve.
    Status st = co_await Refresh(snap.generation);
    st.IgnoreError();
    snap = Current();
  }
  std::string payload;
  if (snap.keys) {
    Outcome o = TryKeys(*snap.keys, jws, &payload);
    if (o == Outcome::kVerified) co_return payload;
    if (o == Outcome::kKidKnown) co_return InvalidArgument(kNotVerified);
  }
  Status st = co_await Refresh(snap.generation);
  Snapshot now = Current();
  if (!now.keys) {
    if (st.ok()) st = InvalidArgument("no keys");
    co_return InvalidArgument("fetching keys: " + st.message());
  }
  if (now.generation == snap.generation) co_return InvalidArgument(kNotVerified);
  if (TryKeys(*now.keys, jws, &payload) == Outcome::kVerified) co_return payload;
  co_return InvalidArgument(kNotVerified);
}

}  // namespace vault::engines::jwt
