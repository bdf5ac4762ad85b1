#!/usr/bin/python3
"""Load check for the IAM/STS emulator: throughput without faults, and many concurrent slow calls.

    /usr/bin/python3 tools/iam-emulator/bench.py [--seconds 5] [--procs 2] [--threads 8] [--slow 500]

Starts its own emulator on loopback, drives it with signed keep-alive requests (the signer is
iamemu.sigv4, so client cost stays low), prints one JSON line of results and stops everything.
Bounded in time and count; loopback only.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from iamemu import sigv4  # noqa: E402

MIX = [
    ("sts", b"Action=GetCallerIdentity&Version=2011-06-15"),
    ("iam", b"Action=GetUser&Version=2010-05-08"),
    ("iam", b"Action=ListAccessKeys&Version=2010-05-08&UserName=vault-root"),
    ("iam", b"Action=ListUserPolicies&Version=2010-05-08&UserName=vault-root"),
]


def _worker(info, seconds, threads, out):
    url = urllib.parse.urlsplit(info["endpoint"])
    deadline = time.time() + seconds
    counts = {"ok": 0, "err": 0}
    lock = threading.Lock()

    def loop(n):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        ok = err = 0
        i = n
        while time.time() < deadline:
            service, body = MIX[i % len(MIX)]
            i += 1
            headers = sigv4.sign_headers("POST", "/", url.netloc, body, info["access_key"], info["secret_key"],
                                         "us-east-1", service)
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                ok += 1
            else:
                err += 1
        conn.close()
        with lock:
            counts["ok"] += ok
            counts["err"] += err

    ts = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(counts)


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc), to report server cost per call."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(info, seconds, procs, threads, server_pid):
    cpu_before = cpu_seconds(server_pid)
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=_worker, args=(info, seconds, threads, q)) for _ in range(procs)]
    started = time.time()
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    elapsed = time.time() - started
    ok = sum(r["ok"] for r in results)
    cpu = cpu_seconds(server_pid) - cpu_before
    return {"calls": ok, "errors": sum(r["err"] for r in results), "seconds": round(elapsed, 2),
            "calls_per_second": round(ok / elapsed), "server_cpu_us_per_call": round(1e6 * cpu / max(ok, 1)),
            "server_capacity_per_cpu_second": round(ok / cpu) if cpu else None}


def slow_calls(info, count, latency_ms):
    admin = info["admin"] + "/faults"
    req = urllib.request.Request(admin, data=json.dumps({"latency_ms": latency_ms}).encode(), method="POST")
    urllib.request.urlopen(req).read()
    url = urllib.parse.urlsplit(info["endpoint"])
    body = MIX[0][1]
    statuses = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def one():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        headers = sigv4.sign_headers("POST", "/", url.netloc, body, info["access_key"], info["secret_key"],
                                     "us-east-1", "sts")
        barrier.wait()
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        with lock:
            statuses.append(resp.status)

    ts = [threading.Thread(target=one) for _ in range(count)]
    for t in ts:
        t.start()
    started = time.time()
    for t in ts:
        t.join()
    elapsed = time.time() - started
    urllib.request.urlopen(urllib.request.Request(
        admin, data=json.dumps({"latency_ms": 0}).encode(), method="POST")).read()
    return {"concurrent": count, "latency_ms": latency_ms, "ok": statuses.count(200),
            "wall_seconds": round(elapsed, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--slow", type=int, default=500, help="concurrent slow calls (0: skip)")
    ap.add_argument("--slow-latency-ms", type=int, default=1000)
    args = ap.parse_args()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "iam_emulator.py"), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        result = {"throughput": throughput(info, args.seconds, args.procs, args.threads, proc.pid)}
        if args.slow:
            result["slow"] = slow_calls(info, args.slow, args.slow_latency_ms)
        print(json.dumps(result))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
