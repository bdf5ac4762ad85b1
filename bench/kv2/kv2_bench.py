#!/usr/bin/python3
"""KV version 2 reads and writes per second next to KV version 1's, measured in the same run
against one server on RocksDB (every write is durable).

    /usr/bin/python3 bench/kv2/kv2_bench.py --vault-bin build/vault [--duration 10s]
                                            [--versions 2000]

wrk (-t2 -c32) reads one ~200-byte secret from a version 1 mount (the reference), the same
secret from a version 2 mount, and the latest version of a version 2 key that holds --versions
versions (its read must cost the same as a key with one); then writes: a new key per request on
version 1 (the reference) and on version 2, and new versions of one version 2 key (each write
also trims the oldest version past max_versions = 10)."""
import argparse
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

DOC = {"username": "svc-payments", "password": "N7q!vR2#pLx9@kT4wZ8$mD3^",
       "host": "db-primary.internal.example.com", "port": 5432, "database": "payments",
       "sslmode": "verify-full", "rotated_at": "2024-05-01T12:00:00Z"}


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vault-bin", required=True)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--versions", type=int, default=2000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vault-kv2-bench-")
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    with open(os.path.join(tmp, "vault.hcl"), "w") as f:
        f.write('storage "rocksdb" { path = "%s/data" }\n'
                'listener "tcp" { address = "127.0.0.1:%d" tls_disable = true }\n' % (tmp, port))
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([args.vault_bin, "server", "-config=" + os.path.join(tmp, "vault.hcl")],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_up(addr, proc)
        init = requests.put(addr + "/v1/sys/init", json={"secret_shares": 1,
                                                          "secret_threshold": 1}).json()
        requests.put(addr + "/v1/sys/unseal", json={"key": init["keys"][0]}).raise_for_status()
        token = init["root_token"]
        s = requests.Session()
        s.headers.update({"X-Vault-Token": token})

        def call(method, path, body=None):
            r = s.request(method, addr + "/v1/" + path, json=body)
            if r.status_code >= 400:
                sys.exit("bench: %s %s: %s" % (method, path, r.text))
            return r.json() if r.text else None

        call("POST", "sys/mounts/kv2", {"type": "kv", "options": {"version": "2"}})
        call("PUT", "secret/bench", DOC)
        call("POST", "kv2/data/bench", {"data": DOC})
        call("POST", "kv2/metadata/deep", {"max_versions": args.versions + 10})
        started = time.time()
        for i in range(args.versions):
            call("POST", "kv2/data/deep", {"data": dict(DOC, v=i)})
        meta = call("GET", "kv2/metadata/deep")["data"]
        if meta["current_version"] != args.versions or len(meta["versions"]) != args.versions:
            sys.exit("bench: kv2/deep holds %d versions, not %d" % (len(meta["versions"]),
                                                                   args.versions))
        print("bench: wrote %d versions of kv2/deep in %.1f s" % (args.versions,
                                                                time.time() - started))

        rows = []
        rows.append(("v1 read (reference)",) + wrk(addr + "/v1/secret/bench", args.duration, token,
                                                   tmp))
        rows.append(("v2 read, 1 version",) + wrk(addr + "/v1/kv2/data/bench", args.duration,
                                                  token, tmp))
        rows.append(("v2 read, %d versions" % args.versions,) + wrk(
            addr + "/v1/kv2/data/deep", args.duration, token, tmp))
        body = json.dumps(DOC)
        rows.append(("v1 write, new keys (reference)",) + wrk(
            addr + "/v1/secret", args.duration, token, tmp, "PUT", body, distinct=True))
        rows.append(("v2 write, new keys",) + wrk(
            addr + "/v1/kv2/data", args.duration, token, tmp, "POST",
            json.dumps({"data": DOC}), distinct=True))
        rows.append(("v2 write, versions of one key",) + wrk(
            addr + "/v1/kv2/data/bench", args.duration, token, tmp, "POST",
            json.dumps({"data": DOC})))
        if proc.poll() is not None:
            sys.exit("bench: the server died during the run")
        print("=" * 78)
        print("%-34s %12s %10s %18s" % ("request (RocksDB, wrk -t2 -c32)", "req/s", "p99",
                                        "vs v1 reference"))
        for i, (name, rps, p99) in enumerate(rows):
            ref = rows[0][1] if i < 3 else rows[3][1]
            print("%-34s %12s %10s %18.3f" % (name, "{:,.0f}".format(rps), p99, rps / ref))
        print("=" * 78)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
