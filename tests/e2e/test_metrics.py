"""sys/metrics as an operator scrapes it: the Prometheus text parses with Debian's
python3-prometheus-client, and the request, lease and AWS figures move as requests are made."""
import json
import os
import socket
import time

import hvac
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT_TOKEN, Cli, Server, free_port, wait_until
from emulator_fixture import start_emulator


@pytest.fixture
def emu():
    e = start_emulator()
    yield e
    e.stop()


def scrape(server, token=ROOT_TOKEN):
    headers = {"X-Vault-Token": token} if token else {}
    r = requests.get(server.addr + "/v1/sys/metrics", params={"format": "prometheus"},
                     headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            samples[key] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_prometheus_figures_move(dev_server, emu):
    before = scrape(dev_server)
    assert value(before, "vault_core_unsealed", cluster="vault-cluster-cpp") == 1
    assert value(before, "vault_core_active", cluster="vault-cluster-cpp") == 1
    requests_before = value(before, "vault_core_handle_request_count")

    cli = Cli(dev_server.addr, dev_server.home, token=ROOT_TOKEN)
    cli.run("secrets", "enable", "aws", check=True)
    cli.run("write", "aws/config/root", "access_key=" + emu.access_key,
            "secret_key=" + emu.secret_key, "region=us-east-1",
            "iam_endpoint=" + emu.endpoint, "sts_endpoint=" + emu.endpoint, check=True)
    cli.run("write", "aws/roles/deploy", "credential_type=iam_user",
            "policy_document=" + json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}), check=True)
    for _ in range(2):
        cli.run("read", "aws/creds/deploy", check=True)

    after = scrape(dev_server)
    assert value(after, "vault_core_handle_request_count") >= requests_before + 5
    assert value(after, "vault_core_handle_request_sum") > 0
    assert value(after, "vault_expire_num_leases") == value(before, "vault_expire_num_leases") + 2
    created = value(after, "vault_aws_call_count", service="iam", action="CreateUser",
                    outcome="ok")
    assert created == 2
    assert value(after, "vault_barrier_put_count") > value(before, "vault_barrier_put_count")

    # Leases by mount and state, lease creations by engine, per-mount route timings, AWS call
    # latencies as a histogram.
    assert value(after, "vault_expire_leases_by_mount", mount_point="aws/", state="active") == 2
    assert value(after, "vault_expire_leases_by_mount", mount_point="aws/",
                 state="irrevocable") == 0
    assert value(after, "vault_secret_lease_creation_total", secret_engine="aws",
                 mount_point="aws/", creation_ttl="1h", namespace="root") == 2
    assert value(after, "vault_route_read_aws__count") == 2
    assert value(after, "vault_route_update_aws__count") == 2  # config/root, roles/deploy
    assert value(after, "vault_aws_call_latency_count", service="iam", action="CreateUser",
                 outcome="ok") == 2
    assert value(after, "vault_aws_call_latency_bucket", service="iam", action="CreateUser",
                 outcome="ok", le="+Inf") == 2

    # Revoking the leases: the lease gauge comes back down, DeleteUser calls are counted.
    cli.run("lease", "revoke", "-prefix", "aws/creds/deploy", check=True)
    final = scrape(dev_server)
    assert value(final, "vault_expire_num_leases") == value(before, "vault_expire_num_leases")
    assert value(final, "vault_aws_call_count", service="iam", action="DeleteUser",
                 outcome="ok") == 2
    assert value(final, "vault_expire_leases_by_mount", mount_point="aws/", state="active") == 0
    assert value(final, "vault_expire_revoke_count") == value(before, "vault_expire_revoke_count") + 2


def test_json_format_and_access(dev_server):
    r = requests.get(dev_server.addr + "/v1/sys/metrics", headers={"X-Vault-Token": ROOT_TOKEN},
                     timeout=10)
    assert r.status_code == 200
    doc = r.json()
    assert set(doc) >= {"Timestamp", "Gauges", "Counters", "Samples"}
    names = {g["Name"] for g in doc["Gauges"]}
    assert "vault.core.unsealed" in names
    assert any(s["Name"] == "vault.core.handle_request" for s in doc["Samples"])
    r = requests.get(dev_server.addr + "/v1/sys/metrics", params={"format": "xml"},
                     headers={"X-Vault-Token": ROOT_TOKEN}, timeout=10)
    assert r.status_code == 400 and "unknown" in r.json()["errors"][0]
    # A token needs read on sys/metrics.
    assert requests.get(dev_server.addr + "/v1/sys/metrics", timeout=10).status_code == 403
    cli = Cli(dev_server.addr, dev_server.home, token=ROOT_TOKEN)
    cli.run("policy", "write", "metrics", "-", input='path "sys/metrics" { capabilities = ["read"] }',
            check=True)
    token = json.loads(cli.run("token", "create", "-policy=metrics", "-format=json",
                               check=True).stdout)["auth"]["client_token"]
    scrape(dev_server, token)
    other = json.loads(cli.run("token", "create", "-policy=default", "-format=json",
                               check=True).stdout)["auth"]["client_token"]
    r = requests.get(dev_server.addr + "/v1/sys/metrics", headers={"X-Vault-Token": other},
                     timeout=10)
    assert r.status_code == 403


