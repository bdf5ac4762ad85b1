#include "storage/rocksdb_backend.h"

#include <chrono>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

namespace vault::storage {
namespace {
Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  return Internal("storage: " + s.ToString());
}
rocksdb::WriteOptions SyncWrite() {
  rocksdb::WriteOptions w;
  w.sync = true;
  return w;
}
}  // namespace

Result<std::unique_ptr<RocksDbBackend>> RocksDbBackend::Open(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kNoCompression;
  options.IncreaseParallelism(2);
  options.max_background_jobs = 2;
  // RocksDB's default memtable size. Mass expiry writes three tombstones per lease; a larger
  // memtable means fewer flushes and level-0 compactions (16 MiB cost ~40% more CPU per expiry at
  // a million leases, bench/leases). Memory grows only as the memtable fills.
  options.write_buffer_size = 64 << 20;
  options.max_open_files = 256;
  options.keep_log_file_num = 3;
  options.enable_pipelined_write = true;
  // Point reads of keys that are not in the memtable (most reads: a lease being expired, a KV
  // read, a token lookup) skip its skiplist search with a whole-key bloom filter.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.02;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = nullptr;  // default 8 MiB LRU
  // Point reads (every lease load, KV read and token lookup) check each overlapping level-0
  // file; a bloom filter lets them skip the files that do not hold the key (~1.25 B per key).
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &db);
  if (!s.ok()) return Internal("storage: cannot open rocksdb at " + path + ": " + s.ToString());
  return std::unique_ptr<RocksDbBackend>(new RocksDbBackend(db));
}

RocksDbBackend::RocksDbBackend(rocksdb::DB* db) : db_(db) {}

Status RocksDbBackend::WaitIdle() {
  RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions())));
  for (;;) {
    uint64_t pending = 0, compactions = 0, flushes = 0;
    db_->GetIntProperty("rocksdb.compaction-pending", &pending);
    db_->GetIntProperty("rocksdb.num-running-compactions", &compactions);
    db_->GetIntProperty("rocksdb.num-running-flushes", &flushes);
    if (pending == 0 && compactions == 0 && flushes == 0) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}
RocksDbBackend::~RocksDbBackend() = default;

Result<std::optional<std::string>> RocksDbBackend::Get(std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()),
                               &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  return std::optional<std::string>(std::move(value));
}

Status RocksDbBackend::Put(std::string_view key, std::string_view value) {
  return FromRocks(db_->Put(SyncWrite(), rocksdb::Slice(key.data(), key.size()),
                            rocksdb::Slice(value.data(), value.size())));
}

Status RocksDbBackend::Delete(std::string_view key) {
  return FromRocks(db_->Delete(SyncWrite(), rocksdb::Slice(key.data(), key.size())));
}

Status RocksDbBackend::Write(const std::vector<Mutation>& batch) {
  rocksdb::WriteBatch wb;
  for (const auto& m : batch) {
    if (m.value) {
      wb.Put(m.key, *m.value);
    } else {
      wb.Delete(m.key);
    }
  }
  return FromRocks(db_->Write(SyncWrite(), &wb));
}

Result<std::vector<std::string>> RocksDbBackend::List(std::string_view prefix) {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); ) {
    std::string_view key(it->key().data(), it->key().size());
    AppendChild(prefix, key, &out);
    // Skip the whole sub-directory at once: seek past "<prefix><child>/" ("/" + 1 = "0").
    if (!out.empty() && out.back().back() == '/') {
      std::string next = std::string(prefix) + out.back();
      next.back() = '0';
      it->Seek(next);
    } else {
      it->Next();
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status()));
  return out;
}

Status RocksDbBackend::Scan(std::string_view prefix,
                            const std::function<bool(std::string_view, std::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size())))
      break;
  }
  return FromRocks(it->status());
}

}  // namespace vault::storage
