#include "net/curl_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/asio_event_loop.h"
#include "net/asio_http_driver.h"
#include "util/event_loop.h"
#include "util/thread_attrs.h"

namespace vault::net {

namespace {

using SteadyClock = std::chrono::steady_clock;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// One exchange: owns the request (curl reads the body and header list from here) and collects the
// response.
struct Transfer {
  HttpRequest request;
  HttpClient::Callback done;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpResponse response;
  size_t max_bytes = 0;
  bool too_large = false;
  char errbuf[CURL_ERROR_SIZE] = {0};

  ~Transfer() {
    if (header_list) curl_slist_free_all(header_list);
  }
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (t->response.body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line: interim (100 Continue) or proxy CONNECT responses are discarded.
    t->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (t->response.headers.size() < 1000) t->response.headers.emplace_back(name, value);
  return n;
}

struct TimerEntry {
  SteadyClock::time_point deadline;
  uint64_t seq;
  std::function<void()> fn;
};
struct TimerLater {
  bool operator()(const TimerEntry& a, const TimerEntry& b) const {
    if (a.deadline != b.deadline) return a.deadline > b.deadline;
    return a.seq > b.seq;
  }
};

}  // namespace

// The transfers and timers of one client on one EventLoop (an HTTP I/O thread): a multi handle
// driven by curl_multi_socket_action from the loop's readiness and timer callbacks. Everything
// but `mu`/`dead` is touched on the loop's thread only.
struct LoopDriver : std::enable_shared_from_this<LoopDriver> {
  CurlHttpClient::Impl* client = nullptr;  // valid while !dead
  EventLoop* loop = nullptr;               // valid while !dead
  CURLM* multi = nullptr;
  // Set on an AsioEventLoop when no proxy is configured: exchanges skip libcurl.
  std::shared_ptr<AsioHttpDriver> native;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active;
  std::vector<CURL*> idle_easy;
  uint64_t curl_timer = 0;  // the loop timer libcurl asked for (0 = none)
  bool kick_posted = false;
  struct PendingTimer {
    uint64_t loop_id;
    std::function<void()> fn;
  };
  std::map<uint64_t, PendingTimer> timers;  // RunAfter callbacks, fired early by Kill
  uint64_t next_timer = 1;

  bool dead = false;  // Kill has begun (loop thread only)
  // Kill has finished: the client's destructor waits for this. Guarded by mu.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;

  // libcurl callbacks.
  static int OnSocket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int OnTimer(CURLM* multi, long timeout_ms, void* userp);

  void Action(curl_socket_t fd, int ev_bitmask);
  void Reap();
  // One exchange on this loop: the native driver when it takes the URL, else libcurl.
  void Send(HttpRequest request, HttpClient::Callback done);
  uint64_t AddTimer(int64_t delay_ms, std::function<void()> fn);
  // Fails what is in flight (kUnavailable), fires the timers early, frees the multi handle.
  void Kill();
};

struct CurlHttpClient::Impl {
  CurlOptions options;
  std::string ca_file;
  CURLM* multi = nullptr;

  // A proxy variable was set when the client was created: loops use libcurl (which applies it).
  bool proxy_configured = false;
  // Per-loop drivers, created on a loop's first Send. Guarded by mu.
  std::unordered_map<EventLoop*, std::shared_ptr<LoopDriver>> drivers;

  std::mutex mu;
  std::deque<std::unique_ptr<Transfer>> queued;                                 // guarded by mu
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, TimerLater> timers;  // guarded by mu
  uint64_t timer_seq = 0;                                                       // guarded by mu
  bool stopping = false;                                                        // guarded by mu

  // I/O thread only.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active;
  std::vector<CURL*> idle_easy;

  std::atomic<int64_t> connections_opened{0};
  std::atomic<int64_t> in_flight{0};
  std::thread thread;

