#include "cmd/config.h"

#include <gtest/gtest.h>

#include <map>

namespace vault::cmd {
namespace {

TEST(Config, ParsesVaultHcl) {
  auto c = ParseServerConfig(R"(
storage "rocksdb" {
  path = "/var/lib/vault"
}
listener "tcp" {
  address     = "127.0.0.1:8300"
  tls_disable = 1
}
default_lease_ttl = "1h"
max_lease_ttl = "24h"
rollback_interval = "5s"
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage_type, "rocksdb");
  EXPECT_EQ(c->storage_path, "/var/lib/vault");
  ASSERT_EQ(c->listeners.size(), 1u);
  EXPECT_EQ(c->listeners[0].address, "127.0.0.1:8300");
  EXPECT_TRUE(c->listeners[0].tls_disable);
  EXPECT_EQ(c->default_lease_ttl, 3600);
  EXPECT_EQ(c->max_lease_ttl, 86400);
  EXPECT_EQ(c->rollback_interval, 5);
}

TEST(Config, ParsesJson) {
  auto c = ParseServerConfig(
      R"({"storage":{"inmem":{}},"listener":{"tcp":{"address":"127.0.0.1:0","tls_cert_file":"c.pem","tls_key_file":"k.pem"}}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage_type, "inmem");
  EXPECT_FALSE(c->listeners[0].tls_disable);
  EXPECT_EQ(c->listeners[0].tls_cert_file, "c.pem");
}

TEST(Config, Telemetry) {
  auto c = ParseServerConfig(R"(
listener "tcp" {
  address = "127.0.0.1:0"
  tls_disable = true
  telemetry { unauthenticated_metrics_access = true }
}
telemetry {
  prometheus_retention_time = "30s"
  disable_hostname = true
  usage_gauge_period = "5s"
}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->listeners[0].unauthenticated_metrics_access);
  EXPECT_EQ(c->prometheus_retention_s, 30);
  EXPECT_TRUE(c->disable_hostname);
  EXPECT_EQ(c->usage_gauge_period_ms, 5000);
  // Defaults: Vault's.
  auto d = ParseServerConfig("listener \"tcp\" {\n address = \"127.0.0.1:0\"\n tls_disable = 1\n}");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->listeners[0].unauthenticated_metrics_access);
  EXPECT_EQ(d->prometheus_retention_s, 86400);
  EXPECT_FALSE(d->disable_hostname);
  EXPECT_EQ(d->usage_gauge_period_ms, 600000);
  auto none = ParseServerConfig(
      "telemetry {\n usage_gauge_period = \"none\"\n prometheus_retention_time = 0\n}");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->usage_gauge_period_ms, 0);
  EXPECT_EQ(none->prometheus_retention_s, 0);
  // What this server does not have is refused, naming the setting.
  for (const char* bad : {"telemetry {\n statsd_address = \"127.0.0.1:8125\"\n}",
                          "telemetry {\n usage_gauge_period = \"soon\"\n}",
                          "telemetry {\n usage_gauge_period = \"10ms\"\n}",
                          "listener \"tcp\" {\n address = \"127.0.0.1:0\"\n tls_disable = 1\n "
                          "telemetry { metrics_only = true }\n}"}) {
    auto r = ParseServerConfig(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto statsd = ParseServerConfig("telemetry {\n statsd_address = \"127.0.0.1:8125\"\n}");
  EXPECT_NE(statsd.status().message().find("statsd_address"), std::string::npos);
}

TEST(Config, HttpIoTimeSlice) {
  auto unset = ParseServerConfig("log_level = \"info\"");
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(unset->http_io_time_slice_ns, -1);  // the server's 0.1 ms
  auto set = ParseServerConfig("http_io_time_slice = \"250us\"");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->http_io_time_slice_ns, 250000);
  auto off = ParseServerConfig("http_io_time_slice = \"0\"");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->http_io_time_slice_ns, 0);
  for (const char* bad : {"\"50us\"", "\"1s\"", "\"fast\"", "100"}) {
    auto r = ParseServerConfig(std::string("http_io_time_slice = ") + bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("http_io_time_slice"), std::string::npos) << bad;
  }
}

TEST(Config, Etcd) {
  auto c = ParseServerConfig(R"(
storage "etcd" {
  address         = "http://127.0.0.1:2379, http://127.0.0.1:22379"
  etcd_api        = "v3"
  path            = "vault-a"
  ha_enabled      = "false"
  request_timeout = "2s"
  lock_timeout    = "3s"
  sync            = "false"
  username        = "vault"
  password        = "p"
})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage_type, "etcd");
  EXPECT_EQ(c->etcd.address,
            (std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.1:22379"}));
  EXPECT_EQ(c->etcd.path, "vault-a");
  EXPECT_EQ(c->etcd.request_timeout_ms, 2000);
  EXPECT_EQ(c->etcd.lock_timeout_s, 3);
  EXPECT_FALSE(c->etcd.sync);
  EXPECT_EQ(c->etcd.username, "vault");

  auto defaults = ParseServerConfig("storage \"etcd\" {}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->etcd.address, (std::vector<std::string>{"http://127.0.0.1:2379"}));
  EXPECT_EQ(defaults->etcd.path, "/vault/");
  EXPECT_EQ(defaults->etcd.request_timeout_ms, 5000);
  EXPECT_TRUE(defaults->etcd.sync);

  auto message = [](const char* text) { return ParseServerConfig(text).status().message(); };
  EXPECT_NE(message("storage \"etcd\" { address = \"127.0.0.1:2379\" }")
                .find("address must be valid URL"),
            std::string::npos);
  EXPECT_NE(message("storage \"etcd\" { etcd_api = \"v2\" }").find("unknown API version"),
            std::string::npos);
  EXPECT_NE(message("storage \"etcd\" { ha_enabled = \"yes\" }").find("could not be understood"),
            std::string::npos);
  EXPECT_TRUE(ParseServerConfig("storage \"etcd\" { ha_enabled = \"true\" }")->etcd.ha_enabled);
  EXPECT_NE(message("storage \"etcd\" { tls_cert_file = \"c.pem\" }").find("not supported"),
            std::string::npos);
  EXPECT_NE(message("storage \"etcd\" { adress = \"http://x:1\" }").find("unknown setting"),
            std::string::npos);
  EXPECT_NE(message("storage \"etcd\" { request_timeout = \"soon\" }").find("request_timeout"),
            std::string::npos);
  EXPECT_NE(message("storage \"rocksdb\" {\n path = \"/d\"\n ha_enabled = \"true\" }")
                .find("does not support ha_enabled"),
            std::string::npos);
  EXPECT_NE(message("storage \"rocksdb\" {\n path = \"/d\"\n cache = 1 }").find("unknown setting"),
            std::string::npos);
}

TEST(Config, EtcdEnvironmentBeatsTheFile) {
  auto c = ParseServerConfig("storage \"etcd\" { address = \"http://a:1\" }");
  ASSERT_TRUE(c.ok());
  std::map<std::string, std::string> env = {{"ETCD_ADDR", "http://b:2,http://c:3"},
                                            {"ETCD_USERNAME", "u"}};
  auto getenv = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ASSERT_TRUE(ApplyEtcdEnvironment(&*c, getenv).ok());
  EXPECT_EQ(c->etcd.address, (std::vector<std::string>{"http://b:2", "http://c:3"}));
  EXPECT_EQ(c->etcd.username, "u");
  EXPECT_FALSE(c->etcd.ha_enabled);
  env["ETCD_HA_ENABLED"] = "1";
  ASSERT_TRUE(ApplyEtcdEnvironment(&*c, getenv).ok());
  EXPECT_TRUE(c->etcd.ha_enabled);
  env["ETCD_HA_ENABLED"] = "maybe";
  EXPECT_FALSE(ApplyEtcdEnvironment(&*c, getenv).ok());
}

TEST(Config, Ui) {
  const std::string listener = "listener \"tcp\" {\n  tls_disable = true\n}\n";
  auto unset = ParseServerConfig(listener);
  ASSERT_TRUE(unset.ok()) << unset.status().ToString();
  EXPECT_FALSE(unset->ui.has_value());  // the server then leaves it off (on in dev mode)
  auto on = ParseServerConfig(listener + "ui = true\n");
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_EQ(on->ui, true);
  auto off = ParseServerConfig(listener + "ui = \"false\"\n");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->ui, false);
  auto bad = ParseServerConfig(listener + "ui = \"sometimes\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "invalid ui: true or false");
}

TEST(Config, Errors) {
  EXPECT_FALSE(ParseServerConfig("storage \"s3\" { bucket = \"x\" }").ok());
  EXPECT_FALSE(ParseServerConfig("storage \"rocksdb\" {}").ok());
  EXPECT_FALSE(
      ParseServerConfig("listener \"tcp\" { address = \"127.0.0.1:1\" }").ok());  // TLS needs files
  EXPECT_FALSE(ParseServerConfig("default_lease_ttl = \"forever\"").ok());
  EXPECT_FALSE(ParseServerConfig("rollback_interval = \"0s\"").ok());
  auto bad = ParseServerConfig("storage \"rocksdb\" {\n  path = \n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("At "), std::string::npos);
}

// Found by fuzz/server_config: a listener address that was not a string made nlohmann throw (the
// server died at start-up instead of saying what is wrong); numbers too large for their field
// overflowed (undefined behaviour). Each is refused with a message now.
TEST(Config, ValuesOfTheWrongTypeOrOutOfRangeAreRefused) {
  const char* crash = R"(storage "rocksdb" {
  path = "/var/lib/vault"
}
listener "tcp" {
  address     = "127.0.0.1:8300"
  tls_disable = q
  address     = "127.0.0.1:8300"
  tls_disable = q
http_read_header_timeout = "5s"
  http_idle_timeout = "2m"
}
default__io_time_slice = "250us"
)";
  auto c = ParseServerConfig(crash);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  for (const char* bad : {
           R"(listener "tcp" { address = 8200 })",
           "listener \"tcp\" {\n tls_disable = 1\n tls_cert_file = [\"a\"]\n}",
           "default_lease_ttl = 1e300",
           "max_lease_ttl = 1.5",
           "listener \"tcp\" {\n tls_disable = 1\n http_read_timeout = \"99999999999999999999\"\n}",
           "listener \"tcp\" {\n tls_disable = 1\n http_idle_timeout = 9223372036854775807\n}",
           R"(storage "etcd" { request_timeout = "99999999999999999999" })",
           R"(storage "etcd" { lock_timeout = "9223372036854775807" })",
       }) {
    auto r = ParseServerConfig(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto whole = ParseServerConfig("default_lease_ttl = 7200.0");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->default_lease_ttl, 7200);
  // A fractional size is ignored as other non-integers are; the default stays.
  auto size =
      ParseServerConfig("listener \"tcp\" {\n tls_disable = 1\n max_request_size = 1e300\n}");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(size->max_request_size, size_t{32} << 20);
}

}  // namespace
}  // namespace vault::cmd
