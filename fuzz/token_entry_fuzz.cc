// The token store's stored record: core::TokenEntry::FromJson (core/token_store.h) on whatever
// JSON document sits at sys/token/id/<hash>, as TokenStore::Load reads it.
//
// Invariants: no throw or crash; an entry that decodes encodes (ToJson) to a document that
// decodes, to the same encoding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/token_store.h"
#include "util/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = vault::ParseJson(text);
  if (!doc.ok()) return 0;
  auto entry = vault::core::TokenEntry::FromJson(*doc);
  if (!entry.ok()) return 0;
  vault::Json encoded = entry->ToJson();
  auto again = vault::core::TokenEntry::FromJson(encoded);
  if (!again.ok() || vault::DumpJson(again->ToJson()) != vault::DumpJson(encoded)) __builtin_trap();
  entry->IsRoot();
  entry->Expired(1700000000);
  return 0;
}
