// Small string helpers shared across modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vault {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string Trim(std::string_view s);
std::string ToLower(std::string_view s);
// ASCII case-insensitive equality (HTTP header names and the like).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Appends v in decimal, zero-padded to at least `width` digits (more when v needs them): a cheap
// stand-in for snprintf("%0*llu") on hot paths.
void AppendZeroPadded(std::string* out, uint64_t v, int width);
// Go's strconv.ParseBool: 1,t,T,TRUE,true,True,0,f,F,FALSE,false,False. Returns -1 if invalid.
int ParseGoBool(std::string_view s);
// True if s is valid UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace vault
