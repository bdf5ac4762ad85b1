#include "etcd/client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <tuple>
#include <utility>

namespace vault::etcd {
namespace {

using SteadyClock = std::chrono::steady_clock;

// etcd writes 64-bit integers as JSON strings; numbers are read too. Absent = 0.
int64_t Int(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    bool neg = false;
    size_t i = 0;
    if (!s.empty() && s[0] == '-') neg = true, i = 1;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return 0;
      v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
  }
  return 0;
}

bool Bool(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// etcd's error (a gRPC status code and message, from gRPC or the gateway's error body) as a
// Status.
Status ErrorStatus(int code, std::string msg) {
  // etcd refuses a request over --max-request-bytes itself, and its gRPC layer one over that
  // limit plus 512 KiB ("received message larger than max"; gRPC: "... larger than max").
  if ((code == kGrpcInvalidArgument && msg.find("request is too large") != std::string::npos) ||
      (code == kGrpcResourceExhausted && msg.find("larger than max") != std::string::npos)) {
    return Status(StatusCode::kPayloadTooLarge,
                  "the value is too large for the etcd storage backend (" + msg +
                      "; etcd's --max-request-bytes, 1.5 MiB by default)");
  }
  if (code == kGrpcNotFound) return NotFound("etcd: " + msg);
  if (code == kGrpcResourceExhausted) return Internal("etcd is out of space or overloaded: " + msg);
  return Internal("etcd: " + msg);
}

// The gateway's error body {"error","message","code"}: gRPC's code and etcd's message.
std::pair<int, std::string> GatewayError(int http_status, const Json& body) {
  int code = static_cast<int>(Int(body, "code"));
  std::string msg;
  if (auto m = body.find("message"); m != body.end() && m->is_string()) msg = m->get<std::string>();
  if (msg.empty()) msg = "HTTP " + std::to_string(http_status);
  if (http_status == 503 && code == kGrpcOk) code = kGrpcUnavailable;
  return {code, std::move(msg)};
}

}  // namespace

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  for (size_t i = end.size(); i-- > 0;) {
    auto c = static_cast<unsigned char>(end[i]);
    if (c < 0xff) {
      end[i] = static_cast<char>(c + 1);
      end.resize(i + 1);
      return end;
    }
  }
  return std::string(1, '\0');
}

Client::Client(net::HttpClient* http, net::Timer* timer, ClientOptions options)
    : http_(http),
      timer_(timer),
      options_(std::move(options)),
      grpc_(std::make_unique<GrpcKv>(options_.endpoints, options_.ca_pem)) {}

void Client::SetEndpoints(std::vector<std::string> endpoints) {
  options_.endpoints = std::move(endpoints);
  grpc_ = std::make_unique<GrpcKv>(options_.endpoints, options_.ca_pem);
  current_.store(0);
}

Status Client::Validate(const ClientOptions& options) {
  if (options.endpoints.empty()) return InvalidArgument("etcd: no address given");
  for (const auto& e : options.endpoints) {
    std::string_view rest = e;
    bool scheme = false;
    for (std::string_view s : {"http://", "https://"}) {
      if (rest.starts_with(s)) {
        rest.remove_prefix(s.size());
        scheme = true;
        break;
      }
    }
    if (!scheme || rest.empty() || rest.front() == '/' || rest.front() == ':') {
      return InvalidArgument(
          "client setup failed: address must be valid URL (ex. 'scheme://host:port'): \"" + e +
          "\"");
    }
  }
  if (options.request_timeout_ms <= 0) return InvalidArgument("etcd: request_timeout must be > 0");
  return Status();
}

std::string Client::CurrentEndpoint() const {
  return options_.endpoints[current_.load() % options_.endpoints.size()];
}

