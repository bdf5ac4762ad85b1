#include "crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace vault::crypto {
namespace {

constexpr size_t kSha256Size = 32;

// These primitives cannot fail for in-memory input short of memory exhaustion or a broken
// OpenSSL installation; continuing with a wrong digest would be worse than stopping.
[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "fatal: %s failed\n", what);
  std::abort();
}

// OpenSSL wants non-null pointers even for empty input; an empty string_view may have none.
const unsigned char* NonNull(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_Digest(NonNull(data), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 EVP_sha256(), nullptr) != 1 ||
      len != kSha256Size) {
    Die("SHA-256");
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (key.size() > static_cast<size_t>(INT_MAX) ||
      HMAC(EVP_sha256(), NonNull(key), static_cast<int>(key.size()), NonNull(data), data.size(),
           reinterpret_cast<unsigned char*>(out.data()), &len) == nullptr ||
      len != kSha256Size) {
    Die("HMAC-SHA256");
  }
  return out;
}

HmacSha256Key::HmacSha256Key(std::string_view key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) Die("EVP_MAC_fetch(HMAC)");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context holds its own reference
  if (!ctx) Die("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, NonNull(key), key.size(), params) != 1) Die("EVP_MAC_init");
  ctx_ = ctx;
}

HmacSha256Key::~HmacSha256Key() { EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_)); }

std::string HmacSha256Key::Mac(std::string_view data) const {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(static_cast<const EVP_MAC_CTX*>(ctx_));
  if (!ctx) Die("EVP_MAC_CTX_dup");
  std::string out(kSha256Size, '\0');
  size_t len = 0;
  bool ok = EVP_MAC_update(ctx, NonNull(data), data.size()) == 1 &&
            EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) == 1 &&
            len == kSha256Size;
  EVP_MAC_CTX_free(ctx);
  if (!ok) Die("HMAC-SHA256");
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vault::crypto
