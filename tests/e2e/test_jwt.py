"""JWT login end to end: GitHub Actions-shaped RS256 tokens signed by PyJWT (an independent
implementation) log in through jwt_validation_pubkeys and through an OIDC discovery document and
JWKS served over HTTP; the wrong ones are refused."""
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hvac
import jwt as pyjwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import ROOT_TOKEN, free_port
from test_aws import emu, mount_with_deploy_role, vault_users, wait_until  # noqa: F401

GITHUB = "https://token.actions.githubusercontent.com"
AUD = "https://github.com/octo-org"
DEPLOY_POLICY = 'path "aws/creds/deploy" {\n  capabilities = ["read"]\n}\n'


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def github_claims(iss=GITHUB, repository="octo-org/app", ref="refs/heads/main", **extra):
    now = int(time.time())
    c = {"iss": iss, "aud": AUD, "sub": "repo:%s:ref:%s" % (repository, ref),
         "repository": repository, "repository_owner": repository.split("/")[0], "ref": ref,
         "ref_type": "branch", "sha": "a" * 40, "workflow": "deploy", "actor": "octocat",
         "run_id": "4711", "iat": now, "nbf": now - 5, "exp": now + 300, "jti": "j-1"}
    c.update(extra)
    return c


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims, alg="none"):
    return b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + \
        b64(json.dumps(claims).encode()) + "."


def login(addr, role, token):
    return requests.post(addr + "/v1/auth/jwt/login", json={"role": role, "jwt": token})


def test_github_actions_token_logs_in_and_wrong_ones_are_refused(dev_server, cli, emu):
    mount_with_deploy_role(cli, emu)
    root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
    root.sys.create_or_update_policy("deploy", DEPLOY_POLICY)
    root.sys.enable_auth_method("jwt")
    key = rsa_key()
    root.auth.jwt.configure(jwt_validation_pubkeys=[public_pem(key)], bound_issuer=GITHUB)
    root.auth.jwt.create_role("deploy", user_claim="repository", allowed_redirect_uris=[],
                              role_type="jwt", bound_audiences=[AUD],
                              bound_claims={"repository": "octo-org/app", "ref": "refs/heads/main"},
                              token_policies=["deploy"], token_ttl="10m")
    role = root.auth.jwt.read_role("deploy")["data"]
    assert role["role_type"] == "jwt" and role["bound_audiences"] == [AUD]

    good = pyjwt.encode(github_claims(), key, algorithm="RS256", headers={"kid": "k1"})
    pipeline = hvac.Client(url=dev_server.addr)
    auth = pipeline.auth.jwt.jwt_login("deploy", good)["auth"]
    assert auth["policies"] == ["default", "deploy"] and auth["lease_duration"] == 600
    assert auth["metadata"] == {"role": "deploy"}
    pipeline.token = auth["client_token"]
    assert pipeline.auth.token.lookup_self()["data"]["display_name"] == "jwt-octo-org/app"
    keys = pipeline.read("aws/creds/deploy")["data"]
    assert keys["access_key"].startswith("AKIA")
    assert len(vault_users(emu)) == 1

    other = rsa_key()
    now = int(time.time())
    cases = {
        "another repository": pyjwt.encode(github_claims(repository="octo-org/evil"), key,
                                           algorithm="RS256"),
        "another branch": pyjwt.encode(github_claims(ref="refs/heads/dev"), key, algorithm="RS256"),
        "expired": pyjwt.encode(github_claims(iat=now - 7200, nbf=now - 7200, exp=now - 3600), key,
                                algorithm="RS256"),
        "another issuer": pyjwt.encode(github_claims(iss="https://evil.example"), key,
                                       algorithm="RS256"),
        "another audience": pyjwt.encode(dict(github_claims(), aud="https://github.com/evil"), key,
                                         algorithm="RS256"),
        "signed by another key": pyjwt.encode(github_claims(), other, algorithm="RS256"),
        "alg none": unsigned(github_claims()),
        "tampered": good.split(".")[0] + "." + b64(json.dumps(
            github_claims(repository="octo-org/app", actor="mallory")).encode()) + "." +
            good.split(".")[2],
    }
    # HS256 keyed with the public key's bytes (the algorithm-confusion attack).
    head_body = unsigned(github_claims(), alg="HS256")[:-1]
    sig = hmac.new(public_pem(key).encode(), head_body.encode(), hashlib.sha256).digest()
    cases["HS256 with the public key"] = head_body + "." + b64(sig)
    for name, token in cases.items():
        r = login(dev_server.addr, "deploy", token)
        assert r.status_code == 400, name
        msg = r.json()["errors"][0]
        assert token.split(".")[1] not in msg and token.split(".")[0] not in msg, name
    assert "token must be signed" in login(dev_server.addr, "deploy", cases["alg none"]).json()["errors"][0] \
        or "algorithm" in login(dev_server.addr, "deploy", cases["alg none"]).json()["errors"][0]
    assert "does not match" in login(dev_server.addr, "deploy",
                                     cases["another repository"]).json()["errors"][0]
    assert "expired" in login(dev_server.addr, "deploy", cases["expired"]).json()["errors"][0]
    assert "invalid issuer" in login(dev_server.addr, "deploy",
                                     cases["another issuer"]).json()["errors"][0]
    assert "audience" in login(dev_server.addr, "deploy",
                               cases["another audience"]).json()["errors"][0]

    # Revoking the login's token takes the IAM user with it.
    root.auth.token.revoke(auth["client_token"])
    wait_until(lambda: vault_users(emu) == [])


