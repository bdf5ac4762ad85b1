storage "rocksdb" {
  path = "/tmp/crlf"
}
ui = true
