storage "rocksdb" {
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
