storage "rocksdb" {
  path = "/tmp/x"
}

listener "tcp" {
  address     = "127.0.0.1:8200"
  tls_disable = 1
}

default_lease_ttl = "768h"
max_lease_ttl     = "8760h"
ui                = true
