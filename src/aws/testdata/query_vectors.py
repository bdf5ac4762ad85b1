#!/usr/bin/python3
"""Generates query_vectors.json: request bodies as botocore puts them on the wire.

    /usr/bin/python3 src/aws/testdata/query_vectors.py > src/aws/testdata/query_vectors.json

Each vector is (service, operation, params) serialized with the service's botocore model and
form-encoded by AWSRequest.prepare() exactly as boto3 sends it; params
are given in the order aws/query.cc adds them (the model's member order). aws/query_test.cc
builds the same calls with the C++ builders and compares the bodies byte for byte.
"""
import json
import sys

import botocore
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.serialize import create_serializer

POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","ec2:*"],' \
         '"Resource":"arn:aws:s3:::bucket/a b+c&d=e"}]}'
USER = "vault-token-myrole-1700000000-AbCdEfGhIjKlMnOpQrSt"

VECTORS = [
    ("create_user_full", "iam", "CreateUser", {
        "Path": "/vault/", "UserName": USER,
        "PermissionsBoundary": "arn:aws:iam::123456789012:policy/Boundary",
        "Tags": [{"Key": "team", "Value": "eng"}, {"Key": "cost center", "Value": "R&D/caf\u00e9 ~*!'()+="}]}),
    ("create_user_minimal", "iam", "CreateUser", {"UserName": "u@x.y+z=,_-"}),
    ("get_user_caller", "iam", "GetUser", {}),
    ("get_user_named", "iam", "GetUser", {"UserName": "alice"}),
    ("delete_user", "iam", "DeleteUser", {"UserName": USER}),
    ("tag_user", "iam", "TagUser", {"UserName": "u", "Tags": [{"Key": "team", "Value": "eng"}]}),
    ("put_user_policy", "iam", "PutUserPolicy",
     {"UserName": "u", "PolicyName": "deploy role", "PolicyDocument": POLICY}),
    ("delete_user_policy", "iam", "DeleteUserPolicy", {"UserName": "u", "PolicyName": "deploy"}),
    ("list_user_policies", "iam", "ListUserPolicies", {"UserName": "u", "MaxItems": 1000}),
    ("attach_user_policy", "iam", "AttachUserPolicy",
     {"UserName": "u", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    ("detach_user_policy", "iam", "DetachUserPolicy",
     {"UserName": "u", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    ("list_attached_user_policies", "iam", "ListAttachedUserPolicies", {"UserName": "u", "MaxItems": 1000}),
    ("add_user_to_group", "iam", "AddUserToGroup", {"GroupName": "devs", "UserName": "u"}),
    ("remove_user_from_group", "iam", "RemoveUserFromGroup", {"GroupName": "devs", "UserName": "u"}),
    ("list_groups_for_user", "iam", "ListGroupsForUser", {"UserName": "u", "MaxItems": 1000}),
    ("create_access_key", "iam", "CreateAccessKey", {"UserName": "u"}),
    ("delete_access_key", "iam", "DeleteAccessKey", {"UserName": "u", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE"}),
    ("list_access_keys", "iam", "ListAccessKeys", {"UserName": "u", "MaxItems": 1000}),
    ("delete_login_profile", "iam", "DeleteLoginProfile", {"UserName": USER}),
    ("list_mfa_devices", "iam", "ListMFADevices", {"UserName": "u", "MaxItems": 1000}),
    ("deactivate_mfa_device", "iam", "DeactivateMFADevice",
     {"UserName": "u", "SerialNumber": "arn:aws:iam::123456789012:mfa/path/u-phone"}),
    ("delete_virtual_mfa_device", "iam", "DeleteVirtualMFADevice",
     {"SerialNumber": "arn:aws:iam::123456789012:mfa/path/u-phone"}),
    ("list_signing_certificates", "iam", "ListSigningCertificates", {"UserName": "u", "MaxItems": 1000}),
    ("delete_signing_certificate", "iam", "DeleteSigningCertificate",
     {"UserName": "u", "CertificateId": "TA7SMP42TDN5Z26OBPJE7EXAMPLE"}),
    ("list_ssh_public_keys", "iam", "ListSSHPublicKeys", {"UserName": "u", "MaxItems": 1000}),
    ("delete_ssh_public_key", "iam", "DeleteSSHPublicKey",
     {"UserName": "u", "SSHPublicKeyId": "APKAEIBAERJR2EXAMPLE"}),
    ("list_service_specific_credentials", "iam", "ListServiceSpecificCredentials", {"UserName": "u"}),
    ("delete_service_specific_credential", "iam", "DeleteServiceSpecificCredential",
     {"UserName": "u", "ServiceSpecificCredentialId": "ACCAEXAMPLE123EXAMPLE"}),
    ("list_attached_group_policies", "iam", "ListAttachedGroupPolicies", {"GroupName": "devs", "MaxItems": 1000}),
    ("list_group_policies", "iam", "ListGroupPolicies", {"GroupName": "devs", "MaxItems": 1000}),
    ("get_group_policy", "iam", "GetGroupPolicy", {"GroupName": "devs", "PolicyName": "p1"}),
    ("assume_role_full", "sts", "AssumeRole", {
        "RoleArn": "arn:aws:iam::123456789012:role/deploy", "RoleSessionName": "vault-x",
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                       {"arn": "arn:aws:iam::123456789012:policy/Extra"}],
        "Policy": POLICY, "DurationSeconds": 3600,
        "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}], "ExternalId": "ext123"}),
    ("assume_role_minimal", "sts", "AssumeRole",
     {"RoleArn": "arn:aws:iam::123456789012:role/deploy", "RoleSessionName": "vault-x"}),
    ("get_federation_token", "sts", "GetFederationToken", {
        "Name": "vault-1700000000-AbCdEfGhIjKlMnO", "Policy": POLICY,
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}], "DurationSeconds": 43200}),
    ("get_session_token_mfa", "sts", "GetSessionToken", {
        "DurationSeconds": 3600, "SerialNumber": "arn:aws:iam::123456789012:mfa/dev", "TokenCode": "123456"}),
    ("get_session_token_plain", "sts", "GetSessionToken", {"DurationSeconds": 900}),
    ("get_caller_identity", "sts", "GetCallerIdentity", {}),
]


def main():
    session = botocore.session.get_session()
    out = []
    for name, service, op, params in VECTORS:
        model = session.get_service_model(service)
        req = create_serializer("query").serialize_to_request(params, model.operation_model(op))
        # The serializer returns a dict; AWSRequest.prepare() form-encodes it for the wire
        # (urllib's urlencode: RFC 3986 unreserved kept, space as '+', the rest %XX).
        encoded = AWSRequest(method="POST", url="https://%s.amazonaws.com/" % service,
                             data=req["body"]).prepare().body
        out.append({"name": name, "service": service, "operation": op, "body": encoded})
    json.dump({"generator": "src/aws/testdata/query_vectors.py with botocore " + botocore.__version__,
               "vectors": out}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
