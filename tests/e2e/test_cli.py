"""The `vault` CLI as a user types it, against a dev server (token from ~/.vault-token)."""
import json
import os


def test_status_mount_write_read_list(cli, dev_server):
    st = cli.run("status", check=True)
    assert "Sealed          false" in st.stdout

    # 2015 verb with Vault 0.2's exact output, and today's verb.
    p = cli.run("mount", "-path=team", "-description=team secrets", "generic", check=True)
    assert p.stdout.strip() == "Successfully mounted 'generic' at 'team'!"
    p = cli.run("secrets", "enable", "-path=other", "kv", check=True)
    assert "Success! Enabled the kv secrets engine at: other/" in p.stdout

    with open(os.path.join(cli.cwd, "pw.txt"), "w") as f:
        f.write("hunter2")
    p = cli.run("write", "team/db", "user=app", "password=@pw.txt", check=True)
    assert p.stdout.strip() == "Success! Data written to: team/db"
    cli.run("write", "team/api", "-", input='{"key": "abc", "n": 3}', check=True)

    p = cli.run("read", "team/db", check=True)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["Key", "Value"]
    assert any(l.split() == ["password", "hunter2"] for l in lines)
    assert any(l.split() == ["user", "app"] for l in lines)
    assert cli.run("read", "-field=password", "team/db", check=True).stdout == "hunter2"
    doc = json.loads(cli.run("read", "-format=json", "team/api", check=True).stdout)
    assert doc["data"] == {"key": "abc", "n": 3}
    assert doc["lease_duration"] == 768 * 3600

    p = cli.run("list", "team", check=True)
    assert p.stdout.split() == ["Keys", "----", "api", "db"]

    p = cli.run("mounts", check=True)
    assert any(l.split()[:2] == ["team/", "kv"] for l in p.stdout.splitlines())
    p = cli.run("secrets", "list", "-format=json", check=True)
    assert json.loads(p.stdout)["team/"]["description"] == "team secrets"

    help_text = cli.run("path-help", "team", check=True).stdout
    assert help_text.startswith("## DESCRIPTION")
    assert "generic backend" in help_text

    cli.run("delete", "team/db", check=True)
    p = cli.run("read", "team/db")
    assert p.returncode == 2 and "No value found at team/db" in p.stderr

    p = cli.run("unmount", "team", check=True)
    assert "team" in p.stdout
    assert "team/" not in cli.run("mounts", check=True).stdout


def test_api_errors_have_vault_shape(cli, dev_server):
    p = cli.run("write", "secret/x")
    assert p.returncode == 2 and "Must supply data" in p.stderr
    p = cli.run("write", "secret/x", "notakeyvalue")
    assert p.returncode != 0 and "format must be key=value" in p.stderr
    p = cli.run("mount", "-path=secret", "kv")
    assert p.returncode == 1
    assert "Error making API request." in p.stderr
    assert "URL: POST %s/v1/sys/mounts/secret" % dev_server.addr in p.stderr
    assert "Code: 400. Errors:" in p.stderr
    assert "* path is already in use at secret/" in p.stderr
    p = cli.run("read", "-bogus-flag", "secret/x")
    assert p.returncode == 2


def test_token_sources(cli, dev_server):
    from conftest import Cli
    nobody = Cli(dev_server.addr, cli.cwd, token="wrong-token")
    p = nobody.run("read", "secret/x")
    assert p.returncode == 1 and "Code: 403" in p.stderr and "* permission denied" in p.stderr
    # VAULT_TOKEN wins over the token file; a good one works.
    good = Cli(dev_server.addr, cli.cwd, token="e2e-root-token")
    good.run("write", "secret/x", "a=b", check=True)
    assert good.run("read", "-field=a", "secret/x", check=True).stdout == "b"


def test_seal_and_unseal_from_cli(cli, dev_server):
    key = [l.split(": ", 1)[1] for l in dev_server.output().splitlines()
           if l.startswith("Unseal Key: ")][0]
    cli.run("operator", "seal", check=True)
    assert cli.run("status").returncode == 2
    p = cli.run("read", "secret/x")
    assert p.returncode == 1 and "Code: 503" in p.stderr and "* Vault is sealed" in p.stderr
    p = cli.run("unseal", key, check=True)
    assert "Sealed" in p.stdout and "false" in p.stdout
    assert cli.run("status").returncode == 0


def test_kv_commands_on_the_dev_servers_kv_mount(cli, dev_server):
    # Today's `vault kv` commands, as Vault's CLI runs them on a KV version 1 mount (dev mode's
    # secret/ here).
    p = cli.run("kv", "put", "secret/app", "user=svc", "long_name=2", check=True)
    assert p.stdout.strip() == "Success! Data written to: secret/app"
    p = cli.run("kv", "get", "secret/app", check=True)
    assert p.stdout.splitlines() == ["====== Data ======", "Key          Value", "---          -----",
                                     "long_name    2", "user         svc"], p.stdout
    assert cli.run("kv", "get", "-field=user", "secret/app", check=True).stdout == "svc"
    doc = json.loads(cli.run("kv", "get", "-format=json", "secret/app", check=True).stdout)
    assert doc["data"] == {"user": "svc", "long_name": "2"}
    assert cli.run("read", "-field=user", "secret/app", check=True).stdout == "svc"  # same data
    assert cli.run("kv", "list", "secret/", check=True).stdout.split() == ["Keys", "----", "app"]
    p = cli.run("kv", "delete", "secret/app", check=True)
    assert p.stdout.strip() == "Success! Data deleted (if it existed) at: secret/app"
    p = cli.run("kv", "get", "secret/app")
    assert p.returncode == 2 and p.stderr.strip() == "No value found at secret/app"
    p = cli.run("kv", "put", "secret/app")
    assert p.returncode == 1 and "Must supply data" in p.stderr
    p = cli.run("kv", "patch", "secret/app", "a=1")
    assert p.returncode == 2
    assert p.stderr.strip() == "K/V engine mount must be version 2 for patch support"
    p = cli.run("kv", "metadata", "get", "secret/app")
    assert p.returncode == 1 and p.stderr.strip() == "Metadata not supported on KV Version 1"


def test_version_and_token_capabilities(cli, dev_server):
    assert cli.run("version", check=True).stdout.startswith("Vault v")
    assert cli.run("-version", check=True).stdout == cli.run("version", check=True).stdout

    with open(os.path.join(cli.cwd, "cap.hcl"), "w") as f:
        f.write('path "secret/app/*" { capabilities = ["read", "list"] }\n')
    cli.run("policy-write", "cap-test", "cap.hcl", check=True)
    doc = json.loads(cli.run("token", "create", "-policy=cap-test", "-format=json", check=True).stdout)
    token = doc["auth"]["client_token"]

    p = cli.run("token", "capabilities", token, "secret/app/x", check=True)
    assert p.stdout.strip() == "list, read"
    p = cli.run("token", "capabilities", token, "secret/other", check=True)
    assert p.stdout.strip() == "deny"
    p = cli.run("capabilities", token, "secret/app/x", check=True)
    assert p.stdout.strip() == "Capabilities: [list read]"
    # Without a token argument: the token in use (root here).
    assert cli.run("token", "capabilities", "secret/app/x", check=True).stdout.strip() == "root"
