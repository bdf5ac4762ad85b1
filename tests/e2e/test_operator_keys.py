"""Rekey and generate-root on a durable server, through hvac 0.11.2 and the CLI: new unseal key
shares (verified before they replace the old ones) unseal the server and the old ones no longer
do, with the data intact; a root token generated from the shares with a one-time password
works and decodes as the CLI decodes it. Both need a token as well as the shares (Vault 2.x)."""
import base64
import os
import threading
import time

import hvac
import pytest
import requests

from conftest import Cli, Server, free_port


def start(home):
    port = free_port()
    cfg = os.path.join(home, "vault.hcl")
    with open(cfg, "w") as f:
        f.write('storage "rocksdb" { path = "%s/data" }\n'
                'listener "tcp" { address = "127.0.0.1:%d" tls_disable = true }\n' % (home, port))
    addr = "http://127.0.0.1:%d" % port
    return Server(["-config=" + cfg], home, addr), addr


def unseal_with(client, keys):
    result = None
    for k in keys:
        result = client.sys.submit_unseal_key(k)
    return result


@pytest.fixture
def server(home):
    s, addr = start(home)
    client = hvac.Client(url=addr)
    init = client.sys.initialize(secret_shares=5, secret_threshold=3)
    client.token = init["root_token"]
    unseal_with(client, init["keys"][:3])
    assert not client.sys.is_sealed()
    yield s, client, init
    s.stop()


def test_rekey_3_of_5_to_2_of_3_with_verification(server):
    s, client, init = server
    client.secrets.kv.v1.create_or_update_secret("app", {"password": "s3cr3t"})
    old = init["keys"]

    # Without a token the ceremony is refused (Vault 2.x), shares or not.
    r = requests.put(s.addr + "/v1/sys/rekey/init",
                     json={"secret_shares": 3, "secret_threshold": 2})
    assert r.status_code == 403

    started = client.sys.start_rekey(secret_shares=3, secret_threshold=2,
                                     require_verification=True)
    assert started["started"] is True and started["t"] == 2 and started["n"] == 3
    assert started["required"] == 3
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        client.sys.start_rekey(secret_shares=3, secret_threshold=2)
    assert "rekey already in progress" in str(e.value)
    nonce = started["nonce"]
    step = client.sys.rekey(old[0], nonce=nonce)
    assert step["progress"] == 1 and not step.get("complete")
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        client.sys.rekey(old[0], nonce=nonce)
    assert "already been provided" in str(e.value)
    client.sys.rekey(old[1], nonce=nonce)
    done = client.sys.rekey(old[2], nonce=nonce)
    assert done["complete"] is True and len(done["keys"]) == 3
    assert done["verification_required"] is True
    new = done["keys"]

    # Nothing has changed yet: the seal still takes the old shares.
    assert client.sys.read_seal_status()["t"] == 3
    vnonce = done["verification_nonce"]
    assert client.sys.read_rekey_verify_progress()["nonce"] == vnonce
    # A wrong share makes the verification fail and start over.
    client.sys.rekey_verify(new[0], nonce=vnonce)
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        client.sys.rekey_verify(old[0], nonce=vnonce)
    assert "rekey verification failed" in str(e.value)
    client.sys.rekey_verify(new[1], nonce=vnonce)
    verified = client.sys.rekey_verify(new[2], nonce=vnonce)
    assert verified["complete"] is True
    status = client.sys.read_seal_status()
    assert status["t"] == 2 and status["n"] == 3

    # Sealed: the old shares no longer open it, the new ones do; the data is there.
    client.sys.seal()
    with pytest.raises(hvac.exceptions.InvalidRequest):
        unseal_with(client, old[:2])
    assert client.sys.is_sealed()
    client.sys.submit_unseal_key(reset=True)
    unseal_with(client, new[1:3])
    assert not client.sys.is_sealed()
    assert client.secrets.kv.v1.read_secret("app")["data"] == {"password": "s3cr3t"}

    # And after a restart as well.
    s.stop()
    s2, addr = start(s.home)
    try:
        c2 = hvac.Client(url=addr, token=client.token)
        unseal_with(c2, new[:2])
        assert not c2.sys.is_sealed()
        assert c2.secrets.kv.v1.read_secret("app")["data"] == {"password": "s3cr3t"}
    finally:
        s2.stop()


def test_rekey_without_verification_and_cancel(server):
    s, client, init = server
    client.sys.start_rekey(secret_shares=1, secret_threshold=1)
    client.sys.cancel_rekey()
    assert client.sys.read_rekey_progress()["started"] is False
    with pytest.raises(hvac.exceptions.InternalServerError) as e:
        client.sys.start_rekey(secret_shares=3, secret_threshold=4)
    assert "threshold cannot be larger than shares" in str(e.value)
    started = client.sys.start_rekey(secret_shares=1, secret_threshold=1)
    result = client.sys.rekey_multi(init["keys"][2:5], nonce=started["nonce"])
    assert result["complete"] is True and len(result["keys"]) == 1
    client.sys.seal()
    unseal_with(client, result["keys"])
    assert not client.sys.is_sealed()


