// vault::core::ParsePolicy (core/policy.h): ACL policies in HCL or JSON, as sys/policy receives
// them, then the ACL built from what parsed (core/acl.h), asked about each rule's own path and a
// few neighbours.
//
// Invariants: no throw or crash; every rule of a parsed policy, and every answer of the ACL, has
// only known capability bits.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/acl.h"
#include "core/policy.h"

namespace {
constexpr uint32_t kAllCaps = vault::core::kCapDeny | vault::core::kCapCreate |
                              vault::core::kCapRead | vault::core::kCapUpdate |
                              vault::core::kCapDelete | vault::core::kCapList |
                              vault::core::kCapSudo | vault::core::kCapPatch;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vault::Result<vault::core::Policy> policy = vault::core::ParsePolicy("fuzz", text);
  if (!policy.ok()) return 0;
  for (const auto& rule : policy->rules) {
    if ((rule.capabilities & ~kAllCaps) != 0) __builtin_trap();
  }
  vault::core::CapabilityNames(kAllCaps);
  auto shared = std::make_shared<const vault::core::Policy>(std::move(policy).value());
  vault::core::Acl acl({shared}, /*root=*/false);
  for (const auto& rule : shared->rules) {
    for (const std::string& path : {rule.path, rule.path + "x", rule.path + "/a/b", rule.path + "/",
                                    std::string(rule.path, 0, rule.path.size() / 2)}) {
      uint32_t caps = acl.Capabilities(path);
      if ((caps & ~kAllCaps) != 0) __builtin_trap();
      vault::core::CapabilityNames(caps);
      acl.Capabilities(path, /*list=*/true);
      acl.Allowed(vault::logical::Operation::kRead, path, /*sudo_required=*/true);
    }
  }
  acl.Capabilities("");
  acl.Capabilities("secret/a/b");
  return 0;
}
