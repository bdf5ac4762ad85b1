path "secret/*/foo" {
  capabilities = ["read"]
}
path "secret/a*b*" {
  capabilities = ["list"]
}
