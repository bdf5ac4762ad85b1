path "secret/doc" {
  capabilities = ["read"]
  description = <<EOT
  Readers of the documentation tree.
  Managed by the platform team.
EOT
}
