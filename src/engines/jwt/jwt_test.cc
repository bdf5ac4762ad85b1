#include "engines/jwt/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <deque>

#include "crypto/hash.h"
#include "engines/jwt/backend.h"
#include "engines/jwt/claims.h"
#include "engines/jwt/jws.h"
#include "engines/jwt/keyset.h"
#include "logical/testing.h"
#include "net/fake_http_client.h"

namespace vault::engines::jwt {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;

constexpr int64_t kNow = 1700000000;
constexpr char kIssuer[] = "https://token.actions.githubusercontent.com";
constexpr char kDiscoveryUrl[] =
    "https://token.actions.githubusercontent.com/.well-known/openid-configuration";
constexpr char kJwksUrl[] = "https://token.actions.githubusercontent.com/.well-known/jwks";
constexpr char kAudience[] = "https://github.com/org";

// ---------------------------------------------------------------------------------------------
// Keys and tokens made the way an issuer makes them (OpenSSL, independent of the code under test).

class TestKey {
 public:
  static TestKey Rsa(int bits = 2048) {
    return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)), "RS256");
  }
  static TestKey Ec(const char* curve = "P-256", const char* alg = "ES256") {
    return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), alg);
  }
  static TestKey Ed25519() {
    return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), "EdDSA");
  }

  const std::string& alg() const { return alg_; }

  std::string PublicPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_.get());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
  }

  // The public JWK, as a JWKS lists it.
  Json Jwk(const std::string& kid) const {
    Json j = {{"kid", kid}, {"use", "sig"}};
    const int id = EVP_PKEY_get_base_id(key_.get());
    if (id == EVP_PKEY_RSA) {
      j["kty"] = "RSA";
      j["alg"] = alg_;
      j["n"] = Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_N, 0));
      j["e"] = Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_E, 0));
    } else if (id == EVP_PKEY_EC) {
      const size_t size = CoordSize();
      j["kty"] = "EC";
      j["crv"] = size == 32 ? "P-256" : size == 48 ? "P-384" : "P-521";
      j["x"] = Base64UrlEncode(Bn(OSSL_PKEY_PARAM_EC_PUB_X, size));
      j["y"] = Base64UrlEncode(Bn(OSSL_PKEY_PARAM_EC_PUB_Y, size));
    } else {
      unsigned char raw[32];
      size_t len = sizeof(raw);
      EVP_PKEY_get_raw_public_key(key_.get(), raw, &len);
      j["kty"] = "OKP";
      j["crv"] = "Ed25519";
      j["x"] = Base64UrlEncode(std::string(reinterpret_cast<char*>(raw), len));
    }
    return j;
  }

  // A JOSE signature of `data` under `alg` (ES*: r||s).
  std::string Sign(const std::string& alg, std::string_view data) const {
    const EVP_MD* md = nullptr;
    if (alg.size() == 5 && alg != "EdDSA") {
      const std::string bits = alg.substr(2);
      md = bits == "256" ? EVP_sha256() : bits == "384" ? EVP_sha384() : EVP_sha512();
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EXPECT_EQ(EVP_DigestSignInit(ctx, &pctx, md, nullptr, key_.get()), 1);
    if (alg.rfind("PS", 0) == 0) {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                   data.size());
    std::string sig(len, '\0');
    EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()),
              1);
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_get_base_id(key_.get()) != EVP_PKEY_EC) return sig;
    const size_t size = CoordSize();
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(2 * size, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(size));
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + size,
                 static_cast<int>(size));
    ECDSA_SIG_free(es);
    return raw;
  }

 private:
  TestKey(EVP_PKEY* k, std::string alg) : key_(k, EVP_PKEY_free), alg_(std::move(alg)) {}
  size_t CoordSize() const { return static_cast<size_t>((EVP_PKEY_get_bits(key_.get()) + 7) / 8); }
  std::string Bn(const char* param, size_t pad) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), param, &bn);
    std::string out(pad ? pad : static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
    BN_free(bn);
    return out;
  }

  std::shared_ptr<EVP_PKEY> key_;
  std::string alg_;
};

// Generated once: RSA key generation is slow.
const TestKey& RsaKey() {
  static const TestKey k = TestKey::Rsa();
  return k;
}
const TestKey& OtherRsaKey() {
  static const TestKey k = TestKey::Rsa();
  return k;
}
const TestKey& EcKey() {
  static const TestKey k = TestKey::Ec();
  return k;
}
const TestKey& EdKey() {
  static const TestKey k = TestKey::Ed25519();
  return k;
}

std::string B64Json(const Json& j) { return Base64UrlEncode(DumpJson(j)); }

