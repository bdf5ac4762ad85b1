// JSON Web Signatures as the JWT auth method reads a login's token (engines/jwt/jws.h):
// ParseCompact on arbitrary text, then VerifyWithKey against one key of each type the method
// accepts (RSA 2048, EC P-256/P-384/P-521, Ed25519; the tokens in corpus/jws/ are signed by their
// private halves, so verification succeeds on them and mutations explore the failures), then the
// claim rules (engines/jwt/claims.h) on a payload that is JSON. Also base64url on the raw input.
//
// Invariants: no throw or crash; a parsed token has a non-empty alg and signature and its
// signing input is the text before the second '.'; base64url decoding inverts encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/public_key.h"
#include "engines/jwt/claims.h"
#include "engines/jwt/jws.h"
#include "util/json.h"

namespace {

namespace jwt = vault::engines::jwt;

const char* const kKeys[] = {
    R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4y/TLxvj25JkFFjn5eb2
EVNzjpx569K6dzhtX5hVMpMB8zY/pgDJJGDoAQ4fX2rbgdj8jUydNjjf7lyDu2Un
1IJ8MuVxCd+Bh+YXFIxHVtk/PhH1coc5pUi5CpOIuzA4AffM0Dl7wogQxy/AkRmj
td57ZESgisbosz3dpN1yLK+2I4fwQToD3YkV/HASn09ufV+ocCXRqx3E/kXv3u9i
YpcHNJQF882i5QD1zm4m7vWbQ5xL3cXhtItwa2u3gkZnQ4JZYf/pwaoLzBawzqav
hxJoFdOlftEt/RgBq8LCxXCV+spTkq+CuURs6S11WzwAZq8ZZTCJsBEmnJMliFRV
0QIDAQAB
-----END PUBLIC KEY-----
)",
    R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzYzPLL9tZpvH27OKHID7wJhIdfcZ
GszukD4M4U6DhyztLJkLxYsKKqedipAWsW5NJmUEHYnFi3T7CByTLfJOmg==
-----END PUBLIC KEY-----
)",
    R"(-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEYah3sz2tClKHPnH3FH9Gpg00nrnrxY9V
abrsbX7GU2yBCzildvbJ+cWAjU8xpzd0fuCt6hFYMTvCyMo6gKW/QjgGZOBnQugs
9JImd+H7x56I1RCQpVRP2jpdGU+HIBS6
-----END PUBLIC KEY-----
)",
    R"(-----BEGIN PUBLIC KEY-----
MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAwJnBg1UNPliPBaCMTab/teqAG2hr
Xxctuxlunxeh+BfPDkxqAEY7ogZ8QWu3AxVZu8E3iFInMdIgd77Ac6GCIvsBcc+i
xuaJRlpn5Ml11xZ6uUYy0MGj3BHSSEHk8j7iUPwSZl1fz98nq8JV1eOxQpgz9Fwd
InDPNbUSFcn8S/ycEI0=
-----END PUBLIC KEY-----
)",
    R"(-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAsEhv8bc+DueXZbXFrlRs5DfgMf5dnxt+QC/k6gB0Z0o=
-----END PUBLIC KEY-----
)",
};

std::vector<vault::crypto::PublicKey>* g_keys = nullptr;

void CheckClaims(const vault::Json& claims) {
  jwt::ExpectedClaims expected;
  expected.issuer = "https://token.actions.githubusercontent.com";
  expected.audiences = {"https://github.com/octo-org", "sigstore"};
  expected.now_ns = int64_t{1700000000} * 1000000000;
  (void)jwt::ValidateRegisteredClaims(claims, expected);
  expected.clock_skew_leeway = -1;
  expected.expiration_leeway = -1;
  expected.not_before_leeway = -1;
  expected.subject = "repo:octo-org/octo-repo:ref:refs/heads/main";
  (void)jwt::ValidateRegisteredClaims(claims, expected);
  jwt::HasAudience(claims);
  (void)jwt::UserClaimValue(claims, "sub", false);
  (void)jwt::UserClaimValue(claims, "/nested/0/name", true);
  (void)jwt::GroupsFromClaim(claims, "groups");
  (void)jwt::GroupsFromClaim(claims, "/realm_access/roles");
  static const vault::Json kMappings = {{"repository", "repo"}, {"/a/b", "ab"}, {"run_id", "run"}};
  (void)jwt::ExtractMetadata(claims, kMappings);
  static const vault::Json kBound = {
      {"repository", {"octo-org/*", "other"}}, {"/ref", "refs/heads/*"}, {"run_attempt", 1}};
  (void)jwt::ValidateBoundClaims(kBound, /*glob=*/true, claims);
  (void)jwt::ValidateBoundClaims(kBound, /*glob=*/false, claims);
  jwt::GetClaim(claims, "/a~1b/~0c/1");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_keys = new std::vector<vault::crypto::PublicKey>;
  for (const char* pem : kKeys) {
    auto key = vault::crypto::PublicKey::FromPem(pem);
    if (!key.ok()) __builtin_trap();
    g_keys->push_back(*key);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto decoded = jwt::Base64UrlDecode(text);
  if (decoded.ok()) {
    auto again = jwt::Base64UrlDecode(jwt::Base64UrlEncode(*decoded));
    if (!again.ok() || *again != *decoded) __builtin_trap();
  }
  auto raw = jwt::Base64UrlDecode(jwt::Base64UrlEncode(text));
  if (!raw.ok() || *raw != text) __builtin_trap();

  vault::Result<jwt::Jws> jws = jwt::ParseCompact(text);
  if (!jws.ok()) return 0;
  if (jws->alg_name.empty() || jws->signature.empty()) __builtin_trap();
  if (text.compare(0, jws->signing_input.size(), jws->signing_input) != 0) __builtin_trap();
  jwt::UnsupportedAlgMessage(jws->alg_name);
  for (const auto& key : *g_keys) {
    if (jws->alg) jwt::KeyFitsAlg(key, *jws->alg);
    jwt::VerifyWithKey(*jws, key);
  }
  auto claims = vault::ParseJson(jws->payload);
  if (claims.ok()) CheckClaims(*claims);
  return 0;
}
