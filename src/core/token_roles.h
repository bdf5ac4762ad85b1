// Token roles (auth/token/roles/<name>): what tokens created through auth/token/create/<name> may
// carry (allowed and disallowed policies, globs), and what they always get (orphan, period,
// explicit max TTL, bound CIDRs, use limit). Stored in the token mount's own storage at
// roles/<name>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "logical/framework.h"
#include "logical/logical.h"

namespace vault::core {

struct TokenRole {
  std::string name;
  std::vector<std::string> allowed_policies, disallowed_policies;
  std::vector<std::string> allowed_policies_glob, disallowed_policies_glob;
  bool orphan = false;
  bool renewable = true;
  std::string path_suffix;
  // Only bound_cidrs, explicit_max_ttl, period, type, no_default_policy and num_uses apply.
  logical::TokenParams token;

  bool HasPolicyLists() const {
    return !allowed_policies.empty() || !disallowed_policies.empty() ||
           !allowed_policies_glob.empty() || !disallowed_policies_glob.empty();
  }
};

// roles/ (LIST) and roles/<name> (read, write, delete) of the token mount.
std::vector<logical::Path> TokenRolePaths();
Task<Result<std::optional<TokenRole>>> LoadTokenRole(logical::Storage* storage, std::string name);
// The policies of a token created through a role with policy lists (Vault's rules: a role is the
// sanctioned way past the parent's policies). `requested` is sanitized; "default" is added unless
// no_default or the role disallows it.
Result<std::vector<std::string>> RoleTokenPolicies(const TokenRole& role,
                                                   const std::vector<std::string>& requested,
                                                   const std::vector<std::string>& parent_policies,
                                                   bool no_default);

}  // namespace vault::core
