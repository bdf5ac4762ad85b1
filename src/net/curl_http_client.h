// CurlHttpClient: the production HttpClient, on libcurl's multi interface, so thousands of
// exchanges can be in flight without a thread each. It also implements net::Timer, which is how
// the AWS client waits out retry backoff and rate-limiter refills.
//
// Where the bytes move:
//  - Called on a thread that runs an EventLoop (util/event_loop.h; the HTTP server's I/O threads),
//    Send and RunAfter run on that loop: one multi handle per loop, driven by
//    curl_multi_socket_action from the loop's readiness and timer callbacks. A request that calls
//    AWS from an I/O thread therefore sends, receives, resumes and answers on that one thread,
//    with no thread wake-up besides the replies' arrival.
//    On an AsioEventLoop (the server's) without a proxy in the environment, the exchange itself
//    skips libcurl: net::AsioHttpDriver speaks HTTP/1.1 (TLS through Asio's OpenSSL streams) on
//    the loop's io_context, a third of the I/O thread's CPU per AWS call cheaper than libcurl.
//  - Called anywhere else (workers, background threads), they run on the client's own thread:
//    curl_multi_poll over a second multi handle, woken by curl_multi_wakeup when work is queued.
// A loop's transfers fail with kUnavailable ("HTTP client shut down") and its timers fire early
// when the loop stops (EventLoop::AtStop) or the client is destroyed; later calls from that thread
// go to the client's own thread.
//
// Connections are kept alive and reused (the multi handle's connection cache; easy handles are
// pooled). TLS peer and host verification are always on; `ca_file` (or AWS_CA_BUNDLE /
// SSL_CERT_FILE from the environment, see Options) replaces the system CA bundle. Proxies come
// from the standard environment (HTTPS_PROXY, https_proxy, http_proxy, NO_PROXY), which libcurl
// reads itself because no proxy is set here. Redirects are not followed.
//
// Completion threads: with Options::completions set, every `done` callback (and every Timer
// callback) is posted to that executor, so coroutines resume on worker threads; without it,
// they run on the thread that moved the bytes (the caller's loop, or the client's own thread) and
// must be short and never block. The server runs them there: a chain of AWS calls then costs no
// thread hop per call, and what the coroutine awaits next (storage) waits in its own way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/http_client.h"
#include "util/task.h"

namespace vault::net {

struct CurlOptions {
  // PEM bundle of trusted CAs; empty = AWS_CA_BUNDLE, else SSL_CERT_FILE, else the system bundle
  // (when `ca_from_environment`).
  std::string ca_file;
  bool ca_from_environment = true;
  int64_t connect_timeout_ms = 10000;
  int64_t default_timeout_ms = 30000;  // when HttpRequest::timeout_ms is 0
  // Responses larger than this fail with kUpstream (protects memory from a hostile server).
  size_t max_response_bytes = 16 << 20;
  // Parallel connections per host; 0 = unlimited (extra requests wait inside libcurl otherwise).
  long max_host_connections = 0;
  // Idle connections kept for reuse; 0 = libcurl's default (4x the active transfers).
  long max_idle_connections = 0;
  std::string user_agent = "vault-cpp";
  // Where completions run (not owned; must outlive the client). Null = the I/O thread.
  Executor* completions = nullptr;
  // On an AsioEventLoop thread, exchange over Asio/Beast directly (net/asio_http_driver.h) instead
  // of libcurl, unless a proxy variable is set in the environment when the client is created.
  bool native_on_asio_loops = true;
};

struct LoopDriver;

class CurlHttpClient final : public HttpClient, public Timer {
 public:
  // Starts the I/O thread. libcurl's global init happens once per process (thread-safe).
  explicit CurlHttpClient(CurlOptions options = {});
  // Stops the thread. Transfers still running complete with kUnavailable ("client shut down")
  // and pending timers fire early, all before the destructor returns.
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // HttpClient. Thread-safe. After shutdown began, `done` runs inline with kUnavailable.
  void Send(HttpRequest request, Callback done) override;
  // Timer. Thread-safe.
  void RunAfter(int64_t delay_ms, std::function<void()> fn) override;

  // Observability for tests and metrics: connections opened so far (a reused connection does not
  // count), and transfers currently in flight.
  int64_t connections_opened() const;
  int64_t in_flight() const;

  // The CA file that Options resolve to (explicit, then environment); empty = system bundle.
  static std::string ResolveCaFile(const CurlOptions& options);

 private:
  friend struct LoopDriver;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vault::net
