// The sys/ commands: operator init/unseal/seal, status, secrets engines (mounts), leases,
// policies and audit devices, in both today's spelling and the 2015 one.
#include <map>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/format.h"
#include "util/duration.h"
#include "util/encoding.h"
#include "util/strings.h"

namespace vault::cli {
namespace {

// ---- operator init / unseal / seal, status -----------------------------------------------

int CmdInit(Invocation& inv) {
  int64_t shares = 5;
  int64_t threshold = 3;
  std::vector<std::string> pgp_keys;
  std::string root_token_pgp_key;
  bool status_only = false;
  inv.flags().Int("key-shares", &shares, "Number of key shares to split the root key into.");
  inv.flags().Int("key-threshold", &threshold, "Number of key shares required to unseal.");
  inv.flags().StringList("pgp-keys", &pgp_keys, "Comma-separated PGP public keys.", true);
  inv.flags().String("root-token-pgp-key", &root_token_pgp_key,
                     "PGP public key to encrypt the root token with.");
  inv.flags().Bool("status", &status_only,
                   "Print the initialization status; exit 0 if initialized, 2 if not.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;

  if (status_only) {
    auto response = inv.Client().Request("GET", "sys/init");
    if (!response.ok()) {
      return inv.Fail("Error checking init status: " + response.status().message());
    }
    bool initialized = response->json.is_object() && response->json.value("initialized", false);
    inv.Print(initialized ? "Vault is initialized" : "Vault is not initialized");
    return initialized ? 0 : 2;
  }

  Json body = {{"secret_shares", shares}, {"secret_threshold", threshold}};
  if (!pgp_keys.empty()) body["pgp_keys"] = pgp_keys;
  if (!root_token_pgp_key.empty()) body["root_token_pgp_key"] = root_token_pgp_key;
  auto response = inv.Client().Request("PUT", "sys/init", body);
  if (!response.ok()) return inv.Fail("Error initializing: " + response.status().message());

  const Json& json = response->json;
  Json hex = json.is_object() && json.contains("keys") ? json["keys"] : Json::array();
  Json b64 = json.is_object() && json.contains("keys_base64") ? json["keys_base64"] : Json();
  if (!b64.is_array()) {
    b64 = Json::array();
    for (const Json& key : hex) {
      auto raw = HexDecode(key.is_string() ? key.get<std::string>() : "");
      b64.push_back(raw.ok() ? Base64Encode(*raw) : FormatGoValue(key));
    }
  }
  std::string root_token = json.is_object() ? json.value("root_token", "") : "";

  if (inv.JsonFormat() || !inv.field().empty()) {
    Json out = {{"unseal_keys_b64", b64},
                {"unseal_keys_hex", hex},
                {"unseal_shares", shares},
                {"unseal_threshold", threshold},
                {"recovery_keys_b64", Json::array()},
                {"recovery_keys_hex", Json::array()},
                {"recovery_keys_shares", 0},
                {"recovery_keys_threshold", 0},
                {"root_token", root_token}};
    return *inv.OutputMachine(out);
  }
  for (size_t i = 0; i < b64.size(); ++i) {
    inv.Print("Unseal Key " + std::to_string(i + 1) + ": " + FormatGoValue(b64[i]));
  }
  inv.Print("");
  inv.Print("Initial Root Token: " + root_token);
  std::string s = std::to_string(shares);
  std::string t = std::to_string(threshold);
  inv.Print("");
  inv.Print(WrapAtLength("Vault initialized with " + s + " key shares and a key threshold of " + t +
                         ". Please securely distribute the key shares printed above. When the "
                         "Vault is re-sealed, restarted, or stopped, you must supply at least " +
                         t +
                         " of these keys to unseal it before it can start servicing requests."));
  inv.Print("");
  inv.Print(WrapAtLength("Vault does not store the generated root key. Without at least " + t +
                         " keys to reconstruct the root key, Vault will remain permanently "
                         "sealed!"));
  inv.Print("");
  inv.Print(WrapAtLength(
      "It is possible to generate new unseal keys, provided you have a quorum of existing "
      "unseal keys shares. See \"vault operator rekey\" for more information."));
  return 0;
}

int PrintSealStatus(Invocation& inv, const Json& seal, const Json& leader) {
  if (auto rc = inv.OutputMachine(seal)) return *rc;
  inv.Print(FormatTable(SealStatusRows(seal, leader)));
  return 0;
}

int CmdUnseal(Invocation& inv) {
  bool reset = false;
  inv.flags().Bool("reset", &reset, "Discard any previously entered keys.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 1)) return *rc;

  Json body;
  if (reset) {
    body = {{"reset", true}};
  } else {
    std::string key;
    if (!inv.args().empty() && inv.args()[0] != "-") {
      key = inv.args()[0];
    } else {
      auto line = inv.env().ReadLine("Unseal Key (will be hidden): ", /*hidden=*/true);
      if (!line.ok()) return inv.Fail("Error reading unseal key: " + line.status().message());
      key = Trim(*line);
    }
    if (key.empty()) return inv.UsageError("Missing unseal key");
    body = {{"key", key}};
  }
  auto response = inv.Client().Request("PUT", "sys/unseal", body);
  if (!response.ok()) return inv.Fail("Error unsealing: " + response.status().message());
  return PrintSealStatus(inv, response->json, Json());
}

int CmdSeal(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  auto response = inv.Client().Request("PUT", "sys/seal");
  if (!response.ok()) return inv.Fail("Error sealing: " + response.status().message());
  inv.Print("Success! Vault is sealed.");
  return 0;
}

int CmdStepDown(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  auto response = inv.Client().Request("PUT", "sys/step-down");
  if (!response.ok()) return inv.Fail("Error stepping down: " + response.status().message());
  inv.Print("Success! Stepped down: " + inv.Client().address());
  return 0;
}

int CmdStatus(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  auto response = inv.Client().Request("GET", "sys/seal-status");
  if (!response.ok()) return inv.Fail("Error checking seal status: " + response.status().message());
  const Json& seal = response->json;
  bool sealed = seal.is_object() && seal.value("sealed", false);
  Json leader;
  if (!sealed) {
    auto leader_response = inv.Client().Request("GET", "sys/leader");
    if (leader_response.ok() && leader_response->json.is_object()) {
      leader = leader_response->json;
    }
  }
  int rc;
  if (inv.JsonFormat() || !inv.field().empty()) {
    Json merged = seal.is_object() ? seal : Json::object();
    if (leader.is_object()) {
      for (const auto& [key, value] : leader.items()) merged[key] = value;
    }
    rc = *inv.OutputMachine(merged);
  } else {
    inv.Print(FormatTable(SealStatusRows(seal, leader)));
    rc = 0;
  }
  if (rc != 0) return rc;
  return sealed ? 2 : 0;
}

// ---- secrets engines ---------------------------------------------------------------------

Json MountsFrom(const Json& response) {
  const Json& source = DataOrTop(response);
  Json mounts = Json::object();
  if (!source.is_object()) return mounts;
  for (const auto& [path, mount] : source.items()) {
    if (mount.is_object() && mount.contains("type")) mounts[path] = mount;
  }
  return mounts;
}

std::string StringOf(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || object[key].is_null()) return "";
  return FormatGoValue(object[key]);
}

int64_t ConfigTtl(const Json& mount, const char* key) {
  if (!mount.is_object() || !mount.contains("config")) return 0;
  const Json& config = mount["config"];
  if (!config.is_object() || !config.contains(key)) return 0;
  return JsonInt(config[key]).value_or(0);
}

int ListMounts(Invocation& inv, bool legacy, bool detailed) {
  auto response = inv.Client().Request("GET", "sys/mounts");
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error reading mounts: " : "Error listing secrets engines: ") +
                    response.status().message());
  }
  Json mounts = MountsFrom(response->json);
  if (auto rc = inv.OutputMachine(mounts)) return *rc;
  std::vector<TableRow> rows;
  if (legacy) {
    rows.push_back({"Path", "Type", "Default TTL", "Max TTL", "Description"});
  } else if (detailed) {
    rows.push_back({"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Force No Cache",
                    "Replication", "Seal Wrap", "Options", "Description", "UUID"});
  } else {
    rows.push_back({"Path", "Type", "Accessor", "Description"});
  }
  for (const auto& [path, mount] : mounts.items()) {
    std::string type = StringOf(mount, "type");
    if (legacy) {
      auto ttl = [&](const char* key) -> std::string {
        if (type == "system" || type == "cubbyhole") return "n/a";
        int64_t v = ConfigTtl(mount, key);
        return v == 0 ? "system" : std::to_string(v);
      };
      rows.push_back({path, type, ttl("default_lease_ttl"), ttl("max_lease_ttl"),
                      StringOf(mount, "description")});
    } else if (detailed) {
      auto ttl = [&](const char* key) -> std::string {
        int64_t v = ConfigTtl(mount, key);
        return v == 0 ? "system" : HumanDuration(v);
      };
      bool force_no_cache = mount.contains("config") && mount["config"].is_object() &&
                            mount["config"].value("force_no_cache", false);
      bool local = mount.value("local", false);
      rows.push_back(
          {path, type, StringOf(mount, "accessor"), ttl("default_lease_ttl"), ttl("max_lease_ttl"),
           force_no_cache ? "true" : "false", local ? "local" : "replicated",
           mount.value("seal_wrap", false) ? "true" : "false", StringOf(mount, "options"),
           StringOf(mount, "description"), StringOf(mount, "uuid")});
    } else {
      rows.push_back({path, type, StringOf(mount, "accessor"), StringOf(mount, "description")});
    }
  }
  inv.Print(FormatTable(rows, !legacy));
  return 0;
}

int CmdMounts(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  return ListMounts(inv, /*legacy=*/true, false);
}

int CmdSecretsList(Invocation& inv) {
  bool detailed = false;
  inv.flags().Bool("detailed", &detailed, "Print detailed information such as TTLs.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  return ListMounts(inv, /*legacy=*/false, detailed);
}

int EnableSecrets(Invocation& inv, bool legacy) {
  std::string path, description, default_ttl, max_ttl;
  int64_t version = 0;
  bool local = false, seal_wrap = false;
  std::map<std::string, std::string> options;
  inv.flags().String("path", &path, "Where to mount the engine (default: its type).");
  inv.flags().String("description", &description, "Human-friendly description.");
  inv.flags().String("default-lease-ttl", &default_ttl, "Default lease TTL (\"1h\" or seconds).");
  inv.flags().String("max-lease-ttl", &max_ttl, "Maximum lease TTL (\"1h\" or seconds).");
  inv.flags().Bool("local", &local, "Mark the mount as local-only (not replicated).");
  inv.flags().Bool("seal-wrap", &seal_wrap, "Enable seal wrapping.");
  inv.flags().Map("options", &options, "Engine option K=V (repeatable).");
  inv.flags().Int("version", &version,
                  "Shorthand for -options=version=N: the KV version (kv, kv-v2). 0: not sent.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string type = Trim(inv.args()[0]);
  std::string mount_path = TrimTrailingSlash(SanitizePath(path.empty() ? type : path));

  Json config = Json::object();
  if (!default_ttl.empty()) config["default_lease_ttl"] = default_ttl;
  if (!max_ttl.empty()) config["max_lease_ttl"] = max_ttl;
  Json body = {{"type", type}, {"description", description}, {"config", config}};
  if (local) body["local"] = true;
  if (seal_wrap) body["seal_wrap"] = true;
  if (version > 0) options["version"] = std::to_string(version);
  if (!options.empty()) body["options"] = options;

  auto response = inv.Client().Request("POST", "sys/mounts/" + mount_path, body);
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error mounting: " : "Error enabling: ") +
                    response.status().message());
  }
  if (legacy) {
    inv.Print("Successfully mounted '" + type + "' at '" + mount_path + "'!");
  } else {
    inv.Print("Success! Enabled the " + type + " secrets engine at: " + mount_path + "/");
  }
  return 0;
}

int CmdMount(Invocation& inv) { return EnableSecrets(inv, true); }
int CmdSecretsEnable(Invocation& inv) { return EnableSecrets(inv, false); }

int DisableSecrets(Invocation& inv, bool legacy) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = TrimTrailingSlash(SanitizePath(inv.args()[0]));
  auto response = inv.Client().Request("DELETE", "sys/mounts/" + path);
  if (!response.ok()) {
    return inv.Fail(
        (legacy ? "Error unmounting: " : "Error disabling secrets engine at " + path + "/: ") +
        response.status().message());
  }
  if (legacy) {
    inv.Print("Successfully unmounted '" + path + "'!");
  } else {
    inv.Print("Success! Disabled the secrets engine (if it existed) at: " + path + "/");
  }
  return 0;
}

