"""AWS Query protocol: request parameters, XML responses, errors and input validation."""
import base64
import functools
import os
import re
import time
import unicodedata
from xml.sax.saxutils import escape

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
NAMESPACES = {"iam": IAM_NS, "sts": STS_NS}
VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}

# HTTP status of each error code (botocore error shapes; AWS for the auth errors).
STATUS = {
    "NoSuchEntity": 404,
    "EntityAlreadyExists": 409,
    "LimitExceeded": 409,
    "DeleteConflict": 409,
    "ConcurrentModification": 409,
    "MalformedPolicyDocument": 400,
    "InvalidInput": 400,
    "ValidationError": 400,
    "PolicyNotAttachable": 400,
    "PackedPolicyTooLarge": 400,
    "ServiceFailure": 500,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "Throttling": 400,
    "ExpiredToken": 400,
    "InvalidClientTokenId": 403,
    "SignatureDoesNotMatch": 403,
    "IncompleteSignature": 400,
    "MissingAuthenticationToken": 403,
    "AccessDenied": 403,
    "InvalidAction": 400,
    "MissingAction": 400,
    "RegionDisabledException": 403,
    "InvalidParameterValue": 400,
    "EntityTemporarilyUnmodifiable": 409,
    "InvalidAuthenticationCode": 403,
    "MalformedCertificate": 400,
    "InvalidCertificate": 400,
    "DuplicateCertificate": 409,
    "InvalidPublicKey": 400,
    "UnrecognizedPublicKeyEncoding": 400,
    "DuplicateSSHPublicKey": 400,
    "NotSupportedService": 404,
}


class AwsError(Exception):
    """An error returned to the client as an <ErrorResponse>."""

    def __init__(self, code, message, status=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, 400)

    @property
    def type(self):
        return "Receiver" if self.status >= 500 else "Sender"


# ---------------------------------------------------------------------------
# identifiers and time

def random_id(prefix, length):
    """AWS-looking identifier: prefix + base32 characters (A-Z, 2-7), `length` chars in all."""
    body = base64.b32encode(os.urandom(16)).decode()
    return prefix + body[: length - len(prefix)]


def random_secret(length=40):
    return base64.b64encode(os.urandom(30)).decode()[:length]


def iso8601(epoch):
    """ISO-8601 UTC with a Z suffix, as IAM and STS return timestamps (whole seconds)."""
    return _iso8601(int(epoch))


