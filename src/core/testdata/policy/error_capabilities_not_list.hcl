path "secret/*" {
  capabilities = 5
}
