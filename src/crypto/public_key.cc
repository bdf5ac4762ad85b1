#include "crypto/public_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstring>

namespace vault::crypto {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

// OpenSSL reports failures on a per-thread queue; parsing untrusted input fails routinely, so the
// queue is emptied before returning rather than left for an unrelated caller to find.
struct ClearErrors {
  ~ClearErrors() { ERR_clear_error(); }
};

const EVP_MD* Md(Digest d) {
  switch (d) {
    case Digest::kSha256:
      return EVP_sha256();
    case Digest::kSha384:
      return EVP_sha384();
    case Digest::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

const char* GroupName(PublicKeyType t) {
  switch (t) {
    case PublicKeyType::kEcP256:
      return "P-256";
    case PublicKeyType::kEcP384:
      return "P-384";
    case PublicKeyType::kEcP521:
      return "P-521";
    default:
      return nullptr;
  }
}

Status Unsupported() {
  return InvalidArgument(
      "unsupported key type (RSA, EC P-256/P-384/P-521 and Ed25519 keys are supported)");
}

}  // namespace

const char* PublicKeyTypeName(PublicKeyType type) {
  switch (type) {
    case PublicKeyType::kRsa:
      return "RSA";
    case PublicKeyType::kEcP256:
      return "EC P-256";
    case PublicKeyType::kEcP384:
      return "EC P-384";
    case PublicKeyType::kEcP521:
      return "EC P-521";
    case PublicKeyType::kEd25519:
      return "Ed25519";
  }
  return "unknown";
}

size_t EcCoordinateSize(PublicKeyType curve) {
  switch (curve) {
    case PublicKeyType::kEcP256:
      return 32;
    case PublicKeyType::kEcP384:
      return 48;
    case PublicKeyType::kEcP521:
      return 66;
    default:
      return 0;
  }
}

// Takes ownership of `owned` and classifies it; other key types are refused.
Result<PublicKey> PublicKey::FromEvp(evp_pkey_st* owned) {
  std::shared_ptr<EVP_PKEY> key(owned, EVP_PKEY_free);
  switch (EVP_PKEY_get_base_id(owned)) {
    case EVP_PKEY_RSA:
      return PublicKey(std::move(key), PublicKeyType::kRsa);
    case EVP_PKEY_ED25519:
      return PublicKey(std::move(key), PublicKeyType::kEd25519);
    case EVP_PKEY_EC: {
      char name[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(owned, name, sizeof(name), &len) != 1) return Unsupported();
      std::string_view g(name, len);
      PublicKeyType t;
      if (g == "prime256v1" || g == "P-256" || g == "secp256r1") {
        t = PublicKeyType::kEcP256;
      } else if (g == "secp384r1" || g == "P-384") {
        t = PublicKeyType::kEcP384;
      } else if (g == "secp521r1" || g == "P-521") {
        t = PublicKeyType::kEcP521;
      } else {
        return Unsupported();
      }
      // The point must lie on the curve (OpenSSL checks it when it decodes the point; this
      // states the requirement where it matters).
      PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, owned, nullptr));
      if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1)
        return InvalidArgument("invalid EC public key: the point is not on the curve");
      return PublicKey(std::move(key), t);
    }
    default:
      return Unsupported();
  }
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  ClearErrors clear;
  if (pem.size() > (1u << 30))
    return InvalidArgument("data does not contain any valid public keys");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Internal("out of memory");
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* der = nullptr;
  long der_len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &der, &der_len) != 1)
    return InvalidArgument("data does not contain any valid public keys");
  struct Free {
    char* n;
    char* h;
    unsigned char* d;
    ~Free() {
      OPENSSL_free(n);
      OPENSSL_free(h);
      OPENSSL_free(d);
    }
  } free_pem{name, header, der};
  // Go's certutil refuses anything but whitespace after the block: a second key pasted into the
  // same value would otherwise be dropped without a word.
  char rest[256];
  int n;
  while ((n = BIO_read(bio.get(), rest, sizeof(rest))) > 0) {
    for (int i = 0; i < n; ++i) {
      if (!std::isspace(static_cast<unsigned char>(rest[i])))
        return InvalidArgument("unexpected trailing data after parsed PEM block");
    }
  }
  const unsigned char* p = der;
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, der_len);
  if (key != nullptr) {
    if (p != der + der_len) {
      EVP_PKEY_free(key);
      return InvalidArgument("trailing data after the public key");
    }
    return FromEvp(key);
  }
  p = der;
  X509Ptr cert(d2i_X509(nullptr, &p, der_len));
  if (!cert || p != der + der_len)
    return InvalidArgument(
        "the PEM block holds neither a public key (SubjectPublicKeyInfo) nor an X.509 "
        "certificate");
  EVP_PKEY* cert_key = X509_get_pubkey(cert.get());  // a new reference
  if (cert_key == nullptr) return Unsupported();
  return FromEvp(cert_key);
}

