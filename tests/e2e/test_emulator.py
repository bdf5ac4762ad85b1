"""The IAM/STS emulator (tools/iam-emulator) against real AWS clients: boto3/botocore and the AWS CLI.

Run with Debian's interpreter: /usr/bin/python3 -m pytest tests/e2e/test_emulator.py
"""
import concurrent.futures
import datetime
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from emulator_fixture import (EMULATOR, mfa_codes, self_signed_certificate, ssh_rsa_public_key,  # noqa: E402
                              start_emulator)

sys.path.insert(0, os.path.dirname(EMULATOR))
from iamemu import sigv4  # noqa: E402

ACCOUNT = "123456789012"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
AWS_CLI = "/usr/bin/aws"


def allow(actions, resources="*"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}


def error_of(exc):
    """(code, message, HTTP status) of a ClientError or of pytest's ExceptionInfo around one."""
    err = getattr(exc, "value", exc).response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def emu_process():
    handle = start_emulator()
    yield handle
    handle.stop()


@pytest.fixture
def emu(emu_process):
    emu_process.reset()
    return emu_process


@pytest.fixture
def iam(emu):
    return emu.client("iam", max_attempts=1)


@pytest.fixture
def sts(emu):
    return emu.client("sts", max_attempts=1)


@pytest.fixture
def sts_raw(emu):
    """No client-side parameter validation: lets the emulator's own checks answer."""
    return emu.client("sts", max_attempts=1, parameter_validation=False)


def raw_request(emu, params, service="iam", region="us-east-1", access_key=None, secret_key=None, token=None,
                method="POST", sign=True):
    """A request signed by botocore's own SigV4 signer; returns (status, parsed XML root, body text)."""
    body = urllib.parse.urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    url = emu.endpoint + "/"
    if method == "GET":
        url, body = url + "?" + body, ""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(access_key or emu.access_key, secret_key or emu.secret_key, token),
                  service, region).add_auth(request)
    return send(request.url, request.method, body, dict(request.headers))


def send(url, method, body, headers):
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
            return resp.status, ET.fromstring(text), text
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        return err.code, ET.fromstring(text), text


def xml_text(root, name):
    ns = root.tag.split("}")[0] + "}"
    el = root.find(".//%s%s" % (ns, name))
    return None if el is None else el.text


# ---------------------------------------------------------------------------
# Vault's iam_user sequences (issue and revoke)

def test_iam_user_issue_and_revoke_sequence(emu, iam):
    iam.create_group(GroupName="g1")
    boundary = emu.create_policy("Boundary", allow("s3:*"))["arn"]
    name = "vault-token-myrole-1700000000-AbCdEfGhIjKlMnOpQrSt"
    emu.reset_calls()

    created = iam.create_user(UserName=name, Path="/", PermissionsBoundary=boundary)["User"]
    assert created["Arn"] == "arn:aws:iam::%s:user/%s" % (ACCOUNT, name)
    assert created["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                              "PermissionsBoundaryArn": boundary}
    for arn in ("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/IAMFullAccess"):
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    doc = json.dumps(allow("ec2:Describe*"), separators=(",", ":"))
    iam.put_user_policy(UserName=name, PolicyName="myrole", PolicyDocument=doc)
    iam.add_user_to_group(UserName=name, GroupName="g1")
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "eng"}])
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active"

    assert emu.actions() == ["CreateUser", "AttachUserPolicy", "AttachUserPolicy", "PutUserPolicy",
                             "AddUserToGroup", "TagUser", "CreateAccessKey"]
    create = emu.calls()[0]
    assert create["params"] == {"UserName": name, "Path": "/", "PermissionsBoundary": boundary}
    assert create["caller"] == emu.access_key and create["status"] == 200

    user = [u for u in emu.state()["users"] if u["name"] == name][0]
    assert user["groups"] == ["g1"] and user["tags"] == {"team": "eng"}
    assert user["inline_policies"] == {"myrole": json.loads(doc)}
    assert user["permissions_boundary"] == boundary
    assert user["access_keys"] == [{"id": key["AccessKeyId"], "status": "Active"}]
    assert "SecretAccessKey" not in json.dumps(emu.calls())

    # The new key works (Vault's users sign with it right away).
    who = emu.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert who["Arn"] == created["Arn"] and who["UserId"] == created["UserId"]

    # Revoke, exactly as Vault does it.
    emu.reset_calls()
    groups = iam.list_groups_for_user(UserName=name, MaxItems=1000)["Groups"]
    policies = iam.list_user_policies(UserName=name, MaxItems=1000)["PolicyNames"]
    attached = iam.list_attached_user_policies(UserName=name, MaxItems=1000)["AttachedPolicies"]
    keys = iam.list_access_keys(UserName=name, MaxItems=1000)["AccessKeyMetadata"]
    assert [g["GroupName"] for g in groups] == ["g1"] and policies == ["myrole"]
    assert [k["AccessKeyId"] for k in keys] == [key["AccessKeyId"]]
    for k in keys:
        iam.delete_access_key(AccessKeyId=k["AccessKeyId"], UserName=name)
    for a in attached:
        iam.detach_user_policy(UserName=name, PolicyArn=a["PolicyArn"])
    for p in policies:
        iam.delete_user_policy(UserName=name, PolicyName=p)
    for g in groups:
        iam.remove_user_from_group(GroupName=g["GroupName"], UserName=name)
    iam.delete_user(UserName=name)
    assert emu.actions() == ["ListGroupsForUser", "ListUserPolicies", "ListAttachedUserPolicies", "ListAccessKeys",
                             "DeleteAccessKey", "DetachUserPolicy", "DetachUserPolicy", "DeleteUserPolicy",
                             "RemoveUserFromGroup", "DeleteUser"]
    assert [u["name"] for u in emu.state()["users"]] == ["vault-root"]
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name)
    assert error_of(e) == ("NoSuchEntity", "The user with name %s cannot be found." % name, 404)
    # The deleted user's key is dead too.
    with pytest.raises(ClientError) as e:
        emu.client("sts", key["AccessKeyId"], key["SecretAccessKey"], max_attempts=1).get_caller_identity()
    assert error_of(e)[0] == "InvalidClientTokenId"


def attach_to_user(iam, user, attach):
    """Gives `user` one thing that blocks DeleteUser; returns a function that removes it again."""
    if attach == "key":
        key_id = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
        return lambda: iam.delete_access_key(UserName=user, AccessKeyId=key_id)
    if attach == "inline":
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(ALLOW_ALL))
        return lambda: iam.delete_user_policy(UserName=user, PolicyName="p")
    if attach == "managed":
        arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
        return lambda: iam.detach_user_policy(UserName=user, PolicyArn=arn)
    if attach == "group":
        iam.create_group(GroupName="g")
        iam.add_user_to_group(UserName=user, GroupName="g")
        return lambda: iam.remove_user_from_group(UserName=user, GroupName="g")
    if attach == "login_profile":
        iam.create_login_profile(UserName=user, Password="S3cret-password!")
        return lambda: iam.delete_login_profile(UserName=user)
    if attach == "mfa":
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user + "-phone")["VirtualMFADevice"]
        code1, code2 = mfa_codes(device["Base32StringSeed"])
        iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"], AuthenticationCode1=code1,
                              AuthenticationCode2=code2)
        return lambda: iam.deactivate_mfa_device(UserName=user, SerialNumber=device["SerialNumber"])
    if attach == "signing_certificate":
        cert_id = iam.upload_signing_certificate(UserName=user, CertificateBody=self_signed_certificate())[
            "Certificate"]["CertificateId"]
        return lambda: iam.delete_signing_certificate(UserName=user, CertificateId=cert_id)
    if attach == "ssh_key":
        key_id = iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=ssh_rsa_public_key())[
            "SSHPublicKey"]["SSHPublicKeyId"]
        return lambda: iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=key_id)
    assert attach == "service_credential"
    cred_id = iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")[
        "ServiceSpecificCredential"]["ServiceSpecificCredentialId"]
    return lambda: iam.delete_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred_id)


