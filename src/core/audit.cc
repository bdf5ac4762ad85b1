#include "core/audit.h"

#include <mutex>

#include "core/audit_sink.h"
#include "core/mounts.h"
#include "crypto/hash.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/random.h"
#include "util/strings.h"

namespace vault::core {
namespace {
constexpr char kTablePath[] = "core/audit";
}  // namespace

Json AuditDeviceEntry::ToJson() const {
  return {{"path", path},       {"type", type}, {"description", description},
          {"options", options}, {"uuid", uuid}, {"local", local}};
}

AuditDeviceEntry AuditDeviceEntry::FromJson(const Json& j) {
  AuditDeviceEntry e;
  e.path = j.value("path", "");
  e.type = j.value("type", "");
  e.description = j.value("description", "");
  e.options = j.value("options", Json::object());
  e.uuid = j.value("uuid", "");
  e.local = j.value("local", false);
  return e;
}

namespace {
void XmlEscape(const std::string& in, std::string* out) {
  for (char c : in) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&#34;";
        break;
      case '\'':
        *out += "&#39;";
        break;
      case '\n':
        *out += "&#xA;";
        break;
      case '\r':
        *out += "&#xD;";
        break;
      case '\t':
        *out += "&#x9;";
        break;
      default:
        *out += c;
    }
  }
}

void JsonxValue(const Json& v, const std::string* name, std::string* out) {
  std::string attr;
  if (name) {
    attr = " name=\"";
    XmlEscape(*name, &attr);
    attr += "\"";
  }
  if (v.is_null()) {
    *out += "<json:null" + attr + " />";
  } else if (v.is_boolean()) {
    *out += "<json:boolean" + attr + ">" + (v.get<bool>() ? "true" : "false") + "</json:boolean>";
  } else if (v.is_number()) {
    *out += "<json:number" + attr + ">" + v.dump() + "</json:number>";
  } else if (v.is_string()) {
    *out += "<json:string" + attr + ">";
    XmlEscape(v.get<std::string>(), out);
    *out += "</json:string>";
  } else if (v.is_array()) {
    *out += "<json:array" + attr + ">";
    for (const auto& x : v) JsonxValue(x, nullptr, out);
    *out += "</json:array>";
  } else {
    *out += "<json:object" + attr + ">";
    for (auto& [k, x] : v.items()) JsonxValue(x, &k, out);  // nlohmann keeps keys sorted
    *out += "</json:object>";
  }
}
}  // namespace

std::string ToJsonx(const Json& object) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><json:object "
      "xsi:schemaLocation=\"http://www.datapower.com/schemas/json jsonx.xsd\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xmlns:json=\"http://www.ibm.com/xmlns/prod/2009/jsonx\">";
  if (object.is_object()) {
    for (auto& [k, x] : object.items()) JsonxValue(x, &k, &out);
  }
  return out + "</json:object>";
}

// One device: its options, its HMAC key and its sink. Writes are whole entries under the
// device mutex.
class AuditDevice {
 public:
  explicit AuditDevice(AuditDeviceEntry e) : entry_(std::move(e)) {}
  ~AuditDevice() { Close(); }

  const AuditDeviceEntry& entry() const { return entry_; }

  // Validates options and opens the sink (the file, the socket's connection). kInvalidArgument
  // on bad options or a sink that cannot be opened; check_options also refuses options the
  // device type does not take (a table stored before that check loads as it is).
  Status Configure(std::string salt, bool check_options) {
    salt_ = std::move(salt);
    hmac_ = std::make_unique<crypto::HmacSha256Key>(salt_);
    if (check_options) RETURN_IF_ERROR(CheckAuditOptions(entry_.type, entry_.options));
    std::string format = AuditOptionString(entry_.options, "format", "json");
    if (format != "json" && format != "jsonx")
      return InvalidArgument("unknown format type \"" + format + "\"");
    jsonx_ = format == "jsonx";
    int raw = ParseGoBool(AuditOptionString(entry_.options, "log_raw", "false"));
    int hmac_acc = ParseGoBool(AuditOptionString(entry_.options, "hmac_accessor", "true"));
    if (raw < 0 || hmac_acc < 0)
      return InvalidArgument("log_raw and hmac_accessor must be booleans");
    log_raw_ = raw == 1;
    hmac_accessor_ = hmac_acc == 1;
    prefix_ = AuditOptionString(entry_.options, "prefix");
    ASSIGN_OR_RETURN(auto sink, MakeAuditSink(entry_.type, entry_.options));
    std::lock_guard lock(mu_);
    sink_ = std::move(sink);
    return sink_->Open();
  }