def start_configured(home, telemetry, listener_telemetry=""):
    port = free_port()
    cfg = os.path.join(home, "vault.hcl")
    with open(cfg, "w") as f:
        f.write('storage "inmem" {}\n'
                'listener "tcp" {\n address = "127.0.0.1:%d"\n tls_disable = true\n%s}\n'
                'telemetry {\n%s}\n' % (port, listener_telemetry, telemetry))
    addr = "http://127.0.0.1:%d" % port
    server = Server(["-config=" + cfg], home, addr)
    client = hvac.Client(url=addr)
    init = client.sys.initialize(secret_shares=1, secret_threshold=1)
    client.sys.submit_unseal_key(init["keys"][0])
    client.token = init["root_token"]
    return server, client


def test_telemetry_stanza_token_count_and_unauthenticated_access(home):
    server, client = start_configured(
        home, ' usage_gauge_period = "1s"\n prometheus_retention_time = "1h"\n',
        " telemetry {\n  unauthenticated_metrics_access = true\n }\n")
    try:
        url = server.addr + "/v1/sys/metrics"
        # No token needed on this listener; GET only; the Accept header Prometheus sends works.
        r = requests.get(url, headers={"Accept": "application/openmetrics-text; version=1.0.0"},
                         timeout=10)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert requests.post(url, timeout=10).status_code == 405
        assert requests.get(url, timeout=10).json()["Gauges"]

        # disable_hostname is false: gauge names carry the host (go-metrics' rule), the others not.
        host = socket.gethostname()
        gauge = "vault_%s_token_count" % host.replace(".", "_").replace("-", "_")

        def tokens():
            samples = scrape(server, token="")
            return value(samples, gauge, namespace="root"), samples

        # The usage gauge is collected every second: tokens created show up.
        assert wait_until(lambda: tokens()[0] >= 1)  # the root token
        start, samples = tokens()
        assert value(samples, "vault_%s_core_unsealed" % host.replace(".", "_").replace("-", "_"),
                     cluster="vault-cluster-cpp") == 1
        assert ("vault_core_unsealed", (("cluster", "vault-cluster-cpp"),)) not in samples
        for _ in range(3):
            client.auth.token.create(policies=["default"], ttl="1h")
        assert wait_until(lambda: tokens()[0] == start + 3)
        _, samples = tokens()
        assert value(samples, "vault_token_creation_total", auth_method="token",
                     mount_point="auth/token/", creation_ttl="1h", token_type="service",
                     namespace="root") == 3
    finally:
        server.stop()


def test_prometheus_disabled_and_unknown_settings(home):
    server, client = start_configured(home, " prometheus_retention_time = 0\n disable_hostname = true\n")
    try:
        r = requests.get(server.addr + "/v1/sys/metrics", params={"format": "prometheus"},
                         headers={"X-Vault-Token": client.token}, timeout=10)
        assert r.status_code == 400
        assert r.json()["errors"] == ["prometheus is not enabled"]
        # JSON still answers; without the host in gauge names.
        doc = requests.get(server.addr + "/v1/sys/metrics", headers={"X-Vault-Token": client.token},
                           timeout=10).json()
        assert "vault.core.unsealed" in {g["Name"] for g in doc["Gauges"]}
        # Without the listener's telemetry block a token is required.
        assert requests.get(server.addr + "/v1/sys/metrics", timeout=10).status_code == 403
    finally:
        server.stop()
    # A sink this server does not have is refused at start, naming it.
    cfg = os.path.join(home, "bad.hcl")
    with open(cfg, "w") as f:
        f.write('storage "inmem" {}\nlistener "tcp" { address = "127.0.0.1:%d" tls_disable = true }\n'
                'telemetry { statsd_address = "127.0.0.1:8125" }\n' % free_port())
    import subprocess
    out = subprocess.run([os.environ["VAULT_BIN"], "server", "-config=" + cfg], capture_output=True,
                         text=True, timeout=20)
    assert out.returncode != 0
    assert "statsd_address" in out.stderr
