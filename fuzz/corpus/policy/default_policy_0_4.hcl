path "auth/token/lookup-self" {
    policy = "read"
}

path "auth/token/renew-self" {
    policy = "write"
}

path "auth/token/revoke-self" {
    policy = "write"
}