// A compact JWS of `claims` signed by `key` under `alg` (default: the key's).
std::string SignToken(const TestKey& key, const Json& claims, const std::string& kid = "",
                      std::string alg = "") {
  if (alg.empty()) alg = key.alg();
  Json header = {{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  std::string input = B64Json(header) + "." + B64Json(claims);
  return input + "." + Base64UrlEncode(key.Sign(alg, input));
}

// The claims of a GitHub Actions job's ID token (push to main of org/app).
Json GitHubClaims() {
  return {{"jti", "8ee5a3e0-1f1b-4e4b-9a39-1e8c2b8b7d3c"},
          {"sub", "repo:org/app:ref:refs/heads/main"},
          {"aud", kAudience},
          {"ref", "refs/heads/main"},
          {"sha", "e49f96ab65c4ed06bf53cd11e2e14adb1149c37e"},
          {"repository", "org/app"},
          {"repository_owner", "org"},
          {"repository_owner_id", "20402573"},
          {"repository_id", "476915173"},
          {"run_id", "2087210276"},
          {"run_number", "24"},
          {"actor", "alice"},
          {"workflow", "deploy"},
          {"event_name", "push"},
          {"ref_type", "branch"},
          {"job_workflow_ref", "org/app/.github/workflows/deploy.yml@refs/heads/main"},
          {"runner_environment", "github-hosted"},
          {"iss", kIssuer},
          {"nbf", kNow - 5},
          {"exp", kNow + 300},
          {"iat", kNow - 5}};
}

// The role GitHub's guide recommends, with the audience bound.
Json GitHubRole() {
  return {{"role_type", "jwt"},
          {"user_claim", "repository"},
          {"bound_audiences", kAudience},
          {"bound_claims", {{"repository", "org/app"}}},
          {"claim_mappings", {{"ref", "git_ref"}, {"actor", "actor"}}},
          {"token_policies", "app,deploy"},
          {"token_ttl", "10m"}};
}

// ---------------------------------------------------------------------------------------------
// The fixture: one mount, an in-memory storage, a fake clock and a fake issuer.

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() : clock_(kNow * 1000000000LL) {
    http_ = std::make_shared<net::FakeHttpClient>(
        [this](const net::HttpRequest& r) { return Serve(r); });
    jwks_ = {{"keys", Json::array({RsaKey().Jwk("key-1")})}};
    discovery_ = {{"issuer", kIssuer},
                  {"jwks_uri", kJwksUrl},
                  {"subject_types_supported", {"public", "pairwise"}},
                  {"id_token_signing_alg_values_supported", {"RS256"}}};
    logical::MountInfo mount{"jwt/", "jwt", 2764800, 2764800};
    mount_ = mount;
    backend_ = NewJwtBackend(
        mount,
        [this](const std::string& ca) -> Result<std::shared_ptr<net::HttpClient>> {
          ca_pems_.push_back(ca);
          if (ca == "not a pem")
            return InvalidArgument("could not parse CA PEM value successfully");
          return std::shared_ptr<net::HttpClient>(http_);
        },
        &clock_);
  }

  Result<net::HttpResponse> Serve(const net::HttpRequest& r) {
    if (r.url == kDiscoveryUrl)
      return net::HttpResponse{discovery_status_, {}, DumpJson(discovery_)};
    if (r.url == kJwksUrl) {
      if (!jwks_body_.empty()) return net::HttpResponse{200, {}, jwks_body_};
      return net::HttpResponse{jwks_status_, {}, DumpJson(jwks_)};
    }
    return net::HttpResponse{404, {}, "not found"};
  }

  size_t Fetches(const std::string& url) const {
    size_t n = 0;
    for (const auto& r : http_->requests()) n += r.url == url;
    return n;
  }

  Result<Response> Call(Operation op, const std::string& path, Json data = Json::object(),
                        const std::string& remote = "10.0.0.7") {
    Request req;
    req.operation = op;
    req.path = path;
    req.data = std::move(data);
    req.storage = &storage_;
    req.mount = mount_;
    req.remote_address = remote;
    return backend_->HandleRequest(req);
  }
  Result<Response> Write(const std::string& path, Json data) {
    return Call(Operation::kUpdate, path, std::move(data));
  }
  Result<Response> Read(const std::string& path) { return Call(Operation::kRead, path); }
  Result<Response> Login(const std::string& token, const std::string& role = "deploy",
                         const std::string& remote = "10.0.0.7") {
    Json data = {{"jwt", token}};
    if (!role.empty()) data["role"] = role;
    return Call(Operation::kUpdate, "login", std::move(data), remote);
  }

  // Config with the RSA key as a static PEM, and the GitHub role "deploy".
  void SetUpStatic(Json extra_role = Json::object()) {
    ASSERT_TRUE(Write("config", {{"jwt_validation_pubkeys", {RsaKey().PublicPem()}},
                                 {"bound_issuer", kIssuer}})
                    .ok());
    Json role = GitHubRole();
    for (auto& [k, v] : extra_role.items()) role[k] = v;
    auto r = Write("role/deploy", role);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void SetUpDiscovery() {
    auto r = Write("config", {{"oidc_discovery_url", kIssuer}, {"bound_issuer", kIssuer}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  }

  // Expects a 400 whose message is `msg`, and that the message quotes nothing of the token.
  void ExpectRefused(const std::string& token, const std::string& msg,
                     const std::string& role = "deploy") {
    auto r = Login(token, role);
    ASSERT_FALSE(r.ok()) << "token was accepted; expected: " << msg;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), msg);
    ExpectNoTokenIn(r.status().message(), token);
  }
  static void ExpectNoTokenIn(const std::string& message, const std::string& token) {
    size_t dot = token.rfind('.');
    if (dot != std::string::npos && token.size() - dot > 8) {
      EXPECT_EQ(message.find(token.substr(dot + 1, 16)), std::string::npos) << "signature leaked";
    }
    for (size_t i = 0; i + 24 <= token.size(); i += 24) {
      EXPECT_EQ(message.find(token.substr(i, 24)), std::string::npos) << "token text leaked";
    }
  }

  FakeClock clock_;
  std::shared_ptr<net::FakeHttpClient> http_;
  Json jwks_;
  std::string jwks_body_;
  int jwks_status_ = 200;
  Json discovery_;
  int discovery_status_ = 200;
  std::vector<std::string> ca_pems_;
  logical::MountInfo mount_;
  logical::MemStorage storage_;
  std::shared_ptr<logical::Backend> backend_;
};

// ---------------------------------------------------------------------------------------------
// Logins that succeed

TEST_F(JwtTest, GitHubActionsTokenLogsInWithStaticKey) {
  SetUpStatic();
  auto r = Login(SignToken(RsaKey(), GitHubClaims()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->login.has_value());
  const logical::LoginAuth& auth = *r->login;
  EXPECT_EQ(auth.display_name, "org/app");
  EXPECT_EQ(auth.alias_name, "org/app");
  EXPECT_EQ(auth.metadata,
            (Json{{"role", "deploy"}, {"git_ref", "refs/heads/main"}, {"actor", "alice"}}));
  EXPECT_EQ(auth.internal_data, (Json{{"role", "deploy"}}));
  EXPECT_EQ(auth.token.policies, (std::vector<std::string>{"app", "deploy"}));
  EXPECT_EQ(auth.token.ttl, 600);
  EXPECT_TRUE(r->data.is_null());
  EXPECT_TRUE(http_->requests().empty());  // static keys: no network
}

TEST_F(JwtTest, GitHubActionsTokenLogsInViaDiscoveryAndJwks) {
  SetUpDiscovery();
  EXPECT_EQ(Fetches(kDiscoveryUrl), 1u);  // checked at config write
  EXPECT_EQ(Fetches(kJwksUrl), 0u);
  EXPECT_EQ(ca_pems_, (std::vector<std::string>{""}));  // system CAs
  auto r = Login(SignToken(RsaKey(), GitHubClaims(), "key-1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->login->alias_name, "org/app");
  EXPECT_EQ(Fetches(kJwksUrl), 1u);
  // Cached: later logins do not fetch again, with or without a kid.
  ASSERT_TRUE(Login(SignToken(RsaKey(), GitHubClaims(), "key-1")).ok());
  ASSERT_TRUE(Login(SignToken(RsaKey(), GitHubClaims())).ok());
  EXPECT_EQ(Fetches(kJwksUrl), 1u);
  EXPECT_EQ(Fetches(kDiscoveryUrl), 1u);
  for (const auto& req : http_->requests()) {
    EXPECT_EQ(req.method, "GET");
    EXPECT_GT(req.timeout_ms, 0);
  }
}

TEST_F(JwtTest, DiscoveryStateSurvivesARestartOfTheBackend) {
  SetUpDiscovery();
  // A new backend on the same storage (a restart) rediscovers the JWKS at its first login.
  backend_ = NewJwtBackend(
      mount_,
      [this](const std::string&) -> Result<std::shared_ptr<net::HttpClient>> {
        return std::shared_ptr<net::HttpClient>(http_);
      },
      &clock_);
  ASSERT_TRUE(Login(SignToken(RsaKey(), GitHubClaims(), "key-1")).ok());
  EXPECT_EQ(Fetches(kDiscoveryUrl), 2u);
  EXPECT_EQ(Fetches(kJwksUrl), 1u);
}

TEST_F(JwtTest, JwksUrlWithCaPem) {
  ASSERT_TRUE(
      Write("config", {{"jwks_url", kJwksUrl}, {"jwks_ca_pem", "-----BEGIN CERTIFICATE-----"}})
          .ok());
  EXPECT_EQ(ca_pems_, (std::vector<std::string>{"-----BEGIN CERTIFICATE-----"}));
  EXPECT_EQ(Fetches(kJwksUrl), 1u);  // probed at write; the keys are kept
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  auto r = Login(SignToken(RsaKey(), GitHubClaims(), "key-1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Fetches(kJwksUrl), 1u);
}

TEST_F(JwtTest, EveryAlgorithmVerifies) {
  const TestKey p384 = TestKey::Ec("P-384", "ES384");
  const TestKey p521 = TestKey::Ec("P-521", "ES512");
  struct Case {
    const TestKey* key;
    std::string alg;
  };
  const std::vector<Case> cases = {
      {&RsaKey(), "RS256"}, {&RsaKey(), "RS384"}, {&RsaKey(), "RS512"}, {&RsaKey(), "PS256"},
      {&RsaKey(), "PS384"}, {&RsaKey(), "PS512"}, {&EcKey(), "ES256"},  {&p384, "ES384"},
      {&p521, "ES512"},     {&EdKey(), "EdDSA"},
  };
  ASSERT_TRUE(Write("config", {{"jwt_validation_pubkeys",
                                {RsaKey().PublicPem(), EcKey().PublicPem(), p384.PublicPem(),
                                 p521.PublicPem(), EdKey().PublicPem()}}})
                  .ok());
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  for (const auto& c : cases) {
    auto r = Login(SignToken(*c.key, GitHubClaims(), "", c.alg));
    EXPECT_TRUE(r.ok()) << c.alg << ": " << r.status().ToString();
  }
}

TEST_F(JwtTest, EcAndEd25519KeysFromJwks) {
  jwks_ = {{"keys", Json::array({EcKey().Jwk("ec"), EdKey().Jwk("ed"), RsaKey().Jwk("rsa"),
                                 Json{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}}})}};
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  EXPECT_TRUE(Login(SignToken(EcKey(), GitHubClaims(), "ec")).ok());
  EXPECT_TRUE(Login(SignToken(EdKey(), GitHubClaims(), "ed")).ok());
  EXPECT_TRUE(Login(SignToken(EcKey(), GitHubClaims())).ok());  // no kid: by key type
  // A symmetric JWK is never a verification key.
  Json header = {{"alg", "HS256"}, {"kid", "hmac"}};
  std::string input = B64Json(header) + "." + B64Json(GitHubClaims());
  std::string hs = input + "." + Base64UrlEncode(crypto::HmacSha256("secret", input));
  ExpectRefused(hs,
                "error validating token: error verifying token signature: unsupported signing "
                "algorithm \"HS256\"");
}

// ---------------------------------------------------------------------------------------------
// Tokens that are refused

TEST_F(JwtTest, RefusesAnotherRepository) {
  SetUpStatic();
  Json c = GitHubClaims();
  c["repository"] = "org/evil";
  c["sub"] = "repo:org/evil:ref:refs/heads/main";
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating claims: claim \"repository\" does not match any associated "
                "bound claim values");
}

TEST_F(JwtTest, RefusesExpiredToken) {
  SetUpStatic();
  std::string token = SignToken(RsaKey(), GitHubClaims());
  clock_.AdvanceSeconds(300 + 60);  // exp + clock skew leeway: still valid at the edge
  EXPECT_TRUE(Login(token).ok());
  clock_.AdvanceSeconds(1);
  ExpectRefused(token,
                "error validating token: invalid expiration time (exp) claim: token is expired");
}

TEST_F(JwtTest, RefusesNotYetValidAndIssuedInTheFuture) {
  SetUpStatic();
  Json c = GitHubClaims();
  c["nbf"] = kNow + 600;
  c["exp"] = kNow + 1200;
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating token: invalid not before (nbf) claim: token not yet valid");
  c = GitHubClaims();
  c["iat"] = kNow + 600;  // nbf in the past, exp ahead
  ExpectRefused(
      SignToken(RsaKey(), c),
      "error validating token: invalid issued at (iat) claim: token issued in the future");
  c["iat"] = kNow + 59;  // within the 60 s clock skew leeway
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
}

TEST_F(JwtTest, RefusesAlgNone) {
  SetUpStatic();
  std::string unsigned_token =
      B64Json({{"alg", "none"}, {"typ", "JWT"}}) + "." + B64Json(GitHubClaims()) + ".";
  ExpectRefused(unsigned_token,
                "error validating token: error verifying token signature: token must be signed");
  // "none" with some bytes where the signature goes is still unsigned.
  ExpectRefused(unsigned_token + "AAAA",
                "error validating token: error verifying token signature: token must be signed");
  // A real signature under a header whose alg is empty or missing.
  std::string no_alg = B64Json({{"typ", "JWT"}}) + "." + B64Json(GitHubClaims());
  no_alg += "." + Base64UrlEncode(RsaKey().Sign("RS256", no_alg));
  ExpectRefused(no_alg,
                "error validating token: error verifying token signature: malformed "
                "token: the header has no \"alg\"");
}

// The classic confusion: the RSA public key's bytes used as an HMAC secret.
TEST_F(JwtTest, RefusesHs256SignedWithThePublicKey) {
  SetUpStatic();
  const std::string pem = RsaKey().PublicPem();
  std::string input = B64Json({{"alg", "HS256"}, {"typ", "JWT"}}) + "." + B64Json(GitHubClaims());
  std::string token = input + "." + Base64UrlEncode(crypto::HmacSha256(pem, input));
  ExpectRefused(token,
                "error validating token: error verifying token signature: unsupported "
                "signing algorithm \"HS256\"");
  // Also against a JWKS, whatever its keys.
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  ExpectRefused(token,
                "error validating token: error verifying token signature: unsupported "
                "signing algorithm \"HS256\"");
}

TEST_F(JwtTest, RefusesTokenSignedByAnotherKey) {
  SetUpStatic();
  ExpectRefused(SignToken(OtherRsaKey(), GitHubClaims()),
                "error validating token: error verifying token signature: no known key "
                "successfully validated the token signature");
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  ExpectRefused(SignToken(OtherRsaKey(), GitHubClaims(), "key-1"),
                "error validating token: error verifying token signature: failed to verify id "
                "token signature");
  ExpectRefused(SignToken(OtherRsaKey(), GitHubClaims()),
                "error validating token: error verifying token signature: failed to verify id "
                "token signature");
}

TEST_F(JwtTest, RefusesWrongKid) {
  SetUpDiscovery();
  ExpectRefused(SignToken(RsaKey(), GitHubClaims(), "key-2"),
                "error validating token: error verifying token signature: failed to verify id "
                "token signature");
}

TEST_F(JwtTest, RefusesKeyTypeThatDoesNotFitTheAlgorithm) {
  // Only an EC key is configured: a token claiming RS256 finds no key to verify it, and a
  // token claiming ES256 signed by the RSA key fails.
  ASSERT_TRUE(Write("config", {{"jwt_validation_pubkeys", {EcKey().PublicPem()}}}).ok());
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  ExpectRefused(SignToken(RsaKey(), GitHubClaims()),
                "error validating token: error verifying token signature: no known key "
                "successfully validated the token signature");
  // An ES256 header over an RSA signature.
  std::string input = B64Json({{"alg", "ES256"}}) + "." + B64Json(GitHubClaims());
  std::string token = input + "." + Base64UrlEncode(RsaKey().Sign("RS256", input));
  ExpectRefused(token,
                "error validating token: error verifying token signature: no known key "
                "successfully validated the token signature");
  // An EdDSA key in a JWKS does not verify an ES256 claim either.
  jwks_ = {{"keys", Json::array({EdKey().Jwk("k")})}};
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  std::string es_input = B64Json({{"alg", "ES256"}, {"kid", "k"}}) + "." + B64Json(GitHubClaims());
  ExpectRefused(es_input + "." + Base64UrlEncode(EdKey().Sign("EdDSA", es_input)),
                "error validating token: error verifying token signature: failed to verify id "
                "token signature");
}

TEST_F(JwtTest, RefusesWrongIssuer) {
  SetUpStatic();
  Json c = GitHubClaims();
  c["iss"] = "https://gitlab.com";
  ExpectRefused(SignToken(RsaKey(), c), "error validating token: invalid issuer (iss) claim");
  c.erase("iss");
  ExpectRefused(SignToken(RsaKey(), c), "error validating token: invalid issuer (iss) claim");
}

TEST_F(JwtTest, RefusesWrongOrMissingAudience) {
  SetUpStatic();
  Json c = GitHubClaims();
  c["aud"] = "https://github.com/other";
  const std::string msg =
      "error validating token: invalid audience (aud) claim: audience claim does not match any "
      "expected audience";
  ExpectRefused(SignToken(RsaKey(), c), msg);
  c["aud"] = Json::array({"a", "b"});
  ExpectRefused(SignToken(RsaKey(), c), msg);
  c.erase("aud");
  ExpectRefused(SignToken(RsaKey(), c), msg);
  c["aud"] = Json::array({"x", kAudience});  // one of several matches
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
}

// Vault 1.16.3+: an audience in the token needs one bound to the role, in both forms of aud.
TEST_F(JwtTest, RefusesAudienceWhenRoleBindsNone) {
  SetUpStatic();
  ASSERT_TRUE(Write("role/deploy", {{"role_type", "jwt"}, {"bound_audiences", ""}}).ok());
  ASSERT_TRUE(Read("role/deploy")->data["bound_audiences"].empty());
  const std::string msg = "audience claim found in JWT but no audiences bound to the role";
  ExpectRefused(SignToken(RsaKey(), GitHubClaims()), msg);  // string form
  Json c = GitHubClaims();
  c["aud"] = Json::array({kAudience});
  ExpectRefused(SignToken(RsaKey(), c), msg);
  c.erase("aud");
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
}

TEST_F(JwtTest, RefusesMissingOrNonStringUserClaim) {
  SetUpStatic();
  Json c = GitHubClaims();
  c.erase("repository");
  ExpectRefused(SignToken(RsaKey(), c), "claim \"repository\" not found in token");
  c["repository"] = 42;
  ExpectRefused(SignToken(RsaKey(), c), "claim \"repository\" could not be converted to string");
  c["repository"] = "";
  ExpectRefused(SignToken(RsaKey(), c), "claim \"repository\" is empty");
}

TEST_F(JwtTest, RefusesTamperedPayload) {
  SetUpStatic();
  std::string token = SignToken(RsaKey(), GitHubClaims());
  Json evil = GitHubClaims();
  evil["repository"] = "org/evil";
  size_t d1 = token.find('.');
  size_t d2 = token.find('.', d1 + 1);
  std::string tampered = token.substr(0, d1 + 1) + B64Json(evil) + token.substr(d2);
  ExpectRefused(tampered,
                "error validating token: error verifying token signature: no known key "
                "successfully validated the token signature");
  // A flipped bit in the signature too.
  std::string flipped = token;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  ExpectRefused(flipped,
                "error validating token: error verifying token signature: no known key "
                "successfully validated the token signature");
}

TEST_F(JwtTest, RefusesMalformedTokens) {
  SetUpStatic();
  const std::string prefix = "error validating token: error verifying token signature: ";
  ExpectRefused("not-a-jwt", prefix + "malformed token: compact JWS format must have three parts");
  ExpectRefused("a.b.c.d.e", prefix + "malformed token: compact JWS format must have three parts");
  ExpectRefused("!!!." + B64Json(GitHubClaims()) + ".c2ln",
                prefix + "malformed token: the header is not valid base64url");
  ExpectRefused(Base64UrlEncode("[1]") + "." + B64Json(GitHubClaims()) + ".c2ln",
                prefix + "malformed token: the header is not a JSON object");
  // The JSON serialization (which could carry several signatures) is not accepted.
  Json general = {
      {"payload", B64Json(GitHubClaims())},
      {"signatures",
       Json::array({Json{{"protected", B64Json({{"alg", "RS256"}})}, {"signature", "c2ln"}},
                    Json{{"protected", B64Json({{"alg", "RS256"}})}, {"signature", "c2ln"}}})}};
  ExpectRefused(DumpJson(general),
                prefix + "malformed token: compact JWS format must have three parts");
  // An extension the token says must be understood.
  Json crit_header = {{"alg", "RS256"}, {"crit", {"exp"}}, {"exp", 1}};
  std::string input = B64Json(crit_header) + "." + B64Json(GitHubClaims());
  ExpectRefused(input + "." + Base64UrlEncode(RsaKey().Sign("RS256", input)),
                prefix + "malformed token: unsupported critical header parameters (crit)");
  // A verified payload that is not a JSON object.
  std::string arr = B64Json({{"alg", "RS256"}}) + "." + Base64UrlEncode("[1,2]");
  ExpectRefused(arr + "." + Base64UrlEncode(RsaKey().Sign("RS256", arr)),
                prefix + "the payload is not a JSON object");
}

TEST_F(JwtTest, RefusesOversizedToken) {
  SetUpStatic();
  Json c = GitHubClaims();
  c["padding"] = std::string(kMaxTokenBytes, 'x');
  ExpectRefused(SignToken(RsaKey(), c), "token is too large: the limit is 65536 bytes");
}

// Deeply nested claims are parsed up to util/json's depth limit and never walked recursively.
TEST_F(JwtTest, DeeplyNestedClaims) {
  SetUpStatic({{"bound_claims", {{"repository", "org/app"}, {"/deep/0/0", "x"}}}});
  auto token_with_depth = [&](int depth) {
    std::string claims = DumpJson(GitHubClaims());
    claims.pop_back();
    claims += ",\"deep\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    std::string input = B64Json({{"alg", "RS256"}}) + "." + Base64UrlEncode(claims);
    return input + "." + Base64UrlEncode(RsaKey().Sign("RS256", input));
  };
  ExpectRefused(token_with_depth(9000),
                "error validating claims: claim \"/deep/0/0\" does not match any associated bound "
                "claim values");
  ExpectRefused(token_with_depth(20000),
                "error validating token: error verifying token signature: the payload is not a "
                "JSON object");
}

TEST_F(JwtTest, SupportedAlgorithmsAreCheckedAfterTheSignature) {
  ASSERT_TRUE(
      Write("config", {{"jwt_validation_pubkeys", {RsaKey().PublicPem(), EcKey().PublicPem()}},
                       {"jwt_supported_algs", "RS256"}})
          .ok());
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  EXPECT_TRUE(Login(SignToken(RsaKey(), GitHubClaims())).ok());
  ExpectRefused(SignToken(EcKey(), GitHubClaims()),
                "error validating token: invalid algorithm (alg) header parameter: token signed "
                "with unexpected algorithm");
  ExpectRefused(SignToken(RsaKey(), GitHubClaims(), "", "PS256"),
                "error validating token: invalid algorithm (alg) header parameter: token signed "
                "with unexpected algorithm");
}

TEST_F(JwtTest, RefusesTimelessTokenAndBadTimeClaims) {
  SetUpStatic();
  Json c = GitHubClaims();
  c.erase("iat");
  c.erase("nbf");
  c.erase("exp");
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating token: no issued at (iat), not before (nbf), or expiration time "
                "(exp) claims in token");
  c["exp"] = "tomorrow";
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating token: expected number for numeric date (exp)");
  c["iat"] = kNow;
  c["exp"] = 1e300;  // absurd, but not an overflow
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
  c["nbf"] = -1e300;
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
  c.erase("nbf");
  c["exp"] = -1e300;
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating token: invalid expiration time (exp) claim: token is expired");
}

// CAP's leeways: expiration_leeway and not_before_leeway only make up a missing exp or nbf; the
// clock skew leeway applies to every time check; 0 means the default, -1 none.
TEST_F(JwtTest, Leeways) {
  SetUpStatic();
  Json c = GitHubClaims();
  c.erase("exp");
  c.erase("nbf");
  c["iat"] = kNow - 150 - 60;  // exp := iat + 150; still within the 60 s skew
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
  c["iat"] = kNow - 150 - 61;
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating token: invalid expiration time (exp) claim: token is expired");
  ASSERT_TRUE(Write("role/deploy", Json{{"role_type", "jwt"}, {"expiration_leeway", "1h"}}).ok());
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
  ASSERT_TRUE(
      Write("role/deploy",
            Json{{"role_type", "jwt"}, {"expiration_leeway", -1}, {"clock_skew_leeway", -1}})
          .ok());
  c["iat"] = kNow - 1;  // exp := iat, now is past it
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating token: invalid expiration time (exp) claim: token is expired");
  // Only exp: nbf := exp - not_before_leeway.
  Json only_exp = GitHubClaims();
  only_exp.erase("iat");
  only_exp.erase("nbf");
  only_exp["exp"] = kNow + 100;
  ASSERT_TRUE(Write("role/deploy", Json{{"role_type", "jwt"},
                                        {"not_before_leeway", 50},
                                        {"clock_skew_leeway", -1},
                                        {"expiration_leeway", 0}})
                  .ok());
  ExpectRefused(SignToken(RsaKey(), only_exp),
                "error validating token: invalid not before (nbf) claim: token not yet valid");
  ASSERT_TRUE(Write("role/deploy", Json{{"role_type", "jwt"}, {"not_before_leeway", 0}}).ok());
  EXPECT_TRUE(Login(SignToken(RsaKey(), only_exp)).ok());
}

// ---------------------------------------------------------------------------------------------
// Bound claims, mappings, user claim

TEST_F(JwtTest, GlobBoundClaims) {
  SetUpStatic(
      {{"bound_claims_type", "glob"},
       {"bound_claims",
        {{"sub", {"repo:org/*:ref:refs/heads/main", "repo:org/app:*"}}, {"ref", "refs/*"}}}});
  EXPECT_TRUE(Login(SignToken(RsaKey(), GitHubClaims())).ok());
  Json c = GitHubClaims();
  c["sub"] = "repo:org/app:environment:prod";  // the second pattern
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
  c["sub"] = "repo:other/app:ref:refs/heads/main";
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating claims: claim \"sub\" does not match any associated bound "
                "claim values");
  c["sub"] = "repo:org/app:ref:refs/heads/main";
  c["ref"] = 7;  // only strings match a glob
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating claims: claim \"ref\" does not match any associated bound "
                "claim values");
}

TEST(GlobMatch, Semantics) {
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("abc", "abc"));
  EXPECT_FALSE(GlobMatch("abc", "abcd"));
  EXPECT_TRUE(GlobMatch("repo:org/*", "repo:org/app"));
  EXPECT_TRUE(GlobMatch("repo:org/app*", "repo:org/app-evil"));  // why a broad glob is risky
  EXPECT_FALSE(GlobMatch("repo:org/*", "repo:orgx/app"));
  EXPECT_TRUE(GlobMatch("*:main", "repo:x:main"));
  EXPECT_FALSE(GlobMatch("*:main", "repo:x:main2"));
  EXPECT_TRUE(GlobMatch("a*b*c", "abc"));
  EXPECT_TRUE(GlobMatch("a*b*c", "a-b-b-c"));
  EXPECT_FALSE(GlobMatch("a*b*c", "a-c-b"));
  EXPECT_FALSE(GlobMatch("ab*ba", "aba"));  // prefix and suffix may not overlap
  EXPECT_TRUE(GlobMatch("ab*ba", "abba"));
  EXPECT_TRUE(GlobMatch("**", "x"));
  EXPECT_TRUE(GlobMatch("a?c", "a?c"));  // only '*' is special
  EXPECT_FALSE(GlobMatch("a?c", "abc"));
}

TEST_F(JwtTest, JsonPointerBoundClaims) {
  SetUpStatic(
      {{"bound_claims", {{"/org/team", "platform"}, {"/groups/1", "admins"}, {"/a~1b", "slash"}}}});
  Json c = GitHubClaims();
  c["org"] = {{"team", "platform"}};
  c["groups"] = {"dev", "admins"};
  c["a/b"] = "slash";
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
  c["org"]["team"] = "sales";
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating claims: claim \"/org/team\" does not match any associated bound "
                "claim values");
  c.erase("org");
  ExpectRefused(SignToken(RsaKey(), c), "error validating claims: claim \"/org/team\" is missing");
}