@pytest.mark.parametrize("attach, message", [
    ("key", "Cannot delete entity, must delete access keys first."),
    ("inline", "Cannot delete entity, must delete policies first."),
    ("managed", "Cannot delete entity, must detach all policies first."),
    ("group", "Cannot delete entity, must remove users from group first."),
    ("login_profile", "Cannot delete entity, must delete login profile first."),
    ("mfa", "Cannot delete entity, must delete MFA device first."),
    ("signing_certificate", "Cannot delete entity, must delete certificates first."),
    ("ssh_key", "Cannot delete entity, must remove referenced objects first."),
    ("service_credential", "Cannot delete entity, must remove referenced objects first."),
])
def test_delete_user_conflicts(iam, attach, message):
    iam.create_user(UserName="u1")
    iam.tag_user(UserName="u1", Tags=[{"Key": "k", "Value": "v"}])  # tags never block a delete
    remove = attach_to_user(iam, "u1", attach)
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="u1")
    assert error_of(e) == ("DeleteConflict", message, 409)
    remove()
    iam.delete_user(UserName="u1")
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="u1")
    assert error_of(e)[0] == "NoSuchEntity"


def test_delete_user_conflicts_until_everything_is_removed(emu, iam):
    """A user with one of everything: DeleteUser refuses until the last item is gone."""
    iam.create_user(UserName="u1")
    kinds = ["login_profile", "key", "signing_certificate", "ssh_key", "service_credential", "mfa", "inline",
             "managed", "group"]
    removers = [attach_to_user(iam, "u1", kind) for kind in kinds]
    user = [u for u in emu.state()["users"] if u["name"] == "u1"][0]
    assert user["login_profile"] and len(user["mfa_devices"]) == 1 and len(user["signing_certificates"]) == 1
    assert len(user["ssh_public_keys"]) == 1 and len(user["service_specific_credentials"]) == 1
    for remove in removers:
        with pytest.raises(ClientError) as e:
            iam.delete_user(UserName="u1")
        assert error_of(e)[0] == "DeleteConflict"
        remove()
    iam.delete_user(UserName="u1")


def test_virtual_mfa_devices(emu, iam):
    iam.create_user(UserName="u1")
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="u1-phone", Path="/team/",
                                            Tags=[{"Key": "owner", "Value": "u1"}])
    device = created["VirtualMFADevice"]
    serial = "arn:aws:iam::%s:mfa/team/u1-phone" % ACCOUNT
    assert device["SerialNumber"] == serial
    # Blobs: the base32 seed an authenticator app takes, and a PNG (boto3 decodes the base64).
    assert re.fullmatch(rb"[A-Z2-7]{64}", device["Base32StringSeed"])
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="u1-phone", Path="/team/")
    assert error_of(e) == ("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.", 409)
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial] and "User" not in unassigned[0]

    # Enabling takes two consecutive codes of the device.
    code1, code2 = mfa_codes(device["Base32StringSeed"])
    for bad in ((code2, code1), ("000000", "000000") if code1 != "000000" else ("111111", "111111")):
        with pytest.raises(ClientError) as e:
            iam.enable_mfa_device(UserName="u1", SerialNumber=serial, AuthenticationCode1=bad[0],
                                  AuthenticationCode2=bad[1])
        assert error_of(e) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName="u1", SerialNumber=serial + "x", AuthenticationCode1=code1,
                              AuthenticationCode2=code2)
    assert error_of(e)[0::2] == ("NoSuchEntity", 404)
    iam.enable_mfa_device(UserName="u1", SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2)
    listed = iam.list_mfa_devices(UserName="u1")
    assert listed["IsTruncated"] is False
    [mfa] = listed["MFADevices"]
    assert mfa["UserName"] == "u1" and mfa["SerialNumber"] == serial
    assert isinstance(mfa["EnableDate"], datetime.datetime)
    [assigned] = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned["SerialNumber"] == serial and assigned["User"]["UserName"] == "u1"
    assert "EnableDate" in assigned
    iam.create_user(UserName="u2")
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName="u2", SerialNumber=serial, AuthenticationCode1=code1,
                              AuthenticationCode2=code2)
    assert error_of(e) == ("EntityAlreadyExists", "MFA Device is already in use.", 409)

    # A device in use cannot be deleted; deactivated, it is still there until deleted.
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(e) == ("DeleteConflict", "MFA Device is still in use.", 409)
    iam.deactivate_mfa_device(UserName="u1", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="u1")["MFADevices"] == []
    with pytest.raises(ClientError) as e:
        iam.deactivate_mfa_device(UserName="u1", SerialNumber=serial)
    assert error_of(e) == ("NoSuchEntity", "MFA Device with serial number %s does not exist." % serial, 404)
    assert [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]] == [serial]
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    assert emu.state()["virtual_mfa_devices"] == []
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(e)[0::2] == ("NoSuchEntity", 404)
    # The one-time codes stay out of the call log.
    enable = emu.calls(action="EnableMFADevice")[-1]
    assert enable["params"]["AuthenticationCode1"] == "<redacted>" and code1 not in json.dumps(emu.calls())


