// The server's Boost.Beast/Asio translation unit (heavy to compile; the only other is the client
// side, net/asio_http_driver.cc).
#include "http/server.h"

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
    Conn(Shard* s, tcp::socket* sock) : shard(s), socket(sock) {
      next = shard->head;
      if (next) next->prev = this;
      shard->head = this;
    }
    ~Conn() {
      if (prev)
        prev->next = next;
      else
        shard->head = next;
      if (next) next->prev = prev;
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    void ExpiresAfter(std::chrono::steady_clock::duration d) {
      deadline = std::chrono::steady_clock::now() + d;
    }
    void ExpiresNever() { deadline = std::chrono::steady_clock::time_point::max(); }

    Shard* shard;
    tcp::socket* socket;
    Conn* prev = nullptr;
    Conn* next = nullptr;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  };

  Handler* handler;
  ServerOptions options;
  std::vector<std::unique_ptr<Shard>> shards;
  std::atomic<size_t> next_shard{0};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::shared_ptr<asio::ssl::context>> tls;  // per listener, null if plain
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};

  Impl(Handler* h, ServerOptions o) : handler(h), options(std::move(o)) {
    for (int i = 0; i < std::max(1, options.io_threads); ++i)
      shards.push_back(std::make_unique<Shard>());
  }

  template <class Stream>
  awaitable<void> Serve(Stream& stream, Conn* conn, std::string remote);
  // Runs the handler's task on this thread; if it waits on the network, this coroutine suspends
  // and resumes on its own executor when the task completes elsewhere. No thread blocks.
  awaitable<HttpResponse> Run(HttpRequest req);
  awaitable<void> Accept(tcp::acceptor* acceptor, std::shared_ptr<asio::ssl::context> ctx);
  // Cancels the pending operation of every connection of `shard` past its deadline (the
  // operation then fails with operation_aborted and the connection closes).
  awaitable<void> Sweep(Shard* shard);
};

namespace {

// The status line and headers (as Beast's serializer wrote them for our responses), formatted
// directly: Server, Content-Type, Cache-Control, Connection (only when it differs from the
// version's default), Content-Length.
std::string ResponseHead(int status, unsigned version, bool keep_alive, size_t length,
                         const std::string& location) {
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
  h += "\r\nServer: vault-cpp\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n";
  if (!location.empty()) {
    h += "Location: ";
    h += location;
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
  std::string status_and_headers =
      ResponseHead(r.status, version, keep_alive, r.body.size(), r.location);
  std::array<asio::const_buffer, 2> buffers = {
      asio::buffer(status_and_headers), asio::buffer(r.body.data(), head ? 0 : r.body.size())};
  boost::system::error_code ec;
  co_await asio::async_write(stream, buffers, asio::redirect_error(use_awaitable, ec));
  co_return ec;
}

}  // namespace

template <class Stream>
awaitable<void> Server::Impl::Serve(Stream& stream, Conn* conn, std::string remote) {
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_request_size);
    parser.header_limit(static_cast<uint32_t>(options.max_header_size));
    conn->ExpiresAfter(first ? options.read_timeout : options.idle_timeout);
    first = false;
    boost::system::error_code ec;
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
        conn->ExpiresAfter(options.read_timeout);
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
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    conn->ExpiresNever();
    // Every request runs on this I/O thread. What it waits for (a durable write, an AWS call)
    // holds no thread here: the storage backend and the AWS client wait in their own way and
    // resume the request on this thread's loop.
    const bool head = hreq.method == "HEAD";
    HttpResponse hres = co_await Run(std::move(hreq));
    conn->ExpiresAfter(options.read_timeout);
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
        boost::system::error_code ignored;
        c->socket->cancel(ignored);
      }
    }
  }
}

awaitable<void> Server::Impl::Accept(tcp::acceptor* acceptor,
                                     std::shared_ptr<asio::ssl::context> ctx) {
  for (;;) {
    boost::system::error_code ec;
    Shard* shard = shards[next_shard.fetch_add(1) % shards.size()].get();
    asio::any_io_executor shard_executor = shard->ioc.get_executor();
    tcp::socket socket =
        co_await acceptor->async_accept(shard_executor, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
    if (ctx) {
      asio::co_spawn(
          shard_executor,
          [this, shard, ctx, s = std::move(socket), remote]() mutable -> awaitable<void> {
            beast::ssl_stream<tcp::socket> stream(std::move(s), *ctx);
            Conn conn(shard, &beast::get_lowest_layer(stream));
            conn.ExpiresAfter(options.read_timeout);
            boost::system::error_code hec;
            co_await stream.async_handshake(asio::ssl::stream_base::server,
                                            asio::redirect_error(use_awaitable, hec));
            if (hec) co_return;
            co_await Serve(stream, &conn, remote);
            conn.ExpiresAfter(std::chrono::seconds(2));
            co_await stream.async_shutdown(asio::redirect_error(use_awaitable, hec));
          },
          asio::detached);
    } else {
      asio::co_spawn(
          shard_executor,
          [this, shard, s = std::move(socket), remote]() mutable -> awaitable<void> {
            tcp::socket stream(std::move(s));
            Conn conn(shard, &stream);
            co_await Serve(stream, &conn, remote);
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

awaitable<HttpResponse> Server::Impl::Run(HttpRequest req) {
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
  for (size_t i = 0; i < impl_->acceptors.size(); ++i) {
    asio::co_spawn(impl_->shards[0]->ioc, impl_->Accept(impl_->acceptors[i].get(), impl_->tls[i]),
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
