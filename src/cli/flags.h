// FlagSet: command-line flags with Go `flag` package syntax, as the `vault` CLI accepts them.
//
//   -name=value  -name value  --name=value  --name value
//   -bool        -bool=true   -bool=false   (a bool never consumes the next argument)
//
// Unlike Go, flags may also follow positional arguments (`vault read secret/x -format=json`),
// as modern Vault allows. Everything after `--` is positional, and so is a lone `-`; any other
// argument that starts with '-' before `--` is a flag. Repeatable flags (string lists, k=v maps)
// accumulate one value per occurrence. `-h`, `-help` and `--help` ask for help.
//
// Not thread-safe; a FlagSet binds raw pointers that must outlive Parse().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace vault::cli {

class FlagSet {
 public:
  FlagSet() = default;
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Registration. `usage` is one line for the help text; the current value of *target is the
  // default shown in help. Registering a name twice replaces the earlier registration.
  void String(const std::string& name, std::string* target, std::string usage);
  void Bool(const std::string& name, bool* target, std::string usage);
  void Int(const std::string& name, int64_t* target, std::string usage);
  // Repeatable; each occurrence appends. With split_commas, "a,b" appends "a" and "b" (as
  // Vault's StringSliceVar does for -policy).
  void StringList(const std::string& name, std::vector<std::string>* target, std::string usage,
                  bool split_commas = false);
  // Repeatable `-name=key=value`; a value without '=' is an error.
  void Map(const std::string& name, std::map<std::string, std::string>* target, std::string usage);

  // Parses args (flags and positionals in any order, see above). On success the positionals
  // are in args(). Errors (kInvalidArgument) use Go's texts, e.g.
  // "flag provided but not defined: -x". Help requests set help_requested() and succeed.
  Status Parse(const std::vector<std::string>& args);

  const std::vector<std::string>& args() const { return positionals_; }
  bool help_requested() const { return help_requested_; }
  // True if the flag appeared on the command line (at least once).
  bool IsSet(const std::string& name) const;
  // "  -name=<default>\n      usage\n" for every flag, sorted by name.
  std::string Help() const;

 private:
  enum class Kind { kString, kBool, kInt, kList, kMap };
  struct Flag {
    Kind kind;
    void* target;
    std::string usage;
    std::string default_text;
    bool split_commas = false;
  };
  void Add(const std::string& name, Kind kind, void* target, std::string usage,
           std::string default_text);
  Status SetValue(const std::string& name, Flag& flag, const std::string& value);

  std::map<std::string, Flag> flags_;
  std::map<std::string, int> seen_;
  std::vector<std::string> positionals_;
  bool help_requested_ = false;
};

}  // namespace vault::cli
