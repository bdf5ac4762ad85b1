// The engine contract: what a secrets engine sees of a request and returns. Engines include only
// this module (and util); they never see core/, barrier/, storage/ or http/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"
#include "util/status.h"
#include "util/task.h"

namespace vault::logical {

// kPatch is HTTP PATCH with a JSON merge patch (RFC 7396) body (KV version 2's data/ and
// metadata/). kRenew/kRevoke come from the expiration manager with Request::secret set (never
// from HTTP); kRollback asks the engine to undo leftover write-ahead entries (see logical/wal.h).
enum class Operation {
  kRead,
  kCreate,
  kUpdate,
  kPatch,
  kDelete,
  kList,
  kHelp,
  kRenew,
  kRevoke,
  kRollback
};
const char* OperationName(Operation op);

// An engine's view of storage: already encrypted by the barrier and confined to the engine's own
// prefix. Same semantics as storage::Backend (List returns immediate children), and awaitable in
// the same way: the engine awaits, the storage below decides how it waits, and the engine resumes
// where it awaited. string_view parameters must stay valid until the task completes.
// Thread safety: all methods may be called concurrently.
class Storage {
 public:
  virtual ~Storage() = default;
  virtual Task<Result<std::optional<std::string>>> Get(std::string_view key) = 0;
  virtual Task<Status> Put(std::string_view key, std::string_view value) = 0;
  virtual Task<Status> Delete(std::string_view key) = 0;
  virtual Task<Result<std::vector<std::string>>> List(std::string_view prefix) = 0;
};

// A view of `inner` under `prefix` (which normally ends in '/'). Does not own inner.
class PrefixStorage : public Storage {
 public:
  PrefixStorage(Storage* inner, std::string prefix) : inner_(inner), prefix_(std::move(prefix)) {}
  Task<Result<std::optional<std::string>>> Get(std::string_view key) override;
  Task<Status> Put(std::string_view key, std::string_view value) override;
  Task<Status> Delete(std::string_view key) override;
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override;
  const std::string& prefix() const { return prefix_; }

