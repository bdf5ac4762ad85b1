"""A flood of idle connections or slow (slowloris) clients does not keep a new client waiting;
the listener's timeouts are Vault's settings."""
import os
import resource
import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import VAULT_BIN, free_port, wait_listening


def start(home, listener_extra="", nofile=None):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg = os.path.join(home, "vault.hcl")
    with open(cfg, "w") as f:
        f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n'
                '  tls_disable = true\n%s}\ndisable_mlock = true\n' % (port, listener_extra))

    def limit():
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    proc = subprocess.Popen([VAULT_BIN, "server", "-config=" + cfg], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ, HOME=home),
                            preexec_fn=limit)
    wait_listening(addr, proc)
    return proc, port, addr


def open_idle(port, n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    return socks


def test_idle_connections_beyond_the_descriptor_limit_do_not_lock_out_a_new_client(home):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 4000:
        import pytest
        pytest.skip("the test process needs 4000 descriptors (hard limit %d)" % hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4000), hard))
    proc, port, addr = start(home, nofile=1024)
    socks = []
    try:
        socks = open_idle(port, 1500)
        time.sleep(1)  # the server accepts them and runs into its descriptor limit
        t0 = time.time()
        r = requests.get(addr + "/v1/sys/health", timeout=5)
        assert r.status_code in (200, 501)
        assert time.time() - t0 < 5
        # Still serving, and the oldest idle connections were the ones closed.
        r = requests.get(addr + "/v1/sys/seal-status", timeout=5)
        assert r.status_code == 200
        assert proc.poll() is None
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        proc.wait()


def test_slowloris_clients_are_cut_off_and_do_not_hold_the_server(home):
    proc, port, addr = start(home, '  http_read_header_timeout = "2s"\n')
    slow = []
    try:
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        t0 = time.time()
        assert requests.get(addr + "/v1/sys/health", timeout=5).status_code in (200, 501)
        assert time.time() - t0 < 5
        # Dripping a header line every half second does not extend the deadline.
        victim = slow[0]
        closed_after = None
        start_drip = time.time()
        victim.settimeout(0.5)
        while time.time() - start_drip < 8:
            try:
                victim.sendall(b"X-A: b\r\n")
                if victim.recv(1) == b"":
                    closed_after = time.time() - start_drip
                    break
            except socket.timeout:
                continue
            except OSError:
                closed_after = time.time() - start_drip
                break
        assert closed_after is not None and closed_after < 5, closed_after
        assert proc.poll() is None
    finally:
        for s in slow:
            s.close()
        proc.terminate()
        proc.wait()


def test_idle_keep_alive_connections_close_after_http_idle_timeout(home):
    proc, port, addr = start(home, '  http_idle_timeout = "1s"\n  http_read_timeout = "30s"\n')
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        assert data.startswith(b"HTTP/1.1 ")
        t0 = time.time()
        rest = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
        except socket.timeout:
            raise AssertionError("the idle connection stayed open")
        assert 0.5 < time.time() - t0 < 4
        s.close()
    finally:
        proc.terminate()
        proc.wait()


def test_listener_settings_are_checked(home):
    for extra, needle in (('  http_read_header_timeout = "soon"\n', "http_read_header_timeout"),
                          ('  x_forwarded_for_authorized_addrs = "10.0.0.0/8"\n',
                           "x_forwarded_for_authorized_addrs"),
                          ('  max_request_duration = "later"\n', "max_request_duration"),
                          ('  tls_min_version = "tls13"\n', "tls_min_version")):
        cfg = os.path.join(home, "bad.hcl")
        with open(cfg, "w") as f:
            f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n'
                    '  tls_disable = true\n%s}\n' % (free_port(), extra))
        p = subprocess.run([VAULT_BIN, "server", "-config=" + cfg], capture_output=True, text=True,
                           timeout=20, env=dict(os.environ, HOME=home))
        assert p.returncode != 0
        assert needle in p.stdout + p.stderr


def test_rate_limit_quota_answers_429_but_never_blocks_health(dev_server):
    import hvac
    from conftest import ROOT_TOKEN
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    root.write("secret/app/db", password="x")
    s = requests.Session()
    s.headers["X-Vault-Token"] = ROOT_TOKEN
    r = s.post(dev_server.addr + "/v1/sys/quotas/rate-limit/kv-app",
               json={"path": "secret/app", "rate": 10, "interval": "1s"})
    assert r.status_code == 204, r.text
    q = s.get(dev_server.addr + "/v1/sys/quotas/rate-limit/kv-app").json()["data"]
    assert q["rate"] == 10 and q["path"] == "secret/app" and q["type"] == "rate-limit"
    t0 = time.time()
    answers = [s.get(dev_server.addr + "/v1/secret/app/db") for _ in range(60)]
    elapsed = time.time() - t0
    codes = [a.status_code for a in answers]
    # A full bucket of 10, then 10 per second: never more, however slow the machine is today.
    assert 10 <= codes.count(200) <= 10 + 10 * elapsed + 1, (codes, elapsed)
    assert set(codes) == {200, 429}, codes
    limited = [a for a in answers if a.status_code == 429][0]
    assert int(limited.headers["Retry-After"]) >= 1
    assert "rate limit quota exceeded" in limited.json()["errors"][0]
    # Other paths and the exempt ones are not limited.
    for _ in range(30):
        assert requests.get(dev_server.addr + "/v1/sys/health").status_code == 200
        assert s.get(dev_server.addr + "/v1/sys/seal-status").status_code == 200
    assert s.get(dev_server.addr + "/v1/sys/mounts").status_code == 200
    time.sleep(1.1)
    assert s.get(dev_server.addr + "/v1/secret/app/db").status_code == 200
    # Refused, not ignored: what this server's quotas do not have.
    r = s.post(dev_server.addr + "/v1/sys/quotas/rate-limit/r",
               json={"path": "secret/", "rate": 5, "role": "x"})
    assert r.status_code == 400
    r = s.post(dev_server.addr + "/v1/sys/quotas/rate-limit/r2", json={"path": "secret/"})
    assert r.status_code == 400 and "missing rate" in r.json()["errors"][0]
    assert s.delete(dev_server.addr + "/v1/sys/quotas/rate-limit/kv-app").status_code == 204
    assert all(s.get(dev_server.addr + "/v1/secret/app/db").status_code == 200 for _ in range(30))


