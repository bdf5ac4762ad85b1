#include "barrier/barrier.h"

#include <openssl/crypto.h>

#include <limits>
#include <mutex>

#include "crypto/aead.h"
#include "util/encoding.h"
#include "util/json.h"
#include "util/json_reader.h"
#include "util/metrics.h"
#include "util/random.h"
#include "util/wipe.h"

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

Result<std::vector<KeyringKey>> DecodeKeyring(std::string_view plaintext) {
  auto ring = ParseJson(plaintext);
  if (!ring.ok() || !ring->is_object()) return Internal("keyring is corrupt");
  auto keys = ring->find("Keys");
  // A keyring without keys would leave no active term to encrypt with.
  if (keys == ring->end() || !keys->is_array() || keys->empty())
    return Internal("keyring is corrupt");
  std::vector<KeyringKey> out;
  for (const auto& k : *keys) {
    JsonReader r(k);
    auto value = Base64Decode(r.String("Value"));
    const int64_t term = r.Int("Term");
    const int64_t installed = r.Int("InstallTimeNanos");
    if (!r.ok() || !value.ok() || value->size() != crypto::kAesKeySize || term < 0 ||
        term > std::numeric_limits<uint32_t>::max())
      return Internal("keyring is corrupt");
    out.push_back(KeyringKey{static_cast<uint32_t>(term), std::move(value).value(), installed});
  }
  return out;
}

