path "*" {
  capabilities = ["sudo", "read", "create", "update", "delete", "list", "patch"]
}
