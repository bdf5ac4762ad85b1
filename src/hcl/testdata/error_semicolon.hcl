listener "tcp" {
  address = "x";
}
