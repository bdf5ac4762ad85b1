// sys/ paths for leases: today's sys/leases/* and the 2015 sys/renew, sys/revoke,
// sys/revoke-prefix, sys/revoke-force that the 2015 CLI uses.
#include "core/system_backend.h"

namespace vault::core {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

namespace {

// The lease id: body `lease_id` wins over the URL capture (Vault's rule).
std::string LeaseIdFrom(const FieldData& d) {
  if (d.Has("lease_id") && !d.GetString("lease_id").empty()) return d.GetString("lease_id");
  return d.Has("url_lease_id") ? d.GetString("url_lease_id") : "";
}

const char* kLeaseHelp =
    "Leases are the time limits Vault attaches to every dynamic secret. When a lease expires\n"
    "(or is revoked) Vault asks the engine that issued the secret to revoke it, for the AWS\n"
    "engine: delete the IAM user. Leases can be renewed up to their max TTL.";

Path RenewPath(ExpirationManager* exp) {
  Path p;
  p.pattern = "(leases/)?renew(/(?P<url_lease_id>.+))?";
  p.synopsis = "Renews a lease, requesting to extend the lease.";
  p.description = kLeaseHelp;
  p.fields = {
      {"lease_id", FieldType::kString, "The lease identifier to renew."},
      {"url_lease_id", FieldType::kString, "The lease identifier to renew (URL form)."},
      {"increment", FieldType::kDurationSecond, "The desired increment in seconds to the lease."}};
  p.async_operations[Operation::kUpdate] = [exp](Request&,
                                                 const FieldData& d) -> Task<Result<Response>> {
    std::string id = LeaseIdFrom(d);
    if (id.empty()) co_return InvalidArgument("lease_id must be specified");
    co_return co_await exp->Renew(id, d.GetInt("increment"));
  };
  return p;
}

Path RevokePath(ExpirationManager* exp) {
  Path p;
  p.pattern = "(leases/)?revoke(/(?P<url_lease_id>.+))?";
  p.synopsis = "Revokes a lease immediately.";
  p.description = kLeaseHelp;
  p.fields = {
      {"lease_id", FieldType::kString, "The lease identifier to revoke."},
      {"url_lease_id", FieldType::kString, "The lease identifier to revoke (URL form)."},
      {"sync", FieldType::kBool, "Revoke synchronously (always; accepted for clients).", true}};
  p.async_operations[Operation::kUpdate] = [exp](Request&,
                                                 const FieldData& d) -> Task<Result<Response>> {
    std::string id = LeaseIdFrom(d);
    if (id.empty()) co_return InvalidArgument("lease_id must be specified");
    Status st = co_await exp->Revoke(id);
    if (!st.ok()) co_return st;
    co_return Response();
  };
  return p;
}

Path RevokePrefixPath(ExpirationManager* exp, bool force) {
  Path p;
  p.pattern =
      std::string("(leases/)?") + (force ? "revoke-force" : "revoke-prefix") + "/(?P<prefix>.+)";
  p.synopsis = force ? "Revokes all secrets or tokens generated under a given prefix "
                       "immediately, ignoring backend errors."
                     : "Revokes all secrets (via a lease ID prefix) or tokens (via the tokens' "
                       "path property) generated under a given prefix immediately.";
  p.description = kLeaseHelp;
  p.fields = {{"prefix", FieldType::kString, "The path prefix to revoke."},
              {"sync", FieldType::kBool, "Revoke synchronously (always).", true}};
  p.async_operations[Operation::kUpdate] =
      [exp, force](Request&, const FieldData& d) -> Task<Result<Response>> {
    Status st = co_await exp->RevokePrefix(d.GetString("prefix"), force);
    if (!st.ok()) co_return st;
    co_return Response();
  };
  return p;
}

Path LookupPath(ExpirationManager* exp) {
  Path p;
  p.pattern = "leases/lookup";
  p.synopsis = "View or list lease metadata.";
  p.description = kLeaseHelp;
  p.fields = {{"lease_id", FieldType::kString, "The lease identifier to look up."}};
  p.async_operations[Operation::kUpdate] = [exp](Request&,
                                                 const FieldData& d) -> Task<Result<Response>> {
    std::string id = d.GetString("lease_id");
    if (id.empty()) co_return InvalidArgument("missing lease_id");
    CO_ASSIGN_OR_RETURN(Json j, co_await exp->Lookup(id));
    co_return Response::WithData(std::move(j));
  };
  return p;
}

Path LookupListPath(ExpirationManager* exp) {
  Path p;
  p.pattern = "leases/lookup/(?P<prefix>.*)";
  p.synopsis = "View or list lease metadata.";
  p.description = kLeaseHelp;
  p.fields = {{"prefix", FieldType::kString, "The path prefix to list."}};
  p.async_operations[Operation::kList] = [exp](Request&,
                                               const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto keys, co_await exp->List(d.GetString("prefix")));
    if (keys.empty()) co_return Response();
    Json data = Json::object();
    data["keys"] = std::move(keys);
    co_return Response::WithData(std::move(data));
  };
  return p;
}

Path TidyPath(ExpirationManager* exp) {
  Path p;
  p.pattern = "leases/tidy";
  p.synopsis = "Cleans up the dangling storage entries for leases.";
  p.description = kLeaseHelp;
  p.async_operations[Operation::kUpdate] = [exp](Request&,
                                                 const FieldData&) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(Json j, co_await exp->Tidy());
    Response r;
    r.warnings.push_back("Tidy operation completed: checked " +
                         std::to_string(j["checked"].get<int64_t>()) + " index entries, removed " +
                         std::to_string(j["removed"].get<int64_t>()));
    co_return r;
  };
  return p;
}

}  // namespace

std::vector<logical::Path> LeasePaths(ExpirationManager* exp) {
  return {RenewPath(exp),
          RevokePath(exp),
          RevokePrefixPath(exp, false),
          RevokePrefixPath(exp, true),
          LookupPath(exp),
          LookupListPath(exp),
          TidyPath(exp)};
}

}  // namespace vault::core