  Status Reopen() {
    std::lock_guard lock(mu_);
    if (!sink_) return Status::Ok();
    return sink_->Reopen();
  }

  void Close() {
    std::lock_guard lock(mu_);
    if (sink_) sink_->Close();
  }

  std::string Hmac(std::string_view v) const { return "hmac-sha256:" + HexEncode(hmac_->Mac(v)); }

  // Every string in j replaced by its HMAC (unless log_raw).
  Json HashStrings(const Json& j) const {
    if (log_raw_) return j;
    if (j.is_string()) return Hmac(j.get<std::string>());
    if (j.is_object()) {
      Json out = Json::object();
      for (auto& [k, v] : j.items()) out[k] = HashStrings(v);
      return out;
    }
    if (j.is_array()) {
      Json out = Json::array();
      for (const auto& v : j) out.push_back(HashStrings(v));
      return out;
    }
    return j;
  }
  std::string Secret(const std::string& v) const {
    if (v.empty() || log_raw_) return v;
    return Hmac(v);
  }
  std::string Accessor(const std::string& v) const { return hmac_accessor_ ? Secret(v) : v; }

  // Writes prefix, the entry (JSON, or JSONx with format = "jsonx") and a newline as one entry.
  Status Write(const Json& entry) {
    std::string buf = prefix_ + (jsonx_ ? ToJsonx(entry) : DumpJson(entry)) + "\n";
    std::lock_guard lock(mu_);
    if (!sink_) return Internal("audit device " + entry_.path + " is not configured");
    Status st = sink_->Write(buf);
    if (!st.ok()) return Internal("audit device " + entry_.path + ": " + st.message());
    return Status::Ok();
  }

 private:
  AuditDeviceEntry entry_;
  std::string prefix_;
  bool jsonx_ = false;
  bool log_raw_ = false;
  bool hmac_accessor_ = true;
  std::string salt_;
  std::unique_ptr<crypto::HmacSha256Key> hmac_;
  std::mutex mu_;
  std::unique_ptr<AuditSink> sink_ GUARDED_BY(mu_);
};

AuditBroker::AuditBroker(logical::Storage* barrier, Clock* clock)
    : barrier_(barrier), clock_(clock) {}

AuditBroker::~AuditBroker() { Unload(); }

namespace {
Task<Result<std::string>> LoadOrCreateSalt(logical::Storage* barrier, std::string uuid) {
  std::string key = "audit/" + uuid + "/salt";
  CO_ASSIGN_OR_RETURN(auto salt, co_await barrier->Get(key));
  if (salt) co_return *salt;
  std::string fresh = NewUuid();
  CO_RETURN_IF_ERROR(co_await barrier->Put(key, fresh));
  co_return fresh;
}
}  // namespace

Task<Status> AuditBroker::Load() {
  CO_ASSIGN_OR_RETURN(auto table, co_await logical::GetJson(barrier_, kTablePath));
  std::vector<std::shared_ptr<AuditDevice>> devices;
  if (table && table->contains("entries") && (*table)["entries"].is_array()) {
    for (const auto& j : (*table)["entries"]) {
      auto e = AuditDeviceEntry::FromJson(j);
      CO_ASSIGN_OR_RETURN(std::string salt, co_await LoadOrCreateSalt(barrier_, e.uuid));
      auto dev = std::make_shared<AuditDevice>(e);
      Status st = dev->Configure(std::move(salt), false);
      // Kept even when it cannot open: requests then fail closed rather than go unaudited.
      if (!st.ok()) spdlog::error("audit: device {} cannot record: {}", e.path, st.message());
      devices.push_back(std::move(dev));
    }
  }
  std::unique_lock lock(mu_);
  devices_ = std::move(devices);
  co_return Status::Ok();
}

