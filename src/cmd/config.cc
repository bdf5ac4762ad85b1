#include "cmd/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "etcd/client.h"
#include "hcl/hcl.h"
#include "util/duration.h"
#include "util/strings.h"

namespace vault::cmd {
namespace {

// A JSON number that is a whole number of an int64_t's range (converting 1e300 is undefined).
std::optional<int64_t> WholeNumber(const Json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d != std::trunc(d) || std::fabs(d) >= 0x1p62) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// Bare seconds ("30") in milliseconds; nullopt when that does not fit an int64_t.
std::optional<int64_t> DigitsSecondsToMs(const std::string& digits) {
  int64_t s = 0, ms = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), s);
  if (ec != std::errc() || end != digits.data() + digits.size() ||
      __builtin_mul_overflow(s, int64_t{1000}, &ms))
    return std::nullopt;
  return ms;
}

Result<int64_t> TtlValue(const Json& v, const char* name) {
  if (v.is_number()) {
    if (std::optional<int64_t> n = WholeNumber(v)) return *n;
    return InvalidArgument(std::string("invalid ") + name);
  }
  if (v.is_string()) {
    auto r = ParseDurationSeconds(v.get<std::string>());
    if (!r.ok())
      return InvalidArgument(std::string("invalid ") + name + ": " + r.status().message());
    return *r;
  }
  return InvalidArgument(std::string("invalid ") + name);
}

bool Truthy(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return ParseGoBool(v.get<std::string>()) == 1;
  return false;
}

// Blocks may come as an object or, when repeated, as a list of objects.
std::vector<Json> Blocks(const Json& v) {
  if (v.is_array()) return std::vector<Json>(v.begin(), v.end());
  return {v};
}

