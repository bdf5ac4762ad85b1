#!/usr/bin/python3
"""AWS engine benchmarks: vault-cpp issuing and revoking IAM users against the project's IAM/STS
emulator (tools/iam-emulator), each figure printed beside a reference measured in the same run.

    VAULT_BIN=build/vault /usr/bin/python3 bench/aws/aws_bench.py [--quick]

1. Issue (emulator latency 100 ms per AWS call; role = iam_user with an inline policy, i.e.
   CreateUser + PutUserPolicy + CreateAccessKey per credential):
   a. sequential issues, one at a time: the server's own overhead per issue = the request's time
      (request left the client's socket -> answer in the client's socket) minus the time during
      which at least one of that issue's AWS calls was at the emulator (request in the emulator's
      socket -> answer left the emulator's socket). PutUserPolicy and CreateAccessKey are in
      flight together after CreateUser, so an issue is two round trips; the union of the calls'
      intervals counts their overlap once. All four boundaries are the kernel's timestamps
      (SO_TIMESTAMPNS on receipt, SO_TIMESTAMPING's transmit stamp on sending), so neither Python
      process's wake-ups or sends count as the server's. Target: p99 < 1 ms. References: the AWS
      time per issue, a KV read (no AWS call) through the same client, the same issues with the
      emulator answering after 2 ms (the server's work without idling in between), and the
      machine's cost of waking a thread whose socket receives bytes after the same idle time (the
      server's I/O thread pays it once per round trip), and the same issues again while this
      benchmark holds idle CPUs polling (PM QoS 0 us, /dev/cpu_dma_latency; root only), i.e. with
      that wake-up cost removed, in the same run.
   b. N (500) creds requests sent at once over N pre-opened keep-alive connections: time until all
      are answered. Target < 5 s; reference: the lower bound round trips per issue x latency.
   c. revoke-prefix of everything issued; the emulator must hold no user of ours afterwards.
   d. half as many sequential issues on a second server with durable storage (RocksDB, synced
      writes; initialized and unsealed as a user runs it): its server overhead, for reference.
2. Revocation at scale (emulator latency 50 ms): N iam_user leases expire together while
   aws/config/root has max_calls_per_second = B. Revocations/s and IAM calls/s actually achieved are
   read from the emulator's call log; budget used = calls/s / B (target >= 90 %). Then the same with
   the emulator throttling every Kth call: every lease must still be revoked (none irrevocable, no
   lease retry spent), at the rate shown.

Standard library only. Everything listens on 127.0.0.1, every process started here is stopped on
exit (also on Ctrl-C), temp files live in one directory that is removed. Exit status 1 when a check
fails (a request errored, a user was left behind, a lease became irrevocable, ...); missed
performance targets are reported in the table but do not fail the run.
"""
import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"
EMULATOR = os.path.join(ROOT, "tools", "iam-emulator", "iam_emulator.py")
sys.path.insert(0, os.path.join(ROOT, "tools", "iam-emulator"))
from iamemu.stamps import SentStamps  # noqa: E402  (the emulator's kernel transmit timestamps)
TOKEN = "bench-root"
ROLE = "deploy"
POLICY = {"Version": "2012-10-17",
          "Statement": [{"Sid": "Stmt1426528957000", "Effect": "Allow", "Action": ["ec2:*"],
                         "Resource": ["*"]}]}
ISSUE_ACTIONS = {"CreateUser", "PutUserPolicy", "CreateAccessKey"}
REVOKE_ACTIONS = {"ListGroupsForUser", "ListUserPolicies", "ListAttachedUserPolicies", "ListAccessKeys",
                  "ListMFADevices", "ListSigningCertificates", "ListSSHPublicKeys", "ListServiceSpecificCredentials",
                  "DeleteLoginProfile", "DeleteAccessKey", "DeactivateMFADevice", "DeleteVirtualMFADevice",
                  "DeleteSigningCertificate", "DeleteSSHPublicKey", "DeleteServiceSpecificCredential",
                  "DetachUserPolicy", "DeleteUserPolicy", "RemoveUserFromGroup", "DeleteUser"}

PROBLEMS = []
# The emulator latency of the "warm" reference run of the issue benchmark.
WARM_LATENCY_MS = 2
# Linux's SO_TIMESTAMPNS (asm-generic/socket.h), which Python's socket module does not name.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def log(msg):
    print("aws-bench: " + msg, flush=True)


def problem(msg):
    PROBLEMS.append(msg)
    log("PROBLEM: " + msg)


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """user+sys CPU seconds a process has used so far (all threads)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def run_delay_seconds(pid, name_prefix):
    """Seconds the threads of a process whose names start with name_prefix have spent runnable but
    not running (from being woken to running on a CPU): field 2 of /proc/PID/task/TID/schedstat.
    None if the process has no such thread (an older vault that does not name its threads)."""
    total, found = 0, False
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if not f.read().startswith(name_prefix):
                    continue
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[1])
            found = True
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9 if found else None


def stop_process(proc, name):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log("%s (pid %d) did not exit within 10 s of SIGTERM; killing it" % (name, proc.pid))
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------------------------------------
# the emulator


class Emulator:
    def __init__(self, workdir, latency_ms, user_quota):
        self.stderr_path = os.path.join(workdir, "emulator.log")
        with open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(
                [PY, EMULATOR, "--host", "127.0.0.1", "--port", "0", "--latency-ms", str(latency_ms),
                 "--user-quota", str(user_quota), "--call-log-size", "500000"],
                stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError("the IAM emulator did not start: %s" % open(self.stderr_path).read()[-2000:])
        self.info = json.loads(line)
        self.endpoint = self.info["endpoint"]

    def admin(self, method, route, payload=None, timeout=120):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.info["admin"] + "/" + route, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())

    def calls(self, since=0):
        return self.admin("GET", "calls?since=%d" % since)["calls"]

    def last_seq(self):
        return self.admin("GET", "state")["counts"]["calls"]

    def users(self):
        return self.admin("GET", "state")["users"]

    def set_faults(self, **settings):
        return self.admin("POST", "faults", settings)

    def stop(self):
        stop_process(self.proc, "emulator")
        if self.proc.stdout:
            self.proc.stdout.close()


# ------------------------------------------------------------------------------------------------
# the vault dev server


class Vault:
    def __init__(self, vault_bin, workdir):
        self.port = free_port()
        self.home = os.path.join(workdir, "home")
        os.makedirs(self.home, exist_ok=True)
        self.log_path = os.path.join(workdir, "vault.log")
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen(
                [vault_bin, "server", "-dev", "-dev-root-token-id=" + TOKEN,
                 "-dev-listen-address=127.0.0.1:%d" % self.port],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=dict(os.environ, HOME=self.home), start_new_session=True)
        self.conn = None
        self.wait_answering("sys/health")

    def wait_answering(self, path):
        """Until `path` answers 200 (20 s at most), or the process exits."""
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("vault exited (rc %s): %s" % (self.proc.returncode, self.log_tail()))
            try:
                status, _ = self.request("GET", path)
                if status == 200:
                    return
            except OSError:
                self.conn = None
            if time.time() > deadline:
                raise RuntimeError("vault did not answer %s within 20 s: %s" % (path, self.log_tail()))
            time.sleep(0.05)

    def log_tail(self, n=20):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, timeout=300):
        """One request on a keep-alive connection -> (status, decoded JSON or None)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = None if body is None else json.dumps(body)
        try:
            self.conn.request(method, "/v1/" + path, body=data, headers={"X-Vault-Token": TOKEN})
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        return resp.status, (json.loads(raw) if raw.strip() else None)

    def must(self, method, path, body=None):
        status, doc = self.request(method, path, body)
        if status // 100 != 2:
            raise RuntimeError("%s %s -> HTTP %d %s" % (method, path, status, json.dumps(doc)[:400]))
        return doc

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def run_delay(self):
        """Run-queue delay of vault's HTTP I/O threads (which carry the creds requests and their AWS
        calls from start to end with in-memory storage)."""
        return run_delay_seconds(self.proc.pid, "http-io-")

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        stop_process(self.proc, "vault")


