#include "barrier/barrier.h"

#include <openssl/crypto.h>

#include <mutex>

#include "crypto/aead.h"
#include "util/encoding.h"
#include "util/json.h"
#include "util/random.h"

namespace vault::barrier {
namespace {
constexpr uint8_t kVersionAadPath = 2;
constexpr uint8_t kVersionNoAad = 1;
constexpr size_t kHeader = 4 + 1 + crypto::kGcmNonceSize;

void Zero(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}
Status SealedError() { return Unavailable("Vault is sealed"); }
}  // namespace

Barrier::~Barrier() { Seal(); }

Result<bool> Barrier::Initialized() {
  ASSIGN_OR_RETURN(auto v, physical_->Get(kKeyringPath));
  return v.has_value();
}

namespace {
std::string Frame(uint32_t term, const std::string& nonce, const std::string& ct) {
  std::string out;
  out.reserve(kHeader + ct.size());
  out.push_back(static_cast<char>(term >> 24));
  out.push_back(static_cast<char>(term >> 16));
  out.push_back(static_cast<char>(term >> 8));
  out.push_back(static_cast<char>(term));
  out.push_back(static_cast<char>(kVersionAadPath));
  out += nonce;
  out += ct;
  return out;
}
}  // namespace

Result<std::string> Barrier::SealWith(const crypto::AesGcmKey& key, uint32_t term,
                                      std::string_view path, std::string_view plaintext) {
  std::string nonce = PooledRandomBytes(crypto::kGcmNonceSize);
  ASSIGN_OR_RETURN(std::string ct, key.Seal(nonce, plaintext, path));
  return Frame(term, nonce, ct);
}

Result<Barrier::Key> Barrier::MakeKey(std::string value, int64_t install_time) {
  ASSIGN_OR_RETURN(std::unique_ptr<crypto::AesGcmKey> aead, crypto::AesGcmKey::Create(value));
  return Key{std::move(value), install_time, std::move(aead)};
}

namespace {
Result<std::string> OpenWith(const crypto::AesGcmKey& key, std::string_view path,
                             std::string_view in) {
  if (in.size() < kHeader + crypto::kGcmTagSize) return InvalidArgument("invalid ciphertext");
  uint8_t version = static_cast<uint8_t>(in[4]);
  std::string_view nonce = in.substr(5, crypto::kGcmNonceSize);
  std::string_view body = in.substr(kHeader);
  if (version == kVersionAadPath) return key.Open(nonce, body, path);
  if (version == kVersionNoAad) return key.Open(nonce, body, "");
  return InvalidArgument("unsupported ciphertext version");
}
uint32_t TermOf(std::string_view in) {
  return (uint32_t(uint8_t(in[0])) << 24) | (uint32_t(uint8_t(in[1])) << 16) |
         (uint32_t(uint8_t(in[2])) << 8) | uint32_t(uint8_t(in[3]));
}
}  // namespace

Status Barrier::PersistKeyringLocked() {
  Json keys = Json::array();
  for (const auto& [term, k] : keys_) {
    keys.push_back({{"Term", term},
                    {"Version", 1},
                    {"Value", Base64Encode(k.value)},
                    {"InstallTime", FormatRfc3339Nano(k.install_time)},
                    {"InstallTimeNanos", k.install_time}});
  }
  Json ring = {{"MasterKey", Base64Encode(root_key_)}, {"Keys", keys}};
  std::string plain = DumpJson(ring);
  auto root = crypto::AesGcmKey::Create(root_key_);
  if (!root.ok()) {
    Zero(plain);
    return root.status();
  }
  auto sealed = SealWith(**root, 1, kKeyringPath, plain);
  Zero(plain);
  if (!sealed.ok()) return sealed.status();
  return physical_->Put(kKeyringPath, *sealed);
}

Status Barrier::Initialize(const std::string& root_key) {
  if (root_key.size() != crypto::kAesKeySize) return InvalidArgument("root key must be 32 bytes");
  ASSIGN_OR_RETURN(bool init, Initialized());
  if (init) return InvalidArgument("barrier is already initialized");
  std::unique_lock lock(mu_);
  root_key_ = root_key;
  keys_.clear();
  auto first = MakeKey(RandomBytes(crypto::kAesKeySize), clock_->NowNanos());
  if (!first.ok()) {
    Zero(root_key_);
    return first.status();
  }
  keys_[1] = std::move(first).value();
  active_term_ = 1;
  Status st = PersistKeyringLocked();
  if (!st.ok()) {
    Zero(root_key_);
    keys_.clear();
    return st;
  }
  sealed_ = false;
  return Status::Ok();
}

Status Barrier::Unseal(const std::string& root_key) {
  ASSIGN_OR_RETURN(auto raw, physical_->Get(kKeyringPath));
  if (!raw) return InvalidArgument("Vault is not initialized");
  if (root_key.size() < 16 || root_key.size() > 32)
    return InvalidArgument("unseal failed, invalid key");
  auto root = crypto::AesGcmKey::Create(root_key);
  if (!root.ok()) return InvalidArgument("unseal failed, invalid key");
  auto plain = OpenWith(**root, kKeyringPath, *raw);
  if (!plain.ok()) return InvalidArgument("unseal failed, invalid key");
  auto ring = ParseJson(*plain);
  Zero(plain.value());
  if (!ring.ok() || !ring->contains("Keys")) return Internal("keyring is corrupt");
  std::unique_lock lock(mu_);
  keys_.clear();
  active_term_ = 0;
  for (const auto& k : (*ring)["Keys"]) {
    auto value = Base64Decode(k.value("Value", ""));
    if (!value.ok() || value->size() != crypto::kAesKeySize) return Internal("keyring is corrupt");
    uint32_t term = k.value("Term", 0u);
    auto key = MakeKey(std::move(value).value(), k.value("InstallTimeNanos", int64_t{0}));
    if (!key.ok()) return key.status();
    keys_[term] = std::move(key).value();
    active_term_ = std::max(active_term_, term);
  }
  root_key_ = root_key;
  sealed_ = false;
  return Status::Ok();
}

void Barrier::Seal() {
  std::unique_lock lock(mu_);
  for (auto& [t, k] : keys_) Zero(k.value);
  keys_.clear();
  Zero(root_key_);
  active_term_ = 0;
  sealed_ = true;
}

bool Barrier::Sealed() const {
  std::shared_lock lock(mu_);
  return sealed_;
}

Status Barrier::Rotate() {
  std::unique_lock lock(mu_);
  if (sealed_) return SealedError();
  uint32_t term = active_term_ + 1;
  ASSIGN_OR_RETURN(Key key, MakeKey(RandomBytes(crypto::kAesKeySize), clock_->NowNanos()));
  keys_[term] = std::move(key);
  uint32_t old = active_term_;
  active_term_ = term;
  Status st = PersistKeyringLocked();
  if (!st.ok()) {
    keys_.erase(term);
    active_term_ = old;
  }
  return st;
}

Result<Barrier::KeyStatus> Barrier::ActiveKeyStatus() const {
  std::shared_lock lock(mu_);
  if (sealed_) return SealedError();
  return KeyStatus{active_term_, keys_.at(active_term_).install_time};
}

Result<std::string> Barrier::Encrypt(std::string_view path, std::string_view plaintext) const {
  std::shared_lock lock(mu_);
  if (sealed_) return SealedError();
  return SealWith(*keys_.at(active_term_).aead, active_term_, path, plaintext);
}

Result<std::string> Barrier::Decrypt(std::string_view path, std::string_view ciphertext) const {
  std::shared_lock lock(mu_);
  if (sealed_) return SealedError();
  if (ciphertext.size() < kHeader) return Internal("invalid ciphertext at " + std::string(path));
  auto it = keys_.find(TermOf(ciphertext));
  if (it == keys_.end()) return Internal("no key for term of entry at " + std::string(path));
  auto r = OpenWith(*it->second.aead, path, ciphertext);
  if (!r.ok()) return Internal("failed to decrypt entry at " + std::string(path));
  return r;
}

Result<std::optional<std::string>> Barrier::Get(std::string_view key) {
  if (Sealed()) return SealedError();
  ASSIGN_OR_RETURN(auto raw, physical_->Get(key));
  if (!raw) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string plain, Decrypt(key, *raw));
  return std::optional<std::string>(std::move(plain));
}

