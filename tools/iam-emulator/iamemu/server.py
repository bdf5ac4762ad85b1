"""Request pipeline (authenticate, fault injection, validate, authorize, run), the call log,
the /_emulator admin API and the HTTP(S) server."""
import collections
import email.utils
import functools
import hmac
import io
import json
import os
import re
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from . import iam, sts  # noqa: F401  (registers the actions)
from . import sigv4
from .authz import Caller, authorize
from .faults import DropConnection, Faults
from .registry import ACTIONS, Request
from .stamps import SentStamps
from .state import ALLOW_ALL, Account
from .wire import VERSIONS, AwsError, Params, error_body, success_body, validate

REGION_RE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
IAM_REGION = "us-east-1"
INVALID_TOKEN = "The security token included in the request is invalid."
ACCOUNT_TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
                 '"arn:aws:iam::%s:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}')


def _request_id():
    """A random (version 4) UUID, as AWS request ids are; cheaper than uuid.uuid4()."""
    h = os.urandom(16).hex()
    return "%s-%s-4%s-%x%s-%s" % (h[:8], h[8:12], h[13:16], 8 | (int(h[16], 16) & 3), h[17:20], h[20:32])


def _policy_text(doc):
    return doc if isinstance(doc, str) else json.dumps(doc)


class Emulator:
    """Everything but HTTP: the account, the faults, the call log, and request handling."""

    def __init__(self, user_quota=5000, sts_regions=None, call_log_size=100000, verbose=False):
        self.account = Account(user_quota)
        self.user_quota = user_quota
        self.faults = Faults()
        self.sts_regions = None if sts_regions is None else {IAM_REGION} | set(sts_regions)
        self.verbose = verbose
        self._calls = collections.deque(maxlen=call_log_size)
        self._calls_lock = threading.Lock()
        self._seq = 0
        self.root = None  # {"user":…, "access_key":…, "secret_key":…, "policy":…}

    # -- bootstrap and admin operations -----------------------------------------

    def bootstrap(self, root_user="vault-root", root_policy=ALLOW_ALL, access_key=None, secret_key=None):
        with self.account.lock:
            user = self.account.create_user(root_user)
            self.account.put_inline(user, "root", root_policy)
            key = self.account.create_access_key(user)
            if access_key:
                del self.account.keys[key.id]
                key.id = access_key
                self.account.keys[key.id] = key
            if secret_key:
                key.secret = secret_key
        self.root = {"user": root_user, "access_key": key.id, "secret_key": key.secret, "policy": root_policy}
        return key

    def reset_state(self):
        """Forget everything except the bootstrap user and its key."""
        with self.account.lock:
            self.account = Account(self.user_quota)
        self.bootstrap(self.root["user"], self.root["policy"], self.root["access_key"], self.root["secret_key"])

    def _apply_policies(self, entity, spec):
        acc = self.account
        if spec.get("policy") is not None:
            acc.put_inline(entity, spec.get("policy_name", "inline"), _policy_text(spec["policy"]))
        for name, doc in (spec.get("policies") or {}).items():
            acc.put_inline(entity, name, _policy_text(doc))
        for arn in spec.get("policy_arns") or []:
            acc.attach(entity, arn)
        if spec.get("tags"):
            acc.tag(entity, list(spec["tags"].items()))
        if spec.get("permissions_boundary"):
            acc.set_boundary(entity, spec["permissions_boundary"])

    def admin_create_user(self, spec):
        acc = self.account
        with acc.lock:
            user = acc.create_user(spec["name"], spec.get("path", "/"))
            try:
                self._apply_policies(user, spec)
                for g in spec.get("groups") or []:
                    acc.add_to_group(user, acc.group(g))
                key = acc.create_access_key(user) if spec.get("access_key", True) else None
            except Exception:
                del acc.users[user.name.lower()]
                raise
            out = {"user": {"name": user.name, "arn": user.arn, "id": user.id}}
            if key is not None:
                out.update(access_key=key.id, secret_key=key.secret)
            return out

    def admin_create_role(self, spec):
        acc = self.account
        with acc.lock:
            trust = _policy_text(spec.get("trust_policy") or ACCOUNT_TRUST % acc.id)
            role = acc.create_role(spec["name"], spec.get("path", "/"), trust,
                                   int(spec.get("max_session_duration", 3600)), spec.get("description", ""))
            try:
                self._apply_policies(role, spec)
            except Exception:
                del acc.roles[role.name.lower()]
                raise
            return {"name": role.name, "arn": role.arn, "id": role.id}

    def admin_create_group(self, spec):
        acc = self.account
        with acc.lock:
            group = acc.create_group(spec["name"], spec.get("path", "/"))
            try:
                self._apply_policies(group, spec)
                for u in spec.get("members") or []:
                    acc.add_to_group(acc.user(u), group)
            except Exception:
                del acc.groups[group.name.lower()]
                raise
            return {"name": group.name, "arn": group.arn, "id": group.id}

    def admin_create_policy(self, spec):
        with self.account.lock:
            p = self.account.create_policy(spec["name"], spec.get("path", "/"), _policy_text(spec["document"]),
                                           spec.get("description", ""))
            return {"name": p.name, "arn": p.arn}

    def admin_expire(self, spec):
        """Expire temporary credentials now: one (`access_key`) or all."""
        now = time.time()
        expired = []
        with self.account.lock:
            for cred in self.account.keys.values():
                if cred.temporary and (spec.get("access_key") in (None, cred.id)):
                    cred.expires = min(cred.expires, now - 1)
                    expired.append(cred.id)
        return {"expired": expired}

    def state(self):
        with self.account.lock:
            snap = self.account.snapshot()
        snap["faults"] = self.faults.snapshot()
        with self._calls_lock:
            snap["counts"]["calls"] = self._seq
        return snap

    # -- call log ----------------------------------------------------------------

    def calls(self, since=0, action=None):
        with self._calls_lock:
            return [c for c in self._calls if c["seq"] > since and (action is None or c["action"] == action)]

    def reset_calls(self):
        with self._calls_lock:
            self._calls.clear()

    def _log(self, entry):
        with self._calls_lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._calls.append(entry)
        if self.verbose:
            print("%s %s %s %s" % (entry["action"], entry["caller"], entry["status"], entry["error"] or ""),
                  file=sys.stderr, flush=True)

    # -- the API pipeline --------------------------------------------------------

    def handle(self, method, raw_path, query_string, headers, body, client_ip="127.0.0.1", secure=False,
               received=None):
        """Returns (HTTP status, XML body, request id, call log entry). May raise DropConnection.

        `received`: when the request's first bytes reached the socket (the kernel's receive timestamp
        on plain connections; when the HTTP layer read the first line under TLS); the HTTP layer
        sets the entry's "answered" once the response is written, to when its write began."""
        started = time.time()
        request_id = _request_id()
        query_pairs = parse_qsl(query_string, keep_blank_values=True) if query_string else []
        form_pairs = []
        if body:
            form_pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = Params([(k, v) for k, v in query_pairs + form_pairs if not k.startswith("X-Amz-")])
        action_name = params.get("Action")
        entry = {"time": started, "action": action_name, "service": None, "params": params.redacted(),
                 "caller": None, "caller_arn": None, "status": 200, "error": None, "message": None,
                 "received": received if received is not None else started, "answered": None, "sent": None}
        service = None
        try:
            info = sigv4.parse_request_auth(headers, dict(query_pairs))
            service = info.service if info is not None and info.service in ACTIONS else \
                self._guess_service(action_name, headers)
            entry["service"] = service
            if info is None:
                raise AwsError("MissingAuthenticationToken", "Request must contain either a valid (registered) AWS "
                                                             "access key ID or X.509 certificate.")
            entry["caller"] = info.access_key
            key = self._authenticate(info, method, raw_path, query_pairs, headers, body)
            if not action_name:
                raise AwsError("MissingAction", "Missing Action")
            act = ACTIONS[service].get(action_name)
            if act is None:
                raise AwsError("InvalidAction", "Could not find operation %s for version %s"
                               % (action_name, params.get("Version") or VERSIONS[service]))
            delay = self.faults.latency_for(action_name)
            if delay:
                time.sleep(delay)
            self.faults.check(action_name)
            validate(params, act.fields)
            with self.account.lock:
                caller = Caller(self.account, key, client_ip, secure)
                entry["caller_arn"] = caller.arn
                req = Request(self, self.account, params, caller)
                if act.resource is not None:
                    extra = act.condition_keys(req) if act.condition_keys else None
                    authorize(caller, act.permission, act.resource(req), extra)
                result = act.handler(req)
            return 200, success_body(service, action_name, result, request_id), request_id, entry
        except AwsError as err:
            entry.update(status=err.status, error=err.code, message=err.message)
            return err.status, error_body(service or "iam", err, request_id), request_id, entry
        except DropConnection:
            entry.update(status=0, error="ConnectionDropped")
            raise
        except Exception:  # a bug in the emulator: answer like AWS would, and say so on stderr
            traceback.print_exc()
            err = AwsError("ServiceFailure", "Request processing has failed due to an unknown error, exception or "
                                             "failure.")
            entry.update(status=err.status, error=err.code, message=err.message)
            return err.status, error_body(service or "iam", err, request_id), request_id, entry
        finally:
            entry["duration_ms"] = round((time.time() - started) * 1000, 3)
            self._log(entry)

    @staticmethod
    def _guess_service(action_name, headers):
        host = (headers.get("host") or [""])[0]
        if host.startswith("sts.") or (action_name in ACTIONS["sts"] and action_name not in ACTIONS["iam"]):
            return "sts"
        return "iam"

    def _authenticate(self, info, method, raw_path, query_pairs, headers, body):
        """The key that signed the request, or raise InvalidClientTokenId / SignatureDoesNotMatch / ExpiredToken."""
        key = self.account.keys.get(info.access_key)
        if key is None or key.status != "Active" or time.monotonic() < getattr(key, "usable_after", 0.0):
            raise AwsError("InvalidClientTokenId", INVALID_TOKEN)
        if key.temporary:
            if info.security_token is None or not hmac.compare_digest(info.security_token, key.token):
                raise AwsError("InvalidClientTokenId", INVALID_TOKEN)
        elif info.security_token is not None:
            raise AwsError("InvalidClientTokenId", INVALID_TOKEN)
        if info.service not in ACTIONS:
            raise AwsError("SignatureDoesNotMatch", "Credential should be scoped to correct service: 'iam'. ")
        if info.terminator != "aws4_request":
            raise AwsError("SignatureDoesNotMatch", "Credential should be scoped with a valid terminator: "
                                                    "'aws4_request', not '%s'. " % info.terminator)
        if not self._region_ok(info.service, info.region):
            raise AwsError("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not '%s'. "
                           % info.region)
        if "host" not in info.signed_headers:
            raise AwsError("SignatureDoesNotMatch", "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                                                    "Authorization.")
        sigv4.check_time(info, time.time())
        if not sigv4.verify(info, key.secret, method, raw_path, query_pairs, headers, body):
            raise AwsError("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                    "signature you provided. Check your AWS Secret Access Key and "
                                                    "signing method. Consult the service documentation for details.")
        if key.temporary and key.expires <= time.time():
            raise AwsError("ExpiredToken", "The security token included in the request is expired")
        return key

    def _region_ok(self, service, region):
        if service == "iam":
            return region == IAM_REGION
        if self.sts_regions is None:
            return REGION_RE.fullmatch(region) is not None
        return region in self.sts_regions


# ---------------------------------------------------------------------------
# HTTP

class BadRequest(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           411: "Length Required", 413: "Payload Too Large", 414: "URI Too Long",
           431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}
MAX_LINE = 65536
MAX_HEADERS = 200
MAX_BODY = 16 * 1024 * 1024


@functools.lru_cache(maxsize=4)
def _http_date(second):
    return email.utils.formatdate(second, usegmt=True)


# Linux's SO_TIMESTAMPNS (asm-generic/socket.h; also the SCM_ type of its control message), which
# Python's socket module does not name.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
class _StampedReader(io.RawIOBase):
    """The raw reader under a plain connection's rfile: each read also takes the kernel's receive
    timestamp of the bytes (SO_TIMESTAMPNS). The call log's "received" is then when a request
    reached the emulator's socket, not when a handler thread got round to reading it, so a client
    measuring its own overhead against the call log is not charged for this process's wake-ups."""

    # Room for SCM_TIMESTAMPNS and, on a socket that also asked for transmit timestamps, the
    # SCM_TIMESTAMPING the kernel may add to received data.
    _CMSG = 256

    def __init__(self, sock):
        super().__init__()
        self._sock = sock
        self.last_rx = None  # timestamp of the bytes most recently read from the socket
        self._first = None
        self._marked = False

    def readable(self):
        return True

    def readinto(self, b):
        nbytes, ancdata, _, _ = self._sock.recvmsg_into([b], self._CMSG)
        self.last_rx = None
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                sec, nsec = struct.unpack("qq", data[:16])
                self.last_rx = sec + nsec / 1e9
        if self._marked and nbytes:
            self._first, self._marked = self.last_rx, False
        return nbytes

    def mark(self):
        """Start of a request: arrived() then answers when its first bytes came in."""
        self._first, self._marked = self.last_rx, True

    def arrived(self):
        return self._first


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive. Requests are parsed here with a lean reader instead of the email
    package that BaseHTTPRequestHandler uses, and each response goes out in a single write: this
    roughly halves the per-call cost, which matters for the ~2,000 calls/s the emulator must take."""

    protocol_version = "HTTP/1.1"
    server_version = "iam-emulator"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # the call log replaces the access log
        pass

    def setup(self):
        super().setup()
        self._stamps = None
        self._sent_stamps = None
        self._write_sent = None
        if self.server.stamped:
            try:
                self._sent_stamps = SentStamps(self.connection)
            except OSError:
                pass
        if self.server.stamped:  # the connection inherited SO_TIMESTAMPNS from the listener
            self._stamps = _StampedReader(self.connection)
            self.rfile.close()  # the makefile() reader it replaces (it holds a socket reference)
            self.rfile = io.BufferedReader(self._stamps)

    def finish(self):
        try:
            super().finish()
        finally:
            if self._sent_stamps is not None:
                self._sent_stamps.close()

    def handle_one_request(self):
        try:
            if self._stamps is not None:
                self._stamps.mark()
            line = self.rfile.readline(MAX_LINE + 1)
            self._received = time.time()
            if self._stamps is not None and self._stamps.arrived() is not None:
                self._received = min(self._received, self._stamps.arrived())
            if not line:
                self.close_connection = True
                return
            if line in (b"\r\n", b"\n"):
                return  # tolerate a stray empty line between requests
            try:
                method, target, version = self._request_line(line)
                headers = self._headers()
                body = self._body(headers)
            except BadRequest as err:
                self.close_connection = True
                self._write(err.status, (str(err) + "\n").encode(), "text/plain")
                return
            self.command, self.path = method, target
            connection = (headers.get("connection") or [""])[0].lower()
            self.close_connection = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
            self._dispatch(method, target, headers, body)
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True

    def _request_line(self, line):
        if len(line) > MAX_LINE:
            raise BadRequest(414, "request line too long")
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(400, "bad request line")
        return parts

    def _headers(self):
        headers = {}
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                return headers
            if len(raw) > MAX_LINE:
                raise BadRequest(431, "header line too long")
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                raise BadRequest(400, "bad header line")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        raise BadRequest(431, "too many headers")

    def _body(self, headers):
        if (headers.get("expect") or [""])[0].lower() == "100-continue":
            if self._sent_stamps is not None:
                self._sent_stamps.prepare()
                self._sent_stamps.write(self.wfile.write, b"HTTP/1.1 100 Continue\r\n\r\n")
            else:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in (headers.get("transfer-encoding") or [""])[0].lower():
            chunks, total = [], 0
            while True:
                try:
                    size = int(self.rfile.readline(MAX_LINE).split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    raise BadRequest(400, "bad chunk size") from None
                if size == 0:
                    while self.rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise BadRequest(413, "body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(MAX_LINE)
        try:
            length = int((headers.get("content-length") or ["0"])[0])
        except ValueError:
            raise BadRequest(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            raise BadRequest(413, "body too large")
        return self.rfile.read(length) if length else b""

    def _write(self, status, body, content_type, extra_headers=None):
        head = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown")),
                "Server: " + self.server_version,
                "Date: " + _http_date(int(time.time())),
                "Content-Type: " + content_type,
                "Content-Length: %d" % len(body)]
        for k, v in (extra_headers or {}).items():
            head.append("%s: %s" % (k, v))
        if self.close_connection:
            head.append("Connection: close")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        data = payload + body if self.command != "HEAD" else payload
        # When the answer was handed to the socket: on loopback the client may get the bytes, wake
        # and even run on this CPU before the write returns to Python.
        if self._sent_stamps is not None:
            self._sent_stamps.prepare()
        self._write_began = time.time()
        if self._sent_stamps is not None:
            self._write_sent = self._sent_stamps.write(self.wfile.write, data)
        else:
            self.wfile.write(data)

    def _dispatch(self, method, target, headers, body):
        emulator = self.server.emulator
        path, _, query = target.partition("?")
        if path.startswith("/_emulator"):
            status, payload = admin(emulator, method, path, query, body)
            self._write(status, json.dumps(payload, indent=1).encode() + b"\n", "application/json")
            return
        try:
            status, payload, request_id, entry = emulator.handle(method, path, query, headers, body,
                                                                 self.client_address[0], self.server.secure,
                                                                 self._received)
        except DropConnection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(status, payload, "text/xml", {"x-amzn-RequestId": request_id})
        # Plain assignments once the write returned (the log's readers see them or None): when the
        # write began, and when its last byte left by the kernel's clock (None where unavailable).
        entry["sent"] = self._write_sent
        entry["answered"] = self._write_began


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address, emulator, tls_context=None):
        self.emulator = emulator
        self.tls_context = tls_context
        self.secure = tls_context is not None
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def server_bind(self):
        super().server_bind()
        # Timestamping on the listener: accepted connections inherit it, so even the first bytes
        # of a connection, which may arrive before its handler thread runs setup(), are stamped
        # (TCP delivers no timestamp for data that came in while no socket asked for them).
        self.stamped = False
        if not self.secure and SO_TIMESTAMPNS is not None:
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                self.stamped = True
            except OSError:
                pass

    def finish_request(self, request, client_address):
        if self.tls_context is None:
            return super().finish_request(request, client_address)
        # The TLS handshake happens here, in the connection's own thread, not in the accept loop.
        conn = self.tls_context.wrap_socket(request, server_side=True)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return  # clients going away, TLS handshakes failing: not our problem
        super().handle_error(request, client_address)


# ---------------------------------------------------------------------------
# admin API (unsigned JSON under /_emulator/)

ADMIN_HELP = {
    "GET /_emulator/state": "users, groups, roles, policies, temporary credentials, counts, faults",
    "GET /_emulator/calls?since=SEQ&action=NAME": "the call log",
    "POST /_emulator/reset-calls": "clear the call log",
    "GET|POST /_emulator/faults": "read / change fault settings (JSON object; {\"reset\": true} clears)",
    "POST /_emulator/users": "{name, path, policy, policies, policy_arns, groups, tags, permissions_boundary,"
                             " access_key=true} -> {user, access_key, secret_key}",
    "POST /_emulator/roles": "{name, path, trust_policy, max_session_duration, policy, policies, policy_arns, tags}",
    "POST /_emulator/groups": "{name, path, policy, policies, policy_arns, members}",
    "POST /_emulator/policies": "{name, path, document} -> {arn}",
    "POST /_emulator/expire": "{access_key?}: expire temporary credentials now",
    "POST /_emulator/reset": "forget everything but the bootstrap user and key",
    "GET /_emulator/health": "liveness",
}


def admin(emulator, method, path, query, body):
    """Returns (HTTP status, JSON-able payload)."""
    route = path.rstrip("/")[len("/_emulator"):].lstrip("/")
    try:
        spec = json.loads(body) if body.strip() else {}
        if method == "POST" and not isinstance(spec, dict):
            raise ValueError("the body must be a JSON object")
        if method == "GET":
            if route == "":
                return 200, ADMIN_HELP
            if route == "health":
                return 200, {"ok": True}
            if route == "state":
                return 200, emulator.state()
            if route == "calls":
                q = dict(parse_qsl(query))
                return 200, {"calls": emulator.calls(int(q.get("since", 0)), q.get("action"))}
            if route == "faults":
                return 200, emulator.faults.snapshot()
        elif method == "POST":
            if route == "faults":
                emulator.faults.update(spec)
                return 200, emulator.faults.snapshot()
            if route == "reset-calls":
                emulator.reset_calls()
                return 200, {"ok": True}
            if route == "reset":
                emulator.reset_state()
                return 200, {"ok": True}
            creators = {"users": emulator.admin_create_user, "roles": emulator.admin_create_role,
                        "groups": emulator.admin_create_group, "policies": emulator.admin_create_policy,
                        "expire": emulator.admin_expire}
            if route in creators:
                return 200, creators[route](spec)
        return 404, {"error": "NotFound", "message": "no admin route %s %s" % (method, path), "routes": ADMIN_HELP}
    except AwsError as err:
        return err.status, {"error": err.code, "message": err.message}
    except (KeyError, ValueError, TypeError) as err:
        return 400, {"error": "BadRequest", "message": "%s: %s" % (type(err).__name__, err)}
