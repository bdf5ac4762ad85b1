"""Auth methods end to end: pipelines log in with AppRole, people with userpass, through hvac
0.11.2 and the CLI, and get AWS keys that go away with their token."""
import json
import os

import hvac
import pytest
import requests

from conftest import ROOT_TOKEN, Cli
from test_aws import emu, mount_with_deploy_role, vault_users, wait_until  # noqa: F401

DEPLOY_POLICY = 'path "aws/creds/deploy" {\n  capabilities = ["read"]\n}\n'


def test_approle_pipeline_gets_aws_keys_that_go_with_its_token(dev_server, cli, emu):
    mount_with_deploy_role(cli, emu)
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    root.sys.create_or_update_policy("deploy", DEPLOY_POLICY)
    root.sys.enable_auth_method("approle")
    methods = root.sys.list_auth_methods()
    assert methods["data"]["approle/"]["type"] == "approle"
    assert methods["data"]["approle/"]["accessor"].startswith("auth_approle_")
    assert "token/" in methods["data"]

    approle = root.auth.approle
    approle.create_or_update_approle("ci", token_policies=["deploy"], token_ttl="20m",
                                     token_max_ttl="1h", secret_id_num_uses=2)
    role = approle.read_role("ci")["data"]
    assert role["token_policies"] == ["deploy"] and role["token_ttl"] == 1200
    assert role["bind_secret_id"] is True and role["secret_id_num_uses"] == 2
    role_id = approle.read_role_id("ci")["data"]["role_id"]
    gen = approle.generate_secret_id("ci", metadata={"pipeline": "build-7"})["data"]
    secret_id = gen["secret_id"]
    assert gen["secret_id_num_uses"] == 2

    # The pipeline: no token, only role id and secret id.
    pipeline = hvac.Client(url=dev_server.addr)
    login = pipeline.auth.approle.login(role_id=role_id, secret_id=secret_id)
    auth = login["auth"]
    assert auth["policies"] == ["default", "deploy"] and auth["token_policies"] == ["default", "deploy"]
    assert auth["metadata"] == {"pipeline": "build-7", "role_name": "ci"}
    assert auth["lease_duration"] == 1200 and auth["renewable"] is True and auth["orphan"] is True
    assert pipeline.token == auth["client_token"]
    assert pipeline.auth.token.lookup_self()["data"]["display_name"] == "approle"

    creds = pipeline.read("aws/creds/deploy")
    keys = creds["data"]
    ident = emu.client("sts", access_key=keys["access_key"],
                       secret_key=keys["secret_key"]).get_caller_identity()
    assert ":user/vault-approle-deploy-" in ident["Arn"]
    # The policy allows exactly that path.
    with pytest.raises(hvac.exceptions.Forbidden):
        pipeline.read("secret/anything")
    assert len(vault_users(emu)) == 1

    # Renewal up to the role's max TTL.
    renewed = pipeline.auth.token.renew_self(increment=7200)["auth"]
    assert 3500 <= renewed["lease_duration"] <= 3600

    # Second use of the secret id, then it is spent.
    pipeline2 = hvac.Client(url=dev_server.addr)
    pipeline2.auth.approle.login(role_id=role_id, secret_id=secret_id)
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        hvac.Client(url=dev_server.addr).auth.approle.login(role_id=role_id, secret_id=secret_id)
    assert "invalid role or secret ID" in str(e.value)
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        hvac.Client(url=dev_server.addr).auth.approle.login(role_id="nope", secret_id=secret_id)
    assert "invalid role or secret ID" in str(e.value)

    # Revoking the login's token takes its AWS keys back: the IAM user goes.
    root.auth.token.revoke(auth["client_token"])
    wait_until(lambda: vault_users(emu) == [])
    with pytest.raises(hvac.exceptions.Forbidden):
        pipeline.read("aws/creds/deploy")

    # The CLI writes the same login (Vault's CLI has no approle login handler).
    sid = cli.run("write", "-field=secret_id", "-f", "auth/approle/role/ci/secret-id", check=True)
    p = cli.run("write", "-format=json", "auth/approle/login", "role_id=" + role_id,
                "secret_id=" + sid.stdout.strip(), check=True)
    assert json.loads(p.stdout)["auth"]["policies"] == ["default", "deploy"]


