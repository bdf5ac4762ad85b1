"""Crash safety: kill -9 the server while 100 credential requests are in flight with the emulator's
latency at 200 ms, restart, unseal, and after the leases' TTL the emulator holds no IAM user.
Between the restart and the expiry, every IAM user the emulator holds has a lease."""
import json
import os
import signal
import threading
import time

import requests

from conftest import Cli, Server, free_port
from emulator_fixture import start_emulator
from test_aws import mount_with_deploy_role, vault_users, wait_until

LEASE_SECONDS = 15


def write_config(home, port):
    path = os.path.join(home, "vault.hcl")
    with open(path, "w") as f:
        f.write('''
storage "rocksdb" {
  path = "%s"
}
listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
# vault-cpp extension: engines roll back leftovers every 2 s instead of every minute
rollback_interval = "2s"
''' % (os.path.join(home, "data"), port))
    return path


def leases(addr, token):
    r = requests.request("LIST", addr + "/v1/sys/leases/lookup/aws/creds/deploy/",
                         headers={"X-Vault-Token": token}, timeout=10)
    if r.status_code == 404:
        return []
    r.raise_for_status()
    return r.json()["data"]["keys"]


def start_durable(home, emu):
    """A RocksDB server, initialized and unsealed, with aws/ pointed at the emulator and the Quick
    Start's role `deploy` -> (server, cli with the root token, unseal key, root token, addr, config path)."""
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg = write_config(home, port)
    server = Server(["-config=" + cfg], home, addr)
    cli = Cli(addr, home)
    init = json.loads(cli.run("operator", "init", "-key-shares=1", "-key-threshold=1",
                              "-format=json", check=True).stdout)
    key, root = init["unseal_keys_b64"][0], init["root_token"]
    cli.run("operator", "unseal", key, check=True)
    cli = Cli(addr, home, token=root)
    mount_with_deploy_role(cli, emu)
    return server, cli, key, root, addr, cfg


def test_kill_9_with_100_requests_in_flight_leaves_no_iam_user(home):
    emu = start_emulator(latency_ms=200)
    server = None
    try:
        server, cli, key, root, addr, cfg = start_durable(home, emu)
        cli.run("write", "aws/config/lease", "lease=%ds" % LEASE_SECONDS, "lease_max=60s", check=True)

        # 100 requests, started 10 ms apart; each issue is three IAM calls of 200 ms.
        answered = []
        lock = threading.Lock()

        def issue():
            try:
                r = requests.get(addr + "/v1/aws/creds/deploy", headers={"X-Vault-Token": root},
                                 timeout=30)
                if r.status_code == 200:
                    with lock:
                        answered.append(r.json()["data"]["access_key"])
            except requests.exceptions.RequestException:
                pass  # the server died under it

        threads = [threading.Thread(target=issue) for _ in range(100)]
        for t in threads:
            t.start()
            time.sleep(0.01)
        assert wait_until(lambda: len(answered) >= 10, timeout=10, step=0.01)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        for t in threads:
            t.join()
        in_flight = 100 - len(answered)
        assert in_flight > 0, "every request finished before the kill; the test proved nothing"
        time.sleep(0.5)  # IAM calls the dead server had sent still land
        at_kill = {u["name"] for u in vault_users(emu)}
        assert len(at_kill) > len(answered)  # users of requests that never completed

        server.stop()
        server = Server(["-config=" + cfg], home, addr)
        cli.run("operator", "unseal", key, check=True)

        # The rollback at unseal removes every user whose request did not complete; what stays is
        # exactly one user per lease, and every key a client received is among them.
        def one_user_per_lease():
            return len(vault_users(emu)) == len(leases(addr, root))
        assert wait_until(one_user_per_lease, timeout=LEASE_SECONDS - 3, step=0.2), \
            (len(vault_users(emu)), len(leases(addr, root)))
        kept = vault_users(emu)
        kept_keys = {k["id"] for u in kept for k in u["access_keys"]}
        assert set(answered) <= kept_keys
        assert len(kept) < len(at_kill)

        # After the leases' TTL, nothing at all is left.
        assert wait_until(lambda: vault_users(emu) == [], timeout=LEASE_SECONDS + 15, step=0.5), \
            [u["name"] for u in vault_users(emu)]
        assert leases(addr, root) == []
        assert "rolled back" in server.output()
    finally:
        if server:
            server.stop()
        emu.stop()


def test_a_revocation_deferred_at_kill_9_is_applied_after_the_restart(home):
    """A creds request is at AWS (its lease registered, its last calls in flight) when the lease is
    revoked: the revocation waits for the request. The server is killed before the request ends.
    After the restart the IAM user goes at once, not at the lease's TTL (an hour)."""
    emu = start_emulator(latency_ms=2500)
    server = None
    try:
        server, cli, key, root, addr, cfg = start_durable(home, emu)
        answered = []

        def issue():
            try:
                answered.append(requests.get(addr + "/v1/aws/creds/deploy",
                                             headers={"X-Vault-Token": root}, timeout=30).status_code)
            except requests.exceptions.RequestException:
                pass  # the server died under it

        t = threading.Thread(target=issue)
        t.start()
        # The lease exists once CreateUser succeeded and the last calls left (2.5 s in); they take
        # 2.5 s more. The revocation goes over HTTP: a CLI process starts slowly in a sanitizer
        # build, and the request must still be at AWS when the server is killed.
        assert wait_until(lambda: len(leases(addr, root)) == 1, timeout=10, step=0.02)
        r = requests.put(addr + "/v1/sys/leases/revoke-prefix/aws/creds/deploy",
                         headers={"X-Vault-Token": root}, timeout=10)
        assert r.status_code in (200, 204), r.text
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        t.join()
        assert answered != [200], "the request ended before the kill; the test proved nothing"
        time.sleep(3)  # the calls the dead server had sent land
        assert len(vault_users(emu)) == 1

        server.stop()
        server = Server(["-config=" + cfg], home, addr)
        cli.run("operator", "unseal", key, check=True)
        assert wait_until(lambda: vault_users(emu) == [], timeout=20, step=0.2), \
            "the deferred revocation was lost with the process"
        assert wait_until(lambda: leases(addr, root) == [], timeout=5, step=0.2)
        assert "was to be revoked when the server stopped" in server.output()
    finally:
        if server:
            server.stop()
        emu.stop()
