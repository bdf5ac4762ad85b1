path "secret/*" {
  capabilities = ["read]
}
