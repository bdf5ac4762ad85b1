// The second (and last) Boost.Beast translation unit, besides http/server.cc: the client side.
#include "net/asio_http_driver.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "util/strings.h"

namespace vault::net {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

struct Url {
  bool tls = false;
  std::string host;    // without brackets
  std::string port;    // always set
  std::string target;  // path and query, at least "/"
  std::string host_header;
  std::string pool_key;
};

std::optional<Url> ParseUrl(std::string_view url) {
  Url u;
  if (url.starts_with("https://")) {
    u.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  size_t end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view() : url.substr(end);
  if (authority.find('@') != std::string_view::npos)
    return std::nullopt;  // userinfo: libcurl's job
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  u.target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || port.size() > 5) return std::nullopt;
  long n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (port.empty()) n = u.tls ? 443 : 80;
  if (n <= 0 || n > 65535) return std::nullopt;
  u.host = std::string(host);
  u.port = std::to_string(n);
  // As the SigV4 signer's canonical host (aws/sigv4.cc HostFromUrl): lower case, the port only
  // when it is not the scheme's default.
  std::string lower;
  for (char c : u.host) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  u.host_header = authority.starts_with('[') ? "[" + lower + "]" : lower;
  if (n != (u.tls ? 443 : 80)) u.host_header += ":" + u.port;
  u.pool_key = (u.tls ? "https://" : "http://") + u.host_header;
  return u;
}

// One kept-alive connection: plain TCP or TLS over TCP.
struct Conn {
  tcp::socket& lowest() { return tls ? tls->next_layer() : *plain; }
  std::unique_ptr<tcp::socket> plain;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;
  boost::beast::flat_buffer buffer;
};

}  // namespace

struct AsioHttpDriver::Impl {
  static constexpr size_t kMaxIdlePerOrigin = 32;

  // One exchange in flight.
  struct Op {
    Op(asio::io_context& ioc) : timer(ioc) {}
    HttpRequest request;
    Url url;
    HttpClient::Callback done;
    asio::steady_timer timer;
    bool finished = false;
    bool timed_out = false;
    tcp::socket* socket = nullptr;  // the socket in use, closed on timeout
  };

  Impl(asio::io_context* c, AsioHttpOptions o) : ioc(c), options(std::move(o)) {}

  asio::io_context* ioc;
  AsioHttpOptions options;
  std::unique_ptr<asio::ssl::context> tls_ctx;  // built on the first https call
  std::string tls_error;                        // why it could not be built
  std::unordered_map<std::string, std::deque<std::unique_ptr<Conn>>> idle;
  std::unordered_set<std::shared_ptr<Op>> in_flight;
  bool killed = false;

  asio::ssl::context* TlsContext() {
    if (tls_ctx || !tls_error.empty()) return tls_ctx.get();
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (options.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(options.ca_file, ec);
    }
    if (ec) {
      tls_error = "cannot load CA certificates" +
                  (options.ca_file.empty() ? std::string() : " from " + options.ca_file) + ": " +
                  ec.message();
      return nullptr;
    }
    ctx->set_verify_mode(asio::ssl::verify_peer);
    tls_ctx = std::move(ctx);
    return tls_ctx.get();
  }

  void Finish(const std::shared_ptr<Op>& op, Result<HttpResponse> result) {
    if (op->finished) return;
    op->finished = true;
    op->timer.cancel();
    op->socket = nullptr;
    in_flight.erase(op);
    HttpClient::Callback done = std::move(op->done);
    op->request.body.clear();  // may hold secrets: gone before the callback runs
    done(std::move(result));
  }

  Status Fail(const Op& op, std::string cause) const {
    return Status(StatusCode::kUpstream,
                  DescribeRequest(op.request.method, op.request.url) + ": " + std::move(cause));
  }

