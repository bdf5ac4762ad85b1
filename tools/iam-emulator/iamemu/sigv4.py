"""AWS Signature Version 4 (AWS4-HMAC-SHA256), written out by hand with hashlib/hmac.

`parse_request_auth` extracts the signature fields from the Authorization header or from presigned
query parameters; `expected_signature` recomputes the signature over exactly the headers that the
client listed in SignedHeaders. `sign_headers` is the client side, used by tools and benchmarks.
"""
import calendar
import datetime
import functools
import hashlib
import hmac
import re
import time
from urllib.parse import quote

from .wire import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SPACES = re.compile(r"\s+")


class AuthInfo:
    """The signature fields of one request."""

    def __init__(self, access_key, date, region, service, terminator, signed_headers, signature,
                 amz_date, security_token, presigned=False, expires=None):
        self.access_key = access_key
        self.date = date
        self.region = region
        self.service = service
        self.terminator = terminator
        self.signed_headers = signed_headers
        self.signature = signature
        self.amz_date = amz_date
        self.security_token = security_token
        self.presigned = presigned
        self.expires = expires

    @property
    def scope(self):
        return "%s/%s/%s/%s" % (self.date, self.region, self.service, self.terminator)


def _split_credential(credential):
    parts = credential.split("/")
    if len(parts) != 5:
        raise AwsError("IncompleteSignature",
                       "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,"
                       " got '%s'" % credential)
    return parts


def parse_request_auth(headers, query):
    """Signature fields from `Authorization` (header auth) or `X-Amz-*` query parameters (presigned).

    `headers` maps lower-case names to lists of values; `query` is the decoded query dict.
    Returns None when the request carries no authentication at all.
    """
    auth = (headers.get("authorization") or [None])[0]
    if auth is None:
        if query.get("X-Amz-Algorithm") is None:
            return None
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise AwsError("IncompleteSignature", "Unsupported AWS 'algorithm': '%s'" % query.get("X-Amz-Algorithm"))
        missing = [k for k in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
                   if not query.get(k)]
        if missing:
            raise AwsError("IncompleteSignature", "AWS query-string parameters must include %s. Re-examine the "
                           "query-string parameters." % ", ".join("'%s'" % m for m in missing))
        key, date, region, service, term = _split_credential(query["X-Amz-Credential"])
        try:
            expires = int(query.get("X-Amz-Expires") or 900)
        except ValueError:
            raise AwsError("IncompleteSignature", "X-Amz-Expires must be a number") from None
        return AuthInfo(key, date, region, service, term, query["X-Amz-SignedHeaders"].split(";"),
                        query["X-Amz-Signature"], query["X-Amz-Date"], query.get("X-Amz-Security-Token"),
                        presigned=True, expires=expires)

    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AwsError("IncompleteSignature", "Unsupported AWS 'algorithm': '%s'" % algorithm)
    fields = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if eq:
            fields[name] = value
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    amz_date = (headers.get("x-amz-date") or [None])[0]
    problems = ["Authorization header requires '%s' parameter." % m for m in missing]
    if amz_date is None:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if problems:
        raise AwsError("IncompleteSignature", " ".join(problems) + " Authorization=" + auth)
    key, date, region, service, term = _split_credential(fields["Credential"])
    token = (headers.get("x-amz-security-token") or [None])[0]
    return AuthInfo(key, date, region, service, term, fields["SignedHeaders"].split(";"), fields["Signature"],
                    amz_date, token)


_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


def parse_amz_date(value):
    """'20260101T000000Z' -> epoch seconds, or None."""
    m = _AMZ_DATE.fullmatch(value or "")
    if m is None:
        return None
    try:
        return calendar.timegm(tuple(int(g) for g in m.groups()))
    except (ValueError, OverflowError):
        return None


