path "secret/+/config" {
  capabilities = ["read"]
}
path "+/db/*" {
  capabilities = ["list"]
}
path "kv/+" {
  capabilities = ["create", "update"]
}
