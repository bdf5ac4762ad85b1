"""The server on a three-member etcd cluster: init, unseal, secrets that survive a restart of the
server and the loss of an etcd member, nothing readable in etcd, and clear errors for values
etcd cannot take and for settings this server does not have."""
import json
import os
import signal
import subprocess

import pytest
import requests

from conftest import VAULT_BIN, Cli, Server, free_port
from emulator_fixture import start_emulator
from etcd_fixture import EtcdCluster
from test_aws import mount_with_deploy_role, vault_users, wait_until

SECRET = "etcd-secret-plaintext-4711"


@pytest.fixture
def etcd():
    cluster = EtcdCluster(3)
    yield cluster
    cluster.stop()


def write_config(home, port, etcd, extra=""):
    path = os.path.join(home, "vault.hcl")
    with open(path, "w") as f:
        f.write('''
storage "etcd" {
  address  = "%s"
  etcd_api = "v3"
  path     = "/vault/"
  %s
}

listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
''' % (etcd.address(), extra, port))
    return path


def unseal(cli, key):
    cli.run("operator", "unseal", key, check=True)


def init_and_unseal(home, addr):
    """-> (unseal key, root token, a CLI with the root token)"""
    init = json.loads(Cli(addr, home).run("operator", "init", "-key-shares=1", "-key-threshold=1",
                                          "-format=json", check=True).stdout)
    key, root = init["unseal_keys_b64"][0], init["root_token"]
    unseal(Cli(addr, home), key)
    return key, root, Cli(addr, home, token=root)


def test_server_on_etcd(home, etcd):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg = write_config(home, port, etcd)
    server = Server(["-config=" + cfg], home, addr)
    try:
        key, root, cli = init_and_unseal(home, addr)
        status = json.loads(cli.run("status", "-format=json", check=True).stdout)
        assert status["storage_type"] == "etcd"
        cli.run("secrets", "enable", "-path=kvs", "kv", check=True)
        cli.run("kv", "put", "kvs/db", "password=" + SECRET, check=True)

        # Everything in etcd is barrier ciphertext: no secret, no token, no key.
        dump = etcd.etcdctl("get", "--prefix", "/vault/")
        assert dump.returncode == 0, dump.stderr
        assert b"/vault/core/keyring" in dump.stdout
        for clear in (SECRET, root, key, "password"):
            assert clear.encode() not in dump.stdout

        # A value over etcd's request limit (1.5 MiB) is a 413 with a clear message.
        r = requests.put(addr + "/v1/kvs/big", headers={"X-Vault-Token": root},
                         json={"value": "x" * (2 << 20)})
        assert r.status_code == 413, r.text
        assert "too large" in r.json()["errors"][0]
        assert requests.get(addr + "/v1/kvs/big",
                            headers={"X-Vault-Token": root}).status_code == 404

        # The server restarts on what etcd kept.
        assert server.stop(signal.SIGTERM) == 0
        server = Server(["-config=" + cfg], home, addr)
        assert cli.run("status").returncode == 2  # sealed
        unseal(cli, key)
        got = cli.run("kv", "get", "-field=password", "kvs/db", check=True)
        assert got.stdout.strip() == SECRET

        # One etcd member gone: reads and writes go on through the others.
        etcd.kill(0)
        for i in range(10):
            cli.run("kv", "put", "kvs/after-%d" % i, "n=%d" % i, check=True)
        listed = cli.run("kv", "list", "-format=json", "kvs/", check=True)
        assert sorted(json.loads(listed.stdout)) == sorted(
            ["db"] + ["after-%d" % i for i in range(10)])
        got = cli.run("kv", "get", "-field=n", "kvs/after-9", check=True)
        assert got.stdout.strip() == "9"
    finally:
        server.stop()


def start_fails(home, config_text, env=None):
    path = os.path.join(home, "bad.hcl")
    with open(path, "w") as f:
        f.write(config_text)
    p = subprocess.run([VAULT_BIN, "server", "-config=" + path], capture_output=True, text=True,
                       timeout=30, env=dict(os.environ, **(env or {})))
    assert p.returncode != 0
    return p.stderr


LISTENER = 'listener "tcp" {\n address = "127.0.0.1:%d"\n tls_disable = true\n}\n'


