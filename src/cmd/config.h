// Vault's server configuration file (HCL or JSON): storage, listeners, TTL defaults.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/server.h"
#include "util/status.h"

namespace vault::cmd {

// storage "etcd" (Vault's parameters; ETCD_* environment variables beat the file).
struct EtcdStorageConfig {
  std::vector<std::string> address = {"http://127.0.0.1:2379"};
  std::string path = "/vault/";
  int64_t request_timeout_ms = 5000;
  int64_t lock_timeout_s = 15;
  std::string username;
  std::string password;  // secret
  std::string tls_ca_file;
  bool sync = true;  // replace `address` by the cluster's member list at start-up
  bool ha_enabled = false;
};

struct ServerConfig {
  std::string storage_type = "inmem";  // "inmem" | "rocksdb" | "etcd"
  std::string storage_path;            // rocksdb directory
  EtcdStorageConfig etcd;
  // HA: where clients reach this server (VAULT_API_ADDR wins), the address reported as its
  // cluster address (VAULT_CLUSTER_ADDR wins; default: the first listener's cluster_address, else
  // its port + 1), and whether standbys must redirect to it instead of forwarding.
  std::string api_addr;
  std::string cluster_addr;
  std::string listener_cluster_address;
  bool disable_clustering = false;
  std::vector<http::ListenerConfig> listeners;
  int64_t default_lease_ttl = 0;  // seconds; 0 = 768h
  int64_t max_lease_ttl = 0;      // seconds; 0 = 768h
  size_t max_request_size = 32 << 20;
  std::string log_level = "info";
  // vault-cpp extension: how often engines roll back leftovers (and rotate static roles);
  // seconds, 0 = the default (60 s, as Vault's rollback manager).
  int64_t rollback_interval = 0;
  // vault-cpp extension `http_io_time_slice`: the CPU time slice each HTTP I/O thread asks the
  // kernel for (http::ServerOptions::io_thread_slice_ns), nanoseconds; -1 = not set (0.1 ms),
  // 0 = the kernel's default.
  int64_t http_io_time_slice_ns = -1;
  // telemetry { }: Vault's prometheus_retention_time (0 refuses the Prometheus format),
  // disable_hostname and usage_gauge_period ("none" = 0: usage gauges are not collected).
  int64_t prometheus_retention_s = 24 * 3600;
  bool disable_hostname = false;
  int64_t usage_gauge_period_ms = 600000;
  bool telemetry_set = false;  // the file had a telemetry block (it wins when files are merged)
  // Vault's disable_mlock: unless true, the server locks all its memory (mlockall) at start so
  // that no secret is ever written to swap.
  bool disable_mlock = false;
  // Vault's `ui`: whether the web UI is served at /ui/. Unset: off, as in Vault (dev mode: on).
  std::optional<bool> ui;
};

// Parses one config document. kInvalidArgument with the file's problem (HCL errors carry
// line:column).
Result<ServerConfig> ParseServerConfig(const std::string& text);
// The ETCD_ADDR, ETCD_HA_ENABLED, ETCD_USERNAME and ETCD_PASSWORD environment variables over a
// storage "etcd" block's settings, as Vault applies them (`getenv` is the lookup).
Status ApplyEtcdEnvironment(ServerConfig* config,
                            const std::function<const char*(const char*)>& getenv);
// Reads and parses a file (merging into `into` when several -config flags are given).
Status LoadServerConfigFile(const std::string& path, ServerConfig* into);

}  // namespace vault::cmd
