"""IAM policy documents: validation with AWS's MalformedPolicyDocument messages, and evaluation.

Evaluation covers what identity policies, session policies, permissions boundaries and role trust
policies need here: Effect, Action/NotAction, Resource/NotResource with `*` and `?` wildcards,
policy variables `${aws:username}`-style in resources, and the common condition operators
(String*, Arn*, Bool, Numeric*, Date*, IpAddress, Null, with IfExists and ForAnyValue/ForAllValues).
"""
import datetime
import functools
import ipaddress
import json
import re

from .wire import AwsError

VERSIONS = ("2008-10-17", "2012-10-17")
TOP_KEYS = {"Version", "Id", "Statement"}
STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition",
                  "Principal", "NotPrincipal"}
OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}
_VENDOR_RE = re.compile(r"[^a-zA-Z0-9\-.]")


def _malformed(message):
    return AwsError("MalformedPolicyDocument", message)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _strings(value):
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def split_operator(name):
    """'ForAnyValue:StringLikeIfExists' -> ('ForAnyValue', 'StringLike', True)."""
    qualifier = None
    for q in ("ForAnyValue:", "ForAllValues:"):
        if name.startswith(q):
            qualifier, name = q[:-1], name[len(q):]
            break
    if_exists = name.endswith("IfExists") and name != "IfExists"
    if if_exists:
        name = name[: -len("IfExists")]
    return qualifier, name, if_exists


class Statement:
    __slots__ = ("sid", "effect", "actions", "not_actions", "resources", "not_resources", "conditions",
                 "principals", "not_principals")

    def __init__(self, raw):
        self.sid = raw.get("Sid")
        self.effect = raw["Effect"]
        self.actions = _as_list(raw["Action"]) if "Action" in raw else None
        self.not_actions = _as_list(raw["NotAction"]) if "NotAction" in raw else None
        self.resources = _as_list(raw["Resource"]) if "Resource" in raw else None
        self.not_resources = _as_list(raw["NotResource"]) if "NotResource" in raw else None
        self.conditions = raw.get("Condition") or {}
        self.principals = raw.get("Principal")
        self.not_principals = raw.get("NotPrincipal")


class Policy:
    """A parsed, validated policy document."""

    def __init__(self, text, statements, version):
        self.text = text
        self.statements = statements
        self.version = version

    @property
    def size(self):
        """Size as counted against IAM quotas: whitespace is not counted."""
        return len(re.sub(r"\s", "", self.text))


