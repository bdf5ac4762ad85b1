// The server's version, as reported by sys/seal-status, sys/health and the startup banner.
#pragma once

namespace vault {
inline constexpr char kVersion[] = "0.1.0";
}  // namespace vault
