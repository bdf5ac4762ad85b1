path "secret/super-secret" {
  capabilities = ["read", "deny", "update"]
}
