path "secret/*" {
  capabilities = ["create", "read"]
}
