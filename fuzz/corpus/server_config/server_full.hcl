# Full Vault server configuration.
cluster_name = "vault-prod"
api_addr     = "https://vault.example.com:8200"
cluster_addr = "https://10.0.0.5:8201"
disable_mlock = true
log_level = "info"
log_format = "json"
pid_file = "/var/run/vault.pid"
plugin_directory = "/etc/vault/plugins"

storage "etcd" {
  address  = "http://127.0.0.1:2379"
  etcd_api = "v3"
  path     = "vault/"
  ha_enabled = "true"
}

listener "tcp" {
  address       = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_cert_file = "/etc/vault/tls/vault.crt"
  tls_key_file  = "/etc/vault/tls/vault.key"
  tls_min_version = "tls12"
}

telemetry {
  statsd_address   = "statsd.local:8125"
  disable_hostname = true
}

default_lease_ttl = "768h"
max_lease_ttl = "8760h"
