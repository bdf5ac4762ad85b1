"""The Quick Start of Vault 0.2's AWS backend documentation end to end: the real server, the vault
CLI and hvac, with AWS played by the project's IAM/STS emulator."""
import json
import os
import time

import hvac
import pytest

from conftest import ROOT_TOKEN, wait_until
from emulator_fixture import mfa_codes, self_signed_certificate, ssh_rsa_public_key, start_emulator

SEED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
}


@pytest.fixture
def emu():
    e = start_emulator()
    yield e
    e.stop()


# The first round of a revocation's IAM calls, sent together (sorted here).
REVOKE_FIRST_ROUND = sorted([
    "ListGroupsForUser", "ListUserPolicies", "ListAttachedUserPolicies", "ListAccessKeys",
    "ListMFADevices", "ListSigningCertificates", "ListSSHPublicKeys",
    "ListServiceSpecificCredentials", "DeleteLoginProfile"])


def vault_users(emu):
    return [u for u in emu.state()["users"] if u["name"].startswith("vault-") and u["name"] != "vault-root"]


def table(out):
    """`vault read` table output -> {key: value}."""
    rows = {}
    for line in out.splitlines()[2:]:
        parts = line.split(None, 1)
        if parts:
            rows[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return rows


def configure(cli, emu, access_key=None, secret_key=None):
    p = cli.run("write", "aws/config/root",
                "access_key=" + (access_key or emu.access_key),
                "secret_key=" + (secret_key or emu.secret_key),
                "region=us-east-1",
                "iam_endpoint=" + emu.endpoint, "sts_endpoint=" + emu.endpoint)
    assert p.returncode == 0, p.stderr
    return p


def mount_with_deploy_role(cli, emu):
    """aws/ mounted, pointed at the emulator, with the Quick Start's role `deploy`."""
    cli.run("mount", "aws", check=True)
    configure(cli, emu)
    cli.run("write", "aws/roles/deploy", "policy=" + json.dumps(SEED_POLICY), check=True)


def test_seed_quick_start_verbatim(cli, emu):
    p = cli.run("mount", "aws")
    assert p.returncode == 0, p.stderr
    assert "Successfully mounted 'aws' at 'aws'!" in p.stdout
    configure(cli, emu)
    with open(os.path.join(cli.cwd, "policy.json"), "w") as f:
        json.dump(SEED_POLICY, f)
    p = cli.run("write", "aws/roles/deploy", "policy=@policy.json")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "Success! Data written to: aws/roles/deploy"

    leases = []
    for _ in range(2):
        p = cli.run("read", "aws/creds/deploy", check=True)
        rows = table(p.stdout)
        assert rows["lease_id"].startswith("aws/creds/deploy/")
        assert rows["lease_duration"] == "3600"
        assert rows["access_key"].startswith("AKIA") and len(rows["secret_key"]) == 40
        # The key works: the emulator accepts a call signed with it.
        ident = emu.client("sts", access_key=rows["access_key"],
                           secret_key=rows["secret_key"]).get_caller_identity()
        assert ":user/vault-root-deploy-" in ident["Arn"]
        leases.append(rows["lease_id"])
    users = vault_users(emu)
    assert len(users) == 2
    assert all(u["inline_policies"]["deploy"] == SEED_POLICY for u in users)

    emu.reset_calls()
    for lease in leases:
        p = cli.run("revoke", lease)
        assert p.returncode == 0, p.stderr
        assert "Success! Revoked the secret with ID '%s', if it existed." % lease in p.stdout
    assert vault_users(emu) == []
    # Each revocation: everything that can hang off the user looked for at once, then Vault's
    # deletions, ending with DeleteUser.
    actions = emu.actions()
    assert len(actions) == 2 * (len(REVOKE_FIRST_ROUND) + 3)
    for one in (actions[:12], actions[12:]):
        assert sorted(one[:9]) == REVOKE_FIRST_ROUND
        assert one[9:] == ["DeleteAccessKey", "DeleteUserPolicy", "DeleteUser"]

    p = cli.run("path-help", "aws")
    assert p.returncode == 0
    assert "creds/" in p.stdout and "config/root" in p.stdout


def test_seed_insufficient_privilege_and_unknown_revoke(cli, emu):
    limited = emu.create_user("hashicorp", policy={
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:GetUser"], "Resource": "*"}]})
    cli.run("mount", "aws", check=True)
    configure(cli, emu, limited["access_key"], limited["secret_key"])
    cli.run("write", "aws/roles/deploy", "policy=" + json.dumps(SEED_POLICY), check=True)
    p = cli.run("read", "aws/creds/deploy")
    assert p.returncode != 0
    assert ("* Error creating IAM user: User: arn:aws:iam::123456789012:user/hashicorp is not "
            "authorized to perform: iam:CreateUser on resource: "
            "arn:aws:iam::123456789012:user/vault-root-deploy-") in p.stderr
    assert vault_users(emu) == []
    lease = "aws/creds/deploy/774cfb27-c22d-6e78-0077-254879d1af3c"
    p = cli.run("revoke", lease)
    assert p.returncode != 0
    assert "Revoke error: Error making API request." in p.stderr
    assert "URL: PUT %s/v1/sys/revoke/%s" % (cli.env["VAULT_ADDR"], lease) in p.stderr
    assert "Code: 400. Errors:" in p.stderr
    assert "* invalid request" in p.stderr


def test_leases_expire_renew_capped_and_revoke_prefix(cli, emu):
    cli.run("mount", "aws", check=True)
    configure(cli, emu)
    cli.run("write", "aws/config/lease", "lease=3s", "lease_max=6s", check=True)
    p = cli.run("read", "aws/config/lease", "-format=json", check=True)
    assert json.loads(p.stdout)["data"] == {"lease": "3s", "lease_max": "6s"}
    cli.run("write", "aws/roles/deploy", "policy=" + json.dumps(SEED_POLICY), check=True)
    first = table(cli.run("read", "aws/creds/deploy", check=True).stdout)
    assert first["lease_duration"] == "3"
    p = cli.run("renew", first["lease_id"], check=True)
    assert table(p.stdout)["lease_duration"] in ("2", "3")
    # Expiry deletes the IAM user on time, and renewals never pass lease_max.
    assert wait_until(lambda: len(vault_users(emu)) == 0, timeout=12)
    p = cli.run("renew", first["lease_id"])
    assert p.returncode != 0

    ids = [table(cli.run("read", "aws/creds/deploy", check=True).stdout)["lease_id"]
           for _ in range(3)]
    assert len(vault_users(emu)) == 3
    p = cli.run("revoke", "-prefix", "aws/creds/deploy")
    assert p.returncode == 0, p.stderr
    assert vault_users(emu) == []
    for lease in ids:
        assert cli.run("revoke", lease).returncode != 0  # gone


def test_hvac_aws_api_and_all_credential_types(dev_server, emu):
    client = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    client.sys.enable_secrets_engine("aws", path="aws")
    aws = client.secrets.aws
    aws.configure_root_iam_credentials(access_key=emu.access_key, secret_key=emu.secret_key,
                                       region="us-east-1", iam_endpoint=emu.endpoint,
                                       sts_endpoint=emu.endpoint)
    cfg = client.read("aws/config/root")["data"]
    assert cfg["access_key"] == emu.access_key and "secret_key" not in cfg
    aws.configure_lease(lease="1h", lease_max="2h")
    assert aws.read_lease_config()["data"] == {"lease": "1h0m0s", "lease_max": "2h0m0s"}

    role = emu.create_role("deployer")
    aws.create_or_update_role("iam", "iam_user", policy_document=json.dumps(SEED_POLICY))
    aws.create_or_update_role("assumed", "assumed_role", role_arns=[role["arn"]])
    aws.create_or_update_role("fed", "federation_token", policy_document=json.dumps(SEED_POLICY))
    # hvac 0.11.2 predates the session_token type: plain write.
    client.write("aws/roles/sess", credential_type="session_token")
    assert sorted(aws.list_roles()["data"]["keys"]) == ["assumed", "fed", "iam", "sess"]
    assert aws.read_role("iam")["data"]["credential_type"] == "iam_user"

    creds = aws.generate_credentials("iam")
    assert creds["lease_id"].startswith("aws/creds/iam/") and creds["renewable"]
    assert creds["data"]["security_token"] is None
    for name, kind in (("assumed", "assumed_role"), ("fed", "federation_token"),
                       ("sess", "session_token")):
        c = aws.generate_credentials(name, endpoint="sts")
        d = c["data"]
        assert d["access_key"].startswith("ASIA"), kind
        assert d["security_token"] and d["session_token"] == d["security_token"], kind
        assert c["renewable"] is False, kind
        ident = emu.client("sts", access_key=d["access_key"], secret_key=d["secret_key"],
                           session_token=d["session_token"]).get_caller_identity()
        assert ident["Account"] == "123456789012", kind
    assert len(vault_users(emu)) == 1

    client.sys.revoke_lease(creds["lease_id"])
    assert vault_users(emu) == []
    aws.delete_role("sess")
    assert "sess" not in aws.list_roles()["data"]["keys"]

    old = emu.access_key
    aws.rotate_root_iam_credentials()
    new = client.read("aws/config/root")["data"]["access_key"]
    assert new != old
    # The rotated root key still issues credentials.
    assert aws.generate_credentials("iam")["data"]["access_key"].startswith("AKIA")


def test_revoke_removes_what_was_attached_to_the_user(cli, emu):
    """The holder of the credentials gave its IAM user a console password, an MFA device, an SSH
    key, a signing certificate, Git credentials and a second access key: the revocation removes
    all of it, then the user (Vault leaves such users behind, hashicorp/vault#16685)."""
    mount_with_deploy_role(cli, emu)
    rows = table(cli.run("read", "aws/creds/deploy", check=True).stdout)
    mine = emu.client("sts", access_key=rows["access_key"], secret_key=rows["secret_key"])
    user = mine.get_caller_identity()["Arn"].rsplit("/", 1)[1]
    assert [u["name"] for u in vault_users(emu)] == [user]

    iam = emu.client("iam")
    iam.create_login_profile(UserName=user, Password="Console-passw0rd!")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    code1, code2 = mfa_codes(device["Base32StringSeed"])
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=code1, AuthenticationCode2=code2)
    iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=ssh_rsa_public_key())
    iam.upload_signing_certificate(UserName=user, CertificateBody=self_signed_certificate(user))
    iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")
    iam.create_access_key(UserName=user)
    [state] = vault_users(emu)
    assert state["login_profile"] and state["mfa_devices"] == [device["SerialNumber"]]
    assert len(state["ssh_public_keys"]) == 1 and len(state["signing_certificates"]) == 1
    assert len(state["service_specific_credentials"]) == 1 and len(state["access_keys"]) == 2
    # As AWS does, the emulator refuses to delete such a user.
    with pytest.raises(Exception, match="DeleteConflict"):
        iam.delete_user(UserName=user)

    emu.reset_calls()
    p = cli.run("lease", "revoke", rows["lease_id"])
    assert p.returncode == 0, p.stderr
    assert vault_users(emu) == []
    assert emu.state()["virtual_mfa_devices"] == []  # deactivated, then deleted
    actions = emu.actions()
    assert sorted(actions[:9]) == REVOKE_FIRST_ROUND
    assert actions[9:] == ["DeleteAccessKey", "DeleteAccessKey", "DeleteSigningCertificate",
                           "DeleteSSHPublicKey", "DeleteServiceSpecificCredential",
                           "DeactivateMFADevice", "DeleteVirtualMFADevice", "DeleteUserPolicy",
                           "DeleteUser"]
    assert all(c["status"] in (200, 404) for c in emu.calls())  # 404: nothing left to find


def test_rotate_root_waits_for_the_new_key(cli, emu):
    """rotate-root keeps the old key until the new one has signed a call, retrying while IAM
    (here: the emulator's propagation delay) does not accept it yet."""
    mount_with_deploy_role(cli, emu)
    emu.set_faults(propagation_delay_ms=1500)
    emu.reset_calls()
    p = cli.run("write", "-force", "-format=json", "aws/config/rotate-root")
    assert p.returncode == 0, p.stderr
    new_key = json.loads(p.stdout)["data"]["access_key"]
    assert new_key != emu.access_key
    probes = [c for c in emu.calls(action="GetCallerIdentity")]
    assert len(probes) >= 2 and {c["caller"] for c in probes} == {new_key}
    assert probes[0]["error"] == "InvalidClientTokenId" and probes[-1]["status"] == 200
    calls = emu.calls()
    deleted = [c for c in calls if c["action"] == "DeleteAccessKey"]
    assert [c["params"]["AccessKeyId"] for c in deleted] == [emu.access_key]
    assert deleted[0]["seq"] > probes[-1]["seq"]  # the old key went only after the proof
    root = [u for u in emu.state()["users"] if u["name"] == "vault-root"][0]
    assert [k["id"] for k in root["access_keys"]] == [new_key]
    cfg = json.loads(cli.run("read", "-format=json", "aws/config/root", check=True).stdout)
    assert cfg["data"]["access_key"] == new_key
    emu.set_faults(reset=True)
    assert table(cli.run("read", "aws/creds/deploy", check=True).stdout)["access_key"].startswith(
        "AKIA")


# ---------------------------------------------------------------------------------------------
# Static roles

def vault_static_keys(emu, user):
    return [k["AccessKeyId"] for k in emu.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]]


