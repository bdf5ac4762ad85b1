// Response wrapping (sys/wrapping/*): an answer kept under a single-use token whose only policy is
// response-wrapping, handed back once by sys/wrapping/unwrap.
//
// Storage (through the barrier): sys/wrapping/response/<wrapping token's id_hash> ->
// {"response": the whole answer as sent, "creation_ttl", "creation_time", "creation_path"}.
// Revoking the wrapping token (unwrap, expiry, revoke) deletes it (the revoke hook in core.cc).
#include "core/acl.h"
#include "core/core.h"
#include "core/policy.h"
#include "util/clock.h"
#include "util/log.h"

namespace vault::core {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

constexpr char kWrapPrefix[] = "sys/wrapping/response/";
constexpr char kInvalid[] = "wrapping token is not valid or does not exist";

bool IsWrappingToken(const TokenEntry& e) {
  return e.policies.size() == 1 && e.policies[0] == kResponseWrappingPolicy;
}

}  // namespace

std::string WrappingStorageKey(const std::string& id_hash) { return kWrapPrefix + id_hash; }

Task<Result<Json>> Core::Wrap(std::string response, int64_t ttl, std::string creation_path,
                              std::string wrapped_accessor) {
  if (ttl <= 0) co_return InvalidArgument("requested wrap ttl cannot be negative");
  TokenCreateParams p;
  p.policies = {kResponseWrappingPolicy};
  p.display_name = "response-wrapping";
  p.path = creation_path;
  p.num_uses = 1;
  p.ttl = ttl;
  p.explicit_max_ttl = ttl;
  p.renewable = false;
  TokenEntry created;
  CO_ASSIGN_OR_RETURN(std::string token, co_await tokens_.Create(p, &created));
  const int64_t now_ns = clock_->NowNanos();
  Json stored = {{"response", std::move(response)},
                 {"creation_ttl", ttl},
                 {"creation_time", FormatRfc3339Nano(now_ns)},
                 {"creation_path", creation_path}};
  Status st = co_await logical::PutJson(&barrier_, WrappingStorageKey(created.id_hash), stored);
  if (!st.ok()) {
    (co_await tokens_.RevokeTree(created.id_hash)).IgnoreError();
    co_return st;
  }
  Json info = {{"token", token},
               {"accessor", created.accessor},
               {"ttl", ttl},
               {"creation_time", stored["creation_time"]},
               {"creation_path", creation_path}};
  if (!wrapped_accessor.empty()) info["wrapped_accessor"] = wrapped_accessor;
  co_return info;
}

Task<Result<std::pair<TokenRef, Json>>> Core::WrappedEntry(std::string token) {
  if (token.empty()) co_return InvalidArgument(kInvalid);
  auto e = co_await tokens_.Lookup(token);
  if (!e.ok() || !*e || !IsWrappingToken(**e)) co_return InvalidArgument(kInvalid);
  CO_ASSIGN_OR_RETURN(auto stored,
                      co_await logical::GetJson(&barrier_, WrappingStorageKey((*e)->id_hash)));
  if (!stored) co_return InvalidArgument(kInvalid);
  co_return std::make_pair(*e, std::move(*stored));
}

std::vector<logical::Path> Core::WrappingPaths() {
  std::vector<Field> token_field = {{"token", FieldType::kString, "The wrapping token."}};
  Path lookup;
  lookup.pattern = "wrapping/lookup";
  lookup.synopsis = "Looks up the properties of a response-wrapped token.";
  lookup.fields = token_field;
  auto do_lookup = [this](Request& r, const FieldData& d) -> Task<Result<Response>> {
    std::string token = d.GetString("token");
    if (token.empty()) token = r.client_token;
    if (token.empty()) co_return InvalidArgument("missing \"token\" value in input");
    CO_ASSIGN_OR_RETURN(auto entry, co_await WrappedEntry(token));
    const Json& s = entry.second;
    co_return Response::WithData({{"creation_ttl", s.value("creation_ttl", int64_t{0})},
                                  {"creation_time", s.value("creation_time", "")},
                                  {"creation_path", s.value("creation_path", "")}});
  };
  lookup.async_operations[Operation::kUpdate] = do_lookup;
  lookup.async_operations[Operation::kRead] = do_lookup;

  Path unwrap;
  unwrap.pattern = "wrapping/unwrap";
  unwrap.synopsis = "Unwraps a response-wrapped token.";
  unwrap.fields = token_field;
  // Served without core's token check (see UnauthenticatedPaths): the wrapping token may come as
  // X-Vault-Token, where a use would be spent before we could read its answer; a third party
  // sending it in the body is checked here like any caller.
  unwrap.async_operations[Operation::kUpdate] =
      [this](Request& r, const FieldData& d) -> Task<Result<Response>> {
    std::string token = d.GetString("token");
    if (!token.empty() && token != r.client_token) {
      auto caller = co_await tokens_.Lookup(r.client_token);
      if (!caller.ok() || !*caller) co_return PermissionDenied();
      CO_ASSIGN_OR_RETURN(auto acl, co_await policies_.AclFor((*caller)->policies));
      if (!acl->Allowed(Operation::kUpdate, "sys/wrapping/unwrap", false))
        co_return PermissionDenied();
    } else {
      token = r.client_token;
    }
    CO_ASSIGN_OR_RETURN(auto entry, co_await WrappedEntry(token));
    // The single use: two unwraps of one token never both succeed.
    auto used = co_await tokens_.Use(entry.first->id_hash);
    if (!used.ok()) co_return InvalidArgument(kInvalid);
    Response resp;
    resp.raw_body = entry.second.value("response", "");
    if (Status st = co_await tokens_.RevokeTree(entry.first->id_hash); !st.ok())
      spdlog::warn("core: revoking a used wrapping token failed: {}", st.message());
    co_return resp;
  };

  Path rewrap;
  rewrap.pattern = "wrapping/rewrap";
  rewrap.synopsis = "Rotates a response-wrapped token.";
  rewrap.fields = token_field;
  rewrap.async_operations[Operation::kUpdate] =
      [this](Request&, const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto entry, co_await WrappedEntry(d.GetString("token")));
    auto used = co_await tokens_.Use(entry.first->id_hash);
    if (!used.ok()) co_return InvalidArgument(kInvalid);
    const Json& s = entry.second;
    CO_ASSIGN_OR_RETURN(Json info,
                        co_await Wrap(s.value("response", ""), s.value("creation_ttl", int64_t{0}),
                                      s.value("creation_path", ""), ""));
    (co_await tokens_.RevokeTree(entry.first->id_hash)).IgnoreError();
    Response resp;
    resp.wrap_info = std::move(info);
    co_return resp;
  };

  Path wrap;
  wrap.pattern = "wrapping/wrap";
  wrap.synopsis = "Response-wraps an arbitrary JSON object.";
  wrap.async_operations[Operation::kUpdate] = [](Request& r,
                                                 const FieldData& d) -> Task<Result<Response>> {
    if (r.wrap_ttl <= 0)
      co_return InvalidArgument("endpoint requires response wrapping to be used");
    co_return Response::WithData(d.raw().is_object() ? d.raw() : Json::object());
  };
  return {lookup, unwrap, rewrap, wrap};
}

}  // namespace vault::core
