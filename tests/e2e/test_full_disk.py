"""A full disk under RocksDB: the write that cannot be made durable gets a 5xx in Vault's shape,
reads go on, writes resume once space is back (no restart), and after a kill -9 and a restart
every acknowledged write is there and the refused one is not."""
import os
import signal
import subprocess
import tempfile

import pytest
import requests

from test_persistence import write_config
from conftest import Server, free_port


@pytest.fixture
def small_disk():
    """A 24 MiB tmpfs, or a skip where it cannot be mounted (not root, no CAP_SYS_ADMIN)."""
    d = tempfile.mkdtemp(prefix="vault-e2e-disk-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", d],
                       capture_output=True, text=True)
    if p.returncode != 0:
        os.rmdir(d)
        pytest.skip("cannot mount a tmpfs here: " + p.stderr.strip())
    yield d
    subprocess.run(["umount", "-l", d])
    os.rmdir(d)


def fill(path, leave):
    st = os.statvfs(os.path.dirname(path))
    size = st.f_bavail * st.f_frsize - leave
    with open(path, "wb") as f:
        f.write(b"f" * size)


def test_a_full_disk_refuses_writes_keeps_reads_and_loses_nothing(small_disk):
    port = free_port()
    addr = "http://127.0.0.1:%d" % port
    cfg, _ = write_config(small_disk, port)
    s = Server(["-config=" + cfg], small_disk, addr)
    init = requests.put(addr + "/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
    key, root = init["keys"][0], init["root_token"]
    requests.put(addr + "/v1/sys/unseal", json={"key": key}).raise_for_status()
    h = {"X-Vault-Token": root}
    # The reserve is 4 MiB (1% of the disk, at least 4 MiB), the ballast half of it.
    ballast = os.path.join(small_disk, "data", "EMERGENCY_BALLAST")
    assert os.path.getsize(ballast) == 2 << 20

    filler = os.path.join(small_disk, "filler")
    fill(filler, 12 << 20)
    value = "v" * (64 << 10)
    acknowledged, refused = [], None
    for i in range(400):
        r = requests.put(addr + "/v1/secret/k%d" % i, headers=h, json={"v": value, "i": i})
        if r.status_code != 204:
            refused = r
            refused_key = "k%d" % i
            break
        acknowledged.append("k%d" % i)
    assert refused is not None, "the disk never filled"
    assert refused.status_code == 500
    assert refused.json()["errors"][0].startswith("storage: not enough free disk space")
    assert len(acknowledged) > 20
    # The server still serves: health, reads of what was acknowledged, and refusals of more writes.
    assert requests.get(addr + "/v1/sys/health").status_code == 200
    for k in acknowledged:
        r = requests.get(addr + "/v1/secret/" + k, headers=h)
        assert r.status_code == 200 and r.json()["data"]["v"] == value, k
    for i in range(5):
        r = requests.put(addr + "/v1/secret/more", headers=h, json={"v": value})
        assert r.status_code == 500 and "errors" in r.json()

    # Something else takes the rest of the disk: the ballast is released so that deletes (which
    # free space) and RocksDB's recovery still have room.
    fill(filler + "2", 256 << 10)
    deleted = acknowledged.pop()
    r = requests.delete(addr + "/v1/secret/" + deleted, headers=h)
    assert r.status_code == 204, r.text
    assert not os.path.exists(ballast)
    assert requests.get(addr + "/v1/secret/" + deleted, headers=h).status_code == 404

    # Space comes back: writes succeed again without a restart, and the ballast returns.
    os.remove(filler)
    os.remove(filler + "2")
    requests.put(addr + "/v1/secret/after", headers=h, json={"v": "after"}).raise_for_status()
    acknowledged.append("after")
    assert os.path.getsize(ballast) == 2 << 20

    # kill -9, restart, unseal: every acknowledged write is there, the refused ones are not.
    s.stop(signal.SIGKILL)
    s = Server(["-config=" + cfg], small_disk, addr)
    requests.put(addr + "/v1/sys/unseal", json={"key": key}).raise_for_status()
    for k in acknowledged:
        assert requests.get(addr + "/v1/secret/" + k, headers=h).status_code == 200, k
    assert requests.get(addr + "/v1/secret/" + refused_key, headers=h).status_code == 404
    assert requests.get(addr + "/v1/secret/more", headers=h).status_code == 404
    assert requests.get(addr + "/v1/secret/" + deleted, headers=h).status_code == 404
    s.stop()
