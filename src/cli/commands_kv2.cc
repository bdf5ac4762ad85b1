// The `vault kv` commands that need a KV version 2 mount: patch, rollback, undelete, destroy,
// metadata get/put/patch/delete, and enable-versioning (which upgrades a version 1 mount). Each
// runs the preflight of kv_common.h first (enable-versioning excepted, as in Vault) and refuses
// a version 1 mount with Vault's message and exit code.
#include <algorithm>
#include <map>

#include "cli/command.h"
#include "cli/format.h"
#include "cli/kv_common.h"
#include "util/duration.h"
#include "util/strings.h"

namespace vault::cli {
namespace {

const HttpHeaders kMergePatch = {{"Content-Type", "application/merge-patch+json"}};

// Prints "Error writing data to <path>: <error>" (and the secret a 404 carried); returns 2.
int WriteError(Invocation& inv, const std::string& path, const KvReply& reply) {
  inv.Err() << "Error writing data to " << path << ": " << reply.error.message() << "\n";
  if (!reply.secret.is_null()) KvOutputSecret(inv, reply.secret);
  return 2;
}

// The answer of undelete, destroy and kv metadata put/patch: "Success! Data written to: <path>"
// without a secret (not with -format=json), else the secret.
int ReportWrite(Invocation& inv, const std::string& path, const KvReply& reply) {
  if (!reply.error.ok()) return WriteError(inv, path, reply);
  if (reply.secret.is_null()) {
    if (!inv.JsonFormat()) inv.Print("Success! Data written to: " + path);
    return 0;
  }
  return KvOutputSecret(inv, reply.secret);
}

// A version of a secret as kv patch (read/write) and kv rollback need it: reads `path` (with
// `query`) into *secret_data (the answer's data: {data, metadata}) and checks that it has
// metadata. `what` names the command in the messages ("patch", "rollback"). Returns the exit
// code to stop with, after printing why.
std::optional<int> PreRead(Invocation& inv, const std::string& path, const QueryParams& query,
                           const std::string& what, Json* secret_data) {
  KvReply reply = KvRequest(inv, KvCall::kRead, "GET", path, std::nullopt, query);
  if (!reply.error.ok()) {
    inv.Err() << "Error doing pre-read at " << path << ": " << reply.error.message() << "\n";
    return 2;
  }
  const Json& data = JsonField(reply.secret, "data");
  if (data.is_null()) {
    inv.Err() << "No value found at " << path << "\n";
    return 2;
  }
  const Json& metadata = JsonField(data, "metadata");
  if (metadata.is_null()) {
    inv.Err() << "No metadata found at " << path << "; " << what
              << " only works on existing data\n";
    return 2;
  }
  if (!metadata.is_object()) {
    inv.Err() << "Metadata found at " << path << " is not the expected type (JSON object)\n";
    return 2;
  }
  *secret_data = data;
  return std::nullopt;
}

// ---- kv patch ---------------------------------------------------------------------------------

struct PatchResult {
  std::optional<int> exit_code;  // set: stop with it (output done)
  Json secret;                   // otherwise: the written secret to print
};

// kv patch by read, local merge and a check-and-set write of the read version.
PatchResult PatchReadThenWrite(Invocation& inv, const std::string& path, const Json& new_data) {
  Json current;
  if (auto rc = PreRead(inv, path, {}, "patch", &current)) return {rc, {}};
  const Json& old_data = JsonField(current, "data");
  if (old_data.is_null()) {
    inv.Err() << "No data found at " << path << "; patch only works on existing data\n";
    return {2, {}};
  }
  if (!old_data.is_object()) {
    inv.Err() << "Data found at " << path << " is not the expected type (JSON object)\n";
    return {2, {}};
  }
  Json data = old_data;
  // Removed keys stay, with a null value: a plain write does not merge-patch.
  for (const auto& [key, value] : new_data.items()) data[key] = value;
  Json body = {{"data", data},
               {"options", {{"cas", JsonField(JsonField(current, "metadata"), "version")}}}};
  KvReply reply = KvRequest(inv, KvCall::kWrite, "PUT", path, body);
  if (!reply.error.ok()) {
    inv.Err() << "Error writing data to " << path << ": " << reply.error.message() << "\n";
    return {2, {}};
  }
  if (reply.secret.is_null()) {
    if (!inv.JsonFormat()) inv.Print("Success! Data written to: " + path);
    return {0, {}};
  }
  if (!inv.field().empty()) return {KvPrintField(inv, KvRawField(reply.secret, inv.field())), {}};
  return {std::nullopt, reply.secret};
}

// kv patch by an HTTP PATCH (JSON merge patch); with fallback, a 405 (a server without PATCH)
// or a 403 (a policy without "patch") retries by read and write.
PatchResult PatchMerge(Invocation& inv, const std::string& path, const Json& new_data, int64_t cas,
                       bool fallback) {
  Json body = {{"data", new_data}, {"options", Json::object()}};
  if (cas > 0) body["options"]["cas"] = cas;
  KvReply reply = KvRequest(inv, KvCall::kWrite, "PATCH", path, body, {}, kMergePatch);
  if (!reply.error.ok()) {
    if (fallback && reply.http_status == 405) return PatchReadThenWrite(inv, path, new_data);
    if (fallback && reply.http_status == 403) {
      inv.Err() << "Data was written to " << path
                << " but we recommend that you add the \"patch\" capability to your ACL policy "
                   "in order to use HTTP PATCH in the future.\n";
      return PatchReadThenWrite(inv, path, new_data);
    }
    inv.Err() << "Error writing data to " << path << ": " << reply.error.message() << "\n";
    return {2, {}};
  }
  if (reply.secret.is_null()) {
    if (!inv.JsonFormat()) inv.Print("Success! Data written to: " + path);
    return {0, {}};
  }
  if (!inv.field().empty()) return {KvPrintField(inv, KvRawField(reply.secret, inv.field())), {}};
  return {std::nullopt, reply.secret};
}

int CmdKvPatch(Invocation& inv) {
  int64_t cas = 0;
  std::string method, mount;
  std::vector<std::string> remove_data;
  inv.flags().Int("cas", &cas,
                  "Check-and-set: patch only if the secret's current version is this one (0: no "
                  "check).");
  inv.flags().String("method", &method,
                     "\"patch\": an HTTP PATCH only; \"rw\": read, merge locally, write. Default: "
                     "PATCH, then read/write if the server or the policy refuses PATCH.");
  inv.flags().String("mount", &mount, kKvMountUsage);
  inv.flags().StringList("remove-data", &remove_data, "A key to remove (repeatable).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().empty()) return inv.UsageError("Not enough arguments (expected >1, got 0)");
  if (remove_data.empty() && inv.args().size() == 1) return inv.Fail("Must supply data");
  std::vector<std::string> data_args(inv.args().begin() + 1, inv.args().end());
  auto new_data = BuildKeyValueData(data_args, inv.Inputs());
  if (!new_data.ok()) return inv.Fail("Failed to parse K=V data: " + new_data.status().message());

  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) return *rc;
  if (!kv.mount.v2) {
    inv.Err() << "K/V engine mount must be version 2 for patch support\n";
    return 2;
  }
  std::string path = kv.Full("data");
  Json data = *new_data;
  for (const std::string& key : remove_data) data[Trim(key)] = nullptr;  // merge patch: remove

  PatchResult result;
  if (method == "rw") {
    result = PatchReadThenWrite(inv, path, data);
  } else if (method == "patch" || method.empty()) {
    result = PatchMerge(inv, path, data, cas, /*fallback=*/method.empty());
  } else {
    inv.Err() << "Unsupported method provided to -method flag: " << method << "\n";
    return 2;
  }
  if (result.exit_code.has_value()) return *result.exit_code;
  return PrintKvWritten(inv, path, result.secret);
}

// ---- kv rollback ------------------------------------------------------------------------------

int CmdKvRollback(Invocation& inv) {
  int64_t version = 0;
  std::string mount;
  inv.flags().Int("version", &version, "The version to make current again (required).");
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (inv.args().size() != 1) {
    return inv.UsageError("Invalid number of arguments (expected 1, got " +
                          std::to_string(inv.args().size()) + ")");
  }
  if (!inv.flags().IsSet("version")) return inv.Fail("Version flag must be specified");
  if (version <= 0) {
    return inv.Fail("Invalid value " + std::to_string(version) + " for the version flag");
  }
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) return *rc;
  if (!kv.mount.v2) {
    inv.Err() << "K/V engine mount must be version 2 for rollback support\n";
    return 2;
  }
  std::string path = kv.Full("data");

