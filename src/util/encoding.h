// Byte encodings: hex and standard base64 (with padding), as Vault's APIs use them.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace vault {

std::string HexEncode(std::string_view bytes);
// Accepts upper and lower case; fails on odd length or a non-hex character.
Result<std::string> HexDecode(std::string_view hex);
std::string Base64Encode(std::string_view bytes);
// Standard alphabet with '=' padding (also accepts unpadded input); fails on anything else.
Result<std::string> Base64Decode(std::string_view b64);

}  // namespace vault
