#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/asio_event_loop.h"
#include "net/asio_http_driver.h"
#include "net/curl_http_client.h"
#include "net/fake_http_client.h"
#include "net/http_client.h"
#include "util/event_loop.h"
#include "util/testing.h"
#include "util/thread_pool.h"

namespace vault::net {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// A single-threaded HTTP/1.1 server on 127.0.0.1:0 driven by poll(), with keep-alive. Routes:
//   /echo[?query]  200, body = "METHOD PATH\n" + request header lines + "\n" + request body
//   /delay/<ms>    200 "ok" after <ms>
//   /status/<n>    status n, body "status"
//   /big/<n>       200 with n bytes
//   /hang          never answers
//   /close-after   200 "ok" without Connection: close, then closes the connection
class LoopbackServer {
 public:
  LoopbackServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 4096), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    fcntl(listen_fd_, F_SETFL, O_NONBLOCK);
    EXPECT_EQ(pipe(wake_), 0);
    thread_ = std::thread([this] { Loop(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    char c = 0;
    (void)!write(wake_[1], &c, 1);
    thread_.join();
    for (auto& [fd, conn] : conns_) close(fd);
    close(listen_fd_);
    close(wake_[0]);
    close(wake_[1]);
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepted() const { return accepted_.load(); }
  int max_pending() const { return max_pending_.load(); }
  int requests() const { return requests_.load(); }

 private:
  struct Conn {
    std::string in;
  };
  struct Delayed {
    SteadyClock::time_point at;
    int fd;
    std::string response;
  };

  static std::string Response(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nX-Test: yes\r\n\r\n" +
           body;
  }

  void WriteAll(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          pollfd p{fd, POLLOUT, 0};
          poll(&p, 1, 100);
          continue;
        }
        return;
      }
      off += static_cast<size_t>(n);
    }
  }

  // Returns false when the buffer does not yet hold a whole request.
  bool HandleOne(int fd, Conn& c) {
    size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    std::string head = c.in.substr(0, head_end);
    size_t content_length = 0;
    size_t pos = head.find("\r\n");
    std::string request_line = head.substr(0, pos);
    std::string header_lines = pos == std::string::npos ? "" : head.substr(pos + 2);
    for (size_t i = 0; i < header_lines.size();) {
      size_t e = header_lines.find("\r\n", i);
      if (e == std::string::npos) e = header_lines.size();
      std::string line = header_lines.substr(i, e - i);
      if (strncasecmp(line.c_str(), "content-length:", 15) == 0) {
        content_length = std::strtoul(line.c_str() + 15, nullptr, 10);
      }
      i = e + 2;
    }
    if (c.in.size() < head_end + 4 + content_length) return false;
    std::string body = c.in.substr(head_end + 4, content_length);
    c.in.erase(0, head_end + 4 + content_length);
    ++requests_;

    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.find(' ', sp1 + 1);
    std::string method = request_line.substr(0, sp1);
    std::string path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (path == "/echo" || path.starts_with("/echo?")) {
      WriteAll(fd, Response(200, method + " " + path + "\n" + header_lines + "\n\n" + body));
    } else if (path == "/close-after") {  // answers as if keep-alive, then closes the connection
      WriteAll(fd, Response(200, "ok"));
      close_after_.insert(fd);
    } else if (path.starts_with("/delay/")) {
      int ms = std::atoi(path.c_str() + 7);
      delayed_.push_back({SteadyClock::now() + milliseconds(ms), fd, Response(200, "ok")});
    } else if (path.starts_with("/status/")) {
      WriteAll(fd, Response(std::atoi(path.c_str() + 8), "status"));
    } else if (path.starts_with("/big/")) {
      WriteAll(fd, Response(200, std::string(std::strtoul(path.c_str() + 5, nullptr, 10), 'x')));
    } else if (path.starts_with("http://")) {  // absolute form: we are being used as a proxy
      WriteAll(fd, Response(200, "proxied " + path));
    } else if (path == "/hang") {
      hanging_++;
    } else {
      WriteAll(fd, Response(404, "no route"));
    }
    return true;
  }