def test_userpass_login_with_hvac_and_cli_and_disable_revokes(dev_server, cli, emu, home):
    mount_with_deploy_role(cli, emu)
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    root.sys.create_or_update_policy("deploy", DEPLOY_POLICY)
    p = cli.run("auth", "enable", "userpass")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "Success! Enabled userpass auth method at: userpass/"
    root.auth.userpass.create_or_update_user("alice", "correct horse", policies=["deploy"])
    assert root.auth.userpass.read_user("alice")["data"]["token_policies"] == ["deploy"]
    assert "password" not in root.auth.userpass.read_user("alice")["data"]

    user = hvac.Client(url=dev_server.addr)
    auth = user.auth.userpass.login("alice", "correct horse")["auth"]
    assert auth["metadata"] == {"username": "alice"}
    assert user.auth.token.lookup_self()["data"]["display_name"] == "userpass-alice"
    keys = user.read("aws/creds/deploy")["data"]
    assert keys["access_key"].startswith("AKIA")

    # A wrong password and an unknown user: the same 400.
    for name, pw in (("alice", "wrong"), ("mallory", "correct horse")):
        r = requests.post(dev_server.addr + "/v1/auth/userpass/login/" + name, json={"password": pw})
        assert r.status_code == 400 and r.json() == {"errors": ["invalid username or password"]}

    # The CLI: login stores the token for the next commands; -token-only prints it alone.
    user_cli = Cli(dev_server.addr, home)
    p = user_cli.run("login", "-method=userpass", "username=alice", "password=correct horse")
    assert p.returncode == 0, p.stderr
    assert "Success! You are now authenticated." in p.stdout
    assert "token_meta_username    alice" in p.stdout
    p = user_cli.run("read", "-field=access_key", "aws/creds/deploy")
    assert p.returncode == 0 and p.stdout.startswith("AKIA"), p.stderr
    p = user_cli.run("login", "-method=userpass", "-token-only", "username=alice",
                     "password=correct horse")
    assert p.returncode == 0 and p.stdout.strip().startswith("hvs."), p.stderr
    p = user_cli.run("login", "-method=userpass", "username=alice", "password=nope")
    assert p.returncode == 2 or p.returncode == 1
    assert "invalid username or password" in p.stderr
    p = user_cli.run("login", "-method=github", "token=x")
    assert p.returncode != 0 and "Unknown auth method: github" in p.stderr
    assert len(vault_users(emu)) == 2

    # The 0.x verbs.
    root_cli = Cli(dev_server.addr, home, token=ROOT_TOKEN)
    p = root_cli.run("auth", "-methods", check=True)
    assert "userpass/" in p.stdout and "token/" in p.stdout
    p = root_cli.run("auth-enable", "-path=people", "userpass", check=True)
    assert p.stdout.strip() == "Successfully enabled 'userpass' at 'people'!"

    # Disabling the method revokes every token it issued, and their leases.
    p = root_cli.run("auth", "disable", "userpass", check=True)
    assert p.stdout.strip() == "Success! Disabled the auth method (if it existed) at: userpass/"
    wait_until(lambda: vault_users(emu) == [])
    with pytest.raises(hvac.exceptions.Forbidden):
        user.auth.token.lookup_self()
    assert "userpass/" not in root.sys.list_auth_methods()["data"]


