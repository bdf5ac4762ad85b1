#include "http/handler.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "core/core.h"
#include "http/ui.h"
#include "net/http_client.h"
#include "util/duration.h"
#include "util/encoding.h"
#include "util/json.h"
#include "util/random.h"
#include "util/strings.h"
#include "util/version.h"

namespace vault::http {
namespace {

// Routes whose data is also copied to the top level of the JSON (Vault's injectDataIntoTopRoutes).
const std::set<std::string, std::less<>> kInjectTopLevel = {"sys/audit",
                                                            "sys/audit/",
                                                            "sys/auth",
                                                            "sys/auth/",
                                                            "sys/capabilities",
                                                            "sys/capabilities-accessor",
                                                            "sys/capabilities-self",
                                                            "sys/key-status",
                                                            "sys/mounts",
                                                            "sys/mounts/",
                                                            "sys/policy",
                                                            "sys/policy/",
                                                            "sys/remount",
                                                            "sys/rotate",
                                                            "sys/ha-status"};

bool InjectTopLevel(std::string_view path) {
  if (kInjectTopLevel.count(path)) return true;
  for (const char* p : {"sys/audit-hash/", "sys/policy/", "sys/mounts/", "sys/audit/"}) {
    if (path.rfind(p, 0) == 0) return true;
  }
  return false;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return InvalidArgument("invalid URL escape");
      int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("invalid URL escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Query string -> JSON object: one value -> string, repeated -> list (Vault's parseQuery).
Result<Json> ParseQuery(std::string_view q) {
  Json out = Json::object();
  for (const auto& part : Split(q, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    ASSIGN_OR_RETURN(std::string k, PercentDecode(part.substr(0, eq), true));
    std::string v;
    if (eq != std::string::npos) {
      ASSIGN_OR_RETURN(v, PercentDecode(std::string_view(part).substr(eq + 1), true));
    }
    if (!out.contains(k)) {
      out[k] = v;
    } else if (out[k].is_array()) {
      out[k].push_back(v);
    } else {
      out[k] = Json::array({out[k], v});
    }
  }
  return out;
}

HttpResponse JsonResponse(int status, const Json& body) { return {status, DumpJson(body)}; }

// Vault's response envelope, written directly: its keys in sorted order (as Go's encoding/json
// and DumpJson print them), `data` spliced in as text (Response::data_json, or `data` dumped).
std::string Envelope(const logical::Response& r) {
  std::string data = r.data_json.empty() ? DumpJson(r.data) : std::string();
  const std::string& data_text = r.data_json.empty() ? data : r.data_json;
  std::string out;
  out.reserve(data_text.size() + 224);
  out += "{\"auth\":";
  out += r.auth.is_null() ? std::string("null") : DumpJson(r.auth);
  out += ",\"data\":";
  out += data_text;
  out += ",\"lease_duration\":";
  out += std::to_string(r.lease_duration);
  out += ",\"lease_id\":";
  out += r.secret && !r.lease_id.empty() ? DumpJson(Json(r.lease_id)) : std::string("\"\"");
  out += ",\"renewable\":";
  out += r.secret && r.secret->renewable ? "true" : "false";
  out += ",\"request_id\":\"";
  out += NewUuid();  // hex digits and dashes: nothing to escape
  out += "\",\"warnings\":";
  out += r.warnings.empty() ? std::string("null") : DumpJson(Json(r.warnings));
  out += ",\"wrap_info\":null}";
  return out;
}

// The answer to a wrapped request: no data, no auth, only wrap_info.
std::string WrappedEnvelope(const Json& wrap_info) {
  Json env = {{"request_id", NewUuid()}, {"lease_id", ""},  {"renewable", false},
              {"lease_duration", 0},     {"data", nullptr}, {"wrap_info", wrap_info},
              {"warnings", nullptr},     {"auth", nullptr}};
  return DumpJson(env);
}

HttpResponse FromStatus(const Status& st) {
  return ErrorResponse(HttpStatusFor(st.code()), st.messages());
}

Json SealStatusJson(const barrier::SealStatus& s, const std::string& storage) {
  return {{"type", "shamir"},
          {"initialized", s.initialized},
          {"sealed", s.sealed},
          {"t", s.threshold},
          {"n", s.shares},
          {"progress", s.progress},
          {"nonce", s.nonce},
          {"version", kVersion},
          {"build_date", ""},
          {"migration", false},
          {"cluster_name", s.initialized ? "vault-cluster-cpp" : ""},
          {"cluster_id", ""},
          {"recovery_seal", false},
          {"storage_type", storage}};
}

// Unseal keys arrive hex (Vault CLI, `keys`) or base64 (`keys_base64`).
Result<std::string> DecodeKey(const std::string& key) {
  auto hex = HexDecode(key);
  if (hex.ok() && hex->size() >= 16 && hex->size() <= 33) return hex;
  auto b64 = Base64Decode(key);
  if (b64.ok() && b64->size() >= 16 && b64->size() <= 33) return b64;
  return InvalidArgument("'key' must be a valid hex or base64 string");
}

Result<Json> ParseBody(const HttpRequest& req) {
  std::string_view body = req.body;
  size_t i = 0;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  if (i == body.size()) return Json::object();
  std::string ct = ToLower(req.Header("content-type"));
  if (ct.rfind("application/x-www-form-urlencoded", 0) == 0 && body[i] != '{' && body[i] != '[')
    return ParseQuery(body);
  ASSIGN_OR_RETURN(Json j, ParseJson(body));
  if (j.is_null()) return Json::object();
  if (!j.is_object())
    return InvalidArgument("failed to parse JSON input: request body must be a JSON object");
  return j;
}

// A whole-number member of a request body: a JSON number that is a whole number, or a string of
// decimal digits (form bodies carry only strings), that fits an int; 0 when absent or null.
// kInvalidArgument for anything else (1.5, 3e20, "ten", a number past INT_MAX).
Result<int> IntField(const Json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return 0;
  constexpr int64_t kMin = std::numeric_limits<int>::min(), kMax = std::numeric_limits<int>::max();
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() <= static_cast<uint64_t>(kMax))
      return static_cast<int>(it->get<uint64_t>());
  } else if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    if (v >= kMin && v <= kMax) return static_cast<int>(v);
  } else if (it->is_number_float()) {
    const double v = it->get<double>();
    if (v == std::trunc(v) && v >= static_cast<double>(kMin) && v <= static_cast<double>(kMax))
      return static_cast<int>(v);
  } else if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    int v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) return v;
  }
  return InvalidArgument(std::string("failed to parse JSON input: ") + key + " must be an integer");
}

