rules = [
  { path = "secret/a", caps = ["read"] },
  { path = "secret/b", caps = ["list", "read"] },
]
