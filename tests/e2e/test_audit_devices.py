"""The socket and syslog audit devices against a dev server, with readers the test opens itself: a
unix stream socket and a TCP port as log collectors, a unix datagram socket in place of /dev/log."""
import json
import os
import select
import socket
import threading
import time

import pytest
import requests

from conftest import ROOT_TOKEN, free_port

H = {"X-Vault-Token": ROOT_TOKEN}


class Reader:
    """A log collector: accepts connections on a stream socket (or takes datagrams) and keeps
    every line (or datagram) that arrives, in a thread of its own."""

    def __init__(self, kind, where):
        self.kind, self.where = kind, where
        if kind == "tcp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", where))
        else:
            stype = socket.SOCK_DGRAM if kind == "unixgram" else socket.SOCK_STREAM
            self.sock = socket.socket(socket.AF_UNIX, stype)
            self.sock.bind(where)
        if kind != "unixgram":
            self.sock.listen(8)
        self.entries = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def address(self):
        return "127.0.0.1:%d" % self.where if self.kind == "tcp" else self.where

    def _run(self):
        conns, bufs = [], {}
        while not self.stopping:
            ready, _, _ = select.select([self.sock] + conns, [], [], 0.05)
            for s in ready:
                if s is self.sock and self.kind == "unixgram":
                    with self.lock:
                        self.entries.append(s.recv(1 << 20).decode())
                elif s is self.sock:
                    c, _ = s.accept()
                    conns.append(c)
                    bufs[c] = b""
                else:
                    data = s.recv(65536)
                    if not data:
                        conns.remove(s)
                        s.close()
                        continue
                    bufs[s] += data
                    *lines, bufs[s] = bufs[s].split(b"\n")
                    with self.lock:
                        self.entries.extend(line.decode() for line in lines)
        for c in conns:
            c.close()
        self.sock.close()
        if self.kind != "tcp":
            os.unlink(self.where)

    def close(self):
        self.stopping = True
        self.thread.join()

    def wait_for(self, pred, timeout=5.0):
        """The entries once one of them satisfies pred."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if any(pred(e) for e in self.entries):
                    return list(self.entries)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError("no matching entry in %r" % self.entries)


def record(entry):
    """The JSON record in an entry, after any prefix (the device's, syslog's header)."""
    return json.loads(entry[entry.index("{"):])


def records(entries, prefix=""):
    for e in entries:
        assert e.startswith(prefix), e
    return [record(e) for e in entries]


def about(path, kind, operation=None):
    def pred(entry):
        r = record(entry)
        return (r["type"] == kind and r["request"]["path"] == path
                and operation in (None, r["request"]["operation"]))
    return pred


def audit_hash(addr, device, value):
    r = requests.put(addr + "/v1/sys/audit-hash/" + device, headers=H, json={"input": value})
    assert r.status_code == 200, r.text
    return r.json()["data"]["hash"]


def test_socket_devices_over_unix_and_tcp_with_the_cli(cli, dev_server):
    addr = dev_server.addr
    unix = Reader("unix", os.path.join(dev_server.home, "audit.sock"))
    tcp = Reader("tcp", free_port())
    try:
        p = cli.run("audit", "enable", "-path=collector", "socket", "address=" + unix.address(),
                    "socket_type=unix", check=True)
        assert "Success! Enabled the socket audit device at: collector/" in p.stdout
        p = cli.run("audit", "enable", "socket", "address=" + tcp.address(), "socket_type=tcp",
                    check=True)
        assert "Success! Enabled the socket audit device at: socket/" in p.stdout
        listed = json.loads(cli.run("audit", "list", "-format=json", check=True).stdout)
        assert listed["collector/"]["type"] == "socket" and listed["socket/"]["type"] == "socket"
        assert listed["socket/"]["options"] == {"address": tcp.address(), "socket_type": "tcp"}

        cli.run("write", "secret/app/x", "password=hunter2", check=True)
        assert cli.run("read", "-field=password", "secret/app/x", check=True).stdout == "hunter2"

        for device, reader in (("collector", unix), ("socket", tcp)):
            entries = reader.wait_for(about("secret/app/x", "response", "read"))
            assert not any("hunter2" in e for e in entries), device
            recs = records(entries)
            write = [r for r in recs if r["request"]["path"] == "secret/app/x"
                     and r["request"]["operation"] == "update" and r["type"] == "request"]
            assert len(write) == 1
            assert write[0]["request"]["data"]["password"] == audit_hash(addr, device, "hunter2")
            read = [r for r in recs if r["request"]["path"] == "secret/app/x"
                    and r["request"]["operation"] == "read" and r["type"] == "response"]
            assert read[0]["response"]["data"]["password"] == audit_hash(addr, device, "hunter2")
        # Each device has its own key.
        assert audit_hash(addr, "collector", "x") != audit_hash(addr, "socket", "x")

        # Refused at enable time, with the reason: nothing listening, bad or foreign options.
        p = cli.run("audit", "enable", "-path=bad", "socket", "address=127.0.0.1:%d" % free_port())
        assert p.returncode != 0 and "failed to connect" in p.stderr, p.stderr
        for options in ({"address": tcp.address(), "format": "xml"},
                        {"address": tcp.address(), "mode": "0600"},
                        {"address": tcp.address(), "socket_type": "carrier-pigeon"},
                        {"socket_type": "tcp"}):
            r = requests.put(addr + "/v1/sys/audit/bad", headers=H,
                             json={"type": "socket", "options": options})
            assert r.status_code == 400, (options, r.text)
        assert "bad/" not in requests.get(addr + "/v1/sys/audit", headers=H).json()["data"]
    finally:
        unix.close()
        tcp.close()


def test_syslog_device_writes_to_the_log_socket(cli, dev_server):
    addr = dev_server.addr
    log = Reader("unixgram", os.path.join(dev_server.home, "log"))
    try:
        p = cli.run("audit", "enable", "syslog", "socket_path=" + log.address(),
                    "facility=local0", "tag=vault-e2e", check=True)
        assert "Success! Enabled the syslog audit device at: syslog/" in p.stdout
        cli.run("write", "secret/app/y", "password=hunter2", check=True)
        entries = log.wait_for(about("secret/app/y", "response"))
        assert not any("hunter2" in e for e in entries)
        head = "vault-e2e[%d]: " % dev_server.proc.pid
        msgs = [e for e in entries if "secret/app/y" in e]
        for m in msgs:
            assert m.startswith("<134>"), m  # local0 (16) * 8 + info (6)
            assert m[5:21].count(":") == 2 and m[20] == " ", m  # "Mmm dd hh:mm:ss "
            assert m[21:].startswith(head), m
        recs = records([m[21 + len(head):] for m in msgs])
        req = [r for r in recs if r["type"] == "request"][0]
        assert req["request"]["data"]["password"] == audit_hash(addr, "syslog", "hunter2")

        r = requests.put(addr + "/v1/sys/audit/bad", headers=H,
                         json={"type": "syslog", "options": {"socket_path": log.address(),
                                                             "facility": "local9"}})
        assert r.status_code == 400 and "facility" in r.text
        r = requests.put(addr + "/v1/sys/audit/bad", headers=H,
                         json={"type": "syslog",
                               "options": {"socket_path": os.path.join(dev_server.home, "none")}})
        assert r.status_code == 400
    finally:
        log.close()


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_socket_reader_gone_fails_closed_then_recovers(dev_server, kind):
    addr = dev_server.addr
    where = os.path.join(dev_server.home, "a.sock") if kind == "unix" else free_port()
    reader = Reader(kind, where)
    try:
        r = requests.put(addr + "/v1/sys/audit/collector", headers=H,
                         json={"type": "socket", "options": {"address": reader.address(),
                                                             "socket_type": kind,
                                                             "prefix": "vault: "}})
        assert r.status_code == 204, r.text
        assert requests.put(addr + "/v1/secret/before", headers=H, json={"v": "s1"}).status_code == 204
        entries = reader.wait_for(about("secret/before", "response"))
        assert [r["request"]["path"] for r in records(entries, "vault: ")][-1] == "secret/before"
    finally:
        reader.close()

    # The only device cannot record: requests are refused and not done.
    r = requests.put(addr + "/v1/secret/closed", headers=H, json={"v": "x"})
    assert r.status_code == 500 and r.json() == {"errors": ["internal error"]}
    assert requests.get(addr + "/v1/secret/before", headers=H).status_code == 500

    reader = Reader(kind, where)
    try:
        assert requests.put(addr + "/v1/secret/after", headers=H, json={"v": "s2"}).status_code == 204
        assert requests.get(addr + "/v1/secret/closed", headers=H).status_code == 404
        entries = reader.wait_for(about("secret/closed", "response"))
        paths = [r["request"]["path"] for r in records(entries, "vault: ")]
        assert paths[:2] == ["secret/after", "secret/after"]
        # The two refused requests are counted as audit failures (Vault's metric).
        doc = requests.get(addr + "/v1/sys/metrics", headers=H).json()
        failures = {c["Name"]: c["Count"] for c in doc["Counters"]}
        assert failures["vault.audit.log_request_failure"] == 2
        assert failures["vault.audit.log_response_failure"] == 0
    finally:
        reader.close()
