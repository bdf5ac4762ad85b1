// Maps HTTP requests to Core and Core results to Vault's wire format: the /v1/ routes, the auth
// headers, method -> operation, the response envelope, {"errors":[...]} with Vault's status
// codes, the special unenveloped sys handlers (init, unseal, seal-status, health, ...) and
// ?help=1. Knows nothing of Beast: the transport (server.cc) hands it plain structs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "util/status.h"
#include "util/task.h"

// Forward-declared so that the Beast TU (server.cc), which includes this header, does not
// recompile whenever a core/ header changes.
namespace vault::core {
class Core;
}  // namespace vault::core
namespace vault::net {
class HttpClient;
}  // namespace vault::net

namespace vault::http {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query as received
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;
  // The listener's telemetry { unauthenticated_metrics_access = true }: GET sys/metrics needs no
  // token (and is not audited) on it.
  bool unauthenticated_metrics = false;
  // First header with this name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;           // JSON or empty
  std::string location;       // a redirect's Location header (empty: none)
  int64_t retry_after = 0;    // seconds, as a Retry-After header (429); 0: none
  std::string content_type;   // "" = application/json
  std::string cache_control;  // "" = no-store
  // Further headers, written as given: names and values are the server's own constants, never
  // request data (the web UI's security and caching headers, Content-Encoding).
  std::vector<std::pair<std::string, std::string>> headers;
};

// The single place a Status becomes an HTTP status code.
int HttpStatusFor(StatusCode code);

class Handler {
 public:
  // `forward` sends a standby's requests on to the active node (HA); null: no forwarding (the
  // standby redirects instead). Neither is owned.
  explicit Handler(core::Core* core, net::HttpClient* forward = nullptr)
      : core_(core), forward_(forward) {}
  // Whether the web UI is served at /ui/ (and / redirects there): Vault's `ui` setting. On by
  // default here; the server sets it from its configuration (dev mode: on). Set before serving.
  void set_ui_enabled(bool enabled) { ui_enabled_ = enabled; }
  // Thread-safe. Runs on the calling thread until the request first waits on the network (an
  // engine calling AWS), then continues on whichever thread completes that wait. Storage calls
  // are synchronous (durable writes wait on fsync).
  Task<HttpResponse> HandleAsync(HttpRequest req);
  // Blocking form for tests: waits for HandleAsync.
  HttpResponse Handle(const HttpRequest& req);

 private:
  // The sys/ paths answered here rather than by the system backend (init, seal, unseal, health,
  // leader); nullopt for the others. `path` and `req` outlive the task.
  Task<std::optional<HttpResponse>> HandleSys(const std::string& path, const HttpRequest& req);
  // sys/rekey/* and sys/generate-root/*: raw JSON answers (no envelope), as Vault's.
  Task<std::optional<HttpResponse>> KeyCeremony(const std::string& path, const HttpRequest& req);
  Task<HttpResponse> Logical(const std::string& path, const std::string& query,
                             const HttpRequest& req);
  // On a standby: the request as the active node answers it (forwarded), or a 307 to it.
  Task<HttpResponse> ToActive(const HttpRequest& req);
  core::Core* core_;
  net::HttpClient* forward_;
  bool ui_enabled_ = true;
};

// Renders {"errors":[...]} for a status (also used by the transport for 413/431/400).
HttpResponse ErrorResponse(int http_status, const std::vector<std::string>& errors);

}  // namespace vault::http