class _Issuer:
    """An OIDC issuer on loopback: discovery document and JWKS, counting JWKS fetches."""

    def __init__(self, jwks):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.jwks = jwks
        self.jwks_fetches = 0
        issuer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                            "response_types_supported": ["id_token"],
                            "subject_types_supported": ["public", "pairwise"]}
                elif self.path == "/jwks":
                    issuer.jwks_fetches += 1
                    body = issuer.jwks
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def jwk(key, kid):
    d = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    d.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return d


def test_oidc_discovery_and_jwks_over_http(dev_server):
    key, ec_key = rsa_key(), ec.generate_private_key(ec.SECP256R1())
    ec_jwk = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    ec_jwk.update({"kid": "e1", "use": "sig", "alg": "ES256"})
    issuer = _Issuer({"keys": [jwk(key, "r1"), ec_jwk]})
    try:
        root = hvac.Client(url=dev_server.addr, token=ROOT_TOKEN)
        root.sys.enable_auth_method("jwt")
        root.auth.jwt.configure(oidc_discovery_url=issuer.url, bound_issuer=issuer.url)
        cfg = root.auth.jwt.read_config()["data"]
        assert cfg["oidc_discovery_url"] == issuer.url
        root.auth.jwt.create_role("ci", user_claim="repository", allowed_redirect_uris=[],
                                  role_type="jwt", bound_audiences=[AUD],
                                  bound_claims_type="glob",
                                  bound_claims={"sub": "repo:octo-org/*:ref:refs/heads/main"},
                                  token_policies=["default"])
        claims = github_claims(iss=issuer.url)
        for k, kid, alg in ((key, "r1", "RS256"), (ec_key, "e1", "ES256")):
            t = pyjwt.encode(claims, k, algorithm=alg, headers={"kid": kid})
            r = login(dev_server.addr, "ci", t)
            assert r.status_code == 200, (alg, r.text)
            assert r.json()["auth"]["policies"] == ["default"]
        # A glob that does not match (another branch), and a key the issuer never published.
        r = login(dev_server.addr, "ci", pyjwt.encode(github_claims(iss=issuer.url, ref="refs/heads/x"),
                                                      key, algorithm="RS256", headers={"kid": "r1"}))
        assert r.status_code == 400
        # A flood of unknown kids costs the issuer at most one refetch, not one per token.
        before = issuer.jwks_fetches
        stranger = rsa_key()
        for i in range(20):
            r = login(dev_server.addr, "ci", pyjwt.encode(claims, stranger, algorithm="RS256",
                                                          headers={"kid": "bogus-%d" % i}))
            assert r.status_code == 400
        assert issuer.jwks_fetches - before <= 1
        # A rotated key set: the new kid is fetched once the refetch window allows it.
        root.auth.jwt.configure(oidc_discovery_url=issuer.url, bound_issuer=issuer.url)
        new_key = rsa_key()
        issuer.jwks = {"keys": [jwk(new_key, "r2")]}
        t = pyjwt.encode(claims, new_key, algorithm="RS256", headers={"kid": "r2"})
        assert login(dev_server.addr, "ci", t).status_code == 200
        # Config errors are Vault's.
        r = requests.post(dev_server.addr + "/v1/auth/jwt/config",
                          headers={"X-Vault-Token": ROOT_TOKEN},
                          json={"oidc_discovery_url": issuer.url, "jwks_url": issuer.url + "/jwks"})
        assert r.status_code == 400 and "exactly one of" in r.json()["errors"][0]
    finally:
        issuer.stop()
