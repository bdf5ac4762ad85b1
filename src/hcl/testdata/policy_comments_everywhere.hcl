/* header */ path /* between */ "secret/x" /* label */ { # open
  // inside
  capabilities /* before equals */ = /* after equals */ [ # list open
    "read", // first
    /* middle */ "list" # second
  ] // close
} # done