def test_generate_root_with_an_otp(server):
    s, client, init = server
    attempt = client.sys.start_root_token_generation()
    otp = attempt["otp"]
    assert len(otp) == attempt["otp_length"] == 28
    assert client.sys.read_root_generation_progress()["otp"] == ""  # shown once
    nonce = attempt["nonce"]
    for k in init["keys"][:2]:
        step = client.sys.generate_root(k, nonce)
        assert step["complete"] is False
    done = client.sys.generate_root(init["keys"][4], nonce)
    assert done["complete"] is True
    encoded = done["encoded_token"]
    raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    token = bytes(a ^ b for a, b in zip(raw, otp.encode())).decode()
    assert token.startswith("hvs.")
    me = hvac.Client(url=s.addr, token=token).auth.token.lookup_self()["data"]
    assert me["policies"] == ["root"]

    # The CLI decodes it to the same token, and runs a generation with its own OTP.
    cli = Cli(s.addr, s.home, token=client.token)
    p = cli.run("operator", "generate-root", "-decode=" + encoded, "-otp=" + otp, check=True)
    assert p.stdout.strip() == token
    own = cli.run("operator", "generate-root", "-generate-otp", check=True).stdout.strip()
    assert len(own) == 28
    cli.run("operator", "generate-root", "-init", "-otp=" + own, check=True)
    for k in init["keys"][1:3]:
        cli.run("operator", "generate-root", k, check=True)
    last = cli.run("operator", "generate-root", init["keys"][3], check=True).stdout
    line = [ln for ln in last.splitlines() if ln.startswith("Encoded Token")][0]
    enc = line.split()[-1]
    tok = cli.run("operator", "generate-root", "-decode=" + enc, "-otp=" + own,
                  check=True).stdout.strip()
    assert hvac.Client(url=s.addr, token=tok).is_authenticated()

    # Wrong shares abort the generation; a started one refuses a second start.
    cli.run("operator", "generate-root", "-init", check=True)
    p = cli.run("operator", "generate-root", "-init")
    assert p.returncode != 0 and "root generation already in progress" in p.stderr
    cli.run("operator", "generate-root", "-cancel", check=True)


def test_cli_rekey(server):
    s, client, init = server
    cli = Cli(s.addr, s.home, token=client.token)
    p = cli.run("operator", "rekey", "-init", "-key-shares=2", "-key-threshold=2", check=True)
    assert "New Shares" in p.stdout and "Nonce" in p.stdout
    out = ""
    for k in init["keys"][:3]:
        out = cli.run("operator", "rekey", k, check=True).stdout
    assert "Vault rekeyed with 2 key shares and a key threshold of 2" in out
    keys = [ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("Key ")]
    assert len(keys) == 2
    client.sys.seal()
    unseal_with(client, keys)
    assert not client.sys.is_sealed()


def test_seal_under_load_fails_requests_cleanly_and_loses_no_acknowledged_write(server):
    """sys/seal while 8 clients write and read: every answer is a success or Vault's 503
    "Vault is sealed" (no 500, no dropped connection), the server keeps running, and after the
    unseal every write that was acknowledged is there."""
    s, client, init = server
    token = client.token
    acknowledged = []
    bad = []
    stop = threading.Event()

    def writer(n):
        session = requests.Session()
        i = 0
        while not stop.is_set():
            key = "load/%d-%d" % (n, i)
            i += 1
            try:
                r = session.put(s.addr + "/v1/secret/" + key, headers={"X-Vault-Token": token},
                                json={"v": key}, timeout=10)
                g = session.get(s.addr + "/v1/secret/" + key,
                                headers={"X-Vault-Token": token}, timeout=10)
            except requests.RequestException as e:
                bad.append("%s: %s" % (key, e))
                continue
            for resp in (r, g):
                if resp.status_code == 503:
                    assert resp.json()["errors"] == ["Vault is sealed"], resp.text
                elif resp.status_code not in (200, 204):
                    bad.append("%s: %d %s" % (key, resp.status_code, resp.text))
            if r.status_code == 204:
                acknowledged.append(key)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    client.sys.seal()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert not bad, bad[:5]
    assert acknowledged
    assert client.sys.is_sealed()
    unseal_with(client, init["keys"][:3])
    for key in acknowledged:
        assert client.secrets.kv.v1.read_secret(key)["data"] == {"v": key}