int CmdUnmount(Invocation& inv) { return DisableSecrets(inv, true); }
int CmdSecretsDisable(Invocation& inv) { return DisableSecrets(inv, false); }

int TuneSecrets(Invocation& inv, bool legacy) {
  std::string default_ttl, max_ttl, description;
  inv.flags().String("default-lease-ttl", &default_ttl, "Default lease TTL (\"1h\" or seconds).");
  inv.flags().String("max-lease-ttl", &max_ttl, "Maximum lease TTL (\"1h\" or seconds).");
  inv.flags().String("description", &description, "New description of the mount.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = TrimTrailingSlash(SanitizePath(inv.args()[0]));
  Json body = Json::object();
  if (inv.flags().IsSet("default-lease-ttl")) body["default_lease_ttl"] = default_ttl;
  if (inv.flags().IsSet("max-lease-ttl")) body["max_lease_ttl"] = max_ttl;
  if (inv.flags().IsSet("description")) body["description"] = description;
  auto response = inv.Client().Request("POST", "sys/mounts/" + path + "/tune", body);
  if (!response.ok()) {
    return inv.Fail(
        (legacy ? "Mount tune error: " : "Error tuning secrets engine " + path + "/: ") +
        response.status().message());
  }
  if (legacy) {
    inv.Print("Successfully tuned mount '" + path + "'!");
  } else {
    inv.Print("Success! Tuned the secrets engine at: " + path + "/");
  }
  return 0;
}

int CmdMountTune(Invocation& inv) { return TuneSecrets(inv, true); }
int CmdSecretsTune(Invocation& inv) { return TuneSecrets(inv, false); }

int MoveSecrets(Invocation& inv, bool legacy) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(2, 2)) return *rc;
  std::string from = TrimTrailingSlash(SanitizePath(inv.args()[0]));
  std::string to = TrimTrailingSlash(SanitizePath(inv.args()[1]));
  auto response = inv.Client().Request("POST", "sys/remount", Json{{"from", from}, {"to", to}});
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error remounting: "
                            : "Error moving secrets engine " + from + "/ to " + to + "/: ") +
                    response.status().message());
  }
  if (legacy) {
    inv.Print("Successfully remounted from '" + from + "' to '" + to + "'!");
  } else {
    inv.Print("Success! Moved secrets engine " + from + "/ to: " + to + "/");
  }
  return 0;
}

