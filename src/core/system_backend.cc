#include "core/system_backend.h"

#include <chrono>

#include "util/clock.h"
#include "util/duration.h"

namespace vault::core {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

Json MountToJson(const MountEntry& e) {
  Json j = {{"type", e.type},
            {"description", e.description},
            {"accessor", e.accessor},
            {"uuid", e.uuid},
            {"config",
             {{"default_lease_ttl", e.default_lease_ttl},
              {"max_lease_ttl", e.max_lease_ttl},
              {"force_no_cache", false}}},
            {"options", e.options},
            {"local", e.local},
            {"seal_wrap", e.seal_wrap},
            {"external_entropy_access", false},
            {"plugin_version", ""},
            {"running_plugin_version", ""},
            {"running_sha256", ""}};
  if (!e.listing_visibility.empty()) j["config"]["listing_visibility"] = e.listing_visibility;
  return j;
}

// TTLs in mount config may arrive as "1h", 3600, "" or null (the 0.3 CLI sent nanoseconds as
// integers; we read integers as seconds as current Vault does).
Result<std::optional<int64_t>> OptionalTtl(const Json& config, const char* key) {
  if (!config.is_object() || !config.contains(key) || config[key].is_null())
    return std::optional<int64_t>();
  const Json& v = config[key];
  if (v.is_number()) return std::optional<int64_t>(v.get<int64_t>());
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.empty()) return std::optional<int64_t>();
    if (s == "system") return std::optional<int64_t>(0);
    auto r = ParseDurationSeconds(s);
    if (!r.ok())
      return InvalidArgument("unable to parse " + std::string(key) + ": " + r.status().message());
    return std::optional<int64_t>(*r);
  }
  return InvalidArgument(std::string("invalid type for ") + key);
}

namespace {
constexpr const char* kUnsupportedConfig[] = {
    "audit_non_hmac_request_keys", "audit_non_hmac_response_keys", "passthrough_request_headers",
    "allowed_response_headers",    "user_lockout_config",          "plugin_version"};
}  // namespace

