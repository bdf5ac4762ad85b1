# hash comment
// slash comment
/* block
   comment */
storage "rocksdb" { # trailing hash
  path = "/tmp/x" // trailing slashes
  /* inline */ node_id = "n1" /* after */
}
/* multi
line
comment with "quotes" and { braces } */
ui = true # end
