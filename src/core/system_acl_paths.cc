#include "core/system_acl_paths.h"

#include "core/acl.h"
#include "util/encoding.h"
#include "util/strings.h"

namespace vault::core {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

namespace {

// hvac and node-vault may send the policy base64-encoded; Vault decodes it when it is valid
// base64 (HCL text never is: it has spaces and quotes).
std::string MaybeBase64(const std::string& s) {
  auto decoded = Base64Decode(s);
  if (decoded.ok() && !decoded->empty() && IsValidUtf8(*decoded)) return *decoded;
  return s;
}

Task<Result<Response>> ListPolicies(PolicyStore* policies, bool with_policies_key) {
  CO_ASSIGN_OR_RETURN(auto names, co_await policies->List());
  Json data = Json::object();
  data["keys"] = names;
  if (with_policies_key) data["policies"] = names;
  co_return Response::WithData(std::move(data));
}

}  // namespace

Task<Result<std::vector<std::string>>> TokenCapabilities(PolicyStore* policies,
                                                         const TokenEntry& token,
                                                         std::string raw_path) {
  std::string path = raw_path;
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  CO_ASSIGN_OR_RETURN(auto acl, co_await policies->AclFor(token.policies));
  if (acl->root()) co_return std::vector<std::string>{"root"};
  auto names = CapabilityNames(acl->Capabilities(path));
  if (names.empty()) co_return std::vector<std::string>{"deny"};
  co_return names;
}

// The handlers below are stored lambdas (they live as long as the backend), so their captures
// outlive the coroutines they start.
std::vector<Path> PolicyPaths(PolicyStore* policies) {
  std::vector<Path> out;
  Path list;
  list.pattern = "policy/?";
  list.synopsis = "List the configured access control policies.";
  list.async_operations[Operation::kRead] = [policies](Request&, const FieldData&) {
    return ListPolicies(policies, true);
  };
  list.async_operations[Operation::kList] = list.async_operations[Operation::kRead];
  out.push_back(list);

  auto read = [policies](const std::string& key) {
    return [policies, key](Request&, const FieldData& d) -> Task<Result<Response>> {
      std::string name = ToLower(d.GetString("name"));
      if (name == "root") co_return Response();  // implicit; nothing to show (404)
      CO_ASSIGN_OR_RETURN(auto p, co_await policies->Get(name));
      if (!p) co_return Response();
      Json data = Json::object();
      data["name"] = p->name;
      data[key] = p->raw;
      co_return Response::WithData(std::move(data));
    };
  };
  auto write = [policies](Request&, const FieldData& d) -> Task<Result<Response>> {
    std::string text = d.Has("policy") ? d.GetString("policy") : d.GetString("rules");
    if (Trim(text).empty()) co_return InvalidArgument("'policy' parameter not supplied or empty");
    CO_RETURN_IF_ERROR(co_await policies->Put(d.GetString("name"), MaybeBase64(text)));
    Response r;
    std::string name = d.GetString("name");
    if (ToLower(name) != name)
      r.warnings.push_back("policy name was converted to \"" + ToLower(name) + "\"");
    co_return r;
  };
  auto del = [policies](Request&, const FieldData& d) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(co_await policies->Delete(d.GetString("name")));
    co_return Response();
  };

  Path one;
  one.pattern = "policy/(?P<name>.+)";
  one.synopsis = "Read, Modify, or Delete an access control policy.";
  one.description =
      "Read the rules of an existing policy, create or update the rules of a policy, or delete a "
      "policy.";
  one.fields = {{"name", FieldType::kString, "The name of the policy. Example: \"ops\""},
                {"rules", FieldType::kString, "The rules of the policy."},
                {"policy", FieldType::kString, "The rules of the policy."}};
  one.async_operations[Operation::kRead] = read("rules");
  one.async_operations[Operation::kUpdate] = write;
  one.async_operations[Operation::kDelete] = del;
  out.push_back(one);

  Path acl_list;
  acl_list.pattern = "policies/acl/?";
  acl_list.synopsis = "List the configured access control policies.";
  acl_list.async_operations[Operation::kList] = [policies](Request&, const FieldData&) {
    return ListPolicies(policies, false);
  };
  out.push_back(acl_list);

  Path acl_one;
  acl_one.pattern = "policies/acl/(?P<name>.+)";
  acl_one.synopsis = "Read, Modify, or Delete an access control policy.";
  acl_one.fields = {{"name", FieldType::kString, "The name of the policy. Example: \"ops\""},
                    {"policy", FieldType::kString, "The rules of the policy."}};
  acl_one.async_operations[Operation::kRead] = read("policy");
  acl_one.async_operations[Operation::kUpdate] = write;
  acl_one.async_operations[Operation::kDelete] = del;
  out.push_back(acl_one);
  return out;
}

