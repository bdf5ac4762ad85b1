config = { a = 1, b = "two", c = { d = true } }
options = {
  version = 2
}
options = {
  extra = "x"
}
empty = {}
