listener "tcp" {
  address = "0.0.0.0:8200"
  x_forwarded_for_authorized_addrs = ["10.0.0.0/8", "192.168.0.0/16",]
  cors_allowed_origins = [
    "https://a.example.com",
    # a comment inside a list
    "https://b.example.com", // and another
  ]
  empty = []
  numbers = [1, 2.5, -3, 0x10]
}