std::string TokenFrom(const HttpRequest& req) {
  std::string t = req.Header("x-vault-token");
  if (!t.empty()) return t;
  for (const auto& [k, v] : req.headers) {
    if (ToLower(k) == "authorization" && v.rfind("Bearer ", 0) == 0) return Trim(v.substr(7));
  }
  return "";
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  }
  return "";
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnsupportedOperation:
      return 405;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kRateLimited:
      return 429;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUpstream:
      return 502;
    case StatusCode::kUpstreamThrottled:
      return 502;
    case StatusCode::kUnavailable:
      return 503;
  }
  return 500;
}

HttpResponse ErrorResponse(int http_status, const std::vector<std::string>& errors) {
  return JsonResponse(http_status, {{"errors", errors}});
}

HttpResponse Handler::Handle(const HttpRequest& req) { return SyncWait(HandleAsync(req)); }

Task<HttpResponse> Handler::HandleAsync(HttpRequest req) {
  std::string_view target = req.target;
  auto qpos = target.find('?');
  std::string_view raw_path = target.substr(0, qpos);
  std::string query = qpos == std::string_view::npos ? "" : std::string(target.substr(qpos + 1));
  auto decoded = PercentDecode(raw_path, false);
  if (!decoded.ok()) co_return ErrorResponse(400, {"invalid request path: bad URL escape"});
  std::string path = std::move(decoded).value();
  if (path.rfind("/v1/", 0) != 0) {
    // The web UI's files (and "/" -> "/ui/"), served by this node itself, sealed or standby.
    if (ui_enabled_) co_return ServeUi(req, path);
    co_return ErrorResponse(404, {});
  }
  path = path.substr(4);
  if (!IsValidUtf8(path)) co_return ErrorResponse(400, {"invalid request path: not valid UTF-8"});
  // Bounded paths: storage keys, ACL walks and audit records grow with them.
  constexpr size_t kMaxPathBytes = 8192, kMaxSegments = 256;
  if (path.size() > kMaxPathBytes)
    co_return ErrorResponse(
        400, {"invalid request path: longer than " + std::to_string(kMaxPathBytes) + " bytes"});
  // No "." / ".." segments, no empty segments (a trailing '/' is allowed: it lists).
  {
    auto segs = Split(path, '/');
    if (segs.size() > kMaxSegments)
      co_return ErrorResponse(
          400, {"invalid request path: more than " + std::to_string(kMaxSegments) + " segments"});
    for (size_t i = 0; i < segs.size(); ++i) {
      const auto& s = segs[i];
      if (s == "." || s == ".." || (s.empty() && i + 1 != segs.size()) ||
          s.find('\0') != std::string::npos)
        co_return ErrorResponse(400, {"invalid request path: \"" + std::string(raw_path) + "\""});
    }
  }
  // sys/metrics: Prometheus also when the scraper asks for it by Accept header; unauthenticated
  // (any node, not audited, GET only) where the listener allows it.
  if (path == "sys/metrics") {
    const std::string accept = req.Header("Accept");
    if (query.find("format=") == std::string::npos &&
        (accept.rfind("application/openmetrics-text", 0) == 0 ||
         accept.find("prometheus/telemetry") != std::string::npos)) {
      query += query.empty() ? "format=prometheus" : "&format=prometheus";
    }
    if (req.unauthenticated_metrics) {
      if (req.method != "GET") co_return ErrorResponse(405, {});
      std::string format;
      for (const auto& part : Split(query, '&')) {
        if (part.rfind("format=", 0) == 0) format = part.substr(7);
      }
      auto rendered = core_->RenderMetrics(format);
      if (!rendered.ok()) co_return ErrorResponse(400, {rendered.status().message()});
      HttpResponse out;
      out.body = std::move(rendered->first);
      if (rendered->second != "application/json") out.content_type = std::move(rendered->second);
      co_return out;
    }
  }
  // A standby answers only what Vault's standbys answer themselves; the active node the rest.
  if (core_->Standby() && path != "sys/health" && path != "sys/leader" &&
      path != "sys/seal-status" && path != "sys/init" && path != "sys/unseal" &&
      path != "sys/seal") {
    HttpResponse forwarded = co_await ToActive(req);
    co_return forwarded;
  }
  // Rate-limit quotas (sys/quotas): 429 with Retry-After for a client over its quota.
  if (std::optional<int64_t> wait = core_->CheckQuota(path, req.remote_address)) {
    HttpResponse limited =
        ErrorResponse(429, {"request path \"" + path + "\": rate limit quota exceeded"});
    limited.retry_after = *wait;
    co_return limited;
  }
  if (path.rfind("sys/", 0) == 0) {
    std::optional<HttpResponse> r = co_await HandleSys(path, req);
    if (r) co_return std::move(*r);
  }
  co_return co_await Logical(path, query, req);
}

