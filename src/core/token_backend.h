// The auth/token/ engine: create, create-orphan, lookup(-self/-accessor), renew(-self/-accessor),
// revoke(-self/-accessor/-orphan), accessors, tidy, plus the token-in-URL forms of the 0.x CLI
// (lookup/<t>, renew/<t>, revoke/<t>, revoke-orphan/<t>). Root paths: revoke-orphan*, accessors*.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/policy.h"
#include "core/token_store.h"
#include "logical/framework.h"
#include "util/clock.h"

namespace vault::core {

// Whether the token may use sudo on a full path (root tokens: always). Used for the parts of
// token creation Vault reserves to root/sudo callers (chosen ids, orphans, policies outside
// the parent's).
using SudoCheck = std::function<Task<bool>(const TokenEntry& token, const std::string& path)>;

std::shared_ptr<logical::Backend> NewTokenBackend(TokenStore* tokens, PolicyStore* policies,
                                                  SudoCheck has_sudo, Clock* clock);

// The lookup data Vault returns for a token (id may be "" for lookup-accessor).
Json TokenLookupData(const TokenEntry& e, const std::string& id, int64_t now);

}  // namespace vault::core
