path "secret/foo" {
  policy = "write"
}
path "secret/bar/*" {
  policy = "read"
}
path "sys/*" {
  policy = "sudo"
}
