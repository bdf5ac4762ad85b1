path "secret/nothing" {
  capabilities = []
}
