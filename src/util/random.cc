#include "util/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

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
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = HexEncode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
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
