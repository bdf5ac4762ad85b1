// SHA-256, HMAC-SHA256 and constant-time comparison (OpenSSL).
#pragma once

#include <string>
#include <string_view>

namespace vault::crypto {

// Raw 32-byte digests.
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// HMAC-SHA256 under a fixed key, prepared once: cheaper per call than HmacSha256() (which expands
// the key every time). Mac() is thread-safe.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;
  // Raw 32-byte MAC of data; equal to HmacSha256(key, data).
  std::string Mac(std::string_view data) const;

 private:
  void* ctx_;  // the key's inner and outer SHA-256 states (hash.cc)
};

// Constant-time equality (CRYPTO_memcmp); false if sizes differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace vault::crypto
