{
  "storage": {"rocksdb": {"path": "/tmp/x"}},
  "listener": {"tcp": {"address": "127.0.0.1:8200", "tls_disable": 1}},
  "default_lease_ttl": "768h",
  "ui": true,
  "nothing": null,
  "list": [1, 2.5, "x", {"a": [true, false]}]
}
