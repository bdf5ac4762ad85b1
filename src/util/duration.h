// Durations as Vault accepts them: integer seconds or Go duration strings ("1h", "30m", "1h30m",
// "3600s", "1.5h", "100ms"). Results are whole seconds unless stated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace vault {

// Go's time.ParseDuration, returning nanoseconds. Requires a unit on every number except "0".
Result<int64_t> ParseGoDurationNanos(std::string_view s);

// Vault's parseutil.ParseDurationSecond on a string: "" -> 0, "3600" -> 3600, "1h" -> 3600.
// Fractions of a second are truncated.
Result<int64_t> ParseDurationSeconds(std::string_view s);

// Go's time.Duration.String() for whole seconds: 3600 -> "1h0m0s", 90 -> "1m30s", 0 -> "0s".
std::string FormatGoDuration(int64_t seconds);

}  // namespace vault
