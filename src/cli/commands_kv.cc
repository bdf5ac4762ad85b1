// The data-path commands: read, write, delete, list, path-help, and `vault kv ...` (KV version 1:
// the only version this server mounts).
#include <algorithm>

#include "cli/command.h"
#include "cli/format.h"

namespace vault::cli {
namespace {

// k=v arguments turned into query parameters (repeated keys repeat the parameter).
Result<QueryParams> QueryFromArgs(Invocation& inv, const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(Json data, BuildKeyValueData(args, inv.Inputs()));
  QueryParams query;
  for (const auto& [key, value] : data.items()) {
    if (value.is_array()) {
      for (const Json& item : value) query.emplace_back(key, FormatGoValue(item));
    } else {
      query.emplace_back(key, FormatGoValue(value));
    }
  }
  return query;
}

// GETs `path` into *secret: 0, or the exit code after reporting ("No value found at ...": 2).
int ReadSecret(Invocation& inv, const std::string& path, const QueryParams& query, Json* secret) {
  auto response = inv.Client().Request("GET", path, std::nullopt, query);
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kNotFound) {
      inv.Err() << "No value found at " << path << "\n";
      return 2;
    }
    return inv.Fail("Error reading " + path + ": " + response.status().message());
  }
  if (response->json.is_null()) {
    inv.Err() << "No value found at " << path << "\n";
    return 2;
  }
  *secret = std::move(response->json);
  return 0;
}

int CmdRead(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().empty()) return inv.UsageError("Not enough arguments (expected 1, got 0)");
  std::string path = SanitizePath(inv.args()[0]);
  auto query = QueryFromArgs(inv, {inv.args().begin() + 1, inv.args().end()});
  if (!query.ok()) return inv.Fail("Failed to parse K=V data: " + query.status().message());

  Json secret;
  if (int rc = ReadSecret(inv, path, *query, &secret)) return rc;
  return inv.OutputSecret(secret);
}

// Writes `data` to `path` and reports as `vault write` does (the written response, or "Success!").
int WriteData(Invocation& inv, const std::string& path, const Json& data) {
  auto response = inv.Client().Request("PUT", path, data);
  if (!response.ok()) {
    return inv.Fail("Error writing data to " + path + ": " + response.status().message());
  }
  if (response->json.is_null()) {
    if (inv.TableFormat()) inv.Print("Success! Data written to: " + path);
    return 0;
  }
  return inv.OutputSecret(response->json);
}

int CmdWrite(Invocation& inv) {
  bool force = false;
  inv.flags().Bool("force", &force, "Allow the write with no data.");
  inv.flags().Bool("f", &force, "Alias of -force.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().empty()) return inv.UsageError("Not enough arguments (expected 1, got 0)");
  std::string path = SanitizePath(inv.args()[0]);
  std::vector<std::string> data_args(inv.args().begin() + 1, inv.args().end());
  if (data_args.empty() && !force) return inv.UsageError("Must supply data or use -force");

  auto data = BuildKeyValueData(data_args, inv.Inputs());
  if (!data.ok()) return inv.Fail(data.status().message());

  return WriteData(inv, path, *data);
}

int CmdDelete(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = SanitizePath(inv.args()[0]);
  auto response = inv.Client().Request("DELETE", path);
  if (!response.ok()) {
    return inv.Fail("Error deleting " + path + ": " + response.status().message());
  }
  if (inv.TableFormat()) inv.Print("Success! Data deleted (if it existed) at: " + path);
  return 0;
}

int CmdList(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = EnsureTrailingSlash(SanitizePath(inv.args()[0]));
  auto response = inv.Client().Request("GET", path, std::nullopt, {{"list", "true"}});
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kNotFound) {
      inv.Err() << "No value found at " << path << "\n";
      return 2;
    }
    return inv.Fail("Error listing " + path + ": " + response.status().message());
  }
  const Json& data = DataOrTop(response->json);
  if (!data.is_object() || !data.contains("keys") || !data["keys"].is_array()) {
    if (inv.JsonFormat()) {
      inv.PrintJson(Json::array());
      return 2;
    }
    inv.Err() << (response->json.is_null() ? "No value found at " : "No entries found at ") << path
              << "\n";
    return 2;
  }
  const Json& keys = data["keys"];
  if (inv.JsonFormat()) {
    inv.PrintJson(keys);
    return 0;
  }
  std::vector<TableRow> rows = {{"Keys"}};
  for (const Json& key : keys) rows.push_back({FormatGoValue(key)});
  inv.Print(FormatTable(rows));
  return 0;
}