def test_signing_certificates(iam):
    iam.create_user(UserName="u1")
    pem = self_signed_certificate("u1")
    cert = iam.upload_signing_certificate(UserName="u1", CertificateBody=pem)["Certificate"]
    assert cert["UserName"] == "u1" and cert["Status"] == "Active" and cert["CertificateBody"] == pem
    assert re.fullmatch(r"[A-Z2-7]{24,128}", cert["CertificateId"])
    assert isinstance(cert["UploadDate"], datetime.datetime)
    with pytest.raises(ClientError) as e:
        iam.upload_signing_certificate(UserName="u1", CertificateBody=pem)
    assert error_of(e) == ("DuplicateCertificate", "The Certificate with id %s already exists." % cert["CertificateId"],
                           409)
    for body in ("not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):
        with pytest.raises(ClientError) as e:
            iam.upload_signing_certificate(UserName="u1", CertificateBody=body)
        assert error_of(e)[0::2] == ("MalformedCertificate", 400)
    iam.upload_signing_certificate(UserName="u1", CertificateBody=self_signed_certificate("u1-second"))
    with pytest.raises(ClientError) as e:
        iam.upload_signing_certificate(UserName="u1", CertificateBody=self_signed_certificate("u1-third"))
    assert error_of(e) == ("LimitExceeded", "Cannot exceed quota for SigningCertificatesPerUser: 2", 409)
    listed = iam.list_signing_certificates(UserName="u1")
    assert listed["IsTruncated"] is False
    assert [c["CertificateId"] for c in listed["Certificates"]][0] == cert["CertificateId"]
    assert len(iam.list_signing_certificates(UserName="u1", MaxItems=1)["Certificates"]) == 1
    iam.delete_signing_certificate(UserName="u1", CertificateId=cert["CertificateId"])
    with pytest.raises(ClientError) as e:
        iam.delete_signing_certificate(UserName="u1", CertificateId=cert["CertificateId"])
    assert error_of(e) == ("NoSuchEntity", "The Certificate with id %s cannot be found." % cert["CertificateId"], 404)
    assert len(iam.list_signing_certificates(UserName="u1")["Certificates"]) == 1
    # Without UserName: the caller's own certificates.
    assert iam.list_signing_certificates()["Certificates"] == []


def test_ssh_public_keys(iam):
    iam.create_user(UserName="u1")
    body = ssh_rsa_public_key()
    key = iam.upload_ssh_public_key(UserName="u1", SSHPublicKeyBody=body)["SSHPublicKey"]
    assert key["UserName"] == "u1" and key["Status"] == "Active" and key["SSHPublicKeyBody"] == body
    assert re.fullmatch(r"APKA[A-Z2-7]{16}", key["SSHPublicKeyId"])
    assert re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", key["Fingerprint"])
    assert isinstance(key["UploadDate"], datetime.datetime)
    with pytest.raises(ClientError) as e:
        iam.upload_ssh_public_key(UserName="u1", SSHPublicKeyBody=body)
    assert error_of(e) == ("DuplicateSSHPublicKey",
                           "The SSH public key is already associated with the specified IAM user.", 400)
    with pytest.raises(ClientError) as e:
        iam.upload_ssh_public_key(UserName="u1", SSHPublicKeyBody="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVx x@y")
    assert error_of(e)[0::2] == ("UnrecognizedPublicKeyEncoding", 400)
    with pytest.raises(ClientError) as e:
        iam.upload_ssh_public_key(UserName="u1", SSHPublicKeyBody=ssh_rsa_public_key(bits=1024))
    assert error_of(e) == ("InvalidPublicKey", "The public key is malformed or otherwise invalid.", 400)
    for _ in range(4):
        iam.upload_ssh_public_key(UserName="u1", SSHPublicKeyBody=ssh_rsa_public_key())
    with pytest.raises(ClientError) as e:
        iam.upload_ssh_public_key(UserName="u1", SSHPublicKeyBody=ssh_rsa_public_key())
    assert error_of(e) == ("LimitExceeded", "Cannot exceed quota for SSHPublicKeysPerUser: 5", 409)
    listed = iam.list_ssh_public_keys(UserName="u1")
    assert listed["IsTruncated"] is False and len(listed["SSHPublicKeys"]) == 5
    first = listed["SSHPublicKeys"][0]
    assert set(first) == {"UserName", "SSHPublicKeyId", "Status", "UploadDate"}  # no body in listings
    assert first["SSHPublicKeyId"] == key["SSHPublicKeyId"]
    iam.delete_ssh_public_key(UserName="u1", SSHPublicKeyId=key["SSHPublicKeyId"])
    with pytest.raises(ClientError) as e:
        iam.delete_ssh_public_key(UserName="u1", SSHPublicKeyId=key["SSHPublicKeyId"])
    assert error_of(e) == ("NoSuchEntity", "The Public Key with id %s cannot be found." % key["SSHPublicKeyId"], 404)
    assert len(iam.list_ssh_public_keys(UserName="u1")["SSHPublicKeys"]) == 4


def test_service_specific_credentials(iam):
    iam.create_user(UserName="u1")
    cred = iam.create_service_specific_credential(UserName="u1", ServiceName="codecommit.amazonaws.com")[
        "ServiceSpecificCredential"]
    assert cred["UserName"] == "u1" and cred["Status"] == "Active"
    assert cred["ServiceName"] == "codecommit.amazonaws.com"
    assert cred["ServiceUserName"] == "u1-at-%s" % ACCOUNT and len(cred["ServicePassword"]) >= 40
    assert re.fullmatch(r"ACCA[A-Z2-7]{17}", cred["ServiceSpecificCredentialId"])
    assert isinstance(cred["CreateDate"], datetime.datetime)
    iam.create_service_specific_credential(UserName="u1", ServiceName="codecommit.amazonaws.com")
    with pytest.raises(ClientError) as e:
        iam.create_service_specific_credential(UserName="u1", ServiceName="codecommit.amazonaws.com")
    assert error_of(e) == ("LimitExceeded",
                           "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2", 409)
    keyspaces = iam.create_service_specific_credential(UserName="u1", ServiceName="cassandra.amazonaws.com")
    with pytest.raises(ClientError) as e:
        iam.create_service_specific_credential(UserName="u1", ServiceName="s3.amazonaws.com")
    assert error_of(e)[0::2] == ("NotSupportedService", 404)
    listed = iam.list_service_specific_credentials(UserName="u1")["ServiceSpecificCredentials"]
    assert len(listed) == 3 and "ServicePassword" not in listed[0]
    assert listed[0]["ServiceSpecificCredentialId"] == cred["ServiceSpecificCredentialId"]
    only = iam.list_service_specific_credentials(UserName="u1", ServiceName="cassandra.amazonaws.com")
    assert [c["ServiceSpecificCredentialId"] for c in only["ServiceSpecificCredentials"]] == [
        keyspaces["ServiceSpecificCredential"]["ServiceSpecificCredentialId"]]
    cred_id = cred["ServiceSpecificCredentialId"]
    iam.delete_service_specific_credential(UserName="u1", ServiceSpecificCredentialId=cred_id)
    with pytest.raises(ClientError) as e:
        iam.delete_service_specific_credential(UserName="u1", ServiceSpecificCredentialId=cred_id)
    assert error_of(e)[0::2] == ("NoSuchEntity", 404)
    assert len(iam.list_service_specific_credentials(UserName="u1")["ServiceSpecificCredentials"]) == 2


def test_user_attachments_of_a_missing_user(iam):
    for call in (lambda: iam.list_mfa_devices(UserName="ghost"),
                 lambda: iam.list_signing_certificates(UserName="ghost"),
                 lambda: iam.list_ssh_public_keys(UserName="ghost"),
                 lambda: iam.list_service_specific_credentials(UserName="ghost"),
                 lambda: iam.delete_login_profile(UserName="ghost")):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("NoSuchEntity", "The user with name ghost cannot be found.", 404)


def test_third_access_key_limit(iam):
    iam.create_user(UserName="u1")
    first = iam.create_access_key(UserName="u1")["AccessKey"]
    iam.create_access_key(UserName="u1")
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName="u1")
    assert error_of(e) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    iam.update_access_key(UserName="u1", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError):
        iam.create_access_key(UserName="u1")  # inactive keys count too
    keys = iam.list_access_keys(UserName="u1")["AccessKeyMetadata"]
    assert sorted(k["Status"] for k in keys) == ["Active", "Inactive"]
    assert keys[0]["CreateDate"] <= keys[1]["CreateDate"]


