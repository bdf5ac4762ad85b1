item = [1, 2]
item {
  y = "first"
  x = "second"
}
