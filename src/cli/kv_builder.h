// Building the JSON object that `vault write` (and `vault read` query data) sends from its
// `key=value` arguments, exactly as Vault's helper/kv-builder does:
//
//   key=value   -> "key": "value"          (always a string)
//   key=@file   -> "key": <file contents>   key=\@x -> "key": "@x" (escaped literal '@')
//   key=-       -> "key": <all of stdin>    (stdin may be consumed once per invocation)
//   -           -> stdin parsed as a JSON object and merged in
//   @file       -> file parsed as a JSON object and merged in
//   repeated key -> JSON array of the values; empty arguments are ignored.
//
// Errors read "Invalid key/value pair '<arg>': <reason>", e.g. "format must be key=value".
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/status.h"

namespace vault::cli {

// Where `-`, `key=-`, `@file` and `key=@file` read from; injected so tests need no real stdin
// or files. read_file errors should carry Go-like text ("open x: no such file or directory").
struct InputSources {
  std::function<Result<std::string>()> read_stdin;
  std::function<Result<std::string>(const std::string& path)> read_file;
};

// Returns the object built from args (an empty object when args is empty or all empty).
// Errors are kInvalidArgument with the text above.
Result<Json> BuildKeyValueData(const std::vector<std::string>& args, const InputSources& inputs);

}  // namespace vault::cli
