# vault-cpp server configuration (see /usr/share/doc/vault-cpp/README.md).
# Start: systemctl enable --now vault-cpp; then `vault operator init` and `vault operator unseal`.
storage "rocksdb" {
  path = "/var/lib/vault-cpp"
}

listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_cert_file = "/etc/vault-cpp/tls/cert.pem"
  tls_key_file  = "/etc/vault-cpp/tls/key.pem"
}

# The server does not lock its memory: keep swap off or encrypted.
disable_mlock = true