Task<Result<bool>> Barrier::Initialized() {
  CO_ASSIGN_OR_RETURN(auto v, co_await physical_->Get(kKeyringPath));
  co_return v.has_value();
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
  std::string nonce = BufferedRandomBytes(crypto::kGcmNonceSize);
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

Result<std::string> Barrier::SealKeyring(const std::map<uint32_t, Key>& keys,
                                         const std::string& root_key, uint32_t extra_term,
                                         const Key* extra) {
  Json list = Json::array();
  auto add = [&list](uint32_t term, const Key& k) {
    list.push_back({{"Term", term},
                    {"Version", 1},
                    {"Value", Base64Encode(k.value)},
                    {"InstallTime", FormatRfc3339Nano(k.install_time)},
                    {"InstallTimeNanos", k.install_time}});
  };
  for (const auto& [term, k] : keys) add(term, k);
  if (extra) add(extra_term, *extra);
  Json ring = {{"MasterKey", Base64Encode(root_key)}, {"Keys", list}};
  std::string plain = DumpJson(ring);
  auto root = crypto::AesGcmKey::Create(root_key);
  if (!root.ok()) {
    Zero(plain);
    return root.status();
  }
  auto sealed = SealWith(**root, 1, kKeyringPath, plain);
  Zero(plain);
  return sealed;
}

Task<Status> Barrier::Initialize(std::string root_key) {
  WipeOnExit wipe{&root_key};
  if (root_key.size() != crypto::kAesKeySize)
    co_return InvalidArgument("root key must be 32 bytes");
  AsyncMutex::Guard guard = co_await keyring_mu_.Lock();
  CO_ASSIGN_OR_RETURN(bool init, co_await Initialized());
  if (init) co_return InvalidArgument("barrier is already initialized");
  std::map<uint32_t, Key> keys;
  CO_ASSIGN_OR_RETURN(keys[1], MakeKey(RandomBytes(crypto::kAesKeySize), clock_->NowNanos()));
  CO_ASSIGN_OR_RETURN(std::string sealed, SealKeyring(keys, root_key));
  CO_RETURN_IF_ERROR(co_await physical_->Put(kKeyringPath, sealed));
  std::unique_lock lock(mu_);
  root_key_ = root_key;
  keys_ = std::move(keys);
  active_term_ = 1;
  sealed_ = false;
  co_return Status::Ok();
}

Task<Status> Barrier::Unseal(std::string root_key) {
  WipeOnExit wipe{&root_key};
  AsyncMutex::Guard guard = co_await keyring_mu_.Lock();
  CO_ASSIGN_OR_RETURN(auto raw, co_await physical_->Get(kKeyringPath));
  if (!raw) co_return InvalidArgument("Vault is not initialized");
  if (root_key.size() < 16 || root_key.size() > 32)
    co_return InvalidArgument("unseal failed, invalid key");
  auto root = crypto::AesGcmKey::Create(root_key);
  if (!root.ok()) co_return InvalidArgument("unseal failed, invalid key");
  auto plain = OpenWith(**root, kKeyringPath, *raw);
  if (!plain.ok()) co_return InvalidArgument("unseal failed, invalid key");
  auto ring = DecodeKeyring(*plain);
  Zero(plain.value());
  if (!ring.ok()) co_return ring.status();
  std::map<uint32_t, Key> keys;
  uint32_t active = 0;
  for (KeyringKey& k : *ring) {
    CO_ASSIGN_OR_RETURN(keys[k.term], MakeKey(std::move(k.value), k.install_time_nanos));
    active = std::max(active, k.term);
  }
  std::unique_lock lock(mu_);
  keys_ = std::move(keys);
  if (active != active_term_) encryptions_.store(0, std::memory_order_relaxed);
  active_term_ = active;
  root_key_ = root_key;
  sealed_ = false;
  co_return Status::Ok();
}

Task<Status> Barrier::ReloadKeyring() {
  std::string root;
  {
    std::shared_lock lock(mu_);
    if (sealed_) co_return Status(StatusCode::kUnavailable, "Vault is sealed");
    root = root_key_;
  }
  Status st = co_await Unseal(std::move(root));
  co_return st;
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

// Whether the stored keyring opens with `root`: a node whose root key went stale (another node
// rekeyed) must not store a keyring sealed under it.
Task<Status> Barrier::CheckStoredRootKey(std::string root) {
  WipeOnExit wipe{&root};
  CO_ASSIGN_OR_RETURN(auto raw, co_await physical_->Get(kKeyringPath));
  if (!raw) co_return Internal("keyring not found");
  auto key = crypto::AesGcmKey::Create(root);
  if (!key.ok()) co_return key.status();
  auto plain = OpenWith(**key, kKeyringPath, *raw);
  if (!plain.ok())
    co_return InvalidArgument(
        "the keyring was rekeyed by another node: seal and unseal this node with the new key "
        "shares first");
  Zero(plain.value());
  co_return Status::Ok();
}

bool Barrier::IsRootKey(std::string_view key) const {
  std::shared_lock lock(mu_);
  if (sealed_ || key.size() != root_key_.size() || key.empty()) return false;
  return CRYPTO_memcmp(key.data(), root_key_.data(), key.size()) == 0;
}

Task<Status> Barrier::ChangeRootKey(std::string new_root, std::vector<storage::Mutation> also) {
  WipeOnExit wipe{&new_root};
  if (new_root.size() != crypto::kAesKeySize) co_return InvalidArgument("invalid root key size");
  AsyncMutex::Guard guard = co_await keyring_mu_.Lock();
  std::string current;
  {
    std::shared_lock lock(mu_);
    if (sealed_) co_return SealedError();
    current = root_key_;
  }
  CO_RETURN_IF_ERROR(co_await CheckStoredRootKey(std::move(current)));
  Result<std::string> sealed = Internal("keyring not sealed");
  {
    std::shared_lock lock(mu_);
    if (sealed_) co_return SealedError();
    sealed = SealKeyring(keys_, new_root);
  }
  if (!sealed.ok()) co_return sealed.status();
  also.push_back({kKeyringPath, std::move(sealed).value()});
  CO_RETURN_IF_ERROR(co_await physical_->Write(std::move(also)));
  std::unique_lock lock(mu_);
  if (sealed_) co_return SealedError();
  Zero(root_key_);
  root_key_ = new_root;
  co_return Status::Ok();
}

Task<Status> Barrier::Rotate() {
  AsyncMutex::Guard guard = co_await keyring_mu_.Lock();
  std::string current;
  {
    std::shared_lock lock(mu_);
    if (sealed_) co_return SealedError();
    current = root_key_;
  }
  CO_RETURN_IF_ERROR(co_await CheckStoredRootKey(std::move(current)));
  CO_ASSIGN_OR_RETURN(Key key, MakeKey(RandomBytes(crypto::kAesKeySize), clock_->NowNanos()));
  uint32_t term = 0;
  Result<std::string> sealed = Internal("keyring not sealed");
  {
    std::shared_lock lock(mu_);
    if (sealed_) co_return SealedError();
    term = active_term_ + 1;
    sealed = SealKeyring(keys_, root_key_, term, &key);
  }
  if (!sealed.ok()) {
    Zero(key.value);
    co_return sealed.status();
  }
  // Stored before it is used: a term no stored keyring knows would make its writes unreadable.
  Status stored = co_await physical_->Put(kKeyringPath, *sealed);
  std::unique_lock lock(mu_);
  if (!stored.ok() || sealed_) {
    Zero(key.value);
    if (!stored.ok()) co_return stored;
    co_return SealedError();
  }
  keys_[term] = std::move(key);
  active_term_ = term;
  encryptions_.store(0, std::memory_order_relaxed);
  co_return Status::Ok();
}

Result<Barrier::KeyStatus> Barrier::ActiveKeyStatus() const {
  std::shared_lock lock(mu_);
  if (sealed_) return SealedError();
  return KeyStatus{active_term_, keys_.at(active_term_).install_time,
                   encryptions_.load(std::memory_order_relaxed)};
}

Result<std::string> Barrier::Encrypt(std::string_view path, std::string_view plaintext) const {
  std::shared_lock lock(mu_);
  if (sealed_) return SealedError();
  encryptions_.fetch_add(1, std::memory_order_relaxed);
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

Task<Result<std::optional<std::string>>> Barrier::Get(std::string_view key) {
  static metrics::Summary* timing = metrics::Registry::Get().GetSummary("vault.barrier.get");
  metrics::Timer timer(timing);
  if (Sealed()) co_return SealedError();
  CO_ASSIGN_OR_RETURN(auto raw, co_await physical_->Get(key));
  if (!raw) co_return std::optional<std::string>();
  CO_ASSIGN_OR_RETURN(std::string plain, Decrypt(key, *raw));
  co_return std::optional<std::string>(std::move(plain));
}

Task<Status> Barrier::Put(std::string_view key, std::string_view value) {
  static metrics::Summary* timing = metrics::Registry::Get().GetSummary("vault.barrier.put");
  metrics::Timer timer(timing);
  if (key == kKeyringPath) co_return InvalidArgument("reserved path");
  CO_ASSIGN_OR_RETURN(std::string ct, Encrypt(key, value));
  Status st = co_await physical_->Put(key, ct);
  co_return st;
}

Task<Status> Barrier::Delete(std::string_view key) {
  static metrics::Summary* timing = metrics::Registry::Get().GetSummary("vault.barrier.delete");
  metrics::Timer timer(timing);
  if (Sealed()) co_return SealedError();
  Status st = co_await physical_->Delete(key);
  co_return st;
}

Task<Status> Barrier::Write(std::vector<storage::Mutation> batch) {
  if (Sealed()) co_return SealedError();
  for (auto& m : batch) {
    if (m.key == kKeyringPath) co_return InvalidArgument("reserved path");
    if (m.value) {
      CO_ASSIGN_OR_RETURN(std::string ct, Encrypt(m.key, *m.value));
      m.value = std::move(ct);
    }
  }
  Status st = co_await physical_->Write(std::move(batch));
  co_return st;
}

Task<Status> Barrier::ScanKeys(std::string_view prefix,
                               std::function<bool(std::string_view key)> fn) {
  if (Sealed()) co_return SealedError();
  Status st = co_await physical_->ScanKeys(prefix, std::move(fn));
  co_return st;
}

Task<Result<std::vector<std::string>>> Barrier::List(std::string_view prefix) {
  static metrics::Summary* timing = metrics::Registry::Get().GetSummary("vault.barrier.list");
  metrics::Timer timer(timing);
  if (Sealed()) co_return SealedError();
  Result<std::vector<std::string>> r = co_await physical_->List(prefix);
  co_return r;
}

}  // namespace vault::barrier
