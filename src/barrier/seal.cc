#include "barrier/seal.h"

#include <openssl/crypto.h>

#include "crypto/shamir.h"
#include "util/json.h"
#include "util/random.h"
#include "util/wipe.h"

namespace vault::barrier {
namespace {
constexpr char kSealConfigPath[] = "core/seal-config";

}  // namespace

Task<Result<std::vector<std::string>>> SealManager::Initialize(int shares, int threshold) {
  AsyncMutex::Guard guard = co_await op_mu_.Lock();
  CO_ASSIGN_OR_RETURN(bool init, co_await barrier_->Initialized());
  if (init) co_return InvalidArgument("Vault is already initialized");
  if (shares < 1 || shares > 255)
    co_return InvalidArgument(
        "invalid seal configuration: secret shares must be between 1 and 255");
  if (threshold < 1 || threshold > shares)
    co_return InvalidArgument(
        "invalid seal configuration: threshold must be between 1 and the number of shares");
  if (shares > 1 && threshold < 2)
    co_return InvalidArgument(
        "invalid seal configuration: threshold must be greater than one for multiple shares");
  if (shares == 1 && threshold != 1)
    co_return InvalidArgument(
        "invalid seal configuration: threshold must be one for a single share");
  Json config = {{"type", "shamir"}, {"secret_shares", shares}, {"secret_threshold", threshold}};
  std::string config_text = DumpJson(config);
  CO_RETURN_IF_ERROR(co_await physical_->Put(kSealConfigPath, config_text));
  std::string root = RandomBytes(32);
  std::vector<std::string> out;
  if (shares == 1) {
    out.push_back(root);
  } else {
    auto split = crypto::ShamirSplit(root, shares, threshold);
    if (!split.ok()) {
      OPENSSL_cleanse(root.data(), root.size());
      co_return split.status();
    }
    out = std::move(split).value();
  }
  Status st = co_await barrier_->Initialize(root);
  OPENSSL_cleanse(root.data(), root.size());
  if (!st.ok()) co_return st;
  co_return out;
}

Task<Result<SealStatus>> SealManager::GetStatus() {
  SealStatus s;
  CO_ASSIGN_OR_RETURN(auto cfg_raw, co_await physical_->Get(kSealConfigPath));
  CO_ASSIGN_OR_RETURN(s.initialized, co_await barrier_->Initialized());
  if (cfg_raw) {
    auto cfg = ParseJson(*cfg_raw);
    if (!cfg.ok()) co_return Internal("seal configuration is corrupt");
    s.shares = cfg->value("secret_shares", 0);
    s.threshold = cfg->value("secret_threshold", 0);
  }
  s.sealed = barrier_->Sealed();
  std::lock_guard lock(parts_mu_);
  s.progress = static_cast<int>(parts_.size());
  s.nonce = parts_.empty() ? "" : nonce_;
  co_return s;
}

void SealManager::ResetProgress() {
  std::lock_guard lock(parts_mu_);
  WipeAll(parts_);
}

void SealManager::Seal() {
  std::lock_guard lock(parts_mu_);
  WipeAll(parts_);
  if (rekey_) rekey_->Wipe();
  rekey_.reset();
  barrier_->Seal();
}

Task<Result<SealStatus>> SealManager::SubmitShare(std::string share) {
  WipeOnExit wipe_share{&share};
  AsyncMutex::Guard guard = co_await op_mu_.Lock();
  CO_ASSIGN_OR_RETURN(SealStatus st, co_await GetStatus());
  if (!st.initialized) co_return InvalidArgument("Vault is not initialized");
  if (!st.sealed) co_return st;
  if (share.size() < 16 || share.size() > 33) co_return InvalidArgument("invalid key length");
  std::string root;
  {
    std::lock_guard lock(parts_mu_);
    for (const auto& p : parts_)
      if (p == share) co_return st;  // an identical share already held changes nothing
    if (parts_.empty()) nonce_ = NewUuid();
    parts_.push_back(share);
    if (static_cast<int>(parts_.size()) >= st.threshold) {
      if (st.threshold == 1) {
        root = parts_[0];
      } else {
        auto combined = crypto::ShamirCombine(parts_);
        if (!combined.ok()) {
          WipeAll(parts_);
          co_return InvalidArgument("unseal failed, invalid key");
        }
        root = std::move(combined).value();
      }
      WipeAll(parts_);
    }
  }
  if (!root.empty()) {
    ::vault::Status unsealed = co_await barrier_->Unseal(root);
    OPENSSL_cleanse(root.data(), root.size());
    if (!unsealed.ok()) co_return unsealed;
  }
  Result<SealStatus> after = co_await GetStatus();
  co_return after;
}

}  // namespace vault::barrier

