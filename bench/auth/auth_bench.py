#!/usr/bin/python3
"""Logins per second (AppRole, JWT RS256, userpass) next to token lookups, measured in the same
run against one server on RocksDB (each login stores a token: a durable write).

    /usr/bin/python3 bench/auth/auth_bench.py --vault-bin build/vault [--duration 10s]

wrk (-t2 -c32) sends the same request again and again: an AppRole login with an unlimited secret
id, a JWT login with one PyJWT-signed GitHub Actions-shaped token (the server verifies the RS256
signature every time), a userpass login (bcrypt cost 10), and GET auth/token/lookup-self with a
non-root token (the reference: a request with a token check and nothing else)."""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import jwt as pyjwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import rocksdb_server  # noqa: E402


def wrk(url, duration, method="GET", body=None, headers=None, tmp="."):
    script = os.path.join(tmp, "req.lua")
    with open(script, "w") as f:
        f.write("wrk.method = %s\n" % json.dumps(method))
        if body is not None:
            f.write("wrk.body = %s\n" % json.dumps(body))
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        for k, v in (headers or {}).items():
            f.write("wrk.headers[%s] = %s\n" % (json.dumps(k), json.dumps(v)))
    out = subprocess.run(["wrk", "-t2", "-c32", "-d" + duration, "--latency", "-s", script, url],
                         capture_output=True, text=True, timeout=300).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        sys.exit("bench: %s answered %s non-2xx responses:\n%s" % (url, bad.group(1), out))
    return rps, p99


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vault-bin", required=True)
    ap.add_argument("--duration", default="10s")
    args = ap.parse_args()
    with rocksdb_server(args.vault_bin, "vault-auth-bench-") as (addr, root_token, proc, tmp):
        root = {"X-Vault-Token": root_token}
        s = requests.Session()
        s.headers.update(root)

        def call(method, path, body=None):
            r = s.request(method, addr + "/v1/" + path, json=body)
            if r.status_code >= 400:
                sys.exit("bench: %s %s: %s" % (method, path, r.text))
            return r.json() if r.text else None

        call("PUT", "sys/policy/app", {"policy": 'path "secret/*" { capabilities = ["read"] }'})
        call("POST", "sys/auth/approle", {"type": "approle"})
        call("POST", "auth/approle/role/bench", {"token_policies": "app", "token_ttl": "1h"})
        role_id = call("GET", "auth/approle/role/bench/role-id")["data"]["role_id"]
        secret_id = call("POST", "auth/approle/role/bench/secret-id")["data"]["secret_id"]

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        iss = "https://token.actions.githubusercontent.com"
        call("POST", "sys/auth/jwt", {"type": "jwt"})
        call("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [pem], "bound_issuer": iss})
        call("POST", "auth/jwt/role/bench", {"role_type": "jwt", "user_claim": "repository",
                                             "bound_audiences": "https://github.com/octo-org",
                                             "bound_claims": {"repository": "octo-org/app"},
                                             "token_policies": "app", "token_ttl": "1h"})
        now = int(time.time())
        token = pyjwt.encode({"iss": iss, "aud": "https://github.com/octo-org",
                              "sub": "repo:octo-org/app:ref:refs/heads/main",
                              "repository": "octo-org/app", "ref": "refs/heads/main",
                              "iat": now, "nbf": now, "exp": now + 3600}, key, algorithm="RS256")
        call("POST", "sys/auth/userpass", {"type": "userpass"})
        call("POST", "auth/userpass/users/bench", {"password": "bench-password",
                                                  "token_policies": "app"})
        app_token = call("POST", "auth/token/create", {"policies": ["app"]})["auth"]["client_token"]

        rows = []
        rows.append(("token lookup-self (reference)",) + wrk(
            addr + "/v1/auth/token/lookup-self", args.duration, headers={"X-Vault-Token": app_token},
            tmp=tmp))
        rows.append(("approle login",) + wrk(
            addr + "/v1/auth/approle/login", args.duration, "POST",
            json.dumps({"role_id": role_id, "secret_id": secret_id}), tmp=tmp))
        rows.append(("jwt login (RS256)",) + wrk(
            addr + "/v1/auth/jwt/login", args.duration, "POST",
            json.dumps({"role": "bench", "jwt": token}), tmp=tmp))
        rows.append(("userpass login (bcrypt 10)",) + wrk(
            addr + "/v1/auth/userpass/login/bench", args.duration, "POST",
            json.dumps({"password": "bench-password"}), tmp=tmp))
        if proc.poll() is not None:
            sys.exit("bench: the server died during the run")
        ref = rows[0][1]
        print("=" * 72)
        print("%-32s %12s %10s %14s" % ("request (RocksDB, wrk -t2 -c32)", "req/s", "p99", "vs lookups"))
        for name, rps, p99 in rows:
            print("%-32s %12s %10s %14.3f" % (name, "{:,.0f}".format(rps), p99, rps / ref))
        print("=" * 72)


if __name__ == "__main__":
    main()