Status CheckUnsupportedConfig(const Json& config) {
  if (!config.is_object()) return Status::Ok();
  for (const char* k : kUnsupportedConfig) {
    if (config.contains(k) && !config[k].is_null() &&
        !(config[k].is_array() && config[k].empty()) &&
        !(config[k].is_string() && config[k].get<std::string>().empty()))
      return InvalidArgument(std::string(k) + " is not supported by this server");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> ListingVisibility(const Json& v) {
  if (v.is_null()) return std::optional<std::string>();
  if (!v.is_string()) return InvalidArgument("invalid listing_visibility");
  std::string s = v.get<std::string>();
  if (s != "" && s != "hidden" && s != "unauth")
    return InvalidArgument("invalid listing_visibility " + s);
  return std::optional<std::string>(s);
}

namespace {

Path MountsListPath(MountManager* mounts) {
  Path p;
  p.pattern = "mounts";
  p.synopsis = "List the currently mounted backends.";
  p.description =
      "This path responds to the following HTTP methods.\n\n    GET /\n        Lists all the "
      "mounted secret backends.\n\n    GET /<mount point>\n        Get information about the "
      "mount.\n\n    POST /<mount point>\n        Mount a new secret backend to the mount "
      "point in the URL.\n\n    POST /<mount point>/tune\n        Tune configuration "
      "parameters for the given mount point.\n\n    DELETE /<mount point>\n        Unmount "
      "the specified mount point.";
  p.operations[Operation::kRead] = [mounts](Request&, const FieldData&) -> Result<Response> {
    Json data = Json::object();
    for (const auto& e : mounts->List()) {
      if (e.path.compare(0, 5, "auth/") == 0) continue;
      data[e.path] = MountToJson(e);
    }
    return Response::WithData(std::move(data));
  };
  return p;
}

Path TunePath(MountManager* mounts) {
  Path p;
  p.pattern = "mounts/(?P<path>.+?)/tune/?";
  p.synopsis = "Tune backend configuration parameters for this mount.";
  p.fields = {
      {"path", FieldType::kString, "The path of the mount."},
      {"default_lease_ttl", FieldType::kString, "The default lease TTL for this mount."},
      {"max_lease_ttl", FieldType::kString, "The max lease TTL for this mount."},
      {"description", FieldType::kString, "User-friendly description for this mount."},
      {"listing_visibility", FieldType::kString,
       "Whether the mount is listed in the UI's unauthenticated mount list (\"unauth\")."},
      {"options", FieldType::kKvPairs,
       "Options to change (KV: {\"version\": \"2\"} upgrades a version 1 mount in place)."},
  };
  // Vault's GET shape: the effective TTLs, and the optional settings only when set.
  p.operations[Operation::kRead] = [mounts](Request&, const FieldData& d) -> Result<Response> {
    auto e = mounts->Get(d.GetString("path"));
    if (!e) return InvalidArgument("cannot fetch sysview for path \"" + d.GetString("path") + "\"");
    auto info = mounts->Info(*e);
    Json data = {{"default_lease_ttl", info.default_lease_ttl},
                 {"max_lease_ttl", info.max_lease_ttl},
                 {"force_no_cache", false},
                 {"description", e->description}};
    if (e->options.is_object() && !e->options.empty()) data["options"] = e->options;
    if (!e->listing_visibility.empty()) data["listing_visibility"] = e->listing_visibility;
    if (e->Credential()) data["token_type"] = "default-service";
    return Response::WithData(std::move(data));
  };
  p.async_operations[Operation::kUpdate] = [mounts](Request&,
                                                    const FieldData& d) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(CheckUnsupportedConfig(d.raw()));
    MountTune tune;
    CO_ASSIGN_OR_RETURN(tune.default_ttl, OptionalTtl(d.raw(), "default_lease_ttl"));
    CO_ASSIGN_OR_RETURN(tune.max_ttl, OptionalTtl(d.raw(), "max_lease_ttl"));
    if (d.Has("description")) tune.description = d.GetString("description");
    Json lv = d.raw().contains("listing_visibility") ? d.raw()["listing_visibility"] : Json();
    CO_ASSIGN_OR_RETURN(tune.listing_visibility, ListingVisibility(lv));
    if (d.raw().contains("options")) {
      CO_ASSIGN_OR_RETURN(tune.options, DecodeMountOptions(d.raw()["options"]));
    }
    CO_ASSIGN_OR_RETURN(auto warnings, co_await mounts->Tune(d.GetString("path"), std::move(tune)));
    Response r;
    r.warnings = std::move(warnings);
    co_return r;
  };
  return p;
}

}  // namespace

Task<Status> RetireMount(MountManager* mounts, ExpirationManager* exp, const std::string& path) {
  std::shared_ptr<const Mount> live = mounts->Live(path);
  if (!live) co_return Status::Ok();
  MountTraffic& traffic = *live->traffic;
  traffic.tainted = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  Result<bool> drained = co_await PollUntil(exp->delay(), deadline, [&]() -> Task<Result<bool>> {
    co_return traffic.requests.load() == 0;
  });
  Status st = drained.ok() && !*drained
                  ? Internal(std::to_string(traffic.requests.load()) + " request(s) on " + path +
                             " still running after 60 s; the mount stays as it is, try again")
                  : drained.status();
  if (st.ok()) st = co_await exp->RevokeMountLeases(path, deadline);
  if (!st.ok()) traffic.tainted = false;
  co_return st;
}

namespace {

Path MountPath(MountManager* mounts, ExpirationManager* exp) {
  Path p;
  p.pattern = "mounts/(?P<path>.+)";
  p.synopsis = "Mount a new backend at a new path.";
  p.description =
      "Mount a backend at a new path. A backend can be mounted multiple times at "
      "multiple paths in order to configure multiple separately configured backends.";
  p.fields = {
      {"path", FieldType::kString, "The path to mount to. Example: \"aws/east\""},
      {"type", FieldType::kString, "The type of the backend. Example: \"passthrough\""},
      {"description", FieldType::kString, "User-friendly description for this mount."},
      {"config", FieldType::kMap,
       "Configuration for this mount, such as default_lease_ttl and max_lease_ttl."},
      {"options", FieldType::kKvPairs,
       "The options to pass into the backend: a map (numbers and booleans are taken as text) or "
       "a list of \"key=value\" strings."},
      {"local", FieldType::kBool, "Mark the mount as a local mount."},
      {"seal_wrap", FieldType::kBool, "Whether to turn on seal wrapping for the mount."},
  };
  p.operations[Operation::kRead] = [mounts](Request&, const FieldData& d) -> Result<Response> {
    auto e = mounts->Get(d.GetString("path"));
    if (!e)
      return InvalidArgument("No secret engine mount at " +
                             NormalizeMountPath(d.GetString("path")));
    return Response::WithData(MountToJson(*e));
  };
  p.async_operations[Operation::kUpdate] = [mounts](Request&,
                                                    const FieldData& d) -> Task<Result<Response>> {
    MountEntry e;
    e.path = d.GetString("path");
    e.type = d.GetString("type");
    e.description = d.GetString("description");
    Json config = d.Get("config");
    CO_ASSIGN_OR_RETURN(auto def, OptionalTtl(config, "default_lease_ttl"));
    CO_ASSIGN_OR_RETURN(auto max, OptionalTtl(config, "max_lease_ttl"));
    e.default_lease_ttl = def.value_or(0);
    e.max_lease_ttl = max.value_or(0);
    CO_RETURN_IF_ERROR(CheckUnsupportedConfig(config));
    Json lv = config.is_object() && config.contains("listing_visibility")
                  ? config["listing_visibility"]
                  : Json();
    CO_ASSIGN_OR_RETURN(auto visibility, ListingVisibility(lv));
    e.listing_visibility = visibility.value_or("");
    // Clients send numbers and booleans too ({"version": 1}); Vault stores them as strings.
    if (d.raw().contains("options")) {
      CO_ASSIGN_OR_RETURN(e.options, DecodeMountOptions(d.raw()["options"]));
    }
    e.local = d.GetBool("local");
    // Seal wrapping and external entropy are Vault Enterprise features: refused, not ignored.
    if (d.GetBool("seal_wrap"))
      co_return InvalidArgument("seal_wrap is not supported by this server");
    if (d.raw().contains("external_entropy_access") && d.raw()["external_entropy_access"] == true)
      co_return InvalidArgument("external_entropy_access is not supported by this server");
    CO_RETURN_IF_ERROR(co_await mounts->Mount(std::move(e)));
    co_return Response();
  };
  // Vault revokes every lease of a mount before removing it; a failed revoke aborts. Leases that
  // requests on the mount are still issuing are waited for (revoked as those requests end).
  p.async_operations[Operation::kDelete] =
      [mounts, exp](Request&, const FieldData& d) -> Task<Result<Response>> {
    std::string path = NormalizeMountPath(d.GetString("path"));
    if (Status st = co_await RetireMount(mounts, exp, path); !st.ok()) co_return st;
    if (Status st = co_await mounts->Unmount(path); !st.ok()) co_return st;
    co_return Response();
  };
  return p;
}

Path RemountPath(MountManager* mounts, ExpirationManager* exp) {
  Path p;
  p.pattern = "remount";
  p.synopsis = "Move the mount point of an already-mounted backend.";
  p.fields = {{"from", FieldType::kString, "The previous mount point."},
              {"to", FieldType::kString, "The new mount point."}};
  p.async_operations[Operation::kUpdate] =
      [mounts, exp](Request&, const FieldData& d) -> Task<Result<Response>> {
    std::string from = NormalizeMountPath(d.GetString("from"));
    if (Status st = co_await RetireMount(mounts, exp, from); !st.ok()) co_return st;
    if (Status st = co_await mounts->Remount(d.GetString("from"), d.GetString("to")); !st.ok())
      co_return st;
    co_return Response();
  };
  return p;
}

Path KeyStatusPath(barrier::Barrier* barrier) {
  Path p;
  p.pattern = "key-status";
  p.synopsis = "Provides information about the backend encryption key.";
  p.operations[Operation::kRead] = [barrier](Request&, const FieldData&) -> Result<Response> {
    ASSIGN_OR_RETURN(auto ks, barrier->ActiveKeyStatus());
    return Response::WithData({{"term", ks.term},
                               {"install_time", FormatRfc3339Nano(ks.install_time_nanos)},
                               {"encryptions", ks.encryptions}});
  };
  return p;
}

Path RotatePath(barrier::Barrier* barrier) {
  Path p;
  p.pattern = "rotate";
  p.synopsis = "Rotates the backend encryption key used to persist data.";
  p.async_operations[Operation::kUpdate] = [barrier](Request&,
                                                     const FieldData&) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(co_await barrier->Rotate());
    co_return Response();
  };
  return p;
}

}  // namespace

