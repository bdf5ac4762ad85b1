// The encryption barrier: every value written through it is AES-256-GCM ciphertext under the
// active key of a keyring with terms; the keyring itself is encrypted by the root key, which
// never touches storage. Value format (Vault's): [4-byte BE term][1-byte version=2][12-byte
// nonce][ciphertext||tag], with the storage path as additional data so a ciphertext cannot be
// moved to another path. Paths are not encrypted. Only core/seal-config is stored in clear.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/aead.h"
#include "logical/logical.h"
#include "storage/backend.h"
#include "util/async_mutex.h"
#include "util/clock.h"
#include "util/lock_annotations.h"

namespace vault::barrier {

inline constexpr char kKeyringPath[] = "core/keyring";

// One key of the keyring as stored: its term, its value (32 bytes, secret) and when it was
// installed.
struct KeyringKey {
  uint32_t term = 0;
  std::string value;
  int64_t install_time_nanos = 0;
};
// Decodes the keyring's plaintext, Vault's JSON form:
//   {"MasterKey": "<base64>", "Keys": [{"Term": 1, "Version": 1, "Value": "<base64>",
//                                       "InstallTime": "...", "InstallTimeNanos": ...}, ...]}
// kInternal("keyring is corrupt") for anything else, and for a keyring without keys.
Result<std::vector<KeyringKey>> DecodeKeyring(std::string_view plaintext);

// Thread safety: all methods are safe to call concurrently. While sealed, Get/Put/Delete/List
// fail with kUnavailable("Vault is sealed"). Storage operations are awaitable like the physical
// backend's (the barrier adds no waiting of its own); mu_ guards the keys and is never held across
// a wait, keyring_mu_ orders the keyring's changes (init, unseal, rotation) across theirs.
class Barrier : public logical::Storage {
 public:
  Barrier(storage::Backend* physical, Clock* clock) : physical_(physical), clock_(clock) {}
  ~Barrier() override;

  // True once a keyring exists in storage.
  Task<Result<bool>> Initialized();
  // Creates the keyring (term 1) under root_key (32 bytes) and leaves the barrier unsealed.
  // kInvalidArgument if already initialized or the key size is wrong.
  Task<Status> Initialize(std::string root_key);
  // Decrypts the keyring with root_key. kInvalidArgument("unseal failed, invalid key") on a wrong
  // key.
  Task<Status> Unseal(std::string root_key);
  // Reads the keyring from storage again with the root key it was unsealed with: an HA standby
  // learns the terms the active node added (sys/rotate). kUnavailable while sealed.
  Task<Status> ReloadKeyring();
  // Forgets every key (zeroized). Idempotent.
  void Seal();
  bool Sealed() const;
  // Whether `key` is the root key the barrier was unsealed with (compared in constant time).
  // False while sealed.
  bool IsRootKey(std::string_view key) const;
  // Rekey: seals the keyring under `new_root` (32 bytes) instead and stores it in one physical
  // batch with `also` (the seal configuration of the new shares), so that the stored keyring and
  // the configuration that unseals it change together. Data keys (terms) stay as they are.
  Task<Status> ChangeRootKey(std::string new_root, std::vector<storage::Mutation> also);
  // Adds a new key term used for all new writes; old terms still decrypt.
  Task<Status> Rotate();
  struct KeyStatus {
    uint32_t term;
    int64_t install_time_nanos;
    int64_t encryptions;  // under the active term since this node unsealed (or rotated)
  };
  Result<KeyStatus> ActiveKeyStatus() const;

  Task<Result<std::optional<std::string>>> Get(std::string_view key) override;
  Task<Status> Put(std::string_view key, std::string_view value) override;
  Task<Status> Delete(std::string_view key) override;
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override;
  // Applies puts (encrypted) and deletes atomically and durably in one physical batch.
  Task<Status> Write(std::vector<storage::Mutation> batch);
  // Visits every key under prefix (recursively, in order) without decrypting values; for
  // indexes whose information is in the key. fn returns false to stop.
  Task<Status> ScanKeys(std::string_view prefix, std::function<bool(std::string_view key)> fn);

  // Exposed for tests: encrypt/decrypt with the active/appropriate term.
  Result<std::string> Encrypt(std::string_view path, std::string_view plaintext) const;
  Result<std::string> Decrypt(std::string_view path, std::string_view ciphertext) const;

 private:
  struct Key {
    std::string value;  // 32 bytes
    int64_t install_time = 0;
    std::shared_ptr<const crypto::AesGcmKey> aead;  // value's prepared cipher contexts
  };
  static Result<Key> MakeKey(std::string value, int64_t install_time);
  // OK when the stored keyring opens with `root` (the caller holds keyring_mu_).
  Task<Status> CheckStoredRootKey(std::string root);
  // The keyring holding `keys` (and `extra` at term `extra_term`, when set) under `root_key`,
  // sealed for storage at kKeyringPath.
  static Result<std::string> SealKeyring(const std::map<uint32_t, Key>& keys,
                                         const std::string& root_key, uint32_t extra_term = 0,
                                         const Key* extra = nullptr);
  static Result<std::string> SealWith(const crypto::AesGcmKey& key, uint32_t term,
                                      std::string_view path, std::string_view plaintext);

  storage::Backend* physical_;
  Clock* clock_;
  AsyncMutex keyring_mu_;
  mutable std::shared_mutex mu_;
  bool sealed_ GUARDED_BY(mu_) = true;
  std::string root_key_ GUARDED_BY(mu_);
  // Encryptions under the active term since unseal or rotation (a relaxed counter: no lock).
  mutable std::atomic<int64_t> encryptions_{0};
  std::map<uint32_t, Key> keys_ GUARDED_BY(mu_);
  uint32_t active_term_ GUARDED_BY(mu_) = 0;
};

}  // namespace vault::barrier
