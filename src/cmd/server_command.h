// `vault server`: the composition root. Builds storage, the engine registry, Core and the HTTP
// server from flags and config files, and runs until SIGINT/SIGTERM.
#pragma once

#include <string>
#include <vector>

namespace vault::cmd {

// args excludes "server". Returns the process exit code.
int RunServer(const std::vector<std::string>& args);

}  // namespace vault::cmd
