// The `vault` command-line client: every command except `server`, with Vault's Go-style flags
// (-flag=value, single dash), VAULT_ADDR / VAULT_TOKEN / ~/.vault-token, and Vault's output texts.
#pragma once

#include <string>
#include <vector>

namespace vault::cli {

// Runs one CLI invocation. args excludes the program name (args[0] is the command, e.g. "read").
// Returns the process exit code: 0 success, 1 API/other error, 2 usage error.
int Run(const std::vector<std::string>& args);

}  // namespace vault::cli