  // The current version, for check-and-set; then the version to restore.
  Json current;
  if (auto rc = PreRead(inv, path, {}, "rollback", &current)) return *rc;
  Json cas = JsonField(JsonField(current, "metadata"), "version");
  Json target;
  if (auto rc = PreRead(inv, path, {{"version", std::to_string(version)}}, "rollback", &target)) {
    return *rc;
  }
  const Json& metadata = JsonField(target, "metadata");
  const Json& deletion_time = JsonField(metadata, "deletion_time");
  if (deletion_time.is_string() && !deletion_time.get<std::string>().empty()) {
    inv.Err() << "Cannot roll back to a version that has been deleted\n";
    return 2;
  }
  if (JsonField(metadata, "destroyed") == Json(true)) {
    inv.Err() << "Cannot roll back to a version that has been destroyed\n";
    return 2;
  }
  const Json& old_data = JsonField(target, "data");
  if (old_data.is_null()) {
    inv.Err() << "No data found at " << path << "; rollback only works on existing data\n";
    return 2;
  }
  if (!old_data.is_object()) {
    inv.Err() << "Data found at " << path << " is not the expected type (JSON object)\n";
    return 2;
  }

  Json body = {{"data", old_data}, {"options", {{"cas", cas}}}};
  KvReply reply = KvRequest(inv, KvCall::kWrite, "PUT", path, body);
  if (!reply.error.ok()) {
    inv.Err() << "Error writing data to " << path << ": " << reply.error.message() << "\n";
    return 2;
  }
  if (reply.secret.is_null()) {
    if (!inv.JsonFormat()) inv.Print("Success! Data written to: " + path);
    return 0;
  }
  if (!inv.field().empty()) return KvPrintField(inv, KvRawField(reply.secret, inv.field()));
  return KvOutputSecret(inv, reply.secret);
}

// ---- kv undelete / kv destroy -----------------------------------------------------------------

// kv undelete and kv destroy: a write of {"versions": [...]} to <mount>/<prefix>/<path>. With
// -mount, kv undelete takes the flag's value itself as the mount path and leaves the argument
// relative to it, where kv destroy (as the other kv commands) uses the mount the preflight
// names.
int VersionsCommand(Invocation& inv, const char* prefix, const std::string& refusal) {
  const std::string verb = prefix;
  std::vector<std::string> versions;
  std::string mount;
  inv.flags().StringList("versions", &versions,
                         "The versions to " + verb + ", comma-separated or repeated (required).");
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  if (versions.empty()) {
    return inv.Fail("No versions provided, use the \"-versions\" flag to specify the version to " +
                    verb + ".");
  }
  KvPath kv;
  if (verb == "undelete" && !mount.empty()) {
    kv.partial = SanitizePath(inv.args()[0]);
    if (auto rc = KvPreflight(inv, SanitizePath(mount), &kv.mount)) return *rc;
    kv.mount.path = SanitizePath(mount);
  } else if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) {
    return *rc;
  }
  if (!kv.mount.v2) return inv.Fail(refusal);
  std::string path = kv.Full(prefix);
  KvReply reply =
      KvRequest(inv, KvCall::kWrite, "PUT", path, Json{{"versions", ParseKvVersions(versions)}});
  return ReportWrite(inv, path, reply);
}

