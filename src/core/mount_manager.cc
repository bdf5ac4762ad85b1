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
// What a new mount may be asked to be: a kv mount takes `version` 1 (KV version 2 is not
// implemented, and a version 2 mount that behaves as version 1 would be worse than a refusal);
// other engines take no options.
Status CheckOptions(const std::string& type, const Json& options) {
  if (!options.is_object()) return Status::Ok();
  for (auto& [k, v] : options.items()) {
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    if (type == "kv" && k == "version") {
      if (value == "1" || value.empty()) continue;
      if (value == "2") {
        return InvalidArgument(
            "options.version: KV version 2 is not supported by this server; mount kv without a "
            "version (or with version 1)");
      }
      return InvalidArgument("options.version: invalid KV version \"" + value + "\"");
    }
    return InvalidArgument("options." + k + ": the " + type + " secrets engine has no such option");
  }
  return Status::Ok();
}
}  // namespace

void MountManager::RegisterBuiltin(const std::string& type, EngineFactory factory) {
  builtins_[type] = std::move(factory);
}

logical::MountInfo MountManager::Info(const MountEntry& e) const {
  logical::MountInfo info;
  info.path = e.path;
  info.type = e.type;
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
  if (credential && entry.max_lease_ttl > 0 && entry.default_lease_ttl > entry.max_lease_ttl)
    co_return InvalidArgument("given default lease TTL greater than given max lease TTL");
  if (entry.max_lease_ttl > 0 && entry.default_lease_ttl > entry.max_lease_ttl)
    co_return InvalidArgument(
        "backend max lease TTL must be greater than or equal to the default lease TTL");
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

Task<Status> MountManager::Tune(std::string raw_path, std::optional<int64_t> default_ttl,
                                std::optional<int64_t> max_ttl,
                                std::optional<std::string> description,
                                std::optional<std::string> listing_visibility) {
  std::string path = NormalizeMountPath(raw_path);
  AsyncMutex::Guard change = co_await change_mu_.Lock();
  std::vector<MountEntry> table = List();
  auto it =
      std::find_if(table.begin(), table.end(), [&](const MountEntry& e) { return e.path == path; });
  if (it == table.end()) co_return InvalidArgument("no mount entry found at \"" + path + "\"");
  MountEntry updated = *it;
  if (default_ttl) updated.default_lease_ttl = *default_ttl;
  if (max_ttl) updated.max_lease_ttl = *max_ttl;
  if (description) updated.description = *description;
  if (listing_visibility) updated.listing_visibility = *listing_visibility;
  int64_t eff_max = updated.max_lease_ttl > 0 ? updated.max_lease_ttl : ttls_.max_lease_ttl;
  int64_t eff_def =
      updated.default_lease_ttl > 0 ? updated.default_lease_ttl : ttls_.default_lease_ttl;
  // Vault's rules: a default above the max is refused; a max above the system's is not.
  if (updated.default_lease_ttl > 0 && eff_def > eff_max) {
    if (updated.max_lease_ttl > 0) {
      co_return InvalidArgument("backend max lease TTL of " + std::to_string(eff_max) +
                                " less than backend default lease TTL of " +
                                std::to_string(eff_def));
    }
    co_return InvalidArgument("new backend default lease TTL of " + std::to_string(eff_def) +
                              " greater than system max lease TTL of " + std::to_string(eff_max));
  }
  *it = updated;
  CO_RETURN_IF_ERROR(co_await Persist(table));
  {
    std::lock_guard lock(mu_);
    table_ = std::move(table);
  }
  // Keep the running engine (and its in-memory state); only the entry changes.
  auto live = router_->Get(path);
  auto m = std::make_shared<core::Mount>(*live);
  m->entry = updated;
  router_->Add(std::move(m));
  co_return Status::Ok();
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