TEST_F(JwtTest, StringBoundClaimsAreTypeExactAndListsMatchEitherWay) {
  SetUpStatic({{"bound_claims",
                {{"repository", "org/app"},
                 {"ref_protected", true},
                 {"run_attempt", 2},
                 {"env", {"staging", "prod"}}}}});
  Json c = GitHubClaims();
  c["ref_protected"] = true;
  c["run_attempt"] = 2.7;  // numbers compare truncated to integers
  c["env"] = Json::array({"dev", "prod"});
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
  c["ref_protected"] = "true";  // a string is not a bool
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating claims: claim \"ref_protected\" does not match any associated "
                "bound claim values");
  c["ref_protected"] = true;
  c["run_attempt"] = "2";
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating claims: claim \"run_attempt\" does not match any associated "
                "bound claim values");
  c["run_attempt"] = 2;
  c["env"] = {{"name", "prod"}};
  ExpectRefused(SignToken(RsaKey(), c),
                "error validating claims: received claim \"env\" is not a string, bool, int or "
                "list");
}

TEST_F(JwtTest, ClaimMappingsAndUserClaimPointer) {
  SetUpStatic({{"user_claim", "/actor_info/login"},
               {"user_claim_json_pointer", true},
               {"claim_mappings",
                {{"/actor_info/id", "actor_id"}, {"run_number", "run"}, {"absent", "x"}}}});
  Json c = GitHubClaims();
  c["actor_info"] = {{"login", "alice"}, {"id", 1234}};
  c["run_number"] = 24;
  auto r = Login(SignToken(RsaKey(), c));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->login->alias_name, "alice");
  EXPECT_EQ(r->login->metadata, (Json{{"role", "deploy"}, {"actor_id", "1234"}, {"run", "24"}}));
  c["run_number"] = true;
  ExpectRefused(SignToken(RsaKey(), c), "error converting claim 'run_number' to string");
  // Without user_claim_json_pointer the name is a plain key, even with a '/'.
  ASSERT_TRUE(
      Write("role/deploy", Json{{"role_type", "jwt"}, {"user_claim_json_pointer", false}}).ok());
  c["run_number"] = "24";
  ExpectRefused(SignToken(RsaKey(), c), "claim \"/actor_info/login\" not found in token");
}