  void Loop() {
    while (!stop_) {
      std::vector<pollfd> fds;
      fds.push_back({wake_[0], POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      for (auto& [fd, c] : conns_) fds.push_back({fd, POLLIN, 0});
      int timeout = 1000;
      auto now = SteadyClock::now();
      for (auto& d : delayed_) {
        auto ms = std::chrono::ceil<milliseconds>(d.at - now).count();
        timeout = std::min<int>(timeout, std::max<int>(0, static_cast<int>(ms)));
      }
      poll(fds.data(), fds.size(), timeout);
      if (stop_) break;
      if (fds[1].revents & POLLIN) {
        for (;;) {
          int fd = accept(listen_fd_, nullptr, nullptr);
          if (fd < 0) break;
          fcntl(fd, F_SETFL, O_NONBLOCK);
          conns_[fd];
          ++accepted_;
        }
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int fd = fds[i].fd;
        char buf[65536];
        bool closed = false;
        for (;;) {
          ssize_t n = recv(fd, buf, sizeof(buf), 0);
          if (n > 0) {
            conns_[fd].in.append(buf, static_cast<size_t>(n));
            continue;
          }
          if (n == 0 || (errno != EAGAIN && errno != EINTR)) closed = true;
          break;
        }
        if (closed) {
          close(fd);
          conns_.erase(fd);
          std::erase_if(delayed_, [fd](const Delayed& d) { return d.fd == fd; });
          continue;
        }
        while (HandleOne(fd, conns_[fd])) {
        }
        if (close_after_.erase(fd)) {
          close(fd);
          conns_.erase(fd);
        }
      }
      max_pending_ = std::max<int>(max_pending_, static_cast<int>(delayed_.size()));
      now = SteadyClock::now();
      std::vector<Delayed> keep;
      for (auto& d : delayed_) {
        if (d.at <= now) {
          WriteAll(d.fd, d.response);
        } else {
          keep.push_back(std::move(d));
        }
      }
      delayed_.swap(keep);
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0}, max_pending_{0}, requests_{0}, hanging_{0};
  std::map<int, Conn> conns_;
  std::set<int> close_after_;
  std::vector<Delayed> delayed_;
  std::thread thread_;
};

// Collects one result and lets the test wait for it.
class Waiter {
 public:
  HttpClient::Callback Callback() {
    return [this](Result<HttpResponse> r) {
      std::lock_guard lock(mu_);
      result_.emplace(std::move(r));
      thread_ = std::this_thread::get_id();
      cv_.notify_all();
    };
  }
  Result<HttpResponse> Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    return std::move(*result_);
  }
  std::thread::id thread() const { return thread_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<HttpResponse>> result_;
  std::thread::id thread_;
};

// util::ThreadPool with one thread whose id tests can compare against.
class OneThreadExecutor : public Executor {
 public:
  OneThreadExecutor() {
    std::promise<std::thread::id> p;
    pool_.Post([&p] { p.set_value(std::this_thread::get_id()); });
    id_ = p.get_future().get();
  }
  void Post(std::function<void()> fn) override { pool_.Post(std::move(fn)); }
  std::thread::id id() const { return id_; }

 private:
  ThreadPool pool_{1};
  std::thread::id id_;
};

// Clears the proxy variables that make CurlHttpClient use libcurl on a loop.
void UnsetProxyEnvironment() {
  for (const char* var :
       {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    unsetenv(var);
  }
}

// A loopback port nothing listens on (bound, read back, closed).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

HttpRequest Get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

TEST(HttpClientTest, FindHeaderIsCaseInsensitive) {
  HttpHeaders h = {{"Content-Type", "a"}, {"x-amzn-RequestId", "b"}};
  ASSERT_NE(FindHeader(h, "content-type"), nullptr);
  EXPECT_EQ(*FindHeader(h, "X-AMZN-REQUESTID"), "b");
  EXPECT_EQ(FindHeader(h, "missing"), nullptr);
}

TEST(HttpClientTest, DescribeRequestDropsQueryAndUserinfo) {
  EXPECT_EQ(DescribeRequest("POST", "https://user:pw@iam.amazonaws.com/a/b?X-Amz-Signature=s#f"),
            "POST https://iam.amazonaws.com/a/b");
  EXPECT_EQ(DescribeRequest("GET", "http://127.0.0.1:8200"), "GET http://127.0.0.1:8200/");
}

TEST(CurlHttpClientTest, PostEchoesMethodHeadersAndBody) {
  LoopbackServer server;
  CurlHttpClient client;
  HttpRequest req;
  req.method = "POST";
  req.url = server.Url("/echo");
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"X-Custom", "v1"}};
  req.body = std::string(5000, 'b');  // large enough that curl would use Expect: 100-continue
  Waiter w;
  client.Send(req, w.Callback());
  Result<HttpResponse> r = w.Wait();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.starts_with("POST /echo\n")) << r->body;
  EXPECT_NE(r->body.find("X-Custom: v1"), std::string::npos);
  EXPECT_NE(r->body.find("Content-Type: application/x-www-form-urlencoded; charset=utf-8"),
            std::string::npos);
  EXPECT_EQ(r->body.find("Expect:"), std::string::npos);
  EXPECT_TRUE(r->body.ends_with(std::string(5000, 'b')));
  ASSERT_NE(FindHeader(r->headers, "x-test"), nullptr);
  EXPECT_EQ(*FindHeader(r->headers, "x-test"), "yes");
}

TEST(CurlHttpClientTest, HttpErrorStatusIsASuccessfulResult) {
  LoopbackServer server;
  CurlHttpClient client;
  Waiter w;
  client.Send(Get(server.Url("/status/503")), w.Callback());
  Result<HttpResponse> r = w.Wait();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "status");
}

