#include "crypto/aead.h"

#include <openssl/evp.h>

#include <climits>
#include <memory>

namespace vault::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Status CheckParams(std::string_view key, std::string_view nonce) {
  if (key.size() != kAesKeySize) {
    return InvalidArgument("AES-256-GCM key must be " + std::to_string(kAesKeySize) + " bytes");
  }
  if (nonce.size() != kGcmNonceSize) {
    return InvalidArgument("AES-256-GCM nonce must be " + std::to_string(kGcmNonceSize) + " bytes");
  }
  return Status::Ok();
}

// EVP lengths are ints; inputs this large never reach the barrier, but refuse them cleanly.
bool FitsInt(std::string_view s) { return s.size() <= static_cast<size_t>(INT_MAX) - 64; }

// AES-256-GCM, fetched once: OpenSSL 3's implicit fetch behind EVP_aes_256_gcm() takes a lock
// and a lookup on every init, which showed up in every barrier read.
const EVP_CIPHER* Gcm() {
  static const EVP_CIPHER* cipher = [] {
    const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return c ? c : EVP_aes_256_gcm();
  }();
  return cipher;
}

// Initialises this thread's context for AES-256-GCM in the given direction with key and nonce.
// The context is reused across calls on a thread (allocating one per call cost ~2 us).
Result<EVP_CIPHER_CTX*> InitGcmContext(std::string_view key, std::string_view nonce, bool encrypt) {
  thread_local CipherCtx tls_ctx(EVP_CIPHER_CTX_new());
  EVP_CIPHER_CTX* ctx = tls_ctx.get();
  if (!ctx) return Internal("EVP_CIPHER_CTX_new failed");
  const int enc = encrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx, Gcm(), nullptr, nullptr, nullptr, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_CipherInit_ex(ctx, nullptr, nullptr, Bytes(key), Bytes(nonce), enc) != 1) {
    return Internal("AES-256-GCM initialisation failed");
  }
  return ctx;
}

// Feeds the additional authenticated data (may be empty).
bool AddAad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  if (aad.empty()) return true;
  int len = 0;
  return EVP_CipherUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
}

}  // namespace

Result<std::string> AesGcmSeal(std::string_view key, std::string_view nonce,
                               std::string_view plaintext, std::string_view aad) {
  RETURN_IF_ERROR(CheckParams(key, nonce));
  if (!FitsInt(plaintext) || !FitsInt(aad)) return InvalidArgument("input too large");
  ASSIGN_OR_RETURN(EVP_CIPHER_CTX* ctx, InitGcmContext(key, nonce, /*encrypt=*/true));
  if (!AddAad(ctx, aad)) return Internal("AES-256-GCM aad failed");

  std::string out(plaintext.size() + kGcmTagSize, '\0');
  auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (!plaintext.empty() && EVP_CipherUpdate(ctx, out_bytes, &len, Bytes(plaintext),
                                             static_cast<int>(plaintext.size())) != 1) {
    return Internal("AES-256-GCM encryption failed");
  }
  size_t written = static_cast<size_t>(len);
  if (EVP_CipherFinal_ex(ctx, out_bytes + written, &len) != 1) {
    return Internal("AES-256-GCM encryption failed");
  }
  written += static_cast<size_t>(len);
  if (written != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize),
                          out_bytes + written) != 1) {
    return Internal("AES-256-GCM tag generation failed");
  }
  return out;
}

Result<std::string> AesGcmOpen(std::string_view key, std::string_view nonce,
                               std::string_view ciphertext_and_tag, std::string_view aad) {
  RETURN_IF_ERROR(CheckParams(key, nonce));
  if (ciphertext_and_tag.size() < kGcmTagSize) {
    return InvalidArgument("ciphertext too short");
  }
  if (!FitsInt(ciphertext_and_tag) || !FitsInt(aad)) return InvalidArgument("input too large");
  const std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kGcmTagSize);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; give it a private copy of the tag.
  std::string tag(ciphertext_and_tag.substr(ciphertext.size()));

  ASSIGN_OR_RETURN(EVP_CIPHER_CTX* ctx, InitGcmContext(key, nonce, /*encrypt=*/false));
  if (!AddAad(ctx, aad)) return Internal("AES-256-GCM aad failed");

  std::string out(ciphertext.size(), '\0');
  auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (!ciphertext.empty() && EVP_CipherUpdate(ctx, out_bytes, &len, Bytes(ciphertext),
                                              static_cast<int>(ciphertext.size())) != 1) {
    return Internal("AES-256-GCM decryption failed");
  }
  size_t written = static_cast<size_t>(len);
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize),
                          tag.data()) != 1) {
    return Internal("AES-256-GCM decryption failed");
  }
  if (EVP_CipherFinal_ex(ctx, out_bytes + written, &len) != 1) {
    // Authentication failed: do not release any of the unauthenticated plaintext.
    OPENSSL_cleanse(out.data(), out.size());
    return InvalidArgument("cipher: message authentication failed");
  }
  written += static_cast<size_t>(len);
  out.resize(written);
  return out;
}

}  // namespace vault::crypto
