# Keys that grant nothing here (no event subscriptions exist) load as Vault's do.
path "secret/app/*" {
  comment = "the app's secrets"
  capabilities = ["read", "list"]
  subscribe_event_types = ["kv*"]
}
