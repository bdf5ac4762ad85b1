path "secret/*" {
  capabilities = ["read", "fly"]
}
