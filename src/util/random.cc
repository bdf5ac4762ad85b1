#include "util/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/encoding.h"

namespace vault {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fputs("fatal: CSPRNG failure\n", stderr);
    std::abort();
  }
  return out;
}

std::string NewUuid() {
  // One RAND_bytes call per 32 ids (a call costs far more than the 16 bytes it returns); ids are
  // identifiers, not keys, so holding the next few in a per-thread buffer is harmless.
  constexpr size_t kBuffered = 16 * 32;
  thread_local unsigned char pool[kBuffered];
  thread_local size_t used = kBuffered;
  if (used == kBuffered) {
    if (RAND_bytes(pool, static_cast<int>(kBuffered)) != 1) {
      std::fputs("fatal: CSPRNG failure\n", stderr);
      std::abort();
    }
    used = 0;
  }
  unsigned char b[16];
  std::memcpy(b, pool + used, 16);
  std::memset(pool + used, 0, 16);
  used += 16;
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
  std::string b = RandomBytes(16);
  uint64_t ms = static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((ms >> (8 * (5 - i))) & 0xff);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = HexEncode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string RandomAlnum(size_t n) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::string b = RandomBytes(n);
    for (unsigned char c : b) {
      if (c < 248 && out.size() < n) out.push_back(kAlpha[c % 62]);  // 248 = 4*62: no bias
    }
  }
  return out;
}

}  // namespace vault