Result<std::string> StringSetting(const Json& body, const char* key) {
  const Json& v = body[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  return InvalidArgument(std::string("storage \"etcd\": ") + key + " must be a string");
}

// Go's strconv.ParseBool, as Vault reads ha_enabled and sync.
Result<bool> BoolSetting(std::string_view key, const std::string& value) {
  int b = ParseGoBool(value);
  if (b < 0) {
    return InvalidArgument("value [" + value + "] of '" + std::string(key) +
                           "' could not be understood");
  }
  return b == 1;
}

// A duration ("15s", "500ms") or bare seconds, in milliseconds.
Result<int64_t> DurationSettingMs(const char* key, const std::string& value) {
  bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
  auto invalid = [&] {
    return InvalidArgument(std::string("storage \"etcd\": invalid ") + key + " \"" + value + "\"");
  };
  if (digits) {
    std::optional<int64_t> ms = DigitsSecondsToMs(value);
    if (!ms) return invalid();
    return *ms;
  }
  auto ns = ParseGoDurationNanos(value);
  if (!ns.ok() || *ns <= 0) return invalid();
  return *ns / 1000000;
}

// A listener timeout: "10s", "500ms", bare seconds (number or string); "0" = none.
Result<int64_t> ListenerTimeoutMs(const char* key, const Json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  auto invalid = [&] {
    return InvalidArgument(std::string("listener \"tcp\": invalid ") + key + " \"" + text + "\"");
  };
  if (digits) {
    std::optional<int64_t> ms = DigitsSecondsToMs(text);
    if (!ms) return invalid();
    return *ms;
  }
  auto ns = ParseGoDurationNanos(text);
  if (!ns.ok() || *ns < 0) return invalid();
  return *ns / 1000000;
}

// The listener settings this server has; Vault's others are refused rather than ignored.
Status CheckListenerKeys(const Json& b) {
  static const char* const kKnown[] = {"address",
                                       "tls_disable",
                                       "tls_cert_file",
                                       "tls_key_file",
                                       "cluster_address",
                                       "max_request_size",
                                       "http_read_header_timeout",
                                       "http_read_timeout",
                                       "http_write_timeout",
                                       "http_idle_timeout",
                                       "max_request_duration",
                                       "telemetry"};
  for (auto& [k, v] : b.items()) {
    bool known = false;
    for (const char* n : kKnown) known = known || k == n;
    if (!known)
      return InvalidArgument("listener \"tcp\": the setting \"" + k +
                             "\" is not supported by this server");
  }
  return Status::Ok();
}

Status ParseEtcd(const Json& body, EtcdStorageConfig* out) {
  for (auto& [k, v] : body.items()) {
    const char* key = k.c_str();
    if (k == "address") {
      ASSIGN_OR_RETURN(std::string a, StringSetting(body, key));
      out->address.clear();
      for (auto& part : Split(a, ',')) {
        std::string t = Trim(part);
        if (!t.empty()) out->address.push_back(t);
      }
    } else if (k == "etcd_api") {
      ASSIGN_OR_RETURN(std::string api, StringSetting(body, key));
      if (api != "v3" && api != "3" && api != "etcd3")
        return InvalidArgument("storage \"etcd\": unknown API version \"" + api +
                               "\" (etcd's v3 API is the one supported; Vault removed v2 in 1.10)");
    } else if (k == "path") {
      ASSIGN_OR_RETURN(out->path, StringSetting(body, key));
    } else if (k == "ha_enabled") {
      ASSIGN_OR_RETURN(std::string text, StringSetting(body, key));
      ASSIGN_OR_RETURN(out->ha_enabled, BoolSetting(k, text));
    } else if (k == "sync") {
      ASSIGN_OR_RETURN(std::string text, StringSetting(body, key));
      ASSIGN_OR_RETURN(out->sync, BoolSetting(k, text));
    } else if (k == "request_timeout") {
      ASSIGN_OR_RETURN(std::string text, StringSetting(body, key));
      ASSIGN_OR_RETURN(out->request_timeout_ms, DurationSettingMs(key, text));
    } else if (k == "lock_timeout") {
      ASSIGN_OR_RETURN(std::string text, StringSetting(body, key));
      ASSIGN_OR_RETURN(int64_t ms, DurationSettingMs(key, text));
      out->lock_timeout_s = std::max<int64_t>(1, ms / 1000);
    } else if (k == "username") {
      ASSIGN_OR_RETURN(out->username, StringSetting(body, key));
    } else if (k == "password") {
      ASSIGN_OR_RETURN(out->password, StringSetting(body, key));
    } else if (k == "tls_ca_file") {
      ASSIGN_OR_RETURN(out->tls_ca_file, StringSetting(body, key));
    } else if (k == "tls_cert_file" || k == "tls_key_file" || k == "tls_server_name" ||
               k == "discovery_srv" || k == "discovery_srv_name" || k == "max_receive_size") {
      return InvalidArgument("storage \"etcd\": " + k +
                             " is not supported by this server (supported: address, etcd_api, "
                             "path, request_timeout, lock_timeout, username, password, "
                             "tls_ca_file, sync)");
    } else {
      return InvalidArgument("storage \"etcd\": unknown setting \"" + k + "\"");
    }
  }
  etcd::ClientOptions client;
  client.endpoints = out->address;
  client.request_timeout_ms = out->request_timeout_ms;
  if (Status st = etcd::Client::Validate(client); !st.ok())
    return InvalidArgument("storage \"etcd\": " + st.message());
  return Status::Ok();
}

}  // namespace

