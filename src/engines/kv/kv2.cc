// KV version 2: every write of a key is a new version; versions are soft-deleted, undeleted and
// destroyed; key metadata (max_versions, cas_required, delete_version_after, custom_metadata)
// and a mount-wide config. Vault's paths, answers and error texts (its kv plugin with
// version = 2).
//
// Storage, inside the mount's view, under P = "<mount uuid>/" (so that a version 1 mount being
// upgraded keeps its old entries beside the new ones until each is moved):
//   P/config               {max_versions, cas_required, delete_version_after}
//   P/upgrading            {started_time, done}: the in-place upgrade from version 1
//   P/metadata/<key>       the key's metadata without its versions (KeyMeta)
//   P/versions/<key>/@<n>  one version: a JSON header line {created_time, deletion_time,
//                          destroyed}, '\n', the data as JSON text (nothing once destroyed)
// A read of the latest version is two point reads whatever the number of versions (the
// metadata does not list them); a metadata read walks the versions it reports. Writers of one
// key are serialized by a striped lock, so two check-and-set writers never both succeed.
#include <algorithm>
#include <array>
#include <atomic>

#include "engines/kv/kv.h"
#include "util/async_mutex.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/strings.h"

namespace vault::engines {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;
using logical::Storage;

constexpr int64_t kDefaultMaxVersions = 10;
constexpr int64_t kNanos = 1000000000;

constexpr char kUpgradingError[] =
    "Upgrading from non-versioned to versioned data. This backend will be unavailable for a "
    "brief period and will resume service shortly.";
constexpr char kRootWarning[] =
    "Non-listing operations on the root of a K/V v2 mount are not supported.";

constexpr char kHelp[] =
    "The kv backend reads and writes arbitrary secrets to the backend, keeping versions of "
    "each.\n\nPaths: data/<path> (read, write, patch, delete the latest version), "
    "delete/<path>, undelete/<path>, destroy/<path> (versions), metadata/<path> (read, list, "
    "write, patch, delete everything), subkeys/<path>, config.";

std::string TimeText(int64_t nanos) { return nanos == 0 ? "" : FormatRfc3339Nano(nanos); }

// ---- stored records ---------------------------------------------------------------------------

struct Config {
  int64_t max_versions = 0;
  bool cas_required = false;
  int64_t delete_version_after = 0;  // seconds; < 0: disabled for every key
};

struct KeyMeta {
  int64_t current = 0;
  int64_t oldest = 0;
  int64_t created = 0;  // unix nanoseconds
  int64_t updated = 0;
  int64_t max_versions = 0;
  bool cas_required = false;
  int64_t delete_version_after = 0;  // seconds
  Json custom = nullptr;             // null, or an object of strings

  Json ToJson() const {
    return {{"current_version", current},
            {"oldest_version", oldest},
            {"created_time", created},
            {"updated_time", updated},
            {"max_versions", max_versions},
            {"cas_required", cas_required},
            {"delete_version_after", delete_version_after},
            {"custom_metadata", custom}};
  }
  static Result<KeyMeta> FromText(const std::string& text) {
    auto j = ParseJson(text);
    if (!j.ok() || !j->is_object()) return Internal("corrupt key metadata");
    KeyMeta m;
    m.current = j->value("current_version", int64_t{0});
    m.oldest = j->value("oldest_version", int64_t{0});
    m.created = j->value("created_time", int64_t{0});
    m.updated = j->value("updated_time", int64_t{0});
    m.max_versions = j->value("max_versions", int64_t{0});
    m.cas_required = j->value("cas_required", false);
    m.delete_version_after = j->value("delete_version_after", int64_t{0});
    if (j->contains("custom_metadata")) m.custom = (*j)["custom_metadata"];
    return m;
  }
  // The first version that may still be stored.
  int64_t First() const { return std::max<int64_t>(oldest, 1); }
};

struct Version {
  int64_t created = 0;
  int64_t deletion = 0;  // 0: not deleted (a future time: deleted from then on)
  bool destroyed = false;
  std::string data;  // JSON object text; empty once destroyed

