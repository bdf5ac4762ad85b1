// Unit tests for crypto/public_key: keys made and signatures computed with OpenSSL directly
// (independently of the code under test), parsed and verified through PublicKey.
#include "crypto/public_key.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace vault::crypto {
namespace {

using KeyPtr = std::shared_ptr<EVP_PKEY>;

KeyPtr Generate(const char* type, const char* curve = nullptr) {
  EVP_PKEY* k = nullptr;
  if (std::string(type) == "RSA") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  } else if (curve != nullptr) {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  } else {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  }
  return KeyPtr(k, EVP_PKEY_free);
}

const KeyPtr& Rsa() {
  static const KeyPtr k = Generate("RSA");
  return k;
}
const KeyPtr& P256() {
  static const KeyPtr k = Generate("EC", "P-256");
  return k;
}
const KeyPtr& Ed() {
  static const KeyPtr k = Generate("ED25519");
  return k;
}

std::string Drain(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string PublicPem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k);
  return Drain(bio);
}

// A self-signed certificate for `k`, as PEM.
std::string CertificatePem(EVP_PKEY* k) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, k);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("issuer"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, k, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  X509_free(cert);
  return Drain(bio);
}

// Signs with OpenSSL: PKCS #1 v1.5 / PSS (digest-length salt) / DER ECDSA / Ed25519.
std::string Sign(EVP_PKEY* k, const EVP_MD* md, bool pss, const std::string& data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(ctx, &pctx, md, nullptr, k), 1);
  if (pss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  EVP_DigestSign(ctx, nullptr, &len, in, data.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return sig;
}

// DER ECDSA -> r||s of `size` bytes each.
std::string ToP1363(const std::string& der, size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  std::string out(2 * size, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), o, static_cast<int>(size));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), o + size, static_cast<int>(size));
  ECDSA_SIG_free(sig);
  return out;
}

std::string BnParam(EVP_PKEY* k, const char* param, size_t pad = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, param, &bn);
  std::string out(pad ? pad : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

TEST(PublicKey, PemKeysAndCertificates) {
  auto rsa = PublicKey::FromPem(PublicPem(Rsa().get()));
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_EQ(rsa->type(), PublicKeyType::kRsa);
  EXPECT_EQ(rsa->bits(), 2048);
  auto ec = PublicKey::FromPem(PublicPem(P256().get()));
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ(ec->type(), PublicKeyType::kEcP256);
  auto ed = PublicKey::FromPem(PublicPem(Ed().get()));
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->type(), PublicKeyType::kEd25519);
  auto p384 = PublicKey::FromPem(PublicPem(Generate("EC", "P-384").get()));
  ASSERT_TRUE(p384.ok());
  EXPECT_EQ(p384->type(), PublicKeyType::kEcP384);
  auto cert = PublicKey::FromPem(CertificatePem(Rsa().get()) + "\n\n");
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->type(), PublicKeyType::kRsa);
  std::string data = "signed by the certificate's key";
  EXPECT_TRUE(
      cert->VerifyRsaPkcs1(Digest::kSha256, data, Sign(Rsa().get(), EVP_sha256(), false, data)));
}

TEST(PublicKey, PemRefusals) {
  EXPECT_EQ(PublicKey::FromPem("").status().message(),
            "data does not contain any valid public keys");
  EXPECT_EQ(PublicKey::FromPem("ssh-rsa AAAA").status().message(),
            "data does not contain any valid public keys");
  EXPECT_EQ(PublicKey::FromPem(PublicPem(Rsa().get()) + PublicPem(Ed().get())).status().message(),
            "unexpected trailing data after parsed PEM block");
  // A private key is not a public key (and its text never reaches the message).
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, Ed().get(), nullptr, nullptr, 0, nullptr, nullptr);
  auto priv = PublicKey::FromPem(Drain(bio));
  ASSERT_FALSE(priv.ok());
  EXPECT_EQ(priv.status().message(),
            "the PEM block holds neither a public key (SubjectPublicKeyInfo) nor an X.509 "
            "certificate");
  auto k1 = PublicKey::FromPem(PublicPem(Generate("EC", "secp256k1").get()));
  ASSERT_FALSE(k1.ok());
  EXPECT_NE(k1.status().message().find("unsupported key type"), std::string::npos);
}