std::shared_ptr<logical::Backend> NewSystemBackend(MountManager* mounts, barrier::Barrier* barrier,
                                                   ExpirationManager* expiration,
                                                   std::vector<logical::Path> extra_paths) {
  std::vector<Path> paths = {TunePath(mounts),       MountPath(mounts, expiration),
                             MountsListPath(mounts), RemountPath(mounts, expiration),
                             KeyStatusPath(barrier), RotatePath(barrier)};
  for (auto& p : LeasePaths(expiration)) paths.push_back(std::move(p));
  for (auto& p : extra_paths) paths.push_back(std::move(p));
  auto backend = std::make_shared<logical::FrameworkBackend>(
      "The system backend is built-in to Vault and cannot be remounted or\nunmounted. It "
      "contains the paths that are used to configure Vault itself\nas well as perform core "
      "operations.",
      std::move(paths),
      // Changes under mounts/*, policy/* and policies/acl/* need sudo too: see
      // kSysWriteRootPaths in core.
      std::vector<std::string>{"remount", "rotate", "rotate/config", "auth/*", "audit", "audit/*",
                               "revoke-prefix/*", "revoke-force/*", "leases/revoke-prefix/*",
                               "leases/revoke-force/*", "leases/lookup/*", "leases", "raw", "raw/*",
                               "seal", "step-down"});
  // Vault serves these without a token check; unwrap and the UI's mount paths check the
  // caller's token themselves.
  backend->SetUnauthenticatedPaths(
      {"wrapping/lookup", "wrapping/unwrap", "internal/ui/mounts", "internal/ui/mounts/*"});
  return backend;
}

}  // namespace vault::core
