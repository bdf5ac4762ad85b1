// AsioHttpDriver: HTTP/1.1 exchanges on one Asio io_context (an HTTP server I/O thread's), with
// Beast's parser and serializer and Asio's OpenSSL streams. CurlHttpClient uses it for calls made
// on an AsioEventLoop thread when no proxy is configured: the request's bytes then cost a write, a
// read and the reply's wake-up, not libcurl's per-transfer machinery (connection-cache checks,
// socket callbacks, header parsing), which was a third of the I/O thread's CPU per AWS call.
// Calls through a proxy, and calls from threads without a loop, stay on libcurl.
//
// Behaviour (the same contract as CurlHttpClient, net/http_client.h):
//  - keep-alive connections pooled per scheme://host:port on this io_context (at most 32 idle
//    per origin, the most recently used); a request that
//    finds its pooled connection closed by the server before any reply byte is retried once on a
//    new connection (as libcurl does);
//  - https: TLS 1.2+, peer verification against `ca_file` (empty: the system store) and the host
//    name, SNI; http: plain TCP;
//  - one deadline per exchange (connect included): `timeout_ms`, else `default_timeout_ms`; the
//    connect phase also stops at `connect_timeout_ms`;
//  - replies larger than `max_response_bytes` fail; redirects are not followed; 1xx skipped;
//  - transport failures are kUpstream "METHOD scheme://host/path: cause" (never query, headers or
//    body).
//
// Threads: Send and Kill on the io_context's thread only; callbacks run there, inline.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_client.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace vault::net {

struct AsioHttpOptions {
  std::string ca_file;  // PEM bundle; empty = the system's default verify paths
  int64_t connect_timeout_ms = 10000;
  int64_t default_timeout_ms = 30000;
  size_t max_response_bytes = 16 << 20;
  std::string user_agent = "vault-cpp";
  std::atomic<int64_t>* connections_opened = nullptr;  // counted here when set
};

class AsioHttpDriver : public std::enable_shared_from_this<AsioHttpDriver> {
 public:
  AsioHttpDriver(boost::asio::io_context* ioc, AsioHttpOptions options);
  ~AsioHttpDriver();
  AsioHttpDriver(const AsioHttpDriver&) = delete;
  AsioHttpDriver& operator=(const AsioHttpDriver&) = delete;

  // Whether Send can take this URL: http(s), no userinfo, a numeric port in range. Others are
  // left to libcurl.
  static bool Handles(std::string_view url);

  // Starts one exchange (the request must be valid: CurlHttpClient::Send checks it first). `done`
  // runs exactly once on this io_context's thread, never inside Send.
  void Send(HttpRequest request, HttpClient::Callback done);
  // Fails what is in flight with kUnavailable ("HTTP client shut down"), inline, and closes the
  // pooled connections. Later Sends fail the same way (posted). Idempotent.
  void Kill();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace vault::net
