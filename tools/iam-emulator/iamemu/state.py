"""The emulated AWS account: users, groups, roles, managed policies, access keys and STS sessions.

All of it is guarded by `Account.lock`; action handlers run with the lock held.
"""
import base64
import json
import os
import threading
import time
from urllib.parse import quote

from . import ACCOUNT_ID
from . import policy as pol
from .wire import AwsError, iso8601 as _iso, random_id, random_secret

ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'

# Quotas (AWS defaults).
ACCESS_KEYS_PER_USER = 2
GROUPS_PER_USER = 10
MANAGED_POLICIES_PER_ENTITY = 10
USER_INLINE_QUOTA = 2048
GROUP_INLINE_QUOTA = 5120
ROLE_INLINE_QUOTA = 10240
MANAGED_POLICY_SIZE = 6144
TAGS_PER_ENTITY = 50
MFA_DEVICES_PER_USER = 8
SIGNING_CERTIFICATES_PER_USER = 2
SSH_PUBLIC_KEYS_PER_USER = 5
SERVICE_CREDENTIALS_PER_USER_PER_SERVICE = 2


class ManagedPolicy:
    def __init__(self, arn, name, path, document, description="", attachable=True, tags=None):
        self.arn, self.name, self.path = arn, name, path
        self.id = random_id("ANPA", 21)
        self.document = document  # policy.Policy
        self.description = description
        self.attachable = attachable
        self.tags = list(tags or [])
        self.created = time.time()
        self.attachments = 0

    def describe(self):
        return {
            "PolicyName": self.name, "PolicyId": self.id, "Arn": self.arn, "Path": self.path,
            "DefaultVersionId": "v1", "AttachmentCount": self.attachments, "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": self.attachable, "Description": self.description or None,
            "CreateDate": _iso(self.created), "UpdateDate": _iso(self.created),
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags] or None,
        }


class Principal:
    """Common parts of users, groups and roles: inline and attached policies, tags."""
    kind = ""
    inline_quota = 0

    def __init__(self, name, path, id_prefix):
        self.name = name
        self.path = path
        self.id = random_id(id_prefix, 21)
        self.arn = "arn:aws:iam::%s:%s%s%s" % (ACCOUNT_ID, self.kind, path, name)
        self.created = time.time()
        self.created_mono = time.monotonic()
        self.inline = {}     # name -> policy.Policy (insertion order kept)
        self.attached = []   # managed policy ARNs
        self.tags = []       # [(key, value)]
        self.boundary = None  # managed policy ARN

    def inline_size(self, replacing=None):
        return sum(p.size for n, p in self.inline.items() if n != replacing)

    def boundary_xml(self):
        if not self.boundary:
            return None
        return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": self.boundary}


class User(Principal):
    kind = "user"
    inline_quota = USER_INLINE_QUOTA

    def __init__(self, name, path="/"):
        super().__init__(name, path, "AIDA")
        self.groups = []       # group names
        self.keys = []         # AccessKey
        self.login_profile = None  # {"created": t, "reset_required": bool}
        # Each of these blocks DeleteUser until removed, as the login profile and keys do.
        self.mfa_devices = []            # {"serial": …, "enabled": t}, in enabling order
        self.signing_certificates = []   # SigningCertificate
        self.ssh_public_keys = []        # SshPublicKey
        self.service_credentials = []    # ServiceCredential

    def describe(self, full=True):
        """The User shape; listings (full=False) leave out the boundary and tags, as AWS does."""
        out = {"Path": self.path, "UserName": self.name, "UserId": self.id, "Arn": self.arn,
               "CreateDate": _iso(self.created)}
        if full:
            out["PermissionsBoundary"] = self.boundary_xml()
            out["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags] or None
        return out


class Group(Principal):
    kind = "group"
    inline_quota = GROUP_INLINE_QUOTA

    def __init__(self, name, path="/"):
        super().__init__(name, path, "AGPA")
        self.members = []  # user names

    def describe(self):
        return {"Path": self.path, "GroupName": self.name, "GroupId": self.id, "Arn": self.arn,
                "CreateDate": _iso(self.created)}


class Role(Principal):
    kind = "role"
    inline_quota = ROLE_INLINE_QUOTA

    def __init__(self, name, path, trust, max_session=3600, description=""):
        super().__init__(name, path, "AROA")
        self.trust = trust  # policy.Policy
        self.max_session = max_session
        self.description = description

    def describe(self):
        return {
            "Path": self.path, "RoleName": self.name, "RoleId": self.id, "Arn": self.arn,
            "CreateDate": _iso(self.created), "AssumeRolePolicyDocument": quote(self.trust.text, safe=""),
            "Description": self.description or None, "MaxSessionDuration": self.max_session,
            "PermissionsBoundary": self.boundary_xml(),
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags] or None,
        }


