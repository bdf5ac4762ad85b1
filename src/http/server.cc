// The server's Boost.Beast/Asio translation unit (heavy to compile; the only other is the client
// side, net/asio_http_driver.cc).
#include "http/server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "net/asio_event_loop.h"
#include "util/log.h"
#include "util/thread_attrs.h"

namespace vault::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

struct Server::Impl {
  // Deadline bookkeeping for one connection (read, idle and write timeouts). A shard's sweep
  // cancels the socket's pending operation once the deadline has passed: one coarse timer per
  // shard instead of arming and cancelling a timer around every read and write.
  struct Conn;
  // One event loop with one thread. A connection lives on one shard for its whole life, so its
  // handlers never race and need no strand (the nginx model: one loop per core). The shard's
  // thread also registers `loop` as its EventLoop: outbound AWS calls of the requests it serves
  // (net::CurlHttpClient) move their bytes on this same thread.
  struct Shard {
    Conn* head = nullptr;  // declared before ioc: frames destroyed with ioc unlink from it
    asio::io_context ioc{1};
    net::AsioEventLoop loop{&ioc};  // declared after ioc: gone before it
  };
  struct Conn {
    Conn(Shard* s, tcp::socket* sock, std::atomic<size_t>* open)
        : shard(s), socket(sock), open_count(open) {
      next = shard->head;
      if (next) next->prev = this;
      shard->head = this;
      open_count->fetch_add(1);
    }
    ~Conn() {
      if (prev)
        prev->next = next;
      else
        shard->head = next;
      if (next) next->prev = prev;
      open_count->fetch_sub(1);
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    void ExpiresAfter(std::chrono::steady_clock::duration d) {
      deadline = std::chrono::steady_clock::now() + d;
    }
    void ExpiresNever() { deadline = std::chrono::steady_clock::time_point::max(); }

    // Waiting for a request's first byte (a new or keep-alive connection): may be shed.
    void Idle() {
      idle = true;
      idle_since = std::chrono::steady_clock::now();
    }

    Shard* shard;
    tcp::socket* socket;
    std::atomic<size_t>* open_count;
    Conn* prev = nullptr;
    Conn* next = nullptr;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool idle = false;
    std::chrono::steady_clock::time_point idle_since;
    // While a request runs: what the sweep does when it outlives max_request_duration (answer
    // 503 now; the request finishes in the background and its answer is dropped).
    std::function<void()> on_expire;
  };

  Handler* handler;
  ServerOptions options;
  std::vector<std::unique_ptr<Shard>> shards;
  std::atomic<size_t> next_shard{0};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::shared_ptr<asio::ssl::context>> tls;  // per listener, null if plain
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  // Connections open now, and the count at which idle ones are shed to make room.
  std::atomic<size_t> open{0};
  size_t high_water = 0;
  // A descriptor held in reserve: when accept fails for want of descriptors (EMFILE), it is
  // released so that the pending client can be accepted while idle connections are shed.
  int spare_fd = -1;

  Impl(Handler* h, ServerOptions o) : handler(h), options(std::move(o)) {
    for (int i = 0; i < std::max(1, options.io_threads); ++i)
      shards.push_back(std::make_unique<Shard>());
  }
  ~Impl() {
    if (spare_fd >= 0) ::close(spare_fd);
  }

