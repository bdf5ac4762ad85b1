path "secret/x" {
  comment = <<EOT
multi
line
EOT
  capabilities = ["read"]
}
