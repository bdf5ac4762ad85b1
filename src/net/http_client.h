// Outbound HTTP(S): the request/response values and the asynchronous HttpClient seam used by the
// AWS client (and, later, etcd). The production implementation is CurlHttpClient
// (net/curl_http_client.h); tests use FakeHttpClient (net/fake_http_client.h).
//
// Nothing here blocks a thread while waiting on the network: Send() returns at once and calls
// `done` exactly once when the exchange ends; SendAsync() wraps it for coroutines (util/task.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"
#include "util/task.h"

namespace vault::net {

// Header list in wire order. Names compare case-insensitively (FindHeader); duplicates allowed.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (ASCII case-insensitive), or nullptr.
const std::string* FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, DELETE, HEAD, ...
  std::string url;             // absolute http:// or https:// URL, already percent-encoded
  HttpHeaders headers;         // sent as given; the client adds Host and Content-Length itself
  std::string body;            // may contain secrets: never logged
  int64_t timeout_ms = 0;      // whole exchange, connect included; 0 = the client's default
};

struct HttpResponse {
  int status = 0;       // HTTP status code of the final response (1xx interim responses skipped)
  HttpHeaders headers;  // names as received
  std::string body;
};

// The seam. Implementations are thread-safe: Send may be called from any thread, concurrently.
class HttpClient {
 public:
  using Callback = std::function<void(Result<HttpResponse>)>;

  virtual ~HttpClient() = default;

  // Starts one exchange and returns at once. `done` is called exactly once, on the thread the
  // implementation documents (CurlHttpClient: its completions executor, else its I/O thread),
  // possibly before Send returns (e.g. invalid URL, client shut down). Any HTTP status,
  // including 4xx/5xx, is a successful Result; transport failures (DNS, connect refused, TLS,
  // timeout, oversize body) are kUpstream with a message naming the method, host and cause, never
  // the body or headers.
  virtual void Send(HttpRequest request, Callback done) = 0;

  // Coroutine form of Send: resumes on the thread that delivers the completion.
  Task<Result<HttpResponse>> SendAsync(HttpRequest request);
};

// Runs closures after a delay without holding a thread (retry backoff, rate-limiter refills).
class Timer {
 public:
  virtual ~Timer() = default;
  // Calls fn once, no earlier than `delay_ms` from now, on the implementation's thread (keep fn
  // short: post real work elsewhere). If the timer is destroyed first, fn is still called once,
  // early, during shutdown, so waiting coroutines are never leaked. Thread-safe.
  virtual void RunAfter(int64_t delay_ms, std::function<void()> fn) = 0;
};

// `co_await SleepFor(timer, ms)` suspends without blocking and resumes on the timer's thread.
Task<bool> SleepFor(Timer* timer, int64_t delay_ms);

// "METHOD scheme://host[:port]/path" without query or userinfo: safe to put in errors and logs.
std::string DescribeRequest(std::string_view method, std::string_view url);

}  // namespace vault::net
