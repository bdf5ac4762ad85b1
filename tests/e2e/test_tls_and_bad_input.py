"""TLS with a user-supplied certificate, and hostile input that must not hurt the server."""
import http.client
import json
import os
import socket
import subprocess
import time

import pytest
import requests

from conftest import ROOT_TOKEN, VAULT_BIN, Cli, Server, free_port, wait_listening

H = {"X-Vault-Token": ROOT_TOKEN}


def make_cert(home):
    cert, key = os.path.join(home, "cert.pem"), os.path.join(home, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def test_tls_listener(home):
    cert, key = make_cert(home)
    port = free_port()
    addr = "https://127.0.0.1:%d" % port
    cfg = os.path.join(home, "tls.hcl")
    with open(cfg, "w") as f:
        f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n'
                '  tls_cert_file = "%s"\n  tls_key_file = "%s"\n}\n' % (port, cert, key))
    s = Server(["-config=" + cfg], home, addr, verify=cert)
    try:
        r = requests.get(addr + "/v1/sys/seal-status", verify=cert)
        assert r.status_code == 200 and r.json()["initialized"] is False
        # Without trusting the certificate the client refuses to talk.
        try:
            requests.get(addr + "/v1/sys/seal-status", timeout=5)
            assert False, "untrusted certificate was accepted"
        except requests.exceptions.SSLError:
            pass
        cli = Cli(addr, home)
        cli.env["VAULT_CACERT"] = cert
        p = cli.run("operator", "init", "-key-shares=1", "-key-threshold=1")
        assert p.returncode == 0, p.stderr
        assert "Initial Root Token:" in p.stdout
    finally:
        s.stop()