Task<HttpResponse> Handler::ToActive(const HttpRequest& req) {
  auto leader = co_await core_->Leader();
  if (!leader.ok()) {
    spdlog::warn("http: finding the active node failed: {}", leader.status().message());
  }
  // The lock may name this server for the moment between winning it and serving as active: never
  // forward to ourselves.
  if (!leader.ok() || !leader->has_value() || (*leader)->api_addr.empty() ||
      (*leader)->api_addr == core_->ha_config().api_addr) {
    co_return ErrorResponse(500, {"local node not active but active cluster node not found"});
  }
  std::string base = (*leader)->api_addr;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const bool redirect = forward_ == nullptr || (*leader)->forwarding_disabled ||
                        !req.Header("X-Vault-No-Request-Forwarding").empty();
  if (!redirect) {
    net::HttpRequest out;
    out.method = req.method;
    out.url = base + req.target;
    for (const auto& [k, v] : req.headers) {
      if (EqualsIgnoreCase(k, "host") || EqualsIgnoreCase(k, "content-length") ||
          EqualsIgnoreCase(k, "connection") || EqualsIgnoreCase(k, "transfer-encoding") ||
          EqualsIgnoreCase(k, "keep-alive") || EqualsIgnoreCase(k, "expect"))
        continue;
      out.headers.emplace_back(k, v);
    }
    out.headers.emplace_back("X-Forwarded-For", req.remote_address);
    out.body = req.body;
    out.timeout_ms = 90000;  // Vault gives a request up to 90 s
    auto answer = co_await forward_->SendAsync(std::move(out));
    if (answer.ok()) {
      HttpResponse r;
      r.status = answer->status;
      r.body = std::move(answer->body);
      if (const std::string* loc = net::FindHeader(answer->headers, "location")) r.location = *loc;
      co_return r;
    }
    // As Vault: when forwarding fails, the client is sent to the active node itself. The
    // request's path may carry a secret (a token in auth/token/lookup/...): not logged.
    spdlog::warn("http: forwarding a request to the active node at {} failed; redirecting", base);
  }
  HttpResponse r;
  r.status = 307;
  r.location = base + req.target;
  co_return r;
}