TEST(PublicKey, VerifiesEachScheme) {
  const std::string data = "header.payload";
  auto rsa = PublicKey::FromPem(PublicPem(Rsa().get())).value();
  auto ec = PublicKey::FromPem(PublicPem(P256().get())).value();
  auto ed = PublicKey::FromPem(PublicPem(Ed().get())).value();

  std::string pkcs1 = Sign(Rsa().get(), EVP_sha384(), false, data);
  EXPECT_TRUE(rsa.VerifyRsaPkcs1(Digest::kSha384, data, pkcs1));
  EXPECT_FALSE(rsa.VerifyRsaPkcs1(Digest::kSha256, data, pkcs1));
  EXPECT_FALSE(rsa.VerifyRsaPkcs1(Digest::kSha384, data + "x", pkcs1));
  EXPECT_FALSE(rsa.VerifyRsaPss(Digest::kSha384, data, pkcs1));
  EXPECT_FALSE(rsa.VerifyRsaPkcs1(Digest::kSha384, data, pkcs1.substr(1)));

  std::string pss = Sign(Rsa().get(), EVP_sha256(), true, data);
  EXPECT_TRUE(rsa.VerifyRsaPss(Digest::kSha256, data, pss));
  EXPECT_FALSE(rsa.VerifyRsaPkcs1(Digest::kSha256, data, pss));

  std::string es = ToP1363(Sign(P256().get(), EVP_sha256(), false, data), 32);
  EXPECT_TRUE(ec.VerifyEcdsaP1363(Digest::kSha256, data, es));
  EXPECT_FALSE(ec.VerifyEcdsaP1363(Digest::kSha256, "other", es));
  EXPECT_FALSE(ec.VerifyEcdsaP1363(Digest::kSha256, data, es.substr(0, 63)));
  EXPECT_FALSE(ec.VerifyEcdsaP1363(Digest::kSha256, data, std::string(64, '\0')));
  EXPECT_FALSE(rsa.VerifyEcdsaP1363(Digest::kSha256, data, es));  // wrong key type

  std::string eds = Sign(Ed().get(), nullptr, false, data);
  EXPECT_TRUE(ed.VerifyEd25519(data, eds));
  EXPECT_FALSE(ed.VerifyEd25519(data + ".", eds));
  EXPECT_FALSE(ec.VerifyEd25519(data, eds));
}

TEST(PublicKey, FromComponents) {
  const std::string data = "from a JWK";
  auto rsa = PublicKey::FromRsa(BnParam(Rsa().get(), OSSL_PKEY_PARAM_RSA_N),
                                BnParam(Rsa().get(), OSSL_PKEY_PARAM_RSA_E));
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_EQ(rsa->bits(), 2048);
  EXPECT_TRUE(
      rsa->VerifyRsaPkcs1(Digest::kSha256, data, Sign(Rsa().get(), EVP_sha256(), false, data)));
  EXPECT_FALSE(PublicKey::FromRsa(BnParam(Rsa().get(), OSSL_PKEY_PARAM_RSA_N), "\x01").ok());
  EXPECT_FALSE(PublicKey::FromRsa(BnParam(Rsa().get(), OSSL_PKEY_PARAM_RSA_N), "\x01\x00").ok());
  EXPECT_FALSE(PublicKey::FromRsa("", "\x01\x00\x01").ok());

  const std::string x = BnParam(P256().get(), OSSL_PKEY_PARAM_EC_PUB_X, 32);
  const std::string y = BnParam(P256().get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32);
  auto ec = PublicKey::FromEc(PublicKeyType::kEcP256, x, y);
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_TRUE(ec->VerifyEcdsaP1363(Digest::kSha256, data,
                                   ToP1363(Sign(P256().get(), EVP_sha256(), false, data), 32)));
  std::string off = y;
  off[31] ^= 1;
  EXPECT_FALSE(PublicKey::FromEc(PublicKeyType::kEcP256, x, off).ok());  // not on the curve
  EXPECT_FALSE(PublicKey::FromEc(PublicKeyType::kEcP256, x.substr(1), y).ok());
  EXPECT_FALSE(PublicKey::FromEc(PublicKeyType::kEcP384, x, y).ok());

  unsigned char raw[32];
  size_t len = sizeof(raw);
  EVP_PKEY_get_raw_public_key(Ed().get(), raw, &len);
  auto ed = PublicKey::FromEd25519(std::string(reinterpret_cast<char*>(raw), len));
  ASSERT_TRUE(ed.ok());
  EXPECT_TRUE(ed->VerifyEd25519(data, Sign(Ed().get(), nullptr, false, data)));
  EXPECT_FALSE(PublicKey::FromEd25519("short").ok());
}

}  // namespace
}  // namespace vault::crypto
