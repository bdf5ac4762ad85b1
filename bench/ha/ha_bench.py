#!/usr/bin/python3
"""HA on etcd, against references measured in the same run (bench/run.sh section 7).

  1. KV reads on etcd (a 3-member cluster) vs KV reads on RocksDB (same server binary)
  2. durable KV writes on etcd vs etcd's own put rate through the same client and API (gRPC,
     bench/ha/etcd_put_bench, 64 puts in flight as wrk keeps 64 requests), same cluster
  3. takeover: SIGKILL of the active -> first 200 from the new active (lock_timeout = 3s);
     SIGTERM of the active and sys/step-down -> first 200 from the other node

Usage: ha_bench.py --vault-bin BIN [--duration 10s] [--rounds 3]
Prints a summary between lines of '=' and exits 1 on a problem.
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PUT_LUA = os.path.join(HERE, "..", "put.lua")
ETCD = "/usr/bin/etcd"
LOCK_TIMEOUT = 3
PROBLEMS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("X-Vault-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return None, b""


def wait_for(pred, timeout, step=0.01):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, args, log, env=None):
        p = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                             env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def start_etcd(procs, tmp, members=3):
    ms = [{"name": "m%d" % i, "client": "http://127.0.0.1:%d" % free_port(),
           "peer": "http://127.0.0.1:%d" % free_port()} for i in range(members)]
    initial = ",".join("%s=%s" % (m["name"], m["peer"]) for m in ms)
    for m in ms:
        procs.start([ETCD, "--name=" + m["name"], "--data-dir=" + os.path.join(tmp, m["name"]),
                     "--listen-client-urls=" + m["client"], "--advertise-client-urls=" + m["client"],
                     "--listen-peer-urls=" + m["peer"], "--initial-advertise-peer-urls=" + m["peer"],
                     "--initial-cluster=" + initial, "--initial-cluster-state=new",
                     "--logger=zap", "--log-level=warn"], os.path.join(tmp, m["name"] + ".log"))
    put = {"key": base64.b64encode(b"ready").decode(), "value": "MQ=="}
    if not wait_for(lambda: http("POST", ms[0]["client"] + "/v3/kv/put", put)[0] == 200, 30, 0.1):
        sys.exit("etcd did not start")
    return [m["client"] for m in ms]


class Vault:
    def __init__(self, procs, tmp, name, bin_, storage):
        self.procs, self.bin, self.name = procs, bin_, name
        self.home = os.path.join(tmp, name)
        os.makedirs(self.home, exist_ok=True)
        self.port = free_port()
        self.addr = "http://127.0.0.1:%d" % self.port
        self.cfg = os.path.join(self.home, "vault.hcl")
        with open(self.cfg, "w") as f:
            f.write('%s\nlistener "tcp" {\n address = "127.0.0.1:%d"\n tls_disable = true\n}\n'
                    'api_addr = "%s"\n' % (storage, self.port, self.addr))
        self.proc = None

    def start(self):
        self.proc = self.procs.start([self.bin, "server", "-config=" + self.cfg],
                                     os.path.join(self.home, "server.log"), {"HOME": self.home})
        if not wait_for(lambda: http("GET", self.addr + "/v1/sys/seal-status")[0] == 200, 20):
            sys.exit("vault %s did not start" % self.name)
        return self

    def health(self):
        return http("GET", self.addr + "/v1/sys/health", timeout=1)[0]

    def unseal(self, key):
        http("PUT", self.addr + "/v1/sys/unseal", {"key": key})

    def init(self):
        code, out = http("PUT", self.addr + "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        d = json.loads(out)
        return d["keys"][0], d["root_token"]


def wrk(name, args, duration):
    out = subprocess.run(["wrk", "-t2", "-c64", "-d" + duration, "--latency"] + args,
                         capture_output=True, text=True, timeout=300).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    if "Non-2xx" in out or "Socket errors" in out or not rps:
        PROBLEMS.append("%s: %s" % (name, " ".join(out.split()[-12:])))
    print("  %-28s %s req/s, p99 %s" % (name, rps.group(1) if rps else "?", p99.group(1) if p99 else "?"))
    return float(rps.group(1)) if rps else 0.0, p99.group(1) if p99 else "?"


def etcd_puts(put_bench, urls, duration):
    """etcd's own puts through the server's etcd client (gRPC): the writes' reference."""
    seconds = float(duration.rstrip("s"))
    out = subprocess.run([put_bench, "--endpoints", ",".join(urls), "--seconds", str(seconds),
                          "--inflight", "64", "--value-bytes", "200"],
                         capture_output=True, text=True, timeout=300)
    m = re.search(r"([\d.]+) req/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms, (\d+) errors", out.stdout)
    if out.returncode != 0 or not m:
        PROBLEMS.append("etcd_put_bench: %s %s" % (out.stdout.strip(), out.stderr.strip()[-300:]))
        return 0.0, "?"
    print("  %-28s %s req/s, p99 %sms" % ("etcd put (gRPC)", m.group(1), m.group(3)))
    return float(m.group(1)), m.group(3) + "ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vault-bin", required=True)
    ap.add_argument("--put-bench", required=True, help="build/bench/ha/etcd_put_bench")
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vault-ha-bench-")
    procs = Procs()
    try:
        value = os.path.join(tmp, "value.json")
        with open(value, "w") as f:
            f.write('{"service":"billing","api_key":"ak_7f3c9e2b41d84a6f","region":"eu-west-1","tier":"prod","v":1}')
        urls = start_etcd(procs, tmp)
        etcd_storage = ('storage "etcd" {\n address = "%s"\n ha_enabled = "true"\n lock_timeout = "%ds"\n}'
                        % (",".join(urls), LOCK_TIMEOUT))
        rocks = Vault(procs, tmp, "rocks", a.vault_bin,
                      'storage "rocksdb" {\n path = "%s"\n}' % os.path.join(tmp, "rocks-data")).start()
        rkey, rroot = rocks.init()
        rocks.unseal(rkey)
        va = Vault(procs, tmp, "a", a.vault_bin, etcd_storage).start()
        vb = Vault(procs, tmp, "b", a.vault_bin, etcd_storage).start()
        key, root = va.init()
        va.unseal(key)
        if not wait_for(lambda: va.health() == 200, 10):
            sys.exit("node a did not become active")
        vb.unseal(key)
        if not wait_for(lambda: vb.health() == 429, 10):
            sys.exit("node b did not become a standby")
        for v, tok in ((rocks, rroot), (va, root)):
            code, _ = http("PUT", v.addr + "/v1/secret/probe", json.load(open(value)), tok)
            if code not in (200, 204):
                sys.exit("probe write failed on %s: %s" % (v.name, code))

        print("reads (GET secret/probe, wrk -t2 -c64 -d%s):" % a.duration)
        r_rocks, p_rocks = wrk("vault on rocksdb", ["-H", "X-Vault-Token: " + rroot,
                                                    rocks.addr + "/v1/secret/probe"], a.duration)
        r_etcd, p_etcd = wrk("vault on etcd (active)", ["-H", "X-Vault-Token: " + root,
                                                        va.addr + "/v1/secret/probe"], a.duration)
        print("durable writes (a distinct key per request, bench/put.lua):")
        w_etcd, pw_etcd = wrk("vault on etcd (active)", ["-H", "X-Vault-Token: " + root, "-H",
                                                         "Content-Type: application/json", "-s", PUT_LUA,
                                                         va.addr + "/v1/secret", "--", "vault", value],
                              a.duration)
        w_ref, pw_ref = etcd_puts(a.put_bench, urls, a.duration)

        print("takeover (lock_timeout = %ds): from the event to the first 200 of GET sys/health "
              "on the other node" % LOCK_TIMEOUT)
        kill_s, term_s, step_s = [], [], []
        active, standby = va, vb
        for rnd in range(a.rounds):
            # SIGKILL of the active.
            active.proc.kill()
            t0 = time.time()
            active.proc.wait()
            if not wait_for(lambda: standby.health() == 200, LOCK_TIMEOUT + 10, 0.005):
                PROBLEMS.append("round %d: no takeover after SIGKILL" % rnd)
                break
            kill_s.append(time.time() - t0)
            active.start().unseal(key)
            active, standby = standby, active
            wait_for(lambda: standby.health() == 429, 10)
            # SIGTERM of the active.
            active.proc.send_signal(signal.SIGTERM)
            t0 = time.time()
            if not wait_for(lambda: standby.health() == 200, LOCK_TIMEOUT + 10, 0.005):
                PROBLEMS.append("round %d: no takeover after SIGTERM" % rnd)
                break
            term_s.append(time.time() - t0)
            active.proc.wait()
            active.start().unseal(key)
            active, standby = standby, active
            wait_for(lambda: standby.health() == 429, 10)
            # sys/step-down (the stepped-down node waits 10 s before competing: the other wins).
            t0 = time.time()
            http("PUT", active.addr + "/v1/sys/step-down", {}, root)
            if not wait_for(lambda: standby.health() == 200, LOCK_TIMEOUT + 10, 0.005):
                PROBLEMS.append("round %d: no takeover after step-down" % rnd)
                break
            step_s.append(time.time() - t0)
            active, standby = standby, active
            wait_for(lambda: standby.health() == 429, 15)
            time.sleep(10.5)  # the stepped-down node competes again only after 10 s (Vault's delay)
            print("  round %d: SIGKILL %.2f s, SIGTERM %.2f s, step-down %.2f s"
                  % (rnd + 1, kill_s[-1], term_s[-1], step_s[-1]))

        def worst(xs):
            return "%.2f" % max(xs) if xs else "?"
        print("=" * 90)
        print("%-34s %-22s %-24s %-6s %s" % ("benchmark", "vault on etcd", "reference (same run)", "ratio", "target"))
        print("%-34s %-22s %-24s %-6.2f %s" % ("kv read req/s (p99)", "%.0f (%s)" % (r_etcd, p_etcd),
                                              "rocksdb %.0f (%s)" % (r_rocks, p_rocks),
                                              r_etcd / r_rocks if r_rocks else 0, ">= 0.50"))
        print("%-34s %-22s %-24s %-6.2f %s" % ("kv durable write req/s (p99)", "%.0f (%s)" % (w_etcd, pw_etcd),
                                              "etcd put %.0f (%s)" % (w_ref, pw_ref),
                                              w_etcd / w_ref if w_ref else 0, ">= 0.70"))
        print("%-34s %-22s %-24s %-6s %s" % ("takeover after SIGKILL, worst", worst(kill_s) + " s",
                                            "lock_timeout %d s" % LOCK_TIMEOUT, "", "<= 4 s"))
        print("%-34s %-22s %-24s %-6s %s" % ("takeover after SIGTERM, worst", worst(term_s) + " s", "", "", "<= 1 s"))
        print("%-34s %-22s %-24s %-6s %s" % ("takeover after step-down, worst", worst(step_s) + " s", "", "", "<= 1 s"))
        print("=" * 90)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    if PROBLEMS:
        print("PROBLEMS:")
        for p in PROBLEMS:
            print("  - " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