  void Loop();
  // Adds t to the multi handle `m` (its transfers in `running`, its pooled easy handles in `idle`):
  // the client's own or a loop's. Failures complete t at once.
  void Start(CURLM* m, std::unordered_map<CURL*, std::unique_ptr<Transfer>>& running,
             std::vector<CURL*>& idle, std::unique_ptr<Transfer> t);
  void ReapCompleted();
  // Sets up `easy` for t's request.
  void Configure(CURL* easy, Transfer* t);
  // The outcome of a finished transfer (its easy handle still attached to t).
  Result<HttpResponse> Outcome(Transfer* t, CURLcode code);
  // The transfers of `m` that libcurl has finished, with their outcomes, taken out of `running`;
  // their easy handles go back to `idle`. Collected before any is delivered, because a callback
  // may start the next call on the same multi handle.
  std::vector<std::pair<std::unique_ptr<Transfer>, Result<HttpResponse>>> TakeFinished(
      CURLM* m, std::unordered_map<CURL*, std::unique_ptr<Transfer>>& running,
      std::vector<CURL*>& idle);
  void Complete(std::unique_ptr<Transfer> t, Result<HttpResponse> result, bool inline_only);
  // Ends one exchange: counts it out of in_flight and runs `done` (posted to completions if set).
  void Deliver(const HttpClient::Callback& done, Result<HttpResponse> result, bool inline_only);
  void RunTimer(std::function<void()> fn, bool inline_only);
  int WaitMillis();
  void ConfigureMulti(CURLM* m) const;
  // The driver of the calling thread's loop, created on first use; null without a loop, when the
  // loop has stopped or the client is shutting down.
  std::shared_ptr<LoopDriver> CurrentDriver();
};

CurlHttpClient::CurlHttpClient(CurlOptions options) : impl_(std::make_unique<Impl>()) {
  GlobalInitOnce();
  impl_->options = std::move(options);
  impl_->ca_file = ResolveCaFile(impl_->options);
  for (const char* var :
       {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') impl_->proxy_configured = true;
  }
  impl_->multi = curl_multi_init();
  impl_->ConfigureMulti(impl_->multi);
  impl_->thread = std::thread([impl = impl_.get()] {
    SetThreadName("http-client");
    impl->Loop();
  });
}

void CurlHttpClient::Impl::ConfigureMulti(CURLM* m) const {
  if (options.max_host_connections > 0) {
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  }
  if (options.max_idle_connections > 0) {
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, options.max_idle_connections);
  }
}

CurlHttpClient::~CurlHttpClient() {
  std::unordered_map<EventLoop*, std::shared_ptr<LoopDriver>> drivers;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    drivers.swap(impl_->drivers);
  }
  // Each loop driver dies on its own loop's thread: now (posted), or when that loop stops.
  for (auto& entry : drivers) {
    EventLoop* loop = entry.first;
    const std::shared_ptr<LoopDriver>& d = entry.second;
    if (EventLoop::Current() == loop) {
      d->Kill();
      continue;
    }
    {
      std::lock_guard lock(d->mu);
      if (d->finished) continue;
    }
    loop->Post([d] { d->Kill(); });
    std::unique_lock lock(d->mu);
    d->cv.wait(lock, [&] { return d->finished; });
  }
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
  for (CURL* easy : impl_->idle_easy) curl_easy_cleanup(easy);
  curl_multi_cleanup(impl_->multi);
}

std::string CurlHttpClient::ResolveCaFile(const CurlOptions& options) {
  if (!options.ca_file.empty() || !options.ca_from_environment) return options.ca_file;
  for (const char* var : {"AWS_CA_BUNDLE", "SSL_CERT_FILE"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "";
}

int64_t CurlHttpClient::connections_opened() const { return impl_->connections_opened.load(); }
int64_t CurlHttpClient::in_flight() const { return impl_->in_flight.load(); }

void CurlHttpClient::Send(HttpRequest request, Callback done) {
  std::string_view url = request.url;
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    done(Status(StatusCode::kInvalidArgument, "unsupported URL scheme (want http or https)"));
    return;
  }
  if (HasLineBreak(request.method) || HasLineBreak(request.url)) {
    done(Status(StatusCode::kInvalidArgument, "line break in request method or URL"));
    return;
  }
  for (const auto& [k, v] : request.headers) {
    if (k.empty() || HasLineBreak(k) || HasLineBreak(v) || k.find(':') != std::string::npos) {
      done(Status(StatusCode::kInvalidArgument, "invalid request header"));
      return;
    }
  }
  if (std::shared_ptr<LoopDriver> d = impl_->CurrentDriver()) {
    d->Send(std::move(request), std::move(done));
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->queued.push_back(std::move(t));
      impl_->in_flight.fetch_add(1);
    }
  }
  if (t) {  // not queued: shutting down
    t->done(Status(StatusCode::kUnavailable, "HTTP client shut down"));
    return;
  }
  // From the I/O thread itself (a reply's continuation sending the next call) the loop sees the
  // queue before it polls again: no wake-up (a write and a read on its socketpair) needed.
  if (std::this_thread::get_id() != impl_->thread.get_id()) curl_multi_wakeup(impl_->multi);
}

void CurlHttpClient::RunAfter(int64_t delay_ms, std::function<void()> fn) {
  if (std::shared_ptr<LoopDriver> d = impl_->CurrentDriver()) {
    d->AddTimer(delay_ms, std::move(fn));
    return;
  }
  bool run_now = false;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) {
      run_now = true;
    } else {
      impl_->timers.push(
          TimerEntry{SteadyClock::now() + std::chrono::milliseconds(std::max<int64_t>(delay_ms, 0)),
                     impl_->timer_seq++, std::move(fn)});
    }
  }
  if (run_now) {
    fn();
    return;
  }
  if (std::this_thread::get_id() != impl_->thread.get_id()) curl_multi_wakeup(impl_->multi);
}