class AccessKey:
    """A long-term IAM user key (AKIA...)."""
    temporary = False

    def __init__(self, user, usable_after=0.0):
        self.id = random_id("AKIA", 20)
        self.secret = random_secret()
        self.user = user            # user name
        self.status = "Active"
        self.created = time.time()
        self.usable_after = usable_after  # time.monotonic() before which the key is "not yet propagated"

    def describe(self):
        return {"UserName": self.user, "AccessKeyId": self.id, "Status": self.status,
                "CreateDate": _iso(self.created)}


class VirtualMfaDevice:
    """A virtual MFA device: exists in the account by itself, assigned to at most one user."""

    def __init__(self, serial, seed):
        self.serial = serial  # arn:aws:iam::<account>:mfa<path><name>
        self.seed = seed      # the TOTP secret (bytes)
        self.user = None      # user name while assigned (enabled)
        self.enabled = None   # time it was enabled
        self.created = time.time()


class SigningCertificate:
    def __init__(self, user, body, der):
        self.id = random_id("", 14) + random_id("", 14)
        self.user = user
        self.body = body
        self.der = der
        self.status = "Active"
        self.uploaded = time.time()

    def describe(self):
        return {"UserName": self.user, "CertificateId": self.id, "CertificateBody": self.body,
                "Status": self.status, "UploadDate": _iso(self.uploaded)}


class SshPublicKey:
    def __init__(self, user, body, blob, fingerprint):
        self.id = random_id("APKA", 20)
        self.user = user
        self.body = body
        self.blob = blob
        self.fingerprint = fingerprint
        self.status = "Active"
        self.uploaded = time.time()

    def describe(self, full=False):
        out = {"UserName": self.user, "SSHPublicKeyId": self.id, "Status": self.status,
               "UploadDate": _iso(self.uploaded)}
        if full:
            out = {"UserName": self.user, "SSHPublicKeyId": self.id, "Fingerprint": self.fingerprint,
                   "SSHPublicKeyBody": self.body, "Status": self.status, "UploadDate": _iso(self.uploaded)}
        return out


class ServiceCredential:
    """A service-specific credential (CodeCommit HTTPS Git, Keyspaces, Bedrock)."""

    def __init__(self, user, account_id, service):
        self.id = random_id("ACCA", 21)
        self.user = user
        self.service = service
        self.service_user = "%s-at-%s" % (user, account_id)
        self.password = random_secret(40)
        self.status = "Active"
        self.created = time.time()

    def describe(self, with_password=False):
        out = {"UserName": self.user, "Status": self.status, "ServiceUserName": self.service_user,
               "CreateDate": _iso(self.created), "ServiceSpecificCredentialId": self.id,
               "ServiceName": self.service}
        if with_password:
            out = {"CreateDate": _iso(self.created), "ServiceName": self.service,
                   "ServiceUserName": self.service_user, "ServicePassword": self.password,
                   "ServiceSpecificCredentialId": self.id, "UserName": self.user, "Status": self.status}
        return out


class TempCredential:
    """STS credentials (ASIA...). kind: 'assumed-role', 'federated-user' or 'session'."""
    temporary = True

    def __init__(self, kind, duration, source_user=None, role=None, session_name=None, session_policies=None,
                 mfa=False, chained=False):
        self.id = random_id("ASIA", 20)
        self.secret = random_secret()
        self.token = "FwoGZXIvYXdzE" + base64.b64encode(os.urandom(192)).decode()
        self.kind = kind
        self.created = time.time()
        self.expires = self.created + duration
        self.source_user = source_user    # user name (federated-user, session) or caller (assumed-role)
        self.role = role                  # role name (assumed-role)
        self.role_id = None
        self.session_name = session_name  # RoleSessionName or federated Name
        self.session_policies = session_policies  # list of policy.Policy / ARN strings, or None
        self.mfa = mfa
        self.chained = chained
        self.status = "Active"