int CmdRemount(Invocation& inv) { return MoveSecrets(inv, true); }
int CmdSecretsMove(Invocation& inv) { return MoveSecrets(inv, false); }

// ---- leases ------------------------------------------------------------------------------

Result<int64_t> ParseIncrement(const std::string& text) {
  auto seconds = ParseDurationSeconds(text);
  if (!seconds.ok()) return InvalidArgument("Invalid increment: " + seconds.status().message());
  return *seconds;
}

int CmdRevoke(Invocation& inv) {
  bool prefix = false, force = false;
  inv.flags().Bool("prefix", &prefix, "Revoke every secret whose lease ID starts with ID.");
  inv.flags().Bool("force", &force, "Remove the leases even if revocation fails (needs -prefix).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  if (force && !prefix) return inv.UsageError("Specifying -force requires also specifying -prefix");
  std::string id = SanitizePath(inv.args()[0]);
  std::string endpoint = force    ? "sys/revoke-force/"
                         : prefix ? "sys/revoke-prefix/"
                                  : "sys/revoke/";
  auto response = inv.Client().Request("PUT", endpoint + id);
  if (!response.ok()) return inv.Fail("Revoke error: " + response.status().message());
  if (force) {
    inv.Print("Success! Force revoked any secrets with prefix '" + id + "'");
  } else if (prefix) {
    inv.Print("Success! Revoked any secrets with prefix '" + id + "'");
  } else {
    inv.Print("Success! Revoked the secret with ID '" + id + "', if it existed.");
  }
  return 0;
}

int CmdRenew(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 2)) return *rc;
  std::string id = SanitizePath(inv.args()[0]);
  int64_t increment = 0;
  if (inv.args().size() == 2) {
    auto parsed = ParseIncrement(inv.args()[1]);
    if (!parsed.ok()) return inv.UsageError(parsed.status().message());
    increment = *parsed;
  }
  auto response = inv.Client().Request("PUT", "sys/renew/" + id, Json{{"increment", increment}});
  if (!response.ok()) return inv.Fail("Renew error: " + response.status().message());
  return inv.OutputSecret(response->json);
}

