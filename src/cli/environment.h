// Environment: everything a `vault` command touches outside the process — environment
// variables, stdin (plain and hidden prompts), files, stdout/stderr, the terminal, the network.
// Commands use only this interface, so tests run them against a fake without a server.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "cli/http_client.h"
#include "util/status.h"

namespace vault::cli {

class Environment {
 public:
  virtual ~Environment() = default;

  // The variable's value, or nullopt when unset.
  virtual std::optional<std::string> GetEnv(const std::string& name) const = 0;
  // The user's home directory ($HOME, else the password database); "" if unknown.
  virtual std::string HomeDir() const = 0;
  // All of stdin.
  virtual Result<std::string> ReadStdin() = 0;
  // One line of stdin without its line ending. When stdin is a terminal, `prompt` is shown on
  // stderr first and, with hidden, the typed text is not echoed.
  virtual Result<std::string> ReadLine(const std::string& prompt, bool hidden) = 0;
  // A whole file; errors read like Go's ("open x: no such file or directory").
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Creates or truncates a file with mode 0600 and writes contents.
  virtual Status WriteFile(const std::string& path, const std::string& contents) = 0;
  // Whether stdout is a terminal (decides the newline after a -field value).
  virtual bool StdoutIsTerminal() const = 0;
  virtual std::ostream& Out() = 0;
  virtual std::ostream& Err() = 0;
  // A transport for the API client; the caller owns it.
  virtual std::unique_ptr<HttpTransport> NewTransport(const HttpClientOptions& options) = 0;
};

// The real process environment: std::cout/std::cerr, fd 0 with termios for hidden input,
// libcurl HttpClient. One per process.
std::unique_ptr<Environment> NewSystemEnvironment();

}  // namespace vault::cli
