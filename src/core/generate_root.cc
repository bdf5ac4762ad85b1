// sys/generate-root: a threshold of unseal key shares makes a new root token (a lost root token
// need not mean a rebuilt server). The token is handed out XOR-ed with a one-time password the
// operator holds, base64 without padding, as Vault 1.10+ encodes it (`vault operator
// generate-root -decode`). Shares are wiped once used or when the generation ends.
#include <openssl/crypto.h>

#include "core/core.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/random.h"

namespace vault::core {
namespace {

// "hvs." + 24 characters: every root token this server mints has this length, and so the OTP.
constexpr int kOtpLength = 28;

void Wipe(std::vector<std::string>& parts) {
  for (auto& p : parts)
    if (!p.empty()) OPENSSL_cleanse(p.data(), p.size());
  parts.clear();
}

}  // namespace

Task<Result<Core::RootGeneration>> Core::GenerateRootStatus() {
  CO_ASSIGN_OR_RETURN(int threshold, co_await seal_.Threshold());
  RootGeneration g;
  g.required = threshold;
  g.otp_length = kOtpLength;
  std::lock_guard lock(root_gen_mu_);
  if (root_gen_) {
    g.nonce = root_gen_->nonce;
    g.started = true;
    g.progress = static_cast<int>(root_gen_->parts.size());
  }
  co_return g;
}

Task<Result<Core::RootGeneration>> Core::GenerateRootInit(std::string otp) {
  if (Sealed()) co_return Status(StatusCode::kUnavailable, "Vault is sealed");
  bool generated = otp.empty();
  if (generated) otp = RandomAlnum(kOtpLength);
  if (static_cast<int>(otp.size()) != kOtpLength)
    co_return InvalidArgument("OTP string has incorrect length");
  {
    std::lock_guard lock(root_gen_mu_);
    if (root_gen_) co_return InvalidArgument("root generation already in progress");
    root_gen_.emplace();
    root_gen_->nonce = NewUuid();
    root_gen_->otp = otp;
  }
  CO_ASSIGN_OR_RETURN(RootGeneration g, co_await GenerateRootStatus());
  if (generated) g.otp = otp;  // shown once: the operator needs it to decode the token
  co_return g;
}

void Core::GenerateRootCancel() {
  std::lock_guard lock(root_gen_mu_);
  if (root_gen_) {
    Wipe(root_gen_->parts);
    OPENSSL_cleanse(root_gen_->otp.data(), root_gen_->otp.size());
  }
  root_gen_.reset();
}

Task<Result<Core::RootGeneration>> Core::GenerateRootSubmit(std::string share, std::string nonce) {
  struct WipeShare {
    std::string* s;
    ~WipeShare() {
      if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
    }
  } wipe_share{&share};
  if (Sealed()) co_return Status(StatusCode::kUnavailable, "Vault is sealed");
  AsyncMutex::Guard op = co_await root_gen_op_mu_.Lock();
  CO_ASSIGN_OR_RETURN(int threshold, co_await seal_.Threshold());
  std::string otp;
  RootGeneration g;
  g.required = threshold;
  {
    std::lock_guard lock(root_gen_mu_);
    if (!root_gen_) co_return InvalidArgument("no root generation in progress");
    if (nonce != root_gen_->nonce)
      co_return InvalidArgument(
          "incorrect nonce supplied; nonce for this root generation operation is \"" +
          root_gen_->nonce + "\"");
    for (const auto& p : root_gen_->parts) {
      if (p.size() == share.size() && CRYPTO_memcmp(p.data(), share.data(), p.size()) == 0)
        co_return InvalidArgument(
            "given key has already been provided during this generation operation");
    }
    root_gen_->parts.push_back(share);
    g.nonce = root_gen_->nonce;
    g.started = true;
    g.progress = static_cast<int>(root_gen_->parts.size());
    if (g.progress < threshold) co_return g;
    Status checked = seal_.CheckRootShares(root_gen_->parts);
    Wipe(root_gen_->parts);
    if (!checked.ok()) co_return InvalidArgument("root generation aborted: " + checked.message());
    otp = std::move(root_gen_->otp);
    root_gen_.reset();
  }
  auto token = co_await tokens_.CreateRoot(std::nullopt);
  if (!token.ok()) {
    OPENSSL_cleanse(otp.data(), otp.size());
    co_return token.status();
  }
  std::string mixed = *token;
  for (size_t i = 0; i < mixed.size() && i < otp.size(); ++i) mixed[i] ^= otp[i];
  OPENSSL_cleanse(otp.data(), otp.size());
  OPENSSL_cleanse(token->data(), token->size());
  std::string encoded = Base64Encode(mixed);
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  g.complete = true;
  g.progress = threshold;
  g.encoded_token = std::move(encoded);
  g.otp_length = 0;
  spdlog::info("core: a root token was generated from the unseal key shares");
  co_return g;
}

}  // namespace vault::core