 private:
  Storage* inner_;
  std::string prefix_;
};

// Reads a JSON document stored at key; nullopt if absent, kInternal if corrupt.
Task<Result<std::optional<Json>>> GetJson(Storage* s, std::string_view key);
Task<Status> PutJson(Storage* s, std::string_view key, const Json& value);

// What the mount tells its engine: effective TTLs (seconds) after mount tuning and system defaults.
struct MountInfo {
  std::string path;  // e.g. "secret/"
  std::string type;  // e.g. "kv"
  int64_t default_lease_ttl = 0;
  int64_t max_lease_ttl = 0;
  std::string uuid;  // the mount's identity: stays the same when the mount moves or is tuned
  Json options = Json::object();  // the mount's options, string values ({"version": "2"})
};

// The lease a renew or revoke operation is about, as the expiration manager stored it.
struct LeaseSecret {
  std::string lease_id;
  Json internal_data = Json::object();  // SecretSpec::internal_data as the engine returned it
  int64_t issue_time = 0;               // unix seconds
  int64_t ttl = 0;                      // the current TTL in seconds
  int64_t increment = 0;                // renew: requested increment in seconds (0 = none)
};

// A lease core has already persisted for a secret (see LeaseRegistrar).
struct RegisteredLease {
  std::string lease_id;
  int64_t lease_duration = 0;  // seconds granted
  int64_t expire_time_ms = 0;  // when it ends (unix ms): the answer reports the time left then
  std::vector<std::string> warnings;
};

struct SecretSpec;

// The token an auth method's role (or user) asks for: Vault's token_* fields (see
// logical/token_fields.h). Durations in seconds; 0 = unset (the mount's value applies).
struct TokenParams {
  std::vector<std::string> policies;     // token_policies ("default" is added unless
                                         // no_default_policy)
  std::vector<std::string> bound_cidrs;  // token_bound_cidrs: where the token may be used from
  int64_t ttl = 0;
  int64_t max_ttl = 0;
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  int64_t num_uses = 0;
  bool no_default_policy = false;
  std::string type = "default";  // "default" or "service" (batch tokens are refused)
  // Legacy names ("policies", "ttl", "period"...) this role was last written with: reads echo
  // them as Vault does.
  std::vector<std::string> legacy;
};

// What a successful login established (Vault's logical.Auth): core turns it into a token.
struct LoginAuth {
  TokenParams token;
  std::string display_name;             // e.g. the user name; core prefixes the mount path
  std::string alias_name;               // who logged in, as the method names it (role id, user)
  Json metadata = Json::object();       // string values; copied to the token
  Json internal_data = Json::object();  // kept with the token, handed back at renewal
  bool renewable = true;
};

// Lets an engine persist the lease of the secret it is about to return while it still waits on
// the outside world (the last AWS calls of an issue), so that the answer does not wait for the
// lease write. Set by core on the requests it routes; null when an engine is called directly.
// The engine returns the secret with SecretSpec::registered set to what Register returned. A
// lease registered here whose secret the request does not return (the engine failed afterwards)
// is revoked through the engine before the request is answered, so the engine need not undo
// what the lease covers. Thread safety: Register may be called from any thread; `spec` must stay
// valid until its task completes.
class LeaseRegistrar {
 public:
  virtual ~LeaseRegistrar() = default;
  // Persists the lease for `spec` (its wal_ids deleted in the same batch) and arms its timer. The
  // TTL counts from now; if the answer comes more than a second (or 1 % of the TTL) later, core
  // moves the lease to start with the answer. The lease is left alone by its timer and by
  // revocations until the request ends.
  virtual Task<Result<RegisteredLease>> Register(const SecretSpec& spec) = 0;
};

// Runs CPU-heavy work (a password hash takes tens of milliseconds) where it does not hold up the
// other requests of the thread that serves this one. Set by core; when null, engines run the work
// inline. Thread safety: Run may be called from any thread.
class CpuWork {
 public:
  virtual ~CpuWork() = default;
  // Runs fn and resumes the caller where it awaited (its event loop, when it has one).
  virtual Task<std::string> Run(std::function<std::string()> fn) = 0;
};

struct Request {
  Operation operation = Operation::kRead;
  std::string path;  // relative to the mount, no leading '/'
  Json data = Json::object();
  std::string client_token;  // secret: never log or echo
  std::string remote_address;
  MountInfo mount;
  Storage* storage = nullptr;         // the engine's own view; set by core
  std::optional<LeaseSecret> secret;  // set for kRenew and kRevoke
  std::string display_name;           // the token's display name (username templates)
  // Set by the HTTP layer, which renders `data` as JSON text anyway: an engine holding the data
  // already serialized (a KV read of a stored document) may return it in Response::data_json
  // instead of parsing it into Response::data. Direct callers (tests, core's own calls) leave it
  // false and always get `data`.
  bool accepts_data_json = false;
  // Set by core (see LeaseRegistrar); null otherwise. Not owned.
  LeaseRegistrar* leases = nullptr;
  // Set by core (see CpuWork); null otherwise. Not owned.
  CpuWork* cpu = nullptr;
  // X-Vault-Wrap-TTL (seconds; 0 = no wrapping): the HTTP layer wraps the answer; set here so
  // that sys/wrapping/wrap can insist on it.
  int64_t wrap_ttl = 0;
  // kRenew of a token an auth method issued: what the login established (its internal_data,
  // metadata, policies as the token has them). The method answers Response::login with the
  // token fields that apply now, or an error when the token may not be renewed.
  std::optional<LoginAuth> auth;
};

// The lease an engine asks for when it returns a secret (consumed by expiration in core/).
struct SecretSpec {
  int64_t ttl = 0;      // seconds; 0 = mount/system default
  int64_t max_ttl = 0;  // seconds; 0 = mount/system max
  bool renewable = true;
  Json internal_data = Json::object();  // kept with the lease for revoke/renew; never returned
  // Write-ahead entries (logical/wal.h ids) that this secret completes. Core deletes them in the
  // same atomic storage batch that persists the lease, so a crash leaves either the WAL entry
  // (rolled back at startup) or the lease (revoked at expiry), never neither.
  std::vector<std::string> wal_ids;
  // Set when the engine registered the lease itself through Request::leases (with this spec):
  // core then reports that lease instead of registering one.
  std::optional<RegisteredLease> registered;
};

struct Response {
  Json data;  // null or an object
  // Only when Request::accepts_data_json: `data` as one serialized JSON object, rendered into the
  // envelope verbatim (`data` stays null). Audit devices parse it to hash its values.
  std::string data_json;
  std::vector<std::string> warnings;
  std::optional<SecretSpec> secret;
  // For data without a lease (KV): the TTL hint reported as lease_duration. For leased secrets
  // core sets it to the granted TTL.
  int64_t lease_duration = 0;
  // Set by core when it registered a lease for `secret` (engines leave it empty).
  std::string lease_id;
  // Set for help operations: rendered as {"help": ..., "see_also": null}.
  std::optional<std::string> help;
  // Vault's "auth" block, set when a request mints or renews a token (auth/token/create,
  // renew): client_token, accessor, policies, lease_duration, renewable... Null otherwise.
  Json auth;
  // Set by an auth method's login (and its answer to a token renewal): core creates the token
  // and answers `auth`. Never rendered itself.
  std::optional<LoginAuth> login;
  // Response wrapping (core's sys/wrapping/*): a wrap_info block answered as is, or a whole
  // stored answer returned verbatim as the HTTP body (unwrap).
  Json wrap_info;
  std::optional<std::string> raw_body;
  // The HTTP status of an answer that carries a body but is not a success (0 = 200): KV version
  // 2 answers a deleted version's read with 404 and the version's metadata, as Vault does.
  int http_status = 0;

