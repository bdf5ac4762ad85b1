{
  "path": {
    "secret/*": {"capabilities": ["create", "read", "update", "delete", "list"]},
    "sys/mounts/*": {"capabilities": ["update", "sudo"]}
  }
}
