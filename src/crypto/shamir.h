// Shamir's secret sharing over GF(2^8) with the AES polynomial, in Vault's share format:
// each share is the secret's length plus one trailing byte holding the share's x coordinate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace vault::crypto {

// Splits secret into `parts` shares, any `threshold` of which recover it.
// Requires 2 <= threshold <= parts <= 255 and a non-empty secret (kInvalidArgument otherwise).
// x coordinates are distinct, random and never 0. Arithmetic is constant-time.
Result<std::vector<std::string>> ShamirSplit(std::string_view secret, int parts, int threshold);
// Recovers the secret from >= 2 shares of equal length (>= 2 bytes) with distinct x bytes.
// With fewer shares than the threshold it returns a wrong value (cannot be detected here).
Result<std::string> ShamirCombine(const std::vector<std::string>& shares);

}  // namespace vault::crypto