  std::string Encode() const {
    Json header = {
        {"created_time", created}, {"deletion_time", deletion}, {"destroyed", destroyed}};
    return DumpJson(header) + "\n" + data;
  }
  static Result<Version> Decode(const std::string& text) {
    size_t nl = text.find('\n');
    if (nl == std::string::npos) return Internal("corrupt version record");
    auto h = ParseJson(std::string_view(text).substr(0, nl));
    if (!h.ok() || !h->is_object()) return Internal("corrupt version record");
    Version v;
    v.created = h->value("created_time", int64_t{0});
    v.deletion = h->value("deletion_time", int64_t{0});
    v.destroyed = h->value("destroyed", false);
    v.data = text.substr(nl + 1);
    return v;
  }
  bool DeletedAt(int64_t now) const { return deletion != 0 && deletion <= now; }
};

// ---- input decoding (weak, as Vault's framework decodes) --------------------------------------

std::optional<int64_t> IntFrom(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    std::string s = Trim(v.get<std::string>());
    if (s.empty() || s.size() > 18) return std::nullopt;
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) return std::nullopt;
    int64_t n = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      n = n * 10 + (s[i] - '0');
    }
    return s[0] == '-' ? -n : n;
  }
  return std::nullopt;
}

Result<int64_t> IntField(const Json& data, const char* name) {
  if (!data.contains(name) || data[name].is_null()) return int64_t{0};
  auto n = IntFrom(data[name]);
  if (!n)
    return InvalidArgument(std::string("error converting input for field \"") + name +
                           "\": expected an integer");
  return *n;
}

Result<bool> BoolField(const Json& data, const char* name) {
  const Json& v = data[name];
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    int b = ParseGoBool(v.get<std::string>());
    if (b >= 0) return b == 1;
  }
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  return InvalidArgument(std::string("error converting input for field \"") + name +
                         "\": expected a boolean");
}

// A duration field: seconds as a number or a Go duration string.
Result<int64_t> DurationField(const Json& data, const char* name) {
  const Json& v = data[name];
  if (auto n = IntFrom(v)) return *n;
  if (v.is_string()) {
    auto d = ParseDurationSeconds(v.get<std::string>());
    if (d.ok()) return *d;
  }
  return InvalidArgument(std::string("error converting input for field \"") + name +
                         "\": expected a duration");
}

// `versions`: [1, 2], ["1", "2"], "1,2" or 3 (Vault's comma-separated int slice).
Result<std::vector<int64_t>> VersionsField(const Json& data) {
  std::vector<int64_t> out;
  if (!data.contains("versions") || data["versions"].is_null()) return out;
  const Json& v = data["versions"];
  auto bad = [] {
    return InvalidArgument("error converting input for field \"versions\": expected integers");
  };
  if (v.is_array()) {
    for (const Json& item : v) {
      auto n = IntFrom(item);
      if (!n) return bad();
      out.push_back(*n);
    }
  } else if (v.is_string()) {
    for (const auto& part : Split(v.get<std::string>(), ',')) {
      if (Trim(part).empty()) continue;
      auto n = IntFrom(Json(part));
      if (!n) return bad();
      out.push_back(*n);
    }
  } else if (auto n = IntFrom(v)) {
    out.push_back(*n);
  } else {
    return bad();
  }
  return out;
}

Status ValidateCustomMetadata(const Json& custom) {
  std::vector<std::string> errors;
  if (custom.size() > 64)
    errors.push_back("payload must contain at most 64 keys, provided " +
                     std::to_string(custom.size()));
  auto printable = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return u >= 0x20 && u != 0x7f;
    });
  };
  for (auto& [k, v] : custom.items()) {
    std::string value = v.is_string() ? v.get<std::string>() : "";
    if (k.empty() || k.size() > 128)
      errors.push_back("length of key \"" + k + "\" is " + std::to_string(k.size()) +
                       " but must be 0 < len(key) <= 128");
    if (value.empty() || value.size() > 512)
      errors.push_back("length of value for key \"" + k + "\" is " + std::to_string(value.size()) +
                       " but must be 0 < len(value) <= 512");
    if (!printable(k)) errors.push_back("key \"" + k + "\" contains unprintable characters");
    if (!printable(value))
      errors.push_back("value for key \"" + k + "\" contains unprintable characters");
  }
  if (errors.empty()) return Status::Ok();
  return InvalidArgument("custom_metadata validation failed: " + Join(errors, "; "));
}

// custom_metadata from a request: a map whose values are taken as text.
Result<Json> CustomMetadataField(const Json& v) {
  if (!v.is_object()) return InvalidArgument("custom_metadata must be a map of strings");
  Json out = Json::object();
  for (auto& [k, val] : v.items()) {
    if (val.is_null()) continue;
    if (val.is_string()) {
      out[k] = val;
    } else if (val.is_number() || val.is_boolean()) {
      out[k] = DumpJson(val);
    } else {
      return InvalidArgument("custom_metadata must be a map of strings");
    }
  }
  RETURN_IF_ERROR(ValidateCustomMetadata(out));
  return out;
}

