#include "core/mount_manager.h"

#include <algorithm>

#include "util/encoding.h"
#include "util/random.h"
#include "util/strings.h"

namespace vault::core {
namespace {
constexpr char kMountTablePath[] = "core/mounts";
const char* const kProtected[] = {"sys/", "auth/", "audit/", "cubbyhole/", "identity/"};
const char* const kSingletons[] = {"system", "token", "cubbyhole", "identity"};

std::string CanonicalType(const std::string& type, Json* options) {
  if (type == "generic" || type == "kv-v1") return "kv";
  if (type == "kv-v2") {
    if (!options->is_object()) *options = Json::object();
    (*options)["version"] = "2";
    return "kv";
  }
  return type;
}
// What a mount may be asked to be: a kv mount takes `version` 1 or 2; other engines take no
// options (an option no engine reads is refused rather than stored and ignored).
Status CheckOptions(const std::string& type, const Json& options) {
  if (!options.is_object()) return Status::Ok();
  for (auto& [k, v] : options.items()) {
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    if (k == "version") {
      if (type != "kv")
        return InvalidArgument("secrets engine \"" + type + "\" does not allow setting a version");
      if (value == "1" || value == "2" || value.empty()) continue;
      return InvalidArgument("options.version: invalid KV version \"" + value + "\" (1 or 2)");
    }
    return InvalidArgument("options." + k + ": the " + type + " secrets engine has no such option");
  }
  return Status::Ok();
}

// A kv mount's version as a number: unset and "" are 0 (version 1).
Result<int64_t> KvVersion(const Json& options) {
  if (!options.is_object() || !options.contains("version")) return int64_t{0};
  const Json& v = options["version"];
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.empty()) return int64_t{0};
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || n > 1000)
      return InvalidArgument("unable to parse options: version \"" + s + "\" is not a number");
    n = n * 10 + (c - '0');
  }
  return n;
}
}  // namespace

