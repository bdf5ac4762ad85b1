// sys/auth: enable, list, read, tune and disable auth methods (mounts under auth/).
#include "core/auth_mounts.h"

#include "core/system_backend.h"
#include "util/strings.h"

namespace vault::core {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

Json AuthMountToJson(const MountEntry& e) {
  Json j = MountToJson(e);
  j["config"]["token_type"] = "default-service";
  return j;
}

Status CheckTokenType(const Json& v) {
  if (v.is_null()) return Status::Ok();
  std::string t = v.is_string() ? v.get<std::string>() : v.dump();
  if (t.empty() || t == "default-service" || t == "service") return Status::Ok();
  if (t == "batch" || t == "default-batch")
    return InvalidArgument("token_type \"" + t +
                           "\" is not supported: this server issues service tokens only");
  return InvalidArgument("invalid value for 'token_type'");
}

Status CheckConfig(const Json& config) {
  if (!config.is_object()) return Status::Ok();
  RETURN_IF_ERROR(CheckUnsupportedConfig(config));
  if (config.contains("token_type")) RETURN_IF_ERROR(CheckTokenType(config["token_type"]));
  return Status::Ok();
}

Path AuthListPath(MountManager* mounts) {
  Path p;
  p.pattern = "auth";
  p.synopsis = "List the currently enabled credential backends.";
  p.operations[Operation::kRead] = [mounts](Request&, const FieldData&) -> Result<Response> {
    Json data = Json::object();
    for (const auto& e : mounts->List()) {
      if (!e.Credential()) continue;
      data[e.path.substr(5)] = AuthMountToJson(e);
    }
    return Response::WithData(std::move(data));
  };
  return p;
}

Path AuthTunePath(MountManager* mounts) {
  Path p;
  p.pattern = "auth/(?P<path>.+?)/tune/?";
  p.synopsis = "Tune configuration parameters for an auth method.";
  p.fields = {
      {"path", FieldType::kString, "The path of the auth method."},
      {"default_lease_ttl", FieldType::kString, "The default lease TTL for this mount."},
      {"max_lease_ttl", FieldType::kString, "The max lease TTL for this mount."},
      {"description", FieldType::kString, "User-friendly description for this mount."},
      {"listing_visibility", FieldType::kString, "unauth or hidden."},
      {"token_type", FieldType::kString, "The type of token to issue (service)."},
      {"audit_non_hmac_request_keys", FieldType::kCommaStringSlice, "Not supported."},
      {"audit_non_hmac_response_keys", FieldType::kCommaStringSlice, "Not supported."},
      {"passthrough_request_headers", FieldType::kCommaStringSlice, "Not supported."},
      {"allowed_response_headers", FieldType::kCommaStringSlice, "Not supported."},
      {"user_lockout_config", FieldType::kMap, "Not supported."},
      {"plugin_version", FieldType::kString, "Not supported."},
      {"options", FieldType::kMap, "Not supported for auth methods."},
  };
  p.operations[Operation::kRead] = [mounts](Request&, const FieldData& d) -> Result<Response> {
    auto e = mounts->Get("auth/" + d.GetString("path"));
    if (!e)
      return InvalidArgument("cannot fetch sysview for path \"auth/" +
                             NormalizeMountPath(d.GetString("path")) + "\"");
    auto info = mounts->Info(*e);
    Json data = {{"default_lease_ttl", info.default_lease_ttl},
                 {"max_lease_ttl", info.max_lease_ttl},
                 {"force_no_cache", false},
                 {"description", e->description},
                 {"token_type", "default-service"}};
    if (!e->listing_visibility.empty()) data["listing_visibility"] = e->listing_visibility;
    return Response::WithData(std::move(data));
  };
  p.async_operations[Operation::kUpdate] = [mounts](Request&,
                                                    const FieldData& d) -> Task<Result<Response>> {
    std::string path = "auth/" + NormalizeMountPath(d.GetString("path"));
    if (!mounts->Get(path)) co_return InvalidArgument("no mount entry found at \"" + path + "\"");
    CO_RETURN_IF_ERROR(CheckConfig(d.raw()));
    if (d.Has("options") && !d.Get("options").empty())
      co_return InvalidArgument("options are not supported for auth methods");
    CO_ASSIGN_OR_RETURN(auto def, OptionalTtl(d.raw(), "default_lease_ttl"));
    CO_ASSIGN_OR_RETURN(auto max, OptionalTtl(d.raw(), "max_lease_ttl"));
    std::optional<std::string> desc;
    if (d.Has("description")) desc = d.GetString("description");
    Json lv = d.raw().contains("listing_visibility") ? d.raw()["listing_visibility"] : Json();
    CO_ASSIGN_OR_RETURN(auto visibility, ListingVisibility(lv));
    MountTune tune;
    tune.default_ttl = def;
    tune.max_ttl = max;
    tune.description = std::move(desc);
    tune.listing_visibility = std::move(visibility);
    CO_RETURN_IF_ERROR((co_await mounts->Tune(path, std::move(tune))).status());
    co_return Response();
  };
  return p;
}

Path AuthMountPath(MountManager* mounts, ExpirationManager* exp, TokenStore* tokens) {
  Path p;
  p.pattern = "auth/(?P<path>.+)";
  p.synopsis = "Enable a new credential backend with a name.";
  p.fields = {
      {"path", FieldType::kString, "The path to mount to. Cannot be delimited. Example: \"user\""},
      {"type", FieldType::kString, "The type of the backend. Example: \"userpass\""},
      {"description", FieldType::kString, "User-friendly description for this credential backend."},
      {"config", FieldType::kMap, "Configuration for this mount, such as default_lease_ttl."},
      {"options", FieldType::kMap, "Not supported for auth methods."},
      {"local", FieldType::kBool, "Mark the mount as a local mount."},
      {"seal_wrap", FieldType::kBool, "Whether to turn on seal wrapping for the mount."},
      {"external_entropy_access", FieldType::kBool, "Not supported."},
      {"plugin_name", FieldType::kString, "Name of the auth plugin to use (builtin only)."},
  };
  p.operations[Operation::kRead] = [mounts](Request&, const FieldData& d) -> Result<Response> {
    std::string path = "auth/" + NormalizeMountPath(d.GetString("path"));
    auto e = mounts->Get(path);
    if (!e) return InvalidArgument("No auth engine at " + path.substr(5));
    return Response::WithData(AuthMountToJson(*e));
  };
  p.async_operations[Operation::kUpdate] = [mounts](Request&,
                                                    const FieldData& d) -> Task<Result<Response>> {
    MountEntry e;
    e.path = d.GetString("path");
    e.type = d.GetString("type");
    if (d.Has("plugin_name") && !d.GetString("plugin_name").empty()) {
      if (!e.type.empty() && e.type != d.GetString("plugin_name"))
        co_return InvalidArgument("plugin_name and type name different auth methods");
      e.type = d.GetString("plugin_name");
    }
    e.description = d.GetString("description");
    if (d.GetBool("external_entropy_access"))
      co_return InvalidArgument("external_entropy_access is not supported by this server");
    Json config = d.Get("config");
    CO_RETURN_IF_ERROR(CheckConfig(config));
    CO_ASSIGN_OR_RETURN(auto def, OptionalTtl(config, "default_lease_ttl"));
    CO_ASSIGN_OR_RETURN(auto max, OptionalTtl(config, "max_lease_ttl"));
    e.default_lease_ttl = def.value_or(0);
    e.max_lease_ttl = max.value_or(0);
    Json lv = config.is_object() && config.contains("listing_visibility")
                  ? config["listing_visibility"]
                  : Json();
    CO_ASSIGN_OR_RETURN(auto visibility, ListingVisibility(lv));
    e.listing_visibility = visibility.value_or("");
    if (d.Has("options")) e.options = d.Get("options");
    e.local = d.GetBool("local");
    e.seal_wrap = d.GetBool("seal_wrap");
    CO_RETURN_IF_ERROR(co_await mounts->Mount(std::move(e), /*credential=*/true));
    co_return Response();
  };
  // Disabling revokes every token the method issued (with their leases: IAM users go), then
  // removes the mount and its data.
  p.async_operations[Operation::kDelete] =
      [mounts, exp, tokens](Request&, const FieldData& d) -> Task<Result<Response>> {
    std::string path = "auth/" + NormalizeMountPath(d.GetString("path"));
    if (path == "auth/token/")
      co_return InvalidArgument("token credential backend cannot be disabled");
    if (!mounts->Get(path)) co_return Response();
    if (Status st = co_await RetireMount(mounts, exp, path); !st.ok()) co_return st;
    auto revoked = co_await tokens->RevokeByPathPrefix(path);
    if (!revoked.ok()) {
      if (auto live = mounts->Live(path)) live->traffic->tainted = false;
      co_return Internal("failed to revoke the tokens of " + path + ": " +
                         revoked.status().message());
    }
    if (Status st = co_await mounts->Unmount(path); !st.ok()) co_return st;
    co_return Response();
  };
  return p;
}

}  // namespace

std::vector<logical::Path> AuthMountPaths(MountManager* mounts, ExpirationManager* expiration,
                                          TokenStore* tokens) {
  return {AuthTunePath(mounts), AuthMountPath(mounts, expiration, tokens), AuthListPath(mounts)};
}

}  // namespace vault::core
