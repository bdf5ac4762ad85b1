storage "rocksdb" {
  path: "/data/vault",
  sync: false,
}
listener "tcp" {
  address: "127.0.0.1:8200",
  tls_disable: true
}