void CurlHttpClient::Impl::Start(CURLM* m,
                                 std::unordered_map<CURL*, std::unique_ptr<Transfer>>& running,
                                 std::vector<CURL*>& idle, std::unique_ptr<Transfer> t) {
  CURL* easy;
  if (!idle.empty()) {
    easy = idle.back();
    idle.pop_back();
    curl_easy_reset(easy);  // keeps the connection cache, DNS cache and TLS session cache
  } else {
    easy = curl_easy_init();
  }
  if (easy == nullptr) {
    Complete(std::move(t), Status(StatusCode::kInternal, "curl_easy_init failed"), false);
    return;
  }
  Configure(easy, t.get());
  CURLMcode mc = curl_multi_add_handle(m, easy);
  if (mc != CURLM_OK) {
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
    idle.push_back(easy);
    t->easy = nullptr;
    Complete(std::move(t),
             Status(StatusCode::kInternal,
                    std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc)),
             false);
    return;
  }
  running.emplace(easy, std::move(t));
}

void CurlHttpClient::Impl::Configure(CURL* easy, Transfer* t) {
  t->easy = easy;
  t->max_bytes = options.max_response_bytes;
  const HttpRequest& req = t->request;
  Transfer* raw = t;

  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, raw);
  curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, raw->errbuf);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, raw);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, raw);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  int64_t timeout = req.timeout_ms > 0 ? req.timeout_ms : options.default_timeout_ms;
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
  if (!options.user_agent.empty()) {
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
  }

  const std::string& m = req.method;
  if (m == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (m == "GET" && req.body.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    if (!req.body.empty() || m == "POST" || m == "PUT" || m == "PATCH") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    if (m != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, m.c_str());
  }

  curl_slist* list = nullptr;
  for (const auto& [k, v] : req.headers) {
    std::string line = v.empty() ? k + ";" : k + ": " + v;
    list = curl_slist_append(list, line.c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for larger bodies
  t->header_list = list;
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
}

void CurlHttpClient::Impl::ReapCompleted() {
  for (auto& [t, result] : TakeFinished(multi, active, idle_easy)) {
    Complete(std::move(t), std::move(result), false);
  }
}

std::vector<std::pair<std::unique_ptr<Transfer>, Result<HttpResponse>>>
CurlHttpClient::Impl::TakeFinished(CURLM* m,
                                   std::unordered_map<CURL*, std::unique_ptr<Transfer>>& running,
                                   std::vector<CURL*>& idle) {
  std::vector<std::pair<std::unique_ptr<Transfer>, Result<HttpResponse>>> finished;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode code = msg->data.result;
    curl_multi_remove_handle(m, easy);
    auto it = running.find(easy);
    if (it == running.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    running.erase(it);
    Result<HttpResponse> result = Outcome(t.get(), code);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
    idle.push_back(easy);
    t->easy = nullptr;
    finished.emplace_back(std::move(t), std::move(result));
  }
  return finished;
}

Result<HttpResponse> CurlHttpClient::Impl::Outcome(Transfer* t, CURLcode code) {
  long connects = 0;
  curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
  connections_opened.fetch_add(connects);
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->response.status = static_cast<int>(status);
    return std::move(t->response);
  }
  std::string msg_text = DescribeRequest(t->request.method, t->request.url) + ": ";
  if (t->too_large) {
    msg_text += "response larger than " + std::to_string(t->max_bytes) + " bytes";
  } else {
    msg_text += curl_easy_strerror(code);
    if (t->errbuf[0] != '\0') {
      msg_text += " (";
      msg_text += t->errbuf;
      msg_text += ")";
    }
  }
  return Status(StatusCode::kUpstream, std::move(msg_text));
}

void CurlHttpClient::Impl::Complete(std::unique_ptr<Transfer> t, Result<HttpResponse> result,
                                    bool inline_only) {
  if (t->easy != nullptr) {
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, nullptr);
    idle_easy.push_back(t->easy);
    t->easy = nullptr;
  }
  HttpClient::Callback done = std::move(t->done);
  t.reset();  // frees the request (body may hold secrets) before the callback runs
  Deliver(done, std::move(result), inline_only);
}

