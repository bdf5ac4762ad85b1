// The JSON adapter: nlohmann::json with the project's safety rules in one place.
// Parse never throws (returns a Status), Dump replaces invalid UTF-8 instead of throwing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace vault {

using Json = nlohmann::json;

// The deepest nesting of arrays and objects ParseJson accepts: Go's encoding/json limit, which
// Vault's clients already live within.
inline constexpr int kMaxJsonDepth = 10000;

// Parses JSON text. Invalid JSON, invalid UTF-8 or nesting deeper than kMaxJsonDepth gives
// kInvalidArgument with a short reason.
Result<Json> ParseJson(std::string_view text);
// Compact serialization; invalid UTF-8 in strings becomes U+FFFD (as Go does).
std::string DumpJson(const Json& j);
// Pretty serialization with 2-space indent (as the CLI's -format=json prints it: 2 spaces).
std::string DumpJsonPretty(const Json& j);

}  // namespace vault
