#include "cmd/config.h"

#include <fstream>
#include <sstream>

#include "hcl/hcl.h"
#include "util/duration.h"
#include "util/strings.h"

namespace vault::cmd {
namespace {

Result<int64_t> TtlValue(const Json& v, const char* name) {
  if (v.is_number()) return v.get<int64_t>();
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

}  // namespace

Result<ServerConfig> ParseServerConfig(const std::string& text) {
  ASSIGN_OR_RETURN(Json doc, hcl::Parse(text));
  ServerConfig cfg;
  if (!doc.is_object()) return InvalidArgument("config must be an object");
  for (const char* key : {"storage", "backend"}) {
    if (!doc.contains(key)) continue;
    const Json& s = doc[key];
    if (!s.is_object() || s.size() != 1)
      return InvalidArgument(std::string("exactly one ") + key + " block is required");
    auto it = s.begin();
    cfg.storage_type = it.key();
    if (cfg.storage_type != "inmem" && cfg.storage_type != "rocksdb")
      return InvalidArgument("unknown storage type \"" + cfg.storage_type +
                             "\" (supported: rocksdb, inmem)");
    Json body = it.value().is_array() && !it.value().empty() ? it.value()[0] : it.value();
    if (body.is_object() && body.contains("path") && body["path"].is_string())
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
        if (b.contains("address")) lc.address = b["address"].get<std::string>();
        if (b.contains("tls_disable")) lc.tls_disable = Truthy(b["tls_disable"]);
        if (b.contains("tls_cert_file")) lc.tls_cert_file = b["tls_cert_file"].get<std::string>();
        if (b.contains("tls_key_file")) lc.tls_key_file = b["tls_key_file"].get<std::string>();
        if (b.contains("max_request_size") && b["max_request_size"].is_number())
          cfg.max_request_size = b["max_request_size"].get<size_t>();
        if (!lc.tls_disable && (lc.tls_cert_file.empty() || lc.tls_key_file.empty()))
          return InvalidArgument(
              "listener \"tcp\" at " + lc.address +
              ": tls_cert_file and tls_key_file are required unless tls_disable = true");
        cfg.listeners.push_back(lc);
      }
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
  }
  for (const auto& l : c.listeners) into->listeners.push_back(l);
  if (c.default_lease_ttl) into->default_lease_ttl = c.default_lease_ttl;
  if (c.max_lease_ttl) into->max_lease_ttl = c.max_lease_ttl;
  if (c.rollback_interval) into->rollback_interval = c.rollback_interval;
  if (c.http_io_time_slice_ns >= 0) into->http_io_time_slice_ns = c.http_io_time_slice_ns;
  into->max_request_size = c.max_request_size;
  into->log_level = c.log_level;
  return Status::Ok();
}

}  // namespace vault::cmd