TEST_F(JwtTest, GroupsClaim) {
  SetUpStatic({{"groups_claim", "groups"}});
  ExpectRefused(SignToken(RsaKey(), GitHubClaims()),
                "failed to fetch groups: \"groups\" claim not found in token");
  Json c = GitHubClaims();
  c["groups"] = {{"a", 1}};
  ExpectRefused(SignToken(RsaKey(), c), "\"groups\" claim could not be converted to string list");
  c["groups"] = {"dev", ""};
  EXPECT_TRUE(Login(SignToken(RsaKey(), c)).ok());
}

// ---------------------------------------------------------------------------------------------
// Login preconditions

TEST_F(JwtTest, LoginPreconditions) {
  std::string token = SignToken(RsaKey(), GitHubClaims());
  ExpectRefused(token, "could not load configuration");
  SetUpStatic();
  ExpectRefused(token, "missing role", "");
  ExpectRefused(token, "role \"nope\" could not be found", "nope");
  ExpectRefused("", "missing token");
  EXPECT_TRUE(Login(token, "DEPLOY").ok());  // role names are lower-cased
  // default_role serves a login without one.
  ASSERT_TRUE(Write("config", {{"jwt_validation_pubkeys", {RsaKey().PublicPem()}},
                               {"default_role", "Deploy"}})
                  .ok());
  EXPECT_TRUE(Login(token, "").ok());
  // An oidc role cannot log in with a bare JWT.
  ASSERT_TRUE(
      Write("role/web", {{"user_claim", "sub"}, {"allowed_redirect_uris", "https://x/cb"}}).ok());
  ExpectRefused(token, "role with oidc role_type is not allowed", "web");
}

