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

# The web UI at https://127.0.0.1:8200/ui/ (sign in with a token, userpass or AppRole).
ui = true

# Memory is locked (mlockall) so no secret reaches swap; the unit grants CAP_IPC_LOCK. In a
# container without that capability set disable_mlock = true and keep swap off or encrypted.
# disable_mlock = true
