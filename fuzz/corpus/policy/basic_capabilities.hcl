path "secret/app/*" {
  capabilities = ["read", "list"]
}
