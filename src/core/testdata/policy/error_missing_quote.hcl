path "secret/* {
  capabilities = ["read"]
}