Status Barrier::Put(std::string_view key, std::string_view value) {
  if (key == kKeyringPath) return InvalidArgument("reserved path");
  ASSIGN_OR_RETURN(std::string ct, Encrypt(key, value));
  return physical_->Put(key, ct);
}

Status Barrier::Delete(std::string_view key) {
  if (Sealed()) return SealedError();
  return physical_->Delete(key);
}

Status Barrier::Write(const std::vector<storage::Mutation>& batch) {
  if (Sealed()) return SealedError();
  std::vector<storage::Mutation> enc;
  enc.reserve(batch.size());
  for (const auto& m : batch) {
    if (m.key == kKeyringPath) return InvalidArgument("reserved path");
    storage::Mutation e{m.key, std::nullopt};
    if (m.value) {
      ASSIGN_OR_RETURN(std::string ct, Encrypt(m.key, *m.value));
      e.value = std::move(ct);
    }
    enc.push_back(std::move(e));
  }
  return physical_->Write(enc);
}

Status Barrier::ScanKeys(std::string_view prefix,
                         const std::function<bool(std::string_view key)>& fn) {
  if (Sealed()) return SealedError();
  return physical_->Scan(prefix, [&](std::string_view key, std::string_view) { return fn(key); });
}

Result<std::vector<std::string>> Barrier::List(std::string_view prefix) {
  if (Sealed()) return SealedError();
  return physical_->List(prefix);
}

}  // namespace vault::barrier
