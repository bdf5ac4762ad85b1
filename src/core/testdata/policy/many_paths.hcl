path "secret/app0/*" {
  capabilities = ["read"]
}
path "secret/app1/*" {
  capabilities = ["read"]
}
path "secret/app2/*" {
  capabilities = ["read"]
}
path "secret/app3/*" {
  capabilities = ["read"]
}
path "secret/app4/*" {
  capabilities = ["read"]
}
path "secret/app5/*" {
  capabilities = ["read"]
}
path "secret/app6/*" {
  capabilities = ["read"]
}
path "secret/app7/*" {
  capabilities = ["read"]
}
path "secret/app8/*" {
  capabilities = ["read"]
}
path "secret/app9/*" {
  capabilities = ["read"]
}
path "secret/app10/*" {
  capabilities = ["read"]
}
path "secret/app11/*" {
  capabilities = ["read"]
}
path "secret/app12/*" {
  capabilities = ["read"]
}
path "secret/app13/*" {
  capabilities = ["read"]
}
path "secret/app14/*" {
  capabilities = ["read"]
}
path "secret/app15/*" {
  capabilities = ["read"]
}
path "secret/app16/*" {
  capabilities = ["read"]
}
path "secret/app17/*" {
  capabilities = ["read"]
}
path "secret/app18/*" {
  capabilities = ["read"]
}
path "secret/app19/*" {
  capabilities = ["read"]
}
