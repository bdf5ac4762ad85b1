"""What the Python benchmarks share: a free loopback port, and a vault server on RocksDB in a
temporary directory, initialized (one key share) and unsealed, stopped and removed afterwards.

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from benchlib import rocksdb_server
    with rocksdb_server(vault_bin) as (addr, root_token, proc, tmp): ...
"""
import contextlib
import os
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
