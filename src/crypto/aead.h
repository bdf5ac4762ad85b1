// AES-256-GCM authenticated encryption (OpenSSL EVP), used by the barrier.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace vault::crypto {

constexpr size_t kAesKeySize = 32;
constexpr size_t kGcmNonceSize = 12;
constexpr size_t kGcmTagSize = 16;

// Encrypts plaintext under a 32-byte key with the given 12-byte nonce and additional data.
// Returns ciphertext || 16-byte tag. kInvalidArgument on a wrong key or nonce size.
Result<std::string> AesGcmSeal(std::string_view key, std::string_view nonce,
                               std::string_view plaintext, std::string_view aad);
// Inverse of AesGcmSeal. kInvalidArgument if the input is short or authentication fails
// (tampered ciphertext, wrong key, wrong aad); the message never contains key material.
Result<std::string> AesGcmOpen(std::string_view key, std::string_view nonce,
                               std::string_view ciphertext_and_tag, std::string_view aad);

}  // namespace vault::crypto