int CmdPathHelp(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = SanitizePath(inv.args()[0]);
  auto response = inv.Client().Request("GET", path, std::nullopt, {{"help", "1"}});
  if (!response.ok()) {
    return inv.Fail("Error retrieving help: " + response.status().message());
  }
  if (inv.JsonFormat()) {
    inv.PrintJson(response->json);
    return 0;
  }
  const Json& json = response->json;
  if (!json.is_object() || !json.contains("help") || !json["help"].is_string()) {
    return inv.Fail("Error retrieving help: the server returned no help text");
  }
  inv.Print(json["help"].get<std::string>());
  return 0;
}

// ---- vault kv (KV version 1) ------------------------------------------------------------------
// Today's CLI asks sys/internal/ui/mounts which KV version a path is mounted with and goes to
// <mount>/data/... for version 2. This server mounts version 1 only, where `kv get/put/list/delete`
// are reads, writes, lists and deletes of the path itself, as Vault's CLI does on a version 1
// mount.

// "== Data ==" as Vault's CLI pads a section header: to the key column plus "    Value".
std::string HeaderForMap(const std::string& header, const Json& data) {
  size_t max_key = 0;
  for (const auto& [key, value] : data.items()) max_key = std::max(max_key, key.size());
  int equal_signs = static_cast<int>(max_key + 4 + 5) - static_cast<int>(header.size() + 2);
  if (equal_signs <= 0) equal_signs = 4;
  if (equal_signs % 2 != 0) ++equal_signs;
  std::string side(static_cast<size_t>(equal_signs / 2), '=');
  return side + " " + header + " " + side;
}

int CmdKvGet(Invocation& inv) {
  int64_t version = 0;
  inv.flags().Int("version", &version, "The version to read (KV version 2 only; ignored here).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = SanitizePath(inv.args()[0]);
  Json secret;
  if (int rc = ReadSecret(inv, path, {}, &secret)) return rc;
  if (!inv.TableFormat()) return inv.OutputSecret(secret);
  inv.PrintWarnings(secret);
  const Json& data = secret.contains("data") ? secret["data"] : Json();
  if (data.is_object() && !data.empty()) {
    inv.Print(HeaderForMap("Data", data));
    inv.Print(FormatSecretTable(Json{{"data", data}}));
  }
  return 0;
}

int CmdKvPut(Invocation& inv) {
  int64_t cas = -1;
  inv.flags().Int("cas", &cas, "Check-and-set (KV version 2 only).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().empty()) return inv.UsageError("Not enough arguments (expected >1, got 0)");
  if (inv.args().size() == 1) return inv.Fail("Must supply data");
  if (cas > -1)
    return inv.Fail("The -cas flag needs a KV version 2 mount; this server has version 1");
  std::string path = SanitizePath(inv.args()[0]);
  std::vector<std::string> data_args(inv.args().begin() + 1, inv.args().end());
  auto data = BuildKeyValueData(data_args, inv.Inputs());
  if (!data.ok()) return inv.Fail("Failed to parse K=V data: " + data.status().message());
  return WriteData(inv, path, *data);
}

int CmdKvVersion2Only(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  return inv.Fail("\"vault " + inv.spec_name() +
                  "\" needs a KV version 2 mount; this server mounts KV version 1, which keeps no "
                  "versions or metadata");
}

}  // namespace

void AppendKvCommands(std::vector<CommandSpec>* out) {
  out->push_back({"read", "[options] PATH [K=V...]", "Read data and retrieves secrets", CmdRead});
  out->push_back({"write", "[options] PATH [DATA K=V...]", "Write data, configuration, and secrets",
                  CmdWrite});
  out->push_back({"delete", "[options] PATH", "Delete secrets and configuration", CmdDelete});
  out->push_back({"list", "[options] PATH", "List data or secrets", CmdList});
  out->push_back({"path-help", "[options] PATH", "Retrieve API help for paths", CmdPathHelp});
  out->push_back({"kv get", "[options] KEY", "Retrieves data from the KV store", CmdKvGet});
  out->push_back(
      {"kv put", "[options] KEY [DATA K=V...]", "Sets or updates data in the KV store", CmdKvPut});
  out->push_back({"kv list", "[options] PATH", "List data or secrets", CmdList});
  out->push_back({"kv delete", "[options] PATH", "Deletes data in the KV store", CmdDelete});
  for (const char* name : {"kv patch", "kv undelete", "kv destroy", "kv rollback", "kv metadata",
                           "kv enable-versioning"}) {
    out->push_back(
        {name, "[options] ...", "KV version 2 only (not supported here)", CmdKvVersion2Only});
  }
}

}  // namespace vault::cli
