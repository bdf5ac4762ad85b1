// The data-path commands: read, write, delete, list, path-help, and `vault kv get/put/list/delete`
// on KV version 1 and version 2 mounts (the version 2 only kv commands: commands_kv2.cc).
#include <algorithm>

#include "cli/command.h"
#include "cli/format.h"
#include "cli/kv_common.h"

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

// ---- vault kv get/put/list/delete ------------------------------------------------------------
// As Vault's CLI: every command first asks sys/internal/ui/mounts which mount and KV version
// hold its path (kv_common.h). On a version 1 mount the commands read, write, list and delete
// the path itself; on a version 2 mount they go to <mount>/data/... and <mount>/metadata/...,
// and print the secret's path and version metadata. The version 2 only commands are in
// commands_kv2.cc. Errors after the preflight exit with 2, as Vault's kv commands do.

int CmdKvGet(Invocation& inv) {
  int64_t version = 0;
  std::string mount;
  inv.flags().Int("version", &version, "The version to read (KV version 2; 0: the latest).");
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) return *rc;
  std::string path = kv.Full("data");
  QueryParams query;
  if (kv.mount.v2 && version > 0) query.emplace_back("version", std::to_string(version));

  KvReply reply = KvRequest(inv, KvCall::kRead, "GET", path, std::nullopt, query);
  if (!reply.error.ok()) {
    inv.Err() << "Error reading " << path << ": " << reply.error.message() << "\n";
    return 2;
  }
  const Json& secret = reply.secret;
  if (secret.is_null()) {
    inv.Err() << "No value found at " << path << "\n";
    return 2;
  }
  const Json& data = JsonField(secret, "data");

  if (!inv.field().empty()) {
    if (!kv.mount.v2) return KvPrintField(inv, KvRawField(secret, inv.field()));
    const Json& kv_data = JsonField(data, "data");
    if (kv_data.is_null()) {
      inv.Err() << "No data found at " << path << "\n";
      return 2;
    }
    // -field=data: a key named "data", else the whole data map.
    if (inv.field() == "data" && !(kv_data.is_object() && kv_data.contains("data"))) {
      return KvPrintField(inv, KvRawField(secret, "data"));
    }
    return KvPrintField(inv, JsonField(kv_data, inv.field()));
  }
  if (!JsonField(secret, "wrap_info").is_null() || inv.JsonFormat()) {
    return KvOutputSecret(inv, secret);
  }

  inv.PrintWarnings(secret);
  if (kv.mount.v2) PrintPathTitle(inv, path, "Secret Path");
  // A deleted or destroyed version (a 404 with the secret): metadata without a Data section.
  if (const Json& metadata = JsonField(data, "metadata"); !metadata.is_null()) {
    inv.Print(HeaderForMap("Metadata", metadata));
    PrintMapTable(inv, metadata);
    inv.Print("");
  }
  const Json& shown = kv.mount.v2 ? JsonField(data, "data") : data;
  if (shown.is_object()) {
    inv.Print(HeaderForMap("Data", shown));
    PrintMapTable(inv, shown);
  }
  return 0;
}

int CmdKvPut(Invocation& inv) {
  int64_t cas = -1;
  std::string mount;
  inv.flags().Int("cas", &cas,
                  "Check-and-set (KV version 2): write only if the secret's current version is "
                  "this one (0: only if it does not exist). -1: no check.");
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().empty()) return inv.UsageError("Not enough arguments (expected >1, got 0)");
  if (inv.args().size() == 1) return inv.Fail("Must supply data");
  std::vector<std::string> data_args(inv.args().begin() + 1, inv.args().end());
  auto data = BuildKeyValueData(data_args, inv.Inputs());
  if (!data.ok()) return inv.Fail("Failed to parse K=V data: " + data.status().message());

  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) return *rc;
  std::string path = kv.Full("data");
  Json body = *data;
  if (kv.mount.v2) {
    body = Json{{"data", *data}, {"options", Json::object()}};
    if (cas > -1) body["options"]["cas"] = cas;
  }
  KvReply reply = KvRequest(inv, KvCall::kWrite, "PUT", path, body);
  if (!reply.error.ok()) {
    inv.Err() << "Error writing data to " << path << ": " << reply.error.message() << "\n";
    if (!reply.secret.is_null()) KvOutputSecret(inv, reply.secret);
    return 2;
  }
  return PrintKvWritten(inv, path, reply.secret);
}

