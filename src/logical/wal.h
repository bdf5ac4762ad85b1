// Write-ahead entries for engines that create things outside Vault (IAM users). An engine
// records its intent (kind + data, e.g. the username it is about to create) before the first
// outside call; the entry is removed atomically with the lease that completes it (see
// SecretSpec::wal_ids) or by the engine's rollback once the outside effects are undone. Entries
// live in the engine's own (encrypted) storage under "wal/".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "logical/logical.h"

namespace vault::logical {

struct WalEntry {
  std::string id;
  std::string kind;
  Json data = Json::object();
  int64_t created_at = 0;  // unix seconds
  // Written by another server process (one that has since stopped: only the active node
  // writes). Its request can no longer complete, so rollback need not wait for min age.
  bool foreign = false;
};

// A random id of this server process, stored in every entry it writes.
const std::string& ProcessBootId();

inline constexpr const char* kWalPrefix = "wal/";

// Stores a new entry and returns its id. Durable when it returns (storage writes are synced).
Task<Result<std::string>> PutWal(Storage* s, std::string kind, Json data, int64_t now_unix);
// nullopt if the entry is gone; kInternal if corrupt.
Task<Result<std::optional<WalEntry>>> GetWal(Storage* s, std::string id);
Task<Status> DeleteWal(Storage* s, std::string id);
Task<Result<std::vector<std::string>>> ListWal(Storage* s);

}  // namespace vault::logical
