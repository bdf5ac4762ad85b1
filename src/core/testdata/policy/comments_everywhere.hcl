# a hash comment
// a slash comment
/* a block
   comment */
path "aws/creds/deploy" { # trailing
  capabilities = ["read"] // trailing
}
