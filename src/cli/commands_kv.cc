// The data-path commands: read, write, delete, list, path-help.
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

int CmdRead(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().empty()) return inv.UsageError("Not enough arguments (expected 1, got 0)");
  std::string path = SanitizePath(inv.args()[0]);
  auto query = QueryFromArgs(inv, {inv.args().begin() + 1, inv.args().end()});
  if (!query.ok()) return inv.Fail("Failed to parse K=V data: " + query.status().message());

  auto response = inv.Client().Request("GET", path, std::nullopt, *query);
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

  auto response = inv.Client().Request("PUT", path, *data);
  if (!response.ok()) {
    return inv.Fail("Error writing data to " + path + ": " + response.status().message());
  }
  if (response->json.is_null()) {
    if (inv.TableFormat()) inv.Print("Success! Data written to: " + path);
    return 0;
  }
  return inv.OutputSecret(response->json);
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

}  // namespace

void AppendKvCommands(std::vector<CommandSpec>* out) {
  out->push_back({"read", "[options] PATH [K=V...]", "Read data and retrieves secrets", CmdRead});
  out->push_back({"write", "[options] PATH [DATA K=V...]", "Write data, configuration, and secrets",
                  CmdWrite});
  out->push_back({"delete", "[options] PATH", "Delete secrets and configuration", CmdDelete});
  out->push_back({"list", "[options] PATH", "List data or secrets", CmdList});
  out->push_back({"path-help", "[options] PATH", "Retrieve API help for paths", CmdPathHelp});
}

}  // namespace vault::cli
