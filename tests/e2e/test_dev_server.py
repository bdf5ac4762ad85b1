import os
import signal
import subprocess
import time

import requests

from conftest import ROOT_TOKEN, VAULT_BIN, Server, free_port


def test_dev_banner_token_file_and_fast_start(home):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    t0 = time.time()
    s = Server(["-dev", "-dev-listen-address=127.0.0.1:%d" % port], home, addr)
    started = time.time() - t0
    try:
        # The listener answers as soon as it is bound; the banner (which needs the bound port)
        # follows it by a moment.
        deadline = time.time() + 5
        while "Vault server started!" not in s.output() and time.time() < deadline:
            time.sleep(0.02)
        out = s.output()
        assert "export VAULT_ADDR='%s'" % addr in out
        assert "Unseal Key: " in out
        root = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("Root Token: ")][0]
        assert root.startswith("hvs.")
        with open(os.path.join(home, ".vault-token")) as f:
            assert f.read().strip() == root
        assert oct(os.stat(os.path.join(home, ".vault-token")).st_mode & 0o777) == "0o600"
        h = requests.get(addr + "/v1/sys/health").json()
        assert h["initialized"] is True and h["sealed"] is False
        r = requests.get(addr + "/v1/sys/mounts", headers={"X-Vault-Token": root})
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["data"]["secret/"]["type"] == "kv"
        # Startup to first answer (includes process spawn and the Python poll loop).
        assert started < 2.0
    finally:
        assert s.stop() == 0


def test_dev_root_token_id_and_sigint(home):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    s = Server(["-dev", "-dev-root-token-id=" + ROOT_TOKEN,
                "-dev-listen-address=127.0.0.1:%d" % port], home, addr)
    r = requests.get(addr + "/v1/auth/token/lookup-self", headers={"X-Vault-Token": ROOT_TOKEN})
    assert r.status_code == 200
    assert r.json()["data"]["policies"] == ["root"]
    assert s.stop(signal.SIGINT) == 0
    assert "shutdown" in s.output().lower()


def test_server_without_config_is_a_usage_error(home):
    p = subprocess.run([VAULT_BIN, "server"], capture_output=True, text=True)
    assert p.returncode != 0
    assert "configuration" in p.stderr
    p = subprocess.run([VAULT_BIN, "server", "-bogus"], capture_output=True, text=True)
    assert p.returncode == 2
