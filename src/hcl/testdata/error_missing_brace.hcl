path "secret/*" {
  capabilities = ["read"]