// Subkeys of a document: leaves (and empty maps) become null; depth 0 = unlimited.
Json Subkeys(const Json& data, int64_t depth, int64_t level = 1) {
  Json out = Json::object();
  for (auto& [k, v] : data.items()) {
    if (v.is_object() && !v.empty() && (depth == 0 || level < depth)) {
      out[k] = Subkeys(v, depth, level + 1);
    } else {
      out[k] = nullptr;
    }
  }
  return out;
}

Response NotFoundWithBody(Json data, std::vector<std::string> warnings = {}) {
  Response r;
  r.data = std::move(data);
  r.warnings = std::move(warnings);
  r.http_status = 404;
  return r;
}

Response NotFoundEmpty() {
  Response r;
  r.http_status = 404;
  return r;
}

// ---- the engine -------------------------------------------------------------------------------

class KvV2Backend : public logical::Backend {
 public:
  KvV2Backend(const logical::MountInfo& mount, Clock* clock)
      : prefix_((mount.uuid.empty() ? std::string("versioned") : mount.uuid) + "/"),
        clock_(clock) {}

  Result<Response> HandleRequest(Request& req) override {
    return SyncWait(HandleRequestAsync(req));
  }
  Task<Result<Response>> HandleRequestAsync(Request& req) override;
  Task<Result<std::optional<bool>>> ExistenceCheck(Request& req) override;

 private:
  enum State { kUnknown, kUpgrading, kReady };

  std::string MetaKey(const std::string& key) const { return prefix_ + "metadata/" + key; }
  std::string VersionKey(const std::string& key, int64_t n) const {
    return prefix_ + "versions/" + key + "/@" + std::to_string(n);
  }
  std::string ConfigKey() const { return prefix_ + "config"; }
  std::string UpgradeKey() const { return prefix_ + "upgrading"; }
  AsyncMutex& KeyLock(const std::string& key) {
    return key_locks_[std::hash<std::string>()(key) % key_locks_.size()];
  }
  int64_t Now() const { return clock_->NowNanos(); }

  Task<Status> EnsureReady(Storage* s);
  Task<Status> Upgrade(Storage* s);
  Task<Result<Config>> LoadConfig(Storage* s);
  Task<Result<std::optional<KeyMeta>>> LoadMeta(Storage* s, std::string key);
  Task<Result<std::optional<Version>>> LoadVersion(Storage* s, std::string key, int64_t n);
  Task<Status> StoreMeta(Storage* s, std::string key, KeyMeta meta);
  Task<Status> StoreVersion(Storage* s, std::string key, int64_t n, Version v);

  Task<Result<Response>> ReadData(Request& r, std::string key, bool subkeys);
  Task<Result<Response>> WriteData(Request& r, std::string key, bool patch);
  Task<Result<Response>> DeleteLatest(Request& r, std::string key);
  Task<Result<Response>> ChangeVersions(Request& r, std::string key, std::string action);
  Task<Result<Response>> ReadMetadata(Request& r, std::string key);
  Task<Result<Response>> ListMetadata(Request& r, std::string dir);
  Task<Result<Response>> WriteMetadata(Request& r, std::string key, bool patch);
  Task<Result<Response>> DeleteMetadata(Request& r, std::string key);
  Task<Result<Response>> Configure(Request& r);

  // The deletion time a version written (or undeleted) at `now` gets; 0 = none.
  static int64_t DeletionTime(const Config& c, const KeyMeta& m, int64_t now) {
    if (c.delete_version_after < 0) return 0;
    int64_t after = 0;
    for (int64_t d : {c.delete_version_after, m.delete_version_after}) {
      if (d > 0 && (after == 0 || d < after)) after = d;
    }
    return after == 0 ? 0 : now + after * kNanos;
  }
  static Json VersionMetadata(const KeyMeta& m, const Version& v, int64_t n) {
    return {{"created_time", TimeText(v.created)},
            {"custom_metadata", m.custom},
            {"deletion_time", TimeText(v.deletion)},
            {"destroyed", v.destroyed},
            {"version", n}};
  }

  const std::string prefix_;
  Clock* clock_;
  std::atomic<int> state_{kUnknown};
  AsyncMutex upgrade_mu_;
  AsyncMutex config_mu_;  // orders config writes (each a read-modify-write)
  std::array<AsyncMutex, 256> key_locks_;
};

Task<Result<Config>> KvV2Backend::LoadConfig(Storage* s) {
  std::string k = ConfigKey();
  CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(s, k));
  Config c;
  if (j && j->is_object()) {
    c.max_versions = j->value("max_versions", int64_t{0});
    c.cas_required = j->value("cas_required", false);
    c.delete_version_after = j->value("delete_version_after", int64_t{0});
  }
  co_return c;
}

