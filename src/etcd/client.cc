#include "etcd/client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "util/encoding.h"

namespace vault::etcd {
namespace {

using SteadyClock = std::chrono::steady_clock;

// gRPC status codes etcd puts in its gateway errors.
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcUnauthenticated = 16;

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

Result<std::string> Bytes(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::string();
  auto decoded = Base64Decode(it->get_ref<const std::string&>());
  if (!decoded.ok()) return Internal(std::string("etcd: undecodable ") + name + " in an answer");
  return decoded;
}

Result<RangeResult> ParseRange(const Json& j) {
  RangeResult r;
  if (auto h = j.find("header"); h != j.end()) r.revision = Int(*h, "revision");
  r.more = Bool(j, "more");
  r.count = Int(j, "count");
  if (auto kvs = j.find("kvs"); kvs != j.end() && kvs->is_array()) {
    r.kvs.reserve(kvs->size());
    for (const Json& kv : *kvs) {
      KeyValue out;
      auto key = Bytes(kv, "key");
      if (!key.ok()) return key.status();
      auto value = Bytes(kv, "value");
      if (!value.ok()) return value.status();
      out.key = std::move(*key);
      out.value = std::move(*value);
      out.create_revision = Int(kv, "create_revision");
      out.mod_revision = Int(kv, "mod_revision");
      out.version = Int(kv, "version");
      out.lease = Int(kv, "lease");
      r.kvs.push_back(std::move(out));
    }
  }
  return r;
}

Json RangeJson(const RangeRequest& r) {
  Json j = {{"key", Base64Encode(r.key)}};
  if (!r.range_end.empty()) j["range_end"] = Base64Encode(r.range_end);
  if (r.limit > 0) j["limit"] = r.limit;
  if (r.revision > 0) j["revision"] = r.revision;
  if (r.keys_only) j["keys_only"] = true;
  if (r.count_only) j["count_only"] = true;
  switch (r.sort) {
    case RangeRequest::Sort::kNone:
      break;
    case RangeRequest::Sort::kKeyAscend:
      j["sort_order"] = "ASCEND";
      j["sort_target"] = "KEY";
      break;
    case RangeRequest::Sort::kCreateAscend:
      j["sort_order"] = "ASCEND";
      j["sort_target"] = "CREATE";
      break;
    case RangeRequest::Sort::kCreateDescend:
      j["sort_order"] = "DESCEND";
      j["sort_target"] = "CREATE";
      break;
  }
  if (r.max_create_revision > 0) j["max_create_revision"] = r.max_create_revision;
  return j;
}

Json OpJson(const TxnOp& op) {
  switch (op.kind) {
    case TxnOp::Kind::kPut: {
      Json p = {{"key", Base64Encode(op.key)}, {"value", Base64Encode(op.value)}};
      if (op.lease != 0) p["lease"] = op.lease;
      return {{"request_put", std::move(p)}};
    }
    case TxnOp::Kind::kDelete: {
      Json d = {{"key", Base64Encode(op.key)}};
      if (!op.range_end.empty()) d["range_end"] = Base64Encode(op.range_end);
      return {{"request_delete_range", std::move(d)}};
    }
    case TxnOp::Kind::kRange: {
      RangeRequest r;
      r.key = op.key;
      r.range_end = op.range_end;
      return {{"request_range", RangeJson(r)}};
    }
  }
  return Json::object();
}

Json CompareJson(const Compare& c) {
  static constexpr const char* kTargets[] = {"VERSION", "CREATE", "MOD", "VALUE", "LEASE"};
  static constexpr const char* kResults[] = {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"};
  Json j = {{"key", Base64Encode(c.key)},
            {"target", kTargets[static_cast<int>(c.target)]},
            {"result", kResults[static_cast<int>(c.result)]}};
  switch (c.target) {
    case Compare::Target::kVersion:
      j["version"] = c.number;
      break;
    case Compare::Target::kCreate:
      j["create_revision"] = c.number;
      break;
    case Compare::Target::kMod:
      j["mod_revision"] = c.number;
      break;
    case Compare::Target::kValue:
      j["value"] = Base64Encode(c.value);
      break;
    case Compare::Target::kLease:
      j["lease"] = c.number;
      break;
  }
  return j;
}

// etcd's gateway error body {"error","message","code"} as a Status.
Status ErrorStatus(int http_status, const Json& body) {
  int code = static_cast<int>(Int(body, "code"));
  std::string msg;
  if (auto m = body.find("message"); m != body.end() && m->is_string()) msg = m->get<std::string>();
  if (msg.empty()) msg = "HTTP " + std::to_string(http_status);
  // etcd refuses a request over --max-request-bytes itself, and its gRPC layer one over that
  // limit plus 512 KiB ("received message larger than max").
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
    : http_(http), timer_(timer), options_(std::move(options)) {}

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
  if (resp->status != 200) co_return ErrorStatus(resp->status, *body);
  auto t = body->find("token");
  if (t == body->end() || !t->is_string()) co_return Internal("etcd: authentication gave no token");
  std::string token = t->get<std::string>();
  {
    std::lock_guard lock(token_mu_);
    token_ = token;
  }
  co_return token;
}

Task<Result<Json>> Client::Call(const char* path, Json body) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(options_.request_timeout_ms);
  const size_t n = options_.endpoints.size();
  const std::string text = DumpJson(body);
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
      net::HttpRequest req;
      req.method = "POST";
      req.url = options_.endpoints[index] + path;
      req.headers = {{"Content-Type", "application/json"}};
      if (!token->empty()) req.headers.emplace_back("Authorization", *token);
      req.body = text;
      // With several members, one that hangs must leave time for another.
      req.timeout_ms =
          n > 1 ? std::max<int64_t>(std::min<int64_t>(remaining, 1000), remaining / 2) : remaining;
      auto resp = co_await http_->SendAsync(std::move(req));
      if (resp.ok()) {
        auto parsed = ParseJson(resp->body);
        if (resp->status == 200) {
          if (!parsed.ok()) co_return Internal(std::string("etcd: unreadable answer to ") + path);
          co_return std::move(*parsed);
        }
        Json err = parsed.ok() ? std::move(*parsed) : Json::object();
        int code = static_cast<int>(Int(err, "code"));
        if (code == kGrpcUnauthenticated && !refreshed_token) {
          refreshed_token = true;
          auto again = co_await AuthToken(true);
          if (!again.ok()) co_return again.status();
          continue;
        }
        if (code != kGrpcUnavailable && resp->status != 503)
          co_return ErrorStatus(resp->status, err);
        last_error = ErrorStatus(resp->status, err).message();
      } else {
        last_error = resp.status().message();
      }
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
  co_return Internal(std::string("etcd: no member answered ") + path + " within " +
                     std::to_string(options_.request_timeout_ms) +
                     " ms (last error: " + last_error + ")");
}

Task<Result<RangeResult>> Client::Range(RangeRequest request) {
  Json body = RangeJson(request);
  CO_ASSIGN_OR_RETURN(Json j, co_await Call("/v3/kv/range", std::move(body)));
  co_return ParseRange(j);
}

Task<Status> Client::Put(std::string key, std::string value, int64_t lease) {
  Json body = {{"key", Base64Encode(key)}, {"value", Base64Encode(value)}};
  if (lease != 0) body["lease"] = lease;
  auto r = co_await Call("/v3/kv/put", std::move(body));
  co_return r.status();
}

Task<Result<int64_t>> Client::DeleteRange(std::string key, std::string range_end) {
  Json body = {{"key", Base64Encode(key)}};
  if (!range_end.empty()) body["range_end"] = Base64Encode(range_end);
  CO_ASSIGN_OR_RETURN(Json j, co_await Call("/v3/kv/deleterange", std::move(body)));
  co_return Int(j, "deleted");
}

Task<Result<TxnResult>> Client::Txn(TxnRequest request) {
  Json body = Json::object();
  Json cmp = Json::array();
  for (const auto& c : request.compare) cmp.push_back(CompareJson(c));
  Json success = Json::array();
  for (const auto& op : request.success) success.push_back(OpJson(op));
  Json failure = Json::array();
  for (const auto& op : request.failure) failure.push_back(OpJson(op));
  if (!cmp.empty()) body["compare"] = std::move(cmp);
  if (!success.empty()) body["success"] = std::move(success);
  if (!failure.empty()) body["failure"] = std::move(failure);
  CO_ASSIGN_OR_RETURN(Json j, co_await Call("/v3/kv/txn", std::move(body)));
  TxnResult r;
  if (auto h = j.find("header"); h != j.end()) r.revision = Int(*h, "revision");
  r.succeeded = Bool(j, "succeeded");
  if (auto rs = j.find("responses"); rs != j.end() && rs->is_array()) {
    for (const Json& op : *rs) {
      auto range = op.find("response_range");
      if (range == op.end()) continue;
      auto parsed = ParseRange(*range);
      if (!parsed.ok()) co_return parsed.status();
      r.ranges.push_back(std::move(*parsed));
    }
  }
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