def parse(text, kind="identity"):
    """Validate a policy document and return a Policy. kind: 'identity' (also session/boundary) or 'trust'."""
    try:
        doc = json.loads(text)
    except (ValueError, TypeError):
        raise _malformed("Syntax errors in policy.") from None
    if not isinstance(doc, dict) or not set(doc) <= TOP_KEYS or "Statement" not in doc:
        raise _malformed("Syntax errors in policy.")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise _malformed("Syntax errors in policy.")
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise _malformed("Syntax errors in policy.")
    raw_statements = doc["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise _malformed("Syntax errors in policy.")
    for st in raw_statements:
        _check_statement_syntax(st, kind)
    if doc.get("Version") != "2012-10-17":
        raise _malformed("Policy document must be version 2012-10-17 or greater.")
    if any(st["Effect"] not in ("Allow", "Deny") for st in raw_statements):
        raise _malformed("The policy failed legacy parsing")
    sids = [st["Sid"] for st in raw_statements if st.get("Sid")]
    if len(sids) != len(set(sids)):
        raise _malformed("Statement IDs (SID) in a single policy must be unique.")
    for st in raw_statements:
        actions = st.get("Action", st.get("NotAction"))
        if actions is None or actions == []:
            raise _malformed("Policy statement must contain actions.")
    for st in raw_statements:
        if kind == "trust":
            if "Resource" in st or "NotResource" in st:
                raise _malformed("Has prohibited field Resource")
            if "Principal" not in st and "NotPrincipal" not in st:
                raise _malformed("Missing required field Principal")
        else:
            if "Principal" in st or "NotPrincipal" in st:
                raise _malformed("Policy document should not specify a principal.")
            resources = st.get("Resource", st.get("NotResource"))
            if resources is None or resources == []:
                raise _malformed("Policy statement must contain resources.")
            for resource in _as_list(resources):
                if resource != "*" and not resource.startswith("arn:"):
                    raise _malformed('Resource %s must be in ARN format or "*".' % resource)
    for st in raw_statements:
        for action in _as_list(st.get("Action", st.get("NotAction"))):
            _check_action(action)
    return Policy(text, [Statement(st) for st in raw_statements], doc.get("Version"))


def _check_statement_syntax(st, kind):
    if not isinstance(st, dict) or not set(st) <= STATEMENT_KEYS:
        raise _malformed("Syntax errors in policy.")
    if "Effect" not in st or not isinstance(st["Effect"], str) or st["Effect"].lower() not in ("allow", "deny"):
        raise _malformed("Syntax errors in policy.")
    if ("Action" in st and "NotAction" in st) or ("Resource" in st and "NotResource" in st):
        raise _malformed("Syntax errors in policy.")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in st and not _strings(st[key]):
            raise _malformed("Syntax errors in policy.")
    if "Sid" in st and not isinstance(st["Sid"], str):
        raise _malformed("Syntax errors in policy.")
    if "Condition" in st:
        cond = st["Condition"]
        if not isinstance(cond, dict):
            raise _malformed("Syntax errors in policy.")
        for op, body in cond.items():
            if not isinstance(body, dict) or not all(isinstance(v, (str, list, bool, int, float))
                                                     for v in body.values()):
                raise _malformed("Syntax errors in policy.")
            if split_operator(op)[1] not in OPERATORS and body:
                raise _malformed("Syntax errors in policy.")
    for key in ("Principal", "NotPrincipal"):
        if key in st and not (st[key] == "*" or isinstance(st[key], dict)):
            raise _malformed("Syntax errors in policy.")


def _check_action(action):
    parts = action.split(":")
    if len(parts) == 1 and parts[0] != "*":
        raise _malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    if len(parts) > 2:
        raise _malformed("Actions/Condition can contain only one colon.")
    if parts[0] != "*" and _VENDOR_RE.search(parts[0]):
        raise _malformed("Vendor %s is not valid" % parts[0])


# ---------------------------------------------------------------------------
# matching

@functools.lru_cache(maxsize=16384)
def _wildcard(pattern, ignore_case):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern, value, ignore_case=False):
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def substitute(pattern, ctx):
    """Replace policy variables; an unknown variable makes the pattern match nothing."""
    if "${" not in pattern:
        return pattern

    def repl(m):
        name = m.group(1)
        if name in ("*", "?", "$"):
            return name  # literal characters (kept as wildcards here, which is close enough)
        value = ctx.get(name.lower())
        if isinstance(value, str):
            return value
        raise LookupError(name)

    try:
        return _VARIABLE.sub(repl, pattern)
    except LookupError:
        return None


def _any_match(patterns, value, ignore_case, ctx=None, version=None):
    for p in patterns:
        if ctx is not None and version == "2012-10-17":
            p = substitute(p, ctx)
            if p is None:
                continue
        if wildcard_match(p, value, ignore_case):
            return True
    return False


def _to_number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _to_date(v):
    if isinstance(v, (int, float)) or (isinstance(v, str) and v.isdigit()):
        return datetime.datetime.fromtimestamp(float(v), datetime.timezone.utc)
    try:
        return datetime.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return None


def _compare(op, actual, expected):
    """One context value against one policy value for the base operator `op` (not negated)."""
    if op in ("StringEquals", "ArnEquals"):
        return actual == expected
    if op == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if op in ("StringLike", "ArnLike"):
        return wildcard_match(expected, actual)
    if op == "Bool":
        return actual.lower() == str(expected).lower()
    if op.startswith("Numeric"):
        a, e = _to_number(actual), _to_number(expected)
        if a is None or e is None:
            return False
        return {"Equals": a == e, "LessThan": a < e, "LessThanEquals": a <= e, "GreaterThan": a > e,
                "GreaterThanEquals": a >= e}[op[len("Numeric"):]]
    if op.startswith("Date"):
        a, e = _to_date(actual), _to_date(expected)
        if a is None or e is None:
            return False
        return {"Equals": a == e, "LessThan": a < e, "LessThanEquals": a <= e, "GreaterThan": a > e,
                "GreaterThanEquals": a >= e}[op[len("Date"):]]
    if op == "IpAddress":
        try:
            return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
        except ValueError:
            return False
    return False


NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
           "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
           "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals", "NotIpAddress": "IpAddress"}


def conditions_match(conditions, ctx):
    """All condition blocks must hold. ctx: lower-case key -> str or list of str."""
    for op_name, body in conditions.items():
        qualifier, op, if_exists = split_operator(op_name)
        for key, expected in body.items():
            expected = [str(e) if not isinstance(e, str) else e for e in _as_list(expected)]
            actual = ctx.get(key.lower())
            if op == "Null":
                want_absent = expected[0].lower() == "true"
                if (actual is None) != want_absent:
                    return False
                continue
            negated = op in NEGATED
            base = NEGATED.get(op, op)
            if actual is None:
                if if_exists or negated:
                    continue
                return False
            values = _as_list(actual)
            if qualifier == "ForAllValues":
                ok = all(any(_compare(base, v, e) for e in expected) != negated for v in values)
            else:
                hits = [any(_compare(base, v, e) for e in expected) for v in values]
                ok = (not any(hits)) if negated else any(hits)
            if not ok:
                return False
    return True


def _statement_applies(st, policy, action, resource, ctx):
    if st.actions is not None:
        if not _any_match(st.actions, action, True):
            return False
    elif _any_match(st.not_actions, action, True):
        return False
    if st.resources is not None:
        if not _any_match(st.resources, resource, False, ctx, policy.version):
            return False
    elif st.not_resources is not None and _any_match(st.not_resources, resource, False, ctx, policy.version):
        return False
    return not st.conditions or conditions_match(st.conditions, ctx)


def evaluate(policies, action, resource, ctx):
    """'Deny' (explicit), 'Allow', or None (implicit deny) over a set of policies."""
    allowed = False
    for policy in policies:
        for st in policy.statements:
            if _statement_applies(st, policy, action, resource, ctx):
                if st.effect == "Deny":
                    return "Deny"
                allowed = True
    return "Allow" if allowed else None


# ---------------------------------------------------------------------------
# trust policies

def principal_matches(principal, caller_arns, account_id):
    """Does a Principal element name the caller? caller_arns: ARNs the caller can be matched by."""
    if principal == "*":
        return True, False
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    if aws is None:
        return False, False
    for p in _as_list(aws):
        if p == "*":
            return True, False
        if p in (account_id, "arn:aws:iam::%s:root" % account_id):
            return True, False  # the account: identity policies must also allow
        if p in caller_arns:
            return True, True   # the caller by name: the trust policy alone is enough
    return False, False


def trust_allows(policy, action, caller_arns, account_id, ctx):
    """Returns (decision, names_caller): decision 'Allow'/'Deny'/None for `action` by this caller."""
    decision, named = None, False
    for st in policy.statements:
        if st.principals is not None:
            hit, by_name = principal_matches(st.principals, caller_arns, account_id)
        else:
            hit, by_name = not principal_matches(st.not_principals, caller_arns, account_id)[0], False
        if not hit:
            continue
        if st.actions is not None:
            if not _any_match(st.actions, action, True):
                continue
        elif _any_match(st.not_actions, action, True):
            continue
        if st.conditions and not conditions_match(st.conditions, ctx):
            continue
        if st.effect == "Deny":
            return "Deny", False
        decision = "Allow"
        named = named or by_name
    return decision, named


def trust_principal_arns(policy):
    """AWS principal strings named in a trust policy (to check that they exist)."""
    out = []
    for st in policy.statements:
        for principal in (st.principals, st.not_principals):
            if isinstance(principal, dict) and "AWS" in principal:
                out += _as_list(principal["AWS"])
    return out