Task<Result<std::optional<KeyMeta>>> KvV2Backend::LoadMeta(Storage* s, std::string key) {
  std::string k = MetaKey(key);
  CO_ASSIGN_OR_RETURN(auto raw, co_await s->Get(k));
  if (!raw) co_return std::optional<KeyMeta>();
  CO_ASSIGN_OR_RETURN(KeyMeta m, KeyMeta::FromText(*raw));
  co_return std::optional<KeyMeta>(std::move(m));
}

Task<Result<std::optional<Version>>> KvV2Backend::LoadVersion(Storage* s, std::string key,
                                                              int64_t n) {
  std::string k = VersionKey(key, n);
  CO_ASSIGN_OR_RETURN(auto raw, co_await s->Get(k));
  if (!raw) co_return std::optional<Version>();
  CO_ASSIGN_OR_RETURN(Version v, Version::Decode(*raw));
  co_return std::optional<Version>(std::move(v));
}

Task<Status> KvV2Backend::StoreMeta(Storage* s, std::string key, KeyMeta meta) {
  std::string k = MetaKey(key);
  std::string text = DumpJson(meta.ToJson());
  Status st = co_await s->Put(k, text);
  co_return st;
}

Task<Status> KvV2Backend::StoreVersion(Storage* s, std::string key, int64_t n, Version v) {
  std::string k = VersionKey(key, n);
  std::string text = v.Encode();
  Status st = co_await s->Put(k, text);
  co_return st;
}

// A new mount is ready once it has said so; a version 1 mount tuned to version 2 first moves
// every entry to version 1 of its key. Requests that come meanwhile are refused (Vault's text).
Task<Status> KvV2Backend::EnsureReady(Storage* s) {
  if (state_.load(std::memory_order_acquire) == kReady) co_return Status::Ok();
  if (state_.load() == kUpgrading) co_return InvalidArgument(kUpgradingError);
  AsyncMutex::Guard g = co_await upgrade_mu_.Lock();
  if (state_.load() == kReady) co_return Status::Ok();
  std::string k = UpgradeKey();
  CO_ASSIGN_OR_RETURN(auto marker, co_await logical::GetJson(s, k));
  if (!marker || !marker->value("done", false)) {
    state_ = kUpgrading;
    Status st = co_await Upgrade(s);
    if (!st.ok()) {
      state_ = kUnknown;
      co_return st;
    }
  }
  state_.store(kReady, std::memory_order_release);
  co_return Status::Ok();
}

Task<Status> KvV2Backend::Upgrade(Storage* s) {
  std::string marker_key = UpgradeKey();
  int64_t started = Now();
  Json marker = {{"started_time", started}, {"done", false}};
  CO_RETURN_IF_ERROR(co_await logical::PutJson(s, marker_key, marker));
  // Depth-first over the version 1 entries (everything outside P/).
  std::vector<std::string> dirs = {""};
  while (!dirs.empty()) {
    std::string dir = std::move(dirs.back());
    dirs.pop_back();
    CO_ASSIGN_OR_RETURN(auto children, co_await s->List(dir));
    for (const auto& c : children) {
      std::string path = dir + c;
      if (path == prefix_) continue;
      if (!c.empty() && c.back() == '/') {
        dirs.push_back(path);
        continue;
      }
      CO_ASSIGN_OR_RETURN(auto raw, co_await s->Get(path));
      if (!raw) continue;
      int64_t now = Now();
      Version v;
      v.created = now;
      v.data = *raw;
      KeyMeta m;
      m.current = 1;
      m.created = now;
      m.updated = now;
      CO_RETURN_IF_ERROR(co_await StoreVersion(s, path, 1, v));
      CO_RETURN_IF_ERROR(co_await StoreMeta(s, path, m));
      CO_RETURN_IF_ERROR(co_await s->Delete(path));
    }
  }
  marker["done"] = true;
  Status st = co_await logical::PutJson(s, marker_key, marker);
  co_return st;
}

Task<Result<std::optional<bool>>> KvV2Backend::ExistenceCheck(Request& req) {
  CO_RETURN_IF_ERROR(co_await EnsureReady(req.storage));
  std::string_view p = req.path;
  for (std::string_view section : {"data/", "metadata/"}) {
    if (p.substr(0, section.size()) == section && p.size() > section.size()) {
      std::string key(p.substr(section.size()));
      CO_ASSIGN_OR_RETURN(auto meta, co_await LoadMeta(req.storage, key));
      co_return std::optional<bool>(meta.has_value());
    }
  }
  if (p == "config") co_return std::optional<bool>(true);
  co_return std::optional<bool>();
}

