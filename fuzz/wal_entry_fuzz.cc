// Write-ahead entries as an engine's rollback reads them back: logical::GetWal (logical/wal.h)
// on arbitrary bytes stored under wal/<id> (an in-memory logical::Storage).
//
// Invariants: no throw or crash; an entry read back has the id asked for and a kind.
#include <cstddef>
#include <cstdint>
#include <string>

#include "logical/testing.h"
#include "logical/wal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vault::logical::MemStorage storage;
  const std::string id = "4c9a3f1e-8d2b-4f6a-9c1e-7b5d3a2f0e8c";
  (void)storage.PutNow(std::string(vault::logical::kWalPrefix) + id,
                       std::string(reinterpret_cast<const char*>(data), size));
  auto entry = vault::SyncWait(vault::logical::GetWal(&storage, id));
  if (!entry.ok() || !entry->has_value()) return 0;
  if ((*entry)->id != id) __builtin_trap();
  return 0;
}
