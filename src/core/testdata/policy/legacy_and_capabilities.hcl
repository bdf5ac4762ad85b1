path "secret/mixed" {
  policy       = "read"
  capabilities = ["update"]
}
