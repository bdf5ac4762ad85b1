paths "secret/*" {
  capabilities = ["read"]
}
