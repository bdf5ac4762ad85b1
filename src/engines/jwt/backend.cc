#include "engines/jwt/backend.h"

namespace vault::engines {
namespace jwt {
namespace {

using logical::Field;
using logical::FieldType;
using logical::Operation;

constexpr char kBackendHelp[] =
    "The JWT backend plugin allows authentication using JWTs (including OIDC).\n\n"
    "Configure where the signing keys come from with \"config\" (jwt_validation_pubkeys, "
    "jwks_url or oidc_discovery_url), define roles with \"role/<name>\" (role_type \"jwt\", "
    "user_claim and at least one bound constraint), then log in at \"login\" with a role and a "
    "JWT.";

constexpr char kNamePattern[] = "(?P<name>\\w(([\\w-.]+)?\\w)?)";

constexpr char kNoOidcFlow[] =
    "the OIDC redirect flow (oidc/auth_url, oidc/callback) is not supported by this server: log "
    "in at login with a JWT and a role whose role_type is \"jwt\"";

std::vector<Field> ConfigFields() {
  return {
      {"oidc_discovery_url", FieldType::kString,
       "OIDC Discovery URL, without any .well-known component (base path). Cannot be used with "
       "\"jwks_url\" or \"jwt_validation_pubkeys\"."},
      {"oidc_discovery_ca_pem", FieldType::kString,
       "The CA certificate or chain of certificates, in PEM format, to use to validate "
       "connections to the OIDC Discovery URL. If not set, system certificates are used."},
      {"oidc_client_id", FieldType::kString,
       "The OAuth Client ID configured with your OIDC provider (OIDC flow: stored only)."},
      {"oidc_client_secret", FieldType::kString,
       "The OAuth Client Secret configured with your OIDC provider (stored only; never "
       "returned)."},
      {"oidc_response_mode", FieldType::kString,
       "The response mode to be used in the OAuth2 request. Allowed values are 'query' and "
       "'form_post'."},
      {"oidc_response_types", FieldType::kCommaStringSlice,
       "The response types to request. Allowed values are 'code' and 'id_token'. Defaults to "
       "'code'."},
      {"jwks_url", FieldType::kString,
       "JWKS URL to use to authenticate signatures. Cannot be used with \"oidc_discovery_url\" "
       "or \"jwt_validation_pubkeys\"."},
      {"jwks_ca_pem", FieldType::kString,
       "The CA certificate or chain of certificates, in PEM format, to use to validate "
       "connections to the JWKS URL. If not set, system certificates are used."},
      {"default_role", FieldType::kString,
       "The default role to use if none is provided during login. If not set, a role is "
       "required during login."},
      {"jwt_validation_pubkeys", FieldType::kCommaStringSlice,
       "A list of PEM-encoded public keys to use to authenticate signatures locally. Cannot be "
       "used with \"jwks_url\" or \"oidc_discovery_url\"."},
      {"jwt_supported_algs", FieldType::kCommaStringSlice,
       "A list of supported signing algorithms (RS256, RS384, RS512, PS256, PS384, PS512, "
       "ES256, ES384, ES512, EdDSA). Defaults to all of them."},
      {"bound_issuer", FieldType::kString,
       "The value against which to match the 'iss' claim in a JWT. Optional."},
      {"provider_config", FieldType::kMap, "Provider-specific configuration. Optional."},
      {"namespace_in_state", FieldType::kBool,
       "Pass namespace in the OIDC state parameter instead of as a separate query parameter "
       "(OIDC flow: stored only). Defaults to true for new configs."},
      {"unsupported_critical_cert_extensions", FieldType::kCommaStringSlice,
       "Not supported by this server: must be empty."},
  };
}

std::vector<Field> RoleFields() {
  std::vector<Field> f = {
      {"name", FieldType::kString, "Name of the role."},
      {"role_type", FieldType::kString,
       "Type of the role, either 'jwt' or 'oidc' (the default on every write, as in Vault)."},
      {"expiration_leeway", FieldType::kSignedDurationSecond,
       "Duration in seconds of leeway when validating expiration of a token to account for "
       "clock skew. Defaults to 150 (2.5 minutes) if set to 0 and can be disabled if set to -1."},
      {"not_before_leeway", FieldType::kSignedDurationSecond,
       "Duration in seconds of leeway when validating not before values of a token to account "
       "for clock skew. Defaults to 150 (2.5 minutes) if set to 0 and can be disabled if set to "
       "-1."},
      {"clock_skew_leeway", FieldType::kSignedDurationSecond,
       "Duration in seconds of leeway when validating all claims to account for clock skew. "
       "Defaults to 60 (1 minute) if set to 0 and can be disabled if set to -1."},
      {"bound_subject", FieldType::kString, "The 'sub' claim that is valid for login. Optional."},
      {"bound_audiences", FieldType::kCommaStringSlice,
       "Comma-separated list of 'aud' claims that are valid for login; any match is sufficient"},
      {"bound_claims_type", FieldType::kString,
       "How to interpret values in the map of claims/values (which must match for login): "
       "allowed values are 'string' or 'glob'",
       Json("string")},
      {"bound_claims", FieldType::kMap, "Map of claims/values which must match for login"},
      {"claim_mappings", FieldType::kKvPairs,
       "Mappings of claims (key) that will be copied to a metadata field (value)"},
      {"user_claim", FieldType::kString, "The claim to use for the Identity entity alias name"},
      {"user_claim_json_pointer", FieldType::kBool,
       "If true, the user_claim value will use JSON pointer syntax for referencing claims."},
      {"groups_claim", FieldType::kString,
       "The claim to use for the Identity group alias names (checked at login; this server has "
       "no identity groups)"},
      {"oidc_scopes", FieldType::kCommaStringSlice,
       "Comma-separated list of OIDC scopes (OIDC flow: stored only)"},
      {"allowed_redirect_uris", FieldType::kCommaStringSlice,
       "Comma-separated list of allowed values for redirect_uri (required for oidc roles)"},
      {"callback_mode", FieldType::kString,
       "OIDC callback mode from Authorization Server: allowed values are 'device', 'direct' or "
       "'client' (OIDC flow: stored only)",
       Json("client")},
      {"poll_interval", FieldType::kInt,
       "poll interval in seconds for device and direct flows (OIDC flow: stored only)"},
      {"verbose_oidc_logging", FieldType::kBool,
       "Log received OIDC tokens and claims when debug-level logging is active (OIDC flow: "
       "stored only)."},
      {"max_age", FieldType::kDurationSecond,
       "Specifies the allowable elapsed time in seconds since the last time the user was "
       "actively authenticated (OIDC flow: stored only)."},
  };
  for (auto& t : logical::TokenFields(
           {{"policies", "num_uses", "ttl", "max_ttl", "period", "bound_cidrs"}, false}))
    f.push_back(std::move(t));
  return f;
}

}  // namespace

JwtBackend::JwtBackend(JwtHttpFactory http, Clock* clock)
    : logical::FrameworkBackend(kBackendHelp, BuildPaths(this)),
      http_(std::move(http)),
      clock_(clock ? clock : SystemClock::Get()) {
  SetClock(clock_);
  SetUnauthenticatedPaths({"login", "oidc/auth_url", "oidc/callback"});
  SetAuthRenew([this](Request& r) { return Renew(r); });
}

std::vector<logical::Path> JwtBackend::BuildPaths(JwtBackend* self) {
  using logical::Path;
  auto op = [self](Task<Result<Response>> (JwtBackend::*fn)(Request&, const FieldData&)) {
    return [self, fn](Request& r, const FieldData& d) { return (self->*fn)(r, d); };
  };
  std::vector<Path> paths;

  Path config;
  config.pattern = "config";
  config.fields = ConfigFields();
  config.async_operations[Operation::kRead] = op(&JwtBackend::ConfigRead);
  config.async_operations[Operation::kUpdate] = op(&JwtBackend::ConfigWrite);
  config.synopsis = "Configures the JWT authentication backend.";
  config.description =
      "The JWT authentication backend validates JWTs using the configured credentials. If using "
      "OIDC Discovery, the URL must be provided, along with (optionally) the CA cert to use for "
      "the connection. If performing JWT validation locally, a set of public keys must be "
      "provided.";
  paths.push_back(std::move(config));

  Path list;
  list.pattern = "role/?";
  list.async_operations[Operation::kList] = op(&JwtBackend::RoleList);
  list.synopsis = "Lists all the roles registered with the backend.";
  list.description = "The list will contain the names of the roles.";
  paths.push_back(std::move(list));

  Path role;
  role.pattern = std::string("role/") + kNamePattern;
  role.fields = RoleFields();
  role.existence_check = [self](Request& r, const FieldData& d) { return self->RoleExists(r, d); };
  role.async_operations[Operation::kRead] = op(&JwtBackend::RoleRead);
  role.async_operations[Operation::kCreate] = op(&JwtBackend::RoleWrite);
  role.async_operations[Operation::kUpdate] = op(&JwtBackend::RoleWrite);
  role.async_operations[Operation::kDelete] = op(&JwtBackend::RoleDelete);
  role.synopsis = "Register an role with the backend.";
  role.description =
      "A role is required to authenticate with this backend. The role binds JWT token "
      "information with token policies and settings. The bindings, token polices and token "
      "settings can all be configured using this endpoint";
  paths.push_back(std::move(role));

  Path login;
  login.pattern = "login";
  login.fields = {
      {"role", FieldType::kString, "The role to log in against."},
      {"jwt", FieldType::kString, "The signed JWT to validate."},
  };
  login.async_operations[Operation::kUpdate] = op(&JwtBackend::Login);
  login.synopsis = "Authenticates to Vault using a JWT (or OIDC) token.";
  login.description = "Authenticates JWTs.";
  paths.push_back(std::move(login));

  // The browser flow needs a redirect round trip this server does not implement: say so rather
  // than answer 404 (which reads like a wrong mount path).
  auto refuse = [](Request&, const FieldData&) -> Result<Response> {
    return InvalidArgument(kNoOidcFlow);
  };
  for (const char* pattern : {"oidc/auth_url", "oidc/callback"}) {
    Path p;
    p.pattern = pattern;
    p.operations[Operation::kRead] = refuse;
    p.operations[Operation::kUpdate] = refuse;
    p.synopsis = "Not supported by this server: the OIDC redirect flow.";
    p.description = kNoOidcFlow;
    paths.push_back(std::move(p));
  }
  return paths;
}

}  // namespace jwt

std::shared_ptr<logical::Backend> NewJwtBackend(const logical::MountInfo&, JwtHttpFactory http,
                                                Clock* clock) {
  return std::make_shared<jwt::JwtBackend>(std::move(http), clock);
}

}  // namespace vault::engines