def test_static_role_create_creds_list_delete(cli, emu):
    cli.run("mount", "aws", check=True)
    configure(cli, emu)
    emu.create_user("app-user", access_key=False)

    p = cli.run("write", "aws/static-roles/app", "username=app-user", "rotation_period=1m")
    assert p.returncode == 0, p.stderr
    rows = table(p.stdout)  # 200 with the role, as Vault answers
    assert rows["name"] == "app" and rows["username"] == "app-user" and rows["rotation_period"] == "1m"  # the CLI shows durations
    role = json.loads(cli.run("read", "-format=json", "aws/static-roles/app", check=True).stdout)["data"]
    user_id = emu.client("iam").get_user(UserName="app-user")["User"]["UserId"]
    assert role == {"name": "app", "id": user_id, "username": "app-user", "rotation_period": 60,
                    "assume_role_arn": "", "assume_role_session_name": "", "external_id": ""}
    assert json.loads(cli.run("list", "-format=json", "aws/static-roles", check=True).stdout) == ["app"]

    creds = json.loads(cli.run("read", "-format=json", "aws/static-creds/app", check=True).stdout)
    assert creds["lease_id"] == "" and creds["lease_duration"] == 0 and creds["renewable"] is False
    data = creds["data"]
    assert sorted(data) == ["access_key", "expiration", "secret_key"]
    assert data["expiration"].endswith("Z")
    # The key works, belongs to the adopted user, and is its only key.
    ident = emu.client("sts", access_key=data["access_key"], secret_key=data["secret_key"]).get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::123456789012:user/app-user"
    assert vault_static_keys(emu, "app-user") == [data["access_key"]]
    # Same key until it is rotated.
    again = json.loads(cli.run("read", "-format=json", "aws/static-creds/app", check=True).stdout)["data"]
    assert again == data

    # Errors: an unknown user, a period under a minute, the Enterprise-only fields.
    p = cli.run("write", "aws/static-roles/bad", "username=ghost", "rotation_period=1h")
    assert p.returncode != 0
    assert "Code: 400" in p.stderr and '* unable to validate username "ghost": ' in p.stderr
    p = cli.run("write", "aws/static-roles/bad", "username=app-user", "rotation_period=30s")
    assert "* role rotation period out of range: must be greater than 60.00 seconds" in p.stderr
    p = cli.run("write", "aws/static-roles/bad", "username=app-user", "rotation_period=1h",
                "assume_role_arn=arn:aws:iam::123456789012:role/x")
    assert "* cross-account static roles are only supported in Vault Enterprise" in p.stderr
    assert cli.run("read", "aws/static-roles/bad").returncode == 2  # 404

    p = cli.run("delete", "aws/static-roles/app")
    assert p.returncode == 0, p.stderr
    assert "Success! Data deleted (if it existed) at: aws/static-roles/app" in p.stdout
    # Vault's key is gone, the user stays.
    assert vault_static_keys(emu, "app-user") == []
    assert emu.client("iam").get_user(UserName="app-user")["User"]["UserName"] == "app-user"
    assert cli.run("read", "aws/static-creds/app").returncode == 2
    assert cli.run("list", "aws/static-roles").returncode == 2

    p = cli.run("path-help", "aws/static-roles/app")
    assert p.returncode == 0 and "rotation_period" in p.stdout


