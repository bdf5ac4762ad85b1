// The physical storage seam: a flat, ordered key/value store of opaque bytes. The barrier
// encrypts values before they reach a Backend. Implementations: inmem (tests, dev), rocksdb
// (the embedded default); a distributed backend (etcd, with an HA lock) implements the same
// interface and must pass the same conformance suite (storage/conformance.h).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/task.h"

namespace vault::storage {

struct Entry {
  std::string key;
  std::string value;
};

// One write in an atomic batch: a put when value is set, a delete otherwise.
struct Mutation {
  std::string key;
  std::optional<std::string> value;
};

// Every operation is awaitable and each backend decides how it waits: in memory it completes
// inline; RocksDB reads inline and runs its synced writes on threads of its own; a networked
// backend suspends on its socket. A caller never picks a thread for a storage call, and resumes
// where it awaited (on its event loop, if its thread has one; util/thread_pool.h RunBlocking).
// Parameters: string_views must stay valid until the task completes (a caller that awaits at once
// has nothing to do). Thread safety: every method may be called concurrently from many threads.
// Durability: a successful Put/Delete/Write is durable (fsynced) for durable backends.
class Backend {
 public:
  virtual ~Backend() = default;
  // The value at key, std::nullopt if absent. kInternal on I/O failure.
  virtual Task<Result<std::optional<std::string>>> Get(std::string_view key) = 0;
  virtual Task<Status> Put(std::string_view key, std::string_view value) = 0;
  // Deleting an absent key succeeds.
  virtual Task<Status> Delete(std::string_view key) = 0;
  // Applies all mutations atomically: all or none.
  virtual Task<Status> Write(std::vector<Mutation> batch) = 0;
  // Immediate children of prefix, sorted: "a/b" -> "b"; "a/b/c" -> "b/" (once). Vault's List.
  virtual Task<Result<std::vector<std::string>>> List(std::string_view prefix) = 0;
  // Calls fn for every key starting with prefix, in key order, until fn returns false.
  using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;
  virtual Task<Status> Scan(std::string_view prefix, ScanFn fn) = 0;
  // Scan without the values: what a backend does not need to read or send, it does not (etcd
  // asks for keys only). The default scans and drops the values.
  using KeyFn = std::function<bool(std::string_view key)>;
  virtual Task<Status> ScanKeys(std::string_view prefix, KeyFn fn);
  // A short name for status output ("inmem", "rocksdb").
  virtual std::string Name() const = 0;
};

// The HA seam a distributed backend adds (etcd): a lock at most one server holds at a time, and
// writes fenced by it. Only the holder (the active node) serves and writes; the others (standbys)
// wait on the lock. The calls block: they are made by the server's HA thread, which is theirs.
class HaLock {
 public:
  virtual ~HaLock() = default;
  // Waits until this server holds the lock, storing `value` (this server's id) in it, or until
  // `cancelled` becomes true (false then). From then on the backend's writes are fenced: each
  // applies only while this server still holds the lock, else fails (kUnavailable) and marks the
  // lock lost.
  virtual Result<bool> Acquire(const std::string& value, const std::atomic<bool>& cancelled) = 0;
  // Renews the hold; call every KeepAliveIntervalMs(). False once the lock is lost.
  virtual bool KeepAlive() = 0;
  virtual int64_t KeepAliveIntervalMs() const = 0;
  // Whether the lock was lost (a renewal failed for a whole lock timeout, the lock's lease ended,
  // or a fenced write was refused).
  virtual bool Lost() const = 0;
  // Gives the lock up now (another server can take it at once). Writes are refused from now on
  // until the next Acquire.
  virtual Status Release() = 0;
  // The value the holder stored, std::nullopt when nobody holds the lock. Awaitable (unlike the
  // calls above): a standby asks it from an HTTP I/O thread to find the active node.
  virtual Task<Result<std::optional<std::string>>> Holder() = 0;
};

class HaBackend : public Backend {
 public:
  // The server's HA lock. Before its first Acquire, writes are not fenced (init on a new store);
  // after it, only a holder writes.
  virtual HaLock* Lock() = 0;
};

// Helper for implementations: turns a sorted run of full keys under prefix into List's answer.
void AppendChild(std::string_view prefix, std::string_view key, std::vector<std::string>* out);

}  // namespace vault::storage
