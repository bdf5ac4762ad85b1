// Vault's tokenutil: the token_* fields every role of an auth method carries (AppRole roles,
// userpass users, JWT roles), their legacy aliases, validation and how reads show them.
#pragma once

#include <string>
#include <vector>

#include "logical/framework.h"
#include "logical/logical.h"

namespace vault::logical {

struct TokenFieldOptions {
  // Legacy field names the method still accepts, from: policies, ttl, max_ttl, period,
  // bound_cidrs, num_uses, explicit_max_ttl. When both a token_* field and its legacy alias are
  // sent, the token_* one wins.
  std::vector<std::string> legacy;
  // AppRole reads token_type "default-service" as "service" (with a warning); other methods
  // refuse it.
  bool map_default_types = false;
};

// Vault's policyutil.SanitizePolicies without "default": every entry (each may be a
// comma-separated list) trimmed and lower-cased, empties dropped, unique, sorted.
std::vector<std::string> SanitizePolicies(const std::vector<std::string>& in);
// The field definitions to append to a role path's fields.
std::vector<Field> TokenFields(const TokenFieldOptions& options);
// Applies the token fields present in `d` to `p` (fields not sent keep their value) and
// validates the result: 400 messages as Vault's ("'token_ttl' cannot be greater than
// 'token_max_ttl'"...). Batch tokens are refused: this server issues service tokens only.
Status ApplyTokenFields(const FieldData& d, const TokenFieldOptions& options, TokenParams* p,
                        std::vector<std::string>* warnings);
// Adds the nine token_* keys (and the legacy keys the role was written with) to a read's data.
void AddTokenFieldsToData(const TokenParams& p, Json* data);
Json TokenParamsToJson(const TokenParams& p);
TokenParams TokenParamsFromJson(const Json& j);

}  // namespace vault::logical