TEST_F(JwtTest, TokenBoundCidrs) {
  SetUpStatic({{"token_bound_cidrs", "10.0.0.0/8"}});
  std::string token = SignToken(RsaKey(), GitHubClaims());
  EXPECT_TRUE(Login(token, "deploy", "10.1.2.3").ok());
  auto r = Login(token, "deploy", "192.168.1.1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  r = Login(token, "deploy", "");
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(JwtTest, OidcFlowPathsSayTheyAreNotSupported) {
  EXPECT_EQ(backend_->UnauthenticatedPaths(),
            (std::vector<std::string>{"login", "oidc/auth_url", "oidc/callback"}));
  auto r = Write("oidc/auth_url",
                 {{"role", "web"}, {"redirect_uri", "http://localhost:8250/oidc/callback"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not supported"), std::string::npos);
  r = Call(Operation::kRead, "oidc/callback", {{"state", "s"}, {"code", "c"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Key fetching

TEST_F(JwtTest, UnknownKidRefetchIsRateLimited) {
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  EXPECT_EQ(Fetches(kJwksUrl), 1u);
  EXPECT_TRUE(Login(SignToken(RsaKey(), GitHubClaims(), "key-1")).ok());
  EXPECT_EQ(Fetches(kJwksUrl), 1u);

  clock_.AdvanceSeconds(kRefetchIntervalSeconds + 1);
  const std::string bogus = SignToken(OtherRsaKey(), GitHubClaims(), "made-up");
  ExpectRefused(bogus,
                "error validating token: error verifying token signature: failed to "
                "verify id token signature");
  EXPECT_EQ(Fetches(kJwksUrl), 2u);  // one refetch for the unknown kid
  for (int i = 0; i < 50; ++i) (void)Login(bogus);
  EXPECT_EQ(Fetches(kJwksUrl), 2u);  // a flood of them: none
  // The issuer rotates to a new key: once the interval has passed, its first token refetches.
  jwks_["keys"].push_back(OtherRsaKey().Jwk("key-2"));
  const std::string rotated = SignToken(OtherRsaKey(), GitHubClaims(), "key-2");
  ExpectRefused(rotated,
                "error validating token: error verifying token signature: failed to "
                "verify id token signature");
  clock_.AdvanceSeconds(kRefetchIntervalSeconds);
  EXPECT_TRUE(Login(rotated).ok());
  EXPECT_EQ(Fetches(kJwksUrl), 3u);
  // A known kid whose signature is wrong does not refetch at all.
  clock_.AdvanceSeconds(kRefetchIntervalSeconds + 1);
  ExpectRefused(SignToken(RsaKey(), GitHubClaims(), "key-2"),
                "error validating token: error verifying token signature: failed to verify id "
                "token signature");
  EXPECT_EQ(Fetches(kJwksUrl), 3u);
  // Keys older than the maximum age are fetched again at the next login.
  clock_.AdvanceSeconds(kMaxKeyAgeSeconds);
  Json fresh = GitHubClaims();
  fresh["iat"] = fresh["nbf"] = clock_.NowSeconds();
  fresh["exp"] = clock_.NowSeconds() + 300;
  EXPECT_TRUE(Login(SignToken(RsaKey(), fresh, "key-1")).ok());
  EXPECT_EQ(Fetches(kJwksUrl), 4u);
}

TEST_F(JwtTest, FailingIssuerIsNotHammered) {
  SetUpDiscovery();
  jwks_status_ = 503;
  const std::string token = SignToken(RsaKey(), GitHubClaims(), "key-1");
  auto r = Login(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      r.status().message(),
      "error validating token: error verifying token signature: fetching keys: unexpected "
      "HTTP status 503 from GET https://token.actions.githubusercontent.com/.well-known/jwks");
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(Login(token).ok());
  EXPECT_EQ(Fetches(kJwksUrl), 1u);
  jwks_status_ = 200;
  clock_.AdvanceSeconds(kRefetchIntervalSeconds);
  EXPECT_TRUE(Login(token).ok());
  EXPECT_EQ(Fetches(kJwksUrl), 2u);
}

TEST_F(JwtTest, ConfigWriteDropsCachedKeys) {
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  EXPECT_TRUE(Login(SignToken(RsaKey(), GitHubClaims(), "key-1")).ok());
  // The issuer's keys change and the config is written again: the new keys apply at once.
  jwks_ = {{"keys", Json::array({OtherRsaKey().Jwk("key-1")})}};
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  EXPECT_TRUE(Login(SignToken(OtherRsaKey(), GitHubClaims(), "key-1")).ok());
  ExpectRefused(SignToken(RsaKey(), GitHubClaims(), "key-1"),
                "error validating token: error verifying token signature: failed to verify id "
                "token signature");
  // And a switch to static keys takes effect too.
  ASSERT_TRUE(Write("config", {{"jwt_validation_pubkeys", {RsaKey().PublicPem()}}}).ok());
  EXPECT_TRUE(Login(SignToken(RsaKey(), GitHubClaims(), "key-1")).ok());
}

// An HTTP client whose answers the test gives later: exchanges stay pending until Complete.
class DeferredHttpClient : public net::HttpClient {
 public:
  void Send(net::HttpRequest request, Callback done) override {
    urls_.push_back(request.url);
    pending_.push_back(std::move(done));
  }
  size_t pending() const { return pending_.size(); }
  const std::vector<std::string>& urls() const { return urls_; }
  void CompleteNext(int status, const std::string& body) {
    Callback cb = std::move(pending_.front());
    pending_.erase(pending_.begin());
    cb(net::HttpResponse{status, {}, body});
  }

 private:
  std::vector<Callback> pending_;
  std::vector<std::string> urls_;
};

// Logins that arrive while the keys are being fetched wait for that one fetch.
TEST(JwtKeyFetch, ConcurrentLoginsShareOneFetch) {
  FakeClock clock(kNow * 1000000000LL);
  auto client = std::make_shared<DeferredHttpClient>();
  auto backend = NewJwtBackend(
      logical::MountInfo{"jwt/", "jwt", 0, 0},
      [&](const std::string&) -> Result<std::shared_ptr<net::HttpClient>> {
        return std::shared_ptr<net::HttpClient>(client);
      },
      &clock);
  logical::MemStorage storage;
  std::deque<Request> requests;
  auto start = [&](const std::string& path, Json data, std::optional<Result<Response>>* out) {
    Request& req = requests.emplace_back();
    req.operation = Operation::kUpdate;
    req.path = path;
    req.data = std::move(data);
    req.storage = &storage;
    StartTask(backend->HandleRequestAsync(req),
              [out](Result<Response> r) { out->emplace(std::move(r)); });
  };
  std::optional<Result<Response>> config;
  start("config", {{"oidc_discovery_url", kIssuer}}, &config);
  ASSERT_EQ(client->pending(), 1u);
  client->CompleteNext(200, DumpJson(Json{{"issuer", kIssuer}, {"jwks_uri", kJwksUrl}}));
  ASSERT_TRUE(config && config->ok());
  std::optional<Result<Response>> role;
  start("role/deploy", GitHubRole(), &role);
  ASSERT_TRUE(role && role->ok());

  std::vector<std::optional<Result<Response>>> logins(5);
  for (auto& out : logins)
    start("login", {{"role", "deploy"}, {"jwt", SignToken(RsaKey(), GitHubClaims(), "key-1")}},
          &out);
  ASSERT_EQ(client->pending(), 1u);  // one JWKS fetch; the other logins wait for it
  for (const auto& out : logins) EXPECT_FALSE(out.has_value());
  client->CompleteNext(200, DumpJson(Json{{"keys", Json::array({RsaKey().Jwk("key-1")})}}));
  for (const auto& out : logins) {
    ASSERT_TRUE(out.has_value());
    EXPECT_TRUE(out->ok()) << out->status().ToString();
  }
  EXPECT_EQ(client->urls(), (std::vector<std::string>{kDiscoveryUrl, kJwksUrl}));
}

TEST(ParseJwks, SkipsKeysItCannotUse) {
  const TestKey small = TestKey::Rsa(1024);
  Json doc = {
      {"keys", Json::array({RsaKey().Jwk("ok"), small.Jwk("small"),
                            Json{{"kty", "RSA"}, {"use", "enc"}, {"n", "AQAB"}, {"e", "AQAB"}},
                            Json{{"kty", "EC"}, {"crv", "secp256k1"}, {"x", "AA"}, {"y", "AA"}},
                            Json{{"kty", "EC"}, {"crv", "P-256"}, {"x", "AAAA"}, {"y", "AAAA"}},
                            Json{{"kty", "oct"}, {"k", "c2VjcmV0"}}, Json(3), EcKey().Jwk("ec")})}};
  Json bad_alg = EdKey().Jwk("ed");
  bad_alg["alg"] = "RSA-OAEP";
  doc["keys"].push_back(bad_alg);
  auto parsed = ParseJwks(DumpJson(doc));
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->keys.size(), 2u);
  EXPECT_EQ(parsed->keys[0].kid, "ok");
  EXPECT_EQ(parsed->keys[1].kid, "ec");
  EXPECT_EQ(parsed->skipped, 7u);
  EXPECT_FALSE(ParseJwks("{\"keys\": 3}").ok());
  EXPECT_FALSE(ParseJwks("[]").ok());
}

// ---------------------------------------------------------------------------------------------
// Config

TEST_F(JwtTest, ConfigValidation) {
  auto expect = [&](Json data, const std::string& msg) {
    auto r = Write("config", data);
    ASSERT_FALSE(r.ok()) << "accepted: " << data.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), msg) << data.dump();
  };
  const std::string one =
      "exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or 'oidc_discovery_url' "
      "must be set";
  expect(Json::object(), one);
  expect({{"jwks_url", kJwksUrl}, {"oidc_discovery_url", kIssuer}}, one);
  expect({{"jwks_url", kJwksUrl}, {"jwt_validation_pubkeys", {RsaKey().PublicPem()}}}, one);
  expect({{"jwks_pairs", Json::array({Json{{"jwks_url", kJwksUrl}}})}},
         "jwks_pairs is not supported by this server");
  expect({{"jwks_url", kJwksUrl}, {"oidc_client_id", "id"}},
         "both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC");
  expect({{"jwks_url", kJwksUrl}, {"oidc_client_id", "id"}, {"oidc_client_secret", "s"}},
         "'oidc_discovery_url' must be set for OIDC");
  expect({{"jwt_validation_pubkeys", {"not a key"}}},
         "error parsing public key: data does not contain any valid public keys");
  expect({{"jwt_validation_pubkeys", {RsaKey().PublicPem() + "trailing"}}},
         "error parsing public key: unexpected trailing data after parsed PEM block");
  expect({{"jwt_validation_pubkeys", {TestKey::Rsa(1024).PublicPem()}}},
         "error parsing public key: RSA keys must have at least 2048 bits (this one has 1024)");
  expect(
      {{"jwt_validation_pubkeys", {RsaKey().PublicPem()}}, {"jwt_supported_algs", "RS256,HS256"}},
      "invalid jwt_supported_algs: unsupported signing algorithm \"HS256\"");
  expect({{"jwt_validation_pubkeys", {RsaKey().PublicPem()}}, {"oidc_response_types", "token"}},
         "invalid response_types [token]. 'code' and 'id_token' are allowed");
  expect({{"jwt_validation_pubkeys", {RsaKey().PublicPem()}}, {"oidc_response_types", "id_token"}},
         "query response_mode may not be used with an id_token response_type");
  expect({{"jwt_validation_pubkeys", {RsaKey().PublicPem()}}, {"oidc_response_mode", "fragment"}},
         "invalid response_mode: \"fragment\"");
  expect({{"jwt_validation_pubkeys", {RsaKey().PublicPem()}},
          {"unsupported_critical_cert_extensions", "1.2.3.4"}},
         "unsupported_critical_cert_extensions is not supported by this server");
  expect({{"jwks_url", kJwksUrl}, {"jwks_ca_pem", "not a pem"}},
         "error checking jwks_ca_pem: could not parse CA PEM value successfully");

  // Remote sources are fetched and checked at write.
  jwks_status_ = 404;
  expect({{"jwks_url", kJwksUrl}}, std::string("error checking jwks URL ") + kJwksUrl +
                                       ": unexpected HTTP status 404 from GET " + kJwksUrl);
  jwks_status_ = 200;
  jwks_body_ = "<html>";
  expect({{"jwks_url", kJwksUrl}}, std::string("error checking jwks URL ") + kJwksUrl +
                                       ": the JWKS from GET " + kJwksUrl + " is not a JSON object");
  jwks_body_ = "{\"keys\": [" + std::string(kMaxDocumentBytes, ' ') + "]}";
  expect({{"jwks_url", kJwksUrl}}, std::string("error checking jwks URL ") + kJwksUrl +
                                       ": the JWKS from GET " + kJwksUrl +
                                       " is larger than 1048576 bytes");
  jwks_body_.clear();
  discovery_status_ = 500;
  expect({{"oidc_discovery_url", kIssuer}},
         std::string("error checking oidc discovery URL: unexpected HTTP status 500 from GET ") +
             kDiscoveryUrl);
  discovery_status_ = 200;
  discovery_["issuer"] = "https://evil.example";
  expect({{"oidc_discovery_url", kIssuer}},
         "error checking oidc discovery URL: issuer did not match the returned issuer, expected "
         "\"https://token.actions.githubusercontent.com\" got \"https://evil.example\"");
  discovery_["issuer"] = kIssuer;
  discovery_.erase("jwks_uri");
  expect({{"oidc_discovery_url", kIssuer}},
         std::string("error checking oidc discovery URL: the discovery document from GET ") +
             kDiscoveryUrl + " has no jwks_uri");
  expect({{"oidc_discovery_url", "https://unknown.example"}},
         "error checking oidc discovery URL: unexpected HTTP status 404 from GET "
         "https://unknown.example/.well-known/openid-configuration");
  // Nothing was stored by any of these.
  EXPECT_TRUE(Read("config")->Empty());
}

TEST_F(JwtTest, ConfigReadAndReplace) {
  EXPECT_TRUE(Read("config")->Empty());
  ASSERT_TRUE(Write("config", {{"oidc_discovery_url", kIssuer},
                               {"oidc_client_id", "client"},
                               {"oidc_client_secret", "s3cret"},
                               {"bound_issuer", kIssuer},
                               {"default_role", "Deploy"},
                               {"jwt_supported_algs", {"RS256", "ES256"}},
                               {"provider_config", {{"provider", "azure"}}}})
                  .ok());
  auto r = Read("config");
  ASSERT_TRUE(r.ok());
  Json d = r->data;
  EXPECT_EQ(d["oidc_discovery_url"], kIssuer);
  EXPECT_EQ(d["oidc_client_id"], "client");
  EXPECT_FALSE(d.contains("oidc_client_secret"));
  EXPECT_EQ(DumpJson(d).find("s3cret"), std::string::npos);
  EXPECT_EQ(d["default_role"], "deploy");
  EXPECT_EQ(d["jwt_supported_algs"], Json::array({"RS256", "ES256"}));
  EXPECT_EQ(d["jwks_pairs"], Json::array());
  EXPECT_EQ(d["jwt_validation_pubkeys"], Json::array());
  EXPECT_EQ(d["namespace_in_state"], true);  // new configs
  EXPECT_EQ(d["provider_config"], (Json{{"provider", "azure"}}));
  for (const char* k :
       {"oidc_discovery_ca_pem", "oidc_response_mode", "oidc_response_types", "jwks_url",
        "jwks_ca_pem", "bound_issuer", "unsupported_critical_cert_extensions"})
    EXPECT_TRUE(d.contains(k)) << k;
  // A write replaces the config whole; namespace_in_state keeps its value unless sent.
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}, {"namespace_in_state", false}}).ok());
  ASSERT_TRUE(Write("config", {{"jwks_url", kJwksUrl}}).ok());
  d = Read("config")->data;
  EXPECT_EQ(d["oidc_discovery_url"], "");
  EXPECT_EQ(d["bound_issuer"], "");
  EXPECT_EQ(d["namespace_in_state"], false);
}

// ---------------------------------------------------------------------------------------------
// Roles

TEST_F(JwtTest, RoleValidation) {
  auto expect = [&](Json data, const std::string& msg) {
    auto r = Write("role/r", data);
    ASSERT_FALSE(r.ok()) << "accepted: " << data.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), msg) << data.dump();
  };
  expect({{"role_type", "saml"}, {"user_claim", "sub"}}, "invalid 'role_type': saml");
  expect({{"role_type", "jwt"}, {"bound_subject", "x"}},
         "a user claim must be defined on the role");
  expect({{"role_type", "jwt"}, {"user_claim", "sub"}},
         "must have at least one bound constraint when creating/updating a role");
  expect({{"user_claim", "sub"}, {"bound_subject", "x"}},
         "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_subject", "x"},
          {"bound_claims_type", "regex"}},
         "invalid 'bound_claims_type': regex");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_claims_type", "glob"},
          {"bound_claims", {{"n", 5}}}},
         "claim is not a string: 5");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_claims_type", "glob"},
          {"bound_claims", {{"n", {{"a", "b"}}}}}},
         "claim is not a string or list: {\"a\":\"b\"}");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_subject", "x"},
          {"claim_mappings", {{"sub", "role"}}}},
         "metadata key \"role\" is reserved and may not be a mapping destination");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_subject", "x"},
          {"claim_mappings", {{"a", "k"}, {"b", "k"}}}},
         "multiple keys are mapped to metadata key \"k\"");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_subject", "x"},
          {"token_ttl", 600},
          {"token_max_ttl", 60}},
         "'token_ttl' cannot be greater than 'token_max_ttl'");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_subject", "x"},
          {"token_type", "batch"}},
         "token_type \"batch\" is not supported: this server issues service tokens only "
         "(token_type \"service\")");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_subject", "x"},
          {"token_period", "800h"}},
         "'period' of '\"800h0m0s\"' is greater than the backend's maximum lease TTL of "
         "'\"768h0m0s\"'");
  expect({{"role_type", "jwt"},
          {"user_claim", "sub"},
          {"bound_subject", "x"},
          {"callback_mode", "push"}},
         "invalid 'callback_mode': push");
  auto r =
      Write("role/r", {{"role_type", "jwt"}, {"user_claim", "sub"}, {"clock_skew_leeway", "soon"}});
  EXPECT_FALSE(r.ok());
  // Each bound constraint is enough on its own; CIDRs too.
  for (Json bound :
       {Json{{"bound_audiences", "a"}}, Json{{"bound_subject", "s"}},
        Json{{"bound_claims", {{"k", "v"}}}}, Json{{"token_bound_cidrs", "10.0.0.0/8"}},
        Json{{"bound_cidrs", "10.0.0.0/8"}}}) {
    bound["role_type"] = "jwt";
    bound["user_claim"] = "sub";
    EXPECT_TRUE(Write("role/ok", bound).ok()) << bound.dump();
  }
  EXPECT_TRUE(Read("role/r")->Empty());
}

