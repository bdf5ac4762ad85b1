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
  ZeroAll(parts_);
}

void SealManager::Seal() {
  std::lock_guard lock(parts_mu_);
  ZeroAll(parts_);
  barrier_->Seal();
}

Task<Result<SealStatus>> SealManager::SubmitShare(std::string share) {
  struct Wipe {
    std::string* s;
    ~Wipe() {
      if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
    }
  } wipe_share{&share};
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
          ZeroAll(parts_);
          co_return InvalidArgument("unseal failed, invalid key");
        }
        root = std::move(combined).value();
      }
      ZeroAll(parts_);
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
