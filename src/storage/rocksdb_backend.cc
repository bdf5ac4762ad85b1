#include "storage/rocksdb_backend.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstdarg>
#include <filesystem>
#include <thread>

#include "util/log.h"

namespace vault::storage {
namespace {

// Concurrent synced writers share one fsync (RocksDB's group commit): as many threads as writes
// a busy server has in flight at once.
constexpr int kWriterThreads = 32;

// RocksDB's info log, in the server's log (warnings and errors only) instead of a LOG file in the
// data directory: RocksDB's file logger asserts on its next append after one failed with ENOSPC.
class ServerLogger : public rocksdb::Logger {
 public:
  ServerLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    vsnprintf(buf, sizeof(buf), format, ap);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      spdlog::error("storage: rocksdb: {}", buf);
    } else {
      spdlog::warn("storage: rocksdb: {}", buf);
    }
  }
};

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

// Notes a background error (a flush or compaction that failed, e.g. on a full disk): RocksDB then
// refuses writes until DB::Resume, which the next admitted write calls.
class RocksDbBackend::ErrorListener : public rocksdb::EventListener {
 public:
  explicit ErrorListener(std::shared_ptr<std::atomic<bool>> needs_resume)
      : needs_resume_(std::move(needs_resume)) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    spdlog::error("storage: rocksdb background error: {}", error->ToString());
    needs_resume_->store(true);
  }
  // RocksDB's own recovery from a full disk waits for a whole write buffer (64 MiB) of free space
  // and makes DB::Resume answer "busy" meanwhile; the space guard decides instead.
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status error,
                            bool* auto_recovery) override {
    if (error.IsNoSpace()) *auto_recovery = false;
  }

 private:
  std::shared_ptr<std::atomic<bool>> needs_resume_;
};

Result<std::unique_ptr<RocksDbBackend>> RocksDbBackend::Open(const std::string& path,
                                                             DiskSpaceGuard::Options space) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);  // the guard measures the data directory
  std::unique_ptr<RocksDbBackend> backend(new RocksDbBackend(path, std::move(space)));
  rocksdb::Options options;
  options.info_log = std::make_shared<ServerLogger>();
  options.listeners.push_back(std::make_shared<ErrorListener>(backend->needs_resume_));
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
  backend->db_.reset(db);
  return backend;
}

RocksDbBackend::RocksDbBackend(const std::string& path, DiskSpaceGuard::Options space)
    : space_(path, std::move(space)),
      needs_resume_(std::make_shared<std::atomic<bool>>(false)),
      writers_(kWriterThreads, "rocksdb-write") {}

Status RocksDbBackend::ResumeIfStopped() {
  if (!needs_resume_->load()) return Status::Ok();
  std::lock_guard<std::mutex> lock(resume_mu_);
  if (!needs_resume_->load()) return Status::Ok();
  // Resume flushes the memtables to new table files and starts a new WAL, so that a WAL whose
  // last append failed half way is never replayed past its torn record.
  rocksdb::Status s = db_->Resume();
  if (!s.ok()) return FromRocks(s);
  needs_resume_->store(false);
  spdlog::info("storage: rocksdb resumed writing after an error");
  return Status::Ok();
}

template <typename WriteFn>
Status RocksDbBackend::GuardedWrite(uint64_t bytes, bool deletes_only, WriteFn write) {
  // What a flush of the memtables would write: read from RocksDB every 32nd write (the property
  // takes the DB mutex), counted up by the sizes admitted in between.
  uint64_t pending = 0;
  if (!deletes_only) {
    if (writes_.fetch_add(1, std::memory_order_relaxed) % 32 == 0 &&
        db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &pending)) {
      memtable_bytes_.store(pending, std::memory_order_relaxed);
    } else {
      pending = memtable_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    }
  }
  RETURN_IF_ERROR(space_.Admit(bytes, pending, deletes_only));
  RETURN_IF_ERROR(ResumeIfStopped());
  rocksdb::Status s = write();
  if (!s.ok()) needs_resume_->store(true);
  return FromRocks(s);
}

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

Task<Result<std::optional<std::string>>> RocksDbBackend::Get(std::string_view key) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) co_return std::optional<std::string>();
  if (!s.ok()) co_return FromRocks(s);
  co_return std::optional<std::string>(std::move(value));
}

Task<Status> RocksDbBackend::Put(std::string_view key, std::string_view value) {
  std::vector<Mutation> batch;
  batch.push_back({std::string(key), std::string(value)});
  Status st = co_await Write(std::move(batch));
  co_return st;
}

Task<Status> RocksDbBackend::Delete(std::string_view key) {
  std::vector<Mutation> batch;
  batch.push_back({std::string(key), std::nullopt});
  Status st = co_await Write(std::move(batch));
  co_return st;
}

Task<Status> RocksDbBackend::Write(std::vector<Mutation> batch) {
  Status st = co_await RunBlocking(&writers_, [this, &batch] { return WriteNow(batch); });
  co_return st;
}

Status RocksDbBackend::WriteNow(const std::vector<Mutation>& batch) {
  rocksdb::WriteBatch wb;
  bool deletes_only = true;
  for (const auto& m : batch) {
    if (m.value) {
      wb.Put(m.key, *m.value);
      deletes_only = false;
    } else {
      wb.Delete(m.key);
    }
  }
  return GuardedWrite(wb.GetDataSize(), deletes_only, [&] { return db_->Write(SyncWrite(), &wb); });
}

Task<Result<std::vector<std::string>>> RocksDbBackend::List(std::string_view prefix) {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p);) {
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
  Status st = FromRocks(it->status());
  if (!st.ok()) co_return st;
  co_return out;
}

Task<Status> RocksDbBackend::Scan(std::string_view prefix, ScanFn fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size())))
      break;
  }
  co_return FromRocks(it->status());
}

}  // namespace vault::storage
