#include "util/random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/encoding.h"

namespace vault {

namespace {
[[noreturn]] void CsprngFailure() {
  std::fputs("fatal: CSPRNG failure\n", stderr);
  std::abort();
}

// The calling thread's buffer of CSPRNG output for nonces and ids. A RAND_bytes call costs far
// more than the few bytes one needs (OpenSSL's DRBG locks, checks for a fork and runs AES each
// call), so one call fills 1 KiB and later calls take from it; bytes handed out are zeroed in the
// buffer. A forked child drops its copy (pthread_atfork), so parent and child never hand out the
// same bytes.
constexpr size_t kPoolSize = 1024;
struct Pool {
  unsigned char bytes[kPoolSize];
  size_t used = kPoolSize;
};
thread_local Pool pool;

void ForgetPoolInChild() {
  std::memset(pool.bytes, 0, sizeof(pool.bytes));
  pool.used = kPoolSize;
}
}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    CsprngFailure();
  }
  return out;
}

void BufferedRandom(unsigned char* out, size_t n) {
  static const int registered = pthread_atfork(nullptr, nullptr, &ForgetPoolInChild);
  (void)registered;
  while (n > 0) {
    if (pool.used == kPoolSize) {
      if (RAND_bytes(pool.bytes, static_cast<int>(kPoolSize)) != 1) CsprngFailure();
      pool.used = 0;
    }
    const size_t take = std::min(n, kPoolSize - pool.used);
    std::memcpy(out, pool.bytes + pool.used, take);
    std::memset(pool.bytes + pool.used, 0, take);
    pool.used += take;
    out += take;
    n -= take;
  }
}

std::string BufferedRandomBytes(size_t n) {
  std::string out(n, '\0');
  BufferedRandom(reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

std::string NewUuid() {
  unsigned char b[16];
  BufferedRandom(b, sizeof(b));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t o = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // the dashes
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 0x0f];
  }
  return out;
}

std::string NewTimeOrderedUuid(int64_t unix_ms) {
  std::string b = BufferedRandomBytes(16);
  uint64_t ms = static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((ms >> (8 * (5 - i))) & 0xff);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = HexEncode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

namespace {
template <typename Source>
std::string Alnum(size_t n, Source source) {
  static constexpr char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::string b = source(n);
    for (unsigned char c : b) {
      if (c < 248 && out.size() < n) out.push_back(kAlpha[c % 62]);  // 248 = 4*62: no bias
    }
  }
  return out;
}
}  // namespace

std::string RandomAlnum(size_t n) { return Alnum(n, RandomBytes); }
std::string BufferedRandomAlnum(size_t n) { return Alnum(n, BufferedRandomBytes); }

}  // namespace vault
