{"path": [{"secret/one": {"capabilities": ["read"]}}, {"secret/two": {"capabilities": ["list"]}}]}
