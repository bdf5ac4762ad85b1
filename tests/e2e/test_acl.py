"""Tokens, ACL policies, root-protected paths and audit, tried as a new user would: with the
`vault` CLI and hvac against a dev server."""
import json
import os
import signal
import time

import hvac
import pytest
import requests

from conftest import ROOT_TOKEN, Cli

APP_READ = 'path "secret/app/*" {\n  capabilities = ["read"]\n}\n'


def audit_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(cond, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_done_when_with_the_cli(cli, dev_server):
    home = dev_server.home
    log = os.path.join(home, "audit.log")
    p = cli.run("audit", "enable", "file", "file_path=" + log, check=True)
    assert "Success! Enabled the file audit device at: file/" in p.stdout

    cli.run("write", "secret/app/x", "password=hunter2", check=True)
    cli.run("write", "secret/other", "v=1", check=True)

    with open(os.path.join(home, "app-read.hcl"), "w") as f:
        f.write(APP_READ)
    p = cli.run("policy", "write", "app-read", "app-read.hcl", check=True)
    assert "Success! Uploaded policy: app-read" in p.stdout
    assert "app-read" in cli.run("policy", "list", check=True).stdout.split()
    assert cli.run("policy", "read", "app-read", check=True).stdout.strip() == APP_READ.strip()

    created = json.loads(cli.run("token", "create", "-policy=app-read", "-format=json",
                                 check=True).stdout)
    token = created["auth"]["client_token"]
    assert created["auth"]["policies"] == ["app-read", "default"]

    user = Cli(dev_server.addr, home, token=token)
    assert user.run("read", "-field=password", "secret/app/x", check=True).stdout == "hunter2"
    p = user.run("write", "secret/app/x", "password=nope")
    assert p.returncode != 0 and "permission denied" in p.stderr
    p = user.run("read", "secret/other")
    assert p.returncode != 0 and "permission denied" in p.stderr
    p = user.run("secrets", "list")
    assert p.returncode != 0 and "permission denied" in p.stderr
    p = user.run("secrets", "enable", "-path=mine", "kv")
    assert p.returncode != 0 and "permission denied" in p.stderr
    assert cli.run("read", "-field=password", "secret/app/x", check=True).stdout == "hunter2"

    # token lookup (self) for the user; the 2015 verbs work too.
    look = json.loads(user.run("token", "lookup", "-format=json", check=True).stdout)
    assert look["data"]["policies"] == ["app-read", "default"]
    assert look["data"]["display_name"] == "token"

    # A parent that may mint tokens, its child; revoking the parent revokes the child.
    with open(os.path.join(home, "minter.hcl"), "w") as f:
        f.write('path "auth/token/create" { capabilities = ["update"] }\n')
    p = cli.run("policy-write", "minter", "minter.hcl", check=True)
    assert p.stdout.strip() == "Policy 'minter' written."
    parent = json.loads(cli.run("token-create", "-policy=app-read", "-policy=minter",
                                "-format=json", check=True).stdout)["auth"]["client_token"]
    child = json.loads(Cli(dev_server.addr, home, token=parent).run(
        "token", "create", "-policy=app-read", "-format=json", check=True).stdout)
    child_token = child["auth"]["client_token"]
    assert child["auth"]["orphan"] is False
    child_cli = Cli(dev_server.addr, home, token=child_token)
    child_cli.run("read", "secret/app/x", check=True)
    p = cli.run("token", "revoke", parent, check=True)
    assert "Success! Revoked token" in p.stdout
    p = child_cli.run("read", "secret/app/x")
    assert p.returncode != 0 and "permission denied" in p.stderr

    # vault login / vault auth store the token for later commands.
    p = cli.run("auth", token, check=True)
    assert "Successfully authenticated!" in p.stdout and "app-read" in p.stdout
    p = cli.run("read", "secret/other")  # now as the app-read token (from ~/.vault-token)
    assert p.returncode != 0 and "permission denied" in p.stderr
    cli.run("login", ROOT_TOKEN, check=True)

    # The audit log: every request, secrets HMAC'd, the HMAC matches sys/audit-hash.
    client = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    hashed = client.sys.calculate_hash("file", "hunter2")["data"]["hash"]
    assert hashed.startswith("hmac-sha256:")
    entries = audit_lines(log)
    raw = open(log).read()
    for secret in ("hunter2", ROOT_TOKEN, token, child_token, parent):
        assert secret not in raw
    writes = [e for e in entries if e["type"] == "request" and e["request"]["path"] == "secret/app/x"
              and e["request"]["operation"] in ("update", "create")]
    assert any(e["request"]["data"]["password"] == hashed for e in writes)
    reads = [e for e in entries if e["type"] == "response" and e["request"]["path"] == "secret/app/x"
             and e["request"]["operation"] == "read" and "response" in e]
    assert reads and all(e["response"]["data"]["password"] == hashed for e in reads)
    denied = [e for e in entries if e["error"] == "permission denied"]
    assert len(denied) >= 5
    assert any(e["request"]["path"] == "secret/other" for e in denied)
    # Every request has a request entry; every one that ran also has a response entry with the
    # same id (refused requests are recorded with their error and go no further).
    req_ids = [e["request"]["id"] for e in entries if e["type"] == "request"]
    ran = [e["request"]["id"] for e in entries if e["type"] == "request" and not e["error"]]
    resp_ids = [e["request"]["id"] for e in entries if e["type"] == "response"]
    assert len(set(req_ids)) == len(req_ids)
    unmatched = [e for e in entries if e["type"] == "response" and e["request"]["id"] not in ran]
    assert [e["request"]["path"] for e in unmatched] == ["sys/audit/file"]  # enabled it
    assert set(ran) <= set(resp_ids)
    minted = [e for e in entries if e["type"] == "response" and e.get("response", {}).get("auth")]
    assert minted and all(e["response"]["auth"]["client_token"].startswith("hmac-sha256:")
                          for e in minted)

    p = cli.run("audit", "list", check=True)
    assert "file/" in p.stdout
    cli.run("audit", "disable", "file", check=True)


def test_done_when_with_hvac(dev_server, tmp_path):
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    log = str(tmp_path / "hvac-audit.log")
    root.sys.enable_audit_device("file", options={"file_path": log})
    assert "file/" in root.sys.list_enabled_audit_devices()["data"]

    root.secrets.kv.v1.create_or_update_secret("app/x", {"password": "hunter2"})
    root.secrets.kv.v1.create_or_update_secret("other", {"v": "1"})
    root.sys.create_or_update_policy("app-read", APP_READ)
    assert "app-read" in root.sys.list_policies()["data"]["policies"]
    assert root.sys.read_policy("app-read")["data"]["rules"] == APP_READ

    parent_auth = root.auth.token.create(policies=["app-read"], ttl="1h")["auth"]
    assert parent_auth["lease_duration"] == 3600 and parent_auth["renewable"] is True
    user = hvac.Client(url=dev_server.addr, token=parent_auth["client_token"])
    assert user.is_authenticated()
    assert user.secrets.kv.v1.read_secret("app/x")["data"] == {"password": "hunter2"}
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v1.create_or_update_secret("app/x", {"password": "x"}, method="PUT")
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v1.read_secret("other")
    with pytest.raises(hvac.exceptions.Forbidden):
        user.sys.list_mounted_secrets_engines()
    with pytest.raises(hvac.exceptions.Forbidden):
        user.sys.enable_secrets_engine("kv", path="mine")

    look = root.auth.token.lookup(parent_auth["client_token"])["data"]
    assert look["policies"] == ["app-read", "default"] and 0 < look["ttl"] <= 3600
    assert root.auth.token.lookup_accessor(parent_auth["accessor"])["data"]["id"] == ""
    renewed = user.auth.token.renew_self(increment="2h")["auth"]
    assert renewed["lease_duration"] == 7200

    # An orphan is not revoked with its creator; a child is.
    root.sys.create_or_update_policy("minter", 'path "auth/token/create*" { capabilities = ["update"] }')
    minter = hvac.Client(url=dev_server.addr,
                         token=root.auth.token.create(policies=["app-read", "minter"])["auth"]["client_token"])
    child = minter.auth.token.create(policies=["app-read"])["auth"]["client_token"]
    orphan = minter.create_token(policies=["app-read"], orphan=True)["auth"]["client_token"]
    root.auth.token.revoke(minter.token)
    with pytest.raises(hvac.exceptions.Forbidden):
        hvac.Client(url=dev_server.addr, token=child).secrets.kv.v1.read_secret("app/x")
    hvac.Client(url=dev_server.addr, token=orphan).secrets.kv.v1.read_secret("app/x")
    # revoke-accessor and revoke-self.
    root.auth.token.revoke_accessor(parent_auth["accessor"])
    assert not user.is_authenticated()

    # Capabilities.
    r = requests.post(dev_server.addr + "/v1/sys/capabilities-self",
                      headers={"X-Vault-Token": orphan},
                      json={"paths": ["secret/app/x", "sys/mounts"]}).json()
    assert r["secret/app/x"] == ["read"] and r["sys/mounts"] == ["deny"]

    hashed = root.sys.calculate_hash("file", "hunter2")["data"]["hash"]
    entries = audit_lines(log)
    assert "hunter2" not in open(log).read()
    assert any(e["type"] == "response" and e["request"]["path"] == "secret/app/x"
               and e.get("response", {}).get("data", {}).get("password") == hashed for e in entries)

    root.sys.delete_policy("app-read")
    assert "app-read" not in root.sys.list_policies()["data"]["policies"]
    root.sys.disable_audit_device("file")


def test_bad_tokens_and_bad_policies(dev_server):
    addr = dev_server.addr
    url = addr + "/v1/secret/app/x"
    root = hvac.Client(url=addr, token=ROOT_TOKEN)
    root.secrets.kv.v1.create_or_update_secret("app/x", {"v": "1"})
    for headers in ({}, {"X-Vault-Token": "garbage"}, {"X-Vault-Token": "hvs." + "A" * 24},
                    {"X-Vault-Token": "x" * 4000}, {"Authorization": "Bearer nope"}):
        r = requests.get(url, headers=headers)
        assert r.status_code == 403 and r.json() == {"errors": ["permission denied"]}
    # Not even a 404 for a path that does not exist.
    r = requests.get(addr + "/v1/nothing/here", headers={"X-Vault-Token": "garbage"})
    assert r.status_code == 403
    assert requests.get(url, headers={"Authorization": "Bearer " + ROOT_TOKEN}).status_code == 200

    # Malformed policies: 400 with the line and column.
    r = requests.put(addr + "/v1/sys/policy/bad", headers={"X-Vault-Token": ROOT_TOKEN},
                     json={"policy": 'path "secret/*" {\n  capabilities = ["read"\n}\n'})
    assert r.status_code == 400
    assert "At 3:1" in r.json()["errors"][0]
    r = requests.put(addr + "/v1/sys/policy/bad", headers={"X-Vault-Token": ROOT_TOKEN},
                     json={"policy": 'path "secret/*" { capabilities = ["fly"] }'})
    assert r.status_code == 400 and "invalid capability" in r.json()["errors"][0]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.create_or_update_policy("bad", "path {")

    # num_uses, expiry.
    root.sys.create_or_update_policy("app-read", APP_READ)
    limited = root.auth.token.create(policies=["app-read"], num_uses=2)["auth"]["client_token"]
    h = {"X-Vault-Token": limited}
    assert requests.get(url, headers=h).status_code == 200
    assert requests.get(url, headers=h).status_code == 200
    assert requests.get(url, headers=h).status_code == 403
    short = root.auth.token.create(policies=["app-read"], ttl="3s")["auth"]["client_token"]
    assert requests.get(url, headers={"X-Vault-Token": short}).status_code == 200
    assert wait_for(lambda: requests.get(url, headers={"X-Vault-Token": short}).status_code == 403,
                    timeout=6)

    # A token without sudo cannot touch root-protected paths, even with the capability.
    root.sys.create_or_update_policy("nosudo", 'path "sys/*" { capabilities = ["create", "read", "update", "delete", "list"] }')
    nosudo = root.auth.token.create(policies=["nosudo"])["auth"]["client_token"]
    h = {"X-Vault-Token": nosudo}
    assert requests.put(addr + "/v1/sys/audit/x", headers=h,
                        json={"type": "file", "options": {"file_path": "/dev/null"}}).status_code == 403
    assert requests.post(addr + "/v1/sys/mounts/y", headers=h, json={"type": "kv"}).status_code == 403
    assert requests.put(addr + "/v1/sys/policy/z", headers=h, json={"policy": APP_READ}).status_code == 403
    assert requests.put(addr + "/v1/sys/revoke-prefix/secret", headers=h).status_code == 403
    assert requests.get(addr + "/v1/sys/policy/app-read", headers=h).status_code == 200
    assert requests.put(addr + "/v1/sys/seal", headers=h).status_code == 403


def test_audit_fails_closed_and_survives_rotation(dev_server, tmp_path):
    addr = dev_server.addr
    h = {"X-Vault-Token": ROOT_TOKEN}
    log = str(tmp_path / "audit.log")
    r = requests.put(addr + "/v1/sys/audit/file", headers=h,
                     json={"type": "file", "options": {"file_path": log}})
    assert r.status_code == 204
    # An unwritable location is refused at enable time.
    r = requests.put(addr + "/v1/sys/audit/bad", headers=h,
                     json={"type": "file", "options": {"file_path": str(tmp_path / "no" / "x.log")}})
    assert r.status_code == 400

    for i in range(20):
        assert requests.put(addr + "/v1/secret/r%d" % i, headers=h, json={"v": "s%d" % i}).status_code == 204
    os.rename(log, log + ".1")
    for i in range(20, 25):  # still written to the renamed file until SIGHUP
        assert requests.put(addr + "/v1/secret/r%d" % i, headers=h, json={"v": "s%d" % i}).status_code == 204
    dev_server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: os.path.exists(log))
    for i in range(25, 30):
        assert requests.put(addr + "/v1/secret/r%d" % i, headers=h, json={"v": "s%d" % i}).status_code == 204
    paths = [e["request"]["path"] for e in audit_lines(log + ".1") + audit_lines(log)
             if e["type"] == "request"]
    for i in range(30):
        assert paths.count("secret/r%d" % i) == 1, i
    assert dev_server.proc.poll() is None  # SIGHUP did not stop the server

    # Fail closed: with the only device unable to write, requests are refused and not done.
    os.remove(log)
    os.mkdir(log)
    dev_server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: requests.put(addr + "/v1/secret/closed", headers=h,
                                         json={"v": "x"}).status_code == 500)
    r = requests.put(addr + "/v1/secret/closed2", headers=h, json={"v": "x"})
    assert r.status_code == 500 and r.json() == {"errors": ["internal error"]}
    os.rmdir(log)
    assert wait_for(lambda: requests.get(addr + "/v1/secret/r0", headers=h).status_code == 200)
    assert requests.get(addr + "/v1/secret/closed2", headers=h).status_code == 404
