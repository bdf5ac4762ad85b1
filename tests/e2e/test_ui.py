"""The web UI at /ui/: its static serving over HTTP (headers, redirects, client-side routes, refused
paths), then a security engineer at work in headless Chromium against a dev server and the
IAM/STS emulator: sign in, configure aws/, create a role, generate credentials, find and revoke
their lease, read a KV secret, fix a policy, and meet a 403 with a limited token; with no script
error, CSP violation or secret in the browser's log.

Set VAULT_UI_SCREENSHOTS=docs/ui to refresh the README's screenshots."""
import http.client
import json
import os
import re
import subprocess
import time

import pytest
import requests

from conftest import ROOT_TOKEN, Server, free_port, wait_until
from emulator_fixture import start_emulator
from selenium.webdriver.common.keys import Keys
from ui_browser import Browser

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
H = {"X-Vault-Token": ROOT_TOKEN}
POLICY = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}


def api(server, method, path, token=ROOT_TOKEN, **kw):
    r = requests.request(method, server.addr + "/v1/" + path, headers={"X-Vault-Token": token},
                         timeout=30, **kw)
    return r


def vault_users(emu):
    return [u["name"] for u in emu.state()["users"]
            if u["name"].startswith("vault-") and u["name"] != "vault-root"]


def script_asset(index_html):
    return re.search(r'src="(/ui/assets/[^"]+\.js)"', index_html).group(1)


# -- static serving ---------------------------------------------------------------------------------