Status ApplyEtcdEnvironment(ServerConfig* config,
                            const std::function<const char*(const char*)>& getenv) {
  if (config->storage_type != "etcd") return Status::Ok();
  EtcdStorageConfig& e = config->etcd;
  auto env = [&](const char* name) -> std::optional<std::string> {
    const char* v = getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  if (auto a = env("ETCD_ADDR")) {
    Json body = {{"address", *a}};
    EtcdStorageConfig parsed;
    RETURN_IF_ERROR(ParseEtcd(body, &parsed));
    e.address = parsed.address;
  }
  if (auto h = env("ETCD_HA_ENABLED")) {
    ASSIGN_OR_RETURN(e.ha_enabled, BoolSetting("ha_enabled", *h));
  }
  if (auto u = env("ETCD_USERNAME")) e.username = *u;
  if (auto p = env("ETCD_PASSWORD")) e.password = *p;
  return Status::Ok();
}

// The top-level settings this server has. Vault's others (ha_storage, seal,
// plugin_directory...) are refused rather than ignored.
Status CheckTopLevelKeys(const Json& doc) {
  static const char* const kKnown[] = {"storage",
                                       "backend",
                                       "listener",
                                       "default_lease_ttl",
                                       "max_lease_ttl",
                                       "rollback_interval",
                                       "http_io_time_slice",
                                       "api_addr",
                                       "cluster_addr",
                                       "disable_clustering",
                                       "log_level",
                                       "disable_mlock",
                                       "ui",
                                       "telemetry"};
  for (auto& [k, v] : doc.items()) {
    bool known = false;
    for (const char* n : kKnown) known = known || k == n;
    if (!known) return InvalidArgument("the setting \"" + k + "\" is not supported by this server");
  }
  return Status::Ok();
}

// telemetry { }: the settings this server has; Vault's sinks (statsd, statsite, circonus,
// dogstatsd, stackdriver) and its filters are refused rather than ignored.
Status ParseTelemetry(const Json& block, ServerConfig* cfg) {
  const Json t = block.is_array() && !block.empty() ? block[0] : block;
  if (!t.is_object()) return InvalidArgument("invalid telemetry block");
  cfg->telemetry_set = true;
  auto duration_ms = [](const char* key, const Json& v) -> Result<int64_t> {
    std::string text = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
    bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    if (digits) return static_cast<int64_t>(std::stoll(text.substr(0, 12))) * 1000;
    auto ns = ParseGoDurationNanos(text);
    if (!ns.ok() || *ns < 0)
      return InvalidArgument(std::string("telemetry: invalid ") + key + " \"" + text + "\"");
    return *ns / 1000000;
  };
  for (auto& [k, v] : t.items()) {
    if (k == "prometheus_retention_time") {
      ASSIGN_OR_RETURN(int64_t ms, duration_ms("prometheus_retention_time", v));
      cfg->prometheus_retention_s = ms / 1000;
    } else if (k == "disable_hostname") {
      cfg->disable_hostname = Truthy(v);
    } else if (k == "usage_gauge_period") {
      if (v.is_string() && v.get<std::string>() == "none") {
        cfg->usage_gauge_period_ms = 0;
      } else {
        ASSIGN_OR_RETURN(int64_t ms, duration_ms("usage_gauge_period", v));
        if (ms < 1000) return InvalidArgument("telemetry: usage_gauge_period must be at least 1s");
        cfg->usage_gauge_period_ms = ms;
      }
    } else {
      return InvalidArgument("telemetry: the setting \"" + k +
                             "\" is not supported by this server (it has "
                             "prometheus_retention_time, disable_hostname and usage_gauge_period)");
    }
  }
  return Status::Ok();
}

Result<ServerConfig> ParseServerConfig(const std::string& text) {
  ASSIGN_OR_RETURN(Json doc, hcl::Parse(text));
  ServerConfig cfg;
  if (!doc.is_object()) return InvalidArgument("config must be an object");
  RETURN_IF_ERROR(CheckTopLevelKeys(doc));
  for (const char* key : {"storage", "backend"}) {
    if (!doc.contains(key)) continue;
    const Json& s = doc[key];
    if (!s.is_object() || s.size() != 1)
      return InvalidArgument(std::string("exactly one ") + key + " block is required");
    auto it = s.begin();
    cfg.storage_type = it.key();
    if (cfg.storage_type != "inmem" && cfg.storage_type != "rocksdb" && cfg.storage_type != "etcd")
      return InvalidArgument("unknown storage type \"" + cfg.storage_type +
                             "\" (supported: rocksdb, etcd, inmem)");
    Json body = it.value().is_array() && !it.value().empty() ? it.value()[0] : it.value();
    if (!body.is_object()) body = Json::object();
    if (cfg.storage_type == "etcd") {
      RETURN_IF_ERROR(ParseEtcd(body, &cfg.etcd));
      continue;
    }
    for (auto& [k, v] : body.items()) {
      if (cfg.storage_type == "rocksdb" && k == "path") continue;
      if (k == "ha_enabled") {
        return InvalidArgument("storage \"" + cfg.storage_type +
                               "\" does not support ha_enabled: it serves one server; "
                               "high availability needs storage \"etcd\"");
      }
      return InvalidArgument("storage \"" + cfg.storage_type + "\": unknown setting \"" + k + "\"");
    }
    if (body.contains("path") && body["path"].is_string())
      cfg.storage_path = body["path"].get<std::string>();
    if (cfg.storage_type == "rocksdb" && cfg.storage_path.empty())
      return InvalidArgument("storage \"rocksdb\" requires a path");
  }
  if (doc.contains("listener")) {
    const Json& l = doc["listener"];
    if (!l.is_object()) return InvalidArgument("invalid listener block");
    for (auto& [type, blocks] : l.items()) {
      if (type != "tcp") return InvalidArgument("unknown listener type \"" + type + "\"");
      for (const Json& b : Blocks(blocks)) {
        http::ListenerConfig lc;
        lc.tls_disable = false;
        RETURN_IF_ERROR(CheckListenerKeys(b));
        for (auto [key, field] : {std::pair{"http_read_header_timeout", &lc.read_header_timeout},
                                  std::pair{"http_read_timeout", &lc.read_timeout},
                                  std::pair{"http_write_timeout", &lc.write_timeout},
                                  std::pair{"http_idle_timeout", &lc.idle_timeout},
                                  std::pair{"max_request_duration", &lc.max_request_duration}}) {
          if (!b.contains(key)) continue;
          ASSIGN_OR_RETURN(int64_t ms, ListenerTimeoutMs(key, b[key]));
          *field = std::chrono::milliseconds(ms);
        }
        for (auto [key, field] :
             {std::pair{"address", &lc.address}, std::pair{"tls_cert_file", &lc.tls_cert_file},
              std::pair{"tls_key_file", &lc.tls_key_file}}) {
          if (!b.contains(key)) continue;
          if (!b[key].is_string())
            return InvalidArgument(std::string("listener \"tcp\": ") + key + " must be a string");
          *field = b[key].get<std::string>();
        }
        if (b.contains("telemetry")) {
          const Json t = b["telemetry"].is_array() && !b["telemetry"].empty() ? b["telemetry"][0]
                                                                              : b["telemetry"];
          if (!t.is_object()) return InvalidArgument("listener \"tcp\": invalid telemetry block");
          for (auto& [k, v] : t.items()) {
            if (k != "unauthenticated_metrics_access")
              return InvalidArgument("listener \"tcp\": telemetry: the setting \"" + k +
                                     "\" is not supported by this server");
            lc.unauthenticated_metrics_access = Truthy(v);
          }
        }
        if (b.contains("tls_disable")) lc.tls_disable = Truthy(b["tls_disable"]);
        if (b.contains("cluster_address") && b["cluster_address"].is_string() &&
            cfg.listener_cluster_address.empty())
          cfg.listener_cluster_address = b["cluster_address"].get<std::string>();
        if (b.contains("max_request_size") && b["max_request_size"].is_number_integer())
          cfg.max_request_size = b["max_request_size"].get<size_t>();
        if (!lc.tls_disable && (lc.tls_cert_file.empty() || lc.tls_key_file.empty()))
          return InvalidArgument(
              "listener \"tcp\" at " + lc.address +
              ": tls_cert_file and tls_key_file are required unless tls_disable = true");
        cfg.listeners.push_back(lc);
      }
    }
  }
  if (doc.contains("telemetry")) RETURN_IF_ERROR(ParseTelemetry(doc["telemetry"], &cfg));
  if (doc.contains("disable_mlock")) cfg.disable_mlock = Truthy(doc["disable_mlock"]);
  if (doc.contains("ui")) {
    const Json& v = doc["ui"];
    if (v.is_boolean()) {
      cfg.ui = v.get<bool>();
    } else if (v.is_string() && ParseGoBool(v.get<std::string>()) >= 0) {
      cfg.ui = ParseGoBool(v.get<std::string>()) == 1;
    } else {
      return InvalidArgument("invalid ui: true or false");
    }
  }
  if (doc.contains("default_lease_ttl")) {
    ASSIGN_OR_RETURN(cfg.default_lease_ttl,
                     TtlValue(doc["default_lease_ttl"], "default_lease_ttl"));
  }
  if (doc.contains("max_lease_ttl")) {
    ASSIGN_OR_RETURN(cfg.max_lease_ttl, TtlValue(doc["max_lease_ttl"], "max_lease_ttl"));
  }
  if (doc.contains("rollback_interval")) {
    ASSIGN_OR_RETURN(cfg.rollback_interval,
                     TtlValue(doc["rollback_interval"], "rollback_interval"));
    if (cfg.rollback_interval < 1)
      return InvalidArgument("invalid rollback_interval: must be at least 1s");
  }
  if (doc.contains("http_io_time_slice")) {
    // A Go duration; Linux takes 0.1-100 ms (6.12+). "0" keeps the kernel's default.
    const Json& v = doc["http_io_time_slice"];
    if (!v.is_string())
      return InvalidArgument("invalid http_io_time_slice: a duration such as \"100us\" or \"0\"");
    auto ns = ParseGoDurationNanos(v.get<std::string>());
    if (!ns.ok()) return InvalidArgument("invalid http_io_time_slice: " + ns.status().message());
    if (*ns != 0 && (*ns < 100000 || *ns > 100000000))
      return InvalidArgument(
          "invalid http_io_time_slice: must be 0 (the kernel's default) or between 100us and "
          "100ms");
    cfg.http_io_time_slice_ns = *ns;
  }
  for (const char* key : {"api_addr", "cluster_addr"}) {
    if (!doc.contains(key)) continue;
    if (!doc[key].is_string()) return InvalidArgument(std::string(key) + " must be a string");
    std::string v = doc[key].get<std::string>();
    if (!v.empty() && v.find("://") == std::string::npos)
      return InvalidArgument(std::string(key) + " must be a URL such as https://10.0.0.1:8200");
    (std::string_view(key) == "api_addr" ? cfg.api_addr : cfg.cluster_addr) = v;
  }
  if (doc.contains("disable_clustering"))
    cfg.disable_clustering = Truthy(doc["disable_clustering"]);
  if (doc.contains("log_level") && doc["log_level"].is_string())
    cfg.log_level = doc["log_level"].get<std::string>();
  return cfg;
}

Status LoadServerConfigFile(const std::string& path, ServerConfig* into) {
  std::ifstream in(path);
  if (!in)
    return InvalidArgument("error loading configuration from " + path + ": cannot read file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = ParseServerConfig(ss.str());
  if (!parsed.ok())
    return InvalidArgument("error loading configuration from " + path + ": " +
                           parsed.status().message());
  const ServerConfig& c = *parsed;
  if (!c.storage_path.empty() || c.storage_type != "inmem") {
    into->storage_type = c.storage_type;
    into->storage_path = c.storage_path;
    into->etcd = c.etcd;
  }
  for (const auto& l : c.listeners) into->listeners.push_back(l);
  if (c.default_lease_ttl) into->default_lease_ttl = c.default_lease_ttl;
  if (c.max_lease_ttl) into->max_lease_ttl = c.max_lease_ttl;
  if (c.rollback_interval) into->rollback_interval = c.rollback_interval;
  if (!c.api_addr.empty()) into->api_addr = c.api_addr;
  if (!c.cluster_addr.empty()) into->cluster_addr = c.cluster_addr;
  if (!c.listener_cluster_address.empty() && into->listener_cluster_address.empty())
    into->listener_cluster_address = c.listener_cluster_address;
  if (c.disable_clustering) into->disable_clustering = true;
  if (c.disable_mlock) into->disable_mlock = true;
  if (c.ui) into->ui = c.ui;
  if (c.telemetry_set) {
    into->telemetry_set = true;
    into->prometheus_retention_s = c.prometheus_retention_s;
    into->disable_hostname = c.disable_hostname;
    into->usage_gauge_period_ms = c.usage_gauge_period_ms;
  }
  if (c.http_io_time_slice_ns >= 0) into->http_io_time_slice_ns = c.http_io_time_slice_ns;
  into->max_request_size = c.max_request_size;
  into->log_level = c.log_level;
  return Status::Ok();
}

}  // namespace vault::cmd