Task<Result<Response>> KvV2Backend::HandleRequestAsync(Request& r) {
  if (r.operation == Operation::kRollback) co_return Response();
  if (r.operation == Operation::kRenew || r.operation == Operation::kRevoke)
    co_return UnsupportedOperation();
  if (r.operation == Operation::kHelp) {
    Response h;
    h.help = kHelp;
    co_return h;
  }
  CO_RETURN_IF_ERROR(co_await EnsureReady(r.storage));
  const Operation op = r.operation;
  const bool write = op == Operation::kCreate || op == Operation::kUpdate;
  std::string_view path = r.path;
  size_t slash = path.find('/');
  std::string section(path.substr(0, slash));
  std::string rest = slash == std::string_view::npos ? "" : std::string(path.substr(slash + 1));
  const bool has_key = !rest.empty() && rest.back() != '/';

  if (section == "config" && slash == std::string_view::npos) {
    if (op == Operation::kRead) {
      CO_ASSIGN_OR_RETURN(Config c, co_await LoadConfig(r.storage));
      co_return Response::WithData(
          {{"max_versions", c.max_versions},
           {"cas_required", c.cas_required},
           {"delete_version_after", FormatGoDuration(c.delete_version_after)}});
    }
    if (write) co_return co_await Configure(r);
    co_return UnsupportedOperation();
  }
  if (section == "data" && has_key) {
    if (op == Operation::kRead) co_return co_await ReadData(r, rest, false);
    if (write) co_return co_await WriteData(r, rest, false);
    if (op == Operation::kPatch) co_return co_await WriteData(r, rest, true);
    if (op == Operation::kDelete) co_return co_await DeleteLatest(r, rest);
    co_return UnsupportedOperation();
  }
  if (section == "subkeys" && has_key) {
    if (op == Operation::kRead) co_return co_await ReadData(r, rest, true);
    co_return UnsupportedOperation();
  }
  if ((section == "delete" || section == "undelete" || section == "destroy") && has_key) {
    if (write) co_return co_await ChangeVersions(r, rest, section);
    co_return UnsupportedOperation();
  }
  if (section == "metadata" && slash != std::string_view::npos) {
    if (op == Operation::kList) co_return co_await ListMetadata(r, rest);
    if (has_key) {
      if (op == Operation::kRead) co_return co_await ReadMetadata(r, rest);
      if (write) co_return co_await WriteMetadata(r, rest, false);
      if (op == Operation::kPatch) co_return co_await WriteMetadata(r, rest, true);
      if (op == Operation::kDelete) co_return co_await DeleteMetadata(r, rest);
      co_return UnsupportedOperation();
    }
  }
  // The roots of the sections, and anything else (a version 1 path such as "app/db").
  static const char* const kSections[] = {"data",     "metadata", "delete",
                                          "undelete", "destroy",  "subkeys"};
  bool root = rest.empty() &&
              std::find_if(std::begin(kSections), std::end(kSections),
                           [&](const char* s) { return section == s; }) != std::end(kSections);
  if (root) co_return NotFoundWithBody(nullptr, {kRootWarning});
  std::string sub = op == Operation::kRead     ? "get"
                    : op == Operation::kList   ? "list"
                    : op == Operation::kDelete ? "delete"
                    : op == Operation::kPatch  ? "patch"
                                               : "put";
  co_return NotFoundWithBody(
      nullptr, {"Invalid path for a versioned K/V secrets engine. See the API docs for the "
                "appropriate API endpoints to use. If using the Vault CLI, use 'vault kv " +
                sub + "' for this operation."});
}

