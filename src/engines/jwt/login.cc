// Login and token renewal: the checks of Vault's path_login.go and CAP's validator, in their
// order, with their messages. Nothing of the token goes into a message or a log line.
#include "engines/jwt/backend.h"
#include "engines/jwt/claims.h"
#include "util/cidr.h"
#include "util/strings.h"

namespace vault::engines::jwt {
namespace {

constexpr char kInvalidToken[] = "error validating token: ";
constexpr char kBadSignature[] = "error validating token: error verifying token signature: ";

bool AlgAllowed(const Config& c, const std::string& alg) {
  const std::vector<std::string>& allowed =
      c.jwt_supported_algs.empty() ? AllAlgNames() : c.jwt_supported_algs;
  for (const auto& a : allowed)
    if (a == alg) return true;
  return false;
}

}  // namespace

Task<Result<Response>> JwtBackend::Login(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(auto state, co_await State(req.storage));
  if (!state) co_return InvalidArgument("could not load configuration");
  const Config& config = state->config;

  std::string role_name = ToLower(d.GetString("role"));
  if (role_name.empty()) role_name = config.default_role;
  if (role_name.empty()) co_return InvalidArgument("missing role");
  CO_ASSIGN_OR_RETURN(auto found, co_await ReadRole(req.storage, role_name));
  if (!found) co_return InvalidArgument("role " + Quote(role_name) + " could not be found");
  const Role& role = *found;
  if (role.role_type == "oidc")
    co_return InvalidArgument("role with oidc role_type is not allowed");

  const std::string token = d.GetString("jwt");
  if (token.empty()) co_return InvalidArgument("missing token");
  if (token.size() > kMaxTokenBytes)
    co_return InvalidArgument("token is too large: the limit is " + std::to_string(kMaxTokenBytes) +
                              " bytes");

  if (!role.token.bound_cidrs.empty() &&
      (req.remote_address.empty() || !AddressAllowed(role.token.bound_cidrs, req.remote_address)))
    co_return PermissionDenied();

  // Signature first: nothing else in the token is looked at before it is verified.
  auto jws = ParseCompact(token);
  if (!jws.ok()) co_return InvalidArgument(kBadSignature + jws.status().message());
  auto payload = co_await state->keys->Verify(*jws);
  if (!payload.ok()) co_return InvalidArgument(kBadSignature + payload.status().message());
  if (!AlgAllowed(config, jws->alg_name))
    co_return InvalidArgument(
        "error validating token: invalid algorithm (alg) header parameter: token signed with "
        "unexpected algorithm");
  auto claims = ParseJson(*payload);
  if (!claims.ok() || !claims->is_object())
    co_return InvalidArgument(std::string(kBadSignature) + "the payload is not a JSON object");

  ExpectedClaims expected;
  expected.issuer = config.bound_issuer;
  expected.subject = role.bound_subject;
  expected.audiences = role.BoundAudiences();
  expected.clock_skew_leeway = role.clock_skew_leeway;
  expected.expiration_leeway = role.expiration_leeway;
  expected.not_before_leeway = role.not_before_leeway;
  expected.now_ns = clock_->NowNanos();
  if (Status st = ValidateRegisteredClaims(*claims, expected); !st.ok())
    co_return InvalidArgument(kInvalidToken + st.message());
  // A token meant for some audience must not log in to a role that names none (Vault 1.16.3+,
  // for the string form of aud too).
  if (expected.audiences.empty() && HasAudience(*claims))
    co_return InvalidArgument("audience claim found in JWT but no audiences bound to the role");

  CO_ASSIGN_OR_RETURN(std::string user,
                      UserClaimValue(*claims, role.user_claim, role.user_claim_json_pointer));
  CO_ASSIGN_OR_RETURN(auto metadata, ExtractMetadata(*claims, role.claim_mappings));
  if (!role.groups_claim.empty()) {
    CO_RETURN_IF_ERROR(GroupsFromClaim(*claims, role.groups_claim).status());
  }
  if (Status st = ValidateBoundClaims(role.bound_claims, role.bound_claims_type == "glob", *claims);
      !st.ok())
    co_return InvalidArgument("error validating claims: " + st.message());

  logical::LoginAuth auth;
  auth.token = role.token;
  auth.display_name = user;
  auth.alias_name = user;
  auth.metadata = Json::object();
  auth.metadata["role"] = role_name;
  for (const auto& [k, v] : metadata) auth.metadata[k] = v;
  auth.internal_data = {{"role", role_name}};
  Response resp;
  resp.login = std::move(auth);
  co_return resp;
}

Task<Result<Response>> JwtBackend::Renew(Request& req) {
  const Json& internal = req.auth->internal_data;
  std::string role_name;
  if (internal.is_object() && internal.contains("role") && internal["role"].is_string())
    role_name = internal["role"].get<std::string>();
  if (role_name.empty()) co_return InvalidArgument("failed to fetch role_name during renewal");
  CO_ASSIGN_OR_RETURN(auto role, co_await ReadRole(req.storage, role_name));
  if (!role) co_return InvalidArgument("role " + role_name + " does not exist during renewal");
  // The role's TTLs as they are now; everything else stays as the login made it.
  logical::LoginAuth auth = *req.auth;
  auth.token.ttl = role->token.ttl;
  auth.token.max_ttl = role->token.max_ttl;
  auth.token.period = role->token.period;
  Response resp;
  resp.login = std::move(auth);
  co_return resp;
}

}  // namespace vault::engines::jwt
