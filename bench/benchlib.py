"""What the Python benchmarks share: a free loopback port, and a vault server on RocksDB in a
temporary directory, initialized (one key share) and unsealed, stopped and removed afterwards.

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from benchlib import rocksdb_server
    with rocksdb_server(vault_bin) as (addr, root_token, proc, tmp): ...
    rps, p99 = wrk(addr + "/v1/secret/x", "10s", root_token, tmp)
"""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_up(addr, proc):
    for _ in range(200):
        if proc.poll() is not None:
            sys.exit("bench: the server exited at start")
        try:
            requests.get(addr + "/v1/sys/health", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    sys.exit("bench: the server did not answer")


@contextlib.contextmanager
def rocksdb_server(vault_bin, prefix="vault-bench-"):
    tmp = tempfile.mkdtemp(prefix=prefix)
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    with open(os.path.join(tmp, "vault.hcl"), "w") as f:
        f.write('storage "rocksdb" { path = "%s/data" }\n'
                'listener "tcp" { address = "127.0.0.1:%d" tls_disable = true }\n' % (tmp, port))
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([vault_bin, "server", "-config=" + os.path.join(tmp, "vault.hcl")],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_up(addr, proc)
        init = requests.put(addr + "/v1/sys/init", json={"secret_shares": 1,
                                                          "secret_threshold": 1}).json()
        requests.put(addr + "/v1/sys/unseal", json={"key": init["keys"][0]}).raise_for_status()
        yield addr, init["root_token"], proc, tmp
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def wrk(url, duration, token, tmp, method="GET", body=None, distinct=False):
    """Runs wrk; with `distinct`, each request goes to <url>/w/<thread>-<n> (a new key)."""
    script = os.path.join(tmp, "req.lua")
    with open(script, "w") as f:
        f.write("wrk.method = %s\n" % json.dumps(method))
        if body is not None:
            f.write("wrk.body = %s\n" % json.dumps(body))
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write('wrk.headers["X-Vault-Token"] = %s\n' % json.dumps(token))
        if distinct:
            f.write("local n = 0\nlocal id = 0\n"
                    "function setup(thread) id = id + 1; thread:set('tid', id) end\n"
                    "function request() n = n + 1\n"
                    "  return wrk.format(nil, wrk.path .. '/w/' .. tid .. '-' .. n) end\n")
    out = subprocess.run(["wrk", "-t2", "-c32", "-d" + duration, "--latency", "-s", script, url],
                         capture_output=True, text=True, timeout=300).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        sys.exit("bench: wrk printed no rate for %s:\n%s" % (url, out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        sys.exit("bench: %s answered %s non-2xx responses:\n%s" % (url, bad.group(1), out))
    return float(m.group(1)), re.search(r"99%\s+(\S+)", out).group(1)