std::vector<Path> CapabilitiesPaths(TokenStore* tokens, PolicyStore* policies) {
  auto report = [policies](const TokenEntry& t, const FieldData& d) -> Task<Result<Response>> {
    std::vector<std::string> paths = d.GetStrings("paths");
    for (const auto& p : d.GetStrings("path")) paths.push_back(p);
    if (paths.empty()) co_return InvalidArgument("missing paths");
    Json data = Json::object();
    for (const auto& p : paths) {
      CO_ASSIGN_OR_RETURN(auto caps, co_await TokenCapabilities(policies, t, p));
      data[p] = caps;
    }
    if (paths.size() == 1) data["capabilities"] = data[paths[0]];
    co_return Response::WithData(std::move(data));
  };
  std::vector<Field> path_fields = {
      {"path", FieldType::kCommaStringSlice, "Use 'paths' instead."},
      {"paths", FieldType::kCommaStringSlice, "Paths on which capabilities are being queried."}};

  Path cap;
  cap.pattern = "capabilities";
  cap.synopsis = "Fetches the capabilities of the given token on the given path.";
  cap.fields = path_fields;
  cap.fields.push_back(
      {"token", FieldType::kString, "Token for which capabilities are being queried."});
  cap.async_operations[Operation::kUpdate] = [=](Request&,
                                                 const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(TokenRef t, co_await tokens->Lookup(d.GetString("token")));
    if (!t) co_return InvalidArgument("invalid token");
    Result<Response> out = co_await report(*t, d);
    co_return out;
  };

  Path self;
  self.pattern = "capabilities-self";
  self.synopsis = "Fetches the capabilities of the given token on the given path.";
  self.fields = path_fields;
  self.fields.push_back({"token", FieldType::kString, "Ignored: the calling token is used."});
  self.async_operations[Operation::kUpdate] = [=](Request& r,
                                                  const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(TokenRef t, co_await tokens->Lookup(r.client_token));
    if (!t) co_return PermissionDenied();
    Result<Response> out = co_await report(*t, d);
    co_return out;
  };

  Path acc;
  acc.pattern = "capabilities-accessor";
  acc.synopsis =
      "Fetches the capabilities of the token associated with the given accessor on the given path.";
  acc.fields = path_fields;
  acc.fields.push_back({"accessor", FieldType::kString, "Accessor of the token."});
  acc.async_operations[Operation::kUpdate] = [=](Request&,
                                                 const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(TokenRef t, co_await tokens->LookupAccessor(d.GetString("accessor")));
    if (!t) co_return InvalidArgument("invalid accessor");
    Result<Response> out = co_await report(*t, d);
    co_return out;
  };
  return {cap, self, acc};
}

std::vector<Path> AuditPaths(AuditBroker* audit) {
  Path list;
  list.pattern = "audit/?";
  list.synopsis = "List the currently enabled audit backends.";
  list.operations[Operation::kRead] = [audit](Request&, const FieldData&) -> Result<Response> {
    Json data = Json::object();
    for (const auto& e : audit->List()) {
      data[e.path] = {{"type", e.type},
                      {"description", e.description},
                      {"options", e.options},
                      {"local", e.local},
                      {"path", e.path}};
    }
    return Response::WithData(std::move(data));
  };

  Path one;
  one.pattern = "audit/(?P<path>.+)";
  one.synopsis = "Enable or disable audit backends.";
  one.description =
      "Enable a new audit backend or disable an existing backend.\n\nThe file backend takes "
      "file_path (\"stdout\" and \"discard\" are special) and mode; the socket backend address, "
      "socket_type (tcp, udp, unix) and write_timeout; the syslog backend facility, tag and "
      "socket_path. All take log_raw, hmac_accessor, prefix and format (json).";
  one.fields = {
      {"path", FieldType::kString,
       "The name of the backend. Cannot be delimited. Example: \"mysql\""},
      {"type", FieldType::kString, "The type of the backend: \"file\", \"socket\" or \"syslog\"."},
      {"description", FieldType::kString, "User-friendly description for this audit backend."},
      {"options", FieldType::kMap, "Configuration options for the audit backend."},
      {"local", FieldType::kBool, "Mark the mount as a local mount."}};
  one.async_operations[Operation::kUpdate] = [audit](Request&,
                                                     const FieldData& d) -> Task<Result<Response>> {
    AuditDeviceEntry e;
    e.path = d.GetString("path");
    e.type = d.GetString("type");
    e.description = d.GetString("description");
    e.options = d.Has("options") ? d.Get("options") : Json::object();
    e.local = d.GetBool("local");
    if (e.type.empty()) co_return InvalidArgument("type is required");
    CO_RETURN_IF_ERROR(co_await audit->Enable(std::move(e)));
    co_return Response();
  };
  one.async_operations[Operation::kDelete] = [audit](Request&,
                                                     const FieldData& d) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(co_await audit->Disable(d.GetString("path")));
    co_return Response();
  };

  Path hash;
  hash.pattern = "audit-hash/(?P<path>.+)";
  hash.synopsis = "The hash of the given string via the given audit backend.";
  hash.fields = {{"path", FieldType::kString, "The name of the backend."},
                 {"input", FieldType::kString, "The input string to hash."}};
  hash.operations[Operation::kUpdate] = [audit](Request&, const FieldData& d) -> Result<Response> {
    ASSIGN_OR_RETURN(std::string h, audit->Hash(d.GetString("path"), d.GetString("input")));
    return Response::WithData({{"hash", h}});
  };
  return {list, one, hash};
}

}  // namespace vault::core
