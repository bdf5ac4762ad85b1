// The config path: validation in Vault's order (path_config.go), storage, and the published
// state (config + key set) that logins use.
#include <algorithm>

#include "engines/jwt/backend.h"
#include "util/log.h"
#include "util/strings.h"

namespace vault::engines::jwt {
namespace {

constexpr char kConfigKey[] = "config";

std::vector<std::string> Strings(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key) && j[key].is_array())
    for (const auto& e : j[key])
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string Str(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Go's %v of a []string: "[a b]".
std::string GoList(const std::vector<std::string>& v) { return "[" + Join(v, " ") + "]"; }

}  // namespace

Json Config::ToStorage() const {
  return {{"oidc_discovery_url", oidc_discovery_url},
          {"oidc_discovery_ca_pem", oidc_discovery_ca_pem},
          {"oidc_client_id", oidc_client_id},
          {"oidc_client_secret", oidc_client_secret},
          {"oidc_response_mode", oidc_response_mode},
          {"oidc_response_types", oidc_response_types},
          {"jwks_url", jwks_url},
          {"jwks_ca_pem", jwks_ca_pem},
          {"jwt_validation_pubkeys", jwt_validation_pubkeys},
          {"jwt_supported_algs", jwt_supported_algs},
          {"bound_issuer", bound_issuer},
          {"default_role", default_role},
          {"provider_config", provider_config},
          {"namespace_in_state", namespace_in_state}};
}

Config Config::FromStorage(const Json& j) {
  Config c;
  if (!j.is_object()) return c;
  c.oidc_discovery_url = Str(j, "oidc_discovery_url");
  c.oidc_discovery_ca_pem = Str(j, "oidc_discovery_ca_pem");
  c.oidc_client_id = Str(j, "oidc_client_id");
  c.oidc_client_secret = Str(j, "oidc_client_secret");
  c.oidc_response_mode = Str(j, "oidc_response_mode");
  c.oidc_response_types = Strings(j, "oidc_response_types");
  c.jwks_url = Str(j, "jwks_url");
  c.jwks_ca_pem = Str(j, "jwks_ca_pem");
  c.jwt_validation_pubkeys = Strings(j, "jwt_validation_pubkeys");
  c.jwt_supported_algs = Strings(j, "jwt_supported_algs");
  c.bound_issuer = Str(j, "bound_issuer");
  c.default_role = Str(j, "default_role");
  if (j.contains("provider_config") && j["provider_config"].is_object())
    c.provider_config = j["provider_config"];
  c.namespace_in_state = j.value("namespace_in_state", true);
  return c;
}

Json Config::ToResponseData() const {
  return {{"oidc_discovery_url", oidc_discovery_url},
          {"oidc_discovery_ca_pem", oidc_discovery_ca_pem},
          {"oidc_client_id", oidc_client_id},
          {"oidc_response_mode", oidc_response_mode},
          {"oidc_response_types", oidc_response_types},
          {"default_role", default_role},
          {"jwt_validation_pubkeys", jwt_validation_pubkeys},
          {"jwt_supported_algs", jwt_supported_algs},
          {"jwks_url", jwks_url},
          {"jwks_pairs", Json::array()},
          {"jwks_ca_pem", jwks_ca_pem},
          {"bound_issuer", bound_issuer},
          {"provider_config", provider_config},
          {"namespace_in_state", namespace_in_state},
          {"unsupported_critical_cert_extensions", Json::array()}};
}

Result<std::shared_ptr<KeySet>> JwtBackend::KeySetFor(const Config& c) const {
  if (!c.jwt_validation_pubkeys.empty()) {
    std::vector<crypto::PublicKey> keys;
    for (const auto& pem : c.jwt_validation_pubkeys) {
      auto key = crypto::PublicKey::FromPem(pem);
      if (!key.ok()) return InvalidArgument("error parsing public key: " + key.status().message());
      if (key->type() == crypto::PublicKeyType::kRsa && key->bits() < kMinRsaBits)
        return InvalidArgument("error parsing public key: RSA keys must have at least " +
                               std::to_string(kMinRsaBits) + " bits (this one has " +
                               std::to_string(key->bits()) + ")");
      keys.push_back(std::move(*key));
    }
    return std::shared_ptr<KeySet>(std::make_shared<StaticKeySet>(std::move(keys)));
  }
  if (!c.jwks_url.empty()) {
    auto client = http_(c.jwks_ca_pem);
    if (!client.ok())
      return InvalidArgument("error checking jwks_ca_pem: " + client.status().message());
    return std::shared_ptr<KeySet>(
        RemoteKeySet::ForJwksUrl(c.jwks_url, std::move(*client), clock_));
  }
  if (!c.oidc_discovery_url.empty()) {
    auto client = http_(c.oidc_discovery_ca_pem);
    if (!client.ok())
      return InvalidArgument("error checking oidc discovery URL: " + client.status().message());
    return std::shared_ptr<KeySet>(
        RemoteKeySet::ForDiscovery(c.oidc_discovery_url, std::move(*client), clock_));
  }
  return InvalidArgument("could not load configuration");
}

Task<Result<std::shared_ptr<const ConfigState>>> JwtBackend::State(logical::Storage* storage) {
  {
    std::lock_guard lock(mu_);
    if (loaded_) co_return state_;
  }
  AsyncMutex::Guard guard = co_await config_mu_.Lock();
  {
    std::lock_guard lock(mu_);
    if (loaded_) co_return state_;
  }
  CO_ASSIGN_OR_RETURN(auto stored, co_await logical::GetJson(storage, kConfigKey));
  std::shared_ptr<const ConfigState> state;
  if (stored) {
    Config c = Config::FromStorage(*stored);
    auto keys = KeySetFor(c);
    // Not published: the next login tries again (a CA the factory refused may be fixed by a
    // config write, which publishes its own state).
    if (!keys.ok()) co_return keys.status();
    state = std::make_shared<const ConfigState>(ConfigState{std::move(c), std::move(*keys)});
  }
  std::lock_guard lock(mu_);
  state_ = state;
  loaded_ = true;
  co_return state;
}

Task<Result<Response>> JwtBackend::ConfigRead(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(auto stored, co_await logical::GetJson(req.storage, kConfigKey));
  if (!stored) co_return Response();
  co_return Response::WithData(Config::FromStorage(*stored).ToResponseData());
}

Task<Result<Response>> JwtBackend::ConfigWrite(Request& req, const FieldData& d) {
  AsyncMutex::Guard guard = co_await config_mu_.Lock();
  // A feature that is not here is refused, never ignored: several JWKS (Vault 1.16+) would
  // otherwise be a config that silently trusts none of them.
  const Json& raw = d.raw();
  if (raw.contains("jwks_pairs") && !raw["jwks_pairs"].is_null() &&
      !(raw["jwks_pairs"].is_array() && raw["jwks_pairs"].empty()))
    co_return InvalidArgument("jwks_pairs is not supported by this server");

  Config c;
  c.oidc_discovery_url = d.GetString("oidc_discovery_url");
  c.oidc_discovery_ca_pem = d.GetString("oidc_discovery_ca_pem");
  c.oidc_client_id = d.GetString("oidc_client_id");
  c.oidc_client_secret = d.GetString("oidc_client_secret");
  c.oidc_response_mode = d.GetString("oidc_response_mode");
  c.oidc_response_types = d.GetStrings("oidc_response_types");
  c.jwks_url = d.GetString("jwks_url");
  c.jwks_ca_pem = d.GetString("jwks_ca_pem");
  c.jwt_validation_pubkeys = d.GetStrings("jwt_validation_pubkeys");
  c.jwt_supported_algs = d.GetStrings("jwt_supported_algs");
  c.bound_issuer = d.GetString("bound_issuer");
  c.default_role = ToLower(d.GetString("default_role"));
  c.provider_config = d.Get("provider_config");
  if (!c.provider_config.is_object()) c.provider_config = Json::object();

  CO_ASSIGN_OR_RETURN(auto existing, co_await logical::GetJson(req.storage, kConfigKey));
  if (d.Has("namespace_in_state")) {
    c.namespace_in_state = d.GetBool("namespace_in_state");
  } else {
    c.namespace_in_state = existing ? Config::FromStorage(*existing).namespace_in_state : true;
  }

  int sources = 0;
  sources += !c.oidc_discovery_url.empty();
  sources += !c.jwt_validation_pubkeys.empty();
  sources += !c.jwks_url.empty();
  if (sources != 1)
    co_return InvalidArgument(
        "exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or "
        "'oidc_discovery_url' must be set");
  if (c.oidc_client_id.empty() != c.oidc_client_secret.empty())
    co_return InvalidArgument(
        "both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC");

  std::shared_ptr<KeySet> keys;
  if (!c.oidc_discovery_url.empty()) {
    auto ks = KeySetFor(c);
    if (!ks.ok()) co_return ks.status();
    auto remote = std::static_pointer_cast<RemoteKeySet>(*ks);
    Status st = co_await remote->Probe();
    if (!st.ok()) {
      spdlog::warn("jwt auth: error checking oidc discovery URL: {}", st.message());
      co_return InvalidArgument("error checking oidc discovery URL: " + st.message());
    }
    keys = std::move(*ks);
  } else if (!c.oidc_client_id.empty()) {
    co_return InvalidArgument("'oidc_discovery_url' must be set for OIDC");
  } else if (!c.jwks_url.empty()) {
    auto ks = KeySetFor(c);
    if (!ks.ok()) co_return ks.status();
    auto remote = std::static_pointer_cast<RemoteKeySet>(*ks);
    Status st = co_await remote->Probe();
    if (!st.ok()) {
      spdlog::warn("jwt auth: error checking jwks URL: {}", st.message());
      co_return InvalidArgument("error checking jwks URL " + c.jwks_url + ": " + st.message());
    }
    keys = std::move(*ks);
  } else {
    auto ks = KeySetFor(c);
    if (!ks.ok()) co_return ks.status();
    keys = std::move(*ks);
  }

  // Extensions the TLS client should tolerate: this server's client cannot be told to, so a
  // config that needs them would fail at every fetch.
  if (!d.GetStrings("unsupported_critical_cert_extensions").empty())
    co_return InvalidArgument(
        "unsupported_critical_cert_extensions is not supported by this server");

  for (const auto& a : c.jwt_supported_algs) {
    if (!AlgFromName(a))
      co_return InvalidArgument("invalid jwt_supported_algs: unsupported signing algorithm \"" + a +
                                "\"");
  }
  for (const auto& t : c.oidc_response_types) {
    if (t != "code" && t != "id_token")
      co_return InvalidArgument("invalid response_types " + GoList(c.oidc_response_types) +
                                ". 'code' and 'id_token' are allowed");
  }
  const bool has_id_token = Contains(c.oidc_response_types, "id_token");
  if (c.oidc_response_mode.empty() || c.oidc_response_mode == "query") {
    if (has_id_token)
      co_return InvalidArgument(
          "query response_mode may not be used with an id_token response_type");
  } else if (c.oidc_response_mode != "form_post") {
    co_return InvalidArgument("invalid response_mode: \"" + c.oidc_response_mode + "\"");
  }

  CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, kConfigKey, c.ToStorage()));
  // The new config replaces the old whole, with its own key set: keys cached for the old one
  // are dropped with it.
  auto state = std::make_shared<const ConfigState>(ConfigState{std::move(c), std::move(keys)});
  std::lock_guard lock(mu_);
  state_ = std::move(state);
  loaded_ = true;
  co_return Response();
}

}  // namespace vault::engines::jwt