def test_input_validation(iam, sts):
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="a" * 65)
    assert error_of(e) == ("ValidationError", "1 validation error detected: Value '%s' at 'userName' failed to "
                           "satisfy constraint: Member must have length less than or equal to 64" % ("a" * 65), 400)
    iam.create_user(UserName="a" * 64)
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="bad name!")
    assert "Member must satisfy regular expression pattern: [\\w+=,.@-]+" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="x" * 70, Path="nopath")
    assert error_of(e)[1].startswith("2 validation errors detected: ")
    with pytest.raises(ClientError) as e:
        sts.get_federation_token(Name="n" * 33, Policy=json.dumps(ALLOW_ALL))
    assert error_of(e)[:2] == ("ValidationError", "1 validation error detected: Value '%s' at 'name' failed to "
                               "satisfy constraint: Member must have length less than or equal to 32" % ("n" * 33))
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="tagged", Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}])
    assert error_of(e)[0] == "InvalidInput"


@pytest.mark.parametrize("document, message", [
    ("This is not a json document", "Syntax errors in policy."),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
     "Policy document must be version 2012-10-17 or greater."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]},
     "Policy statement must contain resources."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]},
     "Policy statement must contain actions."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3", "Resource": "*"}]},
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}]},
     'Resource bucket must be in ARN format or "*".'),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                              "Resource": "*"}]},
     "Policy document should not specify a principal."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]},
     "Syntax errors in policy."),
])
def test_malformed_policy_document(iam, document, message):
    iam.create_user(UserName="u1")
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName="u1", PolicyName="p", PolicyDocument=text)
    assert error_of(e) == ("MalformedPolicyDocument", message, 400)


def test_inline_policy_quota_and_url_encoded_documents(emu, iam):
    iam.create_user(UserName="u1")
    big = allow(["s3:GetObject%04d" % i for i in range(150)])  # > 2048 chars without whitespace
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName="u1", PolicyName="big", PolicyDocument=json.dumps(big))
    assert error_of(e) == ("LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user u1", 409)
    doc = json.dumps(allow("s3:GetObject", "arn:aws:s3:::b/*"))
    iam.put_user_policy(UserName="u1", PolicyName="p", PolicyDocument=doc)
    iam.create_group(GroupName="g")
    iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=doc)
    # boto3 decodes the documents; the raw XML carries them URL-encoded (RFC 3986), as AWS does.
    assert iam.get_group_policy(GroupName="g", PolicyName="gp")["PolicyDocument"] == json.loads(doc)
    for params in ({"Action": "GetGroupPolicy", "GroupName": "g", "PolicyName": "gp"},
                   {"Action": "GetUserPolicy", "UserName": "u1", "PolicyName": "p"}):
        status, root, text = raw_request(emu, dict(params, Version="2010-05-08"))
        assert status == 200
        encoded = xml_text(root, "PolicyDocument")
        assert encoded == urllib.parse.quote(doc, safe="") and "%7B%22Version%22" in encoded


def test_no_such_entity(iam):
    cases = [
        (lambda: iam.get_user(UserName="ghost"), "The user with name ghost cannot be found."),
        (lambda: iam.get_group(GroupName="ghost"), "The group with name ghost cannot be found."),
        (lambda: iam.get_role(RoleName="ghost"), "The role with name ghost cannot be found."),
        (lambda: iam.attach_user_policy(UserName="vault-root", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy"),
         "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable."),
        (lambda: iam.add_user_to_group(UserName="vault-root", GroupName="ghost"),
         "The group with name ghost cannot be found."),
        (lambda: iam.get_user_policy(UserName="vault-root", PolicyName="ghost"),
         "The user policy with name ghost cannot be found."),
        (lambda: iam.delete_access_key(UserName="vault-root", AccessKeyId="AKIAAAAAAAAAAAAAAAAA"),
         "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found."),
        (lambda: iam.delete_login_profile(UserName="vault-root"), "Login Profile for User vault-root cannot be found."),
    ]
    for call, message in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("NoSuchEntity", message, 404)
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="VAULT-ROOT")  # names are case-insensitive
    assert error_of(e) == ("EntityAlreadyExists", "User with name VAULT-ROOT already exists.", 409)
    assert iam.get_user()["User"]["UserName"] == "vault-root"  # no UserName: the caller


def test_managed_policies_groups_and_roles(emu, iam):
    arn = iam.create_policy(PolicyName="p1", PolicyDocument=json.dumps(allow("s3:*")))["Policy"]["Arn"]
    assert arn == "arn:aws:iam::%s:policy/p1" % ACCOUNT
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]["IsAttachable"]
    iam.create_group(GroupName="devs")
    iam.attach_group_policy(GroupName="devs", PolicyArn=arn)
    iam.put_group_policy(GroupName="devs", PolicyName="inline", PolicyDocument=json.dumps(allow("ec2:*")))
    assert iam.list_attached_group_policies(GroupName="devs")["AttachedPolicies"] == [
        {"PolicyName": "p1", "PolicyArn": arn}]
    assert iam.list_group_policies(GroupName="devs")["PolicyNames"] == ["inline"]
    iam.create_user(UserName="u1")
    iam.add_user_to_group(UserName="u1", GroupName="devs")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["u1"]
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(e)[0] == "DeleteConflict"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}}]}
    role = iam.create_role(RoleName="r1", AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200)["Role"]
    assert role["MaxSessionDuration"] == 7200 and role["RoleId"].startswith("AROA")
    iam.put_role_policy(RoleName="r1", PolicyName="rp", PolicyDocument=json.dumps(allow("s3:*")))
    iam.attach_role_policy(RoleName="r1", PolicyArn=arn)
    assert iam.get_role(RoleName="r1")["Role"]["AssumeRolePolicyDocument"] == trust
    bad_trust = dict(trust, Statement=[dict(trust["Statement"][0], Principal={"AWS": "arn:aws:iam::%s:user/ghost"
                                                                               % ACCOUNT})])
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="r2", AssumeRolePolicyDocument=json.dumps(bad_trust))
    assert error_of(e)[0] == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName="u1",
                               PolicyArn="arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy")
    assert error_of(e)[0] == "PolicyNotAttachable"


def test_paging_with_max_items(iam):
    for i in range(7):
        iam.create_user(UserName="pg-%d" % i, Path="/paged/")
    first = iam.list_users(PathPrefix="/paged/", MaxItems=3)
    assert [u["UserName"] for u in first["Users"]] == ["pg-0", "pg-1", "pg-2"]
    assert first["IsTruncated"] is True and first["Marker"]
    second = iam.list_users(PathPrefix="/paged/", MaxItems=3, Marker=first["Marker"])
    assert [u["UserName"] for u in second["Users"]] == ["pg-3", "pg-4", "pg-5"]
    names = [u["UserName"] for page in iam.get_paginator("list_users").paginate(
        PathPrefix="/paged/", PaginationConfig={"PageSize": 2}) for u in page["Users"]]
    assert names == ["pg-%d" % i for i in range(7)]
    whole = iam.list_users(PathPrefix="/paged/")
    assert whole["IsTruncated"] is False and "Marker" not in whole
    iam.create_access_key(UserName="pg-0")
    iam.create_access_key(UserName="pg-0")
    one = iam.list_access_keys(UserName="pg-0", MaxItems=1)
    assert len(one["AccessKeyMetadata"]) == 1 and one["IsTruncated"] is True
    with pytest.raises(ClientError) as e:
        iam.list_users(MaxItems=1001)
    assert "Member must have value less than or equal to 1000" in error_of(e)[1]