Task<std::optional<HttpResponse>> Handler::HandleSys(const std::string& path,
                                                     const HttpRequest& req) {
  const std::string& m = req.method;
  bool put = m == "PUT" || m == "POST";
  if (path == "sys/init") {
    if (m == "GET") {
      auto init = co_await core_->Initialized();
      if (!init.ok()) co_return FromStatus(init.status());
      co_return JsonResponse(200, {{"initialized", *init}});
    }
    if (!put) co_return ErrorResponse(405, {});
    auto body = ParseBody(req);
    if (!body.ok()) co_return FromStatus(body.status());
    if (body->contains("pgp_keys") && !(*body)["pgp_keys"].is_null() &&
        !(*body)["pgp_keys"].empty())
      co_return ErrorResponse(400, {"PGP-encrypted unseal keys are not supported by this server"});
    Result<int> shares = IntField(*body, "secret_shares");
    if (!shares.ok()) co_return FromStatus(shares.status());
    Result<int> threshold = IntField(*body, "secret_threshold");
    if (!threshold.ok()) co_return FromStatus(threshold.status());
    auto r = co_await core_->Initialize(*shares, *threshold);
    if (!r.ok()) co_return FromStatus(r.status());
    Json keys = Json::array(), keys_b64 = Json::array();
    for (const auto& k : r->keys) {
      keys.push_back(HexEncode(k));
      keys_b64.push_back(Base64Encode(k));
    }
    co_return JsonResponse(
        200, {{"keys", keys}, {"keys_base64", keys_b64}, {"root_token", r->root_token}});
  }
  if (path == "sys/seal-status") {
    if (m != "GET") co_return ErrorResponse(405, {});
    auto s = co_await core_->SealStatus();
    if (!s.ok()) co_return FromStatus(s.status());
    co_return JsonResponse(200, SealStatusJson(*s, core_->StorageType()));
  }
  if (path == "sys/unseal") {
    if (!put) co_return ErrorResponse(405, {});
    auto body = ParseBody(req);
    if (!body.ok()) co_return FromStatus(body.status());
    std::string key;
    bool reset = false;
    for (auto& [k, v] : body->items()) {
      std::string lk = ToLower(k);
      if (lk == "key" && v.is_string()) key = v.get<std::string>();
      if (lk == "reset" && v.is_boolean()) reset = v.get<bool>();
    }
    Result<barrier::SealStatus> st = InvalidArgument("");
    if (reset) {
      st = co_await core_->ResetUnseal();
    } else {
      if (key.empty())
        co_return ErrorResponse(
            400, {"'key' must be specified in request body as JSON, or 'reset' set to true"});
      auto raw = DecodeKey(key);
      if (!raw.ok()) co_return FromStatus(raw.status());
      st = co_await core_->Unseal(*raw);
    }
    if (!st.ok()) co_return FromStatus(st.status());
    co_return JsonResponse(200, SealStatusJson(*st, core_->StorageType()));
  }
  if (path.rfind("sys/rekey/", 0) == 0 || path.rfind("sys/generate-root/", 0) == 0 ||
      path.rfind("sys/rekey-recovery-key/", 0) == 0) {
    std::optional<HttpResponse> r = co_await KeyCeremony(path, req);
    co_return r;
  }
  if (path == "sys/seal") {
    if (!put) co_return ErrorResponse(405, {});
    Status st = co_await core_->Seal(TokenFrom(req));
    if (!st.ok()) co_return FromStatus(st);
    co_return HttpResponse{204, ""};
  }
  if (path == "sys/step-down") {
    if (!put) co_return ErrorResponse(405, {});
    if (core_->Sealed()) co_return ErrorResponse(503, {"Vault is sealed"});
    Status st = co_await core_->StepDown(TokenFrom(req));
    if (!st.ok()) co_return FromStatus(st);
    co_return HttpResponse{204, ""};
  }
  if (path == "sys/leader") {
    if (m != "GET") co_return ErrorResponse(405, {});
    if (core_->Sealed() && !core_->Standby()) co_return ErrorResponse(503, {"Vault is sealed"});
    auto leader = co_await core_->Leader();
    if (!leader.ok()) co_return FromStatus(leader.status());
    const core::LeaderInfo info = leader->value_or(core::LeaderInfo{});
    co_return JsonResponse(200, {{"ha_enabled", core_->HaEnabled()},
                                 {"is_self", info.is_self},
                                 {"active_time", info.is_self && info.active_since_ns > 0
                                                     ? FormatRfc3339Nano(info.active_since_ns)
                                                     : std::string("0001-01-01T00:00:00Z")},
                                 {"leader_address", info.api_addr},
                                 {"leader_cluster_address", info.cluster_addr},
                                 {"performance_standby", false},
                                 {"performance_standby_last_remote_wal", 0}});
  }
  if (path == "sys/health") {
    if (m != "GET" && m != "HEAD") co_return ErrorResponse(405, {});
    std::string_view target = req.target;
    auto q = target.find('?');
    Json query = Json::object();
    if (q != std::string_view::npos) {
      auto parsed = ParseQuery(target.substr(q + 1));
      if (parsed.ok()) query = *parsed;
    }
    auto code_for = [&](const char* key, int def) {
      if (query.contains(key) && query[key].is_string()) {
        int v = std::atoi(query[key].get<std::string>().c_str());
        if (v >= 100 && v <= 599) return v;
      }
      return def;
    };
    auto init = co_await core_->Initialized();
    bool initialized = init.ok() && *init;
    bool standby = core_->Standby();
    bool sealed = core_->Sealed() && !standby;
    bool standby_ok = false;
    if (query.contains("standbyok") && query["standbyok"].is_string()) {
      int b = ParseGoBool(query["standbyok"].get<std::string>());
      if (b < 0) co_return ErrorResponse(400, {});
      standby_ok = b == 1;
    }
    int status = !initialized             ? code_for("uninitcode", 501)
                 : sealed                 ? code_for("sealedcode", 503)
                 : standby && !standby_ok ? code_for("standbycode", 429)
                                          : code_for("activecode", 200);
    if (m == "HEAD") co_return HttpResponse{status, ""};
    co_return JsonResponse(status, {{"initialized", initialized},
                                    {"sealed", sealed},
                                    {"standby", standby},
                                    {"performance_standby", false},
                                    {"replication_performance_mode", "disabled"},
                                    {"replication_dr_mode", "disabled"},
                                    {"server_time_utc", SystemClock::Get()->NowSeconds()},
                                    {"version", kVersion},
                                    {"cluster_name", "vault-cluster-cpp"},
                                    {"cluster_id", ""}});
  }
  co_return std::nullopt;
}