int CmdLeaseRevoke(Invocation& inv) {
  bool prefix = false, force = false;
  inv.flags().Bool("prefix", &prefix, "Treat ID as a prefix and revoke every lease under it.");
  inv.flags().Bool("force", &force, "Remove the leases even if revocation fails (needs -prefix).");
  inv.flags().Bool("f", &force, "Alias of -force.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  if (force && !prefix) return inv.UsageError("Specifying -force requires also specifying -prefix");
  std::string id = SanitizePath(inv.args()[0]);
  if (force) {
    auto response = inv.Client().Request("PUT", "sys/leases/revoke-force/" + id);
    if (!response.ok()) {
      return inv.Fail("Error force revoking leases with prefix " + id + ": " +
                      response.status().message());
    }
    inv.Print("Success! Force revoked any leases with prefix: " + id);
  } else if (prefix) {
    auto response = inv.Client().Request("PUT", "sys/leases/revoke-prefix/" + id);
    if (!response.ok()) {
      return inv.Fail("Error revoking leases with prefix " + id + ": " +
                      response.status().message());
    }
    inv.Print("Success! Revoked any leases with prefix: " + id);
  } else {
    auto response = inv.Client().Request("PUT", "sys/leases/revoke", Json{{"lease_id", id}});
    if (!response.ok()) {
      return inv.Fail("Error revoking lease " + id + ": " + response.status().message());
    }
    inv.Print("Success! Revoked lease: " + id);
  }
  return 0;
}

int CmdLeaseRenew(Invocation& inv) {
  std::string increment_text;
  inv.flags().String("increment", &increment_text, "Requested extension (\"1h\" or seconds).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string id = SanitizePath(inv.args()[0]);
  Json body = {{"lease_id", id}};
  if (!increment_text.empty()) {
    auto parsed = ParseIncrement(increment_text);
    if (!parsed.ok()) return inv.UsageError(parsed.status().message());
    body["increment"] = *parsed;
  }
  auto response = inv.Client().Request("PUT", "sys/leases/renew", body);
  if (!response.ok()) return inv.Fail("Error renewing " + id + ": " + response.status().message());
  return inv.OutputSecret(response->json);
}

int CmdLeaseLookup(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string id = SanitizePath(inv.args()[0]);
  auto response = inv.Client().Request("PUT", "sys/leases/lookup", Json{{"lease_id", id}});
  if (!response.ok()) {
    return inv.Fail("error looking up lease id " + id + ": " + response.status().message());
  }
  return inv.OutputSecret(response->json);
}

// ---- policies ----------------------------------------------------------------------------

int WritePolicy(Invocation& inv, bool legacy) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(2, 2)) return *rc;
  std::string name = ToLower(Trim(inv.args()[0]));
  const std::string& file = inv.args()[1];
  auto rules = file == "-" ? inv.env().ReadStdin() : inv.env().ReadFile(file);
  if (!rules.ok()) return inv.Fail("Error opening policy file: " + rules.status().message());
  auto response = inv.Client().Request("PUT", "sys/policy/" + name, Json{{"policy", *rules}});
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error: " : "Error uploading policy: ") +
                    response.status().message());
  }
  inv.Print(legacy ? "Policy '" + name + "' written." : "Success! Uploaded policy: " + name);
  return 0;
}