Task<Result<std::string>> Client::AuthToken(bool refresh) {
  if (options_.username.empty() || options_.password.empty()) co_return std::string();
  if (!refresh) {
    std::lock_guard lock(token_mu_);
    if (!token_.empty()) co_return token_;
  }
  // Authenticate is a plain call on the current member, without a token.
  net::HttpRequest req;
  req.method = "POST";
  req.url = CurrentEndpoint() + "/v3/auth/authenticate";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = DumpJson({{"name", options_.username}, {"password", options_.password}});
  req.timeout_ms = options_.request_timeout_ms;
  auto resp = co_await http_->SendAsync(std::move(req));
  if (!resp.ok()) co_return resp.status();
  auto body = ParseJson(resp->body);
  if (!body.ok()) co_return Internal("etcd: unreadable authentication answer");
  if (resp->status != 200) {
    auto [code, msg] = GatewayError(resp->status, *body);
    co_return ErrorStatus(code, std::move(msg));
  }
  auto t = body->find("token");
  if (t == body->end() || !t->is_string()) co_return Internal("etcd: authentication gave no token");
  std::string token = t->get<std::string>();
  {
    std::lock_guard lock(token_mu_);
    token_ = token;
  }
  co_return token;
}

template <typename T, typename F>
Task<Result<T>> Client::Retry(const char* what, const F& attempt) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(options_.request_timeout_ms);
  const size_t n = options_.endpoints.size();
  int64_t backoff_ms = 25;
  bool refreshed_token = false;
  std::string last_error;
  for (;;) {
    const int64_t remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now())
            .count();
    if (remaining <= 0) break;
    auto token = co_await AuthToken(false);
    const size_t index = current_.load() % n;
    if (!token.ok()) {
      last_error = token.status().message();
    } else {
      // With several members, one that hangs must leave time for another.
      const int64_t timeout =
          n > 1 ? std::max<int64_t>(std::min<int64_t>(remaining, 1000), remaining / 2) : remaining;
      Attempt<T> a = co_await attempt(index, std::move(*token), timeout);
      if (a.value) co_return std::move(*a.value);
      if (a.code == kGrpcUnauthenticated && !refreshed_token) {
        refreshed_token = true;
        auto again = co_await AuthToken(true);
        if (!again.ok()) co_return again.status();
        continue;
      }
      // Unavailable (no leader, leader changed, stopping, or no connection) and an attempt's
      // deadline move on to the next member; any other error is etcd's answer.
      if (a.code != kGrpcUnavailable && a.code != kGrpcDeadlineExceeded) {
        co_return ErrorStatus(a.code, std::move(a.message));
      }
      last_error = std::move(a.message);
    }
    // This member failed: the next call (and the retry) go to the next one.
    size_t expected = index;
    if (n > 1 && current_.compare_exchange_strong(expected, (index + 1) % n)) {
      spdlog::warn("etcd: {} failed ({}), moving to {}", options_.endpoints[index], last_error,
                   options_.endpoints[(index + 1) % n]);
    }
    if (SteadyClock::now() + std::chrono::milliseconds(backoff_ms) >= deadline) break;
    co_await net::SleepFor(timer_, backoff_ms);
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 500);
  }
  co_return Internal(std::string("etcd: no member answered ") + what + " within " +
                     std::to_string(options_.request_timeout_ms) +
                     " ms (last error: " + last_error + ")");
}

Task<Attempt<Json>> Client::HttpAttempt(const char* path, const std::string& body, size_t member,
                                        std::string token, int64_t timeout_ms) {
  net::HttpRequest req;
  req.method = "POST";
  req.url = options_.endpoints[member] + path;
  req.headers = {{"Content-Type", "application/json"}};
  if (!token.empty()) req.headers.emplace_back("Authorization", std::move(token));
  req.body = body;
  req.timeout_ms = timeout_ms;
  auto resp = co_await http_->SendAsync(std::move(req));
  Attempt<Json> out;
  if (!resp.ok()) {
    // Refused, reset, timed out: the member is unavailable to us.
    out.code = kGrpcUnavailable;
    out.message = resp.status().message();
    co_return out;
  }
  auto parsed = ParseJson(resp->body);
  if (resp->status == 200) {
    if (parsed.ok()) {
      out.value.emplace(std::move(*parsed));
    } else {
      out.code = kGrpcInternal;
      out.message = std::string("unreadable answer to ") + path;
    }
    co_return out;
  }
  Json err = parsed.ok() ? std::move(*parsed) : Json::object();
  std::tie(out.code, out.message) = GatewayError(resp->status, err);
  if (out.code == kGrpcOk) out.code = kGrpcUnknown;
  co_return out;
}

