"""Who is calling, and may they? Identity-based policy evaluation for every IAM/STS action.

A request is allowed when no policy in force explicitly denies it and every layer allows it:
  IAM user (long-term key or GetSessionToken): identity policies [, permissions boundary]
  assumed role: role policies [, role boundary] [, session policies if any were passed]
  federated user: the user's identity policies [, boundary], session policies (none passed = nothing)
Some STS rules that AWS applies regardless of policies are enforced too (see `service_rules`).
"""
import time

from . import policy as pol
from .wire import AwsError, iso8601

# Actions that AWS allows without any permission.
ALWAYS_ALLOWED = {"sts:GetCallerIdentity", "sts:GetSessionToken"}


class Caller:
    """The principal behind an access key (long-term or temporary)."""

    def __init__(self, account, key, source_ip="127.0.0.1", secure=False):
        self.key = key
        self.account = account
        self.source_ip = source_ip
        self.secure = secure
        acct = account.id
        if not key.temporary or key.kind in ("session", "federated-user"):
            user_name = key.user if not key.temporary else key.source_user
            self.user = account.users.get(user_name.lower())
            if self.user is None:  # deleted since: the key is gone with it
                raise AwsError("InvalidClientTokenId", "The security token included in the request is invalid.")
        else:
            self.user = None
        self.kind = "user" if not key.temporary else key.kind
        if self.kind in ("user", "session"):
            self.arn, self.user_id = self.user.arn, self.user.id
        elif self.kind == "federated-user":
            self.arn = "arn:aws:sts::%s:federated-user/%s" % (acct, key.session_name)
            self.user_id = "%s:%s" % (acct, key.session_name)
        else:
            self.arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (acct, key.role, key.session_name)
            self.user_id = "%s:%s" % (key.role_id, key.session_name)

    @property
    def temporary(self):
        return self.key.temporary

    def role(self):
        return self.account.roles.get(self.key.role.lower()) if self.kind == "assumed-role" else None

    def principal_arns(self):
        """ARNs a trust policy may name to mean this caller."""
        arns = {self.arn}
        if self.kind == "assumed-role":
            role = self.role()
            if role is not None:
                arns.add(role.arn)
        return arns

    def context(self):
        """Global condition keys (lower-case)."""
        now = int(time.time())
        ctx = {
            "aws:principalarn": self.arn if self.kind != "assumed-role" or self.role() is None else self.role().arn,
            "aws:principalaccount": self.account.id,
            "aws:userid": self.user_id,
            "aws:sourceip": self.source_ip,
            "aws:securetransport": "true" if self.secure else "false",
            "aws:currenttime": iso8601(now),
            "aws:epochtime": str(int(now)),
            "aws:principaltype": {"user": "User", "session": "User", "federated-user": "FederatedUser",
                                  "assumed-role": "AssumedRole"}[self.kind],
        }
        if self.user is not None:
            ctx["aws:username"] = self.user.name
            for k, v in self.user.tags:
                ctx["aws:principaltag/" + k.lower()] = v
        if self.temporary:
            ctx["aws:multifactorauthpresent"] = "true" if self.key.mfa else "false"
            ctx["aws:tokenissuetime"] = iso8601(self.key.created)
        if self.kind == "assumed-role" and self.role() is not None:
            for k, v in self.role().tags:
                ctx["aws:principaltag/" + k.lower()] = v
        return ctx

    def layers(self):
        """[(name, [Policy])]: every layer must allow; the name is used in AccessDenied messages."""
        acc = self.account
        out = []
        if self.kind == "assumed-role":
            role = self.role()
            out.append(("identity-based", acc.documents(role) if role else []))
            if role is not None and role.boundary and role.boundary in acc.policies:
                out.append(("permissions boundary", [acc.policies[role.boundary].document]))
            if self.key.session_policies is not None:
                out.append(("session", acc.session_documents(self.key)))
            return out
        out.append(("identity-based", acc.documents(self.user)))
        if self.user.boundary and self.user.boundary in acc.policies:
            out.append(("permissions boundary", [acc.policies[self.user.boundary].document]))
        if self.kind == "federated-user":
            out.append(("session", acc.session_documents(self.key)))
        return out


def denied(caller, action, resource, reason=""):
    msg = "User: %s is not authorized to perform: %s on resource: %s" % (caller.arn, action, resource)
    if reason:
        msg += " " + reason
    return AwsError("AccessDenied", msg)


def service_rules(caller, action):
    """Limits on temporary credentials that AWS applies before looking at policies."""
    if not caller.temporary:
        return
    service = action.split(":", 1)[0]
    kind = caller.kind
    if action == "sts:GetFederationToken":
        raise AwsError("AccessDenied", "Cannot call GetFederationToken with session credentials")
    if action == "sts:GetSessionToken":
        raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials")
    if kind == "federated-user":
        if service == "iam" or (service == "sts" and action != "sts:GetCallerIdentity"):
            raise denied(caller, action, "*" if service == "sts" else "arn:aws:iam::%s:*" % caller.account.id)
    if kind == "session":
        if service == "iam" and not caller.key.mfa:
            raise denied(caller, action, "arn:aws:iam::%s:*" % caller.account.id,
                         "because no MFA authentication information was included in the request")
        if service == "sts" and action not in ("sts:AssumeRole", "sts:GetCallerIdentity"):
            raise denied(caller, action, "*")


def authorize(caller, action, resource, extra_ctx=None):
    """Raise AccessDenied unless `caller` may perform `action` on `resource`."""
    service_rules(caller, action)
    if action in ALWAYS_ALLOWED:
        return
    decision = evaluate(caller, action, resource, extra_ctx)
    if decision is not True:
        raise denied(caller, action, resource, decision)


class LazyContext:
    """Condition keys, computed on first use: most policies have neither conditions nor variables."""

    def __init__(self, caller, extra):
        self._caller = caller
        self._extra = extra
        self._data = None

    def get(self, key, default=None):
        if self._data is None:
            self._data = self._caller.context()
            if self._extra:
                self._data.update({k.lower(): v for k, v in self._extra.items()})
        return self._data.get(key, default)


def evaluate(caller, action, resource, extra_ctx=None):
    """True when allowed, else the reason text for the AccessDenied message."""
    ctx = LazyContext(caller, extra_ctx)
    results = [(name, pol.evaluate(docs, action, resource, ctx)) for name, docs in caller.layers()]
    for name, result in results:
        if result == "Deny":
            return "with an explicit deny in %s policy" % ("an identity-based" if name == "identity-based"
                                                           else "a " + name)
    for name, result in results:
        if result is None:
            return "because no %s policy allows the %s action" % (name, action)
    return True