def test_hostile_input_gets_vault_errors_and_server_keeps_serving(dev_server):
    a = dev_server.addr
    requests.put(a + "/v1/secret/keep", headers=H, json={"v": "1"}).raise_for_status()

    r = requests.put(a + "/v1/secret/x", headers=H, data="{not json")
    assert r.status_code == 400 and "errors" in r.json()
    r = requests.put(a + "/v1/secret/x", headers=H, data=b'{"v":"\xff\xfe"}')
    assert r.status_code == 400
    r = requests.put(a + "/v1/secret/x", headers=H, data="x" * (33 << 20))
    assert r.status_code == 413 and r.json()["errors"]
    r = requests.get(a + "/v1/secret/keep", headers=dict(H, **{"X-Big": "y" * (100 << 10)}))
    assert r.status_code == 431
    host, port = a[len("http://"):].split(":")
    for path in ["/v1/secret/../sys/mounts", "/v1/secret/%2e%2e/x", "/v1/secret//keep"]:
        conn = http.client.HTTPConnection(host, int(port))  # sends the path verbatim
        conn.request("GET", path, headers=H)
        r = conn.getresponse()
        assert r.status == 400, path
        assert r.getheader("Content-Type") == "application/json"
        assert json.loads(r.read())["errors"]
        conn.close()
    r = requests.get(a + "/v1/does-not-exist/x", headers=H)
    assert r.status_code == 404
    assert r.json() == {"errors": ['no handler for route "does-not-exist/x". route entry not found.']}
    r = requests.get(a + "/v2/sys/mounts", headers=H)  # neither the API (/v1/) nor the UI (/ui/)
    assert r.status_code == 404 and r.json() == {"errors": []}
    assert requests.request("BREW", a + "/v1/secret/keep", headers=H).status_code == 405
    # Garbage instead of HTTP.
    with socket.create_connection(("127.0.0.1", int(a.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"\x16\x03\x01garbage\r\n\r\n")
        data = sock.recv(4096)
        assert data.startswith(b"HTTP/1.1 400")
    # Nothing changed, and the server still answers.
    assert requests.get(a + "/v1/secret/x", headers=H).status_code == 404
    assert requests.get(a + "/v1/secret/keep", headers=H).json()["data"] == {"v": "1"}


def test_deeply_nested_json_is_refused_and_the_server_keeps_serving(dev_server):
    a = dev_server.addr
    # 100,000 levels ended the process (a recursive walk overflowed the thread's stack).
    deep = '{"a":' + "[" * 100000 + "]" * 100000 + "}"
    r = requests.put(a + "/v1/secret/deep", headers=H, data=deep)
    assert r.status_code == 400
    assert r.json() == {"errors": ["failed to parse JSON input: exceeded max depth"]}
    # Go's limit, 10,000 levels, is stored and read back whole.
    ok = '{"a":' + "[" * 9999 + "]" * 9999 + "}"
    requests.put(a + "/v1/secret/deep", headers=H, data=ok).raise_for_status()
    r = requests.get(a + "/v1/secret/deep", headers=H)
    assert r.status_code == 200
    assert '"data":' + ok in r.text  # Python's json module itself cannot decode this depth
    assert dev_server.proc.poll() is None


def test_slow_and_idle_clients_do_not_block_others(dev_server):
    port = int(dev_server.addr.rsplit(":", 1)[1])
    idle = []
    for _ in range(200):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
        idle.append(s)
    t0 = time.time()
    r = requests.get(dev_server.addr + "/v1/secret/keep", headers=H)
    assert r.status_code == 404
    assert time.time() - t0 < 1.0
    for s in idle:
        s.close()


def io_thread_slices(pid):
    """{thread name: se.slice in ns} of the server's http-io-N threads, from /proc/PID/task/TID/sched."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            if not name.startswith("http-io-"):
                continue
            with open("/proc/%d/task/%s/sched" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("se.slice"):
                        out[name] = int(line.split(":")[1])
        except OSError:
            continue
    return out


def test_http_io_time_slice_from_the_config_file(home):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg = os.path.join(home, "slice.hcl")
    with open(cfg, "w") as f:
        f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n  tls_disable = true\n}\n'
                'http_io_time_slice = "250us"\n' % port)
    s = Server(["-config=" + cfg], home, addr)
    try:
        deadline = time.time() + 5  # the threads set their slice as they start, maybe after the bind
        slices = io_thread_slices(s.proc.pid)
        while len(slices) < 2 and time.time() < deadline:
            time.sleep(0.02)
            slices = io_thread_slices(s.proc.pid)
        release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
        if not slices or release < (6, 12):  # per-thread slices came with Linux 6.12
            pytest.skip("this kernel does not show a thread's time slice (/proc/PID/task/TID/sched se.slice)")
        assert slices == {"http-io-0": 250000, "http-io-1": 250000}, slices
        # ... and the server says so once at start, as the kernel granted it.
        deadline = time.time() + 5
        while "time slice" not in s.output() and time.time() < deadline:
            time.sleep(0.02)
        assert "http: I/O threads run with a 250us time slice" in s.output(), s.output()
        assert s.output().count("time slice") == 1, s.output()
    finally:
        s.stop()
    # Out of the kernel's range: refused when the file is read, with the key's name.
    with open(cfg, "w") as f:
        f.write('storage "inmem" {}\nhttp_io_time_slice = "5us"\n')
    p = subprocess.run([VAULT_BIN, "server", "-config=" + cfg], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0
    assert "invalid http_io_time_slice" in p.stdout + p.stderr


def test_descriptor_limit_is_raised_to_the_hard_limit(home):
    """As Go's runtime does for Vault: the soft RLIMIT_NOFILE goes up to the hard one at start."""
    import resource
    port = free_port()
    addr = "http://127.0.0.1:%d" % port

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 4096))
    env = dict(os.environ, HOME=home)
    proc = subprocess.Popen([VAULT_BIN, "server", "-dev", "-dev-listen-address=127.0.0.1:%d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            preexec_fn=limit)
    try:
        wait_listening(addr, proc)
        with open("/proc/%d/limits" % proc.pid) as f:
            line = [l for l in f if l.startswith("Max open files")][0]
        assert line.split()[3:5] == ["4096", "4096"], line
    finally:
        proc.terminate()
        proc.wait()