  template <class Stream>
  awaitable<void> Serve(Stream& stream, Conn* conn, std::string remote, const ListenerConfig* l);
  // Runs the handler's task on this thread; if it waits on the network, this coroutine suspends
  // and resumes on its own executor when the task completes elsewhere. No thread blocks.
  awaitable<HttpResponse> Run(HttpRequest req, Conn* conn, std::chrono::milliseconds limit);
  awaitable<void> Accept(tcp::acceptor* acceptor, std::shared_ptr<asio::ssl::context> ctx,
                         const ListenerConfig* l);
  // Closes up to `count` of the longest-idle connections, spread over the shards (each shard
  // closes its own on its own thread).
  void Shed(size_t count);
  // Cancels the pending operation of every connection of `shard` past its deadline (the
  // operation then fails with operation_aborted and the connection closes).
  awaitable<void> Sweep(Shard* shard);
};

namespace {

// The status line and headers (as Beast's serializer wrote them for our responses), formatted
// directly: Server, Content-Type, Cache-Control, Location, Retry-After, the response's further
// headers, Connection (only when it differs from the version's default), Content-Length.
std::string ResponseHead(const HttpResponse& r, unsigned version, bool keep_alive, size_t length) {
  const int status = r.status;
  std::string h;
  h.reserve(160);
  h += "HTTP/";
  h += static_cast<char>('0' + version / 10 % 10);
  h += '.';
  h += static_cast<char>('0' + version % 10);
  h += ' ';
  char code[4] = {static_cast<char>('0' + status / 100 % 10),
                  static_cast<char>('0' + status / 10 % 10), static_cast<char>('0' + status % 10),
                  ' '};
  h.append(code, 4);
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  h.append(reason.data(), reason.size());
  h += "\r\nServer: vault-cpp\r\nContent-Type: ";
  h += r.content_type.empty() ? "application/json" : r.content_type;
  h += "\r\nCache-Control: ";
  h += r.cache_control.empty() ? "no-store" : r.cache_control;
  h += "\r\n";
  if (!r.location.empty()) {
    h += "Location: ";
    h += r.location;
    h += "\r\n";
  }
  if (r.retry_after > 0) {
    h += "Retry-After: ";
    h += std::to_string(r.retry_after);
    h += "\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    h += name;
    h += ": ";
    h += value;
    h += "\r\n";
  }
  if (version >= 11 && !keep_alive) h += "Connection: close\r\n";
  if (version < 11 && keep_alive) h += "Connection: keep-alive\r\n";
  h += "Content-Length: ";
  h += std::to_string(length);
  h += "\r\n\r\n";
  return h;
}

Result<tcp::endpoint> ParseAddress(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgument("listener address must be host:port: " + address);
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  int port = std::atoi(address.substr(colon + 1).c_str());
  if (port < 0 || port > 65535) return InvalidArgument("invalid port in " + address);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("invalid listener address " + address);
  return tcp::endpoint(ip, static_cast<uint16_t>(port));
}

// Writes one response (head and body in one gather write). HEAD: the head only.
template <class Stream>
awaitable<boost::system::error_code> WriteResponse(Stream& stream, const HttpResponse& r,
                                                   unsigned version, bool keep_alive, bool head) {
  std::string status_and_headers = ResponseHead(r, version, keep_alive, r.body.size());
  std::array<asio::const_buffer, 2> buffers = {
      asio::buffer(status_and_headers), asio::buffer(r.body.data(), head ? 0 : r.body.size())};
  boost::system::error_code ec;
  co_await asio::async_write(stream, buffers, asio::redirect_error(use_awaitable, ec));
  co_return ec;
}

}  // namespace

namespace {
using Ms = std::chrono::milliseconds;
// The first non-zero of the timeouts (Go's http.Server: an unset header timeout falls back to
// the read timeout, an unset idle timeout too); zero = none.
Ms Either(Ms a, Ms b) { return a.count() > 0 ? a : b; }
}  // namespace

template <class Stream>
awaitable<void> Server::Impl::Serve(Stream& stream, Conn* conn, std::string remote,
                                    const ListenerConfig* l) {
  beast::flat_buffer buffer;
  bool first = true;
  auto expires = [conn](Ms d) {
    if (d.count() > 0)
      conn->ExpiresAfter(d);
    else
      conn->ExpiresNever();
  };
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_request_size);
    parser.header_limit(static_cast<uint32_t>(options.max_header_size));
    boost::system::error_code ec;
    // Until the request's first byte the connection is idle (and may be shed when descriptors
    // run short); from then on the head must arrive within read_header_timeout and the whole
    // request within read_timeout, so a client dripping bytes cannot hold it.
    if (buffer.size() == 0) {
      conn->Idle();
      expires(first ? Either(l->read_header_timeout, l->read_timeout)
                    : Either(l->idle_timeout, l->read_timeout));
      // Read what has come (through TLS, whose layer may hold bytes the socket no longer shows).
      size_t n = co_await stream.async_read_some(buffer.prepare(1024),
                                                 asio::redirect_error(use_awaitable, ec));
      buffer.commit(n);
      conn->idle = false;
      if (ec) break;
    }
    first = false;
    const auto started = std::chrono::steady_clock::now();
    expires(Either(l->read_header_timeout, l->read_timeout));
    co_await bhttp::async_read_header(stream, buffer, parser,
                                      asio::redirect_error(use_awaitable, ec));
    HttpResponse early;
    bool fail = false;
    if (!ec) {
      auto& hdr = parser.get();
      if (hdr.payload_size() && *hdr.payload_size() > options.max_request_size) {
        early = ErrorResponse(413, {"http: request body too large"});
        fail = true;
      } else if (!parser.is_done()) {
        if (l->read_timeout.count() > 0)
          conn->deadline = started + l->read_timeout;
        else
          conn->ExpiresNever();
        if (beast::iequals(hdr[bhttp::field::expect], "100-continue")) {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, hdr.version()};
          co_await bhttp::async_write(stream, cont, asio::redirect_error(use_awaitable, ec));
          if (ec) co_return;
        }
        co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      }
    }
    if (ec && !fail) {
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::eof || ec == asio::error::connection_reset ||
          ec == asio::error::operation_aborted)
        break;
      if (ec == bhttp::error::body_limit)
        early = ErrorResponse(413, {"http: request body too large"});
      else if (ec == bhttp::error::header_limit)
        early = ErrorResponse(431, {"http: request header fields too large"});
      else
        early = ErrorResponse(400, {"malformed HTTP request: " + ec.message()});
      fail = true;
    }
    if (fail) {
      conn->ExpiresAfter(std::chrono::seconds(5));
      boost::system::error_code wec = co_await WriteResponse(stream, early, 11, false, false);
      (void)wec;
      break;
    }
    auto req = parser.release();
    HttpRequest hreq;
    hreq.method = std::string(req.method_string());
    hreq.target = std::string(req.target());
    for (const auto& f : req)
      hreq.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    hreq.body = std::move(req.body());
    hreq.remote_address = remote;
    hreq.unauthenticated_metrics = l->unauthenticated_metrics_access;
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    expires(l->max_request_duration);
    // Every request runs on this I/O thread. What it waits for (a durable write, an AWS call)
    // holds no thread here: the storage backend and the AWS client wait in their own way and
    // resume the request on this thread's loop.
    const bool head = hreq.method == "HEAD";
    HttpResponse hres = co_await Run(std::move(hreq), conn, l->max_request_duration);
    expires(l->write_timeout);
    ec = co_await WriteResponse(stream, hres, version, keep_alive, head);
    if (ec || !keep_alive || stopped) break;
  }
  boost::system::error_code ignored;
  beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> Server::Impl::Sweep(Shard* shard) {
  asio::steady_timer timer(shard->ioc);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec || stopped) co_return;
    auto now = std::chrono::steady_clock::now();
    for (Conn* c = shard->head; c; c = c->next) {
      if (c->deadline <= now) {
        c->ExpiresNever();
        if (c->on_expire) {
          std::function<void()> f = std::move(c->on_expire);
          c->on_expire = nullptr;
          f();
          continue;
        }
        boost::system::error_code ignored;
        c->socket->cancel(ignored);
      }
    }
  }
}

