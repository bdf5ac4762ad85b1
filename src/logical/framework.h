// The path framework engines are built with: an engine declares its paths (Vault-style regex
// patterns with (?P<name>...) captures), typed fields with defaults, the operations each path
// supports and help text. The framework matches the path, validates and weakly decodes input
// (strings to ints/bools as the CLI sends everything as strings), answers 404 for unknown
// paths and 405 for unsupported operations, and renders path-help for the root and every path.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "logical/logical.h"
#include "logical/wal.h"
#include "util/clock.h"

namespace vault::logical {

enum class FieldType {
  kString,
  kInt,
  kBool,
  kDurationSecond,        // int seconds or a Go duration string; stored as seconds
  kSignedDurationSecond,  // the same, negative values allowed (JWT roles' leeways: -1 = none)
  kMap,                   // JSON object
  kStringSlice,           // JSON array of strings, or one string
  kCommaStringSlice,      // JSON array, or a comma-separated string
  kKvPairs,               // map, or ["k=v", ...] / "k=v,k2=v2"
};
const char* FieldTypeName(FieldType t);

struct Field {
  std::string name;
  FieldType type = FieldType::kString;
  std::string description;
  Json default_value;  // null = the type's zero value
  bool required = false;
};

// Validated request data for one path: the request body/query plus the path's captures.
class FieldData {
 public:
  FieldData(const std::vector<Field>* schema, Json raw) : schema_(schema), raw_(std::move(raw)) {}
  // Decodes every field present in the input; the first failure is a kInvalidArgument.
  Status Validate() const;
  // True if the field was supplied (and not JSON null).
  bool Has(const std::string& name) const;
  // The decoded value, or the default when absent. Only call for declared fields after Validate.
  Json Get(const std::string& name) const;
  std::string GetString(const std::string& name) const;
  int64_t GetInt(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  std::vector<std::string> GetStrings(const std::string& name) const;
  const Json& raw() const { return raw_; }

 private:
  const Field* Find(const std::string& name) const;
  const std::vector<Field>* schema_;
  Json raw_;
};

// The text every match of an ECMAScript `pattern` (matched whole) starts with: its leading
// characters up to the first regex operator, less the last one when a quantifier follows it
// ("roles/?" -> "role"); empty when the pattern has an alternation outside groups. Paths that do
// not start with it are not run through the regex.
std::string RegexLiteralPrefix(std::string_view pattern);

// Weakly decodes one input value to a field type (as Vault's framework does).
Result<Json> DecodeField(const Field& f, const Json& in);

// For operations that need neither storage nor the network (validation, rendering).
using OperationHandler = std::function<Result<Response>(Request&, const FieldData&)>;
// For operations that await storage or the network. Both arguments outlive the task.
using AsyncOperationHandler = std::function<Task<Result<Response>>(Request&, const FieldData&)>;

struct Path {
  std::string pattern;  // e.g. "roles/(?P<name>\\w(([\\w-.@]+)?\\w)?)"; anchored implicitly
  std::vector<Field> fields;
  std::map<Operation, OperationHandler> operations;
  std::map<Operation, AsyncOperationHandler> async_operations;  // checked before `operations`
  // Decides create vs update for PUT/POST; absent = always update.
  std::function<Task<Result<bool>>(Request&, const FieldData&)> existence_check;
  std::string synopsis;
  std::string description;
};

// A kind of leased secret an engine hands out. The framework tags SecretSpec::internal_data with
// "secret_type" and routes kRenew/kRevoke for a lease to its type's handlers. A type without a
// renew handler is not renewable; one without a revoke handler needs no cleanup.
struct SecretType {
  std::string type;
  std::function<Task<Result<Response>>(Request&)> renew;
  std::function<Task<Result<Response>>(Request&)> revoke;
};

// How the engine undoes a leftover write-ahead entry. Entries of this process younger than
// min_age_seconds are left alone (their request may still be running); kRollback with data
// {"min_age": 0} overrides. Entries of an earlier process (a crash) are rolled back at once, but
// kept (and rolled back again at later passes; rollback must be idempotent) until min age, in
// case an outside call the dead process had sent lands late.
struct WalRollback {
  std::function<Task<Status>(Request&, const WalEntry&)> rollback;
  int64_t min_age_seconds = 60;
};

// Work an engine does on every kRollback pass after its WAL entries (Vault's PeriodicFunc), e.g.
// rotating credentials that are due. Core sends kRollback every rollback interval and at
// unseal, without waiting for the previous pass: the function must tolerate overlapping calls.
// A failure is counted in the rollback response ("failed", "errors").
using PeriodicFunc = std::function<Task<Status>(Request&)>;

class FrameworkBackend : public Backend {
 public:
  FrameworkBackend(std::string help, std::vector<Path> paths,
                   std::vector<std::string> root_paths = {});
  // Blocks until HandleRequestAsync completes: for engines without async operations and tests.
  Result<Response> HandleRequest(Request& req) override;
  Task<Result<Response>> HandleRequestAsync(Request& req) override;
  void SetSecretTypes(std::vector<SecretType> types) { secret_types_ = std::move(types); }
  void SetWalRollback(WalRollback rb) { wal_rollback_ = std::move(rb); }
  void SetPeriodic(PeriodicFunc fn) { periodic_ = std::move(fn); }
  void SetClock(Clock* clock) { clock_ = clock; }
  // Auth methods: the paths served without a token, and the handler of a token renewal
  // (Request::auth set; answers Response::login or an error).
  void SetUnauthenticatedPaths(std::vector<std::string> paths) { unauth_paths_ = std::move(paths); }
  void SetAuthRenew(std::function<Task<Result<Response>>(Request&)> fn) {
    auth_renew_ = std::move(fn);
  }
  std::vector<std::string> RootPaths() const override { return root_paths_; }
  std::vector<std::string> UnauthenticatedPaths() const override { return unauth_paths_; }
  Task<Result<std::optional<bool>>> ExistenceCheck(Request& req) override;

  // Rendered help for the engine root (path "") or a path.
  std::string RootHelp() const;

 private:
  struct Compiled {
    Path path;
    std::regex re;
    std::vector<std::string> captures;
    bool any = false;    // the pattern is ".*": matches every path without a line break
    std::string prefix;  // RegexLiteralPrefix of the pattern
  };
  const Compiled* Match(const std::string& path, Json* captures) const;
  std::string PathHelp(const Compiled& c, const std::string& request_path) const;

  Task<Result<Response>> HandleSecret(Request& req);
  Task<Result<Response>> HandleRollback(Request& req);

  std::string help_;
  std::vector<Compiled> paths_;
  std::vector<SecretType> secret_types_;
  std::optional<WalRollback> wal_rollback_;
  std::atomic<bool> rollback_running_{false};
  static constexpr size_t kRollbackConcurrency = 16;
  PeriodicFunc periodic_;
  Clock* clock_ = SystemClock::Get();
  std::vector<std::string> root_paths_;
  std::vector<std::string> unauth_paths_;
  std::function<Task<Result<Response>>(Request&)> auth_renew_;
};

}  // namespace vault::logical
