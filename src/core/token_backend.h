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

// A token's renewal, asked of the auth method that issued it: an error refuses the renewal, else
// the max TTL that applies (0: the token store's mount max). Tokens not from a login: 0.
using LoginRenewal = std::function<Task<Result<int64_t>>(const TokenEntry& token)>;

std::shared_ptr<logical::Backend> NewTokenBackend(TokenStore* tokens, PolicyStore* policies,
                                                  SudoCheck has_sudo, LoginRenewal login_renewal,
                                                  Clock* clock);

// Vault's "auth" block for a token just created or renewed (client_token may be "").
Json TokenAuthBlock(const TokenEntry& e, const std::string& token, int64_t now);

// The lookup data Vault returns for a token (id may be "" for lookup-accessor).
Json TokenLookupData(const TokenEntry& e, const std::string& id, int64_t now);

}  // namespace vault::core
