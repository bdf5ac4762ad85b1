// What the `vault kv` commands (commands_kv.cc, commands_kv2.cc) share, as Vault's CLI does it:
// the preflight that asks which mount and KV version hold a path, the path mapping of version 2
// mounts, requests whose 404 may carry a secret, and the pieces of the kv commands' output
// (section titles, Key/Value maps, raw fields, secrets as JSON).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"

namespace vault::cli {

// The member `key` of an object; null when absent or when `object` is not an object.
const Json& JsonField(const Json& object, std::string_view key);

// ---- paths ------------------------------------------------------------------------------------

// Go's path.Clean: repeated '/' collapsed, "." and ".." resolved lexically, no trailing '/';
// "" -> ".".
std::string GoPathClean(std::string_view path);
// Go's path.Join: the non-empty elements joined with '/', then cleaned; "" when all are empty.
std::string GoPathJoin(const std::vector<std::string_view>& elements);

// Vault's addPrefixToKVPath: the API path of `path` (mount included) on a version 2 mount at
// mount_path, with `prefix` ("data", "metadata", "delete", ...) after the mount:
//   ("secret/app", "secret/", "data") -> "secret/data/app"; ("secret", "secret/", "metadata")
//   -> "secret/metadata". Leading segments of mount_path that path lacks (a namespace) are
// dropped from the mount.
std::string AddPrefixToKvPath(std::string_view path, std::string_view mount_path,
                              std::string_view prefix);

// Vault's kvParseVersionsFlags: every -versions value split on ',' and each piece trimmed.
std::vector<std::string> ParseKvVersions(const std::vector<std::string>& values);

// The usage line of every kv command's -mount flag.
inline constexpr char kKvMountUsage[] =
    "The KV mount; the argument is then the path inside it (\"-mount=secret foo\").";

// ---- preflight --------------------------------------------------------------------------------

// The answer of `GET sys/internal/ui/mounts/<path>`.
struct KvMount {
  std::string path;  // the mount holding the path ("secret/"); "" after a 404
  bool v2 = false;   // data.options.version is "2" (the number 2 is taken too)
};

// Asks the server which mount and KV version hold `path`, without response wrapping. A 404
// means a server without the endpoint: version 1 at mount "". Any other failure prints the
// error and returns exit code 2.
std::optional<int> KvPreflight(Invocation& inv, const std::string& path, KvMount* mount);

// The target of one kv command: "secret/app", or -mount=secret with "app".
struct KvPath {
  KvMount mount;
  // The sanitised argument; with -mount on a version 2 mount, joined after the mount path.
  std::string partial;
  bool mount_flag = false;  // -mount was given

  // The request path: on version 2, AddPrefixToKvPath(partial, mount, prefix); on version 1 the
  // argument itself, after the mount path when -mount was given.
  std::string Full(std::string_view prefix) const;
};

// Sanitises arg, runs the preflight on it (or on the -mount value when mount_flag is not
// empty) and fills *path. Returns the exit code to stop with when the preflight failed.
std::optional<int> ResolveKvPath(Invocation& inv, const std::string& mount_flag,
                                 const std::string& arg, KvPath* path);

// ---- requests ---------------------------------------------------------------------------------

// How Vault's Go client reads a 404 (the one status whose body may be a secret).
enum class KvCall {
  kRead,   // reads and lists: a 404 carrying a secret is a success, any other 404 "nothing"
  kWrite,  // writes, patches, deletes: a 404 carrying a secret is an error returned with it
};

// One request's outcome as Vault's client reports it to a kv command.
struct KvReply {
  // Not OK on a transport failure, an error status (Request()'s message; not for a kRead 404)
  // or a 2xx body that is not a JSON object.
  Status error;
  // The response envelope: a 2xx JSON body, or a 404 body with warnings or a non-empty "data"
  // (a deleted or destroyed KV version 2 version). Null when there is none.
  Json secret;
  int http_status = 0;  // the answer's status; 0 after a transport failure
};

KvReply KvRequest(Invocation& inv, KvCall kind, std::string_view method, const std::string& path,
                  const std::optional<Json>& body = std::nullopt, const QueryParams& query = {},
                  const HttpHeaders& headers = {});

// ---- output -----------------------------------------------------------------------------------

// Vault's padEqualSigns: title centred in '=' for a width: n = width - (len(title) + 2), 4 when
// n <= 0, one more when odd, n/2 on each side ("= Secret Path =").
std::string PadEqualSigns(std::string_view title, size_t width);
// A section title for a map's table: padded to its longest key + 9 (the key column, the 4-space
// gap and "Value"): "==== Data ====".
std::string HeaderForMap(std::string_view title, const Json& map);

// The path block of kv get/put/patch and kv metadata get: the title padded to the path's
// length, the path, a blank line.
void PrintPathTitle(Invocation& inv, const std::string& path, std::string_view title);
// Vault's OutputData for a map in table format: the Key/Value table of its members sorted,
// TTL-like keys as durations; nothing for an empty map or a non-object.
void PrintMapTable(Invocation& inv, const Json& map);
// Vault's OutputSecret: with -format=json the secret as FormatSecretJson; otherwise its warnings
// on stderr, then its Key/Value table (nothing when the table has no rows). Returns 0.
int KvOutputSecret(Invocation& inv, const Json& secret);

// The output of kv put and kv patch for the answer of their write: without a secret, "Success!
// Data written to: <path>" (not with -format=json); with -field, that field (KvRawField); with
// -format=json or a wrapped answer, KvOutputSecret; otherwise the path block ("Secret Path") and
// the "Metadata" table of the secret's data. Returns the exit code.
int PrintKvWritten(Invocation& inv, const std::string& path, const Json& secret);

// Vault's RawField: the value -field=name picks from a secret: wrapping_* from wrap_info,
// lease_id, lease_duration, request_id, renewable, refresh_interval, "data" (data.data when
// present, else data), or the data member of that name. Null when there is none.
Json KvRawField(const Json& secret, const std::string& name);
// Vault's PrintRawField for a value: null -> "Field \"<name>\" not present in secret" and 1;
// otherwise the value raw (Go's %v; pretty JSON with -format=json), a newline only on a
// terminal. Returns the exit code.
int KvPrintField(Invocation& inv, const Json& value);

}  // namespace vault::cli
