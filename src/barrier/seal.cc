#include "barrier/seal.h"

#include <openssl/crypto.h>

#include "crypto/shamir.h"
#include "util/json.h"
#include "util/random.h"

namespace vault::barrier {
namespace {
constexpr char kSealConfigPath[] = "core/seal-config";

void ZeroAll(std::vector<std::string>& v) {
  for (auto& s : v)
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  v.clear();
}
}  // namespace

Result<std::vector<std::string>> SealManager::Initialize(int shares, int threshold) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(bool init, barrier_->Initialized());
  if (init) return InvalidArgument("Vault is already initialized");
  if (shares < 1 || shares > 255)
    return InvalidArgument("invalid seal configuration: secret shares must be between 1 and 255");
  if (threshold < 1 || threshold > shares)
    return InvalidArgument(
        "invalid seal configuration: threshold must be between 1 and the number of shares");
  if (shares > 1 && threshold < 2)
    return InvalidArgument(
        "invalid seal configuration: threshold must be greater than one for multiple shares");
  if (shares == 1 && threshold != 1)
    return InvalidArgument("invalid seal configuration: threshold must be one for a single share");
  Json config = {{"type", "shamir"}, {"secret_shares", shares}, {"secret_threshold", threshold}};
  RETURN_IF_ERROR(physical_->Put(kSealConfigPath, DumpJson(config)));
  std::string root = RandomBytes(32);
  std::vector<std::string> out;
  if (shares == 1) {
    out.push_back(root);
  } else {
    auto split = crypto::ShamirSplit(root, shares, threshold);
    if (!split.ok()) {
      OPENSSL_cleanse(root.data(), root.size());
      return split.status();
    }
    out = std::move(split).value();
  }
  Status st = barrier_->Initialize(root);
  OPENSSL_cleanse(root.data(), root.size());
  if (!st.ok()) return st;
  return out;
}

Result<SealStatus> SealManager::StatusLocked() {
  SealStatus s;
  ASSIGN_OR_RETURN(auto cfg_raw, physical_->Get(kSealConfigPath));
  ASSIGN_OR_RETURN(s.initialized, barrier_->Initialized());
  if (cfg_raw) {
    auto cfg = ParseJson(*cfg_raw);
    if (!cfg.ok()) return Internal("seal configuration is corrupt");
    s.shares = cfg->value("secret_shares", 0);
    s.threshold = cfg->value("secret_threshold", 0);
  }
  s.sealed = barrier_->Sealed();
  s.progress = static_cast<int>(parts_.size());
  s.nonce = parts_.empty() ? "" : nonce_;
  return s;
}

Result<SealStatus> SealManager::GetStatus() {
  std::lock_guard lock(mu_);
  return StatusLocked();
}

void SealManager::ResetProgress() {
  std::lock_guard lock(mu_);
  ZeroAll(parts_);
}

void SealManager::Seal() {
  std::lock_guard lock(mu_);
  ZeroAll(parts_);
  barrier_->Seal();
}

Result<SealStatus> SealManager::SubmitShare(const std::string& share) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(SealStatus st, StatusLocked());
  if (!st.initialized) return InvalidArgument("Vault is not initialized");
  if (!st.sealed) return st;
  if (share.size() < 16 || share.size() > 33) return InvalidArgument("invalid key length");
  for (const auto& p : parts_)
    if (p == share) return st;  // an identical share already held changes nothing
  if (parts_.empty()) nonce_ = NewUuid();
  parts_.push_back(share);
  if (static_cast<int>(parts_.size()) < st.threshold) return StatusLocked();
  std::string root;
  if (st.threshold == 1) {
    root = parts_[0];
  } else {
    auto combined = crypto::ShamirCombine(parts_);
    if (!combined.ok()) {
      ZeroAll(parts_);
      return InvalidArgument("unseal failed, invalid key");
    }
    root = std::move(combined).value();
  }
  ZeroAll(parts_);
  ::vault::Status unsealed = barrier_->Unseal(root);
  OPENSSL_cleanse(root.data(), root.size());
  if (!unsealed.ok()) return unsealed;
  return StatusLocked();
}

}  // namespace vault::barrier
