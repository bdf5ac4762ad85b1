// The embedded, durable default Backend: RocksDB with a synced WAL on every write (RocksDB's
// write thread groups concurrent synced writes into one fsync: group commit). Values are
// ciphertext, so compression is off. Reads complete inline (memtable, block cache or a short
// file read); writes wait for their fsync on the backend's own threads (`rocksdb-write`), where
// concurrent writers share RocksDB's group commit, and the caller resumes where it awaited.
//
// A full disk is an error, never an abort (docs/decisions/0003-full-disk.md): writes are admitted
// by a DiskSpaceGuard, RocksDB's info log goes to the server's log instead of a file in the data
// directory (its file writer asserts on the append after an ENOSPC), and after a write or a
// background job failed, the next write with room resumes the database (DB::Resume) first.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "storage/backend.h"
#include "storage/disk_space.h"
#include "util/thread_pool.h"

namespace rocksdb {
class DB;
}

namespace vault::storage {

class RocksDbBackend : public Backend {
 public:
  // Opens (creating if needed) the database in directory `path`. kInternal with RocksDB's
  // message if it cannot be opened (e.g. locked by another process).
  static Result<std::unique_ptr<RocksDbBackend>> Open(const std::string& path,
                                                      DiskSpaceGuard::Options space = {});
  ~RocksDbBackend() override;

  Task<Result<std::optional<std::string>>> Get(std::string_view key) override;
  Task<Status> Put(std::string_view key, std::string_view value) override;
  Task<Status> Delete(std::string_view key) override;
  Task<Status> Write(std::vector<Mutation> batch) override;
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override;
  Task<Status> Scan(std::string_view prefix, ScanFn fn) override;
  std::string Name() const override { return "rocksdb"; }

  // Flushes the memtable and waits until no flush or compaction is pending or running (for
  // benchmarks: measure on a settled database, not on the tail of a bulk load).
  Status WaitIdle();

  const DiskSpaceGuard& space_guard() const { return space_; }

 private:
  class ErrorListener;
  RocksDbBackend(const std::string& path, DiskSpaceGuard::Options space);
  // The synced write itself, on a writer thread.
  Status WriteNow(const std::vector<Mutation>& batch);
  // Admits a write of `bytes` (resuming the database first if an earlier failure stopped it),
  // then runs `write` and notes a failure for the next one.
  template <typename WriteFn>
  Status GuardedWrite(uint64_t bytes, bool deletes_only, WriteFn write);
  Status ResumeIfStopped();

  DiskSpaceGuard space_;
  // Set when a write or a background job failed: RocksDB then refuses writes until resumed.
  std::shared_ptr<std::atomic<bool>> needs_resume_;
  std::mutex resume_mu_;  // one DB::Resume at a time
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> memtable_bytes_{0};  // an estimate, see GuardedWrite
  std::unique_ptr<rocksdb::DB> db_;
  // Declared last: destroyed (its threads joined) first, while the database is still open.
  ThreadPool writers_;
};

}  // namespace vault::storage
