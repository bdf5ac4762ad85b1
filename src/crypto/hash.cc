#include "crypto/hash.h"

// SHA256_Init/Update/Final: deprecated in OpenSSL 3 but the only way to keep a precomputed
// HMAC key state without the provider layer's per-call overhead.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

// The low-level SHA-256 calls, not EVP_Digest: EVP fetches the algorithm from the provider on
// every call, which cost more than hashing a few hundred bytes (SigV4 hashes each AWS request
// and its canonical form).
std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, NonNull(data), data.size()) != 1 ||
      SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx) != 1) {
    Die("SHA-256");
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  return HmacSha256Key(key).Mac(data);
}

// The key's inner and outer SHA-256 states (RFC 2104: H((K ^ opad) || H((K ^ ipad) || m))),
// computed once; a MAC then costs two short hashes and no OpenSSL provider dispatch (the EVP_MAC
// duplicate/update/final sequence cost several microseconds per token lookup).
namespace {
struct HmacState {
  SHA256_CTX inner;
  SHA256_CTX outer;
};
}  // namespace

HmacSha256Key::HmacSha256Key(std::string_view key) {
  auto* st = new HmacState;
  unsigned char block[64] = {0};
  if (key.size() > sizeof(block)) {
    std::string digest = Sha256(key);
    std::memcpy(block, digest.data(), digest.size());
    OPENSSL_cleanse(digest.data(), digest.size());
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[64];
  for (size_t i = 0; i < sizeof(pad); ++i) pad[i] = block[i] ^ 0x36;
  if (SHA256_Init(&st->inner) != 1 || SHA256_Update(&st->inner, pad, sizeof(pad)) != 1)
    Die("SHA256");
  for (size_t i = 0; i < sizeof(pad); ++i) pad[i] = block[i] ^ 0x5c;
  if (SHA256_Init(&st->outer) != 1 || SHA256_Update(&st->outer, pad, sizeof(pad)) != 1)
    Die("SHA256");
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
  ctx_ = st;  // the header names it ctx_: an HmacState here
}

HmacSha256Key::~HmacSha256Key() {
  auto* st = static_cast<HmacState*>(ctx_);
  OPENSSL_cleanse(st, sizeof(HmacState));
  delete st;
}

std::string HmacSha256Key::Mac(std::string_view data) const {
  std::string out(kSha256Size, '\0');
  auto* md = reinterpret_cast<unsigned char*>(out.data());
  const auto* st = static_cast<const HmacState*>(ctx_);
  SHA256_CTX ctx = st->inner;
  bool ok = SHA256_Update(&ctx, NonNull(data), data.size()) == 1 && SHA256_Final(md, &ctx) == 1;
  ctx = st->outer;
  ok = ok && SHA256_Update(&ctx, md, kSha256Size) == 1 && SHA256_Final(md, &ctx) == 1;
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  if (!ok) Die("HMAC-SHA256");
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vault::crypto