# ---------------------------------------------------------------------------
# signatures and authentication

def test_wrong_secret_unknown_key_and_wrong_region(emu):
    bad_secret = emu.client("iam", secret_key="x" * 40, max_attempts=1)
    with pytest.raises(ClientError) as e:
        bad_secret.list_users()
    code, message, status = error_of(e)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")

    unknown = emu.client("sts", access_key="AKIAIOSFODNN7EXAMPLE", max_attempts=1)
    with pytest.raises(ClientError) as e:
        unknown.get_caller_identity()
    assert error_of(e) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)

    eu = emu.client("iam", region="eu-west-1", max_attempts=1)
    with pytest.raises(ClientError) as e:
        eu.list_users()
    assert error_of(e) == ("SignatureDoesNotMatch",
                           "Credential should be scoped to a valid region, not 'eu-west-1'. ", 403)
    # STS accepts regional scopes (Vault's default is sts.<region>).
    assert emu.client("sts", region="us-west-2").get_caller_identity()["Account"] == ACCOUNT

    status, root, text = raw_request(emu, {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                                     service="sts", sign=False)
    assert status == 403 and xml_text(root, "Code") == "MissingAuthenticationToken"
    assert root.tag == "{https://sts.amazonaws.com/doc/2011-06-15/}ErrorResponse"


def test_sts_region_set(tmp_path):
    with start_emulator(sts_regions="eu-central-1") as emu:
        assert emu.client("sts", region="eu-central-1").get_caller_identity()["Account"] == ACCOUNT
        assert emu.client("sts", region="us-east-1").get_caller_identity()["Account"] == ACCOUNT
        with pytest.raises(ClientError) as e:
            emu.client("sts", region="us-west-2", max_attempts=1).get_caller_identity()
        assert error_of(e)[:2] == ("SignatureDoesNotMatch",
                                   "Credential should be scoped to a valid region, not 'us-west-2'. ")


def test_expired_signature_and_unknown_action(emu):
    body = b"Action=ListUsers&Version=2010-05-08"
    host = urllib.parse.urlsplit(emu.endpoint).netloc
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    headers = sigv4.sign_headers("POST", "/", host, body, emu.access_key, emu.secret_key, "us-east-1", "iam", now=old)
    status, root, _ = send(emu.endpoint + "/", "POST", body.decode(), headers)
    assert status == 403 and xml_text(root, "Code") == "SignatureDoesNotMatch"
    assert xml_text(root, "Message").startswith("Signature expired: ")
    fresh = sigv4.sign_headers("POST", "/", host, body, emu.access_key, emu.secret_key, "us-east-1", "iam")
    assert send(emu.endpoint + "/", "POST", body.decode(), fresh)[0] == 200

    status, root, text = raw_request(emu, {"Action": "FlyToTheMoon", "Version": "2010-05-08"})
    assert status == 400 and xml_text(root, "Code") == "InvalidAction"
    assert root.tag == "{https://iam.amazonaws.com/doc/2010-05-08/}ErrorResponse"
    assert xml_text(root, "Type") == "Sender" and xml_text(root, "RequestId")
    # GET with the parameters in the query string works like POST.
    status, root, _ = raw_request(emu, {"Action": "ListUsers", "Version": "2010-05-08"}, method="GET")
    assert status == 200 and root.tag == "{https://iam.amazonaws.com/doc/2010-05-08/}ListUsersResponse"
    # STS actions are not IAM actions.
    status, root, _ = raw_request(emu, {"Action": "GetCallerIdentity", "Version": "2010-05-08"}, service="iam")
    assert status == 400 and xml_text(root, "Code") == "InvalidAction"


def test_malformed_requests(emu):
    body = "Action=ListUsers&Version=2010-05-08"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Amz-Date": "20260101T000000Z",
               "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE"}
    status, root, _ = send(emu.endpoint + "/", "POST", body, headers)
    assert status == 400 and xml_text(root, "Code") == "IncompleteSignature"
    assert "Authorization header requires 'Signature' parameter." in xml_text(root, "Message")
    status, root, _ = raw_request(emu, {"Version": "2010-05-08"})
    assert status == 400 and xml_text(root, "Code") == "MissingAction"
    status, root, _ = raw_request(emu, {"Action": "CreateUser", "Version": "2010-05-08"})
    assert (status, xml_text(root, "Code")) == (400, "ValidationError")
    assert xml_text(root, "Message") == ("1 validation error detected: Value null at 'userName' failed to satisfy "
                                         "constraint: Member must not be null")
    status, root, _ = raw_request(emu, {"Action": "TagUser", "Version": "2010-05-08", "UserName": "vault-root",
                                        "Tags.member.1.Key": "", "Tags.member.1.Value": "v"})
    assert status == 400 and "at 'tags.1.member.key' failed to satisfy constraint" in xml_text(root, "Message")
    assert [c["error"] for c in emu.calls()] == ["IncompleteSignature", "MissingAction", "ValidationError",
                                                 "ValidationError"]


def test_presigned_get_caller_identity(emu):
    url = emu.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url, timeout=10) as resp:
        root = ET.fromstring(resp.read())
    assert xml_text(root, "Arn") == "arn:aws:iam::%s:user/vault-root" % ACCOUNT