Task<Result<Response>> KvV2Backend::ReadData(Request& r, std::string key, bool subkeys) {
  CO_ASSIGN_OR_RETURN(int64_t asked, IntField(r.data, "version"));
  CO_ASSIGN_OR_RETURN(int64_t depth, IntField(r.data, "depth"));
  if (depth < 0) co_return InvalidArgument("depth must be a non-negative integer");
  CO_ASSIGN_OR_RETURN(auto meta, co_await LoadMeta(r.storage, key));
  if (!meta) co_return NotFoundEmpty();
  int64_t n = asked > 0 ? asked : meta->current;
  if (n == 0 || n < meta->First() || n > meta->current) co_return NotFoundEmpty();
  CO_ASSIGN_OR_RETURN(auto v, co_await LoadVersion(r.storage, key, n));
  if (!v && asked == 0) {
    // A writer replaced the latest version (and trimmed this one) between the two reads.
    CO_ASSIGN_OR_RETURN(meta, co_await LoadMeta(r.storage, key));
    if (!meta || meta->current == 0) co_return NotFoundEmpty();
    n = meta->current;
    CO_ASSIGN_OR_RETURN(v, co_await LoadVersion(r.storage, key, n));
  }
  if (!v) co_return NotFoundEmpty();
  Json metadata = VersionMetadata(*meta, *v, n);
  const char* field = subkeys ? "subkeys" : "data";
  if (v->destroyed || v->DeletedAt(Now()))
    co_return NotFoundWithBody({{field, nullptr}, {"metadata", std::move(metadata)}});
  if (subkeys) {
    auto data = ParseJson(v->data);
    if (!data.ok() || !data->is_object()) co_return Internal("corrupt entry at " + key);
    co_return Response::WithData(
        {{"subkeys", Subkeys(*data, depth)}, {"metadata", std::move(metadata)}});
  }
  Response resp;
  if (r.accepts_data_json) {
    // The stored data is DumpJson's output already: spliced in, not parsed and dumped again.
    resp.data_json = "{\"data\":" + v->data + ",\"metadata\":" + DumpJson(metadata) + "}";
    co_return resp;
  }
  auto data = ParseJson(v->data);
  if (!data.ok()) co_return Internal("corrupt entry at " + key);
  resp.data = {{"data", std::move(data).value()}, {"metadata", std::move(metadata)}};
  co_return resp;
}

Task<Result<Response>> KvV2Backend::WriteData(Request& r, std::string key, bool patch) {
  if (!r.data.contains("data") || r.data["data"].is_null())
    co_return InvalidArgument("no data provided");
  if (!r.data["data"].is_object())
    co_return InvalidArgument("error converting input for field \"data\": expected a map");
  std::optional<int64_t> cas;
  if (r.data.contains("options") && r.data["options"].is_object() &&
      r.data["options"].contains("cas") && !r.data["options"]["cas"].is_null()) {
    cas = IntFrom(r.data["options"]["cas"]);
    if (!cas) co_return InvalidArgument("error parsing check-and-set parameter");
  }
  AsyncMutex::Guard lock = co_await KeyLock(key).Lock();
  CO_ASSIGN_OR_RETURN(Config config, co_await LoadConfig(r.storage));
  CO_ASSIGN_OR_RETURN(auto loaded, co_await LoadMeta(r.storage, key));
  if (patch && !loaded) co_return NotFoundEmpty();
  const int64_t now = Now();
  KeyMeta meta = loaded.value_or(KeyMeta{});
  if (!loaded) meta.created = now;

  std::string text;
  if (patch) {
    CO_ASSIGN_OR_RETURN(auto current, co_await LoadVersion(r.storage, key, meta.current));
    if (!current || meta.current == 0) co_return NotFoundEmpty();
    if (current->destroyed || current->DeletedAt(now)) {
      Json flat = VersionMetadata(meta, *current, meta.current);
      co_return NotFoundWithBody(std::move(flat));
    }
    auto doc = ParseJson(current->data);
    if (!doc.ok()) co_return Internal("corrupt entry at " + key);
    doc->merge_patch(r.data["data"]);
    text = DumpJson(*doc);
  } else {
    text = DumpJson(r.data["data"]);
  }
  if ((config.cas_required || meta.cas_required) && !cas)
    co_return InvalidArgument("check-and-set parameter required for this call");
  if (cas && *cas != meta.current)
    co_return InvalidArgument("check-and-set parameter did not match the current version");

  const int64_t n = meta.current + 1;
  Version v;
  v.created = now;
  v.deletion = DeletionTime(config, meta, now);
  v.data = std::move(text);
  CO_RETURN_IF_ERROR(co_await StoreVersion(r.storage, key, n, v));
  // Vault's trimming: the larger of the key's and the mount's max_versions (10 if neither).
  int64_t limit = std::max(meta.max_versions, config.max_versions);
  if (limit <= 0) limit = kDefaultMaxVersions;
  const int64_t first_before = meta.First();
  meta.current = n;
  meta.updated = now;
  int64_t trim_to = 0;  // versions up to this one leave
  if (meta.current - meta.oldest >= limit) {
    trim_to = meta.current - limit;
    meta.oldest = trim_to + 1;
  }
  CO_RETURN_IF_ERROR(co_await StoreMeta(r.storage, key, meta));
  Response resp = Response::WithData(VersionMetadata(meta, v, n));
  for (int64_t old = first_before; old <= trim_to; ++old) {
    std::string k = VersionKey(key, old);
    Status st = co_await r.storage->Delete(k);
    if (!st.ok()) {
      resp.warnings.push_back(
          "error occurred when cleaning up old versions, these will be cleaned up on next "
          "write: " +
          st.message());
      break;
    }
  }
  co_return resp;
}

