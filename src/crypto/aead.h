// AES-256-GCM authenticated encryption (OpenSSL EVP), used by the barrier.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

// An AES-256-GCM key whose OpenSSL contexts (cipher fetch, key schedule, GHASH tables) are set
// up once and reused, for the barrier's per-entry encryption: Seal/Open equal AesGcmSeal/Open
// with this key. Thread-safe: each call takes a context of its own from a small pool.
// Destruction frees (and so cleanses) every context.
class AesGcmKey {
 public:
  // kInvalidArgument unless key is kAesKeySize bytes.
  static Result<std::unique_ptr<AesGcmKey>> Create(std::string_view key);
  ~AesGcmKey();
  AesGcmKey(const AesGcmKey&) = delete;
  AesGcmKey& operator=(const AesGcmKey&) = delete;

  Result<std::string> Seal(std::string_view nonce, std::string_view plaintext,
                           std::string_view aad) const;
  Result<std::string> Open(std::string_view nonce, std::string_view ciphertext_and_tag,
                           std::string_view aad) const;

 private:
  static constexpr size_t kMaxPooled = 16;
  AesGcmKey(void* enc, void* dec) : template_{dec, enc} {}
  void* Acquire(bool encrypt) const;  // EVP_CIPHER_CTX* keyed, nonce unset; null on failure
  void Release(void* ctx, bool encrypt) const;
  // Takes a context, sets the nonce, runs op(ctx, input, aad); the context goes back to the pool
  // on success and is freed otherwise (its state is unknown).
  using CtxOp = Result<std::string> (*)(void* ctx, std::string_view input, std::string_view aad);
  Result<std::string> WithContext(bool encrypt, std::string_view nonce, std::string_view input,
                                  std::string_view aad, CtxOp op) const;

  void* template_[2];  // EVP_CIPHER_CTX*: [0] decrypt, [1] encrypt
  mutable std::mutex mu_;
  mutable std::vector<void*> pool_[2];
};

}  // namespace vault::crypto
