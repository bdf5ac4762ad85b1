path "secret/*" {
  capabilities = ["read" "list"]
}
