path "secret/+/teamb" { capabilities = ["read"] }
path "secret/+/+/teamc/*" { capabilities = ["read", "list"] }
path "kv/data/apps/*" { capabilities = ["deny"] }
path "" { capabilities = ["read"] }