@functools.lru_cache(maxsize=4096)
def _iso8601(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# ---------------------------------------------------------------------------
# request parameters

_MEMBER_RE = re.compile(r"^(?P<prefix>[A-Za-z]+)\.member\.(?P<index>\d+)(?:\.(?P<field>\w+))?$")


class Params:
    """The flat Query-protocol parameters of one request."""

    def __init__(self, pairs):
        self.flat = {}
        for key, value in pairs:
            self.flat.setdefault(key, value)  # first occurrence wins, as in AWS

    def get(self, name, default=None):
        return self.flat.get(name, default)

    def __contains__(self, name):
        return name in self.flat

    def int(self, name, default=None):
        value = self.flat.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise AwsError("ValidationError", "Invalid value for parameter %s%s" % (name[0].lower(), name[1:])) from None

    def bool(self, name, default=False):
        value = self.flat.get(name)
        if value is None:
            return default
        return value.lower() == "true"

    def members(self, prefix):
        """`Prefix.member.N` (list of strings) or `Prefix.member.N.Field` (list of dicts), in N order."""
        items = {}
        for key, value in self.flat.items():
            m = _MEMBER_RE.match(key)
            if not m or m.group("prefix") != prefix:
                continue
            index = int(m.group("index"))
            if m.group("field"):
                items.setdefault(index, {})[m.group("field")] = value
            else:
                items[index] = value
        return [items[i] for i in sorted(items)]

    def tags(self, prefix="Tags"):
        return [(m.get("Key", ""), m.get("Value", "")) for m in self.members(prefix) if isinstance(m, dict)]

    def redacted(self):
        """Parameters for the call log: no secrets, no protocol noise."""
        return {k: ("<redacted>" if k in SECRET_PARAMS else v)
                for k, v in self.flat.items() if k not in ("Action", "Version")}


SECRET_PARAMS = {"Password", "NewPassword", "OldPassword", "SecretAccessKey", "TokenCode", "AuthenticationCode1",
                 "AuthenticationCode2"}


# ---------------------------------------------------------------------------
# XML rendering

def _fmt(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return escape(text) if ("&" in text or "<" in text or ">" in text) else text


def xml(name, value):
    """Render one element. dict -> children, list -> <member> items, None -> omitted."""
    if value is None:
        return ""
    if isinstance(value, dict):
        inner = "".join(xml(k, v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        inner = "".join(xml("member", v) for v in value)
    else:
        inner = _fmt(value)
    return "<%s>%s</%s>" % (name, inner, name)


def success_body(service, action, result, request_id):
    ns = NAMESPACES[service]
    result_xml = "" if result is None else xml(action + "Result", result)
    return ('<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>'
            % (action, ns, result_xml, request_id, action)).encode()


def error_body(service, err, request_id):
    ns = NAMESPACES.get(service, IAM_NS)
    return ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>'
            '<RequestId>%s</RequestId></ErrorResponse>'
            % (ns, err.type, escape(err.code), escape(err.message), request_id)).encode()


def tags_xml(tags):
    return [{"Key": k, "Value": v} for k, v in tags]


# ---------------------------------------------------------------------------
# input validation (botocore model constraints, reported in AWS's shape)

def _tag_chars_ok(text):
    return all(unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@" for c in text)


class Field:
    """Constraints of one scalar parameter. `wire` is the name used in messages (lowerCamelCase)."""

    def __init__(self, name, min_len=None, max_len=None, pattern=None, required=False,
                 min_value=None, max_value=None, enum=None, is_int=False, checker=None, pattern_text=None):
        self.name = name
        self.wire = name[0].lower() + name[1:]
        self.min_len, self.max_len = min_len, max_len
        self.pattern = re.compile(pattern, re.ASCII if pattern and "\\p" not in pattern else 0) if pattern else None
        self.pattern_text = pattern_text or pattern
        self.required = required
        self.min_value, self.max_value = min_value, max_value
        self.enum = enum
        self.is_int = is_int
        self.checker = checker

    def req(self):
        clone = Field.__new__(Field)
        clone.__dict__.update(self.__dict__)
        clone.required = True
        return clone

    def problems(self, value, wire=None):
        wire = wire or self.wire
        if value is None:
            return ["Value null at '%s' failed to satisfy constraint: Member must not be null" % wire] \
                if self.required else []
        out = []
        shown = "Value '%s' at '%s' failed to satisfy constraint: " % (value, wire)
        if self.is_int:
            try:
                number = int(value)
            except ValueError:
                return [shown + "Member must be a number"]
            if self.min_value is not None and number < self.min_value:
                out.append(shown + "Member must have value greater than or equal to %d" % self.min_value)
            if self.max_value is not None and number > self.max_value:
                out.append(shown + "Member must have value less than or equal to %d" % self.max_value)
            return out
        if self.min_len is not None and len(value) < self.min_len:
            out.append(shown + "Member must have length greater than or equal to %d" % self.min_len)
        if self.max_len is not None and len(value) > self.max_len:
            out.append(shown + "Member must have length less than or equal to %d" % self.max_len)
        if self.pattern is not None and not self.pattern.fullmatch(value):
            out.append(shown + "Member must satisfy regular expression pattern: %s" % self.pattern_text)
        if self.checker is not None and value and not self.checker(value):
            out.append(shown + "Member must satisfy regular expression pattern: %s" % self.pattern_text)
        if self.enum is not None and value not in self.enum:
            out.append(shown + "Member must satisfy enum value set: [%s]" % ", ".join(self.enum))
        return out


class TagList:
    """`Tags.member.N.Key/Value`: at most 50, key 1-128 and value 0-256 of letters, spaces, digits, _.:/=+-@."""

    KEY = Field("Key", 1, 128, checker=_tag_chars_ok, pattern_text=r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", required=True)
    VALUE = Field("Value", 0, 256, checker=_tag_chars_ok, pattern_text=r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", required=True)

    def __init__(self, name="Tags", max_items=50):
        self.name = name
        self.wire = name[0].lower() + name[1:]
        self.max_items = max_items

    def problems(self, params):
        members = params.members(self.name)
        out = []
        if len(members) > self.max_items:
            out.append("Value '[...]' at '%s' failed to satisfy constraint: Member must have length less than "
                       "or equal to %d" % (self.wire, self.max_items))
        for i, m in enumerate(members, 1):
            m = m if isinstance(m, dict) else {}
            out += self.KEY.problems(m.get("Key"), "%s.%d.member.key" % (self.wire, i))
            out += self.VALUE.problems(m.get("Value"), "%s.%d.member.value" % (self.wire, i))
        return out


class MemberList:
    """`Name.member.N[.field]` list with a maximum size and per-item constraints."""

    def __init__(self, name, max_items, item=None, item_field=None):
        self.name = name
        self.wire = name[0].lower() + name[1:]
        self.max_items = max_items
        self.item = item
        self.item_field = item_field

    def problems(self, params):
        members = params.members(self.name)
        out = []
        if len(members) > self.max_items:
            out.append("Value '[...]' at '%s' failed to satisfy constraint: Member must have length less than "
                       "or equal to %d" % (self.wire, self.max_items))
        if self.item is not None:
            for i, m in enumerate(members, 1):
                value = m.get(self.item_field) if isinstance(m, dict) else m
                out += self.item.problems(value, "%s.%d.member.%s" % (self.wire, i, self.item_field or ""))
        return out


def validate(params, fields):
    problems = []
    for f in fields:
        if isinstance(f, Field):
            problems += f.problems(params.get(f.name))
        else:
            problems += f.problems(params)
    if problems:
        n = len(problems)
        raise AwsError("ValidationError", "%d validation error%s detected: %s"
                       % (n, "" if n == 1 else "s", "; ".join(problems)))


# The botocore model shapes used by the actions.
NAME_RE = r"[\w+=,.@-]+"
USER_NAME = Field("UserName", 1, 64, NAME_RE)               # userNameType (create)
EXISTING_USER_NAME = Field("UserName", 1, 128, NAME_RE)     # existingUserNameType
GROUP_NAME = Field("GroupName", 1, 128, NAME_RE)
ROLE_NAME = Field("RoleName", 1, 64, NAME_RE)
POLICY_NAME = Field("PolicyName", 1, 128, NAME_RE)
PATH = Field("Path", 1, 512, r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)")
POLICY_PATH = Field("Path", 1, 512, r"((/[A-Za-z0-9\.,\+@=_-]+)*)/")
PATH_PREFIX = Field("PathPrefix", 1, 512, r"\u002F[\u0021-\u007F]*")
POLICY_DOCUMENT = Field("PolicyDocument", 1, 131072, r"[\u0009\u000A\u000D\u0020-\u00FF]+")
ASSUME_ROLE_POLICY_DOCUMENT = Field("AssumeRolePolicyDocument", 1, 131072, r"[\u0009\u000A\u000D\u0020-\u00FF]+")
POLICY_ARN = Field("PolicyArn", 20, 2048)
BOUNDARY = Field("PermissionsBoundary", 20, 2048)
ACCESS_KEY_ID = Field("AccessKeyId", 16, 128, r"[\w]+")
STATUS_FIELD = Field("Status", enum=["Active", "Inactive"])
MARKER = Field("Marker", 1, 320, r"[\u0020-\u00FF]+")
MAX_ITEMS = Field("MaxItems", min_value=1, max_value=1000, is_int=True)
PASSWORD = Field("Password", 1, 128, r"[\u0009\u000A\u000D\u0020-\u00FF]+")
DESCRIPTION = Field("Description", 0, 1000)
MAX_SESSION_DURATION = Field("MaxSessionDuration", min_value=3600, max_value=43200, is_int=True)
TAG_KEY_LIST = MemberList("TagKeys", 50, Field("TagKey", 1, 128, checker=_tag_chars_ok,
                                               pattern_text=r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"))
TAGS = TagList()
PAGING = [MARKER, MAX_ITEMS]
# MFA devices, signing certificates, SSH public keys, service-specific credentials
MFA_SERIAL = Field("SerialNumber", 9, 256, r"[\w+=/:,.@-]+")
MFA_PATH = Field("Path", 1, 512, r"(\u002F)|(\u002F[\u0021-\u007F]+\u002F)")
VIRTUAL_MFA_NAME = Field("VirtualMFADeviceName", 1, 226, r"[\w+=,.@-]+")
AUTH_CODE_1 = Field("AuthenticationCode1", 6, 6, r"[\d]+")
AUTH_CODE_2 = Field("AuthenticationCode2", 6, 6, r"[\d]+")
ASSIGNMENT_STATUS = Field("AssignmentStatus", enum=["Assigned", "Unassigned", "Any"])
CERTIFICATE_BODY = Field("CertificateBody", 1, 16384, r"[\u0009\u000A\u000D\u0020-\u00FF]+")
CERTIFICATE_ID = Field("CertificateId", 24, 128, r"[\w]+")
SSH_PUBLIC_KEY_BODY = Field("SSHPublicKeyBody", 1, 16384, r"[\u0009\u000A\u000D\u0020-\u00FF]+")
SSH_PUBLIC_KEY_ID = Field("SSHPublicKeyId", 20, 128, r"[\w]+")
SERVICE_NAME = Field("ServiceName")
SERVICE_CREDENTIAL_ID = Field("ServiceSpecificCredentialId", 20, 128, r"[\w]+")

# STS shapes
ROLE_ARN = Field("RoleArn", 20, 2048)
ROLE_SESSION_NAME = Field("RoleSessionName", 2, 64, r"[\w+=,.@-]*")
SESSION_POLICY = Field("Policy", 1, 2048, r"[\u0009\u000A\u000D\u0020-\u00FF]+")
ROLE_DURATION = Field("DurationSeconds", min_value=900, max_value=43200, is_int=True)
TOKEN_DURATION = Field("DurationSeconds", min_value=900, max_value=129600, is_int=True)
EXTERNAL_ID = Field("ExternalId", 2, 1224, r"[\w+=,.@:\/-]*")
SERIAL_NUMBER = Field("SerialNumber", 9, 256, r"[\w+=/:,.@-]*")
TOKEN_CODE = Field("TokenCode", 6, 6, r"[\d]*")
FEDERATED_NAME = Field("Name", 2, 32, r"[\w+=,.@-]*")
POLICY_ARNS = MemberList("PolicyArns", 10, Field("arn", 20, 2048), "arn")


# ---------------------------------------------------------------------------
# paging

def page(items, params, default_max=100):
    """Slice `items` by Marker/MaxItems; returns (slice, extra result fields)."""
    max_items = params.int("MaxItems", default_max)
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode().split(":", 1)[1])
        except Exception:
            raise AwsError("InvalidInput", "Invalid Marker.") from None
    chunk = items[start:start + max_items]
    if start + max_items < len(items):
        token = base64.urlsafe_b64encode(("m:%d" % (start + max_items)).encode()).decode()
        return chunk, {"IsTruncated": True, "Marker": token}
    return chunk, {"IsTruncated": False}
