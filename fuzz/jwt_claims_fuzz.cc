// The JWT auth method's claim rules (engines/jwt/claims.h) on an arbitrary JSON document as a
// token's verified claims: the registered claims (iss, sub, aud, exp/nbf/iat with leeways), the
// user and groups claims, claim_mappings and bound_claims, with JSON pointers. A document that is
// an array [claims, bound_claims, claim_mappings] supplies the role's side too (as a role write
// would, after CheckBoundClaimsValues). No throw or crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engines/jwt/claims.h"
#include "util/json.h"

namespace jwt = vault::engines::jwt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = vault::ParseJson(text);
  if (!doc.ok()) return 0;
  vault::Json claims = *doc;
  vault::Json bound = {{"sub", "repo:*"}, {"/groups/0", {"admins", 7}}};
  vault::Json mappings = {{"email", "email"}, {"/org/name", "org"}};
  if (doc->is_array() && doc->size() == 3) {
    claims = (*doc)[0];
    bound = (*doc)[1];
    mappings = (*doc)[2];
  }
  if (!claims.is_object()) return 0;

  jwt::ExpectedClaims expected;
  expected.issuer = "https://gitlab.example.com";
  expected.subject = "project_path:group/project:ref_type:branch:ref:main";
  expected.audiences = {"https://vault.example.com"};
  expected.now_ns = int64_t{1700000000} * 1000000000;
  (void)jwt::ValidateRegisteredClaims(claims, expected);
  expected = jwt::ExpectedClaims{};
  expected.clock_skew_leeway = -1;
  expected.expiration_leeway = 3600;
  expected.not_before_leeway = -1;
  expected.now_ns = 0;
  (void)jwt::ValidateRegisteredClaims(claims, expected);
  jwt::HasAudience(claims);
  for (const char* name : {"sub", "/sub", "/a/0/b", "/", "/~", "/~2", "email"}) {
    jwt::GetClaim(claims, name);
    (void)jwt::UserClaimValue(claims, name, true);
    (void)jwt::UserClaimValue(claims, name, false);
    (void)jwt::GroupsFromClaim(claims, name);
  }
  if (mappings.is_object()) (void)jwt::ExtractMetadata(claims, mappings);
  if (bound.is_object()) {
    for (bool glob : {false, true}) {
      if (jwt::CheckBoundClaimsValues(bound, glob).ok())
        (void)jwt::ValidateBoundClaims(bound, glob, claims);
    }
  }
  for (const auto& [k, v] : claims.items()) {
    if (v.is_string()) jwt::GlobMatch(k, v.get<std::string>());
    jwt::Quote(k);
  }
  return 0;
}
