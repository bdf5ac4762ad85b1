// vault::hcl::Parse (src/hcl), the HCL1 parser of policies and server config files.
//
// Invariants: it never throws or crashes, and what it accepts serializes and parses back as JSON
// (its nesting limit keeps the result shallow enough for the recursive serializer).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hcl/hcl.h"
#include "util/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vault::Result<vault::Json> j = vault::hcl::Parse(text);
  if (!j.ok()) return 0;
  std::string dumped = vault::DumpJson(*j);
  if (!vault::ParseJson(dumped).ok()) __builtin_trap();
  return 0;
}
