{"path": {"secret/dev/*": {"policy": "write"}}}