int CmdPolicyWrite(Invocation& inv) { return WritePolicy(inv, false); }
int CmdPolicyWriteLegacy(Invocation& inv) { return WritePolicy(inv, true); }

int ReadPolicy(Invocation& inv, const std::string& raw_name) {
  std::string name = ToLower(Trim(raw_name));
  auto response = inv.Client().Request("GET", "sys/policy/" + name);
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kNotFound) {
      inv.Err() << "No policy named: " << name << "\n";
      return 2;
    }
    return inv.Fail("Error reading policy named " + name + ": " + response.status().message());
  }
  const Json& data = DataOrTop(response->json);
  if (auto rc = inv.OutputMachine(data)) return *rc;
  std::string rules;
  for (const char* key : {"rules", "policy"}) {
    if (data.is_object() && data.contains(key) && data[key].is_string()) {
      rules = data[key].get<std::string>();
      break;
    }
  }
  inv.Print(Trim(rules));
  return 0;
}

int ListPolicies(Invocation& inv) {
  auto response = inv.Client().Request("GET", "sys/policy");
  if (!response.ok()) return inv.Fail("Error listing policies: " + response.status().message());
  const Json& data = DataOrTop(response->json);
  Json policies = Json::array();
  for (const char* key : {"policies", "keys"}) {
    if (data.is_object() && data.contains(key) && data[key].is_array()) {
      policies = data[key];
      break;
    }
  }
  if (inv.JsonFormat()) {
    inv.PrintJson(policies);
    return 0;
  }
  for (const Json& p : policies) inv.Print(FormatGoValue(p));
  return 0;
}

int CmdPolicyList(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  return ListPolicies(inv);
}

int CmdPolicyRead(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  return ReadPolicy(inv, inv.args()[0]);
}

int CmdPolicies(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 1)) return *rc;
  return inv.args().empty() ? ListPolicies(inv) : ReadPolicy(inv, inv.args()[0]);
}

int DeletePolicy(Invocation& inv, bool legacy) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string name = ToLower(Trim(inv.args()[0]));
  auto response = inv.Client().Request("DELETE", "sys/policy/" + name);
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error: " : "Error deleting " + name + ": ") +
                    response.status().message());
  }
  inv.Print(legacy ? "Policy '" + name + "' deleted." : "Success! Deleted policy: " + name);
  return 0;
}

int CmdPolicyDelete(Invocation& inv) { return DeletePolicy(inv, false); }
int CmdPolicyDeleteLegacy(Invocation& inv) { return DeletePolicy(inv, true); }

// ---- audit devices -----------------------------------------------------------------------