Task<HttpResponse> Handler::Logical(const std::string& path, const std::string& query,
                                    const HttpRequest& req) {
  logical::Request lr;
  lr.path = path;
  lr.client_token = TokenFrom(req);
  lr.remote_address = req.remote_address;
  if (std::string wrap = req.Header("x-vault-wrap-ttl"); !wrap.empty()) {
    auto ttl = ParseDurationSeconds(Trim(wrap));
    if (!ttl.ok())
      co_return ErrorResponse(400,
                              {"error parsing X-Vault-Wrap-TTL header: " + ttl.status().message()});
    if (*ttl < 0) co_return ErrorResponse(400, {"requested wrap ttl cannot be negative"});
    lr.wrap_ttl = *ttl;
  }
  if (std::string format = req.Header("x-vault-wrap-format"); !format.empty() && format != "uuid")
    co_return ErrorResponse(400, {"wrap format \"" + format + "\" is not supported"});
  auto q = ParseQuery(query);
  if (!q.ok()) co_return FromStatus(q.status());
  const std::string& m = req.method;
  bool help =
      q->contains("help") && (*q)["help"].is_string() && !(*q)["help"].get<std::string>().empty();
  if (help || m == "HELP") {
    lr.operation = logical::Operation::kHelp;
  } else if (m == "GET") {
    lr.operation = logical::Operation::kRead;
    if (q->contains("list")) {
      const Json& lv = (*q)["list"];
      int b = lv.is_string() ? ParseGoBool(lv.get<std::string>()) : -1;
      if (b < 0) co_return ErrorResponse(400, {"invalid value for \"list\" query parameter"});
      if (b == 1) lr.operation = logical::Operation::kList;
      q->erase("list");
    }
    lr.data = *q;
  } else if (m == "LIST") {
    lr.operation = logical::Operation::kList;
    lr.data = *q;
  } else if (m == "PUT" || m == "POST") {
    lr.operation = logical::Operation::kUpdate;
    auto body = ParseBody(req);
    if (!body.ok()) co_return FromStatus(body.status());
    lr.data = std::move(body).value();
  } else if (m == "PATCH") {
    // A JSON merge patch (RFC 7396), as Vault takes it: any other body type is refused.
    std::string type = req.Header("content-type");
    if (size_t semi = type.find(';'); semi != std::string::npos) type.resize(semi);
    type = Trim(type);
    if (type != "application/merge-patch+json")
      co_return ErrorResponse(
          415,
          {"PATCH requires Content-Type of application/merge-patch+json, got \"" + type + "\""});
    lr.operation = logical::Operation::kPatch;
    auto body = ParseBody(req);
    if (!body.ok()) co_return FromStatus(body.status());
    lr.data = std::move(body).value();
  } else if (m == "DELETE") {
    lr.operation = logical::Operation::kDelete;
    lr.data = *q;
  } else {
    co_return ErrorResponse(405, {});
  }
  if (lr.operation == logical::Operation::kList && (lr.path.empty() || lr.path.back() != '/'))
    lr.path += '/';

  lr.accepts_data_json = true;  // Envelope() splices it in
  auto resp = co_await core_->HandleRequestAsync(lr);
  if (!resp.ok()) co_return FromStatus(resp.status());
  logical::Response& r = *resp;
  if (r.help) co_return JsonResponse(200, {{"help", *r.help}, {"see_also", nullptr}});
  // sys/wrapping/unwrap: the stored answer, as it was sent.
  if (r.raw_body) {
    HttpResponse raw{r.raw_body->empty() ? 204 : 200, std::move(*r.raw_body)};
    raw.content_type = std::move(r.raw_content_type);
    co_return raw;
  }
  if (!r.wrap_info.is_null()) co_return HttpResponse{200, WrappedEnvelope(r.wrap_info)};
  // X-Vault-Wrap-TTL: the answer goes under a single-use token; the client gets only wrap_info.
  if (lr.wrap_ttl > 0 && !r.Empty()) {
    std::string wrapped_accessor;
    if (r.auth.is_object()) wrapped_accessor = r.auth.value("accessor", "");
    if (r.data.is_object() && r.data.contains("secret_id_accessor") &&
        r.data["secret_id_accessor"].is_string())
      wrapped_accessor = r.data["secret_id_accessor"].get<std::string>();
    auto info = co_await core_->Wrap(Envelope(r), lr.wrap_ttl, path, wrapped_accessor);
    if (!info.ok()) co_return FromStatus(info.status());
    co_return HttpResponse{200, WrappedEnvelope(*info)};
  }
  if (r.Empty()) {
    if (lr.operation == logical::Operation::kRead || lr.operation == logical::Operation::kList ||
        r.http_status == 404)
      co_return ErrorResponse(404, {});
    co_return HttpResponse{204, ""};
  }
  if (InjectTopLevel(path)) {
    if (!r.data_json.empty()) {
      auto parsed = ParseJson(r.data_json);
      if (!parsed.ok()) co_return ErrorResponse(500, {"internal error"});
      r.data = std::move(parsed).value();
    }
    if (r.data.is_object()) {
      // Routes whose data Vault also copies to the top level (sys/mounts...): the envelope's
      // keys win. Not a hot path, so the envelope is parsed back rather than built twice.
      auto env = ParseJson(Envelope(r));
      if (!env.ok()) co_return ErrorResponse(500, {"internal error"});
      for (auto& [k, v] : r.data.items()) {
        if (!env->contains(k)) (*env)[k] = v;
      }
      co_return JsonResponse(200, *env);
    }
  }
  co_return HttpResponse{r.http_status != 0 ? r.http_status : 200, Envelope(r)};
}

