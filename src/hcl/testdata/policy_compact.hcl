path "a/*" {capabilities=["read"]} path "b/*" {capabilities=["list"],} path "c" {policy="deny"}