int EnableAudit(Invocation& inv, bool legacy) {
  std::string path, description;
  bool local = false;
  inv.flags().String("path", &path, "Where to enable the device (default: its type).");
  inv.flags().String("description", &description, "Human-friendly description.");
  inv.flags().Bool("local", &local, "Mark the device as local-only.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().empty()) return inv.UsageError("Not enough arguments (expected 1, got 0)");
  std::string type = Trim(inv.args()[0]);
  std::string device_path = TrimTrailingSlash(SanitizePath(path.empty() ? type : path));
  auto options = BuildKeyValueData({inv.args().begin() + 1, inv.args().end()}, inv.Inputs());
  if (!options.ok()) return inv.Fail(options.status().message());
  Json body = {{"type", type}, {"description", description}, {"options", *options}};
  if (local) body["local"] = true;
  auto response = inv.Client().Request("PUT", "sys/audit/" + device_path, body);
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error enabling audit backend: " : "Error enabling audit device: ") +
                    response.status().message());
  }
  inv.Print(legacy ? "Successfully enabled audit backend '" + type + "' with path '" + device_path +
                         "'!"
                   : "Success! Enabled the " + type + " audit device at: " + device_path + "/");
  return 0;
}

int CmdAuditEnable(Invocation& inv) { return EnableAudit(inv, false); }
int CmdAuditEnableLegacy(Invocation& inv) { return EnableAudit(inv, true); }

int DisableAudit(Invocation& inv, bool legacy) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = TrimTrailingSlash(SanitizePath(inv.args()[0]));
  auto response = inv.Client().Request("DELETE", "sys/audit/" + path);
  if (!response.ok()) {
    return inv.Fail(
        (legacy ? "Error disabling audit backend: " : "Error disabling audit device: ") +
        response.status().message());
  }
  inv.Print(legacy ? "Successfully disabled audit backend '" + path + "' if it was enabled"
                   : "Success! Disabled audit device (if it was enabled) at: " + path + "/");
  return 0;
}

int CmdAuditDisable(Invocation& inv) { return DisableAudit(inv, false); }
int CmdAuditDisableLegacy(Invocation& inv) { return DisableAudit(inv, true); }

int ListAudit(Invocation& inv, bool legacy) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  auto response = inv.Client().Request("GET", "sys/audit");
  if (!response.ok()) {
    return inv.Fail("Error listing audits: " + response.status().message());
  }
  Json devices = MountsFrom(response->json);
  if (auto rc = inv.OutputMachine(devices)) return *rc;
  if (devices.empty()) {
    inv.Print(legacy ? "No audit backends are enabled." : "No audit devices are enabled.");
    return legacy ? 0 : 2;
  }
  std::vector<TableRow> rows;
  if (legacy) {
    rows.push_back({"Path", "Type", "Description", "Options"});
  } else {
    rows.push_back({"Path", "Type", "Description"});
  }
  for (const auto& [path, device] : devices.items()) {
    TableRow row = {path, StringOf(device, "type"), StringOf(device, "description")};
    if (legacy) row.push_back(StringOf(device, "options"));
    rows.push_back(row);
  }
  inv.Print(FormatTable(rows, !legacy));
  return 0;
}

int CmdAuditList(Invocation& inv) { return ListAudit(inv, false); }
int CmdAuditListLegacy(Invocation& inv) { return ListAudit(inv, true); }

// ---- auth methods ------------------------------------------------------------------------

int EnableAuth(Invocation& inv, bool legacy) {
  std::string path, description, default_ttl, max_ttl, listing_visibility, token_type, plugin_name;
  bool local = false, seal_wrap = false;
  inv.flags().String("path", &path, "Where to enable the method (default: its type).");
  inv.flags().String("description", &description, "Human-friendly description.");
  inv.flags().String("plugin-name", &plugin_name, "Name of the auth plugin (builtin only).");
  inv.flags().Bool("local", &local, "Mark the method as local-only (not replicated).");
  if (!legacy) {
    inv.flags().String("default-lease-ttl", &default_ttl, "Default token TTL.");
    inv.flags().String("max-lease-ttl", &max_ttl, "Maximum token TTL.");
    inv.flags().String("listing-visibility", &listing_visibility, "\"unauth\" or \"hidden\".");
    inv.flags().String("token-type", &token_type, "Token type to issue (service).");
    inv.flags().Bool("seal-wrap", &seal_wrap, "Enable seal wrapping.");
  }
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string type = Trim(inv.args()[0]);
  std::string mount_path = TrimTrailingSlash(SanitizePath(path.empty() ? type : path));
  Json config = Json::object();
  if (!default_ttl.empty()) config["default_lease_ttl"] = default_ttl;
  if (!max_ttl.empty()) config["max_lease_ttl"] = max_ttl;
  if (!listing_visibility.empty()) config["listing_visibility"] = listing_visibility;
  if (!token_type.empty()) config["token_type"] = token_type;
  Json body = {{"type", type}, {"description", description}, {"config", config}};
  if (!plugin_name.empty()) body["plugin_name"] = plugin_name;
  if (local) body["local"] = true;
  if (seal_wrap) body["seal_wrap"] = true;
  auto response = inv.Client().Request("POST", "sys/auth/" + mount_path, body);
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error: " : "Error enabling " + type + " auth: ") +
                    response.status().message());
  }
  if (legacy) {
    inv.Print("Successfully enabled '" + type + "' at '" + mount_path + "'!");
  } else {
    inv.Print("Success! Enabled " + type + " auth method at: " + mount_path + "/");
  }
  return 0;
}