int CmdKvUndelete(Invocation& inv) {
  return VersionsCommand(inv, "undelete", "Undelete not supported on KV Version 1");
}

int CmdKvDestroy(Invocation& inv) {
  return VersionsCommand(inv, "destroy", "Destroy not supported on KV Version 1");
}

// ---- kv metadata ------------------------------------------------------------------------------

int CmdKvMetadataGet(Invocation& inv) {
  std::string mount;
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) return *rc;
  if (!kv.mount.v2) return inv.Fail("Metadata not supported on KV Version 1");
  std::string path = kv.Full("metadata");

  KvReply reply = KvRequest(inv, KvCall::kRead, "GET", path);
  if (!reply.error.ok()) {
    inv.Err() << "Error reading " << path << ": " << reply.error.message() << "\n";
    return 2;
  }
  Json secret = reply.secret;
  if (secret.is_null()) {
    inv.Err() << "No value found at " << path << "\n";
    return 2;
  }
  if (!inv.field().empty()) return KvPrintField(inv, KvRawField(secret, inv.field()));
  if (!JsonField(secret, "wrap_info").is_null() || inv.JsonFormat()) {
    return KvOutputSecret(inv, secret);
  }
  const Json& versions = JsonField(JsonField(secret, "data"), "versions");
  if (!versions.is_object()) {
    inv.Err() << "No value found at " << path << "\n";
    KvOutputSecret(inv, secret);
    return 2;
  }
  std::map<int64_t, Json> by_number;
  for (const auto& [key, value] : versions.items()) {
    auto number = JsonInt(Json(key));
    if (!number.has_value()) {
      inv.Err() << "Error parsing version " << key << "\n";
      return 2;
    }
    by_number[*number] = value;
  }
  secret["data"].erase("versions");

  PrintPathTitle(inv, path, "Metadata Path");
  inv.Print(HeaderForMap("Metadata", secret["data"]));
  KvOutputSecret(inv, secret);
  for (const auto& [number, value] : by_number) {
    inv.Print("\n" + HeaderForMap("Version " + std::to_string(number), value));
    PrintMapTable(inv, value);
  }
  return 0;
}