def test_auth_mount_api_errors_and_tune(dev_server):
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    s = requests.Session()
    s.headers["X-Vault-Token"] = ROOT_TOKEN
    a = dev_server.addr + "/v1/"
    r = s.post(a + "sys/auth/token", json={"type": "token"})
    assert r.status_code == 400
    r = s.delete(a + "sys/auth/token")
    assert r.status_code == 400 and "cannot be disabled" in r.json()["errors"][0]
    r = s.post(a + "sys/auth/x", json={"type": "kv"})
    assert r.status_code == 400 and r.json()["errors"] == ["plugin not found in the catalog: kv"]
    r = s.post(a + "sys/mounts/up", json={"type": "userpass"})
    assert r.status_code == 400 and "is an auth method" in r.json()["errors"][0]
    r = s.post(a + "sys/auth/up", json={"type": "userpass", "config": {"token_type": "batch"}})
    assert r.status_code == 400 and "service tokens only" in r.json()["errors"][0]
    r = s.post(a + "sys/auth/up", json={"type": "userpass",
                                         "config": {"audit_non_hmac_request_keys": ["password"]}})
    assert r.status_code == 400 and "not supported" in r.json()["errors"][0]
    r = s.post(a + "sys/auth/up", json={"type": "userpass", "options": {"version": "2"}})
    assert r.status_code == 400

    root.sys.enable_auth_method("userpass", path="up", description="people",
                                config={"default_lease_ttl": "30m", "max_lease_ttl": "1h"})
    r = s.post(a + "sys/auth/up/x", json={"type": "userpass"})
    assert r.status_code == 400 and "path is already in use" in r.json()["errors"][0]
    t = root.sys.read_auth_method_tuning("up")["data"]
    assert t["default_lease_ttl"] == 1800 and t["max_lease_ttl"] == 3600
    assert t["description"] == "people"
    root.sys.tune_auth_method("up", default_lease_ttl="10m", listing_visibility="unauth")
    t = s.get(a + "sys/mounts/auth/up/tune").json()["data"]
    assert t["default_lease_ttl"] == 600
    assert root.sys.list_auth_methods()["data"]["up/"]["config"]["listing_visibility"] == "unauth"
    # A login's token follows the mount's TTLs; the role's token_ttl wins below the max.
    root.write("auth/up/users/bob", password="pw")
    auth = hvac.Client(url=dev_server.addr).auth.userpass.login("bob", "pw", mount_point="up")["auth"]
    assert auth["lease_duration"] == 600
    root.write("auth/up/users/bob", token_ttl="2h")
    r = requests.post(a + "auth/up/login/bob", json={"password": "pw"}).json()
    assert r["auth"]["lease_duration"] == 3600
    assert any("capped" in w for w in r["warnings"])
    # Token bound to a CIDR the client is not in: the token is refused where it is used.
    root.write("auth/up/users/carol", password="pw", token_bound_cidrs="10.0.0.0/8")
    r = requests.post(a + "auth/up/login/carol", json={"password": "pw"})
    assert r.status_code == 403
    root.write("auth/up/users/carol", token_bound_cidrs="127.0.0.1/32")
    tok = requests.post(a + "auth/up/login/carol", json={"password": "pw"}).json()["auth"]
    assert tok["client_token"]
    # No root tokens from a login.
    root.write("auth/up/users/eve", password="pw", token_policies="root")
    r = requests.post(a + "auth/up/login/eve", json={"password": "pw"})
    assert r.status_code == 400 and r.json()["errors"] == ["auth methods cannot create root tokens"]


def test_wrapped_secret_id_unwraps_once_then_logs_in(dev_server, cli):
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    root.sys.enable_auth_method("approle")
    root.auth.approle.create_or_update_approle("ci", token_policies=["default"])
    role_id = root.auth.approle.read_role_id("ci")["data"]["role_id"]

    wrapped = root.write("auth/approle/role/ci/secret-id", wrap_ttl="60s")
    assert wrapped["data"] is None and wrapped["auth"] is None
    info = wrapped["wrap_info"]
    assert info["ttl"] == 60 and info["creation_path"] == "auth/approle/role/ci/secret-id"
    assert info["token"].startswith("hvs.") and info["accessor"]
    # Anyone holding the token may look it up (no other token needed); it is not spent by that.
    look = requests.post(dev_server.addr + "/v1/sys/wrapping/lookup", json={"token": info["token"]})
    assert look.status_code == 200 and look.json()["data"]["creation_ttl"] == 60

    holder = hvac.Client(url=dev_server.addr, token=info["token"])
    unwrapped = holder.sys.unwrap()
    secret_id = unwrapped["data"]["secret_id"]
    assert unwrapped["data"]["secret_id_accessor"] == info["wrapped_accessor"]
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        holder.sys.unwrap()
    assert "wrapping token is not valid or does not exist" in str(e.value)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.unwrap(info["token"])

    pipeline = hvac.Client(url=dev_server.addr)
    assert pipeline.auth.approle.login(role_id=role_id, secret_id=secret_id)["auth"]["client_token"]

    # The CLI: -wrap-ttl and -field=wrapping_token, then `vault unwrap TOKEN` once.
    root_cli = Cli(dev_server.addr, dev_server.home, token=ROOT_TOKEN)
    p = root_cli.run("write", "-f", "-wrap-ttl=60s", "-field=wrapping_token",
                     "auth/approle/role/ci/secret-id", check=True)
    token = p.stdout.strip()
    p = root_cli.run("unwrap", "-field=secret_id", token, check=True)
    assert len(p.stdout.strip()) == 36
    p = root_cli.run("unwrap", token)
    assert p.returncode == 2 and "wrapping token is not valid or does not exist" in p.stderr

    # Any read can be wrapped; an expired wrapping token unwraps nothing.
    root.write("secret/app", password="hunter2")
    short = root.read("secret/app", wrap_ttl="1s")["wrap_info"]["token"]
    wait_until(lambda: requests.post(dev_server.addr + "/v1/sys/wrapping/lookup",
                                     json={"token": short}).status_code == 400, timeout=5)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.unwrap(short)
    kept = root.read("secret/app", wrap_ttl="60")["wrap_info"]["token"]
    assert root.sys.unwrap(kept)["data"] == {"password": "hunter2"}
    # Bad headers are refused, not ignored.
    r = requests.get(dev_server.addr + "/v1/secret/app",
                     headers={"X-Vault-Token": ROOT_TOKEN, "X-Vault-Wrap-TTL": "soon"})
    assert r.status_code == 400 and "X-Vault-Wrap-TTL" in r.json()["errors"][0]
    r = requests.post(dev_server.addr + "/v1/sys/wrapping/wrap", json={"k": "v"},
                      headers={"X-Vault-Token": ROOT_TOKEN})
    assert r.status_code == 400
    r = requests.post(dev_server.addr + "/v1/sys/wrapping/wrap", json={"k": "v"},
                      headers={"X-Vault-Token": ROOT_TOKEN, "X-Vault-Wrap-TTL": "30s"})
    assert root.sys.unwrap(r.json()["wrap_info"]["token"])["data"] == {"k": "v"}


