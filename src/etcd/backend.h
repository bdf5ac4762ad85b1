// The etcd storage backend: the server's storage (barrier ciphertext only) kept in an etcd v3
// cluster under a key prefix (Vault's `path`, "/vault/" by default). A Put or Delete is one etcd
// write, an atomic batch one transaction; reads are linearizable. Listing and scanning read in
// ranged pages pinned to one revision, so a scan sees one consistent state and never holds more
// than a page in memory; a listing jumps over each sub-folder instead of reading its keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "etcd/client.h"
#include "storage/backend.h"

namespace vault::etcd {

struct BackendOptions {
  std::string path = "/vault/";  // key prefix; a leading and a trailing '/' are added if missing
  int64_t page_size = 1000;      // keys per ranged read
  size_t max_txn_ops = 128;      // etcd's --max-txn-ops
};

class EtcdBackend final : public storage::Backend {
 public:
  // `client` is not owned and must outlive the backend.
  EtcdBackend(Client* client, BackendOptions options);

  Task<Result<std::optional<std::string>>> Get(std::string_view key) override;
  Task<Status> Put(std::string_view key, std::string_view value) override;
  Task<Status> Delete(std::string_view key) override;
  // One transaction. A key written twice in the batch keeps its last mutation (etcd refuses a key
  // twice in a transaction). etcd takes at most --max-txn-ops (128 by default) operations per
  // transaction: a larger batch is applied as consecutive transactions of max_txn_ops, each
  // atomic, the whole not. The server's batches that large are bulk deletes (revoked leases,
  // tidy), for which that is harmless: what a crash between two leaves, tidy removes.
  Task<Status> Write(std::vector<storage::Mutation> batch) override;
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override;
  Task<Status> Scan(std::string_view prefix, ScanFn fn) override;
  std::string Name() const override { return "etcd"; }

  const std::string& prefix() const { return prefix_; }

 private:
  Client* client_;
  std::string prefix_;
  int64_t page_size_;
  size_t max_txn_ops_;
};

// "/vault" -> "/vault/", "vault" -> "/vault/", "" -> "/".
std::string NormalizePrefix(std::string_view path);

}  // namespace vault::etcd
