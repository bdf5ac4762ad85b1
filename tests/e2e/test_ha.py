"""High availability on a three-member etcd cluster: two or three servers, one active, the others
standbys that forward their clients' requests; takeover after SIGKILL within lock_timeout + 1 s,
hand-over at once on step-down and SIGTERM; a server paused past its lock cannot write."""
import json
import os
import signal
import threading
import time

import hvac
import pytest
import requests

from conftest import Cli, Server, free_port
from etcd_fixture import EtcdCluster
from test_aws import wait_until

LOCK_TIMEOUT = 3


@pytest.fixture
def etcd():
    cluster = EtcdCluster(3)
    yield cluster
    cluster.stop()


class Node:
    def __init__(self, home, etcd, name, extra=""):
        self.home = os.path.join(home, name)
        os.makedirs(self.home, exist_ok=True)
        self.port = free_port()
        self.addr = "http://127.0.0.1:%d" % self.port
        self.cfg = os.path.join(self.home, "vault.hcl")
        with open(self.cfg, "w") as f:
            f.write('''
storage "etcd" {
  address      = "%s"
  ha_enabled   = "true"
  lock_timeout = "%ds"
}
listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
api_addr = "%s"
%s
''' % (etcd.address(), LOCK_TIMEOUT, self.port, self.addr, extra))
        self.server = None

    def start(self):
        self.server = Server(["-config=" + self.cfg], self.home, self.addr)
        return self

    def cli(self, token=None):
        return Cli(self.addr, self.home, token=token)

    def health(self):
        try:
            return requests.get(self.addr + "/v1/sys/health", timeout=2).status_code
        except requests.exceptions.RequestException:
            return None

    def leader(self):
        return requests.get(self.addr + "/v1/sys/leader", timeout=5).json()

    def stop(self, sig=None):
        if self.server:
            self.server.stop(sig)


def wait_for(pred, timeout=15.0, step=0.05):
    return wait_until(pred, timeout, step)


@pytest.fixture
def cluster(home, etcd):
    """Two servers on etcd, initialized through the first and unsealed: (a active, b standby,
    unseal key, root token)."""
    a = Node(home, etcd, "a").start()
    b = Node(home, etcd, "b").start()
    init = json.loads(a.cli().run("operator", "init", "-key-shares=1", "-key-threshold=1",
                                  "-format=json", check=True).stdout)
    key, root = init["unseal_keys_b64"][0], init["root_token"]
    a.cli().run("operator", "unseal", key, check=True)
    assert wait_for(lambda: a.health() == 200)
    b.cli().run("operator", "unseal", key, check=True)
    assert wait_for(lambda: b.health() == 429)
    yield a, b, key, root
    a.stop()
    b.stop()


def test_standby_forwards_to_the_active(cluster):
    a, b, key, root = cluster
    la, lb = a.leader(), b.leader()
    assert la["ha_enabled"] and la["is_self"] and la["leader_address"] == a.addr
    assert la["active_time"] != "0001-01-01T00:00:00Z"
    assert lb["ha_enabled"] and not lb["is_self"] and lb["leader_address"] == a.addr
    assert lb["active_time"] == "0001-01-01T00:00:00Z"
    health = requests.get(b.addr + "/v1/sys/health").json()
    assert health["standby"] is True and health["sealed"] is False
    assert requests.get(b.addr + "/v1/sys/health?standbyok=true").status_code == 200
    assert requests.get(b.addr + "/v1/sys/health?standbycode=299").status_code == 299
    assert requests.get(b.addr + "/v1/sys/seal-status").json()["sealed"] is False

    # Written through the standby, read through the active, and back; hvac unchanged.
    b.cli(root).run("kv", "put", "secret/app", "db=from-b", check=True)
    got = a.cli(root).run("kv", "get", "-field=db", "secret/app", check=True)
    assert got.stdout.strip() == "from-b"
    client_a = hvac.Client(url=a.addr, token=root)
    client_a.secrets.kv.v1.create_or_update_secret(path="app2", secret={"x": "from-a"})
    client_b = hvac.Client(url=b.addr, token=root)
    assert client_b.secrets.kv.v1.read_secret(path="app2")["data"] == {"x": "from-a"}
    # The standby's answer is the active's, errors included.
    r_a = requests.get(a.addr + "/v1/secret/missing", headers={"X-Vault-Token": root})
    r_b = requests.get(b.addr + "/v1/secret/missing", headers={"X-Vault-Token": root})
    assert (r_b.status_code, r_b.text) == (r_a.status_code, r_a.text)
    # Asked not to forward, the standby redirects to the active.
    r = requests.get(b.addr + "/v1/secret/app", allow_redirects=False,
                     headers={"X-Vault-Token": root, "X-Vault-No-Request-Forwarding": "1"})
    assert r.status_code == 307 and r.headers["Location"] == a.addr + "/v1/secret/app"
    # A standby cannot be sealed; the active can, and the standby takes over at once.
    r = requests.put(b.addr + "/v1/sys/seal", headers={"X-Vault-Token": root})
    assert r.status_code == 400 and "standby" in r.json()["errors"][0]
    a.cli(root).run("operator", "seal", check=True)
    assert wait_for(lambda: b.health() == 200, timeout=2)
    assert a.health() == 503


