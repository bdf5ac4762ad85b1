// ACL policies: Vault's policy language (HCL1 or JSON) parsed into path rules, and the policy
// store behind sys/policy (persisted through the barrier at sys/policy/<name>, cached parsed,
// with the built-in `root` and `default` policies).
//
//   path "secret/app/*" { capabilities = ["read", "list"] }
//   path "secret/+/config" { capabilities = ["read"] }     # + = exactly one path segment
//   path "auth/token/lookup-self" { policy = "read" }      # the 2015 form
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "logical/logical.h"
#include "util/lock_annotations.h"

namespace vault::core {

class Acl;

// Capability bits. kCapDeny wins over everything else when rules are merged.
enum Capability : uint32_t {
  kCapDeny = 1u << 0,
  kCapCreate = 1u << 1,
  kCapRead = 1u << 2,
  kCapUpdate = 1u << 3,
  kCapDelete = 1u << 4,
  kCapList = 1u << 5,
  kCapSudo = 1u << 6,
  kCapPatch = 1u << 7,
};

// Sorted capability names for a bitmap ("deny" alone when kCapDeny is set).
std::vector<std::string> CapabilityNames(uint32_t caps);

struct PathRule {
  // The pattern without its leading '/' and without the trailing glob '*'.
  std::string path;
  bool is_prefix = false;  // the pattern ended in '*'
  uint32_t capabilities = 0;
};

struct Policy {
  std::string name;
  std::string raw;  // the text as written (returned by sys/policy/<name>)
  std::vector<PathRule> rules;
};

// Parses a policy document (HCL1 or JSON). Errors (kInvalidArgument): HCL syntax errors carry
// "At LINE:COL: ..."; unknown keys, capabilities or legacy policy values name the path.
Result<Policy> ParsePolicy(std::string name, std::string_view text);

// The text of the built-in `default` policy, written at first unseal (editable, not deletable).
extern const char kDefaultPolicyText[];
// The built-in policy of response-wrapping tokens (read-only, not listed): unwrap and look up.
extern const char kResponseWrappingPolicy[];

// Policies by name with a cache of parsed policies and of the ACLs built from policy sets.
// Thread safety: all methods may be called concurrently.
class PolicyStore {
 public:
  explicit PolicyStore(logical::Storage* barrier) : barrier_(barrier) {}

  // Creates the default policy when absent and clears the caches. Call after unseal.
  Task<Status> Setup();
  void Teardown();

  // Names of the stored policies plus "root", sorted.
  Task<Result<std::vector<std::string>>> List();
  // The stored policy (nullptr if none). "root" has no stored form: nullptr.
  Task<Result<std::shared_ptr<const Policy>>> Get(std::string name);
  // Parses and stores (name lower-cased). kInvalidArgument for a malformed policy, an empty
  // name, or "root".
  Task<Status> Put(std::string name, std::string text);
  // Deletes; kInvalidArgument for "root" and "default". Unknown names succeed.
  Task<Status> Delete(std::string name);

  // The ACL for a set of policy names (cached until any policy changes). Unknown names are
  // ignored, as Vault does; "root" yields the root ACL. `names` must outlive the task.
  Task<Result<std::shared_ptr<const Acl>>> AclFor(const std::vector<std::string>& names);
  // AclFor's answer when the ACL is cached (every request asks this first); else nullptr.
  std::shared_ptr<const Acl> CachedAcl(const std::vector<std::string>& names) const;

 private:
  logical::Storage* barrier_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Policy>> policies_
      GUARDED_BY(mu_);  // parsed cache
  std::unordered_map<std::string, std::shared_ptr<const Acl>> acls_
      GUARDED_BY(mu_);  // by joined names
  uint64_t generation_ GUARDED_BY(mu_) =
      0;  // bumped on every change; stale ACL builds are not cached
};

}  // namespace vault::core
