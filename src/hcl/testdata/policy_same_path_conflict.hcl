path "secret/a" {
  capabilities = ["read"]
}
path "secret/a" {
  capabilities = ["list"]
}
