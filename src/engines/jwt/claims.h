// The claim rules of the JWT auth method, applied to a token's verified claims: the registered
// claims (iss, sub, aud, exp/nbf/iat with the role's leeways, as hashicorp/cap validates them),
// the role's bound_claims (string or glob matching, JSON pointer keys), claim_mappings to token
// metadata, the user claim and the groups claim (as the plugin's claims.go reads them).
//
// Messages name claims by the role's configuration, never by the token's values: nothing of a
// token reaches an error message.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"
#include "util/status.h"

namespace vault::engines::jwt {

// Leeway defaults (seconds) when a role's value is 0; a negative value means none.
inline constexpr int64_t kDefaultClockSkewLeeway = 60;
inline constexpr int64_t kDefaultClaimLeeway = 150;  // expiration_leeway, not_before_leeway

// Go's %q for a name in a message: "a\"b".
std::string Quote(std::string_view s);

// A claim of `claims` (a JSON object): a name starting with '/' is a JSON pointer (RFC 6901:
// "/a/b/0", "~1" for '/', "~0" for '~') into nested objects and arrays; any other name is a
// top-level key (so a top-level key that contains '/' is reachable only as a pointer). nullptr
// when absent, null or the pointer is malformed.
const Json* GetClaim(const Json& claims, std::string_view claim);

// What the registered claims must satisfy (config bound_issuer, role bindings and leeways).
struct ExpectedClaims {
  std::string issuer;                  // "" = iss not checked
  std::string subject;                 // "" = sub not checked
  std::vector<std::string> audiences;  // empty = aud not checked here (see HasAudience)
  int64_t clock_skew_leeway = 0;       // seconds; 0 = default, < 0 = none
  int64_t expiration_leeway = 0;
  int64_t not_before_leeway = 0;
  int64_t now_ns = 0;  // unix nanoseconds
};

// The checks after the signature, in CAP's order: the registered claims' types (iss and sub
// strings, aud a string or an array of strings, exp/nbf/iat numbers), iss, sub, aud (one of the
// expected audiences must be in the claim; a token without aud fails), then time: at least one
// of iat/nbf/exp; a missing exp is max(iat, nbf) + expiration leeway; a missing nbf is iat, or
// exp - not-before leeway; then with the clock skew leeway: not before nbf, not after exp, not
// issued in the future. kInvalidArgument with the text that follows "error validating token: ".
Status ValidateRegisteredClaims(const Json& claims, const ExpectedClaims& expected);

// Whether the token names an audience: a non-empty "aud" string or a non-empty array.
bool HasAudience(const Json& claims);

// The role's bound_claims against the token: for each key, some expected value (a scalar or a
// list) must match some token value (a scalar or a list). String mode: equal with the same JSON
// type ("true" is not true); numbers compare as integers (token values are truncated, as the
// plugin's getClaim does). Glob mode: '*' matches any run of characters; only token strings can
// match. kInvalidArgument with the text that follows "error validating claims: ".
Status ValidateBoundClaims(const Json& bound_claims, bool glob, const Json& claims);
// Role-write check of bound_claims values: glob mode needs strings (or lists of strings); string
// mode needs scalars (or lists of scalars). Message as Vault's for glob ("claim is not a
// string: ...").
Status CheckBoundClaimsValues(const Json& bound_claims, bool glob);
// '*' matches any run of characters (also none), anywhere and several times; all else is literal.
bool GlobMatch(std::string_view pattern, std::string_view subject);

// The user claim's value (the alias and display name). `json_pointer`: user_claim is read with
// GetClaim; otherwise it is a top-level name even if it starts with '/'.
Result<std::string> UserClaimValue(const Json& claims, const std::string& user_claim,
                                   bool json_pointer);
// claim_mappings (claim -> metadata key): each claim present must be a string (a number is
// taken as its integer text); absent claims are skipped.
Result<std::map<std::string, std::string>> ExtractMetadata(const Json& claims,
                                                           const Json& claim_mappings);
// The groups claim's names (a list of strings, or one string); empty names are dropped.
Result<std::vector<std::string>> GroupsFromClaim(const Json& claims,
                                                 const std::string& groups_claim);

}  // namespace vault::engines::jwt