int CmdKvList(Invocation& inv) {
  std::string mount;
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  // With -mount the path may be left out: the mount's top level.
  std::vector<std::string> args = inv.args();
  if (args.empty() && !mount.empty()) args.emplace_back();
  if (args.empty()) return inv.UsageError("Not enough arguments (expected 1, got 0)");
  if (args.size() > 1) {
    return inv.UsageError("Too many arguments (expected 1, got " + std::to_string(args.size()) +
                          ")");
  }
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, args[0], &kv)) return *rc;
  std::string path = kv.Full("metadata");

  KvReply reply = KvRequest(inv, KvCall::kRead, "GET", path, std::nullopt, {{"list", "true"}});
  if (!reply.error.ok()) {
    inv.Err() << "Error listing " << path << ": " << reply.error.message() << "\n";
    return 2;
  }
  const Json& secret = reply.secret;
  if (!JsonField(secret, "wrap_info").is_null()) return KvOutputSecret(inv, secret);
  const Json& data = JsonField(secret, "data");
  const Json& keys = JsonField(data, "keys");
  if (inv.JsonFormat()) {
    if (!data.is_object() || !keys.is_array()) {
      inv.Print(FormatGoJson(Json::object()));
      return 2;
    }
    inv.Print(FormatGoJson(keys));
    return 0;
  }
  if (!data.is_object()) {
    inv.Err() << "No value found at " << path << "\n";
    return 2;
  }
  if (!keys.is_array()) {
    inv.Err() << "No entries found at " << path << "\n";
    return 2;
  }
  inv.PrintWarnings(secret);
  std::vector<std::string> sorted;
  for (const Json& key : keys) {
    if (!key.is_string()) {
      return inv.Fail("Could not parse output: " + FormatGoValue(key) + " is not a string");
    }
    sorted.push_back(key.get<std::string>());
  }
  if (sorted.empty()) return 0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<TableRow> rows = {{"Keys"}};
  for (const std::string& key : sorted) rows.push_back({key});
  inv.Print(FormatTable(rows));
  return 0;
}

int CmdKvDelete(Invocation& inv) {
  std::vector<std::string> versions;
  std::string mount;
  inv.flags().StringList("versions", &versions,
                         "Versions to delete (KV version 2), comma-separated or repeated; "
                         "without it, the latest version.");
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) return *rc;
  std::string path = kv.Full("data");
  KvReply reply;
  if (kv.mount.v2 && !versions.empty()) {
    reply = KvRequest(inv, KvCall::kWrite, "PUT", kv.Full("delete"),
                      Json{{"versions", ParseKvVersions(versions)}});
  } else {
    reply = KvRequest(inv, KvCall::kWrite, "DELETE", path);
  }
  if (!reply.error.ok()) {
    inv.Err() << "Error deleting " << path << ": " << reply.error.message() << "\n";
    if (!reply.secret.is_null()) KvOutputSecret(inv, reply.secret);
    return 2;
  }
  if (reply.secret.is_null()) {
    if (!inv.JsonFormat()) inv.Print("Success! Data deleted (if it existed) at: " + path);
    return 0;
  }
  if (!inv.field().empty()) return KvPrintField(inv, KvRawField(reply.secret, inv.field()));
  return KvOutputSecret(inv, reply.secret);
}

constexpr char kKvGetHelp[] =
    "  Prints the secret at the path. On a KV version 2 mount, its version metadata too, and\n"
    "  -version=N reads an older version; a deleted or destroyed version prints its metadata\n"
    "  only. An error if no secret exists at the path.\n\n"
    "      $ vault kv get -mount=secret foo\n"
    "      $ vault kv get secret/foo\n"
    "      $ vault kv get -mount=secret -version=1 foo\n";

constexpr char kKvPutHelp[] =
    "  Writes the data as the secret at the path (on a KV version 2 mount: as its next\n"
    "  version). The data is key=value pairs, \"@file\" or \"-\" (stdin) for the whole JSON\n"
    "  object, or key=@file / key=- for one value.\n\n"
    "      $ vault kv put -mount=secret foo bar=baz\n"
    "      $ vault kv put secret/foo @data.json\n"
    "      $ echo \"abcd1234\" | vault kv put -mount=secret foo bar=-\n"
    "      $ vault kv put -mount=secret -cas=1 foo bar=baz\n";

constexpr char kKvListHelp[] =
    "  Lists the keys under the path; names ending in \"/\" hold further keys.\n\n"
    "      $ vault kv list secret/my-app/\n"
    "      $ vault kv list -mount=secret my-app\n";

constexpr char kKvDeleteHelp[] =
    "  Deletes the secret at the path. On a KV version 2 mount this marks its latest version\n"
    "  (or the -versions given) deleted: kv undelete restores them, kv destroy removes their\n"
    "  data, kv metadata delete removes every version and the metadata.\n\n"
    "      $ vault kv delete -mount=secret foo\n"
    "      $ vault kv delete -mount=secret -versions=3 foo\n";

}  // namespace

void AppendKvCommands(std::vector<CommandSpec>* out) {
  out->push_back({"read", "[options] PATH [K=V...]", "Read data and retrieves secrets", CmdRead});
  out->push_back({"write", "[options] PATH [DATA K=V...]", "Write data, configuration, and secrets",
                  CmdWrite});
  out->push_back({"delete", "[options] PATH", "Delete secrets and configuration", CmdDelete});
  out->push_back({"list", "[options] PATH", "List data or secrets", CmdList});
  out->push_back({"path-help", "[options] PATH", "Retrieve API help for paths", CmdPathHelp});
  out->push_back(
      {"kv get", "[options] KEY", "Retrieves data from the KV store", CmdKvGet, false, kKvGetHelp});
  out->push_back({"kv put", "[options] KEY [DATA]", "Sets or updates data in the KV store",
                  CmdKvPut, false, kKvPutHelp});
  out->push_back(
      {"kv list", "[options] PATH", "List data or secrets", CmdKvList, false, kKvListHelp});
  out->push_back({"kv delete", "[options] PATH", "Deletes versions in the KV store", CmdKvDelete,
                  false, kKvDeleteHelp});
  AppendKv2Commands(out);
}

}  // namespace vault::cli
