#include "cmd/config.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vault::cmd
