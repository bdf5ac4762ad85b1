"""Start/stop helper for the IAM/STS emulator (tools/iam-emulator), reusable by any e2e test.

    from emulator_fixture import start_emulator
    emu = start_emulator(latency_ms=50, user_quota=100)
    emu.endpoint, emu.access_key, emu.secret_key     # root (bootstrap) credentials
    emu.client("iam")                                 # boto3 client signed with the root key
    emu.create_user("limited", policy={...})          # -> {"user": {...}, "access_key", "secret_key"}
    emu.set_faults(throttle_actions={"CreateUser": 2})
    [c["action"] for c in emu.calls()]
    emu.stop()

Flags are the command-line flags of iam_emulator.py with '_' for '-': start_emulator(sts_regions="us-west-2").
Only the standard library is needed here; `client()` imports boto3 when called.
"""
import json
import os
import subprocess
import urllib.error
import urllib.request

PYTHON = "/usr/bin/python3"
EMULATOR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "tools", "iam-emulator",
                                        "iam_emulator.py"))


class EmulatorHandle:
    """A running emulator process."""

    def __init__(self, proc, info, stderr_path):
        self.proc = proc
        self.info = info
        self.endpoint = info["endpoint"]
        self.access_key = info["access_key"]
        self.secret_key = info["secret_key"]
        self.admin_url = info["admin"]
        self.stderr_path = stderr_path
        self.verify = True

    # -- admin API ------------------------------------------------------------

    def admin(self, method, route, payload=None):
        """Call /_emulator/<route>; returns the decoded JSON. Raises RuntimeError on an error status."""
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.admin_url + "/" + route.lstrip("/"), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        ctx = None
        if self.endpoint.startswith("https"):
            import ssl
            ctx = ssl.create_default_context(cafile=self.verify if isinstance(self.verify, str) else None)
        try:
            with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise RuntimeError("admin %s %s: %s %s" % (method, route, err.code, err.read().decode())) from None

    def state(self):
        return self.admin("GET", "state")

    def calls(self, since=0, action=None):
        route = "calls?since=%d" % since + ("&action=%s" % action if action else "")
        return self.admin("GET", route)["calls"]

    def actions(self, since=0):
        """Action names of the calls logged so far, in order."""
        return [c["action"] for c in self.calls(since)]

    def reset_calls(self):
        self.admin("POST", "reset-calls", {})

    def set_faults(self, settings=None, **kw):
        """e.g. set_faults(throttle_every=3) / set_faults(reset=True) / set_faults({"fail_actions": {...}})."""
        return self.admin("POST", "faults", dict(settings or {}, **kw))

    def create_user(self, name, policy=None, policy_arns=(), groups=(), tags=None, path="/", access_key=True,
                    **extra):
        spec = dict(extra, name=name, path=path, policy_arns=list(policy_arns), groups=list(groups),
                    access_key=access_key)
        if policy is not None:
            spec["policy"] = policy
        if tags:
            spec["tags"] = tags
        return self.admin("POST", "users", spec)

    def create_role(self, name, trust_policy=None, max_session_duration=3600, policy=None, policy_arns=(),
                    **extra):
        spec = dict(extra, name=name, max_session_duration=max_session_duration, policy_arns=list(policy_arns))
        if trust_policy is not None:
            spec["trust_policy"] = trust_policy
        if policy is not None:
            spec["policy"] = policy
        return self.admin("POST", "roles", spec)

    def create_group(self, name, policy=None, policy_arns=(), members=(), **extra):
        spec = dict(extra, name=name, policy_arns=list(policy_arns), members=list(members))
        if policy is not None:
            spec["policy"] = policy
        return self.admin("POST", "groups", spec)

    def create_policy(self, name, document, path="/"):
        return self.admin("POST", "policies", {"name": name, "document": document, "path": path})

    def expire(self, access_key=None):
        return self.admin("POST", "expire", {"access_key": access_key} if access_key else {})

    def reset(self):
        """Back to the start: only the bootstrap user, no faults, empty call log."""
        self.admin("POST", "reset", {})
        self.set_faults(reset=True)
        self.reset_calls()

    # -- clients ----------------------------------------------------------------

    def client(self, service, access_key=None, secret_key=None, session_token=None, region="us-east-1",
               max_attempts=None, **config):
        """A boto3 client for `service` ('iam' or 'sts') pointed at the emulator (root key by default)."""
        import boto3
        from botocore.config import Config
        if max_attempts is not None:
            config["retries"] = {"total_max_attempts": max_attempts, "mode": "standard"}
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=access_key or self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key,
                            aws_session_token=session_token, verify=self.verify, config=Config(**config))

    def env(self, home):
        """Environment for the AWS CLI (or any SDK) using the root key and nothing from the machine."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=home, AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key,
                   AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true")
        return env

    # -- lifecycle ----------------------------------------------------------------

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_emulator(stderr_path=None, **flags):
    """Start tools/iam-emulator/iam_emulator.py on a free port and wait for its JSON line.

    Keyword flags map to command-line flags: latency_ms=5 -> --latency-ms 5; True -> bare flag;
    None/False -> omitted. Returns an EmulatorHandle.
    """
    args = [PYTHON, EMULATOR]
    flags.setdefault("port", 0)
    for key, value in flags.items():
        if value is None or value is False:
            continue
        args.append("--" + key.replace("_", "-"))
        if value is not True:
            args.append(str(value))
    if stderr_path is None:
        import tempfile
        fd, stderr_path = tempfile.mkstemp(prefix="iam-emulator-", suffix=".log")
        os.close(fd)
    err = open(stderr_path, "w")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
    err.close()
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        with open(stderr_path) as f:
            raise RuntimeError("iam emulator failed to start (rc=%s): %s" % (proc.returncode, f.read()))
    handle = EmulatorHandle(proc, json.loads(line), stderr_path)
    if flags.get("tls_cert"):
        handle.verify = flags["tls_cert"]
    return handle


# -- what an IAM user's owner may attach to it ---------------------------------------------------

def mfa_codes(base32_seed, at=None):
    """Two consecutive TOTP codes (RFC 6238: HMAC-SHA1, 30 s, 6 digits) for EnableMFADevice, the
    way an authenticator app shows them: the previous step's code and the current one."""
    import base64
    import hashlib
    import hmac
    import struct
    import time
    seed = base64.b32decode(base32_seed if isinstance(base32_seed, str) else base32_seed.decode())
    step = int((at or time.time()) // 30)

    def code(t):
        digest = hmac.new(seed, struct.pack(">Q", t), hashlib.sha1).digest()
        offset = digest[-1] & 0x0F
        return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)
    return code(step - 1), code(step)


def ssh_rsa_public_key(bits=2048, comment="test@example"):
    """An OpenSSH `ssh-rsa` public key line with a random modulus of `bits` bits (well formed; no
    private key exists for it)."""
    import base64
    import struct

    def string(b):
        return struct.pack(">I", len(b)) + b

    def mpint(n):
        raw = n.to_bytes((n.bit_length() + 8) // 8, "big")  # a leading zero byte keeps it positive
        return string(raw)
    modulus = int.from_bytes(os.urandom(bits // 8), "big") | (1 << (bits - 1)) | 1
    blob = string(b"ssh-rsa") + mpint(65537) + mpint(modulus)
    return "ssh-rsa %s %s" % (base64.b64encode(blob).decode(), comment)


def self_signed_certificate(common_name="iam-signing-test"):
    """A fresh self-signed X.509 certificate (PEM), made with the openssl command."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        cert = os.path.join(d, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "1", "-subj", "/CN=" + common_name, "-keyout", os.path.join(d, "key.pem"),
                        "-out", cert], check=True, capture_output=True)
        with open(cert) as f:
            return f.read()