Task<Result<Json>> Client::Call(const char* path, Json body) {
  const std::string text = DumpJson(body);
  auto attempt = [this, path, &text](size_t member, std::string token, int64_t timeout_ms) {
    return HttpAttempt(path, text, member, std::move(token), timeout_ms);
  };
  Result<Json> r = co_await Retry<Json>(path, attempt);
  co_return r;
}

Task<Result<RangeResult>> Client::Range(RangeRequest request) {
  auto attempt = [this, &request](size_t member, std::string token, int64_t timeout_ms) {
    return grpc_->Range(member, request, std::move(token), timeout_ms);
  };
  Result<RangeResult> r = co_await Retry<RangeResult>("Range", attempt);
  co_return r;
}

Task<Status> Client::Put(std::string key, std::string value, int64_t lease) {
  auto attempt = [&](size_t member, std::string token, int64_t timeout_ms) {
    return grpc_->Put(member, key, value, lease, std::move(token), timeout_ms);
  };
  Result<bool> r = co_await Retry<bool>("Put", attempt);
  co_return r.status();
}

Task<Result<int64_t>> Client::DeleteRange(std::string key, std::string range_end) {
  auto attempt = [&](size_t member, std::string token, int64_t timeout_ms) {
    return grpc_->DeleteRange(member, key, range_end, std::move(token), timeout_ms);
  };
  Result<int64_t> r = co_await Retry<int64_t>("DeleteRange", attempt);
  co_return r;
}

Task<Result<TxnResult>> Client::Txn(TxnRequest request) {
  auto attempt = [this, &request](size_t member, std::string token, int64_t timeout_ms) {
    return grpc_->Txn(member, request, std::move(token), timeout_ms);
  };
  Result<TxnResult> r = co_await Retry<TxnResult>("Txn", attempt);
  co_return r;
}

Task<Result<Client::Lease>> Client::LeaseGrant(int64_t ttl_seconds) {
  Json body = {{"TTL", ttl_seconds}};
  CO_ASSIGN_OR_RETURN(Json j, co_await Call("/v3/lease/grant", std::move(body)));
  if (auto e = j.find("error"); e != j.end() && e->is_string() && !e->get<std::string>().empty())
    co_return Internal("etcd: " + e->get<std::string>());
  Lease l{Int(j, "ID"), Int(j, "TTL")};
  if (l.id == 0) co_return Internal("etcd: lease grant gave no lease");
  co_return l;
}

Task<Result<int64_t>> Client::LeaseKeepAlive(int64_t id) {
  Json body = {{"ID", id}};
  CO_ASSIGN_OR_RETURN(Json j, co_await Call("/v3/lease/keepalive", std::move(body)));
  // The gateway streams {"result": {...}}; a lost lease's answer has no TTL.
  const Json& r = j.contains("result") ? j["result"] : j;
  co_return std::max<int64_t>(0, Int(r, "TTL"));
}

Task<Status> Client::LeaseRevoke(int64_t id) {
  Json body = {{"ID", id}};
  auto r = co_await Call("/v3/lease/revoke", std::move(body));
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) co_return Status();  // already gone
  co_return r.status();
}

Task<Result<std::vector<std::string>>> Client::MemberClientUrls() {
  Json body = Json::object();
  CO_ASSIGN_OR_RETURN(Json j, co_await Call("/v3/cluster/member/list", std::move(body)));
  std::vector<std::string> urls;
  if (auto ms = j.find("members"); ms != j.end() && ms->is_array()) {
    for (const Json& m : *ms) {
      if (Bool(m, "isLearner")) continue;
      auto cu = m.find("clientURLs");
      if (cu == m.end() || !cu->is_array()) continue;
      for (const Json& u : *cu)
        if (u.is_string()) urls.push_back(u.get<std::string>());
    }
  }
  if (urls.empty()) co_return Internal("etcd: the member list names no client URL");
  co_return urls;
}

}  // namespace vault::etcd