Task<Result<Response>> KvV2Backend::DeleteLatest(Request& r, std::string key) {
  AsyncMutex::Guard lock = co_await KeyLock(key).Lock();
  CO_ASSIGN_OR_RETURN(auto meta, co_await LoadMeta(r.storage, key));
  if (!meta || meta->current == 0) co_return Response();
  CO_ASSIGN_OR_RETURN(auto v, co_await LoadVersion(r.storage, key, meta->current));
  const int64_t now = Now();
  if (!v || v->destroyed || v->DeletedAt(now)) co_return Response();
  v->deletion = now;
  CO_RETURN_IF_ERROR(co_await StoreVersion(r.storage, key, meta->current, *v));
  meta->updated = now;
  CO_RETURN_IF_ERROR(co_await StoreMeta(r.storage, key, *meta));
  co_return Response();
}

// delete/, undelete/ and destroy/ of the listed versions.
Task<Result<Response>> KvV2Backend::ChangeVersions(Request& r, std::string key,
                                                   std::string action) {
  CO_ASSIGN_OR_RETURN(auto versions, VersionsField(r.data));
  if (versions.empty()) {
    co_return InvalidArgument(action == "destroy" ? "no version number provided"
                                                  : "No version number provided");
  }
  AsyncMutex::Guard lock = co_await KeyLock(key).Lock();
  CO_ASSIGN_OR_RETURN(auto meta, co_await LoadMeta(r.storage, key));
  if (!meta) co_return Response();
  CO_ASSIGN_OR_RETURN(Config config, co_await LoadConfig(r.storage));
  const int64_t now = Now();
  bool changed = false;
  for (int64_t n : versions) {
    if (n < meta->First() || n > meta->current) continue;
    CO_ASSIGN_OR_RETURN(auto v, co_await LoadVersion(r.storage, key, n));
    if (!v || v->destroyed) continue;
    if (action == "delete") {
      if (v->DeletedAt(now)) continue;
      v->deletion = now;
    } else if (action == "undelete") {
      v->deletion = DeletionTime(config, *meta, now);
    } else {
      v->destroyed = true;
      v->data.clear();
    }
    CO_RETURN_IF_ERROR(co_await StoreVersion(r.storage, key, n, *v));
    changed = true;
  }
  if (changed) {
    meta->updated = now;
    CO_RETURN_IF_ERROR(co_await StoreMeta(r.storage, key, *meta));
  }
  co_return Response();
}

Task<Result<Response>> KvV2Backend::ReadMetadata(Request& r, std::string key) {
  CO_ASSIGN_OR_RETURN(auto meta, co_await LoadMeta(r.storage, key));
  if (!meta) co_return NotFoundEmpty();
  Json versions = Json::object();
  for (int64_t n = meta->First(); n <= meta->current; ++n) {
    CO_ASSIGN_OR_RETURN(auto v, co_await LoadVersion(r.storage, key, n));
    if (!v) continue;
    versions[std::to_string(n)] = {{"created_time", TimeText(v->created)},
                                   {"deletion_time", TimeText(v->deletion)},
                                   {"destroyed", v->destroyed}};
  }
  co_return Response::WithData(
      {{"cas_required", meta->cas_required},
       {"created_time", TimeText(meta->created)},
       {"current_version", meta->current},
       {"custom_metadata", meta->custom},
       {"delete_version_after", FormatGoDuration(meta->delete_version_after)},
       {"max_versions", meta->max_versions},
       {"oldest_version", meta->oldest},
       {"updated_time", TimeText(meta->updated)},
       {"versions", std::move(versions)}});
}

Task<Result<Response>> KvV2Backend::ListMetadata(Request& r, std::string dir) {
  if (!dir.empty() && dir.back() != '/') dir += '/';
  std::string k = MetaKey(dir);
  CO_ASSIGN_OR_RETURN(auto keys, co_await r.storage->List(k));
  if (keys.empty()) co_return Response();
  co_return Response::WithData({{"keys", keys}});
}

