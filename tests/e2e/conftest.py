"""End-to-end fixtures: the real `vault` binary started as a user starts it.

Run with Debian's interpreter: /usr/bin/python3 -m pytest tests/e2e
"""
import os
import socket
import subprocess
import tempfile
import time

import pytest
import requests

VAULT_BIN = os.environ.get(
    "VAULT_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "vault"))
VAULT_BIN = os.path.abspath(VAULT_BIN)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=20.0, step=0.1):
    """Polls pred until it is true or timeout seconds have passed; its last answer."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def wait_listening(addr, proc, timeout=10.0, verify=True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early: rc=%s" % proc.returncode)
        try:
            requests.get(addr + "/v1/sys/seal-status", timeout=1, verify=verify)
            return
        except requests.exceptions.RequestException:
            time.sleep(0.02)
    raise RuntimeError("server did not start listening at " + addr)


class Server:
    """A running `vault server` process with its own HOME (for ~/.vault-token)."""

    def __init__(self, args, home, addr, verify=True):
        self.home = home
        self.addr = addr
        self.log = open(os.path.join(home, "server.log"), "w+")
        env = dict(os.environ, HOME=home)
        self.proc = subprocess.Popen([VAULT_BIN, "server"] + args, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        wait_listening(addr, self.proc, verify=verify)

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Cli:
    """Runs the `vault` CLI against a server with the environment a user would have."""

    def __init__(self, addr, home, token=None):
        self.env = dict(os.environ, VAULT_ADDR=addr, HOME=home)
        self.env.pop("VAULT_TOKEN", None)
        if token:
            self.env["VAULT_TOKEN"] = token
        self.cwd = home

    def run(self, *args, input=None, check=False):
        p = subprocess.run([VAULT_BIN] + list(args), capture_output=True, text=True,
                           env=self.env, cwd=self.cwd, input=input, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("vault %s failed (%d):\n%s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p


ROOT_TOKEN = "e2e-root-token"


@pytest.fixture
def home():
    with tempfile.TemporaryDirectory(prefix="vault-e2e-") as d:
        yield d


@pytest.fixture
def dev_server(home):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    s = Server(["-dev", "-dev-root-token-id=" + ROOT_TOKEN,
                "-dev-listen-address=127.0.0.1:%d" % port], home, addr)
    yield s
    s.stop()


@pytest.fixture
def cli(dev_server):
    # No VAULT_TOKEN: the CLI must find the token dev mode wrote to ~/.vault-token.
    return Cli(dev_server.addr, dev_server.home)