// The flags kv metadata put and patch share, and the body they give.
struct MetadataFlags {
  int64_t max_versions = -1;
  bool cas_required = false;
  std::string delete_version_after;
  std::map<std::string, std::string> custom_metadata;
  std::string mount;

  void Register(Invocation& inv) {
    inv.flags().Int("max-versions", &max_versions,
                    "The number of versions to keep (-1: the mount's setting).");
    inv.flags().Bool("cas-required", &cas_required,
                     "Require check-and-set on every write of the key (false: the mount's "
                     "setting).");
    inv.flags().String("delete-version-after", &delete_version_after,
                       "How long a version lives before it is deleted (\"30s\", \"3h25m19s\"; "
                       "unset: the mount's setting).");
    inv.flags().Map("custom-metadata", &custom_metadata,
                    "A key=value of version-agnostic metadata about the secret (repeatable).");
    inv.flags().String("mount", &mount, kKvMountUsage);
  }

  // The body members the flags set: max_versions (>= 0), cas_required (when given),
  // delete_version_after (when given and not negative, as a Go duration; "system" is -1),
  // custom_metadata (when not empty). Returns the exit code of a bad duration.
  std::optional<int> Fill(Invocation& inv, Json* body) const {
    if (max_versions >= 0) (*body)["max_versions"] = max_versions;
    if (inv.flags().IsSet("cas-required")) (*body)["cas_required"] = cas_required;
    if (inv.flags().IsSet("delete-version-after")) {
      std::string value = Trim(delete_version_after);
      auto seconds = ParseDurationSeconds(value == "system" ? "-1" : value);
      if (!seconds.ok()) {
        return inv.UsageError("invalid value \"" + delete_version_after +
                              "\" for flag -delete-version-after: " + seconds.status().message());
      }
      if (*seconds >= 0) (*body)["delete_version_after"] = FormatGoDuration(*seconds);
    }
    if (!custom_metadata.empty()) (*body)["custom_metadata"] = custom_metadata;
    return std::nullopt;
  }
};

