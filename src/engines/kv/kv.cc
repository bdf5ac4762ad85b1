#include "engines/kv/kv.h"

#include "logical/framework.h"
#include "util/duration.h"

namespace vault::engines {
namespace {

using logical::FieldData;
using logical::Operation;
using logical::Request;
using logical::Response;

constexpr char kHelp[] =
    "The generic backend reads and writes arbitrary secrets to the backend.\nThe secrets are "
    "encrypted/decrypted by Vault: they are never stored\nunencrypted in the backend and the "
    "backend never has an opportunity to\nsee the unencrypted value.\n\nLeases can be set on a "
    "per-secret basis. These leases will be sent down\nwhen that secret is read, and it is "
    "assumed that some outside process will\nrevoke and/or replace the secret at that path.";

// The TTL a stored secret asks for: "ttl" wins over the legacy "lease"; 0 if none.
Result<int64_t> DataTtl(const Json& data) {
  for (const char* key : {"ttl", "lease"}) {
    if (!data.contains(key)) continue;
    const Json& v = data[key];
    if (v.is_number()) return v.get<int64_t>();
    if (v.is_string()) {
      auto r = ParseDurationSeconds(v.get<std::string>());
      if (!r.ok())
        return InvalidArgument("failed to parse " + std::string(key) + ": " + r.status().message());
      return *r;
    }
  }
  return int64_t{0};
}

Status ValidPath(const std::string& path) {
  if (path.empty()) return InvalidArgument("missing path");
  return Status::Ok();
}

}  // namespace

std::shared_ptr<logical::Backend> NewKvBackend(const logical::MountInfo& mount, Clock* clock) {
  if (mount.options.is_object() && mount.options.value("version", "") == "2")
    return NewKvV2Backend(mount, clock);
  logical::Path p;
  p.pattern = ".*";
  p.synopsis =
      "Pass-through secret storage to the storage backend, allowing you to\nread/write arbitrary "
      "data into secret storage.";
  p.description =
      "The pass-through backend reads and writes arbitrary data into secret storage,\n"
      "encrypting it along the way.\n\nA TTL can be specified when writing with the \"ttl\" "
      "field. If given, the duration of leases returned by this backend will be set to this "
      "value. This can be used as a hint from the writer of a secret to the consumer of a "
      "secret that the consumer should re-read the value before the TTL has expired. However, "
      "any revocation must be handled by the user of this backend; the lease duration does "
      "not affect the provided data in any way.";
  p.fields = {{"ttl", logical::FieldType::kString, "Lease time for this key when read. Ex: 1h"}};
  // Captureless coroutine lambdas: the frame holds only the parameters, which outlive the task.
  p.existence_check = [](Request& r, const FieldData&) -> Task<Result<bool>> {
    CO_ASSIGN_OR_RETURN(auto v, co_await r.storage->Get(r.path));
    co_return v.has_value();
  };
  p.async_operations[Operation::kRead] = [](Request& r,
                                            const FieldData&) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(ValidPath(r.path));
    CO_ASSIGN_OR_RETURN(auto raw, co_await r.storage->Get(r.path));
    if (!raw) co_return Response();
    // The stored text is DumpJson's output, which is what the envelope would print after a parse:
    // a caller that renders JSON gets it as is, unless it may carry a TTL hint (parsed below).
    if (r.accepts_data_json && raw->size() >= 2 && raw->front() == '{' && raw->back() == '}' &&
        raw->find("\"ttl\"") == std::string::npos && raw->find("\"lease\"") == std::string::npos) {
      Response resp;
      resp.data_json = std::move(*raw);
      resp.lease_duration = r.mount.default_lease_ttl;
      co_return resp;
    }
    auto stored = ParseJson(*raw);
    if (!stored.ok()) co_return Internal("corrupt entry at " + r.path);
    auto ttl = DataTtl(*stored);
    Response resp = Response::WithData(std::move(*stored));
    int64_t t = ttl.ok() && *ttl > 0 ? *ttl : r.mount.default_lease_ttl;
    resp.lease_duration = t;
    co_return resp;
  };
  auto write = [](Request& r, const FieldData&) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(ValidPath(r.path));
    if (!r.data.is_object() || r.data.empty()) co_return InvalidArgument("missing data fields");
    CO_RETURN_IF_ERROR(DataTtl(r.data).status());
    CO_RETURN_IF_ERROR(co_await logical::PutJson(r.storage, r.path, r.data));
    co_return Response();
  };
  p.async_operations[Operation::kUpdate] = write;
  p.async_operations[Operation::kCreate] = write;
  p.async_operations[Operation::kDelete] = [](Request& r,
                                              const FieldData&) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(ValidPath(r.path));
    CO_RETURN_IF_ERROR(co_await r.storage->Delete(r.path));
    co_return Response();
  };
  p.async_operations[Operation::kList] = [](Request& r,
                                            const FieldData&) -> Task<Result<Response>> {
    std::string prefix = r.path;
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    CO_ASSIGN_OR_RETURN(auto keys, co_await r.storage->List(prefix));
    if (keys.empty()) co_return Response();
    co_return Response::WithData({{"keys", keys}});
  };
  return std::make_shared<logical::FrameworkBackend>(kHelp, std::vector<logical::Path>{p});
}

}  // namespace vault::engines