def _fmt_amz(epoch):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def check_time(info, now):
    """Signature date checks: scope date, 15-minute skew, presigned expiry. Raises SignatureDoesNotMatch.

    `now` is epoch seconds."""
    when = parse_amz_date(info.amz_date)
    if when is None:
        raise AwsError("IncompleteSignature", "Date must be in ISO-8601 'basic format'. Got '%s'." % info.amz_date)
    if info.date != info.amz_date[:8]:
        raise AwsError("SignatureDoesNotMatch",
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                       "'%s' != '%s', from '%s'." % (info.date, info.amz_date[:8], info.amz_date))
    if info.presigned:
        if when + info.expires < now:
            raise AwsError("SignatureDoesNotMatch", "Signature expired: %s is now earlier than %s"
                           % (_fmt_amz(when + info.expires), _fmt_amz(now)))
        return
    if when < now - MAX_SKEW_SECONDS:
        raise AwsError("SignatureDoesNotMatch", "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                       % (info.amz_date, _fmt_amz(now - MAX_SKEW_SECONDS), _fmt_amz(now)))
    if when > now + MAX_SKEW_SECONDS:
        raise AwsError("SignatureDoesNotMatch", "Signature not yet current: %s is still later than %s (%s + 15 min.)"
                       % (info.amz_date, _fmt_amz(now + MAX_SKEW_SECONDS), _fmt_amz(now)))


def _uri_encode(text, safe="-_.~"):
    return quote(text, safe=safe)


@functools.lru_cache(maxsize=1024)
def canonical_uri(raw_path):
    """Path as sent, normalised (dot segments, duplicate slashes) and URI-encoded once more."""
    segments = []
    for seg in raw_path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if segments:
                segments.pop()
            continue
        segments.append(seg)
    path = "/" + "/".join(segments)
    if raw_path.endswith("/") and path != "/":
        path += "/"
    return _uri_encode(path, safe="/~")


def canonical_query(pairs):
    encoded = sorted((_uri_encode(k), _uri_encode(v)) for k, v in pairs)
    return "&".join("%s=%s" % kv for kv in encoded)


def canonical_request(method, raw_path, query_pairs, headers, signed_headers, payload_hash):
    lines = []
    for name in signed_headers:
        values = headers.get(name, [])
        lines.append("%s:%s" % (name, ",".join(_SPACES.sub(" ", v.strip()) for v in values)))
    return "\n".join([
        method.upper(),
        canonical_uri(raw_path),
        canonical_query(query_pairs),
        "\n".join(lines) + "\n",
        ";".join(signed_headers),
        payload_hash,
    ])


@functools.lru_cache(maxsize=8192)
def signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signature(secret, amz_date, scope_date, region, service, creq):
    scope = "%s/%s/%s/aws4_request" % (scope_date, region, service)
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    return hmac.new(signing_key(secret, scope_date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()


def verify(info, secret, method, raw_path, query_pairs, headers, body):
    """True when the client's signature matches the one computed with `secret`."""
    if info.presigned:
        query_pairs = [(k, v) for k, v in query_pairs if k != "X-Amz-Signature"]
        hashes = [UNSIGNED_PAYLOAD, hashlib.sha256(body).hexdigest()]
    else:
        declared = (headers.get("x-amz-content-sha256") or [None])[0]
        hashes = [declared] if declared else [hashlib.sha256(body).hexdigest()]
    for payload_hash in hashes:
        creq = canonical_request(method, raw_path, query_pairs, headers, info.signed_headers, payload_hash)
        expected = signature(secret, info.amz_date, info.date, info.region, info.service, creq)
        if hmac.compare_digest(expected, info.signature):
            return True
    return False


def sign_headers(method, url_path, host, body, access_key, secret, region, service, session_token=None, now=None):
    """Client side: the headers for a form POST signed like botocore does (host, content-type, x-amz-date)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "host": host,
        "x-amz-date": amz_date,
    }
    if session_token:
        headers["x-amz-security-token"] = session_token
    signed = sorted(headers)
    creq = canonical_request(method, url_path, [], {k: [v] for k, v in headers.items()}, signed,
                             hashlib.sha256(body).hexdigest())
    sig = signature(secret, amz_date, amz_date[:8], region, service, creq)
    headers["authorization"] = "%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, access_key, amz_date[:8], region, service, ";".join(signed), sig)
    return headers