void Server::Impl::Shed(size_t count) {
  size_t per_shard = count / shards.size() + 1;
  for (auto& sp : shards) {
    Shard* shard = sp.get();
    asio::post(shard->ioc, [shard, per_shard] {
      std::vector<Conn*> idle;
      for (Conn* c = shard->head; c; c = c->next) {
        if (c->idle) idle.push_back(c);
      }
      size_t n = std::min(per_shard, idle.size());
      std::partial_sort(idle.begin(), idle.begin() + n, idle.end(),
                        [](Conn* a, Conn* b) { return a->idle_since < b->idle_since; });
      for (size_t i = 0; i < n; ++i) {
        idle[i]->idle = false;
        boost::system::error_code ignored;
        idle[i]->socket->cancel(ignored);  // its wait ends: the connection closes
      }
    });
  }
}

awaitable<void> Server::Impl::Accept(tcp::acceptor* acceptor,
                                     std::shared_ptr<asio::ssl::context> ctx,
                                     const ListenerConfig* l) {
  asio::steady_timer backoff(co_await asio::this_coro::executor);
  for (;;) {
    boost::system::error_code ec;
    Shard* shard = shards[next_shard.fetch_add(1) % shards.size()].get();
    asio::any_io_executor shard_executor = shard->ioc.get_executor();
    tcp::socket socket =
        co_await acceptor->async_accept(shard_executor, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) co_return;
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
        // Out of descriptors: use the reserve for the waiting client and shed idle connections
        // (oldest first) to make room; without a reserve, shed and wait a moment instead of
        // spinning on the failing accept.
        Shed(std::max<size_t>(16, high_water / 100));
        if (spare_fd >= 0) {
          ::close(spare_fd);
          spare_fd = -1;
          continue;
        }
        backoff.expires_after(std::chrono::milliseconds(10));
        co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      continue;
    }
    if (spare_fd < 0 && open.load() + 1 < high_water) spare_fd = ::open("/dev/null", O_RDONLY);
    // Near the limit: make room before it is reached (Envoy's overload manager does the same).
    if (open.load() + 1 >= high_water) Shed(open.load() + 1 - high_water + 1);
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
    if (ctx) {
      asio::co_spawn(
          shard_executor,
          [this, shard, ctx, l, s = std::move(socket), remote]() mutable -> awaitable<void> {
            beast::ssl_stream<tcp::socket> stream(std::move(s), *ctx);
            Conn conn(shard, &beast::get_lowest_layer(stream), &open);
            conn.Idle();
            conn.ExpiresAfter(Either(l->read_header_timeout, Ms(10000)));
            boost::system::error_code hec;
            co_await stream.async_handshake(asio::ssl::stream_base::server,
                                            asio::redirect_error(use_awaitable, hec));
            if (hec) co_return;
            co_await Serve(stream, &conn, remote, l);
            conn.ExpiresAfter(std::chrono::seconds(2));
            co_await stream.async_shutdown(asio::redirect_error(use_awaitable, hec));
          },
          asio::detached);
    } else {
      asio::co_spawn(
          shard_executor,
          [this, shard, l, s = std::move(socket), remote]() mutable -> awaitable<void> {
            tcp::socket stream(std::move(s));
            Conn conn(shard, &stream, &open);
            co_await Serve(stream, &conn, remote, l);
          },
          asio::detached);
    }
  }
}

