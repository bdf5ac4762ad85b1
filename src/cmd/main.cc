// The `vault` binary: `vault server ...` runs the server; every other command is the CLI.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cmd/server_command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "server") {
    return vault::cmd::RunServer(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return vault::cli::Run(args);
}
