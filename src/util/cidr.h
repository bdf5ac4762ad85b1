// CIDR blocks ("10.0.0.0/8", "2001:db8::/32", or a bare address as a /32 or /128) and whether a
// client address falls in them: the bound CIDRs of tokens, AppRole roles and secret IDs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace vault {

class Cidr {
 public:
  // Parses "a.b.c.d/n", "a.b.c.d", an IPv6 form with or without "/n". Host bits may be set
  // ("10.1.2.3/8" is the block 10.0.0.0/8, as Go's net.ParseCIDR reads it).
  static Result<Cidr> Parse(std::string_view text);
  // Whether `address` (an IP address as text; an IPv4-mapped IPv6 address counts as IPv4) is in
  // the block. An unparsable address is in no block.
  bool Contains(std::string_view address) const;
  // The block as written canonically: "10.0.0.0/8".
  std::string ToString() const;

 private:
  bool v6_ = false;
  int bits_ = 0;
  std::array<uint8_t, 16> addr_{};
};

// Parses every entry (each may itself be a comma-separated list); the first bad one is a
// kInvalidArgument naming it.
Result<std::vector<Cidr>> ParseCidrs(const std::vector<std::string>& texts);
// True when `cidrs` is empty or one of them contains `address`.
bool AddressAllowed(const std::vector<std::string>& cidrs, std::string_view address);
// True when every block of `inner` lies within some block of `outer`.
bool CidrsSubset(const std::vector<std::string>& inner, const std::vector<std::string>& outer);

}  // namespace vault
