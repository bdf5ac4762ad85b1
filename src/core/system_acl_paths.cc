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

Result<Response> ListPolicies(PolicyStore* policies, bool with_policies_key) {
  ASSIGN_OR_RETURN(auto names, policies->List());
  Json data = {{"keys", names}};
  if (with_policies_key) data["policies"] = names;
  return Response::WithData(std::move(data));
}

}  // namespace

Result<std::vector<std::string>> TokenCapabilities(PolicyStore* policies, const TokenEntry& token,
                                                   const std::string& raw_path) {
  std::string path = raw_path;
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  ASSIGN_OR_RETURN(auto acl, policies->AclFor(token.policies));
  if (acl->root()) return std::vector<std::string>{"root"};
  auto names = CapabilityNames(acl->Capabilities(path));
  if (names.empty()) return std::vector<std::string>{"deny"};
  return names;
}

std::vector<Path> PolicyPaths(PolicyStore* policies) {
  std::vector<Path> out;
  Path list;
  list.pattern = "policy/?";
  list.synopsis = "List the configured access control policies.";
  list.operations[Operation::kRead] = [policies](Request&, const FieldData&) {
    return ListPolicies(policies, true);
  };
  list.operations[Operation::kList] = list.operations[Operation::kRead];
  out.push_back(list);

  auto read = [policies](const std::string& key) {
    return [policies, key](Request&, const FieldData& d) -> Result<Response> {
      std::string name = ToLower(d.GetString("name"));
      if (name == "root") return Response();  // implicit; nothing to show (404)
      ASSIGN_OR_RETURN(auto p, policies->Get(name));
      if (!p) return Response();
      return Response::WithData({{"name", p->name}, {key, p->raw}});
    };
  };
  auto write = [policies](Request&, const FieldData& d) -> Result<Response> {
    std::string text = d.Has("policy") ? d.GetString("policy") : d.GetString("rules");
    if (Trim(text).empty()) return InvalidArgument("'policy' parameter not supplied or empty");
    RETURN_IF_ERROR(policies->Put(d.GetString("name"), MaybeBase64(text)));
    Response r;
    std::string name = d.GetString("name");
    if (ToLower(name) != name)
      r.warnings.push_back("policy name was converted to \"" + ToLower(name) + "\"");
    return r;
  };
  auto del = [policies](Request&, const FieldData& d) -> Result<Response> {
    RETURN_IF_ERROR(policies->Delete(d.GetString("name")));
    return Response();
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
  one.operations[Operation::kRead] = read("rules");
  one.operations[Operation::kUpdate] = write;
  one.operations[Operation::kDelete] = del;
  out.push_back(one);

  Path acl_list;
  acl_list.pattern = "policies/acl/?";
  acl_list.synopsis = "List the configured access control policies.";
  acl_list.operations[Operation::kList] = [policies](Request&, const FieldData&) {
    return ListPolicies(policies, false);
  };
  out.push_back(acl_list);

  Path acl_one;
  acl_one.pattern = "policies/acl/(?P<name>.+)";
  acl_one.synopsis = "Read, Modify, or Delete an access control policy.";
  acl_one.fields = {{"name", FieldType::kString, "The name of the policy. Example: \"ops\""},
                    {"policy", FieldType::kString, "The rules of the policy."}};
  acl_one.operations[Operation::kRead] = read("policy");
  acl_one.operations[Operation::kUpdate] = write;
  acl_one.operations[Operation::kDelete] = del;
  out.push_back(acl_one);
  return out;
}

std::vector<Path> CapabilitiesPaths(TokenStore* tokens, PolicyStore* policies) {
  auto report = [policies](const TokenEntry& t, const FieldData& d) -> Result<Response> {
    std::vector<std::string> paths = d.GetStrings("paths");
    for (const auto& p : d.GetStrings("path")) paths.push_back(p);
    if (paths.empty()) return InvalidArgument("missing paths");
    Json data = Json::object();
    for (const auto& p : paths) {
      ASSIGN_OR_RETURN(auto caps, TokenCapabilities(policies, t, p));
      data[p] = caps;
    }
    if (paths.size() == 1) data["capabilities"] = data[paths[0]];
    return Response::WithData(std::move(data));
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
  cap.operations[Operation::kUpdate] = [=](Request&, const FieldData& d) -> Result<Response> {
    ASSIGN_OR_RETURN(TokenRef t, tokens->Lookup(d.GetString("token")));
    if (!t) return InvalidArgument("invalid token");
    return report(*t, d);
  };

  Path self;
  self.pattern = "capabilities-self";
  self.synopsis = "Fetches the capabilities of the given token on the given path.";
  self.fields = path_fields;
  self.fields.push_back({"token", FieldType::kString, "Ignored: the calling token is used."});
  self.operations[Operation::kUpdate] = [=](Request& r, const FieldData& d) -> Result<Response> {
    ASSIGN_OR_RETURN(TokenRef t, tokens->Lookup(r.client_token));
    if (!t) return PermissionDenied();
    return report(*t, d);
  };

  Path acc;
  acc.pattern = "capabilities-accessor";
  acc.synopsis =
      "Fetches the capabilities of the token associated with the given accessor on the given path.";
  acc.fields = path_fields;
  acc.fields.push_back({"accessor", FieldType::kString, "Accessor of the token."});
  acc.operations[Operation::kUpdate] = [=](Request&, const FieldData& d) -> Result<Response> {
    ASSIGN_OR_RETURN(TokenRef t, tokens->LookupAccessor(d.GetString("accessor")));
    if (!t) return InvalidArgument("invalid accessor");
    return report(*t, d);
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
      "options file_path (\"stdout\" and \"discard\" are special), log_raw, hmac_accessor, mode "
      "and format (json).";
  one.fields = {
      {"path", FieldType::kString,
       "The name of the backend. Cannot be delimited. Example: \"mysql\""},
      {"type", FieldType::kString, "The type of the backend. Example: \"file\""},
      {"description", FieldType::kString, "User-friendly description for this audit backend."},
      {"options", FieldType::kMap, "Configuration options for the audit backend."},
      {"local", FieldType::kBool, "Mark the mount as a local mount."}};
  one.operations[Operation::kUpdate] = [audit](Request&, const FieldData& d) -> Result<Response> {
    AuditDeviceEntry e;
    e.path = d.GetString("path");
    e.type = d.GetString("type");
    e.description = d.GetString("description");
    e.options = d.Has("options") ? d.Get("options") : Json::object();
    e.local = d.GetBool("local");
    if (e.type.empty()) return InvalidArgument("type is required");
    RETURN_IF_ERROR(audit->Enable(std::move(e)));
    return Response();
  };
  one.operations[Operation::kDelete] = [audit](Request&, const FieldData& d) -> Result<Response> {
    RETURN_IF_ERROR(audit->Disable(d.GetString("path")));
    return Response();
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