def test_token_roles_bound_what_their_tokens_carry(dev_server):
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    root.sys.create_or_update_policy("deploy", DEPLOY_POLICY)
    root.sys.create_or_update_policy("ops", 'path "sys/*" {\n  capabilities = ["read"]\n}\n')
    token = root.auth.token
    token.create_or_update_role("ci", allowed_policies=["deploy"], orphan=True, renewable=False)
    root.write("auth/token/roles/ci", token_explicit_max_ttl="2h", token_num_uses=5,
               token_bound_cidrs="127.0.0.1/32")
    role = token.read_role("ci")["data"]
    assert role["allowed_policies"] == ["deploy"] and role["orphan"] is True
    assert role["renewable"] is False and role["token_explicit_max_ttl"] == 7200
    assert role["token_bound_cidrs"] == ["127.0.0.1/32"] and role["token_num_uses"] == 5
    assert token.list_roles()["data"]["keys"] == ["ci"]

    # A non-root parent may mint through the role what it could not mint itself.
    root.sys.create_or_update_policy(
        "minter", 'path "auth/token/create/ci" {\n  capabilities = ["update"]\n}\n')
    parent = token.create(policies=["minter"])["auth"]["client_token"]
    child = hvac.Client(url=dev_server.addr, token=parent).auth.token.create(role_name="ci")["auth"]
    assert child["policies"] == ["default", "deploy"] and child["orphan"] is True
    assert child["renewable"] is False and child["num_uses"] == 5
    look = root.auth.token.lookup(child["client_token"])["data"]
    assert look["role"] == "ci" and look["path"] == "auth/token/create/ci"
    assert look["explicit_max_ttl"] == 7200 and look["bound_cidrs"] == ["127.0.0.1/32"]
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        token.create(role_name="ci", policies=["ops"])
    assert "must be subset of the role's allowed policies" in str(e.value)
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        token.create(role_name="nope")
    assert "unknown role nope" in str(e.value)

    root.write("auth/token/roles/noops", disallowed_policies="ops")
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        token.create(role_name="noops", policies=["ops"])
    assert 'token policy "ops" is disallowed by this role' in str(e.value)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.write("auth/token/roles/bad", allowed_entity_aliases="x")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.write("auth/token/roles/bad", token_type="batch")

    # The CLI's -role.
    p = Cli(dev_server.addr, dev_server.home, token=ROOT_TOKEN).run(
        "token", "create", "-role=ci", "-format=json", check=True)
    assert json.loads(p.stdout)["auth"]["policies"] == ["default", "deploy"]
    token.delete_role("ci")
    with pytest.raises(hvac.exceptions.InvalidPath):
        token.read_role("ci")
