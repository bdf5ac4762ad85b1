// Server logging through spdlog. Never pass secrets (tokens, keys, request bodies) to these.
#pragma once

#include <spdlog/spdlog.h>

namespace vault {
// Configures the default logger: UTC ISO-8601 timestamps, level from "trace".."error".
void InitLogging(const std::string& level);
}  // namespace vault
