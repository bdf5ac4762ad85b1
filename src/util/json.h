// The JSON adapter: nlohmann::json with the project's safety rules in one place.
// Parse never throws (returns a Status), Dump replaces invalid UTF-8 instead of throwing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace vault {

using Json = nlohmann::json;

// Parses JSON text. Invalid JSON or invalid UTF-8 gives kInvalidArgument with a short reason.
Result<Json> ParseJson(std::string_view text);
// Compact serialization; invalid UTF-8 in strings becomes U+FFFD (as Go does).
std::string DumpJson(const Json& j);
// Pretty serialization with 2-space indent (as the CLI's -format=json prints it: 2 spaces).
std::string DumpJsonPretty(const Json& j);

}  // namespace vault