TEST_F(JwtTest, RoleReadListDeleteAndDefaults) {
  auto w = Write("role/Deploy", GitHubRole());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(w->Empty());  // 204
  auto r = Read("role/deploy");
  ASSERT_TRUE(r.ok());
  Json d = r->data;
  EXPECT_EQ(d["role_type"], "jwt");
  EXPECT_EQ(d["user_claim"], "repository");
  EXPECT_EQ(d["user_claim_json_pointer"], false);
  EXPECT_EQ(d["bound_audiences"], Json::array({kAudience}));
  EXPECT_EQ(d["bound_subject"], "");
  EXPECT_EQ(d["bound_claims_type"], "string");
  EXPECT_EQ(d["bound_claims"], (Json{{"repository", "org/app"}}));
  EXPECT_EQ(d["claim_mappings"], (Json{{"ref", "git_ref"}, {"actor", "actor"}}));
  EXPECT_EQ(d["groups_claim"], "");
  EXPECT_TRUE(d["allowed_redirect_uris"].is_null());
  EXPECT_TRUE(d["oidc_scopes"].is_null());
  EXPECT_EQ(d["callback_mode"], "client");
  EXPECT_EQ(d["clock_skew_leeway"], 0);
  EXPECT_EQ(d["expiration_leeway"], 0);
  EXPECT_EQ(d["not_before_leeway"], 0);
  EXPECT_EQ(d["verbose_oidc_logging"], false);
  EXPECT_EQ(d["max_age"], 0);
  EXPECT_EQ(d["token_policies"], Json::array({"app", "deploy"}));
  EXPECT_EQ(d["token_ttl"], 600);
  EXPECT_EQ(d["token_type"], "default");
  EXPECT_FALSE(d.contains("policies"));
  EXPECT_FALSE(d.contains("poll_interval"));

  // Legacy names are accepted and echoed; signed leeways keep -1.
  ASSERT_TRUE(Write("role/deploy", {{"role_type", "jwt"},
                                    {"policies", "old"},
                                    {"ttl", 60},
                                    {"clock_skew_leeway", -1},
                                    {"expiration_leeway", "5m"}})
                  .ok());
  d = Read("role/deploy")->data;
  EXPECT_EQ(d["policies"], Json::array({"old"}));
  EXPECT_EQ(d["token_policies"], Json::array({"old"}));
  EXPECT_EQ(d["ttl"], 60);
  EXPECT_EQ(d["clock_skew_leeway"], -1);
  EXPECT_EQ(d["expiration_leeway"], 300);
  EXPECT_EQ(d["user_claim"], "repository");  // kept

  // As in Vault, a write without role_type makes the role an oidc role, which needs redirect
  // URIs; and a write without bound_claims_type resets it to "string".
  ASSERT_TRUE(Write("role/deploy", {{"role_type", "jwt"}, {"bound_claims_type", "glob"}}).ok());
  EXPECT_EQ(Read("role/deploy")->data["bound_claims_type"], "glob");
  auto u = Write("role/deploy", {{"user_claim", "actor"}});
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(),
            "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  ASSERT_TRUE(Write("role/deploy", {{"allowed_redirect_uris", "https://vault/ui/callback"}}).ok());
  d = Read("role/deploy")->data;
  EXPECT_EQ(d["role_type"], "oidc");
  EXPECT_EQ(d["bound_claims_type"], "string");

  // Warnings, list, delete.
  auto warn = Write("role/two", {{"role_type", "jwt"},
                                 {"user_claim", "sub"},
                                 {"bound_subject", "s"},
                                 {"verbose_oidc_logging", true},
                                 {"groups_claim", "groups"},
                                 {"token_max_ttl", "9999h"}});
  ASSERT_TRUE(warn.ok());
  EXPECT_EQ(warn->warnings.size(), 3u);
  auto glob_only = Write("role/three", {{"role_type", "jwt"},
                                        {"user_claim", "sub"},
                                        {"bound_claims_type", "glob"},
                                        {"bound_claims", {{"sub", "repo:org/app*"}}}});
  ASSERT_TRUE(glob_only.ok());
  ASSERT_EQ(glob_only->warnings.size(), 1u);
  EXPECT_NE(glob_only->warnings[0].find("bound only by glob patterns"), std::string::npos);
  ASSERT_TRUE(Call(Operation::kDelete, "role/three").ok());
  auto list = Call(Operation::kList, "role/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->data["keys"], Json::array({"deploy", "two"}));
  ASSERT_TRUE(Call(Operation::kDelete, "role/deploy").ok());
  EXPECT_TRUE(Read("role/deploy")->Empty());
  ASSERT_TRUE(Call(Operation::kDelete, "role/two").ok());
  EXPECT_TRUE(Call(Operation::kList, "role").value().Empty());
}

TEST_F(JwtTest, RoleExistenceCheck) {
  Request req;
  req.operation = Operation::kUpdate;
  req.path = "role/Deploy";
  req.storage = &storage_;
  auto before = SyncWait(backend_->ExistenceCheck(req));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, std::optional<bool>(false));
  ASSERT_TRUE(Write("role/deploy", GitHubRole()).ok());
  auto after = SyncWait(backend_->ExistenceCheck(req));
  EXPECT_EQ(*after, std::optional<bool>(true));
}