class Account:
    """One AWS account: the whole mutable state of the emulator."""

    def __init__(self, user_quota=5000):
        self.lock = threading.RLock()
        self.id = ACCOUNT_ID
        self.user_quota = user_quota
        self.users = {}      # lower-case name -> User
        self.groups = {}     # lower-case name -> Group
        self.roles = {}      # lower-case name -> Role
        self.policies = {}   # ARN -> ManagedPolicy
        self.keys = {}       # access key id -> AccessKey | TempCredential
        self.virtual_mfa = {}  # serial number (ARN) -> VirtualMfaDevice
        self._load_aws_managed()

    # -- AWS managed policies ------------------------------------------------

    def _load_aws_managed(self):
        docs = {
            "AdministratorAccess": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
                                    '"Resource":"*"}]}', "/"),
            "ReadOnlyAccess": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Get*",'
                               '"*:List*","*:Describe*"],"Resource":"*"}]}', "/"),
            "PowerUserAccess": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*",'
                                '"organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":['
                                '"iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles",'
                                '"organizations:DescribeOrganization","account:ListRegions"],"Resource":"*"}]}', "/"),
            "IAMFullAccess": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*",'
                              '"organizations:DescribeAccount","organizations:DescribeOrganization",'
                              '"organizations:DescribeOrganizationalUnit","organizations:DescribePolicy",'
                              '"organizations:ListChildren","organizations:ListParents",'
                              '"organizations:ListPoliciesForTarget","organizations:ListRoots",'
                              '"organizations:ListPolicies","organizations:ListTargetsForPolicy"],'
                              '"Resource":"*"}]}', "/"),
            "IAMReadOnlyAccess": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*",'
                                  '"iam:List*","iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails",'
                                  '"iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}', "/"),
            "AmazonS3ReadOnlyAccess": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*",'
                                       '"s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],'
                                       '"Resource":"*"}]}', "/"),
            "AmazonEC2ReadOnlyAccess": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":['
                                        '"ec2:Describe*","elasticloadbalancing:Describe*","cloudwatch:ListMetrics",'
                                        '"cloudwatch:GetMetricStatistics","cloudwatch:Describe*",'
                                        '"autoscaling:Describe*"],"Resource":"*"}]}', "/"),
            "AWSSupportServiceRolePolicy": ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":['
                                            '"support:*"],"Resource":"*"}]}', "/aws-service-role/"),
        }
        for name, (text, path) in docs.items():
            arn = "arn:aws:iam::aws:policy%s%s" % (path, name)
            self.policies[arn] = ManagedPolicy(arn, name, path, pol.parse(text), "AWS managed policy",
                                               attachable=(path != "/aws-service-role/"))

    # -- lookups ---------------------------------------------------------------

    def user(self, name):
        u = self.users.get((name or "").lower())
        if u is None:
            raise AwsError("NoSuchEntity", "The user with name %s cannot be found." % name)
        return u

    def group(self, name):
        g = self.groups.get((name or "").lower())
        if g is None:
            raise AwsError("NoSuchEntity", "The group with name %s cannot be found." % name)
        return g

    def role(self, name):
        r = self.roles.get((name or "").lower())
        if r is None:
            raise AwsError("NoSuchEntity", "The role with name %s cannot be found." % name)
        return r

    def managed(self, arn, not_found=None):
        p = self.policies.get(arn)
        if p is None:
            raise AwsError("NoSuchEntity", (not_found or "Policy %s does not exist or is not attachable.") % arn)
        return p

    # -- creation used by both the API and the admin interface -----------------

    def create_user(self, name, path="/"):
        if name.lower() in self.users:
            raise AwsError("EntityAlreadyExists", "User with name %s already exists." % name)
        if len(self.users) >= self.user_quota:
            raise AwsError("LimitExceeded", "Cannot exceed quota for UsersPerAccount: %d" % self.user_quota)
        u = User(name, path)
        self.users[name.lower()] = u
        return u

    def create_access_key(self, user, usable_after=0.0):
        if len(user.keys) >= ACCESS_KEYS_PER_USER:
            raise AwsError("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d" % ACCESS_KEYS_PER_USER)
        key = AccessKey(user.name, usable_after)
        user.keys.append(key)
        self.keys[key.id] = key
        return key

    def create_group(self, name, path="/"):
        if name.lower() in self.groups:
            raise AwsError("EntityAlreadyExists", "Group with name %s already exists." % name)
        g = Group(name, path)
        self.groups[name.lower()] = g
        return g

    def create_role(self, name, path, trust_text, max_session=3600, description=""):
        if name.lower() in self.roles:
            raise AwsError("EntityAlreadyExists", "Role with name %s already exists." % name)
        trust = self.parse_trust(trust_text)
        r = Role(name, path, trust, max_session, description)
        self.roles[name.lower()] = r
        return r

    def parse_trust(self, text):
        trust = pol.parse(text, "trust")
        for p in pol.trust_principal_arns(trust):
            if not self._principal_exists(p):
                raise AwsError("MalformedPolicyDocument", 'Invalid principal in policy: "AWS":"%s"' % p)
        return trust

    def _principal_exists(self, p):
        if p == "*" or (p.isdigit() and len(p) == 12):
            return True
        prefix = "arn:aws:iam::"
        if not p.startswith(prefix):
            return False
        account, _, resource = p[len(prefix):].partition(":")
        if account != self.id:
            return account.isdigit() and len(account) == 12
        if resource == "root":
            return True
        kind, _, rest = resource.partition("/")
        name = rest.rsplit("/", 1)[-1]
        table = {"user": self.users, "role": self.roles}.get(kind)
        return table is not None and name.lower() in table

    def create_policy(self, name, path, text, description="", tags=None):
        arn = "arn:aws:iam::%s:policy%s%s" % (self.id, path, name)
        if arn in self.policies or any(p.name == name and p.arn.startswith("arn:aws:iam::%s:" % self.id)
                                       for p in self.policies.values()):
            raise AwsError("EntityAlreadyExists",
                           "A policy called %s already exists. Duplicate names are not allowed." % name)
        document = pol.parse(text)
        if document.size > MANAGED_POLICY_SIZE:
            raise AwsError("LimitExceeded", "Cannot exceed quota for PolicySize: %d" % MANAGED_POLICY_SIZE)
        p = ManagedPolicy(arn, name, path, document, description, tags=tags)
        self.policies[arn] = p
        return p

    # -- inline and managed policies on users, groups and roles ---------------

    def put_inline(self, entity, name, text):
        document = pol.parse(text)
        if entity.inline_size(replacing=name) + document.size > entity.inline_quota:
            raise AwsError("LimitExceeded", "Maximum policy size of %d bytes exceeded for %s %s"
                           % (entity.inline_quota, entity.kind, entity.name))
        entity.inline[name] = document

    def attach(self, entity, arn):
        if not arn.startswith("arn:"):
            raise AwsError("InvalidInput", "ARN %s is not valid." % arn)
        p = self.managed(arn)
        if not p.attachable:
            raise AwsError("PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer %s."
                           % entity.kind.capitalize())
        if arn in entity.attached:
            return
        if len(entity.attached) >= MANAGED_POLICIES_PER_ENTITY:
            raise AwsError("LimitExceeded", "Cannot exceed quota for PoliciesPer%s: %d"
                           % (entity.kind.capitalize(), MANAGED_POLICIES_PER_ENTITY))
        entity.attached.append(arn)
        p.attachments += 1

    def detach(self, entity, arn):
        if arn not in entity.attached:
            raise AwsError("NoSuchEntity", "Policy %s was not found." % arn)
        entity.attached.remove(arn)
        if arn in self.policies:
            self.policies[arn].attachments -= 1

    def set_boundary(self, entity, arn):
        if not arn:
            return
        if not arn.startswith("arn:aws:iam::") or ":policy/" not in arn:
            raise AwsError("InvalidInput", "ARN %s is not valid." % arn)
        if arn not in self.policies:
            raise AwsError("NoSuchEntity", "Scope ARN: %s does not exist or is not attachable." % arn)
        entity.boundary = arn

    def add_to_group(self, user, group):
        if group.name in user.groups:
            return
        if len(user.groups) >= GROUPS_PER_USER:
            raise AwsError("LimitExceeded", "Cannot exceed quota for GroupsPerUser: %d" % GROUPS_PER_USER)
        user.groups.append(group.name)
        group.members.append(user.name)

    @staticmethod
    def tag(entity, tags):
        seen = set()
        for key, _ in tags:
            if key.lower() in seen:
                raise AwsError("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case "
                                               "insensitive.")
            seen.add(key.lower())
            if key.lower().startswith("aws:"):
                raise AwsError("InvalidInput", "User tags cannot start with 'aws:'")
        merged = [(k, v) for k, v in entity.tags if k.lower() not in seen] + list(tags)
        if len(merged) > TAGS_PER_ENTITY:
            raise AwsError("LimitExceeded", "The number of tags has reached the maximum limit.")
        entity.tags = merged

    # -- identity-based policies in force for a caller -------------------------

    def documents(self, entity):
        """Inline + attached policies of a user (with its groups') or role, as policy.Policy objects."""
        docs = list(entity.inline.values())
        docs += [self.policies[a].document for a in entity.attached if a in self.policies]
        if isinstance(entity, User):
            for gname in entity.groups:
                g = self.groups.get(gname.lower())
                if g is not None:
                    docs += list(g.inline.values())
                    docs += [self.policies[a].document for a in g.attached if a in self.policies]
        return docs

    def session_documents(self, cred):
        docs = []
        for item in cred.session_policies or []:
            if isinstance(item, str):
                p = self.policies.get(item)
                if p is not None:
                    docs.append(p.document)
            else:
                docs.append(item)
        return docs

    # -- snapshot for the admin API --------------------------------------------

    def snapshot(self):
        def entity(e):
            return {"name": e.name, "id": e.id, "arn": e.arn, "path": e.path,
                    "inline_policies": {n: json.loads(p.text) for n, p in e.inline.items()},
                    "attached_policies": list(e.attached), "tags": dict(e.tags),
                    "permissions_boundary": e.boundary}

        users = []
        for u in self.users.values():
            d = entity(u)
            d.update(groups=list(u.groups), access_keys=[{"id": k.id, "status": k.status} for k in u.keys],
                     login_profile=u.login_profile is not None,
                     mfa_devices=[m["serial"] for m in u.mfa_devices],
                     signing_certificates=[c.id for c in u.signing_certificates],
                     ssh_public_keys=[k.id for k in u.ssh_public_keys],
                     service_specific_credentials=[c.id for c in u.service_credentials])
            users.append(d)
        groups = []
        for g in self.groups.values():
            d = entity(g)
            d["members"] = list(g.members)
            groups.append(d)
        roles = []
        for r in self.roles.values():
            d = entity(r)
            d.update(trust_policy=json.loads(r.trust.text), max_session_duration=r.max_session)
            roles.append(d)
        now = time.time()
        temp = [c for c in self.keys.values() if c.temporary and c.expires > now]
        local = [p for p in self.policies.values() if ":aws:policy" not in p.arn]
        return {
            "account_id": self.id,
            "users": users, "groups": groups, "roles": roles,
            "policies": [{"arn": p.arn, "name": p.name, "attachments": p.attachments,
                          "document": json.loads(p.document.text)} for p in local],
            "temporary_credentials": [{"id": c.id, "kind": c.kind, "user": c.source_user, "role": c.role,
                                       "session_name": c.session_name, "expires": c.expires} for c in temp],
            "virtual_mfa_devices": [{"serial": d.serial, "user": d.user} for d in self.virtual_mfa.values()],
            "counts": {"users": len(self.users), "groups": len(self.groups), "roles": len(self.roles),
                       "policies": len(local), "access_keys": sum(len(u.keys) for u in self.users.values()),
                       "temporary_credentials": len(temp)},
        }
