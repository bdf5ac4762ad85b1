replication {
  resolver_discover_servers = true
  logshipper_buffer_length = 1000
  logshipper_buffer_size = "5gb"
}
storage "raft" {
  path = "/opt/vault/data"
  node_id = "raft_node_1"
  retry_join {
    leader_api_addr = "http://10.0.0.1:8200"
  }
  retry_join {
    leader_api_addr = "http://10.0.0.2:8200"
  }
}
