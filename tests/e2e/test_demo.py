"""`make demo` (scripts/demo.sh) as a newcomer uses it: start it, copy the commands it prints into
another shell, run them verbatim, and find the emulator empty after `vault revoke`."""
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import threading
import time
import urllib.request

from conftest import VAULT_BIN, free_port

DEMO = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "demo.sh")


def read_until(lines, marker, timeout=30.0):
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line.rstrip("\n"))
        if marker in line:
            return seen
    raise AssertionError("demo did not print %r; it printed:\n%s" % (marker, "\n".join(seen)))


def test_demo_prints_commands_that_run_the_seed_quick_start(tmp_path):
    port = free_port()
    env = dict(os.environ, VAULT_BIN=VAULT_BIN, DEMO_VAULT_PORT=str(port))
    proc = subprocess.Popen(["bash", DEMO], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)
    lines = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    work = None
    try:
        out = read_until(lines, "Press Ctrl-C to stop both.")
        text = "\n".join(out)
        export = next(l.strip() for l in out if l.strip().startswith("export VAULT_ADDR="))
        shell_env = dict(os.environ, HOME=str(tmp_path))
        for assignment in shlex.split(export)[1:]:
            name, value = assignment.split("=", 1)
            if name != "PATH":
                shell_env[name] = value
        assert shell_env["VAULT_ADDR"] == "http://127.0.0.1:%d" % port
        work = next(l.strip()[3:] for l in out if l.strip().startswith("cd "))
        assert os.path.isfile(os.path.join(work, "policy.json"))
        commands = [l.strip() for l in out if l.strip().startswith("vault ")]
        assert [c.split()[1] for c in commands] == ["mount", "write", "write", "read", "revoke"]
        endpoint = re.search(r"emulator is at (\S+)", text).group(1)

        def vault(cmd):
            args = shlex.split(cmd)
            p = subprocess.run([VAULT_BIN] + args[1:], cwd=work, env=shell_env,
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, (cmd, p.stdout, p.stderr)
            return p.stdout

        assert "Successfully mounted 'aws' at 'aws'!" in vault(commands[0])
        assert vault(commands[1]).strip() == "Success! Data written to: aws/config/root"
        assert vault(commands[2]).strip() == "Success! Data written to: aws/roles/deploy"
        creds = vault(commands[3])
        lease = re.search(r"^lease_id\s+(\S+)", creds, re.M).group(1)
        assert lease.startswith("aws/creds/deploy/")
        assert re.search(r"^access_key\s+AKIA\S+", creds, re.M)

        def users():
            with urllib.request.urlopen(endpoint + "/_emulator/state", timeout=10) as r:
                state = json.load(r)
            return [u["name"] for u in state["users"]
                    if u["name"].startswith("vault-") and u["name"] != "vault-root"]

        assert len(users()) == 1
        revoke = commands[4].replace("<the lease_id printed above>", lease)
        assert "Success! Revoked the secret with ID '%s'" % lease in vault(revoke)
        assert users() == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    # Ctrl-C / TERM stops both servers and removes the demo's files.
    if work:
        deadline = time.time() + 5
        while os.path.exists(work) and time.time() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(work)
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d/v1/sys/health" % port])
    assert p.returncode != 0  # nothing listens any more