namespace vault::barrier {
namespace {

// The root key `parts` combine to (a single share is the key itself).
Result<std::string> Combine(const std::vector<std::string>& parts, int threshold) {
  if (threshold == 1) return parts[0];
  return crypto::ShamirCombine(parts);
}

Result<std::vector<std::string>> Split(const std::string& root, int shares, int threshold) {
  if (shares == 1) return std::vector<std::string>{root};
  return crypto::ShamirSplit(root, shares, threshold);
}

Status CheckRekeyConfig(int shares, int threshold) {
  const char* why = nullptr;
  if (shares < 1) {
    why = "shares must be at least one";
  } else if (threshold < 1) {
    why = "threshold must be at least one";
  } else if (shares > 1 && threshold == 1) {
    why = "threshold must be greater than one for multiple shares";
  } else if (shares > 255) {
    why = "shares must be less than 256";
  } else if (threshold > 255) {
    why = "threshold must be less than 256";
  } else if (threshold > shares) {
    why = "threshold cannot be larger than shares";
  }
  if (why) return Internal(std::string("invalid rekey seal configuration: ") + why);
  return Status::Ok();
}

bool Holds(const std::vector<std::string>& parts, const std::string& share) {
  for (const auto& p : parts)
    if (p.size() == share.size() && CRYPTO_memcmp(p.data(), share.data(), p.size()) == 0)
      return true;
  return false;
}

}  // namespace

void SealManager::Rekey::Wipe() {
  WipeAll(parts);
  WipeAll(new_keys);
  WipeAll(verify_parts);
  if (!new_root.empty()) OPENSSL_cleanse(new_root.data(), new_root.size());
  new_root.clear();
}

RekeyStatus SealManager::RekeyStatusLocked(int required) const {
  RekeyStatus s;
  s.required = required;
  if (!rekey_) return s;
  s.nonce = rekey_->nonce;
  s.started = true;
  s.new_shares = rekey_->shares;
  s.new_threshold = rekey_->threshold;
  s.progress = static_cast<int>(rekey_->parts.size());
  s.verification_required = rekey_->require_verification;
  s.verification_nonce = rekey_->verification_nonce;
  return s;
}

Task<Result<int>> SealManager::Threshold() {
  CO_ASSIGN_OR_RETURN(SealStatus st, co_await GetStatus());
  co_return st.threshold;
}

Task<Result<RekeyStatus>> SealManager::RekeyGetStatus() {
  CO_ASSIGN_OR_RETURN(SealStatus st, co_await GetStatus());
  if (!st.initialized) co_return InvalidArgument("server is not yet initialized");
  if (st.sealed) co_return Status(StatusCode::kUnavailable, "Vault is sealed");
  std::lock_guard lock(parts_mu_);
  co_return RekeyStatusLocked(st.threshold);
}

Task<Result<RekeyStatus>> SealManager::RekeyInit(int shares, int threshold,
                                                 bool require_verification) {
  AsyncMutex::Guard guard = co_await rekey_mu_.Lock();
  CO_ASSIGN_OR_RETURN(SealStatus st, co_await GetStatus());
  if (!st.initialized) co_return InvalidArgument("Vault is not initialized");
  if (st.sealed) co_return Status(StatusCode::kUnavailable, "Vault is sealed");
  CO_RETURN_IF_ERROR(CheckRekeyConfig(shares, threshold));
  std::lock_guard lock(parts_mu_);
  if (rekey_) co_return InvalidArgument("rekey already in progress");
  // Assigned rather than emplaced: clang before 16 does not see a nested struct with default
  // member initializers as default-constructible for a member declared inside the same class.
  rekey_ = Rekey{};
  rekey_->nonce = NewUuid();
  rekey_->shares = shares;
  rekey_->threshold = threshold;
  rekey_->require_verification = require_verification;
  co_return RekeyStatusLocked(st.threshold);
}

void SealManager::RekeyCancel() {
  std::lock_guard lock(parts_mu_);
  if (rekey_) rekey_->Wipe();
  rekey_.reset();
}

Task<Status> SealManager::ApplyRekey(std::string new_root, int shares, int threshold) {
  Json config = {{"type", "shamir"}, {"secret_shares", shares}, {"secret_threshold", threshold}};
  std::vector<storage::Mutation> also;
  also.push_back({kSealConfigPath, DumpJson(config)});
  Status st = co_await barrier_->ChangeRootKey(std::move(new_root), std::move(also));
  co_return st;
}

Task<Result<RekeyUpdate>> SealManager::RekeySubmit(std::string share, std::string nonce) {
  WipeOnExit wipe_share{&share};
  AsyncMutex::Guard guard = co_await rekey_mu_.Lock();
  CO_ASSIGN_OR_RETURN(SealStatus st, co_await GetStatus());
  if (!st.initialized) co_return InvalidArgument("Vault is not initialized");
  if (st.sealed) co_return Status(StatusCode::kUnavailable, "Vault is sealed");
  RekeyUpdate out;
  std::string new_root;
  int shares = 0, threshold = 0;
  {
    std::lock_guard lock(parts_mu_);
    if (!rekey_) co_return InvalidArgument("no barrier rekey in progress");
    if (nonce != rekey_->nonce)
      co_return InvalidArgument("incorrect nonce supplied; nonce for this rekey operation is \"" +
                                rekey_->nonce + "\"");
    if (!rekey_->verification_nonce.empty())
      co_return InvalidArgument(
          "rekey operation already finished; verification must be performed; nonce for the "
          "verification operation is \"" +
          rekey_->verification_nonce + "\"");
    if (Holds(rekey_->parts, share))
      co_return InvalidArgument(
          "given key has already been provided during this generation operation");
    rekey_->parts.push_back(share);
    if (static_cast<int>(rekey_->parts.size()) < st.threshold) {
      out.status = RekeyStatusLocked(st.threshold);
      co_return out;
    }
    auto root = Combine(rekey_->parts, st.threshold);
    bool ok = root.ok() && barrier_->IsRootKey(*root);
    if (root.ok()) OPENSSL_cleanse(root->data(), root->size());
    WipeAll(rekey_->parts);
    if (!ok)
      co_return InvalidArgument(
          "root key verification failed: the key shares entered do not form the unseal key");
    new_root = RandomBytes(32);
    auto split = Split(new_root, rekey_->shares, rekey_->threshold);
    if (!split.ok()) {
      OPENSSL_cleanse(new_root.data(), new_root.size());
      co_return split.status();
    }
    out.complete = true;
    out.keys = std::move(split).value();
    out.nonce = rekey_->nonce;
    out.verification_required = rekey_->require_verification;
    shares = rekey_->shares;
    threshold = rekey_->threshold;
    if (rekey_->require_verification) {
      // Nothing changes until a threshold of the new shares comes back.
      rekey_->new_root = std::move(new_root);
      rekey_->new_keys = out.keys;
      rekey_->verification_nonce = NewUuid();
      out.verification_nonce = rekey_->verification_nonce;
      co_return out;
    }
    rekey_->Wipe();
    rekey_.reset();
  }
  Status applied = co_await ApplyRekey(std::move(new_root), shares, threshold);
  if (!applied.ok()) {
    WipeAll(out.keys);
    co_return applied;
  }
  co_return out;
}

Result<RekeyVerifyStatus> SealManager::RekeyVerifyGetStatus() {
  std::lock_guard lock(parts_mu_);
  if (!rekey_) return InvalidArgument("no rekey configuration found");
  if (rekey_->verification_nonce.empty())
    return InvalidArgument("no rekey verification in progress");
  RekeyVerifyStatus s;
  s.nonce = rekey_->verification_nonce;
  s.started = true;
  s.threshold = rekey_->threshold;
  s.shares = rekey_->shares;
  s.progress = static_cast<int>(rekey_->verify_parts.size());
  return s;
}

Result<RekeyVerifyStatus> SealManager::RekeyVerifyRestart() {
  {
    std::lock_guard lock(parts_mu_);
    if (!rekey_) return InvalidArgument("no rekey in progress");
    if (rekey_->verification_nonce.empty())
      return InvalidArgument("no rekey verification in progress");
    WipeAll(rekey_->verify_parts);
    rekey_->verification_nonce = NewUuid();
  }
  return RekeyVerifyGetStatus();
}

Task<Result<RekeyVerifyStatus>> SealManager::RekeyVerifySubmit(std::string share,
                                                               std::string nonce) {
  WipeOnExit wipe_share{&share};
  AsyncMutex::Guard guard = co_await rekey_mu_.Lock();
  RekeyVerifyStatus out;
  std::string new_root;
  int shares = 0, threshold = 0;
  {
    std::lock_guard lock(parts_mu_);
    if (!rekey_) co_return InvalidArgument("no rekey in progress");
    if (rekey_->verification_nonce.empty())
      co_return InvalidArgument("no rekey verification in progress");
    if (nonce != rekey_->verification_nonce)
      co_return InvalidArgument("incorrect nonce supplied; nonce for this verify operation is \"" +
                                rekey_->verification_nonce + "\"");
    if (Holds(rekey_->verify_parts, share))
      co_return InvalidArgument("given key has already been provided during this verify operation");
    rekey_->verify_parts.push_back(share);
    out.nonce = rekey_->verification_nonce;
    out.started = true;
    out.threshold = rekey_->threshold;
    out.shares = rekey_->shares;
    out.progress = static_cast<int>(rekey_->verify_parts.size());
    if (out.progress < rekey_->threshold) co_return out;
    auto root = Combine(rekey_->verify_parts, rekey_->threshold);
    bool ok = root.ok() && root->size() == rekey_->new_root.size() &&
              CRYPTO_memcmp(root->data(), rekey_->new_root.data(), root->size()) == 0;
    if (root.ok()) OPENSSL_cleanse(root->data(), root->size());
    WipeAll(rekey_->verify_parts);
    if (!ok) co_return InvalidArgument("rekey verification failed; incorrect key shares supplied");
    new_root = std::move(rekey_->new_root);
    shares = rekey_->shares;
    threshold = rekey_->threshold;
    rekey_->Wipe();
    rekey_.reset();
  }
  CO_RETURN_IF_ERROR(co_await ApplyRekey(std::move(new_root), shares, threshold));
  out.complete = true;
  out.progress = 0;
  co_return out;
}

Status SealManager::CheckRootShares(const std::vector<std::string>& parts) {
  if (parts.empty()) return InvalidArgument("no key shares");
  auto root = Combine(parts, static_cast<int>(parts.size()));
  bool ok = root.ok() && barrier_->IsRootKey(*root);
  if (root.ok()) OPENSSL_cleanse(root->data(), root->size());
  if (!ok) return InvalidArgument("the key shares entered do not form the unseal key");
  return Status::Ok();
}

}  // namespace vault::barrier