TEST(CurlHttpClientTest, SequentialRequestsReuseOneConnection) {
  LoopbackServer server;
  CurlHttpClient client;
  for (int i = 0; i < 10; ++i) {
    Waiter w;
    HttpRequest req = Get(server.Url("/echo"));
    req.method = i % 2 ? "POST" : "GET";
    req.body = i % 2 ? "x=1" : "";
    client.Send(req, w.Callback());
    ASSERT_TRUE(w.Wait().ok());
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST(CurlHttpClientTest, ThousandConcurrentRequestsOnOneIoThread) {
  LoopbackServer server;
  CurlHttpClient client;
  constexpr int kN = 1000;
  std::atomic<int> ok{0}, done{0};
  std::mutex mu;
  std::condition_variable cv;
  auto start = SteadyClock::now();
  for (int i = 0; i < kN; ++i) {
    client.Send(Get(server.Url("/delay/300")), [&](Result<HttpResponse> r) {
      if (r.ok() && r->status == 200 && r->body == "ok") ++ok;
      if (++done == kN) {
        std::lock_guard lock(mu);
        cv.notify_all();
      }
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done.load() == kN; }));
  }
  auto elapsed = SteadyClock::now() - start;
  EXPECT_EQ(ok.load(), kN);
  // Sequentially this would take 300 s; concurrently it is a few round trips of 300 ms.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_GE(server.max_pending(), kN / 2) << "requests were not in flight together";
  EXPECT_EQ(client.in_flight(), 0);

  // The pooled connections are reused by the next wave.
  int accepted_before = server.accepted();
  std::atomic<int> done2{0};
  for (int i = 0; i < 100; ++i) {
    client.Send(Get(server.Url("/echo")), [&](Result<HttpResponse> r) { ++done2; });
  }
  ASSERT_TRUE(testing_util::Eventually([&] { return done2.load() == 100; }));
  EXPECT_EQ(server.accepted(), accepted_before);
}

TEST(CurlHttpClientTest, TimeoutFailsWithUpstreamError) {
  LoopbackServer server;
  CurlHttpClient client;
  HttpRequest req = Get(server.Url("/hang"));
  req.timeout_ms = 200;
  auto start = SteadyClock::now();
  Waiter w;
  client.Send(req, w.Callback());
  Result<HttpResponse> r = w.Wait();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("GET http://127.0.0.1:"), std::string::npos);
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(3));
}

TEST(CurlHttpClientTest, ConnectionRefusedFailsFast) {
  int port = UnusedPort();

  CurlHttpClient client;
  Waiter w;
  client.Send(Get("http://127.0.0.1:" + std::to_string(port) + "/x?secret=1"), w.Callback());
  Result<HttpResponse> r = w.Wait();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
  EXPECT_NE(r.status().message().find("onnect"), std::string::npos) << r.status().message();
}

TEST(CurlHttpClientTest, OversizeResponseIsRejected) {
  LoopbackServer server;
  CurlOptions opts;
  opts.max_response_bytes = 1000;
  CurlHttpClient client(opts);
  Waiter w1, w2;
  client.Send(Get(server.Url("/big/1000")), w1.Callback());
  Result<HttpResponse> r1 = w1.Wait();
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->body.size(), 1000u);
  client.Send(Get(server.Url("/big/5000")), w2.Callback());
  Result<HttpResponse> r2 = w2.Wait();
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("larger than 1000 bytes"), std::string::npos);
}

