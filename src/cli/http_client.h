// A small blocking HTTP/1.1 client for the `vault` CLI, reusable by test tooling.
//
// HttpTransport is the seam: commands talk to it, tests substitute a fake that records requests.
// HttpClient implements it with the libcurl easy interface: one request at a time, keep-alive
// between requests on the same client, TLS peer verification on unless disabled, no redirects
// followed except 307 (re-sent to Location with the same method and body, as Vault's Go client
// does for standby nodes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace vault::cli {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "PUT", "POST", "DELETE", "LIST", "HEAD"
  std::string url;     // absolute http:// or https:// URL
  HttpHeaders headers;
  std::optional<std::string> body;  // nullopt: no body is sent
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lower-cased, in arrival order
  std::string body;
  std::string url;  // the URL that answered (differs from the request's after a 307)

  // First value of the header (name compared case-insensitively), or "".
  std::string Header(std::string_view name) const;
};

// The seam between the CLI and the network.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Performs one request. Any HTTP status is success; fails only when no response arrived
  // (connect, DNS, TLS, timeout), with kUnavailable and a message shaped like Go net/http's,
  // e.g. "dial tcp 127.0.0.1:8200: connect: connection refused".
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;
};

struct HttpClientOptions {
  bool tls_skip_verify = false;
  std::string ca_cert;  // PEM bundle file; empty: the system store
  std::string ca_path;  // directory of hashed CA certificates; empty: none
  long timeout_seconds = 60;
  int max_redirects = 10;  // 307 hops before giving up
};

// libcurl-backed transport. Not thread-safe (one easy handle); use one per thread.
class HttpClient final : public HttpTransport {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Do(const HttpRequest& request) override;

 private:
  Result<HttpResponse> DoOnce(const HttpRequest& request);

  HttpClientOptions options_;
  void* curl_ = nullptr;  // CURL*, kept for connection reuse
};

// Resolves a Location header against the URL that returned it ("/v1/x" or an absolute URL).
std::string ResolveLocation(std::string_view base_url, std::string_view location);

}  // namespace vault::cli