namespace {
struct Pending {
  std::mutex mu;
  std::optional<HttpResponse> result;
  std::function<void(HttpResponse)> waiter;
};
}  // namespace

awaitable<HttpResponse> Server::Impl::Run(HttpRequest req, Conn* conn,
                                          std::chrono::milliseconds limit) {
  auto p = std::make_shared<Pending>();
  StartTask(handler->HandleAsync(std::move(req)), [p](HttpResponse r) {
    std::function<void(HttpResponse)> w;
    {
      std::lock_guard lock(p->mu);
      if (!p->waiter) {
        p->result = std::move(r);
        return;
      }
      w = std::move(p->waiter);
    }
    w(std::move(r));
  });
  {
    std::lock_guard lock(p->mu);
    if (p->result) co_return std::move(*p->result);  // finished without waiting: the fast path
  }
  // GCC 12 destroys temporaries of a co_await expression twice: the initiation therefore holds
  // only a raw pointer (p lives in this frame until the await completes) and the result goes to
  // a named local instead of `co_return co_await` (both found by ASan under concurrent slow
  // requests).
  Pending* pending = p.get();
  // max_request_duration: the connection's sweep answers for a request that runs too long. It
  // runs on this thread, and `pending` lives in this frame until the await below completes.
  if (limit.count() > 0) {
    conn->on_expire = [pending, limit] {
      std::function<void(HttpResponse)> w;
      {
        std::lock_guard lock(pending->mu);
        w = std::move(pending->waiter);
        pending->waiter = nullptr;
      }
      if (w)
        w(ErrorResponse(503, {"context deadline exceeded: the request ran longer than the "
                              "listener's max_request_duration (" +
                              std::to_string(limit.count() / 1000) + "s)"}));
    };
  }
  auto initiate = [pending](auto completion) {
    using C = decltype(completion);
    auto c = std::make_shared<C>(std::move(completion));
    auto deliver = [c](HttpResponse r) {
      auto ex = asio::get_associated_executor(*c);
      asio::post(ex, [c, r = std::move(r)]() mutable { std::move (*c)(std::move(r)); });
    };
    std::optional<HttpResponse> ready;
    {
      std::lock_guard lock(pending->mu);
      if (pending->result) {
        ready = std::move(pending->result);
      } else {
        pending->waiter = deliver;
      }
    }
    if (ready) deliver(std::move(*ready));
  };
  HttpResponse resp = co_await asio::async_initiate<decltype(use_awaitable), void(HttpResponse)>(
      initiate, use_awaitable);
  conn->on_expire = nullptr;
  co_return resp;
}