@pytest.mark.skipif(not os.environ.get("VAULT_E2E_SLOW"), reason="waits a rotation period (set VAULT_E2E_SLOW=1)")
def test_static_role_rotates_on_the_rollback_pass(cli, emu, dev_server):
    unseal_key = [l.split(": ", 1)[1] for l in dev_server.output().splitlines()
                  if l.startswith("Unseal Key: ")][0]
    cli.run("mount", "aws", check=True)
    configure(cli, emu)
    emu.create_user("app-user", access_key=False)
    own = emu.client("iam").create_access_key(UserName="app-user")["AccessKey"]["AccessKeyId"]
    cli.run("write", "aws/static-roles/app", "username=app-user", "rotation_period=1m", check=True)
    first = json.loads(cli.run("read", "-format=json", "aws/static-creds/app", check=True).stdout)["data"]
    assert sorted(vault_static_keys(emu, "app-user")) == sorted([own, first["access_key"]])
    time.sleep(61)
    # Unsealing runs a rollback pass at once (rather than waiting for the next minute's).
    cli.run("operator", "seal", check=True)
    cli.run("operator", "unseal", unseal_key, check=True)

    def rotated():
        d = json.loads(cli.run("read", "-format=json", "aws/static-creds/app", check=True).stdout)["data"]
        return d if d["access_key"] != first["access_key"] else None
    assert wait_until(lambda: rotated() is not None, timeout=30)
    second = rotated()
    # Vault's previous key was replaced; the user's own key is untouched.
    assert sorted(vault_static_keys(emu, "app-user")) == sorted([own, second["access_key"]])
    ident = emu.client("sts", access_key=second["access_key"], secret_key=second["secret_key"]).get_caller_identity()
    assert ident["Arn"].endswith(":user/app-user")
    assert "rotated the access key of static role app" in dev_server.output()
    assert second["secret_key"] not in dev_server.output() and first["secret_key"] not in dev_server.output()
