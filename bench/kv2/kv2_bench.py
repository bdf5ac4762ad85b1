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
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import rocksdb_server, wrk  # noqa: E402

DOC = {"username": "svc-payments", "password": "N7q!vR2#pLx9@kT4wZ8$mD3^",
       "host": "db-primary.internal.example.com", "port": 5432, "database": "payments",
       "sslmode": "verify-full", "rotated_at": "2024-05-01T12:00:00Z"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vault-bin", required=True)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--versions", type=int, default=2000)
    args = ap.parse_args()
    with rocksdb_server(args.vault_bin, "vault-kv2-bench-") as (addr, token, proc, tmp):
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


if __name__ == "__main__":
    main()
