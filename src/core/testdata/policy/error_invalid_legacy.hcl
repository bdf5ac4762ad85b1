path "secret/*" {
  policy = "admin"
}
