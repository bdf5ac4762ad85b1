// The embedded, durable default Backend: RocksDB with a synced WAL on every write (RocksDB's
// write thread groups concurrent synced writes into one fsync: group commit). Values are
// ciphertext, so compression is off.
#pragma once

#include <memory>
#include <string>

#include "storage/backend.h"

namespace rocksdb {
class DB;
}

namespace vault::storage {

class RocksDbBackend : public Backend {
 public:
  // Opens (creating if needed) the database in directory `path`. kInternal with RocksDB's
  // message if it cannot be opened (e.g. locked by another process).
  static Result<std::unique_ptr<RocksDbBackend>> Open(const std::string& path);
  ~RocksDbBackend() override;

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Status Write(const std::vector<Mutation>& batch) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) override;
  std::string Name() const override { return "rocksdb"; }

  // Flushes the memtable and waits until no flush or compaction is pending or running (for
  // benchmarks: measure on a settled database, not on the tail of a bulk load).
  Status WaitIdle();

 private:
  explicit RocksDbBackend(rocksdb::DB* db);
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace vault::storage
