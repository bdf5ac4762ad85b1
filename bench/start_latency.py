#!/usr/bin/python3
"""Dev-server start latency: time from spawning `vault server -dev` to the first
successful (HTTP 200) GET /v1/sys/health, polled in a tight loop with no sleep.

usage: start_latency.py VAULT_BIN TMPDIR RUNS
Prints one line per run and finally "MEDIAN_MS <value>" (or "MEDIAN_MS FAIL").
"""
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time

TIMEOUT_S = 10.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(vault, tmp, i):
    home = os.path.join(tmp, f"start{i}")
    os.makedirs(home, exist_ok=True)
    port = free_port()
    env = dict(os.environ, HOME=home)
    log = open(os.path.join(home, "server.log"), "wb")
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [vault, "server", "-dev", "-dev-root-token-id=bench-root",
         f"-dev-listen-address=127.0.0.1:{port}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        while True:
            now = time.perf_counter()
            if now - t0 > TIMEOUT_S:
                return None, "no 200 from /v1/sys/health within %.0fs" % TIMEOUT_S
            if p.poll() is not None:
                return None, f"server exited with code {p.returncode} before answering"
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                c.request("GET", "/v1/sys/health")
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    return (time.perf_counter() - t0) * 1000.0, None
            except (ConnectionError, OSError, http.client.HTTPException):
                pass
            finally:
                c.close()
    finally:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def main():
    vault, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    times = []
    for i in range(runs):
        ms, err = one_run(vault, tmp, i)
        if ms is None:
            print(f"  run {i + 1}: FAILED: {err}")
        else:
            print(f"  run {i + 1}: {ms:.1f} ms")
            times.append(ms)
    if len(times) == runs:
        print(f"MEDIAN_MS {statistics.median(times):.1f}")
    else:
        print("MEDIAN_MS FAIL")


if __name__ == "__main__":
    main()
