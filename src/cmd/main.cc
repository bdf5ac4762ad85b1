// The `vault` binary: `vault server ...` runs the server; every other command is the CLI.
#include <pthread.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cmd/server_command.h"

int main(int argc, char** argv) {
#if defined(__SANITIZE_ADDRESS__)
  // A request body may nest JSON 10,000 levels deep (Go's limit), and copying or serializing it
  // recurses once per level. The release build needs about 2 MiB of stack for that; ASan's
  // unoptimised, padded frames need more than the default 8 MiB, so its threads get 64 MiB.
  pthread_attr_t attr;
  if (pthread_getattr_default_np(&attr) == 0) {
    pthread_attr_setstacksize(&attr, 64 << 20);
    pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
  }
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "server") {
    return vault::cmd::RunServer(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return vault::cli::Run(args);
}