def test_a_key_rotated_on_the_active_reaches_the_standby(cluster):
    a, b, key, root = cluster
    r = requests.put(a.addr + "/v1/sys/rotate", headers={"X-Vault-Token": root})
    assert r.status_code == 204, r.text
    a.cli(root).run("kv", "put", "secret/after-rotation", "v=2", check=True)
    a.stop(signal.SIGTERM)
    assert wait_for(lambda: b.health() == 200, timeout=5)
    got = b.cli(root).run("kv", "get", "-field=v", "secret/after-rotation", check=True)
    assert got.stdout.strip() == "2"
    b.cli(root).run("kv", "put", "secret/on-b", "v=3", check=True)
    a.start()
    a.cli().run("operator", "unseal", key, check=True)
    assert wait_for(lambda: a.health() == 429)
    got = a.cli(root).run("kv", "get", "-field=v", "secret/on-b", check=True)
    assert got.stdout.strip() == "3"


def test_an_etcd_member_lost_writes_go_on(cluster, etcd):
    a, b, key, root = cluster
    etcd.kill(0)
    for i in range(10):
        b.cli(root).run("kv", "put", "secret/m-%d" % i, "v=%d" % i, check=True)  # via the standby
    got = a.cli(root).run("kv", "get", "-field=v", "secret/m-9", check=True)
    assert got.stdout.strip() == "9"
    assert a.health() == 200 and b.health() == 429


def test_takeover_after_sigkill(cluster):
    a, b, key, root = cluster
    a.cli(root).run("kv", "put", "secret/survives", "v=1", check=True)
    a.stop(signal.SIGKILL)
    killed = time.time()
    assert wait_for(lambda: b.health() == 200, timeout=LOCK_TIMEOUT + 5)
    took = time.time() - killed
    assert took <= LOCK_TIMEOUT + 1, took
    got = b.cli(root).run("kv", "get", "-field=v", "secret/survives", check=True)
    assert got.stdout.strip() == "1"
    assert b.leader()["is_self"]
    # The old active, restarted and unsealed, joins as a standby.
    a.start()
    a.cli().run("operator", "unseal", key, check=True)
    assert wait_for(lambda: a.health() == 429)
    assert a.leader()["leader_address"] == b.addr


def test_sigterm_and_step_down_hand_over_at_once(cluster):
    a, b, key, root = cluster
    # SIGTERM on the active gives the lock up at once.
    a.stop(signal.SIGTERM)
    start = time.time()
    assert wait_for(lambda: b.health() == 200, timeout=5)
    assert time.time() - start <= 1.5, time.time() - start
    a.start()
    a.cli().run("operator", "unseal", key, check=True)
    assert wait_for(lambda: a.health() == 429)
    # A token without sudo cannot step the active down (through the standby: forwarded).
    token = json.loads(b.cli(root).run("token", "create", "-policy=default", "-format=json",
                                       check=True).stdout)["auth"]["client_token"]
    r = requests.put(a.addr + "/v1/sys/step-down", headers={"X-Vault-Token": token})
    assert r.status_code == 403
    assert b.health() == 200
    # `vault operator step-down` does: the standby takes over at once; the old active waits
    # 10 s before it competes again, so it stays a standby.
    b.cli(root).run("operator", "step-down", check=True)
    start = time.time()
    assert wait_for(lambda: a.health() == 200, timeout=5)
    assert time.time() - start <= 1.5, time.time() - start
    assert wait_for(lambda: b.health() == 429, timeout=2)
    assert b.leader()["leader_address"] == a.addr


