{"path": {"secret/*": {"capabilities": ["read"],}}}
