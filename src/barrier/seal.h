// Shamir seal: init splits the barrier's root key into unseal key shares; unseal collects shares
// until the threshold is met, combines them and unseals the barrier. The seal configuration
// (shares, threshold) is the only thing stored in clear, at core/seal-config.
#pragma once

#include <mutex>
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

 private:
  storage::Backend* physical_;
  Barrier* barrier_;
  AsyncMutex op_mu_;
  std::mutex parts_mu_;
  std::vector<std::string> parts_ GUARDED_BY(parts_mu_);
  std::string nonce_ GUARDED_BY(parts_mu_);
};

}  // namespace vault::barrier
