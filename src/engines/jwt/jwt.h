// The JWT auth method (Vault's vault-plugin-auth-jwt with `jwt` roles; mount type "jwt" or
// "oidc"): a CI job or a workload presents a JWT its platform signed (a GitHub Actions or GitLab
// CI ID token, a Kubernetes service account token...) and gets a Vault token when the JWT's
// signature and claims satisfy the mount's config and the named role.
//
// Paths (relative to the mount):
//   config         POST/GET: where keys come from (exactly one of jwt_validation_pubkeys,
//                  jwks_url, oidc_discovery_url; discovery documents and JWKS are fetched and
//                  checked at write), bound_issuer, jwt_supported_algs, default_role, and the
//                  OIDC browser-flow fields (stored; oidc_client_secret is never returned).
//                  jwks_pairs and unsupported_critical_cert_extensions are refused.
//   role/, role/:name  LIST, POST/GET/DELETE: role_type, user_claim, bound_audiences,
//                  bound_subject, bound_claims (+ bound_claims_type), claim_mappings, leeways,
//                  token_* fields...
//   login          POST {role, jwt}, unauthenticated: answers Response::login.
//   oidc/auth_url, oidc/callback  unauthenticated: the OIDC redirect flow is not supported
//                  here; they answer 400 saying so.
// Token renewal re-reads the role (its TTLs apply; a deleted role refuses the renewal).
//
// Security: only the ten asymmetric JWS algorithms exist (no HS*, no "none"), the key type must
// fit the algorithm, tokens over 64 KiB and documents over 1 MiB are refused, a refetch of the
// issuer's keys for an unknown "kid" happens at most once per 10 s per mount, and nothing of a
// token (its text, signature or claim values) reaches a log line or an error message.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "logical/logical.h"
#include "net/http_client.h"
#include "util/clock.h"
#include "util/status.h"

namespace vault::engines {

// Makes the HTTP client the method fetches discovery documents and JWKS with; ca_pem empty =
// the system's trusted CAs, else only the given PEM CA(s). A failure (an unusable PEM) is shown
// to the operator who wrote the config.
using JwtHttpFactory =
    std::function<Result<std::shared_ptr<net::HttpClient>>(const std::string& ca_pem)>;

// Creates the method for one mount. `clock` (null = the system clock) times tokens and the key
// refetch limit and must outlive the backend. Requests may arrive concurrently.
std::shared_ptr<logical::Backend> NewJwtBackend(const logical::MountInfo& mount,
                                                JwtHttpFactory http, Clock* clock);

}  // namespace vault::engines
