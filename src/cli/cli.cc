// Dispatch, top-level help and the shared Invocation machinery of the `vault` CLI.
#include "cli/cli.h"

#include <algorithm>
#include <sstream>

#include "cli/command.h"
#include "cli/format.h"
#include "util/strings.h"
#include "util/version.h"

namespace vault::cli {
namespace {

constexpr char kDefaultAddress[] = "https://127.0.0.1:8200";

struct Group {
  const char* name;
  const char* synopsis;
};

// Command groups of today's CLI ("vault secrets enable ...").
constexpr Group kGroups[] = {
    {"audit", "Interact with audit devices"},
    {"lease", "Interact with leases"},
    {"operator", "Perform operator-specific tasks"},
    {"policy", "Interact with policies"},
    {"secrets", "Interact with secrets engines"},
    {"token", "Interact with tokens"},
    {"kv", "Interact with Vault's Key-Value storage"},
    {"auth", "Interact with auth methods"},
    // A group inside a group: "vault kv metadata get".
    {"kv metadata", "Interact with Vault's Key-Value storage"},
};

bool IsGroup(const std::string& name) {
  for (const Group& g : kGroups) {
    if (name == g.name) return true;
  }
  return false;
}

std::string GroupSynopsis(const std::string& name) {
  for (const Group& g : kGroups) {
    if (name == g.name) return g.synopsis;
  }
  return "";
}

std::string TopLevelHelp() {
  std::ostringstream out;
  out << "Usage: vault <command> [args]\n\n"
      << "Common commands:\n";
  const std::vector<std::pair<std::string, std::string>> common = {
      {"read", "Read data and retrieves secrets"},
      {"write", "Write data, configuration, and secrets"},
      {"delete", "Delete secrets and configuration"},
      {"list", "List data or secrets"},
      {"login", "Authenticate locally"},
      {"server", "Start a Vault server"},
      {"status", "Print seal and HA status"},
  };
  for (const auto& [name, synopsis] : common) {
    out << "    " << name << std::string(12 - name.size(), ' ') << synopsis << "\n";
  }
  out << "\nOther commands:\n";
  std::vector<std::pair<std::string, std::string>> other;
  for (const Group& g : kGroups) {
    if (std::string_view(g.name).find(' ') == std::string_view::npos) {
      other.emplace_back(g.name, g.synopsis);
    }
  }
  other.emplace_back("path-help", "Retrieve API help for paths");
  other.emplace_back("version", "Prints the Vault CLI version");
  std::sort(other.begin(), other.end());
  for (const auto& [name, synopsis] : other) {
    out << "    " << name << std::string(15 - name.size(), ' ') << synopsis << "\n";
  }
  out << "\nLegacy (0.x) commands:\n";
  for (const CommandSpec& spec : AllCommands()) {
    if (!spec.legacy) continue;
    out << "    " << spec.name
        << std::string(spec.name.size() < 15 ? 15 - spec.name.size() : 1, ' ') << spec.synopsis
        << "\n";
  }
  out << "\nRun \"vault <command> -h\" for a command's options.\n";
  return out.str();
}

std::string GroupHelp(const std::string& group) {
  std::ostringstream out;
  out << "Usage: vault " << group << " <subcommand> [options] [args]\n\nSubcommands:\n";
  std::vector<std::pair<std::string, std::string>> lines;
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.legacy || !spec.name.starts_with(group + " ")) continue;
    std::string sub = spec.name.substr(group.size() + 1);
    if (size_t space = sub.find(' '); space != std::string::npos) {
      // A command of a nested group ("kv metadata get"): list the group once.
      sub.resize(space);
      if (std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.first == sub; })) {
        continue;
      }
      lines.emplace_back(sub, GroupSynopsis(group + " " + sub));
      continue;
    }
    lines.emplace_back(sub, spec.synopsis);
  }
  std::sort(lines.begin(), lines.end());
  size_t width = 12;
  for (const auto& [sub, synopsis] : lines) width = std::max(width, sub.size() + 4);
  for (const auto& [sub, synopsis] : lines) {
    out << "    " << sub << std::string(width - sub.size(), ' ') << synopsis << "\n";
  }
  return out.str();
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool IsHelpArg(const std::string& arg) {
  return arg == "-h" || arg == "-help" || arg == "--help" || arg == "--h";
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() {
  static const std::vector<CommandSpec> kCommands = [] {
    std::vector<CommandSpec> all;
    AppendKvCommands(&all);
    AppendSysCommands(&all);
    AppendOperatorCommands(&all);
    AppendTokenCommands(&all);
    return all;
  }();
  return kCommands;
}

int RunWithEnvironment(const std::vector<std::string>& args, Environment& env) {
  if (args.empty()) {
    env.Err() << TopLevelHelp();
    return 127;
  }
  const std::string& first = args[0];
  if (IsHelpArg(first) || first == "help") {
    if (first == "help" && args.size() >= 2) {
      std::string name = args[1];
      for (size_t i = 2; i < args.size() && IsGroup(name); ++i) name += " " + args[i];
      if (const CommandSpec* spec = FindCommand(name)) {
        Invocation inv(env, *spec, {"-h"});  // the command registers its flags, then helps
        return spec->run(inv);
      }
      if (IsGroup(name)) {
        env.Out() << GroupHelp(name);
        return 0;
      }
    }
    env.Out() << TopLevelHelp();
    return 0;
  }
  if (first == "version" || first == "-v" || first == "-version" || first == "--version") {
    // As Vault's "Vault v1.2.3 (commit)": scripts match "Vault v<version>".
    env.Out() << "Vault v" << kVersion << " (vault-cpp)\n";
    return 0;
  }
  if (first == "server") {
    env.Err() << "The server is started by the vault binary itself: vault server [-dev]\n";
    return 1;
  }
  if (IsGroup(first)) {
    // Nested groups first: "vault kv metadata get".
    std::string group = first;
    size_t next = 1;
    while (next < args.size() && IsGroup(group + " " + args[next])) {
      group += " " + args[next];
      ++next;
    }
    if (next < args.size()) {
      if (const CommandSpec* spec = FindCommand(group + " " + args[next])) {
        Invocation inv(env, *spec, std::vector<std::string>(args.begin() + next + 1, args.end()));
        return spec->run(inv);
      }
      if (IsHelpArg(args[next])) {
        env.Out() << GroupHelp(group);
        return 0;
      }
    }
    if (group != first) {
      env.Err() << GroupHelp(group);
      return 2;
    }
    // `vault auth TOKEN`, `vault auth -method=userpass ...`: the 0.x command of the same name.
    if (!(args.size() == 1 && FindCommand(first))) {
      if (const CommandSpec* legacy = FindCommand(first); legacy && args.size() >= 2) {
        Invocation inv(env, *legacy, std::vector<std::string>(args.begin() + 1, args.end()));
        return legacy->run(inv);
      }
    }
    env.Err() << GroupHelp(first);
    return 2;
  }
  if (const CommandSpec* spec = FindCommand(first)) {
    Invocation inv(env, *spec, std::vector<std::string>(args.begin() + 1, args.end()));
    return spec->run(inv);
  }
  env.Err() << "Unknown command: " << first << "\n\n" << TopLevelHelp();
  return 127;
}

int Run(const std::vector<std::string>& args) {
  std::unique_ptr<Environment> env = NewSystemEnvironment();
  int code = RunWithEnvironment(args, *env);
  env->Out().flush();
  env->Err().flush();
  return code;
}

// ---- Invocation ---------------------------------------------------------------------------

Invocation::Invocation(Environment& env, const CommandSpec& spec, std::vector<std::string> raw_args)
    : env_(env), spec_(spec), raw_args_(std::move(raw_args)) {
  address_ = env_.GetEnv("VAULT_ADDR").value_or("");
  if (address_.empty()) address_ = kDefaultAddress;
  ca_cert_ = env_.GetEnv("VAULT_CACERT").value_or("");
  ca_path_ = env_.GetEnv("VAULT_CAPATH").value_or("");
  if (auto skip = env_.GetEnv("VAULT_SKIP_VERIFY"); skip.has_value() && !skip->empty()) {
    tls_skip_verify_ = ParseGoBool(*skip) == 1;
  }
  wrap_ttl_ = env_.GetEnv("VAULT_WRAP_TTL").value_or("");
  if (auto format = env_.GetEnv("VAULT_FORMAT"); format.has_value() && !format->empty()) {
    format_ = ToLower(*format);
  }
}

std::optional<int> Invocation::ParseFlags() {
  flags_.String("address", &address_, "Address of the Vault server (env VAULT_ADDR).");
  flags_.String("ca-cert", &ca_cert_, "PEM CA file to verify the server (env VAULT_CACERT).");
  flags_.String("ca-path", &ca_path_, "Directory of PEM CA files (env VAULT_CAPATH).");
  flags_.Bool("tls-skip-verify", &tls_skip_verify_,
              "Do not verify TLS certificates (env VAULT_SKIP_VERIFY). Insecure.");
  flags_.String("format", &format_, "Output format: table or json (env VAULT_FORMAT).");
  flags_.String("field", &field_, "Print only this field, raw, without a trailing newline.");
  flags_.String("wrap-ttl", &wrap_ttl_,
                "Wrap the response in a single-use token of this TTL (env VAULT_WRAP_TTL).");
  Status st = flags_.Parse(raw_args_);
  if (!st.ok()) return UsageError(st.message());
  if (flags_.help_requested()) {
    Out() << Help();
    return 0;
  }
  format_ = ToLower(format_);
  if (format_ != "table" && format_ != "json") {
    return UsageError("Invalid output format: " + format_);
  }
  return std::nullopt;
}

std::optional<int> Invocation::ExpectArgs(size_t min, size_t max) {
  size_t got = args().size();
  if (got < min) {
    return UsageError("Not enough arguments (expected " + std::to_string(min) + ", got " +
                      std::to_string(got) + ")");
  }
  if (got > max) {
    return UsageError("Too many arguments (expected " + std::to_string(max) + ", got " +
                      std::to_string(got) + ")");
  }
  return std::nullopt;
}

int Invocation::UsageError(const std::string& message) {
  Err() << message << "\n\nUsage: vault " << spec_.name << " " << spec_.args_usage
        << "\n\nRun \"vault " << spec_.name << " -h\" for the list of options.\n";
  return 2;
}

int Invocation::Fail(const std::string& message) {
  Err() << message << "\n";
  return 1;
}

void Invocation::Print(const std::string& message) { Out() << message << "\n"; }

ApiClient& Invocation::Client() {
  if (client_ == nullptr) {
    HttpClientOptions options;
    options.tls_skip_verify = tls_skip_verify_;
    options.ca_cert = ca_cert_;
    options.ca_path = ca_path_;
    transport_ = env_.NewTransport(options);
    std::string token = env_.GetEnv("VAULT_TOKEN").value_or("");
    if (token.empty()) {
      auto stored = env_.ReadFile(TokenFilePath());
      if (stored.ok()) token = Trim(*stored);
    }
    client_ = std::make_unique<ApiClient>(address_, token, transport_.get());
    client_->set_wrap_ttl(wrap_ttl_);
  }
  return *client_;
}

InputSources Invocation::Inputs() {
  return InputSources{
      [this]() { return env_.ReadStdin(); },
      [this](const std::string& path) { return env_.ReadFile(path); },
  };
}

std::string Invocation::TokenFilePath() const { return env_.HomeDir() + "/.vault-token"; }

void Invocation::PrintRaw(const std::string& value) {
  Out() << value;
  if (env_.StdoutIsTerminal()) Out() << "\n";
}

void Invocation::PrintJson(const Json& value) { Out() << DumpJsonPretty(value) << "\n"; }

int Invocation::OutputSecret(const Json& secret) {
  if (!field_.empty()) {
    auto value = SecretField(secret, field_);
    if (!value.has_value()) return Fail("Field \"" + field_ + "\" not present in secret");
    PrintRaw(*value);
    return 0;
  }
  if (JsonFormat()) {
    PrintJson(secret);
    return 0;
  }
  PrintWarnings(secret);
  if (!SecretRows(secret).empty()) Print(FormatSecretTable(secret));
  return 0;
}

void Invocation::PrintWarnings(const Json& secret) {
  if (secret.is_object() && secret.contains("warnings")) {
    Err() << FormatWarnings(secret["warnings"]);
  }
}

std::optional<int> Invocation::OutputMachine(const Json& value) {
  if (!field_.empty()) {
    if (value.is_object() && value.contains(field_)) {
      PrintRaw(FormatGoValue(value[field_]));
      return 0;
    }
    return Fail("Field \"" + field_ + "\" not present in secret");
  }
  if (JsonFormat()) {
    PrintJson(value);
    return 0;
  }
  return std::nullopt;
}

std::string Invocation::Help() const {
  std::ostringstream out;
  out << "Usage: vault " << spec_.name << " " << spec_.args_usage << "\n\n";
  if (spec_.description.empty()) {
    out << "  " << spec_.synopsis << "\n";
  } else {
    out << spec_.description;
  }
  std::string flags = flags_.Help();
  if (!flags.empty()) out << "\nOptions:\n\n" << flags;
  return out.str();
}

// ---- helpers ------------------------------------------------------------------------------

std::string SanitizePath(const std::string& path) {
  std::string out = Trim(path);
  while (!out.empty() && out.front() == '/') out.erase(0, 1);
  return out;
}

std::string EnsureTrailingSlash(const std::string& path) {
  std::string out = TrimTrailingSlash(path);
  return out + "/";
}

std::string TrimTrailingSlash(const std::string& path) {
  std::string out = path;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

const Json& DataOrTop(const Json& response) {
  if (response.is_object()) {
    auto it = response.find("data");
    if (it != response.end() && it->is_object()) return *it;
  }
  return response;
}

}  // namespace vault::cli