def test_ui_is_served_with_a_strict_policy_and_client_side_routes(dev_server):
    a = dev_server.addr
    r = requests.get(a + "/ui/", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache"
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe" not in csp and "http" not in csp  # no inline code, no third-party origin
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in r.headers
    assert '<div id="app">' in r.text and "<script>" not in r.text

    js = script_asset(r.text)
    s = requests.get(a + js, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert s.status_code == 200
    assert s.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert s.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert s.headers["Content-Encoding"] == "gzip"  # requests decodes it
    assert s.headers["Content-Security-Policy"] == csp
    plain = requests.get(a + js, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert "Content-Encoding" not in plain.headers and plain.content == s.content

    # "/" and "/ui" lead to the UI.
    for path in ("/", "/ui"):
        r = requests.get(a + path, allow_redirects=False, timeout=10)
        assert r.status_code == 307 and r.headers["Location"] == "/ui/", path
    # A route of the app (a deep link) gets the app; a missing build file does not.
    for path in ("/ui/leases/aws/creds/deploy", "/ui/secrets/secret/show/app/config.json"):
        r = requests.get(a + path, timeout=10)
        assert r.status_code == 200 and '<div id="app">' in r.text, path
    assert requests.get(a + "/ui/assets/nothing-1234.js", timeout=10).status_code == 404
    assert requests.post(a + "/ui/", timeout=10).status_code == 405
    # Dot segments, sent verbatim or percent-encoded, are refused.
    host, port = a[len("http://"):].split(":")
    for path in ("/ui/../v1/sys/mounts", "/ui/%2e%2e/v1/sys/mounts", "/ui/assets/../index.html"):
        conn = http.client.HTTPConnection(host, int(port))
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 400, path
        assert json.loads(resp.read()) == {"errors": ["invalid UI path"]}
        conn.close()
    # The API is untouched.
    assert requests.get(a + "/v1/sys/mounts", headers=H, timeout=10).json()["secret/"]["type"] == "kv"


def test_ui_is_off_unless_the_configuration_turns_it_on(home):
    for setting, expected in (("", 404), ("ui = true\n", 200)):
        port = free_port()
        cfg = os.path.join(home, "ui.hcl")
        with open(cfg, "w") as f:
            f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n'
                    '  tls_disable = true\n}\ndisable_mlock = true\n%s' % (port, setting))
        s = Server(["-config=" + cfg], home, "http://127.0.0.1:%d" % port)
        try:
            assert requests.get(s.addr + "/ui/", timeout=10).status_code == expected
            root = requests.get(s.addr + "/", allow_redirects=False, timeout=10)
            assert root.status_code == (307 if expected == 200 else 404)
        finally:
            s.stop()


def test_ui_dist_is_built_from_the_sources():
    p = subprocess.run(["bash", os.path.join(REPO, "scripts", "ui-build"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


# -- in the browser ----------------------------------------------------------------------------------

@pytest.fixture
def emu():
    e = start_emulator()
    yield e
    e.stop()


@pytest.fixture
def browser():
    with Browser() as b:
        yield b


def sign_in(b, server, token):
    b.open(server.addr + "/ui/")
    b.fill("Token", token)
    b.click("Sign in")
    b.wait_text("Secrets engines")


def check_console(b, secrets):
    """No script error, CSP or Trusted Types violation, or failed UI file; the only errors are
    the API's own answers (Chromium logs a 4xx from fetch as a network error) to what the test did
    on purpose (an empty LIST is a 404, a policy that does not parse a 400, a denial a 403). No
    secret or token is ever logged."""
    entries = b.console()
    for e in entries:
        if e["level"] != "SEVERE":
            continue
        assert e["source"] == "network", e
        assert "/v1/" in e["message"] and re.search(r"status of (400|403|404)", e["message"]), e
    text = json.dumps(entries)
    for s in secrets:
        assert s not in text


def test_first_load_is_small_and_quick(dev_server, browser):
    """Bytes transferred for a first visit (empty cache, gzip) and the time from navigation to the
    sign-in form, as docs/benchmarks.md reports them: the first visit of a new browser, then four
    more with the cache cleared in between."""
    runs = []
    for i in range(5):
        browser.driver.execute_cdp_cmd("Network.enable", {})
        browser.driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        browser.open(dev_server.addr + "/ui/?visit=%d" % i)
        browser.field("Token")
        runs.append(browser.script("""
            const nav = performance.getEntriesByType('navigation')[0];
            const res = performance.getEntriesByType('resource');
            const mark = performance.getEntriesByName('vault-ui:sign-in-form')[0];
            return {bytes: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
                    files: 1 + res.length,
                    body: nav.encodedBodySize + res.reduce((n, r) => n + r.encodedBodySize, 0),
                    form_ms: mark ? mark.startTime : -1};"""))
    times = sorted(r["form_ms"] for r in runs)
    first = runs[0]
    print("\nUI first load: %d requests, %d bytes transferred (%d bytes of bodies); sign-in form "
          "after %.0f ms (new browser), median of 5 visits %.0f ms (%s)" % (
              first["files"], first["bytes"], first["body"], first["form_ms"], times[2],
              ", ".join("%.0f" % t for t in times)))
    for r in runs:
        assert r["bytes"] == first["bytes"]  # nothing came from a cache
    assert 0 < first["bytes"] < 150 * 1024
    assert 0 < times[2] < 5000
    check_console(browser, [])


def test_aws_credentials_leases_kv_and_policies_in_the_browser(dev_server, emu, browser):
    b = browser
    srv = dev_server

    # Sign in with the root token; the token never appears in the URL.
    b.open(srv.addr + "/ui/")
    b.fill("Token", ROOT_TOKEN)
    b.click("Sign in")
    b.wait_text("Secrets engines")
    assert ROOT_TOKEN not in b.driver.current_url
    assert b.script("return sessionStorage.getItem('vault-cpp.token')") == ROOT_TOKEN
    assert b.driver.get_cookies() == []

    # Enable aws/ and open it.
    b.click("Enable a secrets engine")
    b.choose("Type", "aws")
    b.fill("Description", "AWS for the deploy pipeline")
    b.click("Enable")
    b.follow("aws/")
    b.wait_text("AWS: aws/")
    assert api(srv, "GET", "sys/mounts").json()["aws/"]["type"] == "aws"

    # Configure it against the emulator; the secret key is never shown back.
    b.follow("Configuration")
    b.fill("Access key", emu.access_key)
    b.fill("Secret key", emu.secret_key)
    b.fill("Region", "us-east-1")
    b.fill("IAM endpoint", emu.endpoint)
    b.fill("STS endpoint", emu.endpoint)
    b.click("Save root credentials")
    b.wait_text("Root credentials saved.")
    cfg = api(srv, "GET", "aws/config/root").json()["data"]
    assert cfg["access_key"] == emu.access_key and cfg["iam_endpoint"] == emu.endpoint
    assert b.field("Secret key").get_attribute("value") == ""
    assert emu.secret_key not in b.driver.page_source
    b.fill("Lease", "30m")
    b.fill("Maximum lease", "2h")
    b.click("Save lease settings")
    b.wait_text("Lease settings saved.")
    assert api(srv, "GET", "aws/config/lease").json()["data"] == {"lease": "30m0s",
                                                                  "lease_max": "2h0m0s"}

    # Create a role; a policy document that is not JSON is pointed at before anything is sent.
    b.follow("Roles")
    b.click("Create role")
    b.fill("Role name", "deploy")
    b.fill("Policy document", '{"Version": "2012-10-17",\n "Statement": [}')
    b.wait_text('Invalid JSON at line 2, column 16: unexpected "}"')
    b.fill("Policy document", json.dumps(POLICY, indent=2))
    b.wait_no_text("Invalid JSON")
    b.click("Create role")
    b.wait_text("Generate credentials")
    role = api(srv, "GET", "aws/roles/deploy").json()["data"]
    assert role["credential_type"] == "iam_user" and json.loads(role["policy_document"]) == POLICY

    # Generate credentials: the keys, the lease and its time left, each with a copy button.
    b.click("Generate credentials for deploy")
    access_key = b.css("[data-field=access_key]").text
    secret_key = b.css("[data-field=secret_key]").text
    lease_id = b.css("[data-field=lease_id]").text
    assert access_key.startswith("AKIA") and len(secret_key) == 40
    assert lease_id.startswith("aws/creds/deploy/")
    assert re.match(r"^(30m|29m \d+s) \(renewable\)$", b.css("[data-field=time_left]").text)
    for what in ("access key", "secret key", "lease ID"):
        b.button("Copy " + what)
    b.screenshot("aws-credentials")
    # The IAM user exists and the key works.
    user = emu.client("sts", access_key=access_key, secret_key=secret_key).get_caller_identity()
    assert ":user/vault-root-deploy-" in user["Arn"]
    assert len(vault_users(emu)) == 1
    b.click("Done")

    # Find the lease under Leases (mount, creds/, role) and revoke it: the IAM user is gone.
    b.follow("Leases")
    b.follow("aws/")
    b.follow("creds/")
    b.follow("deploy/")
    row = b.css("tr[data-lease-id='%s']" % lease_id)
    b.wait(lambda: "UTC" in row.text)  # issue and expiry times, from sys/leases/lookup
    b.screenshot("leases")
    short = lease_id.rsplit("/", 1)[1]
    b.click("Renew " + short)
    b.wait_text("Renewed:")
    # Escape closes a confirmation without doing anything.
    b.click("Revoke " + short)
    b.wait_text("Revoke this lease?")
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait_no_text("Revoke this lease?")
    assert len(vault_users(emu)) == 1
    b.click("Revoke " + short)
    b.wait_text("Revoke this lease?")
    b.click("Yes, revoke")
    assert wait_until(lambda: vault_users(emu) == [])
    b.wait_text("No leases under aws/creds/deploy/")
    assert api(srv, "PUT", "sys/leases/lookup", json={"lease_id": lease_id}).status_code == 400

    # Revoke a whole prefix: the confirmation counts its leases first.
    for _ in range(2):
        api(srv, "GET", "aws/creds/deploy").raise_for_status()
    assert len(vault_users(emu)) == 2
    b.driver.refresh()
    b.click("Revoke all under aws/creds/deploy/")
    b.wait_text("This revokes 2 leases under aws/creds/deploy/")
    b.click("Yes, revoke 2 leases")
    assert wait_until(lambda: vault_users(emu) == [])
    b.wait_text("Revoked the leases under aws/creds/deploy/")

    # KV version 1 (secret/) and 2: folders, values masked until "Show".
    api(srv, "PUT", "secret/app/db", json={"user": "app", "password": "hunter2"}).raise_for_status()
    api(srv, "POST", "sys/mounts/kv2", json={"type": "kv", "options": {"version": "2"}})
    api(srv, "POST", "kv2/data/team/api", json={"data": {"token": "tok-7f3a"}}).raise_for_status()
    b.follow("Secrets")
    b.follow("secret/")
    b.follow("app/")
    b.follow("db")
    b.wait_text("password")
    assert "hunter2" not in b.text()
    b.screenshot("kv-secret")
    b.click("Show password")
    b.wait_text("hunter2")
    b.click("Hide password")
    b.wait_no_text("hunter2")
    b.follow("Secrets")
    b.follow("kv2/")
    b.wait_text("KV version 2")
    b.follow("team/")
    b.follow("api")
    b.wait_text("Version 1")
    assert "tok-7f3a" not in b.text()
    b.click("Show token")
    b.wait_text("tok-7f3a")
    # Edit it (a new version) and create one beside it.
    b.click("Edit")
    b.fill("Value 1", "tok-8b4c")
    b.click("Save")
    b.wait_text("Version 2")
    assert api(srv, "GET", "kv2/data/team/api").json()["data"]["data"] == {"token": "tok-8b4c"}
    b.follow("team/")
    b.click("Create secret")
    b.fill("Path", "team/ci")
    b.fill("Key 1", "password")
    b.fill("Value 1", "s3cret-ci")
    b.click("Save")
    b.wait_text("Version 1")
    assert api(srv, "GET", "kv2/data/team/ci").json()["data"]["data"] == {"password": "s3cret-ci"}
    b.click("Delete")
    b.click("Yes, delete")
    b.wait(lambda: b.driver.current_url.endswith("/ui/secrets/kv2/list/team"))
    assert api(srv, "GET", "kv2/data/team/ci").status_code == 404

    # Policies: the server's HCL error shown where the text is.
    b.follow("Policies")
    b.click("Create policy")
    b.fill("Policy name", "leases-ops")
    b.fill("Policy (HCL or JSON)", 'path "sys/leases/lookup/*" {\n  capabilities = ["list", "sudo"\n}\n')
    b.click("Save policy")
    error = b.css(".field-error")
    assert error.text  # the server's 400 text, with its position
    assert error.text == api(srv, "PUT", "sys/policies/acl/x", json={
        "policy": 'path "sys/leases/lookup/*" {\n  capabilities = ["list", "sudo"\n}\n'}).json()["errors"][0]
    b.screenshot("policy-error")
    ops = ('path "sys/leases/lookup/*" { capabilities = ["list", "sudo"] }\n'
           'path "sys/leases/lookup" { capabilities = ["update"] }\n'
           'path "sys/leases/revoke" { capabilities = ["update"] }\n')
    b.fill("Policy (HCL or JSON)", ops)
    b.click("Save policy")
    b.wait_text("Policy saved")
    assert api(srv, "GET", "sys/policies/acl/leases-ops").json()["data"]["policy"] == ops

    # Your own token: its policies and time left.
    b.follow("Token")
    b.wait_text("never expires")
    assert "root" in b.css("ul.tags").text

    # A limited token: the page lets it revoke, its policy is narrowed meanwhile, and the server's
    # 403 is shown as "Permission denied"; reloaded, the page disables the button.
    creds = api(srv, "GET", "aws/creds/deploy").json()
    limited = api(srv, "POST", "auth/token/create", json={"policies": ["leases-ops"]}).json()
    token = limited["auth"]["client_token"]
    b.click("Sign out")
    b.wait_text("Signed out.")
    assert b.script("return sessionStorage.getItem('vault-cpp.token')") is None
    sign_in(b, srv, token)
    b.follow("Leases")
    # As in Vault, its exact rule on sys/leases/lookup (update) shadows the glob for a LIST of the
    # root: the token goes straight to the prefix it may list.
    b.wait(lambda: "Permission denied" in b.alerts())
    b.fill("Prefix", "aws/creds/deploy")
    b.click("Open")
    short = creds["lease_id"].rsplit("/", 1)[1]
    b.button("Revoke " + short)
    b.wait(lambda: not b.button("Revoke all under aws/creds/deploy/", enabled=False).is_enabled())
    api(srv, "PUT", "sys/policies/acl/leases-ops", json={"policy": ops.replace(
        'path "sys/leases/revoke" { capabilities = ["update"] }\n', "")}).raise_for_status()
    b.click("Revoke " + short)
    b.click("Yes, revoke")
    b.wait(lambda: "Permission denied" in b.alerts())
    assert len(vault_users(emu)) == 1  # nothing was revoked
    b.driver.refresh()
    b.wait(lambda: not b.button("Revoke " + short, enabled=False).is_enabled())

    check_console(b, [secret_key, emu.secret_key, ROOT_TOKEN, token, "hunter2", "tok-8b4c",
                      creds["data"]["secret_key"]])


def test_init_and_unseal_in_the_browser(home, browser):
    """A new server: the UI asks for key shares, shows the keys and root token once, then unseals
    with them one at a time, and signs in with the root token; all by keyboard."""
    port = free_port()
    cfg = os.path.join(home, "new.hcl")
    with open(cfg, "w") as f:
        f.write('storage "rocksdb" {\n  path = "%s"\n}\nlistener "tcp" {\n'
                '  address = "127.0.0.1:%d"\n  tls_disable = true\n}\nui = true\n'
                'disable_mlock = true\n' % (os.path.join(home, "data"), port))
    s = Server(["-config=" + cfg], home, "http://127.0.0.1:%d" % port)
    b = browser
    try:
        b.open(s.addr + "/ui/")
        b.wait_text("Initialise the server")
        b.fill("Key shares", "3")
        b.fill("Key threshold", "2").send_keys(Keys.ENTER)
        b.wait_text("Server initialised")
        keys = [e.text for e in b.driver.find_elements("css selector", "ol.keys code")]
        root = b.css("[data-field=root_token]").text
        assert len(keys) == 3 and root
        b.click("Continue to unseal")
        b.wait_text("Keys entered: 0 of 2")
        b.fill("Unseal key", keys[2]).send_keys(Keys.ENTER)
        b.wait_text("Keys entered: 1 of 2")
        assert requests.get(s.addr + "/v1/sys/seal-status", timeout=10).json()["sealed"] is True
        b.fill("Unseal key", keys[0]).send_keys(Keys.ENTER)
        b.fill("Token", root).send_keys(Keys.ENTER)
        b.wait_text("Secrets engines")
        assert requests.get(s.addr + "/v1/sys/seal-status", timeout=10).json()["sealed"] is False
        check_console(b, keys + [root])
    finally:
        s.stop()


def test_phone_sized_screen(dev_server):
    """A secret on a phone's screen: nothing wider than the screen, the controls within reach."""
    api(dev_server, "PUT", "secret/x", json={"a": "b"}).raise_for_status()
    with Browser(phone=True) as b:
        sign_in(b, dev_server, ROOT_TOKEN)
        b.follow("secret/")
        b.follow("x")
        show = b.button("Show a")
        # Everything fits the width: nothing scrolls sideways.
        assert b.script("return document.documentElement.scrollWidth") <= 390
        assert show.rect["x"] + show.rect["width"] <= 390
        b.screenshot("phone-secret")
        check_console(b, [])


def test_sts_credentials_ask_for_a_ttl_and_role_arn(dev_server, emu, browser):
    """An assumed_role role: "Generate credentials" asks for the TTL and the role ARN and reads
    aws/sts/<role>; the answer has a session token, and the key works at STS."""
    srv, b = dev_server, browser
    api(srv, "POST", "sys/mounts/aws", json={"type": "aws"}).raise_for_status()
    api(srv, "POST", "aws/config/root", json={
        "access_key": emu.access_key, "secret_key": emu.secret_key, "region": "us-east-1",
        "iam_endpoint": emu.endpoint, "sts_endpoint": emu.endpoint}).raise_for_status()
    arns = [emu.create_role(n)["arn"] for n in ("deployer", "auditor")]
    sign_in(b, srv, ROOT_TOKEN)
    b.follow("aws/")
    b.click("Create role")
    b.fill("Role name", "assume")
    b.choose("Credential type", "assumed_role")
    b.fill("Role ARNs", "deployer")
    b.wait_text("Not an ARN: deployer")
    b.fill("Role ARNs", "\n".join(arns))
    b.fill("Default STS TTL", "20m")
    b.fill("Maximum STS TTL", "1h")
    b.click("Create role")
    b.wait_text("assumed_role")
    role = api(srv, "GET", "aws/roles/assume").json()["data"]
    assert role["role_arns"] == arns and role["default_sts_ttl"] == 1200
    assert role["max_sts_ttl"] == 3600
    # Edited: the form comes back filled in; what changes is saved, the rest kept.
    b.click("Edit assume")
    assert b.field("Role ARNs").get_attribute("value") == "\n".join(arns)
    assert b.field("Default STS TTL").get_attribute("value") == "20m"
    b.fill("Default STS TTL", "2h")
    b.click("Save role")
    b.wait_text("The default TTL is longer than the maximum TTL")
    b.fill("Default STS TTL", "30m")
    b.click("Save role")
    b.wait_text("Generate credentials")
    role = api(srv, "GET", "aws/roles/assume").json()["data"]
    assert role["default_sts_ttl"] == 1800 and role["role_arns"] == arns

    b.click("Generate credentials for assume")
    b.fill("TTL", "15m")
    b.choose("Role ARN", arns[1])
    b.click("Generate credentials")
    access_key = b.css("[data-field=access_key]").text
    secret_key = b.css("[data-field=secret_key]").text
    session = b.css("[data-field=session_token]").text
    assert access_key.startswith("ASIA") and session
    assert re.match(r"^(15m|14m \d+s) \(not renewable\)$", b.css("[data-field=time_left]").text)
    ident = emu.client("sts", access_key=access_key, secret_key=secret_key,
                       session_token=session).get_caller_identity()
    assert ":assumed-role/auditor/" in ident["Arn"]
    sts_calls = [c for c in emu.calls() if c["action"] == "AssumeRole"]
    assert sts_calls[-1]["params"]["RoleArn"] == arns[1]
    assert sts_calls[-1]["params"]["DurationSeconds"] == "900"
    check_console(b, [secret_key, session, emu.secret_key, ROOT_TOKEN])


def test_userpass_and_approle_sign_in_and_disabling_a_mount(dev_server, browser):
    srv, b = dev_server, browser
    api(srv, "POST", "sys/policies/acl/reader", json={
        "policy": 'path "secret/*" { capabilities = ["read", "list"] }'}).raise_for_status()
    api(srv, "POST", "sys/auth/userpass", json={"type": "userpass"}).raise_for_status()
    api(srv, "POST", "auth/userpass/users/alice", json={
        "password": "correct horse", "token_policies": "reader"}).raise_for_status()
    api(srv, "POST", "sys/auth/approle", json={"type": "approle"}).raise_for_status()
    api(srv, "POST", "auth/approle/role/ci", json={"token_policies": "reader"}).raise_for_status()
    role_id = api(srv, "GET", "auth/approle/role/ci/role-id").json()["data"]["role_id"]
    secret_id = api(srv, "POST", "auth/approle/role/ci/secret-id").json()["data"]["secret_id"]
    api(srv, "PUT", "secret/team/x", json={"k": "v"}).raise_for_status()

    b.open(srv.addr + "/ui/")
    b.choose("Method", "userpass")
    b.fill("Username", "alice")
    b.fill("Password", "wrong")
    b.click("Sign in")
    b.wait(lambda: any(a.startswith("Sign-in failed") for a in b.alerts()))
    b.fill("Password", "correct horse")
    b.click("Sign in")
    b.wait_text("Secrets engines")
    b.follow("Token")
    b.wait_text("auth/userpass/login/alice")
    assert "reader" in b.css("ul.tags").text
    # A token that may read secret/ but not change mounts: Disable is offered to no one here.
    b.follow("Secrets")
    b.wait(lambda: not b.button("Disable secret/", enabled=False).is_enabled())
    b.click("Sign out")

    b.choose("Method", "approle")
    b.fill("Role ID", role_id)
    b.fill("Secret ID", secret_id)
    b.click("Sign in")
    b.wait_text("Secrets engines")
    b.follow("Token")
    b.wait_text("auth/approle/login")
    b.click("Sign out")

    # The root token disables a mount, after a confirmation.
    api(srv, "POST", "sys/mounts/scratch", json={"type": "kv"}).raise_for_status()
    sign_in(b, srv, ROOT_TOKEN)
    b.click("Disable scratch/")
    b.wait_text("Disable scratch/?")
    b.click("Yes, disable")
    b.wait_text("Disabled scratch/")
    assert "scratch/" not in api(srv, "GET", "sys/mounts").json()["data"]
    check_console(b, [ROOT_TOKEN, "correct horse", secret_id])
