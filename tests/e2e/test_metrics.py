"""sys/metrics as an operator scrapes it: the Prometheus text parses with Debian's
python3-prometheus-client, and the request, lease and AWS figures move as requests are made."""
import json

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT_TOKEN, Cli
from emulator_fixture import start_emulator


@pytest.fixture
def emu():
    e = start_emulator()
    yield e
    e.stop()


def scrape(server, token=ROOT_TOKEN):
    r = requests.get(server.addr + "/v1/sys/metrics", params={"format": "prometheus"},
                     headers={"X-Vault-Token": token}, timeout=10)
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

    # Revoking the leases: the lease gauge comes back down, DeleteUser calls are counted.
    cli.run("lease", "revoke", "-prefix", "aws/creds/deploy", check=True)
    final = scrape(dev_server)
    assert value(final, "vault_expire_num_leases") == value(before, "vault_expire_num_leases")
    assert value(final, "vault_aws_call_count", service="iam", action="DeleteUser",
                 outcome="ok") == 2


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
