// Public keys and signature verification (OpenSSL EVP): RSA (PKCS #1 v1.5 and PSS), ECDSA on
// P-256/P-384/P-521 with raw r||s signatures (IEEE P1363, as JOSE and WebAuthn carry them), and
// Ed25519. Keys come from PEM (SubjectPublicKeyInfo or an X.509 certificate) or from their
// components (a JWK's n/e, x/y). Verification only: nothing here holds a secret.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace vault::crypto {

enum class PublicKeyType { kRsa, kEcP256, kEcP384, kEcP521, kEd25519 };
// "RSA", "EC P-256", "EC P-384", "EC P-521", "Ed25519".
const char* PublicKeyTypeName(PublicKeyType type);

enum class Digest { kSha256, kSha384, kSha512 };

// An immutable public key. Copies share the OpenSSL key. Thread-safe: every method may be called
// concurrently.
class PublicKey {
 public:
  // The first PEM block of `pem`, holding a SubjectPublicKeyInfo ("PUBLIC KEY") or an X.509
  // certificate (whose key is taken), as Go's x509 reads them. kInvalidArgument, with a reason
  // that never quotes the input, when there is no PEM block, text other than whitespace follows
  // it, the DER does not parse, or the key is not RSA, EC P-256/P-384/P-521 or Ed25519.
  static Result<PublicKey> FromPem(std::string_view pem);
  // An RSA key from its modulus and public exponent (big-endian unsigned bytes, leading zeros
  // allowed). The exponent must be odd, at least 3 and below 2^31 (as Go's crypto/rsa requires).
  static Result<PublicKey> FromRsa(std::string_view n, std::string_view e);
  // An EC key from its affine coordinates, each exactly the curve's size (32, 48 or 66 bytes);
  // a point not on the curve is refused. `curve` is one of the kEc* types.
  static Result<PublicKey> FromEc(PublicKeyType curve, std::string_view x, std::string_view y);
  // An Ed25519 key from its 32 raw bytes.
  static Result<PublicKey> FromEd25519(std::string_view raw);

  PublicKeyType type() const { return type_; }
  // Size in bits: the RSA modulus, the EC field, 256 for Ed25519.
  int bits() const;

  // Each returns true only for a valid signature of `data` by this key, and false for any other
  // input, including a key of another type. They never fail otherwise.
  // RSASSA-PKCS1-v1_5 with `digest`.
  bool VerifyRsaPkcs1(Digest digest, std::string_view data, std::string_view signature) const;
  // RSASSA-PSS with `digest` for the message and MGF1; the salt length is read from the
  // signature (as Go's rsa.VerifyPSS with PSSSaltLengthAuto).
  bool VerifyRsaPss(Digest digest, std::string_view data, std::string_view signature) const;
  // ECDSA with `digest`; `signature` is r||s, each exactly the curve's size.
  bool VerifyEcdsaP1363(Digest digest, std::string_view data, std::string_view signature) const;
  // Ed25519 (pure, RFC 8032).
  bool VerifyEd25519(std::string_view data, std::string_view signature) const;

 private:
  PublicKey(std::shared_ptr<evp_pkey_st> key, PublicKeyType type)
      : key_(std::move(key)), type_(type) {}
  static Result<PublicKey> FromEvp(evp_pkey_st* owned);

  std::shared_ptr<evp_pkey_st> key_;
  PublicKeyType type_;
};

// The size in bytes of one coordinate (and of r and s) on an EC curve type; 0 for other types.
size_t EcCoordinateSize(PublicKeyType curve);

}  // namespace vault::crypto
