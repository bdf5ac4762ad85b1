banner = <<BANNER
Welcome to Vault!
  Authorized use only.
BANNER
motd = <<END_OF_MOTD
single line
END_OF_MOTD
empty = <<E
E
