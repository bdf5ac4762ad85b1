"""hvac 0.11.2 (Debian) against the server: the client library users already have."""
import hvac
import pytest

from conftest import ROOT_TOKEN, Cli


@pytest.fixture
def client(dev_server):
    return hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)


def test_status_and_health(client):
    assert client.is_authenticated()
    assert client.sys.is_initialized()
    assert not client.sys.is_sealed()
    st = client.sys.read_seal_status()
    assert st["t"] == 1 and st["n"] == 1 and st["sealed"] is False
    health = client.sys.read_health_status(method="GET")  # hvac returns the JSON for a 200
    assert health["initialized"] is True and health["sealed"] is False
    assert client.sys.read_health_status(method="HEAD").status_code == 200
    assert client.sys.read_leader_status()["ha_enabled"] is False


def test_mount_options_as_clients_send_them(client, dev_server):
    # A number, as clients and their test suites send it.
    client.sys.enable_secrets_engine("kv", path="num-kv", options={"version": 1})
    client.secrets.kv.v1.create_or_update_secret("a", {"k": "v"}, mount_point="num-kv")
    assert client.secrets.kv.v1.read_secret("a", mount_point="num-kv")["data"] == {"k": "v"}
    # A KV version this server does not have is refused with a reason, not mounted as another.
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        client.sys.enable_secrets_engine("kv", path="v3-kv", options={"version": "3"})
    assert "invalid KV version" in str(e.value)
    assert "v3-kv/" not in client.sys.list_mounted_secrets_engines()["data"]
    cli = Cli(dev_server.addr, dev_server.home, token=ROOT_TOKEN)
    cli.run("secrets", "enable", "-version=2", "-path=cli-v2", "kv", check=True)
    assert client.sys.list_mounted_secrets_engines()["data"]["cli-v2/"]["options"] == {
        "version": "2"}
    # A mount's max lease TTL may exceed the system's (768h), as in Vault.
    client.sys.tune_mount_configuration("num-kv", max_lease_ttl="9000h")
    assert client.sys.read_mount_configuration("num-kv")["data"]["max_lease_ttl"] == 9000 * 3600


def test_mounts_kv_roundtrip(client):
    client.sys.enable_secrets_engine("kv", path="team-kv", description="team secrets",
                                     options={"version": "1"})
    mounts = client.sys.list_mounted_secrets_engines()
    assert mounts["data"]["team-kv/"]["type"] == "kv"
    assert mounts["data"]["team-kv/"]["description"] == "team secrets"
    kv = client.secrets.kv.v1
    kv.create_or_update_secret("app/db", {"user": "app", "password": "s3cr3t"}, mount_point="team-kv")
    kv.create_or_update_secret("app/api", {"key": "k"}, mount_point="team-kv")
    got = kv.read_secret("app/db", mount_point="team-kv")
    assert got["data"] == {"user": "app", "password": "s3cr3t"}
    assert got["lease_duration"] == 768 * 3600
    assert sorted(kv.list_secrets("app", mount_point="team-kv")["data"]["keys"]) == ["api", "db"]
    kv.delete_secret("app/db", mount_point="team-kv")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret("app/db", mount_point="team-kv")
    # The generic client API as well.
    client.write("team-kv/x", value="1", ttl="1h")
    assert client.read("team-kv/x")["lease_duration"] == 3600
    assert client.read("team-kv/missing") is None
    assert client.list("team-kv/")["data"]["keys"] == ["app/", "x"]


def test_tune_and_disable(client):
    client.sys.enable_secrets_engine("generic", path="tuned")
    client.sys.tune_mount_configuration("tuned", default_lease_ttl="1h", max_lease_ttl="2h")
    cfg = client.sys.read_mount_configuration("tuned")
    assert cfg["data"]["default_lease_ttl"] == 3600
    assert cfg["data"]["max_lease_ttl"] == 7200
    client.write("tuned/k", a="b")
    assert client.read("tuned/k")["lease_duration"] == 3600
    client.sys.move_backend("tuned", "moved")
    assert client.read("moved/k")["data"] == {"a": "b"}
    client.sys.disable_secrets_engine("moved")
    assert "moved/" not in client.sys.list_mounted_secrets_engines()["data"]


def test_errors_map_to_hvac_exceptions(client, dev_server):
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.enable_secrets_engine("kv", path="secret")  # already in use
    with pytest.raises(hvac.exceptions.Forbidden):
        client.sys.enable_secrets_engine("kv", path="sys")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.write("secret/empty")  # no data
    bad = hvac.Client(url=dev_server.addr, token="not-a-token")
    assert not bad.is_authenticated()
    with pytest.raises(hvac.exceptions.Forbidden):
        bad.read("secret/x")


def test_seal_unseal_with_hvac(client, dev_server):
    out = dev_server.output()
    key = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("Unseal Key: ")][0]
    client.write("secret/keep", v="1")
    client.sys.seal()
    assert client.sys.is_sealed()
    with pytest.raises(hvac.exceptions.VaultDown):
        client.read("secret/keep")
    st = client.sys.submit_unseal_key(key)
    assert st["sealed"] is False
    assert client.read("secret/keep")["data"] == {"v": "1"}