def test_a_paused_active_cannot_write_after_another_took_over(cluster):
    """SIGSTOP the active past lock_timeout, let the standby take over, SIGCONT: the writes the
    old active received while it was stopped are refused by etcd (fenced) or reach the new
    active; the old one steps down and nothing it wrote after losing the lock is applied."""
    a, b, key, root = cluster
    a.cli(root).run("kv", "put", "secret/fenced", "v=before", check=True)
    os.kill(a.server.proc.pid, signal.SIGSTOP)
    results = []

    def write(i):
        try:
            r = requests.put(a.addr + "/v1/secret/fenced", headers={"X-Vault-Token": root},
                             json={"v": "paused-%d" % i}, timeout=60)
            results.append((i, r.status_code, r.text))
        except requests.exceptions.RequestException as e:
            results.append((i, None, str(e)))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    try:
        assert wait_for(lambda: b.health() == 200, timeout=LOCK_TIMEOUT + 5)
        b.cli(root).run("kv", "put", "secret/fenced", "v=from-new-active", check=True)
    finally:
        os.kill(a.server.proc.pid, signal.SIGCONT)
    for t in threads:
        t.join()
    assert wait_for(lambda: a.health() == 429, timeout=LOCK_TIMEOUT + 2)
    assert b.health() == 200 and b.leader()["is_self"]
    final = b.cli(root).run("kv", "get", "-field=v", "secret/fenced", check=True).stdout.strip()
    fenced = [r for r in results if r[1] == 503]
    applied = [r for r in results if r[1] in (200, 204)]
    assert len(fenced) + len(applied) == 5, results
    # Whatever the old active answered itself was refused; a write that succeeded went through
    # the new active (forwarded after the old one stepped down), so it is the last word or was
    # overwritten in order: never the old active's write after the new one's.
    if not applied:
        assert final == "from-new-active"
    # A request already past the standby check when the node stepped down meets its torn-down
    # state (as when sealed) and is refused with "Vault is sealed": refused all the same.
    for r in fenced:
        assert ("lost the HA lock" in r[2] or "not the active node" in r[2] or
                "Vault is sealed" in r[2]), r
    assert "lost the HA lock" in a.server.output()


def test_sigkill_of_the_active_with_30_creds_requests_in_flight(cluster):
    """30 creds requests at the active (the emulator answers each IAM call in 200 ms), the active
    killed with -9: the standby takes over within lock_timeout + 1 s, rolls back the requests
    that never completed, and revokes every lease issued before the kill when it ends. No IAM
    user is left."""
    from emulator_fixture import start_emulator
    from test_aws import mount_with_deploy_role, vault_users
    from test_crash import leases
    a, b, key, root = cluster
    emu = start_emulator(latency_ms=200)
    try:
        cli = a.cli(root)
        mount_with_deploy_role(cli, emu)
        cli.run("write", "aws/config/lease", "lease=12s", "lease_max=60s", check=True)
        answered = []

        def issue():
            try:
                r = requests.get(a.addr + "/v1/aws/creds/deploy",
                                 headers={"X-Vault-Token": root}, timeout=30)
                if r.status_code == 200:
                    answered.append(r.json()["data"]["access_key"])
            except requests.exceptions.RequestException:
                pass  # the server died under it

        threads = [threading.Thread(target=issue) for _ in range(30)]
        for t in threads:
            t.start()
            time.sleep(0.02)
        assert wait_until(lambda: len(answered) >= 5, timeout=10, step=0.01)
        a.stop(signal.SIGKILL)
        killed = time.time()
        for t in threads:
            t.join()
        assert len(answered) < 30, "every request finished before the kill"
        assert wait_for(lambda: b.health() == 200, timeout=LOCK_TIMEOUT + 5)
        assert time.time() - killed <= LOCK_TIMEOUT + 1.5
        # The new active's rollback removes the users of requests that never completed.
        assert wait_until(lambda: len(vault_users(emu)) == len(leases(b.addr, root)),
                          timeout=8, step=0.2)
        kept_keys = {k["id"] for u in vault_users(emu) for k in u["access_keys"]}
        assert set(answered) <= kept_keys
        # Every lease issued before the kill is revoked on time by the new active.
        assert wait_until(lambda: vault_users(emu) == [], timeout=25, step=0.5), \
            [u["name"] for u in vault_users(emu)]
        assert leases(b.addr, root) == []
    finally:
        emu.stop()


def test_an_active_with_disable_clustering_gets_redirects_not_forwards(home, etcd):
    a = Node(home, etcd, "a", extra="disable_clustering = true").start()
    b = Node(home, etcd, "b").start()
    try:
        init = json.loads(a.cli().run("operator", "init", "-key-shares=1", "-key-threshold=1",
                                      "-format=json", check=True).stdout)
        key, root = init["unseal_keys_b64"][0], init["root_token"]
        a.cli().run("operator", "unseal", key, check=True)
        assert wait_for(lambda: a.health() == 200)
        b.cli().run("operator", "unseal", key, check=True)
        assert wait_for(lambda: b.health() == 429)
        r = requests.get(b.addr + "/v1/secret/x", headers={"X-Vault-Token": root},
                         allow_redirects=False)
        assert r.status_code == 307 and r.headers["Location"] == a.addr + "/v1/secret/x"
        # The CLI (like Vault's) follows the redirect.
        b.cli(root).run("kv", "put", "secret/x", "v=1", check=True)
        assert a.cli(root).run("kv", "get", "-field=v", "secret/x", check=True).stdout.strip() == "1"
    finally:
        a.stop()
        b.stop()
