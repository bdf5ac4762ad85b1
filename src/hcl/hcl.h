// A parser for HCL1 (HashiCorp Configuration Language v1), the syntax of Vault's server config
// files and ACL policies. Debian has no C++ HCL library, so this is our own.
#pragma once

#include <string_view>

#include "util/json.h"
#include "util/status.h"

namespace vault::hcl {

// Parses HCL1 text (or JSON text, which is valid HCL1) into JSON with pyhcl's shape:
//   key = value                      -> {"key": value}
//   block "a" "b" { ... }            -> {"block": {"a": {"b": {...}}}}
//   the same block key twice          -> objects merged key by key (as pyhcl does)
//   the same scalar key twice         -> the last value wins
// Values: strings (with escapes, heredocs <<EOF), numbers, bools, lists, objects.
// Comments: #, //, /* */. Errors: kInvalidArgument with "At LINE:COL: message".
Result<Json> Parse(std::string_view text);

}  // namespace vault::hcl