Server::Server(Handler* handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  for (const auto& l : impl_->options.listeners) {
    ASSIGN_OR_RETURN(tcp::endpoint ep, ParseAddress(l.address));
    std::shared_ptr<asio::ssl::context> ctx;
    if (!l.tls_disable) {
      if (l.tls_cert_file.empty() || l.tls_key_file.empty())
        return InvalidArgument(
            "listener " + l.address +
            ": tls_cert_file and tls_key_file are required unless tls_disable is set");
      ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
      ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
      boost::system::error_code ec;
      ctx->use_certificate_chain_file(l.tls_cert_file, ec);
      if (ec)
        return InvalidArgument("error loading TLS certificate " + l.tls_cert_file + ": " +
                               ec.message());
      ctx->use_private_key_file(l.tls_key_file, asio::ssl::context::pem, ec);
      if (ec)
        return InvalidArgument("error loading TLS key " + l.tls_key_file + ": " + ec.message());
    }
    auto acceptor = std::make_unique<tcp::acceptor>(impl_->shards[0]->ioc);
    boost::system::error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Unavailable("error listening on " + l.address + ": " + ec.message());
    impl_->tls.push_back(ctx);
    impl_->acceptors.push_back(std::move(acceptor));
  }
  impl_->high_water = impl_->options.max_connections;
  if (impl_->high_water == 0) {
    struct rlimit rl;
    rlim_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    if (limit == RLIM_INFINITY || limit > (1u << 20)) limit = 1u << 20;
    impl_->high_water = limit > 128 ? static_cast<size_t>(limit) - 64 : 64;
  }
  impl_->spare_fd = ::open("/dev/null", O_RDONLY);
  for (size_t i = 0; i < impl_->acceptors.size(); ++i) {
    asio::co_spawn(
        impl_->shards[0]->ioc,
        impl_->Accept(impl_->acceptors[i].get(), impl_->tls[i], &impl_->options.listeners[i]),
        asio::detached);
  }
  for (auto& shard : impl_->shards) {
    asio::co_spawn(shard->ioc, impl_->Sweep(shard.get()), asio::detached);
    impl_->threads.emplace_back(
        [s = shard.get(), n = impl_->threads.size(), slice = impl_->options.io_thread_slice_ns] {
          SetThreadName("http-io-" + std::to_string(n));
          if (slice > 0) {
            uint64_t granted = RequestTimeSlice(slice);
            if (n == 0 && granted == 0) {
              spdlog::info(
                  "http: this kernel keeps no per-thread time slice (Linux 6.12+ does); "
                  "http_io_time_slice is not applied");
            } else if (n == 0) {
              spdlog::info("http: I/O threads run with a {}us time slice (http_io_time_slice)",
                           granted / 1000);
            }
          }
          EventLoop::SetCurrent(&s->loop);
          s->ioc.run();
          s->loop.Stopped();  // outbound calls still running on this thread fail; timers fire early
          EventLoop::SetCurrent(nullptr);
        });
  }
  return Status::Ok();
}

std::vector<uint16_t> Server::Ports() const {
  std::vector<uint16_t> out;
  for (const auto& a : impl_->acceptors) {
    boost::system::error_code ec;
    out.push_back(a->local_endpoint(ec).port());
  }
  return out;
}

void Server::RunUntilSignal(std::function<void()> on_reload) {
  asio::io_context sig_ioc;
  asio::signal_set signals(sig_ioc, SIGINT, SIGTERM, SIGHUP);
  // SIGHUP is blocked process-wide from start (a reload before the server is up must not end
  // it): this thread takes it from now on.
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  pthread_sigmask(SIG_UNBLOCK, &hup, nullptr);
  std::function<void(const boost::system::error_code&, int)> handle =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          if (on_reload) on_reload();
          signals.async_wait(handle);
          return;
        }
        spdlog::info("==> Vault shutdown triggered (signal {})", sig);
      };
  signals.async_wait(handle);
  sig_ioc.run();
  pthread_sigmask(SIG_BLOCK, &hup, nullptr);
  Stop();
}

void Server::Stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->shards[0]->ioc, [this] {
    for (auto& a : impl_->acceptors) {
      boost::system::error_code ec;
      a->close(ec);
    }
  });
  for (auto& shard : impl_->shards) shard->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace vault::http
