path "a" { policy = "deny" }
path "b" { policy = "read" }
path "c" { policy = "write" }
path "d" { policy = "sudo" }