Result<PublicKey> PublicKey::FromRsa(std::string_view n, std::string_view e) {
  ClearErrors clear;
  while (!n.empty() && n.front() == '\0') n.remove_prefix(1);
  while (!e.empty() && e.front() == '\0') e.remove_prefix(1);
  if (n.empty()) return InvalidArgument("invalid RSA public key: empty modulus");
  if (e.empty() || e.size() > 4) return InvalidArgument("invalid RSA public key: bad exponent");
  uint64_t ev = 0;
  for (unsigned char c : e) ev = (ev << 8) | c;
  if (ev < 3 || ev > 0x7fffffff || (ev & 1) == 0)
    return InvalidArgument("invalid RSA public key: bad exponent");
  if ((static_cast<unsigned char>(n.back()) & 1) == 0)
    return InvalidArgument("invalid RSA public key: even modulus");
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()),
                       nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()),
                       nullptr));
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld) return Internal("out of memory");
  if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return Internal("out of memory");
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || key == nullptr)
    return InvalidArgument("invalid RSA public key");
  return FromEvp(key);
}

Result<PublicKey> PublicKey::FromEc(PublicKeyType curve, std::string_view x, std::string_view y) {
  ClearErrors clear;
  const char* group = GroupName(curve);
  const size_t size = EcCoordinateSize(curve);
  if (group == nullptr) return Unsupported();
  if (x.size() != size || y.size() != size)
    return InvalidArgument("invalid EC public key: coordinates must be " + std::to_string(size) +
                           " bytes each");
  std::string point;
  point.reserve(1 + 2 * size);
  point += '\x04';  // uncompressed
  point.append(x);
  point.append(y);
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return Internal("out of memory");
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return Internal("out of memory");
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || key == nullptr)
    return InvalidArgument("invalid EC public key: the point is not on the curve");
  return FromEvp(key);
}

Result<PublicKey> PublicKey::FromEd25519(std::string_view raw) {
  ClearErrors clear;
  if (raw.size() != 32) return InvalidArgument("invalid Ed25519 public key: must be 32 bytes");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (key == nullptr) return InvalidArgument("invalid Ed25519 public key");
  return FromEvp(key);
}

int PublicKey::bits() const { return EVP_PKEY_get_bits(key_.get()); }

namespace {

// One EVP verification. `pss` selects RSASSA-PSS padding; `md` null for Ed25519.
bool DigestVerify(EVP_PKEY* key, const EVP_MD* md, bool pss, std::string_view data,
                  std::string_view sig) {
  ClearErrors clear;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) return false;
  if (pss) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
      return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

}  // namespace

bool PublicKey::VerifyRsaPkcs1(Digest digest, std::string_view data,
                               std::string_view signature) const {
  if (type_ != PublicKeyType::kRsa) return false;
  // The signature is exactly as long as the modulus (RFC 8017 8.2.2 step 1).
  if (signature.size() != static_cast<size_t>((bits() + 7) / 8)) return false;
  return DigestVerify(key_.get(), Md(digest), false, data, signature);
}

bool PublicKey::VerifyRsaPss(Digest digest, std::string_view data,
                             std::string_view signature) const {
  if (type_ != PublicKeyType::kRsa) return false;
  if (signature.size() != static_cast<size_t>((bits() + 7) / 8)) return false;
  return DigestVerify(key_.get(), Md(digest), true, data, signature);
}

bool PublicKey::VerifyEcdsaP1363(Digest digest, std::string_view data,
                                 std::string_view signature) const {
  const size_t size = EcCoordinateSize(type_);
  if (size == 0 || signature.size() != 2 * size) return false;
  ClearErrors clear;
  // OpenSSL takes the DER SEQUENCE { r, s }.
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  SigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw, static_cast<int>(size), nullptr);
  BIGNUM* s = BN_bin2bn(raw + size, static_cast<int>(size), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::string_view der_view(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
  bool ok = DigestVerify(key_.get(), Md(digest), false, data, der_view);
  OPENSSL_free(der);
  return ok;
}

bool PublicKey::VerifyEd25519(std::string_view data, std::string_view signature) const {
  if (type_ != PublicKeyType::kEd25519 || signature.size() != 64) return false;
  return DigestVerify(key_.get(), nullptr, false, data, signature);
}

}  // namespace vault::crypto
