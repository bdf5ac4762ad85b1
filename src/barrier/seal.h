// Shamir seal: init splits the barrier's root key into unseal key shares; unseal collects shares
// until the threshold is met, combines them and unseals the barrier. The seal configuration
// (shares, threshold) is the only thing stored in clear, at core/seal-config.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "barrier/barrier.h"
#include "util/async_mutex.h"
#include "util/lock_annotations.h"
#include "util/task.h"

namespace vault::barrier {

struct SealStatus {
  bool initialized = false;
  bool sealed = true;
  int threshold = 0;  // "t"
  int shares = 0;     // "n"
  int progress = 0;
  std::string nonce;
};

// A rekey under way (sys/rekey/init): the new shares and threshold asked for, and the progress
// of the current shares that authorize it.
struct RekeyStatus {
  std::string nonce;  // "" when no rekey is under way
  bool started = false;
  int new_threshold = 0;  // "t"
  int new_shares = 0;     // "n"
  int progress = 0;
  int required = 0;  // the current unseal threshold
  bool verification_required = false;
  std::string verification_nonce;  // set once the new shares wait for verification
};

// What one submitted share did: either progress (status), or the rekey's end (new shares).
struct RekeyUpdate {
  bool complete = false;
  RekeyStatus status;
  std::vector<std::string> keys;  // the new shares (raw), when complete
  std::string nonce;
  bool verification_required = false;
  std::string verification_nonce;
};

// Verification of new shares (sys/rekey/verify): a threshold of them must be entered before
// they replace the old ones.
struct RekeyVerifyStatus {
  std::string nonce;
  bool started = false;
  int threshold = 0;
  int shares = 0;
  int progress = 0;
  bool complete = false;  // set on the answer that completed it
};

// Thread safety: all methods may be called concurrently. Initialize and SubmitShare run one at a
// time (op_mu_, held across their storage waits); parts_mu_ guards the shares, never across one.
class SealManager {
 public:
  SealManager(storage::Backend* physical, Barrier* barrier)
      : physical_(physical), barrier_(barrier) {}

  // Initializes: writes the seal config, creates the barrier under a fresh root key and returns
  // the unseal key shares (raw bytes; with shares == 1 the single share is the root key itself).
  // The barrier is left unsealed. kInvalidArgument for bad parameters or if already initialized
  // ("Vault is already initialized").
  Task<Result<std::vector<std::string>>> Initialize(int shares, int threshold);

  // Submits one key share (raw bytes). Returns the status after it; the barrier is unsealed when
  // the threshold is reached. kInvalidArgument on a bad or wrong key (progress resets to 0).
  Task<Result<SealStatus>> SubmitShare(std::string share);
  // Discards the shares submitted so far.
  void ResetProgress();
  // Seals the barrier and discards progress.
  void Seal();
  Task<Result<SealStatus>> GetStatus();

  // Rekey (Vault's barrier rekey): a threshold of the current shares authorizes a new root key
  // split into `shares` with `threshold`; the keyring is sealed under it and the new shares
  // replace the old ones when the last share is entered, or, with `require_verification`, once
  // a threshold of the new shares has been entered back. Until then nothing changes. Errors are
  // Vault's texts (kInvalidArgument; kInternal for a bad configuration, as Vault's 500).
  Task<Result<RekeyStatus>> RekeyInit(int shares, int threshold, bool require_verification);
  Task<Result<RekeyStatus>> RekeyGetStatus();
  // Cancels the rekey (and a pending verification: the old shares stay).
  void RekeyCancel();
  Task<Result<RekeyUpdate>> RekeySubmit(std::string share, std::string nonce);
  Result<RekeyVerifyStatus> RekeyVerifyGetStatus();
  Task<Result<RekeyVerifyStatus>> RekeyVerifySubmit(std::string share, std::string nonce);
  // Starts verification over (a new nonce, no progress).
  Result<RekeyVerifyStatus> RekeyVerifyRestart();

  // Whether `parts` (raw shares, at least the unseal threshold) combine to the root key the
  // barrier holds: how generate-root checks its shares. kInvalidArgument otherwise.
  Status CheckRootShares(const std::vector<std::string>& parts);
  // The unseal threshold (0 when not initialized).
  Task<Result<int>> Threshold();

 private:
  storage::Backend* physical_;
  Barrier* barrier_;
  AsyncMutex op_mu_;
  std::mutex parts_mu_;
  std::vector<std::string> parts_ GUARDED_BY(parts_mu_);
  std::string nonce_ GUARDED_BY(parts_mu_);

  struct Rekey {
    std::string nonce;
    int shares = 0;
    int threshold = 0;
    bool require_verification = false;
    std::vector<std::string> parts;  // current shares entered
    // After the last current share, with verification: the new root key and its shares.
    std::string new_root;
    std::vector<std::string> new_keys;
    std::string verification_nonce;
    std::vector<std::string> verify_parts;
    void Wipe();
  };
  std::optional<Rekey> rekey_ GUARDED_BY(parts_mu_);
  AsyncMutex rekey_mu_;  // one rekey step at a time (held across the storage write)
  RekeyStatus RekeyStatusLocked(int required) const REQUIRES(parts_mu_);
  // Stores the keyring under new_root with the seal configuration of shares/threshold.
  Task<Status> ApplyRekey(std::string new_root, int shares, int threshold);
};

}  // namespace vault::barrier
