// Verification keys as the JWT auth method takes them in: a JWKS document (engines/jwt/keyset.h
// ParseJwks, which builds RSA, EC and Ed25519 keys from their base64url components through
// crypto/public_key.h) and a PEM key or certificate (crypto::PublicKey::FromPem, as
// jwt_validation_pubkeys gives them). Every key that parses is asked to verify a signature.
//
// Invariants: no throw or crash; a key from a JWKS fits the method (RSA keys of at least 2048
// bits, the three NIST curves, Ed25519), and every verification of a made-up signature fails.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/public_key.h"
#include "engines/jwt/jws.h"
#include "engines/jwt/keyset.h"

namespace {

namespace jwt = vault::engines::jwt;
using vault::crypto::Digest;
using vault::crypto::PublicKey;

void Exercise(const PublicKey& key) {
  vault::crypto::PublicKeyTypeName(key.type());
  key.bits();
  const std::string data = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
  // A signature of the right size for the key (the modulus; r||s; Ed25519's 64 bytes).
  size_t n = 64;
  if (key.type() == vault::crypto::PublicKeyType::kRsa) n = (key.bits() + 7) / 8;
  if (vault::crypto::EcCoordinateSize(key.type()) > 0)
    n = 2 * vault::crypto::EcCoordinateSize(key.type());
  const std::string sig(n, '\x5a');
  bool any = false;
  for (Digest d : {Digest::kSha256, Digest::kSha384, Digest::kSha512}) {
    any |= key.VerifyRsaPkcs1(d, data, sig);
    any |= key.VerifyRsaPss(d, data, sig);
    any |= key.VerifyEcdsaP1363(d, data, sig);
  }
  any |= key.VerifyEd25519(data, sig);
  if (any) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto jwks = jwt::ParseJwks(text);
  if (jwks.ok()) {
    for (const auto& k : jwks->keys) {
      if (k.key.type() == vault::crypto::PublicKeyType::kRsa && k.key.bits() < jwt::kMinRsaBits)
        __builtin_trap();
      if (!k.alg.empty() && !jwt::AlgFromName(k.alg)) __builtin_trap();
      Exercise(k.key);
    }
  }
  auto pem = PublicKey::FromPem(text);
  if (pem.ok()) Exercise(*pem);
  return 0;
}