void CurlHttpClient::Impl::Deliver(const HttpClient::Callback& done, Result<HttpResponse> result,
                                   bool inline_only) {
  in_flight.fetch_sub(1);
  if (options.completions != nullptr && !inline_only) {
    options.completions->Post([done, r = std::move(result)]() mutable { done(std::move(r)); });
  } else {
    done(std::move(result));
  }
}

void CurlHttpClient::Impl::RunTimer(std::function<void()> fn, bool inline_only) {
  if (options.completions != nullptr && !inline_only) {
    options.completions->Post(std::move(fn));
  } else {
    fn();
  }
}

int CurlHttpClient::Impl::WaitMillis() {
  std::lock_guard lock(mu);
  if (!queued.empty() || stopping) return 0;
  if (timers.empty()) return 1000;
  auto until = timers.top().deadline - SteadyClock::now();
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(until).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
}

void CurlHttpClient::Impl::Loop() {
  for (;;) {
    std::deque<std::unique_ptr<Transfer>> incoming;
    std::vector<std::function<void()>> due;
    {
      std::lock_guard lock(mu);
      if (stopping) break;
      incoming.swap(queued);
      auto now = SteadyClock::now();
      while (!timers.empty() && timers.top().deadline <= now) {
        due.push_back(std::move(const_cast<TimerEntry&>(timers.top()).fn));
        timers.pop();
      }
    }
    for (auto& t : incoming) Start(multi, active, idle_easy, std::move(t));
    for (auto& fn : due) RunTimer(std::move(fn), false);
    int running = 0;
    curl_multi_perform(multi, &running);
    ReapCompleted();
    int wait = WaitMillis();
    if (wait > 0) curl_multi_poll(multi, nullptr, 0, wait, nullptr);
  }

  // Shutdown: fail what is in flight, fire timers early; their callbacks may call Send/RunAfter,
  // which now complete inline, so loop until nothing is left.
  for (auto& [easy, t] : active) {
    curl_multi_remove_handle(multi, easy);
    Complete(std::move(t), Status(StatusCode::kUnavailable, "HTTP client shut down"), true);
  }
  active.clear();
  for (;;) {
    std::deque<std::unique_ptr<Transfer>> incoming;
    std::vector<std::function<void()>> due;
    {
      std::lock_guard lock(mu);
      incoming.swap(queued);
      while (!timers.empty()) {
        due.push_back(std::move(const_cast<TimerEntry&>(timers.top()).fn));
        timers.pop();
      }
    }
    if (incoming.empty() && due.empty()) break;
    for (auto& t : incoming) {
      Complete(std::move(t), Status(StatusCode::kUnavailable, "HTTP client shut down"), true);
    }
    for (auto& fn : due) RunTimer(std::move(fn), true);
  }
}

std::shared_ptr<LoopDriver> CurlHttpClient::Impl::CurrentDriver() {
  EventLoop* loop = EventLoop::Current();
  if (loop == nullptr || loop->stopped()) return nullptr;
  std::lock_guard lock(mu);
  if (stopping) return nullptr;
  auto& d = drivers[loop];
  if (!d) {
    d = std::make_shared<LoopDriver>();
    d->client = this;
    d->loop = loop;
    d->multi = curl_multi_init();
    ConfigureMulti(d->multi);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, &LoopDriver::OnSocket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d.get());
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, &LoopDriver::OnTimer);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d.get());
    if (auto* asio_loop = dynamic_cast<AsioEventLoop*>(loop);
        asio_loop != nullptr && options.native_on_asio_loops && !proxy_configured) {
      AsioHttpOptions o;
      o.ca_file = ca_file;
      o.connect_timeout_ms = options.connect_timeout_ms;
      o.default_timeout_ms = options.default_timeout_ms;
      o.max_response_bytes = options.max_response_bytes;
      o.user_agent = options.user_agent;
      o.connections_opened = &connections_opened;
      d->native = std::make_shared<AsioHttpDriver>(asio_loop->context(), std::move(o));
    }
    loop->AtStop([d = d] { d->Kill(); });
  }
  return d;
}