def test_a_request_over_max_request_duration_gets_503_and_leaves_nothing_behind(home):
    from emulator_fixture import start_emulator
    from test_aws import SEED_POLICY, vault_users, wait_until
    import json
    emu = start_emulator(latency_ms=1500)
    proc, port, addr = start(home, '  max_request_duration = "1s"\n')
    try:
        init = requests.put(addr + "/v1/sys/init", json={"secret_shares": 1,
                                                          "secret_threshold": 1}).json()
        requests.put(addr + "/v1/sys/unseal", json={"key": init["keys"][0]}).raise_for_status()
        s = requests.Session()
        s.headers["X-Vault-Token"] = init["root_token"]
        s.post(addr + "/v1/sys/mounts/aws", json={"type": "aws"}).raise_for_status()
        s.post(addr + "/v1/aws/config/root", json={
            "access_key": emu.access_key, "secret_key": emu.secret_key, "region": "us-east-1",
            "iam_endpoint": emu.endpoint, "sts_endpoint": emu.endpoint}).raise_for_status()
        s.post(addr + "/v1/aws/roles/deploy",
               json={"policy": json.dumps(SEED_POLICY)}).raise_for_status()
        t0 = time.time()
        r = s.get(addr + "/v1/aws/creds/deploy", timeout=30)
        assert r.status_code == 503, r.text
        assert "max_request_duration" in r.json()["errors"][0]
        assert time.time() - t0 < 3.5
        assert s.get(addr + "/v1/sys/health").status_code == 200
        # The issue finished in the background under a lease: revoking the mount's leases takes
        # the IAM user back.
        wait_until(lambda: len(vault_users(emu)) == 1, timeout=20)
        wait_until(lambda: s.put(addr + "/v1/sys/leases/revoke-prefix/aws/").status_code == 204
                   and vault_users(emu) == [], timeout=30)
    finally:
        proc.terminate()
        proc.wait()
        emu.stop()


def test_top_level_settings_are_checked_and_core_dumps_are_off(home):
    def run(extra, wrapper=()):
        cfg = os.path.join(home, "top.hcl")
        with open(cfg, "w") as f:
            f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n'
                    '  tls_disable = true\n}\n%s' % (free_port(), extra))
        return subprocess.run(list(wrapper) + [VAULT_BIN, "server", "-config=" + cfg],
                              capture_output=True, text=True, timeout=20,
                              env=dict(os.environ, HOME=home))

    def fails(extra, wrapper=()):
        p = run(extra, wrapper)
        assert p.returncode != 0
        return p.stdout + p.stderr
    assert 'the setting "plugin_directory" is not supported' in fails('plugin_directory = "/x"\n')
    assert 'telemetry: the setting "statsite_address" is not supported' in fails(
        'telemetry {\n  statsite_address = "x"\n}\n')
    # disable_mlock = true, as most Vault configs have it, starts; the process dumps no core.
    proc, port, addr = start(home, "")
    try:
        with open("/proc/%d/limits" % proc.pid) as f:
            line = [l for l in f if l.startswith("Max core file size")][0]
        assert line.split()[4:6] == ["0", "0"], line
        assert locked_kib(proc.pid) == 0
    finally:
        proc.terminate()
        proc.wait()


def locked_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([l for l in f if l.startswith("VmLck:")][0].split()[1])


def test_memory_is_locked_unless_disable_mlock(home):
    """Vault's default: every page locked (mlockall), so no secret reaches swap; without the
    privilege to lock, the server refuses to start with Vault's explanation."""
    asan = "asan" in VAULT_BIN
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg = os.path.join(home, "locked.hcl")
    with open(cfg, "w") as f:
        f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n'
                '  tls_disable = true\n}\n' % port)
    can_lock = os.geteuid() == 0 or \
        resource.getrlimit(resource.RLIMIT_MEMLOCK)[0] == resource.RLIM_INFINITY
    if not can_lock:
        pytest.skip("locking memory needs root or an unlimited RLIMIT_MEMLOCK here")
    proc = subprocess.Popen([VAULT_BIN, "server", "-config=" + cfg], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ, HOME=home))
    try:
        wait_listening(addr, proc)
        assert requests.get(addr + "/v1/sys/health", timeout=10).status_code == 501
        if not asan:  # sanitizer builds do not lock (their shadow memory is terabytes)
            assert locked_kib(proc.pid) > 1024
    finally:
        proc.terminate()
        proc.wait()
    if asan or os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("prlimit"):
        return
    # Without CAP_IPC_LOCK and with a 64 KiB memlock limit: a clear start-up error.
    out = fails_to_lock = subprocess.run(
        ["setpriv", "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock", "--",
         "prlimit", "--memlock=65536:65536", VAULT_BIN, "server", "-config=" + cfg],
        capture_output=True, text=True, timeout=20, env=dict(os.environ, HOME=home))
    assert fails_to_lock.returncode != 0, out.stdout + out.stderr
    assert "Failed to lock memory" in out.stderr, out.stderr
    assert "disable_mlock" in out.stderr
