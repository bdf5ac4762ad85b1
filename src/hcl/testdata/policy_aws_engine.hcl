# Allow generating AWS credentials for the deploy role only.
path "aws/creds/deploy" {
  capabilities = ["read"]
}
path "aws/sts/deploy" {
  capabilities = ["read", "update"]
}
path "sys/leases/revoke/aws/creds/deploy/*" {
  capabilities = ["update"]
}
path "sys/leases/renew" {
  capabilities = ["update"]
}
