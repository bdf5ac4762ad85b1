// JSON Web Signatures for the JWT auth method: the compact serialization (RFC 7515 section 7.1)
// parsed without trusting it, the ten asymmetric algorithms Vault accepts (RFC 7518: RS256/384/512,
// PS256/384/512, ES256/384/512; RFC 8037: EdDSA with Ed25519) and verification against one key.
//
// What is refused, by construction: HMAC algorithms (HS*: a public key must never serve as an
// HMAC secret), "none" and empty signatures, any other or unknown "alg", the JSON serialization
// (and with it several signatures), "crit" headers, and a key whose type does not fit the
// algorithm (an RSA key for ES256, a P-384 key for ES256...). Keys embedded in the header (jwk,
// jku, x5c, x5u) are never used.
//
// Error messages never quote the token: not its text, its signature, nor header values other
// than a short plain algorithm name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/public_key.h"
#include "util/status.h"

namespace vault::engines::jwt {

enum class Alg { kRS256, kRS384, kRS512, kPS256, kPS384, kPS512, kES256, kES384, kES512, kEdDSA };

// "RS256"... for an Alg; the Alg for a name (exact, case-sensitive), or nullopt.
const char* AlgName(Alg alg);
std::optional<Alg> AlgFromName(std::string_view name);
// The ten names, in the order above: the allowed list when jwt_supported_algs is empty.
const std::vector<std::string>& AllAlgNames();

// Whether `key` may verify `alg`: RSA keys of at least kMinRsaBits for RS*/PS*, the matching
// curve for ES256 (P-256), ES384 (P-384), ES512 (P-521), Ed25519 for EdDSA.
bool KeyFitsAlg(const crypto::PublicKey& key, Alg alg);
// RFC 7518 section 3.3: "A key of size 2048 bits or larger MUST be used with these algorithms."
inline constexpr int kMinRsaBits = 2048;

// A compact JWS, decoded but not verified: nothing in it may be trusted before VerifyWithKey.
struct Jws {
  std::string alg_name;       // the header's "alg"
  std::optional<Alg> alg;     // set when alg_name is one of the ten
  std::string kid;            // the header's "kid" ("" when absent)
  std::string signing_input;  // BASE64URL(header) "." BASE64URL(payload), as received
  std::string payload;        // decoded payload bytes
  std::string signature;      // decoded signature bytes
};

// Splits and decodes a compact JWS. kInvalidArgument with a short reason (no token content) for:
// not three parts, bad base64url, a header that is not a JSON object or lacks "alg", a "crit"
// header, and "token must be signed" for alg "none" or an empty signature. An alg outside the
// ten parses (with `alg` unset): verification refuses it.
Result<Jws> ParseCompact(std::string_view token);

// Whether `jws` carries a valid signature by `key` under its alg (false for an unsupported alg
// or a key that does not fit it).
bool VerifyWithKey(const Jws& jws, const crypto::PublicKey& key);

// "unsupported signing algorithm \"HS256\"" (the name only when it is short and alphanumeric:
// it comes from the token).
std::string UnsupportedAlgMessage(std::string_view alg_name);

// Base64url (RFC 4648 section 5) without padding; decoding tolerates trailing '=' (as go-jose does)
// and refuses every other character outside the alphabet.
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace vault::engines::jwt