// ---------------------------------------------------------------------------------------------
// Renewal

TEST_F(JwtTest, RenewalReadsTheRoleAgain) {
  SetUpStatic();
  auto login = Login(SignToken(RsaKey(), GitHubClaims()));
  ASSERT_TRUE(login.ok());
  ASSERT_TRUE(Write("role/deploy", {{"role_type", "jwt"},
                                    {"token_ttl", "20m"},
                                    {"token_max_ttl", "1h"},
                                    {"token_policies", "changed"}})
                  .ok());
  Request req;
  req.operation = Operation::kRenew;
  req.path = "login";
  req.storage = &storage_;
  req.auth = *login->login;
  auto r = backend_->HandleRequest(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->login.has_value());
  EXPECT_EQ(r->login->token.ttl, 1200);
  EXPECT_EQ(r->login->token.max_ttl, 3600);
  EXPECT_EQ(r->login->token.policies, (std::vector<std::string>{"app", "deploy"}));  // as issued
  EXPECT_EQ(r->login->metadata, login->login->metadata);

  ASSERT_TRUE(Call(Operation::kDelete, "role/deploy").ok());
  r = backend_->HandleRequest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "role deploy does not exist during renewal");
}

// ---------------------------------------------------------------------------------------------
// Pieces

TEST(Jws, Base64Url) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
    auto d = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("Zm9vYg=="), "foob");  // padding tolerated
  EXPECT_FALSE(Base64UrlDecode("Zm9v+g").ok());     // standard alphabet refused
  EXPECT_FALSE(Base64UrlDecode("Z").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm 9v").ok());
}