  // True when the response carries nothing (HTTP 204 for writes, 404 for reads).
  bool Empty() const {
    return data.is_null() && data_json.empty() && warnings.empty() && !secret && !help &&
           lease_duration == 0 && auth.is_null() && !login && wrap_info.is_null() && !raw_body;
  }
  static Response WithData(Json d) {
    Response r;
    r.data = std::move(d);
    return r;
  }
};

// A mounted engine. Thread safety: both entry points are called concurrently from many threads.
class Backend {
 public:
  virtual ~Backend() = default;
  // Handles one request. An empty Response means 204 (writes) or 404 (reads/lists).
  // Errors: kInvalidArgument 400, kNotFound 404 ("unsupported path"), kUnsupportedOperation 405.
  // Engines that never wait on the network implement only this.
  virtual Result<Response> HandleRequest(Request& req) = 0;
  // The entry point core uses. Engines that call out (AWS) override it and must not block the
  // calling thread while waiting. `req` outlives the task. Default: runs HandleRequest inline.
  virtual Task<Result<Response>> HandleRequestAsync(Request& req) { co_return HandleRequest(req); }
  // Paths (Vault glob syntax: a trailing '*' matches any suffix) that need sudo/root.
  virtual std::vector<std::string> RootPaths() const { return {}; }
  // Auth methods: paths (same glob syntax) served without a token, such as "login".
  virtual std::vector<std::string> UnauthenticatedPaths() const { return {}; }
  // Whether the object a PUT/POST targets exists (decides create vs update for ACLs).
  // nullopt when the path has no existence check (then the operation is update).
  virtual Task<Result<std::optional<bool>>> ExistenceCheck(Request& req) {
    co_return std::optional<bool>();
  }
};

}  // namespace vault::logical
