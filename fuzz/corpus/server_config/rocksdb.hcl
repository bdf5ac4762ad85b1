storage "rocksdb" {
  path = "/var/lib/vault"
}
listener "tcp" {
  address     = "127.0.0.1:8300"
  tls_disable = 1
  http_read_header_timeout = "5s"
  http_idle_timeout = "2m"
}
default_lease_ttl = "1h"
max_lease_ttl = "24h"
rollback_interval = "5s"
http_io_time_slice = "250us"
