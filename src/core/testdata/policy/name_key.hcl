name = "ops"
path "sys/*" {
  capabilities = ["read", "list", "sudo"]
}