void AuditBroker::Unload() {
  std::unique_lock lock(mu_);
  devices_.clear();
}

Task<Status> AuditBroker::Persist(std::vector<std::shared_ptr<AuditDevice>> devices) {
  Json entries = Json::array();
  for (const auto& d : devices) entries.push_back(d->entry().ToJson());
  Json table = {{"type", "audit"}, {"entries", entries}};
  Status st = co_await logical::PutJson(barrier_, kTablePath, table);
  co_return st;
}

Task<Status> AuditBroker::Enable(AuditDeviceEntry e) {
  e.path = NormalizeMountPath(e.path);
  if (e.path.empty()) co_return InvalidArgument("audit device path must be given");
  if (!e.options.is_object()) e.options = Json::object();
  AsyncMutex::Guard table = co_await table_mu_.Lock();
  std::vector<std::shared_ptr<AuditDevice>> devices;
  {
    std::shared_lock lock(mu_);
    devices = devices_;
  }
  for (const auto& d : devices) {
    if (d->entry().path == e.path) co_return InvalidArgument("path already in use");
  }
  e.uuid = NewUuid();
  std::string salt = NewUuid();
  auto dev = std::make_shared<AuditDevice>(e);
  CO_RETURN_IF_ERROR(dev->Configure(salt, true));
  const std::string salt_key = "audit/" + e.uuid + "/salt";
  CO_RETURN_IF_ERROR(co_await barrier_->Put(salt_key, salt));
  devices.push_back(dev);
  CO_RETURN_IF_ERROR(co_await Persist(devices));
  std::unique_lock lock(mu_);
  devices_ = std::move(devices);
  co_return Status::Ok();
}

Task<Status> AuditBroker::Disable(std::string raw_path) {
  std::string path = NormalizeMountPath(raw_path);
  AsyncMutex::Guard table = co_await table_mu_.Lock();
  std::vector<std::shared_ptr<AuditDevice>> devices;
  {
    std::shared_lock lock(mu_);
    devices = devices_;
  }
  for (auto it = devices.begin(); it != devices.end(); ++it) {
    if ((*it)->entry().path != path) continue;
    auto dev = *it;
    devices.erase(it);
    CO_RETURN_IF_ERROR(co_await Persist(devices));
    {
      std::unique_lock lock(mu_);
      devices_ = std::move(devices);
    }
    const std::string salt_key = "audit/" + dev->entry().uuid + "/salt";
    Status del = co_await barrier_->Delete(salt_key);
    if (!del.ok()) spdlog::warn("audit: removing the salt of {} failed: {}", path, del.message());
    co_return Status::Ok();
  }
  co_return Status::Ok();
}

std::vector<AuditDeviceEntry> AuditBroker::List() const {
  std::shared_lock lock(mu_);
  std::vector<AuditDeviceEntry> out;
  for (const auto& d : devices_) out.push_back(d->entry());
  return out;
}

Result<std::string> AuditBroker::Hash(std::string_view raw_path, std::string_view input) const {
  std::string path = NormalizeMountPath(raw_path);
  std::shared_lock lock(mu_);
  for (const auto& d : devices_) {
    if (d->entry().path == path) return d->Hmac(input);
  }
  return InvalidArgument("unknown audit backend " + path);
}

Status AuditBroker::Reopen() {
  std::vector<std::shared_ptr<AuditDevice>> devices;
  {
    std::shared_lock lock(mu_);
    devices = devices_;
  }
  Status result = Status::Ok();
  for (const auto& d : devices) {
    Status st = d->Reopen();
    if (!st.ok()) {
      spdlog::error("audit: reopening {} failed: {}", d->entry().path, st.message());
      result = st;
    }
  }
  if (!devices.empty()) spdlog::info("audit: reopened {} device(s)", devices.size());
  return result;
}

Status AuditBroker::LogRequest(AuditRecord& rec, const Status& error) {
  {
    std::shared_lock lock(mu_);
    if (devices_.empty()) return Status::Ok();
  }
  if (rec.request_id.empty()) rec.request_id = NewUuid();
  return Log(rec, error, nullptr, false);
}