TEST(Jws, ParseKeepsKidAndRefusesNone) {
  std::string input = B64Json({{"alg", "RS256"}, {"kid", "k1"}}) + "." + B64Json({{"a", 1}});
  auto jws = ParseCompact(input + "." + Base64UrlEncode("sig"));
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(jws->kid, "k1");
  EXPECT_EQ(jws->alg, Alg::kRS256);
  EXPECT_EQ(jws->signing_input, input);
  EXPECT_EQ(jws->payload, "{\"a\":1}");
  auto none = ParseCompact(B64Json({{"alg", "none"}}) + "." + B64Json({{"a", 1}}) + ".");
  EXPECT_EQ(none.status().message(), "token must be signed");
  auto odd = ParseCompact(B64Json({{"alg", "RS256\n<b>"}}) + ".e30.c2ln");
  ASSERT_TRUE(odd.ok());
  EXPECT_FALSE(odd->alg.has_value());
  EXPECT_EQ(UnsupportedAlgMessage(odd->alg_name), "unsupported signing algorithm");
}

TEST(Jws, EcdsaSignatureLengthIsChecked) {
  std::string input = B64Json({{"alg", "ES256"}}) + "." + B64Json({{"a", 1}});
  std::string sig = EcKey().Sign("ES256", input);
  auto key = crypto::PublicKey::FromPem(EcKey().PublicPem());
  ASSERT_TRUE(key.ok());
  auto good = ParseCompact(input + "." + Base64UrlEncode(sig));
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(VerifyWithKey(*good, *key));
  auto padded = ParseCompact(input + "." + Base64UrlEncode(sig + std::string(1, '\0')));
  EXPECT_FALSE(VerifyWithKey(*padded, *key));
  auto truncated = ParseCompact(input + "." + Base64UrlEncode(sig.substr(0, 63)));
  EXPECT_FALSE(VerifyWithKey(*truncated, *key));
}

TEST(Claims, GetClaimPointers) {
  Json c = {
      {"a", {{"b", Json::array({10, {{"c", "deep"}}})}}}, {"x/y", 1}, {"t~", 2}, {"n", nullptr}};
  EXPECT_EQ(*GetClaim(c, "/a/b/0"), 10);
  EXPECT_EQ(*GetClaim(c, "/a/b/1/c"), "deep");
  EXPECT_EQ(*GetClaim(c, "/x~1y"), 1);
  EXPECT_EQ(*GetClaim(c, "/t~0"), 2);
  EXPECT_EQ(GetClaim(c, "/a/b/2"), nullptr);
  EXPECT_EQ(GetClaim(c, "/a/b/-1"), nullptr);
  EXPECT_EQ(GetClaim(c, "/a/b/x"), nullptr);
  EXPECT_EQ(GetClaim(c, "/a/~2"), nullptr);
  EXPECT_EQ(GetClaim(c, "x/y")->get<int>(), 1);  // a plain name
  EXPECT_EQ(GetClaim(c, "n"), nullptr);          // null counts as missing
  EXPECT_EQ(GetClaim(c, "missing"), nullptr);
}

TEST(Claims, QuoteLikeGo) {
  EXPECT_EQ(Quote("sub"), "\"sub\"");
  EXPECT_EQ(Quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
}

}  // namespace
}  // namespace vault::engines::jwt
