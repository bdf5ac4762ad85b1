"""KV version 2 through hvac 0.11.2 (Debian), plain HTTP and the CLI: versions, check-and-set
(also under concurrent writers), soft delete, undelete, destroy, metadata, policies on data/
paths, the in-place upgrade from version 1, sys/internal/ui/mounts, and dev mode's -dev-kv-v2."""
import json
import threading

import hvac
import pytest
import requests

from conftest import ROOT_TOKEN, Cli, Server, free_port


@pytest.fixture
def client(dev_server):
    c = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    c.sys.enable_secrets_engine("kv", path="kv2", options={"version": 2})
    return c


def http(server, method, path, token=ROOT_TOKEN, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["X-Vault-Token"] = token
    return requests.request(method, server.addr + "/v1/" + path, headers=headers, timeout=10, **kw)


def test_hvac_kv_v2_end_to_end(client):
    kv = client.secrets.kv.v2
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert mounts["kv2/"]["options"] == {"version": "2"}
    kv.configure(max_versions=5, mount_point="kv2")
    assert kv.read_configuration(mount_point="kv2")["data"]["max_versions"] == 5

    w1 = kv.create_or_update_secret("app/db", {"user": "svc", "pass": "one"}, mount_point="kv2")
    assert w1["data"]["version"] == 1 and w1["data"]["destroyed"] is False
    w2 = kv.create_or_update_secret("app/db", {"user": "svc", "pass": "two"}, cas=1,
                                    mount_point="kv2")
    assert w2["data"]["version"] == 2
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        kv.create_or_update_secret("app/db", {"pass": "x"}, cas=1, mount_point="kv2")
    assert "check-and-set parameter did not match the current version" in str(e.value)

    latest = kv.read_secret_version("app/db", mount_point="kv2")
    assert latest["data"]["data"] == {"user": "svc", "pass": "two"}
    assert latest["data"]["metadata"]["version"] == 2
    assert kv.read_secret_version("app/db", version=1, mount_point="kv2")["data"]["data"][
        "pass"] == "one"

    patched = kv.patch("app/db", {"pass": "three"}, mount_point="kv2")
    assert patched["data"]["version"] == 3
    assert kv.read_secret_version("app/db", mount_point="kv2")["data"]["data"] == {
        "user": "svc", "pass": "three"}

    kv.delete_latest_version_of_secret("app/db", mount_point="kv2")
    with pytest.raises(hvac.exceptions.InvalidPath) as e:
        kv.read_secret_version("app/db", mount_point="kv2")
    # Vault answers a deleted version with 404 and the version's metadata.
    body = json.loads(str(e.value).split(", on get")[0])
    assert body["data"]["data"] is None and body["data"]["metadata"]["version"] == 3
    assert body["data"]["metadata"]["deletion_time"] != ""
    kv.undelete_secret_versions("app/db", versions=[3], mount_point="kv2")
    assert kv.read_secret_version("app/db", mount_point="kv2")["data"]["data"]["pass"] == "three"
    kv.delete_secret_versions("app/db", versions=[1], mount_point="kv2")
    kv.destroy_secret_versions("app/db", versions=[2], mount_point="kv2")
    meta = kv.read_secret_metadata("app/db", mount_point="kv2")["data"]
    assert meta["current_version"] == 3 and meta["oldest_version"] == 0
    assert meta["versions"]["1"]["deletion_time"] != ""
    assert meta["versions"]["2"]["destroyed"] is True
    assert meta["versions"]["3"]["deletion_time"] == ""

    # The larger of the key's and the mount's max_versions applies (as Vault's code does).
    kv.update_metadata("app/db", max_versions=2, mount_point="kv2")
    kv.create_or_update_secret("app/db", {"pass": "four"}, mount_point="kv2")
    meta = kv.read_secret_metadata("app/db", mount_point="kv2")["data"]
    assert meta["max_versions"] == 2 and sorted(meta["versions"]) == ["1", "2", "3", "4"]
    kv.configure(max_versions=1, mount_point="kv2")
    kv.create_or_update_secret("app/db", {"pass": "five"}, mount_point="kv2")
    meta = kv.read_secret_metadata("app/db", mount_point="kv2")["data"]
    assert sorted(meta["versions"]) == ["4", "5"] and meta["oldest_version"] == 4
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version("app/db", version=3, mount_point="kv2")

    kv.create_or_update_secret("app/api", {"key": "k"}, mount_point="kv2")
    kv.create_or_update_secret("other", {"x": "y"}, mount_point="kv2")
    assert sorted(kv.list_secrets("app", mount_point="kv2")["data"]["keys"]) == ["api", "db"]
    assert sorted(kv.list_secrets("", mount_point="kv2")["data"]["keys"]) == ["app/", "other"]
    kv.delete_metadata_and_all_versions("app/db", mount_point="kv2")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata("app/db", mount_point="kv2")
    assert kv.list_secrets("app", mount_point="kv2")["data"]["keys"] == ["api"]


def test_kv_v1_with_numeric_version_option(client):
    client.sys.enable_secrets_engine("kv", path="num-kv", options={"version": 1})
    assert client.sys.list_mounted_secrets_engines()["data"]["num-kv/"]["options"] == {
        "version": "1"}
    client.secrets.kv.v1.create_or_update_secret("a", {"k": "v"}, mount_point="num-kv")
    assert client.secrets.kv.v1.read_secret("a", mount_point="num-kv")["data"] == {"k": "v"}
    # A version this server does not know is refused, naming the option; nothing is mounted.
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        client.sys.enable_secrets_engine("kv", path="v3-kv", options={"version": 3})
    assert "options.version" in str(e.value)
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        client.sys.enable_secrets_engine("kv", path="opt-kv", options={"colour": "red"})
    assert "options.colour" in str(e.value)
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert "v3-kv/" not in mounts and "opt-kv/" not in mounts


def test_http_shapes_and_errors(client, dev_server):
    r = http(dev_server, "POST", "kv2/data/app", json={"data": {"a": 1, "b": {"c": 2}}})
    assert r.status_code == 200 and r.json()["data"]["version"] == 1
    # PATCH needs a merge patch body type.
    r = http(dev_server, "PATCH", "kv2/data/app", json={"data": {"a": 2}})
    assert r.status_code == 415
    r = http(dev_server, "PATCH", "kv2/data/app", data=json.dumps({"data": {"a": 2}}),
             headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["data"]["version"] == 2
    r = http(dev_server, "GET", "kv2/subkeys/app")
    assert r.json()["data"]["subkeys"] == {"a": None, "b": {"c": None}}
    # A version 1 style path on a version 2 mount: 404 with Vault's warning.
    r = http(dev_server, "PUT", "kv2/app", json={"a": 1})
    assert r.status_code == 404
    assert "use 'vault kv put' for this operation" in r.json()["warnings"][0]
    r = http(dev_server, "GET", "kv2/data/missing")
    assert r.status_code == 404 and r.json() == {"errors": []}
    r = http(dev_server, "POST", "kv2/data/app", json={"options": {}})
    assert r.status_code == 400 and r.json()["errors"] == ["no data provided"]


def test_concurrent_check_and_set_writers(client, dev_server):
    http(dev_server, "POST", "kv2/data/race", json={"data": {"n": 0}}).raise_for_status()
    for version in range(1, 11):
        results = []

        def writer(i):
            r = http(dev_server, "POST", "kv2/data/race",
                     json={"data": {"n": i}, "options": {"cas": version}})
            results.append(r.status_code)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200] + [400] * 7, results
    meta = http(dev_server, "GET", "kv2/metadata/race").json()["data"]
    assert meta["current_version"] == 11


def test_policy_on_data_paths_confines_a_token(client, dev_server):
    client.sys.create_or_update_policy("app-kv", """
path "kv2/data/app/*" { capabilities = ["create", "read", "update", "patch"] }
path "kv2/metadata/app/*" { capabilities = ["list", "read"] }
""")
    token = client.auth.token.create(policies=["app-kv"])["auth"]["client_token"]
    user = hvac.Client(url=dev_server.addr, token=token)
    user.secrets.kv.v2.create_or_update_secret("app/db", {"p": "1"}, mount_point="kv2")
    assert user.secrets.kv.v2.read_secret_version("app/db", mount_point="kv2")["data"]["data"] == {
        "p": "1"}
    assert user.secrets.kv.v2.list_secrets("app", mount_point="kv2")["data"]["keys"] == ["db"]
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v2.create_or_update_secret("ops/db", {"p": "1"}, mount_point="kv2")
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v2.delete_metadata_and_all_versions("app/db", mount_point="kv2")
    with pytest.raises(hvac.exceptions.Forbidden):
        user.secrets.kv.v2.destroy_secret_versions("app/db", versions=[1], mount_point="kv2")
    caps = http(dev_server, "POST", "sys/capabilities-self", token=token,
                json={"path": "kv2/data/app/db"}).json()
    assert sorted(caps["capabilities"]) == ["create", "patch", "read", "update"]
    # The UI's mount preflight: the token reaches kv2/ through a rule under it, not secret/.
    r = http(dev_server, "GET", "sys/internal/ui/mounts/kv2/app/db", token=token)
    assert r.status_code == 200
    assert r.json()["data"]["path"] == "kv2/" and r.json()["data"]["options"] == {"version": "2"}
    r = http(dev_server, "GET", "sys/internal/ui/mounts/secret/x", token=token)
    assert r.status_code == 403 and "preflight capability check returned 403" in r.text
    r = http(dev_server, "GET", "sys/internal/ui/mounts/kv2", token=None)
    assert r.status_code == 403
    listed = http(dev_server, "GET", "sys/internal/ui/mounts", token=token).json()["data"]
    assert "kv2/" in listed["secret"] and "secret/" not in listed["secret"]
    assert http(dev_server, "GET", "sys/internal/ui/mounts", token=None).json()["data"] == {
        "secret": {}, "auth": {}}


def test_enable_versioning_upgrades_in_place(client, dev_server):
    client.sys.enable_secrets_engine("kv", path="old", options={"version": "1"})
    kv1 = client.secrets.kv.v1
    kv1.create_or_update_secret("app/db", {"password": "s3cr3t"}, mount_point="old")
    kv1.create_or_update_secret("top", {"a": "b"}, mount_point="old")
    r = http(dev_server, "POST", "sys/mounts/old/tune", json={"options": {"version": "2"}})
    assert r.status_code == 200
    assert r.json()["warnings"][0].startswith("Upgrading mount from version 1 to version 2.")
    kv = client.secrets.kv.v2
    got = kv.read_secret_version("app/db", mount_point="old")["data"]
    assert got["data"] == {"password": "s3cr3t"} and got["metadata"]["version"] == 1
    assert sorted(kv.list_secrets("", mount_point="old")["data"]["keys"]) == ["app/", "top"]
    r = http(dev_server, "POST", "sys/mounts/old/tune", json={"options": {"version": "1"}})
    assert r.status_code == 400 and r.json()["errors"] == ["cannot downgrade mount from version 2"]
    tune = http(dev_server, "GET", "sys/mounts/old/tune").json()
    assert tune["data"]["options"] == {"version": "2"}


def test_cli_kv_on_a_version_2_mount(client, dev_server):
    cli = Cli(dev_server.addr, dev_server.home, token=ROOT_TOKEN)
    put = cli.run("kv", "put", "kv2/app/db", "user=svc", "pass=one", check=True)
    assert "= Secret Path =" in put.stdout and "kv2/data/app/db" in put.stdout
    cli.run("kv", "put", "kv2/app/db", "user=svc", "pass=two", check=True)
    got = cli.run("kv", "get", "kv2/app/db", check=True).stdout
    assert "== Metadata ==" in got and "== Data ==" in got and "two" in got
    assert cli.run("kv", "get", "-field=pass", "-version=1", "kv2/app/db",
                   check=True).stdout == "one"
    assert cli.run("kv", "get", "-mount=kv2", "-field=user", "app/db", check=True).stdout == "svc"
    listed = cli.run("kv", "list", "kv2/app", check=True).stdout
    assert "db" in listed
    cli.run("kv", "delete", "kv2/app/db", check=True)
    deleted = cli.run("kv", "get", "kv2/app/db")
    assert deleted.returncode == 0 and "deletion_time" in deleted.stdout
    assert "== Data ==" not in deleted.stdout
    cli.run("kv", "undelete", "-versions=2", "kv2/app/db", check=True)
    cli.run("kv", "metadata", "put", "-max-versions=7", "-custom-metadata=team=core",
            "kv2/app/db", check=True)
    meta = json.loads(cli.run("kv", "metadata", "get", "-format=json", "kv2/app/db",
                              check=True).stdout)
    assert meta["data"]["max_versions"] == 7
    assert meta["data"]["custom_metadata"] == {"team": "core"}
    cli.run("kv", "patch", "kv2/app/db", "pass=three", check=True)
    assert cli.run("kv", "get", "-field=pass", "kv2/app/db", check=True).stdout == "three"
    cli.run("kv", "rollback", "-version=1", "kv2/app/db", check=True)
    assert cli.run("kv", "get", "-field=pass", "kv2/app/db", check=True).stdout == "one"
    cli.run("kv", "destroy", "-versions=1", "kv2/app/db", check=True)
    cli.run("kv", "metadata", "delete", "kv2/app/db", check=True)
    assert cli.run("kv", "get", "kv2/app/db").returncode == 2
    # The same commands still work on version 1 (secret/ in dev mode).
    cli.run("kv", "put", "secret/v1", "a=b", check=True)
    assert cli.run("kv", "get", "-field=a", "secret/v1", check=True).stdout == "b"
    p = cli.run("kv", "metadata", "get", "secret/v1")
    assert p.returncode != 0 and "Metadata not supported on KV Version 1" in p.stderr
    # `vault kv enable-versioning` upgrades a mount.
    cli.run("secrets", "enable", "-path=cli-kv", "kv", check=True)
    cli.run("kv", "put", "cli-kv/x", "a=1", check=True)
    ev = cli.run("kv", "enable-versioning", "cli-kv", check=True)
    assert "Success! Tuned the secrets engine at: cli-kv/" in ev.stdout
    assert cli.run("kv", "get", "-field=a", "cli-kv/x", check=True).stdout == "1"


def test_dev_kv_v2_flag(home):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    s = Server(["-dev", "-dev-kv-v2", "-dev-root-token-id=" + ROOT_TOKEN,
                "-dev-listen-address=127.0.0.1:%d" % port], home, addr)
    try:
        assert "The secrets engine at secret/ is KV version 2." in s.output()
        c = hvac.Client(url=addr, token=ROOT_TOKEN)
        c.secrets.kv.v2.create_or_update_secret("hello", {"foo": "world"})
        assert c.secrets.kv.v2.read_secret_version("hello")["data"]["data"] == {"foo": "world"}
    finally:
        s.stop()
