// The barrier's keyring as unseal decrypts it: barrier::DecodeKeyring (barrier/barrier.h) on
// arbitrary plaintext.
//
// Invariants: no throw or crash; every key decoded is 32 bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "barrier/barrier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view plaintext(reinterpret_cast<const char*>(data), size);
  auto ring = vault::barrier::DecodeKeyring(plaintext);
  if (!ring.ok()) return 0;
  for (const auto& k : *ring) {
    if (k.value.size() != 32) __builtin_trap();
  }
  return 0;
}