int CmdAuthEnable(Invocation& inv) { return EnableAuth(inv, false); }
int CmdAuthEnableLegacy(Invocation& inv) { return EnableAuth(inv, true); }

int DisableAuth(Invocation& inv, bool legacy) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = TrimTrailingSlash(SanitizePath(inv.args()[0]));
  auto response = inv.Client().Request("DELETE", "sys/auth/" + path);
  if (!response.ok()) {
    return inv.Fail((legacy ? "Error: " : "Error disabling auth method at " + path + ": ") +
                    response.status().message());
  }
  if (legacy) {
    inv.Print("Disabled auth provider at path '" + path + "'!");
  } else {
    inv.Print("Success! Disabled the auth method (if it existed) at: " + path + "/");
  }
  return 0;
}

int CmdAuthDisable(Invocation& inv) { return DisableAuth(inv, false); }
int CmdAuthDisableLegacy(Invocation& inv) { return DisableAuth(inv, true); }

int CmdAuthList(Invocation& inv) {
  bool detailed = false;
  inv.flags().Bool("detailed", &detailed, "Print detailed information such as TTLs.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  return ListAuthMethods(inv, detailed);
}

int CmdAuthTune(Invocation& inv) {
  std::string default_ttl, max_ttl, description, listing_visibility, token_type;
  inv.flags().String("default-lease-ttl", &default_ttl, "Default token TTL.");
  inv.flags().String("max-lease-ttl", &max_ttl, "Maximum token TTL.");
  inv.flags().String("description", &description, "New description of the method.");
  inv.flags().String("listing-visibility", &listing_visibility, "\"unauth\" or \"hidden\".");
  inv.flags().String("token-type", &token_type, "Token type to issue (service).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string path = TrimTrailingSlash(SanitizePath(inv.args()[0]));
  Json body = Json::object();
  if (inv.flags().IsSet("default-lease-ttl")) body["default_lease_ttl"] = default_ttl;
  if (inv.flags().IsSet("max-lease-ttl")) body["max_lease_ttl"] = max_ttl;
  if (inv.flags().IsSet("description")) body["description"] = description;
  if (inv.flags().IsSet("listing-visibility")) body["listing_visibility"] = listing_visibility;
  if (inv.flags().IsSet("token-type")) body["token_type"] = token_type;
  auto response = inv.Client().Request("POST", "sys/auth/" + path + "/tune", body);
  if (!response.ok()) {
    return inv.Fail("Error tuning auth method " + path + ": " + response.status().message());
  }
  inv.Print("Success! Tuned the auth method at: " + path + "/");
  return 0;
}
}  // namespace

// vault auth list (and the 0.x `vault auth -methods`).
int ListAuthMethods(Invocation& inv, bool detailed) {
  auto response = inv.Client().Request("GET", "sys/auth");
  if (!response.ok())
    return inv.Fail("Error listing enabled authentications: " + response.status().message());
  Json mounts = MountsFrom(response->json);
  if (auto rc = inv.OutputMachine(mounts)) return *rc;
  std::vector<TableRow> rows;
  if (detailed) {
    rows.push_back({"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Token Type",
                    "Replication", "Seal Wrap", "Description", "UUID"});
  } else {
    rows.push_back({"Path", "Type", "Accessor", "Description"});
  }
  for (const auto& [path, mount] : mounts.items()) {
    if (detailed) {
      auto ttl = [&](const char* key) -> std::string {
        int64_t v = ConfigTtl(mount, key);
        return v == 0 ? "system" : HumanDuration(v);
      };
      std::string token_type = mount.contains("config") && mount["config"].is_object()
                                   ? StringOf(mount["config"], "token_type")
                                   : "";
      rows.push_back({path, StringOf(mount, "type"), StringOf(mount, "accessor"),
                      ttl("default_lease_ttl"), ttl("max_lease_ttl"), token_type,
                      mount.value("local", false) ? "local" : "replicated",
                      mount.value("seal_wrap", false) ? "true" : "false",
                      StringOf(mount, "description"), StringOf(mount, "uuid")});
    } else {
      rows.push_back({path, StringOf(mount, "type"), StringOf(mount, "accessor"),
                      StringOf(mount, "description")});
    }
  }
  inv.Print(FormatTable(rows, true));
  return 0;
}

void AppendSysCommands(std::vector<CommandSpec>* out) {
  // Today's spellings.
  out->push_back({"operator init", "[options]", "Initializes a server", CmdInit});
  out->push_back({"operator unseal", "[options] [KEY]", "Unseals the Vault server", CmdUnseal});
  out->push_back({"operator seal", "[options]", "Seals the Vault server", CmdSeal});
  out->push_back({"operator step-down", "[options]",
                  "Forces the active node to give up active duty", CmdStepDown});
  out->push_back({"status", "[options]", "Print seal and HA status", CmdStatus});
  out->push_back({"secrets enable", "[options] TYPE", "Enable a secrets engine", CmdSecretsEnable});
  out->push_back(
      {"secrets disable", "[options] PATH", "Disable a secrets engine", CmdSecretsDisable});
  out->push_back({"secrets list", "[options]", "List enabled secrets engines", CmdSecretsList});
  out->push_back(
      {"secrets tune", "[options] PATH", "Tune a secrets engine configuration", CmdSecretsTune});
  out->push_back({"secrets move", "[options] SOURCE DESTINATION",
                  "Move a secrets engine to a new path", CmdSecretsMove});
  out->push_back({"lease revoke", "[options] ID", "Revokes leases and secrets", CmdLeaseRevoke});
  out->push_back({"lease renew", "[options] ID", "Renews the lease of a secret", CmdLeaseRenew});
  out->push_back({"lease lookup", "[options] ID", "Lookup the lease of a secret", CmdLeaseLookup});
  out->push_back({"policy write", "[options] NAME PATH", "Uploads a named policy from a file",
                  CmdPolicyWrite});
  out->push_back({"policy list", "[options]", "Lists the installed policies", CmdPolicyList});
  out->push_back(
      {"policy read", "[options] NAME", "Prints the contents of a policy", CmdPolicyRead});
  out->push_back({"policy delete", "[options] NAME", "Deletes a policy by name", CmdPolicyDelete});
  out->push_back({"audit enable", "[options] TYPE [CONFIG K=V...]", "Enables an audit device",
                  CmdAuditEnable});
  out->push_back({"audit disable", "[options] PATH", "Disables an audit device", CmdAuditDisable});
  out->push_back({"audit list", "[options]", "Lists enabled audit devices", CmdAuditList});
  out->push_back({"auth enable", "[options] TYPE", "Enables a new auth method", CmdAuthEnable});
  out->push_back({"auth disable", "[options] PATH", "Disables an auth method", CmdAuthDisable});
  out->push_back({"auth list", "[options]", "Lists enabled auth methods", CmdAuthList});
  out->push_back(
      {"auth tune", "[options] PATH", "Tunes an auth method configuration", CmdAuthTune});

  // The 2015 (0.x) spellings.
  out->push_back({"init", "[options]", "Initialize a new Vault server", CmdInit, true});
  out->push_back({"unseal", "[options] [KEY]", "Unseals the Vault server", CmdUnseal, true});
  out->push_back({"seal", "[options]", "Seals the Vault server", CmdSeal, true});
  out->push_back(
      {"step-down", "[options]", "Force the Vault node to give up active duty", CmdStepDown, true});
  out->push_back({"mount", "[options] TYPE", "Mount a logical backend", CmdMount, true});
  out->push_back({"unmount", "[options] PATH", "Unmount a secret backend", CmdUnmount, true});
  out->push_back({"mounts", "[options]", "Lists mounted backends in Vault", CmdMounts, true});
  out->push_back(
      {"mount-tune", "[options] PATH", "Tune mount configuration parameters", CmdMountTune, true});
  out->push_back(
      {"remount", "[options] FROM TO", "Remount a secret backend to a new path", CmdRemount, true});
  out->push_back({"revoke", "[options] ID", "Revoke a secret", CmdRevoke, true});
  out->push_back(
      {"renew", "[options] ID [INCREMENT]", "Renew the lease of a secret", CmdRenew, true});
  out->push_back(
      {"policies", "[options] [NAME]", "List the policies on the server", CmdPolicies, true});
  out->push_back({"policy-write", "[options] NAME PATH", "Write a policy to the server",
                  CmdPolicyWriteLegacy, true});
  out->push_back({"policy-delete", "[options] NAME", "Delete a policy from the server",
                  CmdPolicyDeleteLegacy, true});
  out->push_back({"audit-enable", "[options] TYPE [CONFIG K=V...]", "Enable an audit backend",
                  CmdAuditEnableLegacy, true});
  out->push_back(
      {"audit-disable", "[options] PATH", "Disable an audit backend", CmdAuditDisableLegacy, true});
  out->push_back({"audit-list", "[options]", "Lists enabled audit backends in Vault",
                  CmdAuditListLegacy, true});
  out->push_back(
      {"auth-enable", "[options] TYPE", "Enable a new auth provider", CmdAuthEnableLegacy, true});
  out->push_back(
      {"auth-disable", "[options] PATH", "Disable an auth provider", CmdAuthDisableLegacy, true});
}

}  // namespace vault::cli
