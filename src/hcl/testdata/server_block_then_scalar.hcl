thing {
  a = 1
}
thing = "replaced"