TEST(CurlHttpClientTest, InvalidRequestsFailInline) {
  CurlHttpClient client;
  std::optional<Result<HttpResponse>> got;
  client.Send(Get("ftp://example.com/"), [&](Result<HttpResponse> r) { got.emplace(r); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kInvalidArgument);
  got.reset();
  HttpRequest req = Get("http://127.0.0.1:1/");
  req.headers = {{"X-Bad", "a\r\nInjected: 1"}};
  client.Send(req, [&](Result<HttpResponse> r) { got.emplace(r); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kInvalidArgument);
}

TEST(CurlHttpClientTest, CompletionsArePostedToTheExecutor) {
  LoopbackServer server;
  OneThreadExecutor executor;
  CurlOptions opts;
  opts.completions = &executor;
  CurlHttpClient client(opts);
  Waiter w;
  client.Send(Get(server.Url("/echo")), w.Callback());
  ASSERT_TRUE(w.Wait().ok());
  EXPECT_EQ(w.thread(), executor.id());

  std::atomic<bool> fired{false};
  std::thread::id timer_thread;
  client.RunAfter(1, [&] {
    timer_thread = std::this_thread::get_id();
    fired = true;
  });
  ASSERT_TRUE(testing_util::Eventually([&] { return fired.load(); }));
  EXPECT_EQ(timer_thread, executor.id());
}

// Where each step of a coroutine ran: two calls in a row.
struct Steps {
  std::thread::id after_first, after_second;
  int status = 0;
};

Task<Steps> TwoCalls(HttpClient* client, std::string slow_url, std::string url) {
  Steps s;
  Result<HttpResponse> a = co_await client->SendAsync(Get(slow_url));
  s.after_first = std::this_thread::get_id();
  Result<HttpResponse> b = co_await client->SendAsync(Get(url));
  s.after_second = std::this_thread::get_id();
  s.status = a.ok() && b.ok() ? b->status : -1;
  co_return s;
}

TEST(CurlHttpClientTest, WithoutCompletionsCallsChainOnTheIoThread) {
  LoopbackServer server;
  CurlHttpClient client(CurlOptions{});
  Steps s = SyncWait(TwoCalls(&client, server.Url("/delay/50"), server.Url("/status/204")));
  EXPECT_EQ(s.status, 204);
  // The (slow) first reply resumes the coroutine on the I/O thread; the second call is then
  // started from the I/O thread, so its reply resumes there too: no hop between the calls.
  EXPECT_NE(s.after_first, std::this_thread::get_id());
  EXPECT_EQ(s.after_second, s.after_first);
}

// Calls chained from the I/O thread (each reply's continuation sends the next request) go out
// without a wake-up of the loop; none of them may wait for the loop's 1 s poll timeout.
Task<int> TenChainedCalls(HttpClient* client, std::string url) {
  int ok = 0;
  for (int i = 0; i < 10; ++i) {
    Result<HttpResponse> r = co_await client->SendAsync(Get(url));
    ok += r.ok() && r->status == 204;
  }
  co_return ok;
}

TEST(CurlHttpClientTest, CallsChainedOnTheIoThreadStartWithoutWaitingForThePoll) {
  LoopbackServer server;
  CurlHttpClient client(CurlOptions{});
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(SyncWait(TenChainedCalls(&client, server.Url("/status/204"))), 10);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  // A timer set from the I/O thread fires on time too.
  Waiter w;
  auto t1 = std::chrono::steady_clock::now();
  client.Send(Get(server.Url("/status/204")), [&](Result<HttpResponse>) {
    client.RunAfter(20, [&] { w.Callback()(HttpResponse{}); });
  });
  ASSERT_TRUE(w.Wait().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(900));
}

Task<int> FetchStatus(HttpClient* client, std::string url) {
  Result<HttpResponse> r = co_await client->SendAsync(Get(url));
  co_return r.ok() ? r->status : -1;
}

TEST(CurlHttpClientTest, SendAsyncWorksInCoroutines) {
  LoopbackServer server;
  CurlHttpClient client;
  EXPECT_EQ(SyncWait(FetchStatus(&client, server.Url("/status/204"))), 204);
}

TEST(CurlHttpClientTest, TimersFireInDeadlineOrderAndNotEarly) {
  CurlHttpClient client;
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> n{0};
  auto start = SteadyClock::now();
  std::vector<SteadyClock::duration> at(3);
  for (int i : {2, 0, 1}) {
    client.RunAfter(50 + 50 * i, [&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
      at[i] = SteadyClock::now() - start;
      ++n;
    });
  }
  ASSERT_TRUE(testing_util::Eventually([&] { return n.load() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  for (int i = 0; i < 3; ++i) EXPECT_GE(at[i], milliseconds(50 + 50 * i));
}

TEST(CurlHttpClientTest, ShutdownFailsInFlightAndFiresTimers) {
  LoopbackServer server;
  std::optional<Result<HttpResponse>> got;
  bool timer_fired = false;
  {
    CurlHttpClient client;
    client.Send(Get(server.Url("/hang")), [&](Result<HttpResponse> r) { got.emplace(r); });
    client.RunAfter(3600 * 1000, [&] { timer_fired = true; });
    ASSERT_TRUE(testing_util::Eventually([&] { return server.requests() >= 1; }));
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(timer_fired);
}

TEST(CurlHttpClientTest, HonoursProxyEnvironment) {
  LoopbackServer proxy;
  setenv("http_proxy", proxy.Url("").c_str(), 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  CurlHttpClient client;
  Waiter w1;
  client.Send(Get("http://vault-proxy-test.invalid/x"), w1.Callback());
  Result<HttpResponse> r = w1.Wait();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "proxied http://vault-proxy-test.invalid/x");

  setenv("no_proxy", "vault-proxy-test.invalid", 1);  // now direct: the name does not resolve
  Waiter w2;
  client.Send(Get("http://vault-proxy-test.invalid/x"), w2.Callback());
  EXPECT_FALSE(w2.Wait().ok());
  unsetenv("no_proxy");
  unsetenv("http_proxy");
}

TEST(CurlHttpClientTest, CaFileComesFromOptionsThenEnvironment) {
  CurlOptions opts;
  setenv("AWS_CA_BUNDLE", "/tmp/aws.pem", 1);
  setenv("SSL_CERT_FILE", "/tmp/ssl.pem", 1);
  EXPECT_EQ(CurlHttpClient::ResolveCaFile(opts), "/tmp/aws.pem");
  unsetenv("AWS_CA_BUNDLE");
  EXPECT_EQ(CurlHttpClient::ResolveCaFile(opts), "/tmp/ssl.pem");
  opts.ca_file = "/etc/explicit.pem";
  EXPECT_EQ(CurlHttpClient::ResolveCaFile(opts), "/etc/explicit.pem");
  opts.ca_file.clear();
  opts.ca_from_environment = false;
  EXPECT_EQ(CurlHttpClient::ResolveCaFile(opts), "");
  unsetenv("SSL_CERT_FILE");
}

TEST(CurlHttpClientTest, MissingCaFileFailsHttpsVerification) {
  CurlOptions opts;
  opts.ca_file = "/nonexistent/ca.pem";
  CurlHttpClient client(opts);
  LoopbackServer server;  // plain HTTP: the TLS handshake cannot succeed either way
  Waiter w;
  std::string url = server.Url("/echo");
  url.replace(0, 4, "https");
  HttpRequest req = Get(url);
  req.timeout_ms = 2000;
  client.Send(req, w.Callback());
  Result<HttpResponse> r = w.Wait();
  EXPECT_FALSE(r.ok());
}

// ---- AsioEventLoop: the HTTP server's I/O threads' EventLoop
// -------------------------------------

TEST(AsioEventLoopTest, WatchIsLevelTriggeredAndUnwatchNeverCloses) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  AsioLoopThread lt;
  std::atomic<int> calls{0};
  std::atomic<bool> unwatch_next{false};
  lt.RunSync([&] {
    lt.loop()->Watch(sv[0], EventLoop::kRead, [&](int ready) {
      EXPECT_EQ(ready, EventLoop::kRead);
      int n = ++calls;
      if (unwatch_next) {
        lt.loop()->Unwatch(sv[0]);  // without reading: still readable, but no longer watched
      } else if (n == 3) {
        char buf[8];
        EXPECT_EQ(read(sv[0], buf, sizeof(buf)), 1);  // drained: no more calls
      }
    });
  });
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  // Not drained by the first two calls: called again while the byte is there (level-triggered).
  ASSERT_TRUE(testing_util::Eventually([&] { return calls.load() >= 3; }));
  // Two trips through the loop: a descriptor still ready would have been reported meanwhile.
  lt.RunSync([] {});
  lt.RunSync([] {});
  EXPECT_EQ(calls.load(), 3);

  unwatch_next = true;
  ASSERT_EQ(write(sv[1], "y", 1), 1);
  ASSERT_TRUE(testing_util::Eventually([&] { return calls.load() >= 4; }));
  lt.RunSync([] {});
  lt.RunSync([] {});
  EXPECT_EQ(calls.load(), 4);
  EXPECT_NE(fcntl(sv[0], F_GETFD), -1) << "Unwatch closed the descriptor";
  char buf[8];
  EXPECT_EQ(read(sv[0], buf, sizeof(buf)), 1);
  close(sv[0]);
  close(sv[1]);
}

TEST(AsioEventLoopTest, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  AsioLoopThread lt;
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> last;
  auto start = SteadyClock::now();
  lt.RunSync([&] {
    EventLoop* loop = lt.loop();
    loop->RunAfter(60, [&] {
      std::lock_guard lock(mu);
      order.push_back(60);
      last.set_value();
    });
    loop->RunAfter(20, [&] {
      std::lock_guard lock(mu);
      order.push_back(20);
    });
    uint64_t id = loop->RunAfter(40, [&] {
      std::lock_guard lock(mu);
      order.push_back(40);
    });
    loop->CancelTimer(id);
    loop->RunAfter(30, [&] {
      std::lock_guard lock(mu);
      order.push_back(30);
    });
  });
  last.get_future().wait();
  EXPECT_GE(SteadyClock::now() - start, milliseconds(60));
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<int>{20, 30, 60}));
}

TEST(AsioEventLoopTest, StopRunsHooksThenFiresPendingTimersEarly) {
  AsioLoopThread lt;
  std::vector<std::string> events;  // touched on the loop thread only, read after Stop joins it
  lt.RunSync([&] {
    lt.loop()->RunAfter(3600 * 1000, [&] {
      events.push_back(std::string("timer, stopped=") + (lt.loop()->stopped() ? "1" : "0"));
      lt.loop()->RunAfter(3600 * 1000, [&] { events.push_back("timer added while stopping"); });
    });
    lt.loop()->AtStop([&] { events.push_back("hook"); });
  });
  auto start = SteadyClock::now();
  lt.Stop();
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(events,
            (std::vector<std::string>{"hook", "timer, stopped=1", "timer added while stopping"}));
}

// ---- CurlHttpClient on a caller's loop
// --------------------------------------------------------------- Each test runs twice: with the
// loop's native Asio/Beast exchange (the server's setting) and with libcurl driven by the loop
// (what a proxy in the environment selects).

class CurlHttpClientOnLoopTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { UnsetProxyEnvironment(); }
  CurlOptions Opts() const {
    CurlOptions o;
    o.native_on_asio_loops = GetParam();
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(Exchange, CurlHttpClientOnLoopTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Native" : "Libcurl";
                         });

TEST_P(CurlHttpClientOnLoopTest, ChainedCallsRunOnTheCallersLoopOverOneConnection) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  std::thread::id loop_thread;
  lt.RunSync([&] { loop_thread = std::this_thread::get_id(); });

  // Three calls, each started from the previous one's completion, then a timer: all on the loop.
  std::promise<std::vector<std::thread::id>> done;
  std::vector<std::thread::id> seen;
  std::function<void(int)> call = [&](int i) {
    client.Send(Get(server.Url("/echo")), [&, i](Result<HttpResponse> r) {
      EXPECT_TRUE(r.ok() && r->status == 200);
      seen.push_back(std::this_thread::get_id());
      if (i < 3) {
        call(i + 1);
        return;
      }
      client.RunAfter(10, [&] {
        seen.push_back(std::this_thread::get_id());
        done.set_value(seen);
      });
    });
  };
  lt.RunSync([&] { call(1); });
  auto ids = done.get_future().get();
  ASSERT_EQ(ids.size(), 4u);
  for (auto id : ids) EXPECT_EQ(id, loop_thread);
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.connections_opened(), 1);
  EXPECT_EQ(client.in_flight(), 0);

  // A thread without a loop still gets the client's own thread.
  Waiter w;
  client.Send(Get(server.Url("/echo")), w.Callback());
  ASSERT_TRUE(w.Wait().ok());
  EXPECT_NE(w.thread(), loop_thread);
  EXPECT_NE(w.thread(), std::this_thread::get_id());
}

TEST_P(CurlHttpClientOnLoopTest, ThousandConcurrentRequestsOnALoop) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  constexpr int kN = 1000;
  std::atomic<int> ok{0}, done{0};
  std::promise<void> all;
  auto start = SteadyClock::now();
  lt.RunSync([&] {
    for (int i = 0; i < kN; ++i) {
      client.Send(Get(server.Url("/delay/300")), [&](Result<HttpResponse> r) {
        if (r.ok() && r->status == 200 && r->body == "ok") ++ok;
        if (++done == kN) all.set_value();
      });
    }
  });
  ASSERT_EQ(all.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(ok.load(), kN);
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(5));
  EXPECT_GE(server.max_pending(), kN / 2) << "requests were not in flight together";
  EXPECT_EQ(client.in_flight(), 0);
}

