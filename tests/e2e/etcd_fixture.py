"""A real etcd cluster on loopback for the end-to-end tests (Debian's etcd-server, installed by
scripts/install-deps), each member in its own directory on ports picked free."""
import os
import shutil
import subprocess
import tempfile
import time

import requests

from conftest import free_port

ETCD_BIN = os.environ.get("ETCD_BIN", "/usr/bin/etcd")
ETCDCTL_BIN = os.environ.get("ETCDCTL_BIN", "/usr/bin/etcdctl")


class EtcdCluster:
    def __init__(self, members=3):
        if not os.access(ETCD_BIN, os.X_OK):
            raise RuntimeError(ETCD_BIN + " not found: scripts/install-deps installs etcd-server")
        self.root = tempfile.mkdtemp(prefix="vault-etcd-")
        self.members = []
        for i in range(members):
            self.members.append({
                "name": "m%d" % i,
                "client": "http://127.0.0.1:%d" % free_port(),
                "peer": "http://127.0.0.1:%d" % free_port(),
            })
        initial = ",".join("%s=%s" % (m["name"], m["peer"]) for m in self.members)
        for m in self.members:
            log = open(os.path.join(self.root, m["name"] + ".log"), "w")
            m["proc"] = subprocess.Popen([
                ETCD_BIN, "--name=" + m["name"], "--data-dir=" + os.path.join(self.root, m["name"]),
                "--listen-client-urls=" + m["client"], "--advertise-client-urls=" + m["client"],
                "--listen-peer-urls=" + m["peer"], "--initial-advertise-peer-urls=" + m["peer"],
                "--initial-cluster=" + initial, "--initial-cluster-state=new"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                r = requests.post(self.members[0]["client"] + "/v3/kv/put",
                                  json={"key": "cmVhZHk=", "value": "MQ=="}, timeout=1)
                if r.status_code == 200:
                    return
            except requests.exceptions.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("etcd did not become ready in 30 s")

    def urls(self):
        return [m["client"] for m in self.members]

    def address(self):
        return ",".join(self.urls())

    def kill(self, i):
        p = self.members[i]["proc"]
        if p.poll() is None:
            p.kill()
            p.wait()

    def etcdctl(self, *args):
        live = [m["client"] for m in self.members if m["proc"].poll() is None]
        return subprocess.run([ETCDCTL_BIN, "--endpoints=" + ",".join(live)] + list(args),
                              capture_output=True, env=dict(os.environ, ETCDCTL_API="3"),
                              timeout=30)

    def stop(self):
        for i in range(len(self.members)):
            self.kill(i)
        shutil.rmtree(self.root, ignore_errors=True)