  std::string Head(const Op& op) const {
    const HttpRequest& r = op.request;
    std::string h;
    h.reserve(256 + r.url.size());
    h += r.method;
    h += ' ';
    h += op.url.target;
    h += " HTTP/1.1\r\n";
    const std::string* host = FindHeader(r.headers, "host");  // a caller's Host wins, as in libcurl
    h += "Host: ";
    h += host != nullptr ? *host : op.url.host_header;
    h += "\r\n";
    bool has_ua = false;
    for (const auto& [k, v] : r.headers) {
      if (EqualsIgnoreCase(k, "host") || EqualsIgnoreCase(k, "content-length")) continue;
      if (EqualsIgnoreCase(k, "user-agent")) has_ua = true;
      h += k;
      h += ": ";
      h += v;
      h += "\r\n";
    }
    if (!has_ua && !options.user_agent.empty()) h += "User-Agent: " + options.user_agent + "\r\n";
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      h += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    h += "\r\n";
    return h;
  }

  // A new connection for op's URL, or an error (kUpstream).
  awaitable<Result<std::unique_ptr<Conn>>> Connect(std::shared_ptr<Op> op) {
    auto conn = std::make_unique<Conn>();
    // Beast reads at most the buffer's free capacity (512 bytes at first): room for a typical AWS
    // answer (about 700 bytes with its head) saves a read and a reactor round per response.
    conn->buffer.reserve(4096);
    conn->plain = std::make_unique<tcp::socket>(*ioc);
    op->socket = conn->plain.get();
    boost::system::error_code ec;
    std::vector<tcp::endpoint> endpoints;
    uint16_t port = static_cast<uint16_t>(std::stoul(op->url.port));
    if (auto ip = asio::ip::make_address(op->url.host, ec); !ec) {
      endpoints.emplace_back(ip, port);
    } else {
      tcp::resolver resolver(*ioc);
      auto results = co_await resolver.async_resolve(op->url.host, op->url.port,
                                                     asio::redirect_error(use_awaitable, ec));
      if (op->finished) co_return Fail(*op, "shut down");
      if (ec) co_return Fail(*op, "could not resolve host " + op->url.host + ": " + ec.message());
      for (const auto& e : results) endpoints.push_back(e.endpoint());
    }
    // The connect phase has its own, shorter deadline. Its handler may run after this frame has
    // moved on (or is gone), so it shares only `guard` with it.
    struct ConnectGuard {
      bool connecting = true;
      bool fired = false;
    };
    auto guard = std::make_shared<ConnectGuard>();
    asio::steady_timer connect_deadline(*ioc);
    connect_deadline.expires_after(std::chrono::milliseconds(options.connect_timeout_ms));
    connect_deadline.async_wait([op, guard](const boost::system::error_code& e) {
      if (e || !guard->connecting || op->finished || op->socket == nullptr) return;
      guard->fired = true;
      boost::system::error_code ignored;
      op->socket->close(ignored);
    });
    co_await asio::async_connect(*conn->plain, endpoints, asio::redirect_error(use_awaitable, ec));
    guard->connecting = false;
    connect_deadline.cancel();
    const bool connect_timed_out = guard->fired;
    if (op->finished) co_return Fail(*op, "shut down");
    if (op->timed_out || connect_timed_out) {
      co_return Fail(*op,
                     "connection timed out after " +
                         std::to_string(op->timed_out ? Timeout(*op) : options.connect_timeout_ms) +
                         " ms");
    }
    if (ec) {
      co_return Fail(*op, "could not connect to " + op->url.host + " port " + op->url.port + ": " +
                              ec.message());
    }
    conn->plain->set_option(tcp::no_delay(true), ec);
    if (options.connections_opened) options.connections_opened->fetch_add(1);
    if (!op->url.tls) co_return conn;

    asio::ssl::context* ctx = TlsContext();
    if (ctx == nullptr) co_return Fail(*op, tls_error);
    conn->tls = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(*conn->plain), *ctx);
    conn->plain.reset();
    op->socket = &conn->tls->next_layer();
    // SNI carries host names only (RFC 6066), as libcurl sends it; the certificate check below
    // covers IP addresses too.
    boost::system::error_code not_ip;
    asio::ip::make_address(op->url.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(conn->tls->native_handle(), op->url.host.c_str())) {
      co_return Fail(*op, "TLS: cannot set the server name");
    }
    conn->tls->set_verify_callback(asio::ssl::host_name_verification(op->url.host));
    co_await conn->tls->async_handshake(asio::ssl::stream_base::client,
                                        asio::redirect_error(use_awaitable, ec));
    if (op->finished) co_return Fail(*op, "shut down");
    if (op->timed_out)
      co_return Fail(*op, "TLS handshake timed out after " + std::to_string(Timeout(*op)) + " ms");
    if (ec) {
      std::string why = ec.message();
      long verify = SSL_get_verify_result(conn->tls->native_handle());
      if (verify != X509_V_OK)
        why += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
      co_return Fail(*op, "TLS handshake with " + op->url.host + " failed: " + why);
    }
    co_return conn;
  }

  int64_t Timeout(const Op& op) const {
    return op.request.timeout_ms > 0 ? op.request.timeout_ms : options.default_timeout_ms;
  }

  // Writes the request and reads the reply on `conn`. `retry` is set when the connection turned
  // out closed before any byte of the reply (a pooled one the server had dropped).
  template <class Stream>
  awaitable<Result<HttpResponse>> Exchange(std::shared_ptr<Op> op, Stream& stream, Conn* conn,
                                           bool reused, bool* retry, bool* keep) {
    std::string head = Head(*op);
    std::array<asio::const_buffer, 2> out = {asio::buffer(head), asio::buffer(op->request.body)};
    boost::system::error_code ec;
    co_await asio::async_write(stream, out, asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      // A request/reply exchange: let the kernel delay the ACK of the reply (piggybacked on the
      // next request, or sent by its delayed-ACK timer) instead of sending it from the read that
      // consumes the reply, on the path to answering our own client. The kernel leaves this mode
      // when its delayed-ACK timer fires, so it is set again for each exchange; it still ACKs at
      // least every second full segment of a long reply.
      int zero = 0;
      ::setsockopt(conn->lowest().native_handle(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
    }
    if (op->finished) co_return Fail(*op, "shut down");
    if (op->timed_out)
      co_return Fail(*op, "timed out after " + std::to_string(Timeout(*op)) + " ms");
    if (ec) {
      *retry = reused;
      co_return Fail(*op, "sending the request failed: " + ec.message());
    }
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    bool got_some = false;
    for (;;) {
      parser.emplace();
      parser->body_limit(options.max_response_bytes);
      parser->header_limit(64 * 1024);
      if (op->request.method == "HEAD") parser->skip(true);
      co_await bhttp::async_read_header(stream, conn->buffer, *parser,
                                        asio::redirect_error(use_awaitable, ec));
      got_some = got_some || parser->got_some();
      if (ec) break;
      unsigned code = parser->get().result_int();
      if (code >= 200 || code < 100) break;
      // A 1xx interim reply: skip it and read the real one.
    }
    if (!ec && !parser->is_done()) {
      co_await bhttp::async_read(stream, conn->buffer, *parser,
                                 asio::redirect_error(use_awaitable, ec));
    }
    if (op->finished) co_return Fail(*op, "shut down");
    if (op->timed_out)
      co_return Fail(*op, "timed out after " + std::to_string(Timeout(*op)) + " ms");
    if (ec == bhttp::error::body_limit) {
      co_return Fail(
          *op, "response larger than " + std::to_string(options.max_response_bytes) + " bytes");
    }
    if (ec) {
      bool nothing_read = !got_some && !parser->got_some();
      *retry = reused && nothing_read &&
               (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
      co_return Fail(*op, "reading the reply failed: " + ec.message());
    }
    auto& res = parser->get();
    HttpResponse out_res;
    out_res.status = res.result_int();
    for (const auto& f : res) {
      if (out_res.headers.size() >= 1000) break;
      out_res.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    out_res.body = std::move(res.body());
    *keep = res.keep_alive();
    co_return out_res;
  }

  awaitable<void> Run(std::shared_ptr<Impl> self, std::shared_ptr<Op> op) {
    for (int attempt = 0; attempt < 2 && !op->finished; ++attempt) {
      std::unique_ptr<Conn> conn;
      bool reused = false;
      if (auto it = idle.find(op->url.pool_key); it != idle.end() && !it->second.empty()) {
        conn = std::move(it->second.back());
        it->second.pop_back();
        reused = true;
      } else {
        Result<std::unique_ptr<Conn>> made = co_await Connect(op);
        if (!made.ok()) {
          Finish(op, made.status());
          co_return;
        }
        conn = std::move(made).value();
      }
      op->socket = &conn->lowest();
      bool retry = false, keep = false;
      Result<HttpResponse> r = Status(StatusCode::kInternal, "no exchange");
      // Not `?:` around co_await (GCC 12 miscompiles it, util/task.h).
      if (conn->tls) {
        r = co_await Exchange(op, *conn->tls, conn.get(), reused, &retry, &keep);
      } else {
        r = co_await Exchange(op, *conn->plain, conn.get(), reused, &retry, &keep);
      }
      if (op->finished) co_return;  // killed: the callback already ran
      op->socket = nullptr;
      if (!r.ok() && retry && attempt == 0) continue;  // the pooled connection was dead
      if (r.ok() && keep && !killed && conn->buffer.size() == 0) {
        auto& pool = idle[op->url.pool_key];
        pool.push_back(std::move(conn));
        // After a burst, keep a few for the next one, not one per request of the burst.
        while (pool.size() > kMaxIdlePerOrigin) pool.pop_front();
      }
      Finish(op, std::move(r));
      co_return;
    }
  }
};

AsioHttpDriver::AsioHttpDriver(asio::io_context* ioc, AsioHttpOptions options)
    : impl_(std::make_shared<Impl>(ioc, std::move(options))) {}

AsioHttpDriver::~AsioHttpDriver() = default;

bool AsioHttpDriver::Handles(std::string_view url) { return ParseUrl(url).has_value(); }

void AsioHttpDriver::Send(HttpRequest request, HttpClient::Callback done) {
  std::shared_ptr<Impl> impl = impl_;
  if (impl->killed) {
    asio::post(*impl->ioc, [done = std::move(done)] {
      done(Status(StatusCode::kUnavailable, "HTTP client shut down"));
    });
    return;
  }
  auto op = std::make_shared<Impl::Op>(*impl->ioc);
  std::optional<Url> url = ParseUrl(request.url);
  op->request = std::move(request);
  op->done = std::move(done);
  if (!url) {
    asio::post(*impl->ioc, [impl, op] {
      impl->Finish(op, Status(StatusCode::kInvalidArgument, "invalid URL"));
    });
    return;
  }
  op->url = std::move(*url);
  impl->in_flight.insert(op);
  op->timer.expires_after(std::chrono::milliseconds(impl->Timeout(*op)));
  std::weak_ptr<Impl::Op> weak = op;
  op->timer.async_wait([weak](const boost::system::error_code& ec) {
    auto o = weak.lock();
    if (ec || !o || o->finished) return;
    o->timed_out = true;
    if (o->socket != nullptr) {
      boost::system::error_code ignored;
      o->socket->close(ignored);  // the pending operation fails; Run reports the timeout
    }
  });
  asio::co_spawn(*impl->ioc, impl->Run(impl, op), asio::detached);
}

void AsioHttpDriver::Kill() {
  Impl* impl = impl_.get();
  if (impl->killed) return;
  impl->killed = true;
  for (auto& [key, conns] : impl->idle) {
    for (auto& c : conns) {
      boost::system::error_code ignored;
      c->lowest().close(ignored);
    }
  }
  impl->idle.clear();
  std::vector<std::shared_ptr<Impl::Op>> ops(impl->in_flight.begin(), impl->in_flight.end());
  for (auto& op : ops) {
    if (op->socket != nullptr) {
      boost::system::error_code ignored;
      op->socket->close(ignored);
    }
    impl->Finish(op, Status(StatusCode::kUnavailable, "HTTP client shut down"));
  }
}

}  // namespace vault::net