namespace {

Json RekeyStatusJson(const barrier::RekeyStatus& s) {
  Json j = {{"nonce", s.nonce},
            {"started", s.started},
            {"t", s.new_threshold},
            {"n", s.new_shares},
            {"progress", s.progress},
            {"required", s.required},
            {"pgp_fingerprints", nullptr},
            {"backup", false},
            {"verification_required", s.verification_required}};
  if (!s.verification_nonce.empty()) j["verification_nonce"] = s.verification_nonce;
  return j;
}

Json VerifyStatusJson(const barrier::RekeyVerifyStatus& s) {
  return {{"nonce", s.nonce},
          {"started", s.started},
          {"t", s.threshold},
          {"n", s.shares},
          {"progress", s.progress}};
}

Json RootGenerationJson(const core::Core::RootGeneration& g) {
  return {{"nonce", g.nonce},
          {"started", g.started},
          {"progress", g.progress},
          {"required", g.required},
          {"complete", g.complete},
          {"encoded_token", g.encoded_token},
          {"encoded_root_token", g.encoded_token},
          {"pgp_fingerprint", ""},
          {"otp", g.otp},
          {"otp_length", g.otp_length}};
}

// The key share of a rekey or generate-root step: hex or base64, 16 to 33 bytes.
Result<std::string> ShareFrom(const Json& body) {
  if (!body.contains("key") || !body["key"].is_string() || body["key"].get<std::string>().empty())
    return InvalidArgument("'key' must be specified in request body as JSON");
  return DecodeKey(body["key"].get<std::string>());
}

std::string StringField(const Json& body, const char* name) {
  return body.contains(name) && body[name].is_string() ? body[name].get<std::string>() : "";
}

}  // namespace

