// Keeps a durable backend's writes away from a full disk. RocksDB is not safe to run into
// ENOSPC: Debian's build keeps its assertions, and a write that fails half way leaves its writer
// in a state that a later append aborts on. So writes are admitted only while the filesystem
// keeps a reserve free, as etcd's space quota and CockroachDB's ballast do:
//   - a write (any put) needs `reserve + pending + its size` free, where pending is what RocksDB
//     may still have to write on its own (the memtable's flush);
//   - a batch of deletes only needs a quarter of the reserve, so that revocations and cleanup,
//     which are what frees space, still go through on a nearly full disk;
//   - a ballast file of half the reserve is kept in the data directory. When something else
//     fills the disk past the deletes' watermark, the ballast is released so that RocksDB can
//     flush and recover and deletes can proceed; it is recreated once space is back.
// Thread safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "util/lock_annotations.h"
#include "util/status.h"

namespace vault::storage {

struct DiskSpace {
  uint64_t total = 0;      // bytes in the filesystem
  uint64_t available = 0;  // bytes an unprivileged writer may still use
};

class DiskSpaceGuard {
 public:
  struct Options {
    // Reads the filesystem's space; statvfs of the data directory when empty (tests inject).
    std::function<Result<DiskSpace>()> probe;
    // The reserve is 1% of the filesystem, at least min_reserve and at most max_reserve.
    uint64_t min_reserve = 4ull << 20;
    uint64_t max_reserve = 128ull << 20;
  };

  DiskSpaceGuard(std::string dir, Options options);

  // Ok if a write of `bytes` may go ahead with `pending` bytes that RocksDB may still write on
  // its own. kInternal naming the free and needed space if not: the write must not be made.
  Status Admit(uint64_t bytes, uint64_t pending, bool deletes_only);

  // The reserve for this filesystem (after the first probe; min_reserve before).
  uint64_t reserve() const;
  // The ballast file's path, and whether it is in place.
  const std::string& ballast_path() const { return ballast_path_; }
  bool HasBallast() const;

 private:
  Result<DiskSpace> Probe() const;
  void ReleaseBallastLocked();
  void MaybeCreateBallastLocked(const DiskSpace& space);

  const std::string dir_;
  const std::string ballast_path_;
  const Options options_;
  mutable std::mutex mu_;
  uint64_t reserve_ GUARDED_BY(mu_);
  bool ballast_ GUARDED_BY(mu_) = false;
};

}  // namespace vault::storage