int LoopDriver::OnSocket(CURL*, curl_socket_t s, int what, void* userp, void*) {
  auto* d = static_cast<LoopDriver*>(userp);
  if (what == CURL_POLL_REMOVE) {
    d->loop->Unwatch(s);
    return 0;
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EventLoop::kRead;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EventLoop::kWrite;
  // The loop's callbacks hold the driver weakly: libcurl removes its sockets before the multi
  // handle goes (Kill), but a callback already queued must not keep a dead driver busy.
  std::weak_ptr<LoopDriver> weak = d->weak_from_this();
  d->loop->Watch(s, events, [weak, s](int ready) {
    auto self = weak.lock();
    if (!self) return;
    int ev = 0;
    if (ready & EventLoop::kRead) ev |= CURL_CSELECT_IN;
    if (ready & EventLoop::kWrite) ev |= CURL_CSELECT_OUT;
    self->Action(s, ev);
  });
  return 0;
}

int LoopDriver::OnTimer(CURLM*, long timeout_ms, void* userp) {
  auto* d = static_cast<LoopDriver*>(userp);
  if (d->curl_timer != 0) {
    d->loop->CancelTimer(d->curl_timer);
    d->curl_timer = 0;
  }
  if (timeout_ms < 0) return 0;
  std::shared_ptr<LoopDriver> self = d->shared_from_this();
  if (timeout_ms == 0) {
    // "As soon as possible": a post from the loop's own thread, which needs no wake-up. Calling
    // back into libcurl from inside this callback is not allowed.
    if (!d->kick_posted) {
      d->kick_posted = true;
      d->loop->Post([self] {
        self->kick_posted = false;
        self->Action(CURL_SOCKET_TIMEOUT, 0);
      });
    }
    return 0;
  }
  d->curl_timer = d->loop->RunAfter(timeout_ms, [self] {
    self->curl_timer = 0;
    self->Action(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void LoopDriver::Action(curl_socket_t fd, int ev_bitmask) {
  if (dead) return;
  int running = 0;
  curl_multi_socket_action(multi, fd, ev_bitmask, &running);
  Reap();
}

void LoopDriver::Reap() {
  for (auto& [t, result] : client->TakeFinished(multi, active, idle_easy)) {
    client->Complete(std::move(t), std::move(result), false);
  }
}

void LoopDriver::Send(HttpRequest request, HttpClient::Callback done) {
  client->in_flight.fetch_add(1);
  if (native && AsioHttpDriver::Handles(request.url)) {
    CurlHttpClient::Impl* c = client;
    native->Send(std::move(request), [c, done = std::move(done)](Result<HttpResponse> r) {
      c->Deliver(done, std::move(r), false);
    });
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  // libcurl answers through OnTimer (timeout 0): the transfer starts from a post on this loop.
  client->Start(multi, active, idle_easy, std::move(t));
}

uint64_t LoopDriver::AddTimer(int64_t delay_ms, std::function<void()> fn) {
  uint64_t key = next_timer++;
  std::shared_ptr<LoopDriver> self = shared_from_this();
  uint64_t loop_id = loop->RunAfter(delay_ms, [self, key] {
    auto it = self->timers.find(key);
    if (it == self->timers.end()) return;
    std::function<void()> f = std::move(it->second.fn);
    self->timers.erase(it);
    self->client->RunTimer(std::move(f), false);
  });
  timers.emplace(key, PendingTimer{loop_id, std::move(fn)});
  return key;
}

void LoopDriver::Kill() {
  if (dead) return;
  dead = true;
  if (native) native->Kill();  // its callbacks run here, inline
  // Fail the transfers first (their callbacks may start new calls: with the loop stopped or the
  // client stopping those go to the client's own thread or fail inline, never here).
  std::vector<std::unique_ptr<Transfer>> failed;
  for (auto& [easy, t] : active) {
    curl_multi_remove_handle(multi, easy);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
    idle_easy.push_back(easy);
    t->easy = nullptr;
    failed.push_back(std::move(t));
  }
  active.clear();
  if (curl_timer != 0) loop->CancelTimer(curl_timer);
  curl_timer = 0;
  std::map<uint64_t, PendingTimer> due;
  due.swap(timers);
  for (auto& [key, pt] : due) loop->CancelTimer(pt.loop_id);
  curl_multi_cleanup(multi);  // closes cached connections (OnSocket unwatches them)
  multi = nullptr;
  for (CURL* easy : idle_easy) curl_easy_cleanup(easy);
  idle_easy.clear();
  for (auto& t : failed) {
    client->Complete(std::move(t), Status(StatusCode::kUnavailable, "HTTP client shut down"), true);
  }
  for (auto& [key, pt] : due) client->RunTimer(std::move(pt.fn), true);
  std::lock_guard lock(mu);
  finished = true;
  cv.notify_all();
}

}  // namespace vault::net
