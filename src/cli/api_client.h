// ApiClient: the CLI's view of Vault's HTTP API — `/v1/<path>` requests with the token and
// `X-Vault-Request: true` headers, JSON bodies in and out, and errors rendered as Vault's Go
// client renders them. Transport-agnostic (see HttpTransport); not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/http_client.h"
#include "util/json.h"
#include "util/status.h"

namespace vault::cli {

struct ApiResponse {
  int status = 0;    // the HTTP status: 2xx from Request(), any from RequestAnyStatus()
  Json json;         // parsed body; null for an empty (204) or non-JSON body
  std::string body;  // raw body
  // Not OK when status is not 2xx: the error Request() returns for this answer.
  Status error;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class ApiClient {
 public:
  // address: "http(s)://host:port" (a trailing '/' is dropped). token may be empty (no
  // X-Vault-Token header). transport is not owned and must outlive the client.
  ApiClient(std::string address, std::string token, HttpTransport* transport);

  // Sends `method` to /v1/<path>[?query] with body serialized as JSON (nullopt: no body).
  // Leading '/' of path is ignored; path characters outside [A-Za-z0-9-._~/] are escaped.
  // Returns the response for 2xx. Otherwise a Status whose code follows the HTTP status (404 ->
  // kNotFound, 403 -> kPermissionDenied, ...) and whose message is FormatApiError(...); on a
  // transport failure, kUnavailable with Go's text: `Put "URL": dial tcp ...`.
  Result<ApiResponse> Request(std::string_view method, std::string_view path,
                              const std::optional<Json>& body = std::nullopt,
                              const QueryParams& query = {});

  // As Request(), with extra headers (a Content-Type replaces the default application/json),
  // but every answer that arrived is returned, whatever its status: a 404 that carries a
  // secret (KV version 2's deleted versions) can be read by the caller. For a non-2xx status,
  // `error` holds the Status Request() would have returned. Fails only on a transport error.
  Result<ApiResponse> RequestAnyStatus(std::string_view method, std::string_view path,
                                       const std::optional<Json>& body = std::nullopt,
                                       const QueryParams& query = {},
                                       const HttpHeaders& headers = {});

  // The full URL Request() would use.
  std::string Url(std::string_view path, const QueryParams& query = {}) const;

  const std::string& address() const { return address_; }
  const std::string& token() const { return token_; }
  const std::string& wrap_ttl() const { return wrap_ttl_; }
  void set_token(std::string token) { token_ = std::move(token); }
  // -wrap-ttl / VAULT_WRAP_TTL: sent as X-Vault-Wrap-TTL on every request ("" = none).
  void set_wrap_ttl(std::string ttl) { wrap_ttl_ = std::move(ttl); }

 private:
  std::string address_;
  std::string token_;
  std::string wrap_ttl_;
  HttpTransport* transport_;
};

// Percent-encodes everything but unreserved characters (and '/' when keep_slash).
std::string UrlEscape(std::string_view s, bool keep_slash);

// Maps an HTTP status to the closest StatusCode (404 -> kNotFound, ...).
StatusCode StatusCodeForHttp(int http_status);

}  // namespace vault::cli
