// The expiration manager's stored lease record: core::LeaseEntry::Decode (core/expiration.h) on
// arbitrary bytes: the binary form (a version byte, fixed-width integers, length-prefixed strings
// and internal data as CBOR) and the JSON form earlier versions stored.
//
// Invariants: no throw or crash; a record that decodes re-encodes (Encode) to bytes that decode
// to the same record (internal data compared as serialized: NaN is not equal to itself), and
// encoding that again gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/expiration.h"
#include "util/json.h"

namespace {

bool Same(const vault::core::LeaseEntry& a, const vault::core::LeaseEntry& b) {
  return a.lease_id == b.lease_id && a.path == b.path && a.token_accessor == b.token_accessor &&
         vault::DumpJson(a.internal_data) == vault::DumpJson(b.internal_data) &&
         a.issue_time_ms == b.issue_time_ms && a.expire_time_ms == b.expire_time_ms &&
         a.last_renewal_ms == b.last_renewal_ms && a.ttl == b.ttl && a.renewable == b.renewable &&
         a.revoke_attempts == b.revoke_attempts && a.next_attempt_ms == b.next_attempt_ms &&
         a.revoke_error == b.revoke_error && a.irrevocable == b.irrevocable;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view stored(reinterpret_cast<const char*>(data), size);
  auto entry = vault::core::LeaseEntry::Decode(stored);
  if (!entry.ok()) return 0;
  std::string encoded = entry->Encode();
  auto again = vault::core::LeaseEntry::Decode(encoded);
  if (!again.ok() || !Same(*entry, *again)) __builtin_trap();
  if (again->Encode() != encoded) __builtin_trap();
  return 0;
}