TEST_P(CurlHttpClientOnLoopTest, TimeoutAndRefusedConnectionFailOnTheLoop) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  HttpRequest req = Get(server.Url("/hang"));
  req.timeout_ms = 200;
  Waiter w;
  auto start = SteadyClock::now();
  lt.RunSync([&] { client.Send(req, w.Callback()); });
  Result<HttpResponse> r = w.Wait();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(3));

  int port = UnusedPort();
  Waiter w2;
  lt.RunSync(
      [&] { client.Send(Get("http://127.0.0.1:" + std::to_string(port) + "/x"), w2.Callback()); });
  Result<HttpResponse> r2 = w2.Wait();
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kUpstream);
  EXPECT_NE(r2.status().message().find("onnect"), std::string::npos) << r2.status().message();
}

TEST_P(CurlHttpClientOnLoopTest, LoopStopFailsInFlightFiresTimersAndLaterCallsUseTheClientThread) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  std::optional<Result<HttpResponse>> got;
  bool timer_fired = false;
  std::optional<Result<HttpResponse>> after;  // sent from the failed call's callback
  Waiter later;
  lt.RunSync([&] {
    client.Send(Get(server.Url("/hang")), [&](Result<HttpResponse> r) {
      got.emplace(r);
      client.Send(Get(server.Url("/echo")), later.Callback());
    });
    client.RunAfter(3600 * 1000, [&] { timer_fired = true; });
  });
  ASSERT_TRUE(testing_util::Eventually([&] { return server.requests() >= 1; }));
  lt.Stop();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(timer_fired);
  Result<HttpResponse> r = later.Wait();
  EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? "" : r.status().ToString());
  EXPECT_EQ(client.in_flight(), 0);
}

