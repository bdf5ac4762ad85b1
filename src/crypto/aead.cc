#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <cstring>
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

// Feeds the additional authenticated data (may be empty).
bool AddAad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  if (aad.empty()) return true;
  int len = 0;
  return EVP_CipherUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
}

}  // namespace

namespace {

// The cipher, fetched once (an implicit fetch per EVP_CipherInit_ex is a large part of a
// short message's cost).
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* cipher = [] {
    const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return c ? c : EVP_aes_256_gcm();
  }();
  return cipher;
}

// Creates a context initialised for AES-256-GCM in the given direction with key and nonce
// (nonce may be null: set later per message).
Result<CipherCtx> NewGcmContext(std::string_view key, const unsigned char* nonce, bool encrypt) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Internal("EVP_CIPHER_CTX_new failed");
  const int enc = encrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kGcmNonceSize),
                          nullptr) != 1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), nonce, enc) != 1) {
    return Internal("AES-256-GCM initialisation failed");
  }
  return ctx;
}

// Encrypts with a context that has its key and nonce set.
Result<std::string> SealCtx(EVP_CIPHER_CTX* ctx, std::string_view plaintext, std::string_view aad) {
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

// Decrypts and authenticates with a context that has its key and nonce set.
Result<std::string> OpenCtx(EVP_CIPHER_CTX* ctx, std::string_view ciphertext_and_tag,
                            std::string_view aad) {
  const std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kGcmTagSize);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; give it a private copy of the tag.
  unsigned char tag[kGcmTagSize];
  std::memcpy(tag, ciphertext_and_tag.data() + ciphertext.size(), kGcmTagSize);
  if (!AddAad(ctx, aad)) return Internal("AES-256-GCM aad failed");

  std::string out(ciphertext.size(), '\0');
  auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (!ciphertext.empty() && EVP_CipherUpdate(ctx, out_bytes, &len, Bytes(ciphertext),
                                              static_cast<int>(ciphertext.size())) != 1) {
    return Internal("AES-256-GCM decryption failed");
  }
  size_t written = static_cast<size_t>(len);
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) != 1) {
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

Status CheckOpenInput(std::string_view ciphertext_and_tag, std::string_view aad) {
  if (ciphertext_and_tag.size() < kGcmTagSize) return InvalidArgument("ciphertext too short");
  if (!FitsInt(ciphertext_and_tag) || !FitsInt(aad)) return InvalidArgument("input too large");
  return Status::Ok();
}

}  // namespace

Result<std::string> AesGcmSeal(std::string_view key, std::string_view nonce,
                               std::string_view plaintext, std::string_view aad) {
  RETURN_IF_ERROR(CheckParams(key, nonce));
  if (!FitsInt(plaintext) || !FitsInt(aad)) return InvalidArgument("input too large");
  ASSIGN_OR_RETURN(CipherCtx ctx, NewGcmContext(key, Bytes(nonce), /*encrypt=*/true));
  return SealCtx(ctx.get(), plaintext, aad);
}

Result<std::string> AesGcmOpen(std::string_view key, std::string_view nonce,
                               std::string_view ciphertext_and_tag, std::string_view aad) {
  RETURN_IF_ERROR(CheckParams(key, nonce));
  RETURN_IF_ERROR(CheckOpenInput(ciphertext_and_tag, aad));
  ASSIGN_OR_RETURN(CipherCtx ctx, NewGcmContext(key, Bytes(nonce), /*encrypt=*/false));
  return OpenCtx(ctx.get(), ciphertext_and_tag, aad);
}

Result<std::unique_ptr<AesGcmKey>> AesGcmKey::Create(std::string_view key) {
  RETURN_IF_ERROR(CheckParams(key, std::string(kGcmNonceSize, '\0')));
  ASSIGN_OR_RETURN(CipherCtx enc, NewGcmContext(key, nullptr, /*encrypt=*/true));
  ASSIGN_OR_RETURN(CipherCtx dec, NewGcmContext(key, nullptr, /*encrypt=*/false));
  return std::unique_ptr<AesGcmKey>(new AesGcmKey(enc.release(), dec.release()));
}

AesGcmKey::~AesGcmKey() {
  // EVP_CIPHER_CTX_free cleanses the key schedule.
  for (void* c : pool_[0]) EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(c));
  for (void* c : pool_[1]) EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(c));
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(template_[0]));
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(template_[1]));
}

void* AesGcmKey::Acquire(bool encrypt) const {
  {
    std::lock_guard lock(mu_);
    auto& pool = pool_[encrypt ? 1 : 0];
    if (!pool.empty()) {
      void* c = pool.back();
      pool.pop_back();
      return c;
    }
  }
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  if (c && EVP_CIPHER_CTX_copy(c, static_cast<EVP_CIPHER_CTX*>(template_[encrypt ? 1 : 0])) != 1) {
    EVP_CIPHER_CTX_free(c);
    c = nullptr;
  }
  return c;
}

void AesGcmKey::Release(void* ctx, bool encrypt) const {
  {
    std::lock_guard lock(mu_);
    auto& pool = pool_[encrypt ? 1 : 0];
    if (pool.size() < kMaxPooled) {
      pool.push_back(ctx);
      return;
    }
  }
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(ctx));
}

Result<std::string> AesGcmKey::WithContext(bool encrypt, std::string_view nonce,
                                           std::string_view input, std::string_view aad,
                                           CtxOp op) const {
  if (nonce.size() != kGcmNonceSize) return InvalidArgument("AES-256-GCM nonce must be 12 bytes");
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(Acquire(encrypt));
  if (!ctx) return Internal("EVP_CIPHER_CTX_copy failed");
  Result<std::string> out =
      EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, Bytes(nonce), encrypt ? 1 : 0) == 1
          ? op(ctx, input, aad)
          : Result<std::string>(Internal("AES-256-GCM initialisation failed"));
  if (out.ok())
    Release(ctx, encrypt);
  else
    EVP_CIPHER_CTX_free(ctx);  // state unknown: never reuse
  return out;
}

Result<std::string> AesGcmKey::Seal(std::string_view nonce, std::string_view plaintext,
                                    std::string_view aad) const {
  if (!FitsInt(plaintext) || !FitsInt(aad)) return InvalidArgument("input too large");
  return WithContext(true, nonce, plaintext, aad,
                     [](void* c, std::string_view in, std::string_view a) {
                       return SealCtx(static_cast<EVP_CIPHER_CTX*>(c), in, a);
                     });
}

Result<std::string> AesGcmKey::Open(std::string_view nonce, std::string_view ciphertext_and_tag,
                                    std::string_view aad) const {
  RETURN_IF_ERROR(CheckOpenInput(ciphertext_and_tag, aad));
  return WithContext(false, nonce, ciphertext_and_tag, aad,
                     [](void* c, std::string_view in, std::string_view a) {
                       return OpenCtx(static_cast<EVP_CIPHER_CTX*>(c), in, a);
                     });
}

}  // namespace vault::crypto
