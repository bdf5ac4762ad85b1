"""A durable server from a config file: init with Shamir keys, restart, unseal, data survives,
and nothing secret sits in the RocksDB files in clear."""
import glob
import os
import signal

import hvac
import pytest

from conftest import Cli, Server, free_port


def write_config(home, port, fmt="hcl"):
    data_dir = os.path.join(home, "data")
    if fmt == "hcl":
        path = os.path.join(home, "vault.hcl")
        text = '''
# durable storage, embedded
storage "rocksdb" {
  path = "%s"
}

listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
default_lease_ttl = "1h"
max_lease_ttl     = "24h"
''' % (data_dir, port)
    else:
        path = os.path.join(home, "vault.json")
        text = ('{"storage": {"rocksdb": {"path": "%s"}}, "listener": {"tcp": '
                '{"address": "127.0.0.1:%d", "tls_disable": 1}}, "default_lease_ttl": 3600}' % (data_dir, port))
    with open(path, "w") as f:
        f.write(text)
    return path, data_dir


@pytest.mark.parametrize("fmt", ["hcl", "json"])
def test_restart_unseal_and_data_survives(home, fmt):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg, data_dir = write_config(home, port, fmt)
    s = Server(["-config=" + cfg], home, addr)
    cli = Cli(addr, home)
    st = cli.run("status")
    assert st.returncode == 2, st.stdout + st.stderr  # not initialized / sealed
    init = cli.run("operator", "init", "-key-shares=3", "-key-threshold=2", "-format=json", check=True)
    import json
    keys = json.loads(init.stdout)
    root = keys["root_token"]
    hexkeys = keys["unseal_keys_hex"]
    assert len(hexkeys) == 3
    cli.run("operator", "unseal", hexkeys[0], check=True)
    cli.run("operator", "unseal", keys["unseal_keys_b64"][2], check=True)
    assert cli.run("status").returncode == 0
    cli = Cli(addr, home, token=root)
    cli.run("secrets", "enable", "-path=durable", "kv", check=True)
    cli.run("write", "durable/db", "password=very-secret-plaintext-123", check=True)
    assert s.stop(signal.SIGTERM) == 0

    # Nothing secret in clear in the files on disk.
    blob = b""
    for f in glob.glob(os.path.join(data_dir, "*")):
        if os.path.isfile(f):
            with open(f, "rb") as fh:
                blob += fh.read()
    assert len(blob) > 0
    assert b"very-secret-plaintext-123" not in blob
    assert root.encode() not in blob

    s = Server(["-config=" + cfg], home, addr)
    try:
        client = hvac.Client(url=addr, token=root)
        assert client.sys.is_sealed()
        assert client.sys.read_seal_status()["t"] == 2
        client.sys.submit_unseal_keys([hexkeys[1], hexkeys[2]])
        assert not client.sys.is_sealed()
        assert client.read("durable/db")["data"] == {"password": "very-secret-plaintext-123"}
        # default_lease_ttl from the config file applies.
        assert client.read("durable/db")["lease_duration"] == 3600
        assert "durable/" in client.sys.list_mounted_secrets_engines()["data"]
    finally:
        s.stop()


def test_second_server_on_same_data_dir_fails_cleanly(home):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg, _ = write_config(home, port)
    s = Server(["-config=" + cfg], home, addr)
    try:
        import subprocess
        from conftest import VAULT_BIN
        p = subprocess.run([VAULT_BIN, "server", "-config=" + cfg], capture_output=True, text=True,
                           timeout=20)
        assert p.returncode == 1
        assert "rocksdb" in p.stderr
    finally:
        s.stop()


def test_bad_config_reports_line(home):
    import subprocess
    from conftest import VAULT_BIN
    path = os.path.join(home, "bad.hcl")
    with open(path, "w") as f:
        f.write('storage "rocksdb" {\n  path = \n')
    p = subprocess.run([VAULT_BIN, "server", "-config=" + path], capture_output=True, text=True)
    assert p.returncode == 1
    assert "At " in p.stderr and path in p.stderr