def test_settings_this_server_does_not_have_are_refused(home):
    port = free_port()
    err = start_fails(home, 'storage "etcd" {\n ha_enabled = "yes please"\n}\n' + LISTENER % port)
    assert "could not be understood" in err
    err = start_fails(home, 'storage "rocksdb" {\n path = "%s"\n ha_enabled = "true"\n}\n'
                      % os.path.join(home, "data") + LISTENER % port)
    assert "does not support ha_enabled" in err
    err = start_fails(home, 'storage "etcd" {\n tls_cert_file = "c.pem"\n}\n' + LISTENER % port)
    assert "tls_cert_file is not supported" in err
    err = start_fails(home, 'storage "etcd" {\n etcd_api = "v2"\n}\n' + LISTENER % port)
    assert "unknown API version" in err
    err = start_fails(home, 'storage "etcd" {\n address = "127.0.0.1:2379"\n}\n' + LISTENER % port)
    assert "address must be valid URL" in err
    # The environment beats the file, as in Vault.
    err = start_fails(home, 'storage "etcd" {}\n' + LISTENER % port,
                      env={"ETCD_HA_ENABLED": "maybe"})
    assert "could not be understood" in err
    err = start_fails(home, 'storage "etcd" {}\n' + LISTENER % port + 'api_addr = "10.0.0.1"\n')
    assert "api_addr must be a URL" in err


def test_unreachable_etcd_is_a_start_up_error(home):
    port = free_port()
    err = start_fails(home, 'storage "etcd" {\n address = "http://127.0.0.1:%d"\n'
                      ' request_timeout = "1s"\n}\n' % free_port() + LISTENER % port)
    assert "Error initializing storage of type etcd" in err
    assert "no member answered" in err


def test_aws_leases_kept_in_etcd_are_revoked_after_kill_9(home, etcd):
    """Dynamic IAM users issued by a server on etcd, the server killed with -9: the restarted
    server restores the leases from etcd and deletes every user when its lease ends."""
    emu = start_emulator(latency_ms=20)
    server = None
    try:
        port = free_port()
        addr = "http://127.0.0.1:%d" % port
        cfg = write_config(home, port, etcd)
        server = Server(["-config=" + cfg], home, addr)
        key, root, cli = init_and_unseal(home, addr)
        mount_with_deploy_role(cli, emu)
        # Long enough for five issues, a restart and the listing, even in a sanitizer build.
        cli.run("write", "aws/config/lease", "lease=20s", "lease_max=60s", check=True)
        keys = set()
        for _ in range(5):
            creds = json.loads(cli.run("read", "-format=json", "aws/creds/deploy",
                                       check=True).stdout)
            keys.add(creds["data"]["access_key"])
        assert len(vault_users(emu)) == 5
        server.stop(signal.SIGKILL)

        server = Server(["-config=" + cfg], home, addr)
        unseal(cli, key)
        listed = json.loads(cli.run("list", "-format=json", "sys/leases/lookup/aws/creds/deploy/",
                                    check=True).stdout)
        assert len(listed) == 5
        assert wait_until(lambda: not vault_users(emu), timeout=45), vault_users(emu)
        assert cli.run("list", "sys/leases/lookup/aws/creds/deploy/").returncode == 2  # none left
    finally:
        if server:
            server.stop()
        emu.stop()


def test_etcd_with_authentication(home, etcd):
    """etcd v3 authentication: the server authenticates with username/password and keeps working;
    a wrong password is a clear start-up error."""
    for args in (["user", "add", "root", "--new-user-password=etcd-pw-123"],
                 ["auth", "enable"]):
        p = etcd.etcdctl(*args)
        assert p.returncode == 0, p.stderr
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    bad = write_config(home, port, etcd, 'username = "root"\n  password = "wrong"')
    p = subprocess.run([VAULT_BIN, "server", "-config=" + bad], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0 and "authentication failed" in p.stderr, p.stderr
    assert "wrong" not in p.stderr and "etcd-pw-123" not in p.stderr
    cfg = write_config(home, port, etcd, 'username = "root"\n  password = "etcd-pw-123"')
    server = Server(["-config=" + cfg], home, addr)
    try:
        key, root, cli = init_and_unseal(home, addr)
        cli.run("kv", "put", "secret/with-auth", "v=1", check=True)
        got = cli.run("kv", "get", "-field=v", "secret/with-auth", check=True)
        assert got.stdout.strip() == "1"
        assert "etcd-pw-123" not in server.output()
    finally:
        server.stop()
