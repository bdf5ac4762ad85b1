"""STS actions (API version 2011-06-15)."""
import json
import math
import re
import zlib

from . import authz
from . import policy as pol
from . import wire as w
from .registry import action
from .state import TempCredential
from .wire import AwsError

ROLE_ARN_RE = re.compile(r"arn:aws:iam::(\d{12}):role(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)")
CHAINED_MAX_SECONDS = 3600


def _credentials(cred):
    return {"AccessKeyId": cred.id, "SecretAccessKey": cred.secret, "SessionToken": cred.token,
            "Expiration": w.iso8601(cred.expires)}


def _session_policies(req):
    """Parsed `Policy` + `PolicyArns.member.N.arn` of the request, and the PackedPolicySize (percent)."""
    items, blob = [], ""
    text = req.p.get("Policy")
    if text:
        items.append(pol.parse(text))
        blob += json.dumps(json.loads(text), separators=(",", ":"))
    for member in req.p.members("PolicyArns"):
        arn = member.get("arn") if isinstance(member, dict) else member
        if not arn or not arn.startswith("arn:"):
            raise AwsError("InvalidParameterValue", "The policy ARN %s is invalid." % arn)
        items.append(arn)
        blob += arn
    for k, v in req.p.tags():
        blob += k + "=" + v
    if not blob:
        return items, None
    # AWS packs (compresses) session policies, ARNs and tags into a fixed budget; approximated here.
    size = max(1, math.ceil(100 * len(zlib.compress(blob.encode(), 9)) / 1150))
    if size > 100:
        raise AwsError("PackedPolicyTooLarge", "Packed policy consumes %d%% of allotted space, please use "
                                               "smaller policy." % size)
    return items, size


def _issue(req, cred):
    req.account.keys[cred.id] = cred
    return cred


@action("sts", "GetCallerIdentity", [], lambda req: "*")
def get_caller_identity(req):
    return {"UserId": req.caller.user_id, "Account": req.account.id, "Arn": req.caller.arn}


def _assume_role_context(req):
    ctx = {"sts:RoleSessionName": req.p.get("RoleSessionName")}
    if req.p.get("ExternalId") is not None:
        ctx["sts:ExternalId"] = req.p.get("ExternalId")
    if req.p.get("SourceIdentity"):
        ctx["sts:SourceIdentity"] = req.p.get("SourceIdentity")
    tags = req.p.tags()
    if tags:
        ctx["aws:TagKeys"] = [k for k, _ in tags]
        for k, v in tags:
            ctx["aws:RequestTag/" + k] = v
    return ctx


def _check_trust(req, role, permission, ctx):
    caller = req.caller
    full_ctx = caller.context()
    full_ctx.update({k.lower(): v for k, v in ctx.items()})
    decision, named = pol.trust_allows(role.trust, permission, caller.principal_arns(), req.account.id, full_ctx)
    if decision != "Allow":
        raise authz.denied(caller, permission, role.arn)
    identity = authz.evaluate(caller, permission, role.arn, ctx)
    if identity is not True and (not named or identity.startswith("with an explicit deny")):
        raise authz.denied(caller, permission, role.arn, identity)


@action("sts", "AssumeRole", [w.ROLE_ARN.req(), w.ROLE_SESSION_NAME.req(), w.SESSION_POLICY, w.ROLE_DURATION,
                              w.EXTERNAL_ID, w.POLICY_ARNS, w.TAGS, w.SERIAL_NUMBER, w.TOKEN_CODE,
                              w.Field("SourceIdentity", 2, 64, r"[\w+=,.@-]*")])
def assume_role(req):
    caller, acc, p = req.caller, req.account, req.p
    authz.service_rules(caller, "sts:AssumeRole")
    m = ROLE_ARN_RE.fullmatch(p.get("RoleArn"))
    if not m:
        raise AwsError("ValidationError", "Request ARN is invalid")
    role = acc.roles.get(m.group(3).lower())
    if m.group(1) != acc.id or role is None or role.arn != p.get("RoleArn"):
        raise authz.denied(caller, "sts:AssumeRole", p.get("RoleArn"))
    ctx = _assume_role_context(req)
    _check_trust(req, role, "sts:AssumeRole", ctx)
    if p.tags():
        _check_trust(req, role, "sts:TagSession", ctx)

    duration = p.int("DurationSeconds", 3600)
    chained = caller.kind == "assumed-role"
    if chained and duration > CHAINED_MAX_SECONDS:
        raise AwsError("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for "
                                          "roles assumed by role chaining.")
    if duration > role.max_session:
        raise AwsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                                          "this role.")
    policies, packed = _session_policies(req)
    cred = _issue(req, TempCredential("assumed-role", duration, source_user=caller.arn, role=role.name,
                                      session_name=p.get("RoleSessionName"),
                                      session_policies=policies or None, chained=chained))
    cred.role_id = role.id
    cred.mfa = bool(p.get("SerialNumber") and p.get("TokenCode")) or (caller.temporary and caller.key.mfa)
    return {
        "Credentials": _credentials(cred),
        "AssumedRoleUser": {"AssumedRoleId": "%s:%s" % (role.id, cred.session_name),
                            "Arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (acc.id, role.name, cred.session_name)},
        "PackedPolicySize": packed,
        "SourceIdentity": p.get("SourceIdentity"),
    }


@action("sts", "GetFederationToken", [w.FEDERATED_NAME.req(), w.SESSION_POLICY, w.TOKEN_DURATION, w.POLICY_ARNS,
                                      w.TAGS],
        lambda req: "arn:aws:sts::%s:federated-user/%s" % (req.account.id, req.p.get("Name")))
def get_federation_token(req):
    p = req.p
    policies, packed = _session_policies(req)
    cred = _issue(req, TempCredential("federated-user", p.int("DurationSeconds", 43200),
                                      source_user=req.caller.user.name, session_name=p.get("Name"),
                                      session_policies=policies))
    return {
        "Credentials": _credentials(cred),
        "FederatedUser": {"FederatedUserId": "%s:%s" % (req.account.id, cred.session_name),
                          "Arn": "arn:aws:sts::%s:federated-user/%s" % (req.account.id, cred.session_name)},
        "PackedPolicySize": packed,
    }


@action("sts", "GetSessionToken", [w.TOKEN_DURATION, w.SERIAL_NUMBER, w.TOKEN_CODE], lambda req: "*")
def get_session_token(req):
    p = req.p
    if bool(p.get("SerialNumber")) != bool(p.get("TokenCode")):
        raise AwsError("AccessDenied", "MultiFactorAuthentication failed, must provide both MFA serial number "
                                       "and one time pass code.")
    cred = _issue(req, TempCredential("session", p.int("DurationSeconds", 43200), source_user=req.caller.user.name,
                                      mfa=bool(p.get("TokenCode"))))
    return {"Credentials": _credentials(cred)}