TEST_P(CurlHttpClientOnLoopTest, ClientDestroyedWhileItsLoopRunsFailsInFlightThere) {
  LoopbackServer server;
  AsioLoopThread lt;
  auto client = std::make_unique<CurlHttpClient>(Opts());
  std::optional<Result<HttpResponse>> got;
  std::thread::id got_on;
  bool timer_fired = false;
  lt.RunSync([&] {
    client->Send(Get(server.Url("/hang")), [&](Result<HttpResponse> r) {
      got.emplace(r);
      got_on = std::this_thread::get_id();
    });
    client->RunAfter(3600 * 1000, [&] { timer_fired = true; });
  });
  ASSERT_TRUE(testing_util::Eventually([&] { return server.requests() >= 1; }));
  client.reset();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(timer_fired);
  std::thread::id loop_thread;
  lt.RunSync([&] { loop_thread = std::this_thread::get_id(); });  // the loop still runs
  EXPECT_EQ(got_on, loop_thread);
}

TEST_P(CurlHttpClientOnLoopTest, SyncWaitOnALoopThreadDoesNotWaitOnThatLoop) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  // The blocked loop could not deliver the reply: the call must go to the client's own thread.
  std::optional<Result<HttpResponse>> r;
  lt.RunSync([&] { r.emplace(SyncWait(client.SendAsync(Get(server.Url("/echo"))))); });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok() && (*r)->status == 200);
  bool loop_restored = false;
  lt.RunSync([&] { loop_restored = EventLoop::Current() == lt.loop(); });
  EXPECT_TRUE(loop_restored);
}

