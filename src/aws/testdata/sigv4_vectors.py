#!/usr/bin/python3
"""Generates sigv4_vectors.json: SigV4 signatures computed by botocore for fixed requests.

    /usr/bin/python3 src/aws/testdata/sigv4_vectors.py > src/aws/testdata/sigv4_vectors.json

Each vector records the request (method, url, headers, body, credentials, region, service,
timestamp) and what botocore's SigV4Auth computes for it with its clock frozen: the canonical
request, the string to sign and the Authorization header (plus the headers botocore added).
aws/sigv4_test.cc must reproduce all three byte for byte.
"""
import datetime
import json
import sys
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AK = "AKIDEXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDtoken+with/slashes=="
         "AQoDYXdzEJr")
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def q(params):
    """Query-protocol body as botocore puts it on the wire (urlencode: space as '+')."""
    from urllib.parse import urlencode
    return urlencode([(k, str(v)) for k, v in params])


VECTORS = [
    dict(name="iam_create_user_special_characters", method="POST", url="https://iam.amazonaws.com/",
         headers=[["Content-Type", FORM]], region="us-east-1", service="iam",
         time=(2026, 11, 23, 18, 26, 54),
         body=q([("Action", "CreateUser"), ("Version", "2010-05-08"),
                 ("UserName", "vault-token-my+role=x,y.z@h_1-1700000000-AbCd"), ("Path", "/vault/"),
                 ("PermissionsBoundary", "arn:aws:iam::123456789012:policy/Boundary"),
                 ("Tags.member.1.Key", "team name"), ("Tags.member.1.Value", "R&D / caf\u00e9 ~*!'()"),
                 ("Tags.member.2.Key", "k=v"), ("Tags.member.2.Value", "a+b%20c")])),
    dict(name="iam_put_user_policy_json", method="POST", url="https://iam.amazonaws.com/",
         headers=[["Content-Type", FORM]], region="us-east-1", service="iam",
         time=(2026, 1, 2, 3, 4, 5),
         body=q([("Action", "PutUserPolicy"), ("Version", "2010-05-08"), ("UserName", "u1"),
                 ("PolicyName", "deploy"),
                 ("PolicyDocument", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                    '"Action":["s3:*","ec2:Describe*"],"Resource":"*"}]}')])),
    dict(name="sts_assume_role_regional", method="POST", url="https://sts.eu-west-1.amazonaws.com/",
         headers=[["Content-Type", FORM]], region="eu-west-1", service="sts",
         time=(2026, 11, 23, 23, 59, 59),
         body=q([("Action", "AssumeRole"), ("Version", "2011-06-15"),
                 ("RoleArn", "arn:aws:iam::123456789012:role/deploy"), ("RoleSessionName", "vault-x"),
                 ("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
                 ("DurationSeconds", 3600), ("Tags.member.1.Key", "k"), ("Tags.member.1.Value", "v"),
                 ("ExternalId", "ext123")])),
    dict(name="sts_get_caller_identity_global", method="POST", url="https://sts.amazonaws.com/",
         headers=[["Content-Type", FORM]], region="us-east-1", service="sts",
         time=(2026, 11, 23, 18, 26, 54),
         body="Action=GetCallerIdentity&Version=2011-06-15"),
    dict(name="sts_session_credentials", method="POST", url="https://sts.us-west-2.amazonaws.com/",
         headers=[["Content-Type", FORM]], region="us-west-2", service="sts", token=TOKEN,
         time=(2027, 2, 28, 12, 0, 0),
         body=q([("Action", "GetFederationToken"), ("Version", "2011-06-15"), ("Name", "vault-1700000000-x"),
                 ("DurationSeconds", 900), ("Policy", '{"Statement":[{"Effect":"Allow","Action":"*"}]}'),
                 ("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/A"),
                 ("PolicyArns.member.2.arn", "arn:aws:iam::aws:policy/B")])),
    dict(name="iam_session_credentials_get_user", method="POST", url="https://iam.amazonaws.com/",
         headers=[["Content-Type", FORM]], region="us-east-1", service="iam", token="short-token",
         time=(2026, 6, 1, 0, 0, 0), body="Action=GetUser&Version=2010-05-08"),
    dict(name="query_string_reserved_characters", method="GET",
         url="https://iam.amazonaws.com/?Version=2010-05-08&Action=ListUsers&PathPrefix=%2Fa%20b%2F"
             "&Marker=x%2By%3Dz%26w&Unicode=%C3%A9%E2%82%AC&Tilde=~a-b_c.d",
         headers=[], region="us-east-1", service="iam", time=(2026, 11, 23, 18, 26, 54), body=""),
    dict(name="query_string_repeated_and_empty", method="GET",
         url="https://example.amazonaws.com/?b=2&a=&a=1&c&A=upper",
         headers=[], region="us-east-1", service="service", time=(2026, 11, 23, 18, 26, 54), body=""),
    dict(name="empty_body_post", method="POST", url="https://sts.amazonaws.com/",
         headers=[["Content-Type", FORM]], region="us-east-1", service="sts",
         time=(2026, 11, 23, 18, 26, 54), body=""),
    dict(name="path_normalization_and_encoding", method="GET",
         url="https://example.amazonaws.com/a/b/../c//./d%20e/%C3%A4~x/",
         headers=[], region="us-east-1", service="service", time=(2026, 11, 23, 18, 26, 54), body=""),
    dict(name="header_whitespace_case_and_excluded", method="POST", url="https://iam.amazonaws.com/",
         headers=[["Content-Type", FORM], ["X-Amz-Meta-Thing", "  a   b\tc  "], ["User-Agent", "vault-cpp"],
                  ["Expect", "100-continue"], ["X-Amzn-Trace-Id", "Root=1"], ["ZZZ", "last"]],
         region="us-east-1", service="iam", time=(2026, 11, 23, 18, 26, 54),
         body="Action=ListUsers&Version=2010-05-08"),
    dict(name="emulator_http_port_and_mixed_case_host", method="POST", url="http://LocalHost:4566/",
         headers=[["Content-Type", FORM]], region="us-east-1", service="iam",
         time=(2026, 11, 23, 18, 26, 54), body="Action=ListUsers&Version=2010-05-08"),
    dict(name="default_port_dropped", method="POST", url="https://iam.amazonaws.com:443/",
         headers=[["Content-Type", FORM]], region="us-east-1", service="iam",
         time=(2026, 11, 23, 18, 26, 54), body="Action=ListUsers&Version=2010-05-08"),
]


def freeze(fixed):
    if hasattr(botocore.auth, "get_current_datetime"):  # botocore >= ~1.31
        return mock.patch("botocore.auth.get_current_datetime", return_value=fixed)
    return mock.patch("botocore.auth.datetime", **{"datetime.utcnow.return_value": fixed,
                                                    "datetime.strptime": datetime.datetime.strptime})


def sign(v):
    fixed = datetime.datetime(*v["time"])
    req = AWSRequest(method=v["method"], url=v["url"], data=v["body"].encode("utf-8"),
                     headers=dict(v["headers"]))
    creds = Credentials(AK, SK, v.get("token"))
    with freeze(fixed):
        s = botocore.auth.SigV4Auth(creds, v["service"], v["region"])
        s.add_auth(req)
    auth = req.headers["Authorization"]
    del req.headers["Authorization"]
    cr = s.canonical_request(req)
    sts = s.string_to_sign(req, cr)
    return {
        "name": v["name"], "method": v["method"], "url": v["url"], "headers": v["headers"],
        "body": v["body"], "access_key": AK, "secret_key": SK, "session_token": v.get("token", ""),
        "region": v["region"], "service": v["service"], "unix_time": int(fixed.replace(
            tzinfo=datetime.timezone.utc).timestamp()),
        "amz_date": req.headers["X-Amz-Date"], "canonical_request": cr, "string_to_sign": sts,
        "authorization": auth,
    }


def main():
    out = {
        "generator": "src/aws/testdata/sigv4_vectors.py with botocore " + botocore.__version__,
        "vectors": [sign(v) for v in VECTORS],
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