int CmdKvMetadataPut(Invocation& inv) {
  MetadataFlags flags;
  flags.Register(inv);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, flags.mount, inv.args()[0], &kv)) return *rc;
  if (!kv.mount.v2) return inv.Fail("Metadata not supported on KV Version 1");
  std::string path = kv.Full("metadata");
  Json body = Json::object();
  if (auto rc = flags.Fill(inv, &body)) return *rc;
  return ReportWrite(inv, path, KvRequest(inv, KvCall::kWrite, "PUT", path, body));
}

int CmdKvMetadataPatch(Invocation& inv) {
  MetadataFlags flags;
  std::vector<std::string> remove_custom_metadata;
  flags.Register(inv);
  inv.flags().StringList("remove-custom-metadata", &remove_custom_metadata,
                         "A custom metadata key to remove (repeatable).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, flags.mount, inv.args()[0], &kv)) return *rc;
  if (!kv.mount.v2) return inv.Fail("Metadata not supported on KV Version 1");
  std::string path = kv.Full("metadata");
  Json body = Json::object();
  if (auto rc = flags.Fill(inv, &body)) return *rc;
  // custom_metadata is always sent; a null removes a key (merge patch).
  Json custom = Json::object();
  for (const auto& [key, value] : flags.custom_metadata) custom[key] = value;
  for (const std::string& key : remove_custom_metadata) custom[Trim(key)] = nullptr;
  body["custom_metadata"] = custom;
  return ReportWrite(inv, path,
                     KvRequest(inv, KvCall::kWrite, "PATCH", path, body, {}, kMergePatch));
}

int CmdKvMetadataDelete(Invocation& inv) {
  std::string mount;
  inv.flags().String("mount", &mount, kKvMountUsage);
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  KvPath kv;
  if (auto rc = ResolveKvPath(inv, mount, inv.args()[0], &kv)) return *rc;
  if (!kv.mount.v2) return inv.Fail("Metadata not supported on KV Version 1");
  std::string path = kv.Full("metadata");
  KvReply reply = KvRequest(inv, KvCall::kWrite, "DELETE", path);
  if (!reply.error.ok()) {
    inv.Err() << "Error deleting " << path << ": " << reply.error.message() << "\n";
    if (!reply.secret.is_null()) KvOutputSecret(inv, reply.secret);
    return 2;
  }
  inv.Print("Success! Data deleted (if it existed) at: " + path);
  return 0;
}

// ---- kv enable-versioning ---------------------------------------------------------------------

int CmdKvEnableVersioning(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 1)) return *rc;
  std::string mount = TrimTrailingSlash(SanitizePath(inv.args()[0]));
  auto response = inv.Client().Request("POST", "sys/mounts/" + mount + "/tune",
                                       Json{{"options", {{"version", "2"}}}});
  if (!response.ok()) {
    inv.Err() << "Error tuning secrets engine " << mount << "/: " << response.status().message()
              << "\n";
    return 2;
  }
  inv.Print("Success! Tuned the secrets engine at: " + mount + "/");
  return 0;
}

// ---- help texts -------------------------------------------------------------------------------

constexpr char kPatchHelp[] =
    "  Writes the given keys into the secret at the path, keeping its other keys (KV version 2\n"
    "  mounts only):\n\n"
    "      $ vault kv patch -mount=secret foo bar=baz\n"
    "      $ vault kv patch secret/foo bar=baz\n\n"
    "  The data can come from a file (\"@data.json\") or stdin (\"-\", bar=-) as for kv put.\n"
    "  -cas=N patches only if the current version is N. -remove-data=KEY removes a key.\n\n"
    "  By default an HTTP PATCH is sent; if the server or the token's policy refuses it, the\n"
    "  secret is read, merged locally and written back with check-and-set. -method=patch\n"
    "  allows only the PATCH, -method=rw only the read and write.\n";

constexpr char kRollbackHelp[] =
    "  Writes the data of a previous version as the new current version (KV version 2 mounts\n"
    "  only): with current version 5, rolling back to 2 creates version 6 with 2's data.\n\n"
    "      $ vault kv rollback -mount=secret -version=2 foo\n"
    "      $ vault kv rollback -version=2 secret/foo\n";