Status AuditBroker::LogResponse(const AuditRecord& rec, const Result<logical::Response>& resp) {
  if (!resp.ok()) return Log(rec, resp.status(), nullptr, true);
  return Log(rec, Status::Ok(), &*resp, true);
}

Status AuditBroker::Log(const AuditRecord& rec, const Status& error, const logical::Response* resp,
                        bool is_response) {
  std::vector<std::shared_ptr<AuditDevice>> devices;
  {
    std::shared_lock lock(mu_);
    if (devices_.empty()) return Status::Ok();
    devices = devices_;
  }
  static metrics::Summary* request_timing =
      metrics::Registry::Get().GetSummary("vault.audit.log_request");
  static metrics::Summary* response_timing =
      metrics::Registry::Get().GetSummary("vault.audit.log_response");
  metrics::Timer timer(is_response ? response_timing : request_timing);
  // A response whose request went unrecorded (the request enabled the first device) gets its
  // own id.
  std::string request_id = rec.request_id.empty() ? NewUuid() : rec.request_id;
  std::string time = FormatRfc3339Nano(clock_->NowNanos());
  const logical::Request* req = rec.request;
  // Data an engine handed over serialized (Response::data_json) is parsed once for the devices.
  Json parsed_data;
  const Json* resp_data = resp ? &resp->data : nullptr;
  if (resp && !resp->data_json.empty()) {
    auto p = ParseJson(resp->data_json);
    if (p.ok()) parsed_data = std::move(p).value();
    resp_data = &parsed_data;
  }
  int ok = 0;
  for (const auto& d : devices) {
    Json auth = Json::object();
    if (rec.token) {
      const TokenEntry& t = *rec.token;
      auth = {{"client_token", d->Secret(req ? req->client_token : "")},
              {"accessor", d->Accessor(t.accessor)},
              {"display_name", t.display_name},
              {"policies", t.policies},
              {"token_policies", t.policies},
              {"metadata", t.meta.empty() ? Json() : t.meta},
              {"entity_id", ""},
              {"token_type", "service"},
              {"token_ttl", t.ttl},
              {"token_issue_time", FormatRfc3339Nano(t.creation_time * 1000000000LL)}};
    }
    Json request = Json::object();
    if (req) {
      bool has_data = req->data.is_object() && !req->data.empty();
      request = {{"id", request_id},
                 {"operation", logical::OperationName(req->operation)},
                 {"mount_type", rec.mount_type},
                 {"client_token", d->Secret(req->client_token)},
                 {"client_token_accessor", rec.token ? d->Accessor(rec.token->accessor) : ""},
                 {"namespace", {{"id", "root"}}},
                 {"path", req->path},
                 {"data", has_data ? d->HashStrings(req->data) : Json()},
                 {"remote_address", req->remote_address}};
    }
    Json entry = {{"time", time},
                  {"type", is_response ? "response" : "request"},
                  {"auth", auth},
                  {"request", request},
                  {"error", error.ok() ? "" : error.message()}};
    if (resp) {
      Json r = {{"mount_type", rec.mount_type}};
      if (!resp_data->is_null()) r["data"] = d->HashStrings(*resp_data);
      if (!resp->auth.is_null()) {
        Json a = resp->auth;
        if (a.contains("client_token") && a["client_token"].is_string())
          a["client_token"] = d->Secret(a["client_token"].get<std::string>());
        if (a.contains("accessor") && a["accessor"].is_string())
          a["accessor"] = d->Accessor(a["accessor"].get<std::string>());
        r["auth"] = a;
      }
      if (!resp->warnings.empty()) r["warnings"] = resp->warnings;
      entry["response"] = r;
    }
    if (d->Write(entry).ok()) ++ok;
  }
  static metrics::Counter* request_failures =
      metrics::Registry::Get().GetCounter("vault.audit.log_request_failure");
  static metrics::Counter* response_failures =
      metrics::Registry::Get().GetCounter("vault.audit.log_response_failure");
  (is_response ? response_failures : request_failures)->Add(ok == 0 ? 1 : 0);
  if (ok == 0) {
    spdlog::error("audit: no audit device succeeded in logging the {}",
                  is_response ? "response" : "request");
    return Internal("internal error");
  }
  return Status::Ok();
}

}  // namespace vault::core