TEST_P(CurlHttpClientOnLoopTest, AConnectionTheServerClosedIsReplacedWithoutAnError) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  for (const char* path : {"/close-after", "/echo", "/echo"}) {
    Waiter w;
    lt.RunSync([&] { client.Send(Get(server.Url(path)), w.Callback()); });
    Result<HttpResponse> r = w.Wait();
    ASSERT_TRUE(r.ok()) << path << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    // The server's FIN reaches this side's socket (no event tells when): the next request must
    // find the connection closed, which is what the test is about.
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(server.accepted(), 2);  // the closed one, then one kept for both echoes
  EXPECT_EQ(client.in_flight(), 0);
}

TEST_P(CurlHttpClientOnLoopTest, PostHeadersBodyStatusAndOversizeReplies) {
  LoopbackServer server;
  CurlOptions o = Opts();
  o.max_response_bytes = 1000;
  CurlHttpClient client(o);
  AsioLoopThread lt;
  HttpRequest req = Get(server.Url("/echo?a=1"));
  req.method = "POST";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"X-Amz-Date", "20150830T123600Z"}};
  req.body = "Action=GetUser&Version=2010-05-08";
  Waiter w1, w2, w3;
  lt.RunSync([&] {
    client.Send(req, w1.Callback());
    client.Send(Get(server.Url("/status/503")), w2.Callback());
    client.Send(Get(server.Url("/big/5000")), w3.Callback());
  });
  Result<HttpResponse> r1 = w1.Wait();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->status, 200);
  EXPECT_NE(r1->body.find("POST /echo?a=1\n"), std::string::npos) << r1->body;
  EXPECT_NE(r1->body.find("Content-Type: application/x-www-form-urlencoded"), std::string::npos);
  EXPECT_NE(r1->body.find("X-Amz-Date: 20150830T123600Z"), std::string::npos);
  EXPECT_NE(r1->body.find("Host: 127.0.0.1:"), std::string::npos);
  EXPECT_NE(r1->body.find("Content-Length: 33"), std::string::npos);
  EXPECT_TRUE(r1->body.ends_with("\n\nAction=GetUser&Version=2010-05-08")) << r1->body;
  ASSERT_NE(FindHeader(r1->headers, "x-test"), nullptr);
  EXPECT_EQ(*FindHeader(r1->headers, "x-test"), "yes");
  Result<HttpResponse> r2 = w2.Wait();
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->status, 503);
  EXPECT_EQ(r2->body, "status");
  Result<HttpResponse> r3 = w3.Wait();
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status().code(), StatusCode::kUpstream);
  EXPECT_NE(r3.status().message().find("larger than 1000 bytes"), std::string::npos)
      << r3.status().message();
}

