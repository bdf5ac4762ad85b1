// The command framework shared by every `vault` command: the command table (CommandSpec),
// one invocation's state (flags, globals from flags and VAULT_* variables, the API client) and
// the output conventions (exit codes, -format, -field, error prefixes).
//
// Exit codes: 0 success, 1 API or other error, 2 usage error (and "no value found", as Vault).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/environment.h"
#include "cli/flags.h"
#include "cli/kv_builder.h"
#include "util/json.h"

namespace vault::cli {

class Invocation;

struct CommandSpec {
  std::string name;        // "read", "secrets enable", or a 2015 spelling such as "mount"
  std::string args_usage;  // "[options] PATH [DATA K=V...]"
  std::string synopsis;    // one line for the listing
  int (*run)(Invocation& inv) = nullptr;
  bool legacy = false;  // a 0.x spelling, listed separately in the help
  // The help text between the usage line and the options: "" prints the synopsis. Each line
  // indented by two spaces and ending in a newline.
  std::string description;
};

// Every command, in listing order (defined in commands_*.cc, assembled in cli.cc).
const std::vector<CommandSpec>& AllCommands();
void AppendKvCommands(std::vector<CommandSpec>* out);
// The kv commands that need a KV version 2 mount (commands_kv2.cc; AppendKvCommands adds them).
void AppendKv2Commands(std::vector<CommandSpec>* out);
void AppendSysCommands(std::vector<CommandSpec>* out);
// operator rekey, operator generate-root (commands_operator.cc).
void AppendOperatorCommands(std::vector<CommandSpec>* out);
void AppendTokenCommands(std::vector<CommandSpec>* out);
// vault auth list / the 0.x `vault auth -methods` (commands_sys.cc).
int ListAuthMethods(Invocation& inv, bool detailed);

// Runs args (args[0] is the command) against env. cli::Run() is this with the real process.
int RunWithEnvironment(const std::vector<std::string>& args, Environment& env);

// State of one command invocation. Usage: register command flags on flags(), call ParseFlags(),
// check args(), then use Client() and the output helpers.
class Invocation {
 public:
  Invocation(Environment& env, const CommandSpec& spec, std::vector<std::string> raw_args);

  FlagSet& flags() { return flags_; }
  // Adds the global flags (-address, -ca-cert, -ca-path, -tls-skip-verify, -format, -field)
  // and parses. Returns an exit code to stop with (0 after -h, 2 on a usage error), or nullopt.
  std::optional<int> ParseFlags();
  const std::vector<std::string>& args() const { return flags_.args(); }
  // Usage error unless min <= args().size() <= max, with Vault's "Not enough arguments
  // (expected 1, got 0)" / "Too many arguments (...)" texts.
  std::optional<int> ExpectArgs(size_t min, size_t max);

  // Prints message and the command's usage line to stderr; returns 2.
  int UsageError(const std::string& message);
  // Prints message to stderr; returns 1.
  int Fail(const std::string& message);
  // Prints message (plus newline) to stdout.
  void Print(const std::string& message);

  // The command's name ("kv get").
  const std::string& spec_name() const { return spec_.name; }
  Environment& env() { return env_; }
  std::ostream& Out() { return env_.Out(); }
  std::ostream& Err() { return env_.Err(); }
  // The API client for -address/VAULT_ADDR with VAULT_TOKEN or the token file; built once.
  ApiClient& Client();
  InputSources Inputs();
  // $HOME/.vault-token.
  std::string TokenFilePath() const;

  bool JsonFormat() const { return format_ == "json"; }
  // True when neither -format=json nor -field asks for machine output.
  bool TableFormat() const { return format_ == "table" && field_.empty(); }
  const std::string& field() const { return field_; }

  // Prints a response envelope per -field (raw value, newline only on a terminal; missing field
  // -> error, 1), -format=json (pretty JSON) or as the Key/Value table. Returns the exit code.
  int OutputSecret(const Json& secret);
  // The response's warnings, if any, on stderr in Vault's words.
  void PrintWarnings(const Json& secret);
  // Prints a value per -field (a key of value) / -format=json; returns nullopt when the caller
  // should print its table form instead.
  std::optional<int> OutputMachine(const Json& value);
  // Prints one raw field value; newline only if stdout is a terminal.
  void PrintRaw(const std::string& value);
  void PrintJson(const Json& value);

  std::string Help() const;

 private:
  Environment& env_;
  const CommandSpec& spec_;
  std::vector<std::string> raw_args_;
  FlagSet flags_;
  std::string address_;
  std::string ca_cert_;
  std::string ca_path_;
  bool tls_skip_verify_ = false;
  std::string format_ = "table";
  std::string field_;
  std::string wrap_ttl_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<ApiClient> client_;
};

// Vault's sanitizePath: surrounding whitespace and leading '/' removed.
std::string SanitizePath(const std::string& path);
// path with exactly one trailing '/'.
std::string EnsureTrailingSlash(const std::string& path);
// path without trailing '/'.
std::string TrimTrailingSlash(const std::string& path);
// The object at response["data"] when it is one, else the response itself (2015 servers and
// sys routes answered with bare data).
const Json& DataOrTop(const Json& response);

}  // namespace vault::cli