Task<std::optional<HttpResponse>> Handler::KeyCeremony(const std::string& path,
                                                       const HttpRequest& req) {
  const std::string& m = req.method;
  const bool put = m == "PUT" || m == "POST";
  if (path.rfind("sys/rekey-recovery-key/", 0) == 0)
    co_return ErrorResponse(400, {"recovery rekeying not supported"});
  if (core_->Sealed() && !core_->Standby()) {
    auto init = co_await core_->Initialized();
    if (init.ok() && !*init) co_return ErrorResponse(400, {"Vault is not initialized"});
    co_return ErrorResponse(503, {"Vault is sealed"});
  }
  // As Vault 2.x: a token (root, or sudo + update on the path) besides the key shares.
  Status allowed = co_await core_->AuthorizeOperator(TokenFrom(req), path);
  if (!allowed.ok()) co_return FromStatus(allowed);
  Json body = Json::object();
  if (put || m == "DELETE") {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) co_return FromStatus(parsed.status());
    body = std::move(parsed).value();
  }
  barrier::SealManager& seal = core_->seal_manager();

  if (path == "sys/rekey/init") {
    if (m == "GET") {
      auto st = co_await seal.RekeyGetStatus();
      if (!st.ok()) co_return FromStatus(st.status());
      co_return JsonResponse(200, RekeyStatusJson(*st));
    }
    if (m == "DELETE") {
      seal.RekeyCancel();
      co_return HttpResponse{204, ""};
    }
    if (!put) co_return ErrorResponse(405, {});
    if (body.contains("pgp_keys") && !body["pgp_keys"].is_null() && !body["pgp_keys"].empty())
      co_return ErrorResponse(400, {"PGP-encrypted unseal keys are not supported by this server"});
    if (body.value("backup", false))
      co_return ErrorResponse(
          400, {"cannot request a backup of the new keys without providing PGP keys for "
                "encryption"});
    auto int_field = [&](const char* k) -> int {
      const Json& v = body.contains(k) ? body[k] : Json();
      if (v.is_number_integer()) return v.get<int>();
      if (v.is_string()) return std::atoi(v.get<std::string>().c_str());
      return 0;
    };
    bool verify = body.value("require_verification", false);
    auto st =
        co_await seal.RekeyInit(int_field("secret_shares"), int_field("secret_threshold"), verify);
    if (!st.ok()) co_return FromStatus(st.status());
    co_return JsonResponse(200, RekeyStatusJson(*st));
  }
  if (path == "sys/rekey/update") {
    if (!put) co_return ErrorResponse(405, {});
    auto share = ShareFrom(body);
    if (!share.ok()) co_return FromStatus(share.status());
    std::string nonce = StringField(body, "nonce");
    std::string key = std::move(share).value();
    auto r = co_await seal.RekeySubmit(std::move(key), nonce);
    if (!r.ok()) co_return FromStatus(r.status());
    if (!r->complete) co_return JsonResponse(200, RekeyStatusJson(r->status));
    Json keys = Json::array(), keys_b64 = Json::array();
    for (auto& k : r->keys) {
      keys.push_back(HexEncode(k));
      keys_b64.push_back(Base64Encode(k));
    }
    Json out = {{"nonce", r->nonce},
                {"complete", true},
                {"keys", keys},
                {"keys_base64", keys_b64},
                {"pgp_fingerprints", nullptr},
                {"backup", false},
                {"verification_required", r->verification_required}};
    if (!r->verification_nonce.empty()) out["verification_nonce"] = r->verification_nonce;
    for (auto& k : r->keys) OPENSSL_cleanse(k.data(), k.size());
    co_return JsonResponse(200, out);
  }
  if (path == "sys/rekey/verify") {
    if (m == "GET") {
      auto st = seal.RekeyVerifyGetStatus();
      if (!st.ok()) co_return FromStatus(st.status());
      co_return JsonResponse(200, VerifyStatusJson(*st));
    }
    if (m == "DELETE") {
      auto st = seal.RekeyVerifyRestart();
      if (!st.ok()) co_return FromStatus(st.status());
      co_return JsonResponse(200, VerifyStatusJson(*st));
    }
    if (!put) co_return ErrorResponse(405, {});
    auto share = ShareFrom(body);
    if (!share.ok()) co_return FromStatus(share.status());
    std::string nonce = StringField(body, "nonce");
    std::string key = std::move(share).value();
    auto st = co_await seal.RekeyVerifySubmit(std::move(key), nonce);
    if (!st.ok()) co_return FromStatus(st.status());
    if (st->complete) {
      Json done = {{"nonce", st->nonce}, {"complete", true}};
      co_return JsonResponse(200, done);
    }
    co_return JsonResponse(200, VerifyStatusJson(*st));
  }
  if (path == "sys/rekey/backup" || path == "sys/rekey/recovery-key-backup") {
    if (m != "GET" && m != "DELETE") co_return ErrorResponse(405, {});
    co_return ErrorResponse(
        400, {"no backed-up keys found: backups of new key shares need PGP-encrypted shares, "
              "which this server does not support"});
  }
  if (path == "sys/generate-root/attempt") {
    if (m == "GET") {
      auto g = co_await core_->GenerateRootStatus();
      if (!g.ok()) co_return FromStatus(g.status());
      co_return JsonResponse(200, RootGenerationJson(*g));
    }
    if (m == "DELETE") {
      core_->GenerateRootCancel();
      co_return HttpResponse{204, ""};
    }
    if (!put) co_return ErrorResponse(405, {});
    if (!StringField(body, "pgp_key").empty())
      co_return ErrorResponse(400, {"PGP-encrypted root tokens are not supported by this server"});
    std::string otp = StringField(body, "otp");
    auto g = co_await core_->GenerateRootInit(otp);
    if (!g.ok()) co_return FromStatus(g.status());
    co_return JsonResponse(200, RootGenerationJson(*g));
  }
  if (path == "sys/generate-root/update") {
    if (!put) co_return ErrorResponse(405, {});
    auto share = ShareFrom(body);
    if (!share.ok()) co_return FromStatus(share.status());
    std::string nonce = StringField(body, "nonce");
    std::string key = std::move(share).value();
    auto g = co_await core_->GenerateRootSubmit(std::move(key), nonce);
    if (!g.ok()) co_return FromStatus(g.status());
    co_return JsonResponse(200, RootGenerationJson(*g));
  }
  co_return std::nullopt;
}

}  // namespace vault::http