class DurableVault(Vault):
    """A vault server on the embedded RocksDB store (synced writes), initialized and unsealed, with a
    root token whose id is TOKEN, as a user runs it; same methods as the dev server."""

    def __init__(self, vault_bin, workdir, storage=None):
        self.port = free_port()
        self.home = os.path.join(workdir, "home-durable")
        os.makedirs(self.home, exist_ok=True)
        self.log_path = os.path.join(workdir, "vault-durable.log")
        config = os.path.join(workdir, "durable.hcl")
        if storage is None:
            storage = 'storage "rocksdb" {\n  path = "%s"\n}\n' % os.path.join(workdir, "durable-data")
        with open(config, "w") as f:
            f.write(storage + 'listener "tcp" {\n  address = "127.0.0.1:%d"\n'
                    '  tls_disable = true\n}\napi_addr = "http://127.0.0.1:%d"\n' % (self.port, self.port))
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen([vault_bin, "server", "-config=" + config], stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=dict(os.environ, HOME=self.home), start_new_session=True)
        self.conn = None
        self.wait_answering("sys/seal-status")
        init = self.must("PUT", "sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.must("PUT", "sys/unseal", {"key": init["keys"][0]})
        self.wait_answering("sys/health")  # with HA: until this node is the active one
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("POST", "/v1/auth/token/create", body=json.dumps({"id": TOKEN, "policies": ["root"]}),
                     headers={"X-Vault-Token": init["root_token"]})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError("durable vault: creating the benchmark token -> HTTP %d" % resp.status)


# ------------------------------------------------------------------------------------------------
# one request at a time, timed by the kernel


class StampedClient:
    """A keep-alive HTTP/1.1 client that times each request by kernel timestamps: from when the
    request's last byte left this socket (SO_TIMESTAMPING's transmit stamp; just before sending,
    where the kernel gives none) to when the response's last bytes reached it (SO_TIMESTAMPNS).
    This Python process's own sending, wake-up and parsing are not counted (the emulator stamps
    its call log the same way), so what remains of an issue after the AWS time is the server's,
    plus loopback deliveries."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:
            self.tx = SentStamps(self.sock)
        except OSError:
            self.tx = None
        self.buf = b""

    def get(self, path):
        """-> (status, body bytes, t_sent, t_arrived, t_parsed), Unix seconds."""
        req = ("GET /v1/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Vault-Token: %s\r\n\r\n"
               % (path, self.port, TOKEN)).encode()
        if self.tx is None:
            t_sent = time.time()
            self.sock.sendall(req)
        else:
            self.tx.prepare()
            t_sent = time.time()
            # when the request's last byte left, by the kernel's clock (as the emulator's "sent")
            t_sent = self.tx.write(self.sock.sendall, req) or t_sent
        arrived = None
        head_len = length = status = None
        while True:
            if head_len is None:
                end = self.buf.find(b"\r\n\r\n")
                if end >= 0:
                    head_len = end + 4
                    status, length = parse_head(self.buf[:end])
            if head_len is not None and len(self.buf) >= head_len + length:
                break
            data, ancdata, _, _ = self.sock.recvmsg(1 << 16, 256)
            if not data:
                raise ConnectionError("vault closed the connection")
            arrived = None
            for level, kind, raw in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= 16:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    arrived = sec + nsec / 1e9
            self.buf += data
        body = self.buf[head_len:head_len + length]
        self.buf = self.buf[head_len + length:]
        t_parsed = time.time()
        return status, body, t_sent, arrived if arrived is not None else t_parsed, t_parsed

    def close(self):
        if self.tx is not None:
            self.tx.close()
        self.sock.close()


# ------------------------------------------------------------------------------------------------
# many requests at once: one asyncio task per keep-alive connection


def parse_head(head):
    """An HTTP/1.1 response head (bytes, without the blank line) -> (status, Content-Length or 0)."""
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return int(lines[0].split()[1]), length


async def _read_response(reader):
    status, length = parse_head((await reader.readuntil(b"\r\n\r\n"))[:-4])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _fire(port, path, n, method):
    """Opens n connections, then sends one request on each at the same moment. Returns
    [(status, body, t_sent, t_answered)] with time.time() stamps, and the time all were sent."""
    conns = []
    for _ in range(n):
        conns.append(await asyncio.open_connection("127.0.0.1", port, limit=1 << 20))
    raw = ("%s /v1/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Vault-Token: %s\r\nContent-Length: 0\r\n\r\n"
           % (method, path, port, TOKEN)).encode()
    results = [None] * n

    async def one(i, reader, writer):
        t0 = time.time()
        writer.write(raw)
        await writer.drain()
        try:
            status, body = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as err:
            status, body = 0, str(err).encode()
        results[i] = (status, body, t0, time.time())

    start = time.time()
    tasks = [asyncio.ensure_future(one(i, r, w)) for i, (r, w) in enumerate(conns)]
    await asyncio.gather(*tasks)
    for _, w in conns:
        w.close()
    return results, start


def fire(port, path, n, method="GET"):
    return asyncio.run(_fire(port, path, n, method))


async def _issue_pool(port, path, total, concurrency):
    """`total` requests over `concurrency` keep-alive connections, each sending the next as soon as
    its previous answer arrived."""
    results = []
    counter = iter(range(total))
    raw = ("GET /v1/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Vault-Token: %s\r\n\r\n" % (path, port, TOKEN)).encode()

    async def worker():
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        for _ in counter:
            t0 = time.time()
            writer.write(raw)
            await writer.drain()
            status, body = await _read_response(reader)
            results.append((status, body, t0, time.time()))
        writer.close()

    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return results


def issue_pool(port, path, total, concurrency):
    return asyncio.run(_issue_pool(port, path, total, concurrency))


async def _emulator_alone(host, port, requests_by_issue):
    """One connection per issue, opened when the clock starts (as vault's client opens them), the
    issue's calls sent one after the other. Returns (seconds until the last answer, failures)."""
    failures = []

    async def one(reqs):
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        for raw in reqs:
            writer.write(raw)
            await writer.drain()
            status, body = await _read_response(reader)
            if status != 200:
                failures.append((status, body[:200]))
        writer.close()

    start = time.time()
    await asyncio.gather(*[one(r) for r in requests_by_issue])
    return time.time() - start, failures


def emulator_alone(emu, n):
    """Reference for "n creds at once": the same AWS calls as n iam_user issues (CreateUser,
    PutUserPolicy, CreateAccessKey), signed beforehand and sent straight to the emulator by n
    concurrent connections. What the AWS stand-in itself can do on this machine, without vault.
    Returns seconds, or None when botocore (for SigV4) is missing. Leaves the emulator reset."""
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError:
        return None
    from urllib.parse import urlencode, urlsplit
    creds = Credentials(emu.info["access_key"], emu.info["secret_key"])
    netloc = urlsplit(emu.endpoint).netloc
    host, port = netloc.rsplit(":", 1)
    policy = json.dumps(POLICY)

    def signed(params):
        body = urlencode(dict(params, Version="2010-05-08"))
        req = AWSRequest(method="POST", url=emu.endpoint + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(creds, "iam", "us-east-1").add_auth(req)
        head = "".join("%s: %s\r\n" % (k, v) for k, v in req.headers.items())
        return ("POST / HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n%s"
                % (netloc, head, len(body), body)).encode()

    issues = []
    for i in range(n):
        user = "bench-reference-%d" % i
        issues.append([signed({"Action": "CreateUser", "UserName": user}),
                       signed({"Action": "PutUserPolicy", "UserName": user, "PolicyName": ROLE,
                               "PolicyDocument": policy}),
                       signed({"Action": "CreateAccessKey", "UserName": user})])
    seconds, failures = asyncio.run(_emulator_alone(host, int(port), issues))
    if failures:
        problem("emulator alone: %d of %d calls failed, e.g. %r" % (len(failures), 3 * n, failures[0]))
    emu.admin("POST", "reset", {})
    emu.admin("POST", "reset-calls", {})
    return seconds


# ------------------------------------------------------------------------------------------------
# call log analysis


def calls_by_user(calls):
    out = {}
    for c in calls:
        name = (c.get("params") or {}).get("UserName")
        if name:
            out.setdefault(name, []).append(c)
    return out


def key_owners(emu):
    """access key id -> IAM user name, from the emulator's state."""
    return {k["id"]: u["name"] for u in emu.users() for k in u["access_keys"]}


def answer_left(call):
    """When a call's answer left the emulator: the kernel's transmit timestamp of its last byte
    ("sent"), or, where the kernel gave none, when the emulator began writing it ("answered")."""
    return call.get("sent") or call["answered"]


def aws_segments(calls):
    """The times during which at least one of these calls was at the emulator (from its request's
    arrival to its answer), as sorted, disjoint (start, end) intervals. The calls of one issue
    after CreateUser are in flight together, so they overlap: one segment per round trip."""
    spans = sorted((c["received"], answer_left(c)) for c in calls if c.get("answered") is not None)
    out = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def aws_seconds(calls):
    """The emulator's wall time in these calls: the union of their intervals."""
    return sum(end - start for start, end in aws_segments(calls))


def issue_overheads(results, emu, calls):
    """For each successful creds answer: (wall s, AWS s, overhead s, number of calls, round trips)."""
    owners = key_owners(emu)
    by_user = calls_by_user(calls)
    out = []
    for status, body, t0, t1 in results:
        if status != 200:
            continue
        key = json.loads(body)["data"]["access_key"]
        user = owners.get(key)
        mine = [c for c in by_user.get(user, []) if c["action"] in ISSUE_ACTIONS]
        if user is None or len(mine) != len(ISSUE_ACTIONS) or any(c.get("answered") is None for c in mine):
            problem("issue of key %s: could not find its %d AWS calls in the call log (found %d)"
                    % (key, len(ISSUE_ACTIONS), len(mine)))
            continue
        aws = aws_seconds(mine)
        out.append((t1 - t0, aws, (t1 - t0) - aws, len(mine), len(aws_segments(mine))))
    return out


def ms(seconds):
    return seconds * 1000.0


def check_all_ok(results, what):
    bad = [(s, b[:200]) for s, b, _, _ in results if s != 200]
    if bad:
        problem("%s: %d of %d requests failed, e.g. HTTP %s %r" % (what, len(bad), len(results), bad[0][0], bad[0][1]))
    return len(results) - len(bad)


def our_users(emu):
    return [u["name"] for u in emu.users() if u["name"] != "vault-root"]


def wait_for(pred, timeout, step=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def lease_ids(vault, prefix):
    status, doc = vault.request("LIST", "sys/leases/lookup/" + prefix)
    if status == 404 or not doc:
        return []
    return (doc.get("data") or {}).get("keys") or []


# ------------------------------------------------------------------------------------------------
# benchmark 1: issue overhead and 500 at once


WAKE_SLEEPER = r"""
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, %d, 1)
out = []
while True:
    data, anc, _, _ = s.recvmsg(16, 256)
    woke = time.time()
    if not data or data == b"q":
        break
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == %d:
            sec, ns = struct.unpack("qq", raw[:16])
            out.append(woke - (sec + ns / 1e9))
print(" ".join("%%.7f" %% x for x in out))
""" % (SO_TIMESTAMPNS, SO_TIMESTAMPNS)


def idle_wake_reference(idle_ms, n):
    """What waking a thread costs on this machine after idle_ms without work: a separate process
    blocks in recvmsg() on a loopback socket; this one sleeps idle_ms and sends a byte; the
    sleeper's wake-up time minus the kernel's receive timestamp of that byte is the delay from the
    bytes' arrival to the thread running again. vault-cpp's I/O thread pays it once per AWS reply
    (it idles for the emulator's latency in between), so calls per issue x this is the part of the
    issue overhead that belongs to the machine (here: a virtual machine whose idle vCPUs halt),
    not to the server. Returns sorted delays in seconds."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    proc = subprocess.Popen([PY, "-c", WAKE_SLEEPER, str(lsock.getsockname()[1])], stdout=subprocess.PIPE,
                            text=True)
    try:
        lsock.settimeout(10)
        conn, _ = lsock.accept()
        with conn:
            for _ in range(n):
                time.sleep(idle_ms / 1000.0)
                conn.sendall(b"x")
            conn.sendall(b"q")
        out, _ = proc.communicate(timeout=30)
    finally:
        lsock.close()
        if proc.poll() is None:
            proc.kill()
    return sorted(float(x) for x in out.split())


class IdleCpusPoll:
    """Holds a PM QoS request of 0 us on the CPUs' wake-up latency (/dev/cpu_dma_latency) for the
    duration of a `with` block: idle CPUs then poll instead of entering an idle state they must be
    woken from (here: a virtual machine's halted vCPU, which its host has to reschedule). Linux drops
    the request when the file is closed, also if this process dies. Needs root; `held` says whether
    it took effect. Used for a reference only: the headline figures run with the machine as it is."""

    def __init__(self):
        self.fd = None
        self.why = ""

    def __enter__(self):
        try:
            self.fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
            os.write(self.fd, struct.pack("i", 0))
        except OSError as e:
            self.why = str(e)
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
        return self

    @property
    def held(self):
        return self.fd is not None

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        return False


def mount_aws(vault, emu):
    """The aws engine mounted at aws/, pointed at the emulator, with the iam_user role ROLE."""
    vault.must("POST", "sys/mounts/aws", {"type": "aws"})
    vault.must("POST", "aws/config/root", {"access_key": emu.info["access_key"], "secret_key": emu.info["secret_key"],
                                           "region": "us-east-1", "iam_endpoint": emu.endpoint,
                                           "sts_endpoint": emu.endpoint})
    vault.must("POST", "aws/roles/" + ROLE, {"credential_type": "iam_user", "policy_document": json.dumps(POLICY)})


def sequential_overheads(client, emu, path, n, what):
    """n creds reads one at a time through `client`; their issue_overheads rows."""
    since = emu.last_seq()
    results = []
    for _ in range(n):
        status, body, t_sent, t_arrived, _ = client.get(path)
        results.append((status, body, t_sent, t_arrived))
    check_all_ok(results, what)
    return issue_overheads(results, emu, emu.calls(since))


def bench_issue(vault, emu, args, figures):
    log("=== 1. issue: emulator latency %d ms per AWS call" % args.latency)
    emu.set_faults(latency_ms=args.latency)
    mount_aws(vault, emu)
    path = "aws/creds/" + ROLE

    # reference first, while the emulator holds nothing else
    ref = emulator_alone(emu, args.burst)
    if ref is not None:
        figures["burst_ref_s"] = ref
        log("emulator alone: the AWS calls of %d issues from %d connections at once: %.2f s" % (args.burst, args.burst, ref))

    # warm-up: the first issue builds the AWS client and opens its connection
    for _ in range(3):
        vault.must("GET", path)

    # a. one at a time
    client = StampedClient(vault.port)
    since = emu.last_seq()
    results = []
    client_wall = []
    cpu0 = vault.cpu()
    delay0 = vault.run_delay()
    for _ in range(args.sequential):
        status, body, t_sent, t_arrived, t_parsed = client.get(path)
        results.append((status, body, t_sent, t_arrived))
        client_wall.append(ms(t_parsed - t_sent))
    cpu_seq = vault.cpu() - cpu0
    delay1 = vault.run_delay()
    check_all_ok(results, "sequential issues")
    rows = issue_overheads(results, emu, emu.calls(since))
    if rows:
        over = [ms(r[2]) for r in rows]
        aws = [ms(r[1]) for r in rows]
        wall = [ms(r[0]) for r in rows]
        figures["seq_client_p50"] = percentile(client_wall, 50)
        figures["seq_client_p99"] = percentile(client_wall, 99)
        figures["seq_n"] = len(rows)
        figures["seq_over_p50"] = percentile(over, 50)
        figures["seq_over_p99"] = percentile(over, 99)
        figures["seq_over_max"] = max(over)
        figures["seq_aws_p50"] = percentile(aws, 50)
        figures["seq_wall_p50"] = percentile(wall, 50)
        figures["seq_wall_p99"] = percentile(wall, 99)
        figures["calls_per_issue"] = rows[0][3]
        figures["rounds_per_issue"] = percentile([r[4] for r in rows], 50)
        figures["seq_cpu_ms"] = ms(cpu_seq) / len(rows)
        if delay0 is not None and delay1 is not None:
            figures["seq_run_delay_ms"] = ms(max(0.0, delay1 - delay0)) / len(rows)
        log("sequential: %d issues, wall p50 %.1f ms p99 %.1f ms; AWS time p50 %.1f ms (%d calls in %d round trips "
            "x %d ms = %d ms); server overhead p50 %.2f ms p99 %.2f ms max %.2f ms; server CPU %.2f ms per issue"
            % (len(rows), figures["seq_wall_p50"], figures["seq_wall_p99"], figures["seq_aws_p50"], rows[0][3],
               figures["rounds_per_issue"], args.latency, figures["rounds_per_issue"] * args.latency,
               figures["seq_over_p50"], figures["seq_over_p99"], figures["seq_over_max"], figures["seq_cpu_ms"]))
        if "seq_run_delay_ms" in figures:
            log("sequential: vault's HTTP I/O threads were runnable but not running %.3f ms per issue (mean; "
                "/proc schedstat run delay, from being woken to running: waiting behind the emulator's or the "
                "client's Python on the CPU the scheduler woke them on, or for a halted vCPU to resume)"
                % figures["seq_run_delay_ms"])

    # the same issues with the emulator answering at once (2 ms per call): the server's own work
    # without the idle before each reply (a halted vCPU's wake-up, cold caches)
    emu.set_faults(latency_ms=WARM_LATENCY_MS)
    warm_rows = sequential_overheads(client, emu, path, args.sequential,
                                     "sequential issues at %d ms per call" % WARM_LATENCY_MS)
    emu.set_faults(latency_ms=args.latency)
    if warm_rows:
        over = [ms(r[2]) for r in warm_rows]
        figures["warm_over_p50"] = percentile(over, 50)
        figures["warm_over_p99"] = percentile(over, 99)
        log("reference: the same issues at %d ms per AWS call: server overhead p50 %.2f ms p99 %.2f ms"
            % (WARM_LATENCY_MS, figures["warm_over_p50"], figures["warm_over_p99"]))

    # the same issues at the same latency with idle CPUs polling (IdleCpusPoll): what is left when
    # the machine wakes a thread in microseconds, i.e. without the halted vCPU's exit per reply
    with IdleCpusPoll() as poll:
        if poll.held:
            polled_rows = sequential_overheads(client, emu, path, args.sequential,
                                               "sequential issues with idle CPUs polling")
            polled_wakes = idle_wake_reference(args.latency, min(args.sequential, 60))
        else:
            polled_rows, polled_wakes = [], []
            log("reference with idle CPUs polling skipped: /dev/cpu_dma_latency: %s" % poll.why)
    if polled_rows:
        over = [ms(r[2]) for r in polled_rows]
        figures["polled_over_p50"] = percentile(over, 50)
        figures["polled_over_p99"] = percentile(over, 99)
        if polled_wakes:
            figures["polled_wake_p50"] = ms(percentile(polled_wakes, 50))
            figures["polled_wake_p99"] = ms(percentile(polled_wakes, 99))
        log("reference: the same issues at %d ms per AWS call with idle CPUs polling (PM QoS 0 us held by this "
            "benchmark, not by vault): server overhead p50 %.2f ms p99 %.2f ms; one wake-up then %.3f / %.3f ms"
            % (args.latency, figures["polled_over_p50"], figures["polled_over_p99"],
               figures.get("polled_wake_p50", float("nan")), figures.get("polled_wake_p99", float("nan"))))

    # the floor of this measurement: a request that does no AWS call, through the same client
    vault.must("POST", "secret/aws-bench", {"k": "v"})
    floor = []
    for _ in range(args.sequential):
        status, body, t_sent, t_arrived, _ = client.get("secret/aws-bench")
        if status != 200:
            problem("KV read for the floor -> HTTP %d %r" % (status, body[:200]))
            break
        floor.append(ms(t_arrived - t_sent))
    client.close()
    if floor:
        figures["kv_p50"] = percentile(floor, 50)
        figures["kv_p99"] = percentile(floor, 99)
        log("floor: a KV read through the same client takes p50 %.2f ms p99 %.2f ms"
            % (figures["kv_p50"], figures["kv_p99"]))

    # the machine's share: waking a thread after the AWS latency's idle, once per AWS reply
    wakes = idle_wake_reference(args.latency, min(args.sequential, 60))
    if wakes:
        figures["wake_p50"] = ms(percentile(wakes, 50))
        figures["wake_p99"] = ms(percentile(wakes, 99))
        rounds = figures.get("rounds_per_issue", 2)
        log("reference: a thread woken by bytes after %d ms idle runs %.3f ms (p50) / %.3f ms (p99) after they "
            "arrived; x %d round trips per issue = %.2f ms (p50) of the overhead is the machine's"
            % (args.latency, figures["wake_p50"], figures["wake_p99"], rounds, figures["wake_p50"] * rounds))

    # b. N at once
    since = emu.last_seq()
    cpu0 = vault.cpu()
    results, start = fire(vault.port, path, args.burst)
    cpu_burst = vault.cpu() - cpu0
    ok = check_all_ok(results, "%d creds requests at once" % args.burst)
    done = [r[3] for r in results if r[0] == 200]
    total = (max(r[3] for r in results) - start) if results else 0
    calls = emu.calls(since)
    rows = issue_overheads(results, emu, calls)
    figures["burst_n"] = args.burst
    figures["burst_ok"] = ok
    figures["burst_s"] = total
    if done:
        figures["burst_p50_s"] = percentile([t - start for t in done], 50)
    if calls:
        # how many AWS calls were open at the same time at the emulator, at most
        events = sorted([(c["received"], 1) for c in calls if c.get("answered")] +
                        [(answer_left(c), -1) for c in calls if c.get("answered")])
        cur = peak = 0
        for _, d in events:
            cur += d
            peak = max(peak, cur)
        figures["burst_peak_aws"] = peak
        figures["burst_first_call_s"] = min(c["received"] for c in calls) - start
    if rows:
        over = [ms(r[2]) for r in rows]
        figures["burst_over_p50"] = percentile(over, 50)
        figures["burst_over_p99"] = percentile(over, 99)
    log("%d at once: %d answered 200 in %.2f s (median answer at %.2f s); lower bound %d round trips x %d ms = %.2f s; "
        "at most %s AWS calls open at once; time not in AWS calls per issue p50 %.1f ms p99 %.1f ms; server CPU %.2f ms per issue"
        % (args.burst, ok, total, figures.get("burst_p50_s", 0), figures.get("rounds_per_issue", 2), args.latency,
           figures.get("rounds_per_issue", 2) * args.latency / 1000.0, figures.get("burst_peak_aws", "?"),
           figures.get("burst_over_p50", 0), figures.get("burst_over_p99", 0), ms(cpu_burst) / max(1, ok)))

    # c. revoke everything
    n_leases = len(lease_ids(vault, path + "/"))
    t0 = time.time()
    status, doc = vault.request("PUT", "sys/leases/revoke-prefix/" + path)
    t_revoke = time.time() - t0
    if status // 100 != 2:
        problem("revoke-prefix %s -> HTTP %d %s" % (path, status, json.dumps(doc)[:300]))
    left = our_users(emu)
    figures["revoke_n"] = n_leases
    figures["revoke_s"] = t_revoke
    figures["revoke_left"] = len(left)
    log("revoke-prefix of %d leases: %.2f s (HTTP %d); IAM users left: %d" % (n_leases, t_revoke, status, len(left)))
    if left:
        problem("%d IAM users left after revoke-prefix, e.g. %s" % (len(left), left[:3]))
    remaining = lease_ids(vault, path + "/")
    if remaining:
        problem("%d leases left after revoke-prefix" % len(remaining))


def bench_issue_durable(emu, args, figures, workdir, storage=None, label="RocksDB", key="durable"):
    """d. The sequential issues of (a) on a server with durable storage (RocksDB, synced writes; or
    `storage`, e.g. etcd), as users run it: what its storage writes add to an issue."""
    n = max(1, args.sequential // 2)
    log("=== 1d. issue with durable storage (%s): %d issues one at a time, %d ms per AWS call"
        % (label, n, args.latency))
    emu.set_faults(latency_ms=args.latency)
    vault = DurableVault(args.vault_bin, workdir, storage)
    try:
        mount_aws(vault, emu)
        path = "aws/creds/" + ROLE
        for _ in range(3):
            vault.must("GET", path)
        client = StampedClient(vault.port)
        rows = sequential_overheads(client, emu, path, n, "sequential issues with durable storage")
        client.close()
        if rows:
            over = [ms(r[2]) for r in rows]
            figures[key + "_over_p50"] = percentile(over, 50)
            figures[key + "_over_p99"] = percentile(over, 99)
            log("durable storage (%s): server overhead p50 %.2f ms p99 %.2f ms (two durable writes per "
                "issue: the write-ahead entry before CreateUser, the lease while the last calls are at AWS)"
                % (label, figures[key + "_over_p50"], figures[key + "_over_p99"]))
        status, doc = vault.request("PUT", "sys/leases/revoke-prefix/" + path)
        if status // 100 != 2:
            problem("durable: revoke-prefix %s -> HTTP %d %s" % (path, status, json.dumps(doc)[:300]))
        left = our_users(emu)
        if left:
            problem("durable: %d IAM users left after revoke-prefix, e.g. %s" % (len(left), left[:3]))
    finally:
        vault.stop()


# ------------------------------------------------------------------------------------------------
# benchmark 2: revocation rate under an IAM call budget


def revoke_run(vault, emu, args, n, budget, faults, label):
    path = "aws/creds/" + ROLE
    emu.set_faults(reset=True)
    emu.set_faults(latency_ms=args.revoke_latency)
    # Unlimited while issuing; leases long enough that all are issued before the first expires.
    vault.must("POST", "aws/config/root", {"max_calls_per_second": 0})
    vault.must("POST", "aws/config/lease", {"lease": "%ds" % args.lease, "lease_max": "1h"})
    t_issue = time.time()
    results = issue_pool(vault.port, path, n, args.issue_concurrency)
    t_issued = time.time()
    ok = check_all_ok(results, "%s: issuing %d" % (label, n))
    first_expiry = min(r[2] for r in results) + args.lease
    log("%s: issued %d/%d in %.1f s; leases of %d s expire from %.1f s from now" %
        (label, ok, n, t_issued - t_issue, args.lease, first_expiry - time.time()))
    if time.time() > first_expiry - 1:
        problem("%s: issuing took longer than the lease (%d s); raise --lease" % (label, args.lease))
    # The budget (and the throttling fault) apply to revocation only.
    vault.must("POST", "aws/config/root", {"max_calls_per_second": budget})
    cfg = vault.must("GET", "aws/config/root")["data"]
    if float(cfg.get("max_calls_per_second", -1)) != float(budget):
        problem("config/root reads back max_calls_per_second=%r, not %r" % (cfg.get("max_calls_per_second"), budget))
    since = emu.last_seq()
    log_start = len(vault.log_text())
    if faults:
        emu.set_faults(**faults)
    cpu0 = vault.cpu()
    # Wait until every lease is gone (or give up).
    expected = n * 7.0 / budget if budget else n * 0.01
    limit = first_expiry - time.time() + expected * 2 + 30
    # poll vault's lease list (cheap); the emulator's state (every user) only once at the end
    gone = wait_for(lambda: not lease_ids(vault, path + "/"), limit, step=1.0) and not our_users(emu)
    cpu_used = vault.cpu() - cpu0
    emu.set_faults(throttle_every=0, rate_limit=0)
    calls = [c for c in emu.calls(since) if c["action"] in REVOKE_ACTIONS]
    left_users = our_users(emu)
    left_leases = lease_ids(vault, path + "/")
    irrevocable = []
    for lid in left_leases[:50]:
        st, doc = vault.request("PUT", "sys/leases/lookup", {"lease_id": path + "/" + lid})
        if st == 200 and (doc.get("data") or {}).get("irrevocable"):
            irrevocable.append(lid)
    fig = {"n": n, "issued": ok, "budget": budget, "faults": faults or {},
           "left_users": len(left_users), "left_leases": len(left_leases), "irrevocable": len(irrevocable),
           "complete": gone}
    if not gone:
        problem("%s: not all revoked within %.0f s: %d IAM users and %d leases left (%d irrevocable)"
                % (label, limit, len(left_users), len(left_leases), len(irrevocable)))
    if irrevocable:
        problem("%s: %d leases became irrevocable" % (label, len(irrevocable)))
    if left_leases:  # clean up (faults are off again) so that the next run starts from nothing
        vault.request("PUT", "sys/leases/revoke-prefix/" + path)
        if lease_ids(vault, path + "/"):
            vault.request("PUT", "sys/leases/revoke-force/" + path)
    if not calls:
        problem("%s: no revocation calls in the emulator's call log" % label)
        return fig
    deletes = [c for c in calls if c["action"] == "DeleteUser" and c["status"] == 200]
    throttled = [c for c in calls if c["error"] == "Throttling"]
    t_first = min(c["received"] for c in calls)
    t_last = max((answer_left(c) if c["answered"] else c["received"]) for c in calls)
    window = max(t_last - t_first, 1e-6)
    # steady state: the middle 80 % of the calls, from the 10th to the 90th percentile of their
    # arrival times. This leaves out the bucket's initial burst and the drain at the end, when fewer
    # revocations are left than run concurrently, and also a straggler: a lease whose revocation
    # failed (AWS kept throttling one call beyond max_retries) and is retried by the expiration
    # manager seconds later would otherwise stretch a time-based window with idle seconds.
    arrivals = sorted(c["received"] for c in calls)
    lo, hi = arrivals[len(arrivals) // 10], arrivals[(len(arrivals) * 9) // 10]
    hi = max(hi, lo + 1e-6)
    mid = [c for c in calls if lo <= c["received"] < hi]
    mid_deletes = [c for c in deletes if lo <= c["received"] < hi]
    mid_ok = [c for c in mid if c["status"] == 200 or c["error"] == "NoSuchEntity"]
    fig.update(window_s=window, calls=len(calls), deletes=len(deletes), throttled=len(throttled),
               calls_per_s=len(calls) / window, revokes_per_s=len(deletes) / window,
               mid_calls_per_s=len(mid) / (hi - lo), mid_ok_calls_per_s=len(mid_ok) / (hi - lo),
               mid_revokes_per_s=len(mid_deletes) / (hi - lo),
               calls_per_revoke=len(calls) / max(1, len(deletes)), cpu_ms=ms(cpu_used) / max(1, len(deletes)))
    if budget:
        fig["used"] = fig["calls_per_s"] / budget
        fig["mid_used"] = fig["mid_calls_per_s"] / budget
    # "expiration: revoking lease X failed (attempt N, retry in M ms): ..." -- N counts towards the
    # lease's 6 attempts; throttled failures leave it unchanged
    retries = spent = 0
    for m in re.finditer(r"revoking lease \S+ failed \(attempt (\d+),", vault.log_text()[log_start:]):
        retries += 1
        spent = max(spent, int(m.group(1)))
    fig["lease_retries"] = retries
    fig["lease_attempts_spent"] = spent
    log("%s: %d revoked (DeleteUser) in %.1f s: %.1f revocations/s, %.1f IAM calls/s (%.1f calls each; %d throttled); "
        "steady state (middle 80%% of the calls) %.1f calls/s = %.0f%% of the %s calls/s budget; server CPU %.2f ms per revocation; "
        "lease revocations retried: %d (most attempts spent by one lease: %d)"
        % (label, len(deletes), window, fig["revokes_per_s"], fig["calls_per_s"], fig["calls_per_revoke"],
           len(throttled), fig["mid_calls_per_s"], 100 * fig.get("mid_used", 0), budget, fig["cpu_ms"], retries,
           spent))
    if spent:
        problem("%s: a lease spent %d of its revocation attempts" % (label, spent))
    if len(deletes) < ok:
        problem("%s: %d DeleteUser calls succeeded for %d issued users" % (label, len(deletes), ok))
    return fig


def bench_revoke(vault, emu, args, figures):
    log("=== 2. revocation at scale: emulator latency %d ms, IAM call budget %s calls/s"
        % (args.revoke_latency, args.budget))
    figures["rev"] = revoke_run(vault, emu, args, args.revoke, args.budget, None, "budget run")
    if args.throttle_every:
        log("=== 2b. the same with the emulator throttling every %dth call" % args.throttle_every)
        figures["thr"] = revoke_run(vault, emu, args, args.revoke_throttled, args.budget,
                                    {"throttle_every": args.throttle_every}, "throttled run")
    if args.aws_rate_limit:
        log("=== 2c. the same with the emulator throttling beyond %s calls/s (below the budget)" % args.aws_rate_limit)
        figures["rl"] = revoke_run(vault, emu, args, args.revoke_throttled, args.budget,
                                   {"rate_limit": args.aws_rate_limit}, "AWS rate-limited run")


# ------------------------------------------------------------------------------------------------
# report


def report(figures, args):
    def met(ok):
        return "yes" if ok else "NO"

    lines = []
    fmt = "%-38s %-44s %-36s %-10s %s"
    lines.append(fmt % ("benchmark", "vault-cpp", "reference (same run)", "target", "met"))
    if "seq_over_p99" in figures:
        cpi = figures["calls_per_issue"]
        rounds = figures["rounds_per_issue"]
        lines.append(fmt % ("issue: server overhead p50 / p99",
                            "%.2f / %.2f ms" % (figures["seq_over_p50"], figures["seq_over_p99"]),
                            "AWS time %.1f ms (%d calls, %d round trips)" % (figures["seq_aws_p50"], cpi, rounds),
                            "p99 < 1 ms", met(figures["seq_over_p99"] < 1.0)))
        if "kv_p50" in figures:
            lines.append(fmt % ("", "", "KV read, same client: %.2f / %.2f ms" % (figures["kv_p50"], figures["kv_p99"]),
                                "", ""))
        if "warm_over_p50" in figures:
            lines.append(fmt % ("", "", "same issues, %d ms per call: %.2f / %.2f ms" % (
                WARM_LATENCY_MS, figures["warm_over_p50"], figures["warm_over_p99"]), "", ""))
        if "wake_p50" in figures:
            lines.append(fmt % ("", "", "%d wake-ups after %d ms idle: %.2f ms" % (rounds, args.latency, rounds * figures["wake_p50"]),
                                "", ""))
            lines.append(fmt % ("", "", "(one wake-up: %.3f / %.3f ms)" % (figures["wake_p50"], figures["wake_p99"]), "", ""))
        if "polled_over_p50" in figures:
            lines.append(fmt % ("", "", "same issues, idle CPUs polling: %.2f / %.2f ms" % (
                figures["polled_over_p50"], figures["polled_over_p99"]), "", ""))
            if "polled_wake_p50" in figures:
                lines.append(fmt % ("", "", "(one wake-up then: %.3f / %.3f ms)" % (
                    figures["polled_wake_p50"], figures["polled_wake_p99"]), "", ""))
        if "durable_over_p50" in figures:
            lines.append(fmt % ("issue, durable storage (RocksDB)",
                                "%.2f / %.2f ms" % (figures["durable_over_p50"], figures["durable_over_p99"]),
                                "(server overhead p50 / p99)", "", ""))
        lines.append(fmt % ("issue: wall time p50 / p99",
                            "%.1f / %.1f ms" % (figures["seq_wall_p50"], figures["seq_wall_p99"]),
                            "with the client's wake-up: %.1f / %.1f ms" % (figures["seq_client_p50"],
                                                                          figures["seq_client_p99"]), "", ""))
        lines.append(fmt % ("issue: server CPU per issue", "%.2f ms" % figures["seq_cpu_ms"], "", "", ""))
        if "seq_run_delay_ms" in figures:
            lines.append(fmt % ("  of which woken, waiting for a CPU", "%.3f ms (mean)" % figures["seq_run_delay_ms"],
                                "", "", ""))
    if "etcd_over_p50" in figures:
        lines.append(fmt % ("issue, storage on 3 etcd members",
                            "%.2f / %.2f ms" % (figures["etcd_over_p50"], figures["etcd_over_p99"]),
                            "(server overhead p50 / p99)", "", ""))
    if "burst_s" in figures:
        cpi = figures.get("rounds_per_issue", 2)
        lines.append(fmt % ("%d creds requested at once" % figures["burst_n"],
                            "%.2f s (%d/%d ok)" % (figures["burst_s"], figures["burst_ok"], figures["burst_n"]),
                            "lower bound %.2f s (%d round trips x %d ms)" % (cpi * args.latency / 1000.0, cpi, args.latency),
                            "< 5 s", met(figures["burst_s"] < 5 and figures["burst_ok"] == figures["burst_n"])))
        if "burst_ref_s" in figures:
            lines.append(fmt % ("", "", "emulator alone, same calls: %.2f s" % figures["burst_ref_s"], "", ""))
        if "burst_over_p99" in figures:
            lines.append(fmt % ("  time not in AWS calls, per issue",
                                "p50 %.1f / p99 %.1f ms" % (figures["burst_over_p50"], figures["burst_over_p99"]),
                                "", "", ""))
    if "revoke_s" in figures:
        lines.append(fmt % ("revoke-prefix of those leases", "%.2f s for %d" % (figures["revoke_s"], figures["revoke_n"]),
                            "", "0 users left", met(figures["revoke_left"] == 0)))
    for key in ("rev", "thr", "rl"):
        f = figures.get(key)
        if not f or "calls_per_s" not in f:
            continue
        faults = f["faults"]
        if key == "rev":
            label = "revocation, budget %s IAM calls/s" % f["budget"]
        elif "throttle_every" in faults:
            label = "  + AWS throttles every %dth call" % faults["throttle_every"]
        else:
            label = "  + AWS throttles beyond %s calls/s" % faults["rate_limit"]
        lines.append(fmt % (label, "%.1f revocations/s" % f["revokes_per_s"],
                            "%d leases expiring, %d ms latency" % (f["n"], args.revoke_latency), "", ""))
        if key == "rl":
            limit = faults["rate_limit"]
            lines.append(fmt % ("  accepted IAM calls/s (of AWS's limit)",
                                "steady %.1f (%.0f%%)" % (f["mid_ok_calls_per_s"], 100 * f["mid_ok_calls_per_s"] / limit),
                                "AWS limit %s calls/s" % limit, "", ""))
        else:
            lines.append(fmt % ("  IAM calls/s sent (budget used)",
                                "%.1f (%.0f%%), steady %.1f (%.0f%%)" % (f["calls_per_s"], 100 * f.get("used", 0),
                                                                       f["mid_calls_per_s"], 100 * f.get("mid_used", 0)),
                                "budget %s calls/s" % f["budget"], ">= 90%",
                                met(f.get("mid_used", 0) >= 0.9)))
        lines.append(fmt % ("  all revoked, none irrevocable",
                            "%s; %d throttled calls, %d retried (%d counted)" % (
                                "yes" if f["complete"] and f["irrevocable"] == 0 else "NO", f["throttled"],
                                f["lease_retries"], f["lease_attempts_spent"]),
                            "0 counted", "", met(f["complete"] and f["irrevocable"] == 0
                                                 and f["lease_attempts_spent"] == 0)))
    width = max(len(line) for line in lines)
    print("=" * width)
    for line in lines:
        print(line)
    print("=" * width)
    print("%d CPUs shared by vault, the emulator and this client; load average now %s"
          % (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller counts (about 30 s in all)")
    ap.add_argument("--vault-bin", default=os.environ.get("VAULT_BIN", os.path.join(ROOT, "build", "vault")))
    ap.add_argument("--latency", type=int, default=100, help="emulator latency for benchmark 1 (ms)")
    ap.add_argument("--sequential", type=int, help="issues one at a time (default 400; quick 40)")
    ap.add_argument("--burst", type=int, default=500, help="creds requests sent at once (default 500)")
    ap.add_argument("--revoke-latency", type=int, default=50, help="emulator latency for benchmark 2 (ms)")
    ap.add_argument("--budget", type=float, help="max_calls_per_second for benchmark 2 (default 200; quick 100)")
    ap.add_argument("--revoke", type=int, help="leases expiring together (default 1000; quick 200)")
    ap.add_argument("--revoke-throttled", type=int, help="leases in the throttled runs (default 400; quick 100)")
    ap.add_argument("--throttle-every", type=int, default=10, help="emulator throttles every Nth call (0: skip)")
    ap.add_argument("--aws-rate-limit", type=float,
                    help="emulator throttles beyond this many calls/s in run 2c (default 0.6 x budget; 0: skip)")
    ap.add_argument("--lease", type=int, help="lease of the credentials in benchmark 2, s (default 15; quick 8)")
    ap.add_argument("--issue-concurrency", type=int, default=64, help="parallel creds requests when issuing")
    ap.add_argument("--only", choices=["issue", "revoke", "issue-etcd"],
                    help="run one benchmark (issue-etcd: 1d on a server whose storage is 3 etcd members)")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory (logs)")
    args = ap.parse_args()
    q = args.quick
    args.sequential = args.sequential or (40 if q else 400)
    args.budget = args.budget if args.budget is not None else (100.0 if q else 200.0)
    args.revoke = args.revoke or (200 if q else 1000)
    args.revoke_throttled = args.revoke_throttled or (100 if q else 400)
    args.lease = args.lease or (8 if q else 15)
    if args.aws_rate_limit is None:
        args.aws_rate_limit = round(0.6 * args.budget)
    if args.budget == int(args.budget):
        args.budget = int(args.budget)
    if not os.access(args.vault_bin, os.X_OK):
        sys.exit("aws-bench: vault binary not found: %s (build it: make build)" % args.vault_bin)

    workdir = tempfile.mkdtemp(prefix="vault-aws-bench-")
    emu = vault = None
    figures = {}

    def interrupted(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, interrupted)
    t_start = time.time()
    try:
        log("vault: %s; emulator: %s; temp dir %s" % (args.vault_bin, EMULATOR, workdir))
        log("machine: %d CPUs, load average %s" % (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
        emu = Emulator(workdir, args.latency, user_quota=max(5000, args.revoke + args.burst + 100))
        vault = Vault(args.vault_bin, workdir)
        log("emulator at %s (pid %d), vault dev server at 127.0.0.1:%d (pid %d)"
            % (emu.endpoint, emu.proc.pid, vault.port, vault.proc.pid))
        if args.only in (None, "issue"):
            bench_issue(vault, emu, args, figures)
            bench_issue_durable(emu, args, figures, workdir)
        if args.only == "issue-etcd":
            sys.path.insert(0, os.path.join(ROOT, "bench", "ha"))
            import ha_bench  # its etcd cluster start-up
            etcd_procs = ha_bench.Procs()
            try:
                urls = ha_bench.start_etcd(etcd_procs, workdir)
                storage = ('storage "etcd" {\n  address = "%s"\n  ha_enabled = "true"\n}\n'
                           % ",".join(urls))
                bench_issue_durable(emu, args, figures, workdir, storage, "etcd, 3 members", "etcd")
            finally:
                etcd_procs.stop_all()
        if args.only in (None, "revoke"):
            if args.only == "revoke":
                mount_aws(vault, emu)
            bench_revoke(vault, emu, args, figures)
        if vault.proc.poll() is not None:
            problem("the vault server exited during the benchmark (rc %s)" % vault.proc.returncode)
    except KeyboardInterrupt:
        log("interrupted")
        PROBLEMS.append("interrupted")
    except Exception as err:  # report, clean up, fail
        problem("%s: %s" % (type(err).__name__, err))
        if vault is not None:
            print(vault.log_tail(), file=sys.stderr)
    finally:
        if vault is not None:
            vault.stop()
        if emu is not None:
            emu.stop()
        if args.keep:
            log("logs kept in " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    report(figures, args)
    print("took %.0f s" % (time.time() - t_start))
    if PROBLEMS:
        print("PROBLEMS:")
        for p in PROBLEMS:
            print("  - " + p)
        return 1
    print("no errors: every request answered 200, every IAM user removed, no lease irrevocable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