Task<Result<Response>> KvV2Backend::WriteMetadata(Request& r, std::string key, bool patch) {
  const Json& d = r.data;
  auto given = [&](const char* f) { return d.contains(f) && !d[f].is_null(); };
  std::optional<int64_t> max_versions, dva;
  std::optional<bool> cas_required;
  std::optional<Json> custom;
  if (given("max_versions")) {
    CO_ASSIGN_OR_RETURN(int64_t m, IntField(d, "max_versions"));
    if (m < 0) co_return InvalidArgument("max_versions cannot be negative");
    max_versions = m;
  }
  if (given("cas_required")) {
    CO_ASSIGN_OR_RETURN(bool b, BoolField(d, "cas_required"));
    cas_required = b;
  }
  if (given("delete_version_after")) {
    CO_ASSIGN_OR_RETURN(int64_t s, DurationField(d, "delete_version_after"));
    if (s < 0) co_return InvalidArgument("delete_version_after cannot be negative");
    dva = s;
  }
  if (d.contains("custom_metadata") && (patch || !d["custom_metadata"].is_null())) {
    if (!patch) {
      CO_ASSIGN_OR_RETURN(Json c, CustomMetadataField(d["custom_metadata"]));
      custom = std::move(c);
    } else {
      custom = d["custom_metadata"];
    }
  }
  if (!max_versions && !cas_required && !dva && !custom) co_return Response();

  AsyncMutex::Guard lock = co_await KeyLock(key).Lock();
  CO_ASSIGN_OR_RETURN(auto loaded, co_await LoadMeta(r.storage, key));
  if (patch && !loaded) co_return NotFoundEmpty();
  const int64_t now = Now();
  KeyMeta meta = loaded.value_or(KeyMeta{});
  if (!loaded) meta.created = now;
  meta.updated = now;
  if (max_versions) meta.max_versions = *max_versions;
  if (cas_required) meta.cas_required = *cas_required;
  if (dva) meta.delete_version_after = *dva;
  if (custom) {
    if (patch) {
      // A JSON merge patch of the map: a null value removes that key.
      Json merged = meta.custom.is_object() ? meta.custom : Json::object();
      merged.merge_patch(*custom);
      CO_ASSIGN_OR_RETURN(Json c, CustomMetadataField(merged));
      meta.custom = std::move(c);
    } else {
      meta.custom = std::move(*custom);
    }
  }
  CO_RETURN_IF_ERROR(co_await StoreMeta(r.storage, key, meta));
  Response resp;
  if (cas_required && !*cas_required) {
    CO_ASSIGN_OR_RETURN(Config config, co_await LoadConfig(r.storage));
    if (config.cas_required)
      resp.warnings.push_back(
          "\"cas_required\" set to false, but is mandated by backend config. This value will be "
          "ignored.");
  }
  co_return resp;
}

Task<Result<Response>> KvV2Backend::DeleteMetadata(Request& r, std::string key) {
  AsyncMutex::Guard lock = co_await KeyLock(key).Lock();
  CO_ASSIGN_OR_RETURN(auto meta, co_await LoadMeta(r.storage, key));
  if (!meta) co_return Response();
  for (int64_t n = meta->First(); n <= meta->current; ++n) {
    std::string k = VersionKey(key, n);
    CO_RETURN_IF_ERROR(co_await r.storage->Delete(k));
  }
  std::string k = MetaKey(key);
  CO_RETURN_IF_ERROR(co_await r.storage->Delete(k));
  co_return Response();
}

Task<Result<Response>> KvV2Backend::Configure(Request& r) {
  const Json& d = r.data;
  AsyncMutex::Guard lock = co_await config_mu_.Lock();
  CO_ASSIGN_OR_RETURN(Config c, co_await LoadConfig(r.storage));
  if (d.contains("max_versions") && !d["max_versions"].is_null()) {
    CO_ASSIGN_OR_RETURN(int64_t m, IntField(d, "max_versions"));
    if (m < 0) co_return InvalidArgument("max_versions cannot be negative");
    c.max_versions = m;
  }
  if (d.contains("cas_required") && !d["cas_required"].is_null()) {
    CO_ASSIGN_OR_RETURN(bool b, BoolField(d, "cas_required"));
    c.cas_required = b;
  }
  if (d.contains("delete_version_after") && !d["delete_version_after"].is_null()) {
    CO_ASSIGN_OR_RETURN(int64_t s, DurationField(d, "delete_version_after"));
    c.delete_version_after = s < 0 ? -1 : s;  // negative: disabled for every key
  }
  Json stored = {{"max_versions", c.max_versions},
                 {"cas_required", c.cas_required},
                 {"delete_version_after", c.delete_version_after}};
  std::string k = ConfigKey();
  CO_RETURN_IF_ERROR(co_await logical::PutJson(r.storage, k, stored));
  co_return Response();
}

}  // namespace

std::shared_ptr<logical::Backend> NewKvV2Backend(const logical::MountInfo& mount, Clock* clock) {
  return std::make_shared<KvV2Backend>(mount, clock);
}

}  // namespace vault::engines