def test_access_denied_without_permission(emu):
    limited = emu.create_user("vault-limited", policy=allow(["iam:GetUser", "iam:ListUsers"]))
    iam = emu.client("iam", limited["access_key"], limited["secret_key"], max_attempts=1)
    iam.list_users()
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="vault-x")
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith("User: arn:aws:iam::%s:user/vault-limited is not authorized to perform: iam:CreateUser "
                              "on resource: arn:aws:iam::%s:user/vault-x" % (ACCOUNT, ACCOUNT))
    # Vault's documented root policy: only vault-* users, resource-scoped.
    scoped = emu.create_user("vault-scoped", policy=allow(["iam:CreateUser", "iam:DeleteUser"],
                                                          "arn:aws:iam::%s:user/vault-*" % ACCOUNT))
    iam2 = emu.client("iam", scoped["access_key"], scoped["secret_key"], max_attempts=1)
    iam2.create_user(UserName="vault-ok")
    with pytest.raises(ClientError) as e:
        iam2.create_user(UserName="other")
    assert error_of(e)[0] == "AccessDenied"
    # Explicit deny beats allow; conditions on iam:PermissionsBoundary work.
    denied = emu.create_user("vault-denied", policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*",
         "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}}]})
    iam3 = emu.client("iam", denied["access_key"], denied["secret_key"], max_attempts=1)
    with pytest.raises(ClientError) as e:
        iam3.create_user(UserName="vault-nob")
    assert "with an explicit deny" in error_of(e)[1]
    iam3.create_user(UserName="vault-b", PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess")
    # GetCallerIdentity needs no permission at all.
    nothing = emu.create_user("vault-nothing")
    assert emu.client("sts", nothing["access_key"], nothing["secret_key"]).get_caller_identity()["Arn"].endswith(
        "user/vault-nothing")
    assert [c["error"] for c in emu.calls(action="CreateUser")] == ["AccessDenied", None, "AccessDenied",
                                                                     "AccessDenied", None]


def test_root_policy_flag(tmp_path):
    policy = tmp_path / "root.json"
    policy.write_text(json.dumps(allow(["iam:GetUser", "sts:*"])))
    with start_emulator(root_policy=str(policy), root_user="admin", user_quota=2) as emu:
        iam = emu.client("iam", max_attempts=1)
        assert iam.get_user()["User"]["UserName"] == "admin"
        with pytest.raises(ClientError) as e:
            iam.create_user(UserName="vault-x")
        assert error_of(e)[0] == "AccessDenied"
        emu.create_user("second")
        with pytest.raises(RuntimeError, match="LimitExceeded"):
            emu.create_user("third")  # --user-quota 2: admin + second


def wait_until_ok(call, timeout=5.0):
    """Retry `call` until it stops raising ClientError; returns the time it first succeeded."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            call()
            return time.monotonic()
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_propagation_delay_of_new_keys(emu, iam):
    iam.create_user(UserName="u1")
    emu.set_faults(propagation_delay_ms=1000)
    created = time.monotonic()
    key = iam.create_access_key(UserName="u1")["AccessKey"]
    sts_new = emu.client("sts", key["AccessKeyId"], key["SecretAccessKey"], max_attempts=1)
    with pytest.raises(ClientError) as e:
        sts_new.get_caller_identity()
    assert error_of(e) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    usable = wait_until_ok(sts_new.get_caller_identity)
    assert usable - created >= 0.9
    assert sts_new.get_caller_identity()["Arn"].endswith(":user/u1")


def test_user_propagation_delay(emu, iam):
    emu.set_faults(user_propagation_delay_ms=800)
    created = time.monotonic()
    iam.create_user(UserName="u1")
    with pytest.raises(ClientError) as e:
        iam.list_groups_for_user(UserName="u1")
    assert error_of(e)[0] == "NoSuchEntity"
    assert wait_until_ok(lambda: iam.list_groups_for_user(UserName="u1")) - created >= 0.7
    assert iam.list_groups_for_user(UserName="u1")["Groups"] == []


# ---------------------------------------------------------------------------
# STS

def trust_policy(principal="arn:aws:iam::%s:root" % ACCOUNT, condition=None, actions=("sts:AssumeRole",)):
    st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": list(actions)}
    if condition:
        st["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [st]}


def test_assume_role_rules(emu, sts, sts_raw):
    role = emu.create_role("deploy", trust_policy(), max_session_duration=7200, policy=allow("sts:AssumeRole"),
                           policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"])
    out = sts.assume_role(RoleArn=role["arn"], RoleSessionName="vault-sess", DurationSeconds=7200)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40 and creds["SessionToken"]
    remaining = creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert 7100 < remaining.total_seconds() <= 7200
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::%s:assumed-role/deploy/vault-sess" % ACCOUNT
    assert out["AssumedRoleUser"]["AssumedRoleId"] == "%s:vault-sess" % role["id"]

    # The temporary credentials work with their session token, and act with the role's policies.
    kw = dict(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"],
              max_attempts=1)
    assert emu.client("sts", **kw).get_caller_identity()["Arn"] == out["AssumedRoleUser"]["Arn"]
    role_iam = emu.client("iam", **kw)
    role_iam.list_users()
    with pytest.raises(ClientError) as e:
        role_iam.create_user(UserName="vault-x")
    assert error_of(e)[1].startswith("User: arn:aws:sts::%s:assumed-role/deploy/vault-sess is not authorized to "
                                     "perform: iam:CreateUser" % ACCOUNT)
    no_token = dict(kw, session_token=None)
    with pytest.raises(ClientError) as e:
        emu.client("sts", **no_token).get_caller_identity()
    assert error_of(e)[0] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        emu.client("sts", **dict(kw, session_token="FwoGZXIvYXdzEwrong")).get_caller_identity()
    assert error_of(e)[0] == "InvalidClientTokenId"

    # Role chaining is capped at one hour.
    with pytest.raises(ClientError) as e:
        emu.client("sts", **kw).assume_role(RoleArn=role["arn"], RoleSessionName="chain", DurationSeconds=3601)
    assert error_of(e)[1] == "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by " \
                             "role chaining."

    # Duration limits.
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["arn"], RoleSessionName="s1", DurationSeconds=7201)
    assert error_of(e) == ("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                                              "this role.", 400)
    with pytest.raises(ClientError) as e:
        sts_raw.assume_role(RoleArn=role["arn"], RoleSessionName="s1", DurationSeconds=899)
    assert "Member must have value greater than or equal to 900" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        sts_raw.assume_role(RoleArn=role["arn"], RoleSessionName="s")
    assert "at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2" \
        in error_of(e)[1]

    # Unknown role: AccessDenied, as AWS answers.
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::%s:role/ghost" % ACCOUNT, RoleSessionName="s1")
    assert error_of(e)[0] == "AccessDenied"

    # Session policy narrows the role's permissions.
    narrowed = sts.assume_role(RoleArn=role["arn"], RoleSessionName="narrow",
                               Policy=json.dumps(allow("iam:GetUser")))
    assert narrowed["PackedPolicySize"] > 0
    nc = narrowed["Credentials"]
    narrow_iam = emu.client("iam", nc["AccessKeyId"], nc["SecretAccessKey"], nc["SessionToken"], max_attempts=1)
    with pytest.raises(ClientError) as e:
        narrow_iam.list_users()
    assert "because no session policy allows the iam:ListUsers action" in error_of(e)[1]


def test_assume_role_trust_and_external_id(emu, sts):
    other = emu.create_user("other")
    only_other = emu.create_role("only-other", trust_policy("arn:aws:iam::%s:user/other" % ACCOUNT))
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=only_other["arn"], RoleSessionName="s1")
    assert error_of(e)[1] == ("User: arn:aws:iam::%s:user/vault-root is not authorized to perform: sts:AssumeRole on "
                              "resource: %s" % (ACCOUNT, only_other["arn"]))
    # Named in the trust policy: no identity policy needed.
    assert emu.client("sts", other["access_key"], other["secret_key"]).assume_role(
        RoleArn=only_other["arn"], RoleSessionName="s1")["Credentials"]["AccessKeyId"].startswith("ASIA")

    ext = emu.create_role("ext", trust_policy(condition={"StringEquals": {"sts:ExternalId": "ext123"}}))
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ext["arn"], RoleSessionName="s1")
    assert error_of(e)[0] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=ext["arn"], RoleSessionName="s1", ExternalId="wrong1")
    assert error_of(e)[0] == "AccessDenied"
    sts.assume_role(RoleArn=ext["arn"], RoleSessionName="s1", ExternalId="ext123",
                    PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])
    assert emu.calls(action="AssumeRole")[-1]["params"]["PolicyArns.member.1.arn"] == \
        "arn:aws:iam::aws:policy/ReadOnlyAccess"

    # Session tags need sts:TagSession in the trust policy.
    no_tags = emu.create_role("no-tags", trust_policy())
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=no_tags["arn"], RoleSessionName="s1", Tags=[{"Key": "k", "Value": "v"}])
    assert "sts:TagSession" in error_of(e)[1]
    tags_ok = emu.create_role("tags-ok", trust_policy(actions=("sts:AssumeRole", "sts:TagSession")))
    sts.assume_role(RoleArn=tags_ok["arn"], RoleSessionName="s1", Tags=[{"Key": "k", "Value": "v"}])

    # The caller's identity policy must allow sts:AssumeRole when the trust policy names the account.
    weak = emu.create_user("weak", policy=allow("iam:GetUser"))
    with pytest.raises(ClientError) as e:
        emu.client("sts", weak["access_key"], weak["secret_key"], max_attempts=1).assume_role(
            RoleArn=no_tags["arn"], RoleSessionName="s1")
    assert error_of(e)[0] == "AccessDenied"


def test_federation_token(emu, sts, sts_raw):
    name = "vault-1700000000-AbCdEfGhIjKlMnO"
    assert len(name) == 32
    out = sts.get_federation_token(Name=name, Policy=json.dumps(allow("s3:*")), DurationSeconds=900,
                                   PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])
    assert out["FederatedUser"]["Arn"] == "arn:aws:sts::%s:federated-user/%s" % (ACCOUNT, name)
    assert out["FederatedUser"]["FederatedUserId"] == "%s:%s" % (ACCOUNT, name)
    creds = out["Credentials"]
    kw = dict(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"],
              max_attempts=1)
    fed_sts = emu.client("sts", **kw)
    assert fed_sts.get_caller_identity()["Arn"] == out["FederatedUser"]["Arn"]
    with pytest.raises(ClientError) as e:
        emu.client("iam", **kw).list_users()  # federated users cannot call IAM
    assert error_of(e)[0] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        fed_sts.get_federation_token(Name="again", Policy=json.dumps(ALLOW_ALL))
    assert error_of(e) == ("AccessDenied", "Cannot call GetFederationToken with session credentials", 403)
    with pytest.raises(ClientError) as e:
        sts_raw.get_federation_token(Name="x", Policy=json.dumps(ALLOW_ALL))
    assert "Member must have length greater than or equal to 2" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        sts_raw.get_federation_token(Name="toolong", DurationSeconds=129601)
    assert "Member must have value less than or equal to 129600" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        sts.get_federation_token(Name="badpolicy", Policy="{not json")
    assert error_of(e)[0] == "MalformedPolicyDocument"
    role = emu.create_role("r", trust_policy())
    rc = sts.assume_role(RoleArn=role["arn"], RoleSessionName="s1")["Credentials"]
    with pytest.raises(ClientError) as e:
        emu.client("sts", rc["AccessKeyId"], rc["SecretAccessKey"], rc["SessionToken"],
                   max_attempts=1).get_federation_token(Name="fromrole", Policy=json.dumps(ALLOW_ALL))
    assert error_of(e)[1] == "Cannot call GetFederationToken with session credentials"


def test_session_token_and_expiry(emu, sts, sts_raw):
    out = sts.get_session_token(DurationSeconds=900, SerialNumber="arn:aws:iam::%s:mfa/dev" % ACCOUNT,
                                TokenCode="123456")
    creds = out["Credentials"]
    kw = dict(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"],
              max_attempts=1)
    assert emu.client("sts", **kw).get_caller_identity()["Arn"] == "arn:aws:iam::%s:user/vault-root" % ACCOUNT
    emu.client("iam", **kw).list_users()  # with MFA, IAM calls are allowed
    with pytest.raises(ClientError) as e:
        emu.client("sts", **kw).get_session_token()
    assert error_of(e)[1] == "Cannot call GetSessionToken with session credentials"
    plain = sts.get_session_token()["Credentials"]
    remaining = plain["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert 43100 < remaining.total_seconds() <= 43200
    with pytest.raises(ClientError) as e:
        emu.client("iam", plain["AccessKeyId"], plain["SecretAccessKey"], plain["SessionToken"],
                   max_attempts=1).list_users()  # without MFA, no IAM
    assert error_of(e)[0] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts_raw.get_session_token(SerialNumber="arn:aws:iam::%s:mfa/dev" % ACCOUNT, TokenCode="12345")
    assert "at 'tokenCode'" in error_of(e)[1]

    emu.expire(creds["AccessKeyId"])
    with pytest.raises(ClientError) as e:
        emu.client("sts", **kw).get_caller_identity()
    assert error_of(e) == ("ExpiredToken", "The security token included in the request is expired", 400)


# ---------------------------------------------------------------------------
# faults

def test_throttle_every_nth_and_botocore_retry(emu):
    emu.set_faults(throttle_every=2)
    retrying = emu.client("iam", max_attempts=3)
    meta = [retrying.list_users()["ResponseMetadata"]["RetryAttempts"] for _ in range(3)]
    assert max(meta) >= 1  # some call was throttled and retried to success
    no_retry = emu.client("iam", max_attempts=1)
    codes = []
    for _ in range(4):
        try:
            no_retry.list_users()
            codes.append(None)
        except ClientError as e:
            codes.append(error_of(e))
    assert ("Throttling", "Rate exceeded", 400) in codes and None in codes
    emu.set_faults(throttle_every=0)


def test_throttle_next_calls_of_an_action(emu, iam):
    emu.set_faults(throttle_actions={"CreateUser": 2})
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            iam.create_user(UserName="u1")
        assert error_of(e) == ("Throttling", "Rate exceeded", 400)
    iam.list_users()  # other actions are untouched
    iam.create_user(UserName="u1")
    assert [(c["action"], c["error"]) for c in emu.calls()] == [
        ("CreateUser", "Throttling"), ("CreateUser", "Throttling"), ("ListUsers", None), ("CreateUser", None)]
    assert emu.state()["faults"]["throttle_actions"] == {}


def test_rate_limit(emu):
    emu.set_faults(rate_limit=2)  # a burst of 2, then 2 per second
    iam = emu.client("iam", max_attempts=1)
    results = []
    for _ in range(12):
        try:
            iam.list_users()
            results.append("ok")
        except ClientError as e:
            results.append(error_of(e)[0])
    assert 2 <= results.count("ok") <= 8 and "Throttling" in results


def test_error_rate_and_injected_failures(emu, iam):
    emu.set_faults(error_rate=1.0)
    with pytest.raises(ClientError) as e:
        iam.list_users()
    assert error_of(e)[0] == "ServiceFailure" and error_of(e)[2] == 500
    emu.set_faults(error_rate=0)
    iam.create_user(UserName="u1")
    emu.set_faults(fail_actions={"AttachUserPolicy": 1})
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName="u1", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert error_of(e)[2] == 500
    emu.set_faults(fail_actions={"PutUserPolicy": {"count": 1, "code": "ConcurrentModification", "status": 409,
                                                   "message": "busy"}})
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName="u1", PolicyName="p", PolicyDocument=json.dumps(ALLOW_ALL))
    assert error_of(e) == ("ConcurrentModification", "busy", 409)
    iam.put_user_policy(UserName="u1", PolicyName="p", PolicyDocument=json.dumps(ALLOW_ALL))
    # A dropped connection is retried by botocore like any network error.
    emu.set_faults(drop_actions={"GetUser": 1})
    assert emu.client("iam", max_attempts=3).get_user(UserName="u1")["User"]["UserName"] == "u1"
    emu.set_faults(drop_actions={"GetUser": 1})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        iam.get_user(UserName="u1")


def test_latency_and_concurrency(emu):
    emu.set_faults(latency_ms=300)
    sts = emu.client("sts")
    started = time.time()
    sts.get_caller_identity()
    assert time.time() - started >= 0.3
    # 200 concurrent slow calls overlap: the emulator holds no lock while it sleeps.
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    host = urllib.parse.urlsplit(emu.endpoint).netloc

    def one(_):
        headers = sigv4.sign_headers("POST", "/", host, body, emu.access_key, emu.secret_key, "us-east-1", "sts")
        return send(emu.endpoint + "/", "POST", body.decode(), headers)[0]

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        statuses = list(pool.map(one, range(200)))
    elapsed = time.time() - started
    assert statuses == [200] * 200
    assert elapsed < 3.0, elapsed
    emu.set_faults(latency_ms=0, latency_actions={"CreateUser": 200})
    assert emu.state()["faults"]["latency_actions"] == {"CreateUser": 200}


def test_call_log_received_is_when_the_bytes_arrived():
    """Two requests written at once on one connection: the call log's "received" of the second is
    when its bytes reached the emulator's socket (with the first), not when the handler got round
    to it after the first call's 300 ms; "answered" is when each answer's write began and "sent"
    when its last byte left (the kernel's transmit timestamp), so neither is after the answer's
    bytes reached the client (the kernel's receive timestamp here). A fresh
    emulator, so that this is its only connection: the bytes may arrive before the connection's
    handler thread has started, and no other socket keeps the kernel's timestamping on."""
    import socket
    with start_emulator() as emu:
        _check_received_stamps(emu, socket)


def _check_received_stamps(emu, socket):
    emu.set_faults(latency_ms=300)
    emu.reset_calls()
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    parts = urllib.parse.urlsplit(emu.endpoint)
    raw = b""
    for _ in range(2):
        headers = sigv4.sign_headers("POST", "/", parts.netloc, body, emu.access_key, emu.secret_key,
                                     "us-east-1", "sts")
        head = "".join("%s: %s\r\n" % kv for kv in headers.items())
        raw += ("POST / HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n" % (head, len(body))).encode() + body

    def complete(buf):
        """How many whole responses buf holds."""
        n = 0
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return n
            length = int(re.search(rb"(?i)content-length: *(\d+)", buf[:end]).group(1))
            if len(buf) < end + 4 + length:
                return n
            n, buf = n + 1, buf[end + 4 + length:]

    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
        sent = time.time()
        sock.sendall(raw)
        got = b""
        first_arrived = None  # when the first answer's bytes reached this socket
        while complete(got) < 2:
            chunk, anc, _, _ = sock.recvmsg(65536, 256)
            assert chunk, got
            got += chunk
            for level, kind, data in anc:
                if first_arrived is None and level == socket.SOL_SOCKET and kind == 35:
                    sec, ns = struct.unpack("qq", data[:16])
                    first_arrived = sec + ns / 1e9
    # "answered" is set just after the write returns: wait for it
    deadline = time.time() + 5
    while any(c["answered"] is None for c in emu.calls()) and time.time() < deadline:
        time.sleep(0.01)
    first, second = emu.calls()
    assert first["status"] == second["status"] == 200
    assert sent - 0.05 <= first["received"] <= sent + 0.1
    assert abs(second["received"] - first["received"]) < 0.1, (first, second)
    assert second["answered"] - second["received"] >= 0.55  # it waited for the first call too
    assert first["answered"] - first["received"] >= 0.3
    assert first_arrived is not None and first["answered"] <= first_arrived, (first, first_arrived)
    # "sent": the kernel's transmit timestamp of each answer's last byte, after its write began
    # and, on loopback, before the bytes reached this socket.
    for call in (first, second):
        assert call["sent"] is not None, call
        assert call["answered"] <= call["sent"] < call["answered"] + 0.05, call
    assert first["sent"] <= first_arrived, (first, first_arrived)
    assert second["sent"] - first["sent"] >= 0.25  # each answer's own stamp, not the other's


# ---------------------------------------------------------------------------
# transports and other clients

def test_aws_cli(emu):
    if not os.path.exists(AWS_CLI):
        pytest.skip("AWS CLI not installed")
    with tempfile.TemporaryDirectory() as home:
        env = emu.env(home)

        def aws(*args):
            p = subprocess.run([AWS_CLI, "--endpoint-url", emu.endpoint, "--output", "json"] + list(args),
                               capture_output=True, text=True, env=env, timeout=60)
            assert p.returncode == 0, p.stderr
            return json.loads(p.stdout) if p.stdout.strip() else None

        created = aws("iam", "create-user", "--user-name", "cli-user", "--path", "/cli/")
        assert created["User"]["Arn"] == "arn:aws:iam::%s:user/cli/cli-user" % ACCOUNT
        listed = aws("iam", "list-users", "--path-prefix", "/cli/")
        assert [u["UserName"] for u in listed["Users"]] == ["cli-user"]
        who = aws("sts", "get-caller-identity")
        assert who == {"UserId": who["UserId"], "Account": ACCOUNT,
                       "Arn": "arn:aws:iam::%s:user/vault-root" % ACCOUNT}
        p = subprocess.run([AWS_CLI, "--endpoint-url", emu.endpoint, "iam", "get-user", "--user-name", "ghost"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode != 0 and "NoSuchEntity" in p.stderr
    assert "CreateUser" in emu.actions() and "GetCallerIdentity" in emu.actions()


def test_https(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    with start_emulator(tls_cert=str(cert), tls_key=str(key)) as emu:
        assert emu.endpoint.startswith("https://127.0.0.1:")
        assert emu.client("sts").get_caller_identity()["Account"] == ACCOUNT
        assert emu.client("iam").create_user(UserName="tls-user")["User"]["UserName"] == "tls-user"
        assert emu.state()["counts"]["users"] == 2


def test_state_file_and_admin_api(tmp_path):
    state_file = tmp_path / "emulator.json"
    with start_emulator(state_file=str(state_file), root_access_key="AKIAEXAMPLEROOTKEY01",
                        root_secret_key="s" * 40) as emu:
        info = json.loads(state_file.read_text())
        assert info == emu.info
        assert set(info) == {"endpoint", "access_key", "secret_key", "admin"}
        assert info["access_key"] == "AKIAEXAMPLEROOTKEY01"
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/_emulator", info["admin"])
        emu.create_group("g", policy=allow("s3:*"))
        made = emu.create_user("vault-a", policy=allow("s3:*"), groups=["g"], tags={"t": "1"},
                               policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"])
        assert made["access_key"].startswith("AKIA") and len(made["secret_key"]) == 40
        state = emu.state()
        user = [u for u in state["users"] if u["name"] == "vault-a"][0]
        assert user["groups"] == ["g"] and user["tags"] == {"t": "1"}
        assert user["attached_policies"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        assert user["access_keys"][0]["id"] == made["access_key"] and "secret" not in json.dumps(user)
        assert state["counts"]["users"] == 2 and state["groups"][0]["members"] == ["vault-a"]
        with pytest.raises(RuntimeError, match="unknown fault setting"):
            emu.set_faults(no_such_fault=1)
        assert emu.admin("GET", "health") == {"ok": True}


def test_many_connections_keep_alive(emu):
    """Keep-alive connections from many threads; the call log keeps every call in order."""
    def worker(n):
        client = emu.client("sts")
        for _ in range(10):
            client.get_caller_identity()
        return n

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(worker, range(20)))
    calls = emu.calls()
    assert len(calls) == 200 and [c["seq"] for c in calls] == sorted(c["seq"] for c in calls)
    assert threading.active_count() >= 1
