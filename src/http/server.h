// The HTTP(S) transport: Boost.Beast/Asio with C++20 coroutines on a small I/O thread pool (one
// single-threaded loop per thread). All Beast code lives in server.cc. Requests run on the I/O
// thread of their connection; nothing they wait on (storage, AWS) blocks it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/handler.h"
#include "util/status.h"

namespace vault::http {

struct ListenerConfig {
  std::string address = "127.0.0.1:8200";  // host:port; port 0 picks a free port
  bool tls_disable = true;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Vault's listener timeouts (0 = none): the request head must arrive within
  // read_header_timeout, the whole request within read_timeout, the answer must be written
  // within write_timeout, and a keep-alive connection may wait idle_timeout for its next request.
  std::chrono::milliseconds read_header_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{0};
  std::chrono::milliseconds idle_timeout{300000};
  // A request running longer is answered 503 (it finishes in the background): Vault's
  // max_request_duration, 90 s by default. 0 = no limit.
  std::chrono::milliseconds max_request_duration{90000};
  // telemetry { unauthenticated_metrics_access = true }: sys/metrics without a token.
  bool unauthenticated_metrics_access = false;
};

struct ServerOptions {
  std::vector<ListenerConfig> listeners;
  size_t max_request_size = 32 << 20;  // bytes; 413 above
  size_t max_header_size = 64 << 10;   // bytes; 431 above
  int io_threads = 2;
  // Open connections at which the server starts closing idle keep-alive connections (oldest
  // first) to make room for new clients; 0 = from the descriptor limit (RLIMIT_NOFILE less a
  // reserve of 64 for storage, outbound calls and logs).
  size_t max_connections = 0;
  // The CPU time slice each I/O thread asks the kernel for (util/thread_attrs.h RequestTimeSlice;
  // 0 = the kernel's default). I/O threads wake for short bursts on every request and every AWS
  // reply; with a short slice (0.1 ms, the kernel's minimum) a woken I/O thread may preempt a
  // thread that is using its CPU instead of waiting for it to block. Linux 6.12+; ignored before.
  uint64_t io_thread_slice_ns = 100000;
};

class Server {
 public:
  Server(Handler* handler, ServerOptions options);
  ~Server();
  // Binds every listener and starts serving. kInvalidArgument for a bad address or TLS files,
  // kUnavailable if a port cannot be bound.
  Status Start();
  // Actual bound ports, in listener order (after Start).
  std::vector<uint16_t> Ports() const;
  // Blocks until SIGINT/SIGTERM or Stop(); then stops accepting and drains. SIGHUP calls
  // `on_reload` on this (the calling) thread each time; the caller keeps SIGHUP blocked in every
  // other thread, so that a SIGHUP before this call waits here instead of ending the process.
  void RunUntilSignal(std::function<void()> on_reload = nullptr);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vault::http
