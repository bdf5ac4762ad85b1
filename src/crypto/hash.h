// SHA-256, HMAC-SHA256 and constant-time comparison (OpenSSL).
#pragma once

#include <string>
#include <string_view>

namespace vault::crypto {

// Raw 32-byte digests.
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// Constant-time equality (CRYPTO_memcmp); false if sizes differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace vault::crypto
