path "secret/a" {
  capabilities = ["read"]
}
path "secret/a" {
  policy = "write"
}
path "secret/b" {
  capabilities = ["read"]
}
