path "/secret/foo" {
  capabilities = ["read"]
}