// A reply far larger than the connection's first read (4 KiB) and than the socket buffers arrives
// whole, over many reads, and the connection serves the next request with nothing left over.
TEST_P(CurlHttpClientOnLoopTest, AReplyLargerThanTheFirstReadArrivesWholeAndTheConnectionIsReused) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  for (size_t n : {size_t{4000}, size_t{4096}, size_t{5000}, size_t{300000}, size_t{10}}) {
    Waiter w;
    lt.RunSync([&] { client.Send(Get(server.Url("/big/" + std::to_string(n))), w.Callback()); });
    Result<HttpResponse> r = w.Wait();
    ASSERT_TRUE(r.ok()) << n << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), n);
    EXPECT_EQ(r->body.find_first_not_of('x'), std::string::npos) << n;
  }
  Waiter w;
  lt.RunSync([&] { client.Send(Get(server.Url("/echo")), w.Callback()); });
  Result<HttpResponse> r = w.Wait();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->body.starts_with("GET /echo\n")) << r->body.substr(0, 100);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(AsioHttpDriverTest, HandlesPlainUrlsAndLeavesTheRestToLibcurl) {
  EXPECT_TRUE(AsioHttpDriver::Handles("https://iam.amazonaws.com/"));
  EXPECT_TRUE(AsioHttpDriver::Handles("http://127.0.0.1:8080/a?b=c"));
  EXPECT_TRUE(AsioHttpDriver::Handles("http://[::1]:8080"));
  EXPECT_FALSE(AsioHttpDriver::Handles("http://user:pw@127.0.0.1/"));
  EXPECT_FALSE(AsioHttpDriver::Handles("http://127.0.0.1:99999/"));
  EXPECT_FALSE(AsioHttpDriver::Handles("http://127.0.0.1:8x/"));
  EXPECT_FALSE(AsioHttpDriver::Handles("ftp://127.0.0.1/"));
  EXPECT_FALSE(AsioHttpDriver::Handles("http:///x"));
}

TEST_P(CurlHttpClientOnLoopTest, AUrlWithUserinfoStillWorksOnALoop) {
  LoopbackServer server;
  CurlHttpClient client(Opts());
  AsioLoopThread lt;
  std::string url = server.Url("/echo");
  url.insert(7, "alice:secret@");
  Waiter w;
  lt.RunSync([&] { client.Send(Get(url), w.Callback()); });
  Result<HttpResponse> r = w.Wait();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->body.find("Authorization: Basic YWxpY2U6c2VjcmV0"), std::string::npos) << r->body;
}

// After a burst, the native exchange keeps at most 32 idle connections per origin: a second burst
// of 40 reuses 32 and opens 8.
TEST(AsioHttpDriverTest, KeepsAtMost32IdleConnectionsPerOrigin) {
  UnsetProxyEnvironment();  // a proxy variable would select libcurl
  LoopbackServer server;
  CurlHttpClient client;
  AsioLoopThread lt;
  auto burst = [&] {
    std::atomic<int> ok{0}, done{0};
    std::promise<void> all;
    lt.RunSync([&] {
      for (int i = 0; i < 40; ++i) {
        client.Send(Get(server.Url("/delay/100")), [&](Result<HttpResponse> r) {
          if (r.ok() && r->status == 200) ++ok;
          if (++done == 40) all.set_value();
        });
      }
    });
    all.get_future().wait();
    return ok.load();
  };
  ASSERT_EQ(burst(), 40);
  EXPECT_EQ(server.accepted(), 40);
  ASSERT_EQ(burst(), 40);
  EXPECT_EQ(server.accepted(), 48);
}

// With a proxy in the environment, calls on a loop go through libcurl, which applies it.
TEST(CurlHttpClientOnLoopProxyTest, AProxyInTheEnvironmentIsHonouredOnALoop) {
  LoopbackServer proxy;
  setenv("http_proxy", proxy.Url("").c_str(), 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  CurlHttpClient client;  // native_on_asio_loops by default
  AsioLoopThread lt;
  Waiter w;
  lt.RunSync([&] { client.Send(Get("http://vault-proxy-test.invalid/x"), w.Callback()); });
  Result<HttpResponse> r = w.Wait();
  unsetenv("http_proxy");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "proxied http://vault-proxy-test.invalid/x");
}

TEST(FakeHttpClientTest, RecordsAndAnswersInline) {
  FakeHttpClient fake([](const HttpRequest& r) -> Result<HttpResponse> {
    return HttpResponse{201, {}, r.body};
  });
  HttpRequest req = Get("http://x/");
  req.body = "hello";
  EXPECT_EQ(SyncWait(fake.SendAsync(req))->body, "hello");
  EXPECT_EQ(fake.requests().size(), 1u);
  FakeTimer timer(/*auto_fire=*/false);
  bool fired = false;
  timer.RunAfter(30, [&] { fired = true; });
  EXPECT_FALSE(fired);
  EXPECT_EQ(timer.FireAll(), 1u);
  EXPECT_TRUE(fired);
  EXPECT_EQ(timer.delays(), (std::vector<int64_t>{30}));
}

}  // namespace
}  // namespace vault::net
