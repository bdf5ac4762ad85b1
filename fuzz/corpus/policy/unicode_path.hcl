path "secret/café/*" {
  capabilities = ["read"]
}
