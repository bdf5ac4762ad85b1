"""`make package`'s Debian package, unpacked into a scratch root as dpkg would install it: the
binary runs, the example configuration is a valid server configuration, and the systemd unit
carries Vault's hardening and passes `systemd-analyze verify` (where systemd is installed)."""
import os
import shutil
import subprocess

import pytest
import requests

from conftest import VAULT_BIN, Server, free_port

BUILD_DIR = os.path.dirname(VAULT_BIN)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    config = os.path.join(BUILD_DIR, "CPackConfig.cmake")
    if not os.path.exists(config):
        pytest.skip("no CPack configuration beside %s (built without CMake?)" % VAULT_BIN)
    out = tmp_path_factory.mktemp("pkg")
    subprocess.run(["cpack", "-G", "DEB", "--config", config, "-B", str(out)], check=True,
                   capture_output=True, timeout=600)
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    assert len(debs) == 1, os.listdir(out)
    deb = os.path.join(out, debs[0])
    info = subprocess.run(["dpkg-deb", "-I", deb], check=True, capture_output=True,
                          text=True).stdout
    assert "Package: vault-cpp" in info and "Depends:" in info
    rootdir = out / "root"
    subprocess.run(["dpkg-deb", "-x", deb, str(rootdir)], check=True)
    control = out / "control"
    subprocess.run(["dpkg-deb", "-e", deb, str(control)], check=True)
    return rootdir, control


def test_package_contents(root):
    rootdir, control = root
    binary = os.path.join(rootdir, "usr/bin/vault")
    assert os.access(binary, os.X_OK)
    assert subprocess.run([binary, "version"], capture_output=True, text=True,
                          check=True).stdout.startswith("Vault v")
    assert os.path.exists(os.path.join(rootdir, "usr/share/doc/vault-cpp/README.md"))
    with open(os.path.join(control, "conffiles")) as f:
        assert "/etc/vault-cpp/vault.hcl" in f.read()
    assert os.access(os.path.join(control, "postinst"), os.X_OK)
    unit = open(os.path.join(rootdir, "lib/systemd/system/vault-cpp.service")).read()
    for line in ["User=vault-cpp", "ProtectSystem=full", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "CapabilityBoundingSet=CAP_SYSLOG CAP_IPC_LOCK", "LimitMEMLOCK=infinity",
                 "LimitNOFILE=", "ExecReload=/bin/kill --signal HUP $MAINPID",
                 "ExecStart=/usr/bin/vault server -config=/etc/vault-cpp/vault.hcl"]:
        assert line in unit, line


def test_example_configuration_starts_a_server(root, home):
    rootdir, _ = root
    # The shipped file, with its paths moved into the test's directory and TLS off.
    text = open(os.path.join(rootdir, "etc/vault-cpp/vault.hcl")).read()
    port = free_port()
    text = text.replace("/var/lib/vault-cpp", os.path.join(home, "data"))
    text = text.replace("127.0.0.1:8200", "127.0.0.1:%d" % port)
    text = text.replace('tls_cert_file = "/etc/vault-cpp/tls/cert.pem"', "tls_disable = true")
    text = text.replace('tls_key_file  = "/etc/vault-cpp/tls/key.pem"', "")
    cfg = os.path.join(home, "vault.hcl")
    with open(cfg, "w") as f:
        f.write(text)
    s = Server(["-config=" + cfg], home, "http://127.0.0.1:%d" % port)
    try:
        assert s.proc.poll() is None
        assert requests.get(s.addr + "/ui/", timeout=10).status_code == 200  # ui = true
    finally:
        s.stop()


def test_unit_file_verifies(root):
    rootdir, _ = root
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (no systemd on this machine)")
    unit = os.path.join(rootdir, "lib/systemd/system/vault-cpp.service")
    # verify resolves ExecStart: point it at the unpacked binary, in a copy of the unit.
    copy = os.path.join(rootdir, "vault-cpp.service")
    with open(unit) as f, open(copy, "w") as g:
        g.write(f.read().replace("/usr/bin/vault ", os.path.join(rootdir, "usr/bin/vault") + " ")
                .replace("ConditionFileNotEmpty=/etc/vault-cpp/vault.hcl", ""))
    p = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True)
    # Without a running systemd (a container) verify still parses the unit; only unknown
    # settings and bad values matter here.
    bad = [ln for ln in (p.stdout + p.stderr).splitlines()
           if "Unknown key" in ln or "Failed to parse" in ln or "Invalid" in ln]
    assert not bad, p.stdout + p.stderr
