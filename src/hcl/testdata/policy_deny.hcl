path "sys/*" {
  policy = "deny"
}