constexpr char kUndeleteHelp[] =
    "  Restores deleted versions of a secret, so that kv get returns them again (KV version 2\n"
    "  mounts only):\n\n"
    "      $ vault kv undelete -mount=secret -versions=3 foo\n"
    "      $ vault kv undelete -versions=3 secret/foo\n";

constexpr char kDestroyHelp[] =
    "  Permanently removes the data of the given versions of a secret (KV version 2 mounts\n"
    "  only). Nothing happens if no secret exists at the path.\n\n"
    "      $ vault kv destroy -mount=secret -versions=3 foo\n"
    "      $ vault kv destroy -versions=3 secret/foo\n";

constexpr char kMetadataGetHelp[] =
    "  Prints the metadata of a secret: its settings and every version's times and state (KV\n"
    "  version 2 mounts only). An error if no secret exists at the path.\n\n"
    "      $ vault kv metadata get -mount=secret foo\n"
    "      $ vault kv metadata get secret/foo\n";

constexpr char kMetadataPutHelp[] =
    "  Creates a secret with no data, or changes a secret's settings (KV version 2 mounts\n"
    "  only):\n\n"
    "      $ vault kv metadata put -mount=secret foo\n"
    "      $ vault kv metadata put -mount=secret -max-versions=5 foo\n"
    "      $ vault kv metadata put -mount=secret -delete-version-after=3h25m19s foo\n"
    "      $ vault kv metadata put -mount=secret -cas-required foo\n"
    "      $ vault kv metadata put -mount=secret -custom-metadata=team=ops foo\n";

constexpr char kMetadataPatchHelp[] =
    "  Changes only the given settings of a secret (KV version 2 mounts only); custom metadata\n"
    "  keys are added or replaced one by one, and -remove-custom-metadata=KEY removes one:\n\n"
    "      $ vault kv metadata patch -mount=secret -max-versions=5 foo\n"
    "      $ vault kv metadata patch -mount=secret -remove-custom-metadata=team foo\n";

constexpr char kMetadataDeleteHelp[] =
    "  Deletes every version and the metadata of a secret (KV version 2 mounts only):\n\n"
    "      $ vault kv metadata delete -mount=secret foo\n"
    "      $ vault kv metadata delete secret/foo\n";

constexpr char kEnableVersioningHelp[] =
    "  Upgrades the KV version 1 mount at the path to version 2; its secrets become version 1\n"
    "  of each key. The mount is unavailable while the upgrade runs.\n\n"
    "      $ vault kv enable-versioning secret\n";

}  // namespace

void AppendKv2Commands(std::vector<CommandSpec>* out) {
  out->push_back({"kv patch", "[options] KEY [DATA]",
                  "Sets or updates data in the KV store without overwriting", CmdKvPatch, false,
                  kPatchHelp});
  out->push_back({"kv rollback", "[options] KEY", "Rolls back to a previous version of data",
                  CmdKvRollback, false, kRollbackHelp});
  out->push_back({"kv undelete", "[options] KEY", "Undeletes versions in the KV store",
                  CmdKvUndelete, false, kUndeleteHelp});
  out->push_back({"kv destroy", "[options] KEY",
                  "Permanently removes one or more versions in the KV store", CmdKvDestroy, false,
                  kDestroyHelp});
  out->push_back({"kv enable-versioning", "[options] KEY", "Turns on versioning for a KV store",
                  CmdKvEnableVersioning, false, kEnableVersioningHelp});
  out->push_back({"kv metadata get", "[options] KEY", "Retrieves key metadata from the KV store",
                  CmdKvMetadataGet, false, kMetadataGetHelp});
  out->push_back({"kv metadata put", "[options] KEY",
                  "Sets or updates key settings in the KV store", CmdKvMetadataPut, false,
                  kMetadataPutHelp});
  out->push_back({"kv metadata patch", "[options] KEY", "Patches key settings in the KV store",
                  CmdKvMetadataPatch, false, kMetadataPatchHelp});
  out->push_back({"kv metadata delete", "[options] PATH",
                  "Deletes all versions and metadata for a key in the KV store",
                  CmdKvMetadataDelete, false, kMetadataDeleteHelp});
}

}  // namespace vault::cli