Result<Json> DecodeMountOptions(const Json& in) {
  Json out = Json::object();
  if (in.is_null()) return out;
  if (in.is_array()) {
    for (const Json& item : in) {
      std::string s = item.is_string() ? item.get<std::string>() : "";
      size_t eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        return InvalidArgument("options must be a map, or a list of \"key=value\" strings");
      out[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return out;
  }
  if (!in.is_object())
    return InvalidArgument("options must be a map, or a list of \"key=value\" strings");
  for (auto& [k, v] : in.items()) {
    if (v.is_string()) {
      out[k] = v;
    } else if (v.is_boolean()) {
      out[k] = v.get<bool>() ? "1" : "0";
    } else if (v.is_number()) {
      out[k] = DumpJson(v);  // 2 -> "2"; 2.0 stays "2.0" (not a version)
    } else if (!v.is_null()) {
      return InvalidArgument("options." + k + ": a string, number or boolean is expected");
    }
  }
  return out;
}

void MountManager::RegisterBuiltin(const std::string& type, EngineFactory factory) {
  builtins_[type] = std::move(factory);
}

logical::MountInfo MountManager::Info(const MountEntry& e) const {
  logical::MountInfo info;
  info.path = e.path;
  info.type = e.type;
  info.uuid = e.uuid;
  if (e.options.is_object()) info.options = e.options;
  info.default_lease_ttl = e.default_lease_ttl > 0 ? e.default_lease_ttl : ttls_.default_lease_ttl;
  info.max_lease_ttl = e.max_lease_ttl > 0 ? e.max_lease_ttl : ttls_.max_lease_ttl;
  if (info.default_lease_ttl > info.max_lease_ttl) info.default_lease_ttl = info.max_lease_ttl;
  return info;
}

Result<std::shared_ptr<core::Mount>> MountManager::Start(const MountEntry& e) {
  const EngineFactory* factory = nullptr;
  // Auth methods are registered as "auth/<type>", apart from secrets engines of the same name.
  const std::string key = e.Credential() ? "auth/" + e.type : e.type;
  if (auto it = builtins_.find(e.type); it != builtins_.end())
    factory = &it->second;
  else if (auto it2 = registry_->find(key); it2 != registry_->end())
    factory = &it2->second;
  if (!factory) return InvalidArgument("plugin not found in the catalog: " + e.type);
  ASSIGN_OR_RETURN(std::shared_ptr<logical::Backend> backend, (*factory)(Info(e)));
  auto m = std::make_shared<core::Mount>();
  m->entry = e;
  m->backend = std::move(backend);
  m->storage = std::make_shared<logical::PrefixStorage>(barrier_, e.StoragePrefix());
  return m;
}

Task<Status> MountManager::Persist(std::vector<MountEntry> table) {
  Json entries = Json::array();
  for (const auto& e : table) entries.push_back(e.ToJson());
  Json stored = {{"type", "mounts"}, {"entries", entries}};
  Status st = co_await logical::PutJson(barrier_, kMountTablePath, stored);
  co_return st;
}

Task<Status> MountManager::Load() {
  AsyncMutex::Guard change = co_await change_mu_.Lock();
  CO_ASSIGN_OR_RETURN(auto stored, co_await logical::GetJson(barrier_, kMountTablePath));
  std::vector<MountEntry> table;
  if (stored) {
    for (const auto& j : (*stored)["entries"]) table.push_back(MountEntry::FromJson(j));
  } else {
    auto make = [](std::string path, std::string type, std::string desc) {
      MountEntry e;
      e.path = std::move(path);
      e.type = std::move(type);
      e.description = std::move(desc);
      e.uuid = NewUuid();
      e.accessor = e.type + "_" + HexEncode(RandomBytes(4));
      return e;
    };
    table.push_back(
        make("sys/", "system", "system endpoints used for control, policy and debugging"));
    table.push_back(make("secret/", "kv", "key/value secret storage"));
    table.back().options = {{"version", "1"}};
    table.push_back(make("auth/token/", "token", "token based credentials"));
    CO_RETURN_IF_ERROR(co_await Persist(table));
  }
  router_->Clear();
  for (const auto& e : table) {
    auto m = Start(e);
    if (!m.ok())
      co_return Internal("failed to start mount " + e.path + ": " + m.status().message());
    router_->Add(std::move(m).value());
  }
  std::lock_guard lock(mu_);
  table_ = std::move(table);
  co_return Status::Ok();
}

void MountManager::Unload() {
  std::lock_guard lock(mu_);
  router_->Clear();
  table_.clear();
}

Task<Status> MountManager::Mount(MountEntry entry, bool credential) {
  entry.path = NormalizeMountPath(entry.path);
  if (entry.path.empty()) {
    if (credential) co_return InvalidArgument("backend path must be specified");
    co_return InvalidArgument("path cannot be empty");
  }
  if (credential) {
    entry.path = "auth/" + entry.path;
    if (entry.type.empty()) co_return InvalidArgument("backend type must be specified as a string");
    if (entry.type == "token")
      co_return InvalidArgument("token credential backend cannot be instantiated");
    if (!registry_->count("auth/" + entry.type))
      co_return InvalidArgument("plugin not found in the catalog: " + entry.type);
    if (entry.options.is_object() && !entry.options.empty())
      co_return InvalidArgument("options are not supported by the " + entry.type + " auth method");
  } else {
    for (const char* p : kProtected) {
      if (entry.path.compare(0, strlen(p), p) == 0)
        co_return PermissionDenied("cannot mount \"" + entry.path + "\"");
    }
    entry.type = CanonicalType(entry.type, &entry.options);
    if (entry.type.empty()) co_return InvalidArgument("backend type must be specified as a string");
    if (registry_->count(entry.type) == 0 && registry_->count("auth/" + entry.type))
      co_return InvalidArgument("\"" + entry.type +
                                "\" is an auth method: enable it with sys/auth (vault auth "
                                "enable), not as a secrets engine");
    CO_RETURN_IF_ERROR(CheckOptions(entry.type, entry.options));
  }
  for (const char* s : kSingletons) {
    if (entry.type == s)
      co_return PermissionDenied("mount type of \"" + entry.type + "\" is not mountable");
  }
  if (entry.path.find("..") != std::string::npos) co_return InvalidArgument("invalid mount path");
  AsyncMutex::Guard change = co_await change_mu_.Lock();
  if (auto c = router_->Conflict(entry.path))
    co_return InvalidArgument("path is already in use at " + *c);
  // Vault's rules: the default may not exceed the given max, nor the system's when no max is
  // given; a max above the system's is accepted.
  if (entry.max_lease_ttl > 0 && entry.default_lease_ttl > entry.max_lease_ttl)
    co_return InvalidArgument("given default lease TTL greater than given max lease TTL");
  if (entry.max_lease_ttl == 0 && entry.default_lease_ttl > ttls_.max_lease_ttl)
    co_return InvalidArgument("given default lease TTL greater than system max lease TTL of " +
                              std::to_string(ttls_.max_lease_ttl));
  entry.uuid = NewUuid();
  entry.accessor = (credential ? "auth_" : "") + entry.type + "_" + HexEncode(RandomBytes(4));
  CO_ASSIGN_OR_RETURN(auto m, Start(entry));
  std::vector<MountEntry> table = List();
  table.push_back(entry);
  CO_RETURN_IF_ERROR(co_await Persist(table));
  {
    std::lock_guard lock(mu_);
    table_ = std::move(table);
  }
  router_->Add(std::move(m));
  co_return Status::Ok();
}

Task<Status> MountManager::Unmount(std::string raw_path) {
  std::string path = NormalizeMountPath(raw_path);
  for (const char* p : {"sys/", "auth/token/"}) {
    if (path == p) co_return InvalidArgument("cannot unmount \"" + path + "\"");
  }
  AsyncMutex::Guard change = co_await change_mu_.Lock();
  std::vector<MountEntry> table = List();
  auto it =
      std::find_if(table.begin(), table.end(), [&](const MountEntry& e) { return e.path == path; });
  if (it == table.end()) co_return Status::Ok();
  MountEntry removed = *it;
  table.erase(it);
  CO_RETURN_IF_ERROR(co_await Persist(table));
  {
    std::lock_guard lock(mu_);
    table_ = std::move(table);
  }
  router_->Remove(path);
  // Drop the engine's data (its leases were revoked before the unmount).
  std::vector<std::string> stack = {""};
  while (!stack.empty()) {
    std::string dir = removed.StoragePrefix() + stack.back();
    std::string rel = stack.back();
    stack.pop_back();
    auto children = co_await barrier_->List(dir);
    if (!children.ok()) break;
    for (const auto& c : *children) {
      if (!c.empty() && c.back() == '/') {
        stack.push_back(rel + c);
      } else {
        const std::string key = dir + c;
        (co_await barrier_->Delete(key)).IgnoreError();
      }
    }
  }
  co_return Status::Ok();
}

Task<Status> MountManager::Remount(std::string from_raw, std::string to_raw) {
  std::string from = NormalizeMountPath(from_raw), to = NormalizeMountPath(to_raw);
  if (from.empty() || to.empty())
    co_return InvalidArgument("both 'from' and 'to' must be specified");
  for (const char* p : kProtected) {
    if (from.compare(0, strlen(p), p) == 0)
      co_return InvalidArgument("cannot remount \"" + from + "\"");
    if (to.compare(0, strlen(p), p) == 0) co_return PermissionDenied("cannot mount \"" + to + "\"");
  }
  AsyncMutex::Guard change = co_await change_mu_.Lock();
  std::vector<MountEntry> table = List();
  auto it =
      std::find_if(table.begin(), table.end(), [&](const MountEntry& e) { return e.path == from; });
  if (it == table.end()) co_return InvalidArgument("no matching mount at \"" + from + "\"");
  if (auto c = router_->Conflict(to); c && *c != from)
    co_return InvalidArgument("path is already in use at " + *c);
  MountEntry moved = *it;
  moved.path = to;
  CO_ASSIGN_OR_RETURN(auto m, Start(moved));
  *it = moved;
  CO_RETURN_IF_ERROR(co_await Persist(table));
  {
    std::lock_guard lock(mu_);
    table_ = std::move(table);
  }
  router_->Remove(from);
  router_->Add(std::move(m));
  co_return Status::Ok();
}

Task<Result<std::vector<std::string>>> MountManager::Tune(std::string raw_path, MountTune tune) {
  std::string path = NormalizeMountPath(raw_path);
  AsyncMutex::Guard change = co_await change_mu_.Lock();
  std::vector<MountEntry> table = List();
  auto it =
      std::find_if(table.begin(), table.end(), [&](const MountEntry& e) { return e.path == path; });
  if (it == table.end())
    co_return InvalidArgument("tune of path \"" + path + "\" failed: no mount entry found");
  MountEntry updated = *it;
  std::vector<std::string> warnings;
  if (tune.default_ttl) updated.default_lease_ttl = *tune.default_ttl;
  if (tune.max_ttl) updated.max_lease_ttl = *tune.max_ttl;
  if (tune.description) updated.description = *tune.description;
  if (tune.listing_visibility) updated.listing_visibility = *tune.listing_visibility;
  // Vault's rule: a default above the max is refused; a max above the system's is not.
  if (updated.default_lease_ttl > 0 && updated.max_lease_ttl > 0 &&
      updated.default_lease_ttl > updated.max_lease_ttl) {
    co_return InvalidArgument("backend max lease TTL of " + std::to_string(updated.max_lease_ttl) +
                              " would be less than backend default lease TTL of " +
                              std::to_string(updated.default_lease_ttl));
  }
  bool restart = false;
  if (tune.options.is_object() && !tune.options.empty()) {
    if (updated.Credential())
      co_return InvalidArgument("options are not supported by the " + updated.type +
                                " auth method");
    if (!updated.options.is_object()) updated.options = Json::object();
    Json merged = updated.options;
    for (auto& [k, v] : tune.options.items()) {
      std::string value = v.is_string() ? v.get<std::string>() : DumpJson(v);
      if (value.empty() && k != "version") {
        merged.erase(k);
      } else {
        merged[k] = value;
      }
    }
    if (tune.options.contains("version")) {
      if (updated.type != "kv")
        co_return InvalidArgument("secrets engine \"" + updated.type +
                                  "\" does not allow setting a version");
      CO_ASSIGN_OR_RETURN(int64_t to, KvVersion(tune.options));
      if (to != 1 && to != 2)
        co_return InvalidArgument("invalid version provided: " + std::to_string(to));
      CO_ASSIGN_OR_RETURN(int64_t from, KvVersion(updated.options));
      if (to < from) co_return InvalidArgument("cannot downgrade mount from version 2");
      if (to != from && !(from == 0 && to == 1)) {
        warnings.push_back("Upgrading mount from version " + std::to_string(from) + " to version " +
                           std::to_string(to) +
                           ". This mount will be unavailable for a brief period and will resume "
                           "service shortly.");
      }
    }
    CO_RETURN_IF_ERROR(CheckOptions(updated.type, merged));
    restart = merged != updated.options;
    updated.options = std::move(merged);
  }
  std::shared_ptr<core::Mount> m;
  auto live = router_->Get(path);
  if (restart) {
    // The engine reads its options when it starts: a new instance on the same storage, sharing
    // the requests under way (an unmount still waits for them).
    CO_ASSIGN_OR_RETURN(m, Start(updated));
    if (live) m->traffic = live->traffic;
  } else {
    // Keep the running engine (and its in-memory state); only the entry changes.
    m = std::make_shared<core::Mount>(*live);
    m->entry = updated;
  }
  *it = updated;
  CO_RETURN_IF_ERROR(co_await Persist(table));
  {
    std::lock_guard lock(mu_);
    table_ = std::move(table);
  }
  router_->Add(std::move(m));
  co_return warnings;
}

std::shared_ptr<const core::Mount> MountManager::Live(std::string_view path) const {
  return router_->Get(NormalizeMountPath(path));
}

std::vector<MountEntry> MountManager::List() const {
  std::lock_guard lock(mu_);
  return table_;
}

std::optional<MountEntry> MountManager::Get(std::string_view raw_path) const {
  std::string path = NormalizeMountPath(raw_path);
  std::lock_guard lock(mu_);
  for (const auto& e : table_)
    if (e.path == path) return e;
  return std::nullopt;
}

}  // namespace vault::core
