"""IAM actions (API version 2010-05-08)."""
import base64
import binascii
import hashlib
import hmac
import os
import ssl
import struct
import time
import zlib
from urllib.parse import quote

from . import wire as w
from .registry import action
from .state import (MFA_DEVICES_PER_USER, SERVICE_CREDENTIALS_PER_USER_PER_SERVICE, SIGNING_CERTIFICATES_PER_USER,
                    SSH_PUBLIC_KEYS_PER_USER, ServiceCredential, SigningCertificate, SshPublicKey, User,
                    VirtualMfaDevice)
from .wire import AwsError, page

ARN_PREFIX = "arn:aws:iam::%s:"


# ---------------------------------------------------------------------------
# resources for authorization

def _arn(req, kind, name, path="/"):
    return (ARN_PREFIX % req.account.id) + kind + (path or "/") + (name or "")


def _caller_user_name(req):
    if req.caller.user is None:
        raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials")
    return req.caller.user.name


def user_resource(req):
    name = req.p.get("UserName") or (req.caller.user.name if req.caller.user else "")
    u = req.account.users.get(name.lower())
    return u.arn if u else _arn(req, "user", name, req.p.get("Path"))


def group_resource(req):
    g = req.account.groups.get((req.p.get("GroupName") or "").lower())
    return g.arn if g else _arn(req, "group", req.p.get("GroupName"), req.p.get("Path"))


def role_resource(req):
    r = req.account.roles.get((req.p.get("RoleName") or "").lower())
    return r.arn if r else _arn(req, "role", req.p.get("RoleName"), req.p.get("Path"))


def policy_resource(req):
    return req.p.get("PolicyArn") or _arn(req, "policy", req.p.get("PolicyName"), req.p.get("Path"))


def list_resource(kind):
    return lambda req: _arn(req, kind, "", req.p.get("PathPrefix") or "/")


def policy_arn_key(req):
    return {"iam:PolicyARN": req.p.get("PolicyArn")}


def boundary_key(req):
    return {"iam:PermissionsBoundary": req.p.get("PermissionsBoundary")} if req.p.get("PermissionsBoundary") else None


def tag_keys(req):
    tags = req.p.tags()
    if not tags:
        return None
    ctx = {"aws:TagKeys": [k for k, _ in tags]}
    for k, v in tags:
        ctx["aws:RequestTag/" + k] = v
    return ctx


# ---------------------------------------------------------------------------
# helpers

def _user_for_read(req, name):
    """A user that reads may see: recently created users are hidden during the propagation window."""
    u = req.account.user(name)
    if time.monotonic() < getattr(u, "visible_after", 0.0):
        raise AwsError("NoSuchEntity", "The user with name %s cannot be found." % name)
    return u


def _target_user(req, read=False):
    name = req.p.get("UserName") or _caller_user_name(req)
    return _user_for_read(req, name) if read else req.account.user(name)


def _paged(req, key, items):
    chunk, extra = page(items, req.p)
    out = {key: chunk}
    out.update(extra)
    return out


def _attached(req, entity):
    items = [{"PolicyName": req.account.policies[a].name if a in req.account.policies else a.rsplit("/", 1)[-1],
              "PolicyArn": a} for a in entity.attached]
    return _paged(req, "AttachedPolicies", items)


def _inline_get(entity, name, label):
    doc = entity.inline.get(name)
    if doc is None:
        raise AwsError("NoSuchEntity", "The %s policy with name %s cannot be found." % (label, name))
    return quote(doc.text, safe="")


def _inline_delete(entity, name, label):
    if name not in entity.inline:
        raise AwsError("NoSuchEntity", "The %s policy with name %s cannot be found." % (label, name))
    del entity.inline[name]


# ---------------------------------------------------------------------------
# users

@action("iam", "CreateUser", [w.USER_NAME.req(), w.PATH, w.BOUNDARY, w.TAGS], user_resource,
        lambda req: {**(boundary_key(req) or {}), **(tag_keys(req) or {})})
def create_user(req):
    acc, p = req.account, req.p
    if p.get("PermissionsBoundary"):
        acc.set_boundary(User("probe"), p.get("PermissionsBoundary"))  # validate before creating
    tags = p.tags()
    if tags:
        acc.tag(User("probe"), tags)
    u = acc.create_user(p.get("UserName"), p.get("Path") or "/")
    u.boundary = p.get("PermissionsBoundary") or None
    u.tags = list(tags)
    delay = req.emulator.faults.user_propagation_delay_ms
    if delay:
        u.visible_after = time.monotonic() + delay / 1000.0
    return {"User": u.describe()}


@action("iam", "GetUser", [w.EXISTING_USER_NAME], user_resource)
def get_user(req):
    return {"User": _target_user(req, read=True).describe()}


@action("iam", "ListUsers", [w.PATH_PREFIX] + w.PAGING, list_resource("user"))
def list_users(req):
    prefix = req.p.get("PathPrefix") or "/"
    users = sorted((u for u in req.account.users.values() if u.path.startswith(prefix)), key=lambda u: u.name.lower())
    return _paged(req, "Users", [u.describe(full=False) for u in users])


@action("iam", "DeleteUser", [w.EXISTING_USER_NAME.req()], user_resource)
def delete_user(req):
    acc = req.account
    u = acc.user(req.p.get("UserName"))
    conflict = None
    if u.login_profile is not None:
        conflict = "must delete login profile first"
    elif u.keys:
        conflict = "must delete access keys first"
    elif u.signing_certificates:
        conflict = "must delete certificates first"
    elif u.ssh_public_keys or u.service_credentials:
        conflict = "must remove referenced objects first"
    elif u.mfa_devices:
        conflict = "must delete MFA device first"
    elif u.inline:
        conflict = "must delete policies first"
    elif u.attached:
        conflict = "must detach all policies first"
    elif u.groups:
        conflict = "must remove users from group first"
    if conflict:
        raise AwsError("DeleteConflict", "Cannot delete entity, %s." % conflict)
    del acc.users[u.name.lower()]


@action("iam", "TagUser", [w.EXISTING_USER_NAME.req(), w.TAGS], user_resource, tag_keys)
def tag_user(req):
    u = req.account.user(req.p.get("UserName"))
    req.account.tag(u, req.p.tags())


@action("iam", "UntagUser", [w.EXISTING_USER_NAME.req(), w.TAG_KEY_LIST], user_resource)
def untag_user(req):
    u = req.account.user(req.p.get("UserName"))
    drop = {k.lower() for k in req.p.members("TagKeys")}
    u.tags = [(k, v) for k, v in u.tags if k.lower() not in drop]


@action("iam", "ListUserTags", [w.EXISTING_USER_NAME.req()] + w.PAGING, user_resource)
def list_user_tags(req):
    u = _user_for_read(req, req.p.get("UserName"))
    return _paged(req, "Tags", w.tags_xml(u.tags))


# -- inline user policies ---------------------------------------------------

@action("iam", "PutUserPolicy", [w.EXISTING_USER_NAME.req(), w.POLICY_NAME.req(), w.POLICY_DOCUMENT.req()],
        user_resource)
def put_user_policy(req):
    u = req.account.user(req.p.get("UserName"))
    req.account.put_inline(u, req.p.get("PolicyName"), req.p.get("PolicyDocument"))


@action("iam", "GetUserPolicy", [w.EXISTING_USER_NAME.req(), w.POLICY_NAME.req()], user_resource)
def get_user_policy(req):
    u = req.account.user(req.p.get("UserName"))
    name = req.p.get("PolicyName")
    return {"UserName": u.name, "PolicyName": name, "PolicyDocument": _inline_get(u, name, "user")}


@action("iam", "DeleteUserPolicy", [w.EXISTING_USER_NAME.req(), w.POLICY_NAME.req()], user_resource)
def delete_user_policy(req):
    _inline_delete(req.account.user(req.p.get("UserName")), req.p.get("PolicyName"), "user")


@action("iam", "ListUserPolicies", [w.EXISTING_USER_NAME.req()] + w.PAGING, user_resource)
def list_user_policies(req):
    return _paged(req, "PolicyNames", list(_user_for_read(req, req.p.get("UserName")).inline))


# -- managed policies on users ----------------------------------------------

@action("iam", "AttachUserPolicy", [w.USER_NAME.req(), w.POLICY_ARN.req()], user_resource, policy_arn_key)
def attach_user_policy(req):
    req.account.attach(req.account.user(req.p.get("UserName")), req.p.get("PolicyArn"))


@action("iam", "DetachUserPolicy", [w.USER_NAME.req(), w.POLICY_ARN.req()], user_resource, policy_arn_key)
def detach_user_policy(req):
    req.account.detach(req.account.user(req.p.get("UserName")), req.p.get("PolicyArn"))


@action("iam", "ListAttachedUserPolicies", [w.USER_NAME.req(), w.PATH_PREFIX] + w.PAGING, user_resource)
def list_attached_user_policies(req):
    return _attached(req, _user_for_read(req, req.p.get("UserName")))


# -- access keys --------------------------------------------------------------

@action("iam", "CreateAccessKey", [w.EXISTING_USER_NAME], user_resource)
def create_access_key(req):
    u = _target_user(req)
    delay = req.emulator.faults.propagation_delay_ms
    key = req.account.create_access_key(u, time.monotonic() + delay / 1000.0 if delay else 0.0)
    d = key.describe()
    return {"AccessKey": {"UserName": d["UserName"], "AccessKeyId": d["AccessKeyId"], "Status": d["Status"],
                          "SecretAccessKey": key.secret, "CreateDate": d["CreateDate"]}}


def _user_key(req, u):
    key_id = req.p.get("AccessKeyId")
    for k in u.keys:
        if k.id == key_id:
            return k
    raise AwsError("NoSuchEntity", "The Access Key with id %s cannot be found." % key_id)


@action("iam", "DeleteAccessKey", [w.EXISTING_USER_NAME, w.ACCESS_KEY_ID.req()], user_resource)
def delete_access_key(req):
    u = _target_user(req)
    key = _user_key(req, u)
    u.keys.remove(key)
    req.account.keys.pop(key.id, None)


@action("iam", "UpdateAccessKey", [w.EXISTING_USER_NAME, w.ACCESS_KEY_ID.req(), w.STATUS_FIELD.req()],
        user_resource)
def update_access_key(req):
    _user_key(req, _target_user(req)).status = req.p.get("Status")


@action("iam", "ListAccessKeys", [w.EXISTING_USER_NAME] + w.PAGING, user_resource)
def list_access_keys(req):
    u = _target_user(req, read=True)
    return _paged(req, "AccessKeyMetadata", [k.describe() for k in u.keys])


@action("iam", "GetAccessKeyLastUsed", [w.ACCESS_KEY_ID.req()], lambda req: "*")
def get_access_key_last_used(req):
    key = req.account.keys.get(req.p.get("AccessKeyId"))
    if key is None or key.temporary:
        raise AwsError("AccessDenied", "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on "
                                       "resource: access key %s" % (req.caller.arn, req.p.get("AccessKeyId")))
    return {"UserName": key.user, "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}


# -- login profiles -----------------------------------------------------------

@action("iam", "CreateLoginProfile", [w.EXISTING_USER_NAME.req(), w.PASSWORD.req()], user_resource)
def create_login_profile(req):
    u = req.account.user(req.p.get("UserName"))
    if u.login_profile is not None:
        raise AwsError("EntityAlreadyExists", "Login Profile for user %s already exists." % u.name)
    u.login_profile = {"created": time.time(), "reset_required": req.p.bool("PasswordResetRequired")}
    return {"LoginProfile": {"UserName": u.name, "CreateDate": w.iso8601(u.login_profile["created"]),
                             "PasswordResetRequired": u.login_profile["reset_required"]}}


def _login_profile(u):
    if u.login_profile is None:
        raise AwsError("NoSuchEntity", "Login Profile for User %s cannot be found." % u.name)
    return u.login_profile


@action("iam", "GetLoginProfile", [w.EXISTING_USER_NAME.req()], user_resource)
def get_login_profile(req):
    u = req.account.user(req.p.get("UserName"))
    lp = _login_profile(u)
    return {"LoginProfile": {"UserName": u.name, "CreateDate": w.iso8601(lp["created"]),
                             "PasswordResetRequired": lp["reset_required"]}}


@action("iam", "DeleteLoginProfile", [w.EXISTING_USER_NAME.req()], user_resource)
def delete_login_profile(req):
    u = req.account.user(req.p.get("UserName"))
    _login_profile(u)
    u.login_profile = None


# -- MFA devices ----------------------------------------------------------------

def mfa_resource(req):
    return req.p.get("SerialNumber") or _arn(req, "mfa", req.p.get("VirtualMFADeviceName"), req.p.get("Path"))


def _png(width=1, height=1):
    """A valid (blank, greyscale) PNG image."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def totp(seed, step):
    """RFC 6238 (HMAC-SHA1, 30 s steps, 6 digits), as virtual MFA apps compute it."""
    digest = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def _codes_valid(seed, code1, code2, now=None):
    """Two consecutive codes, the second of them at most one step ahead of now (ten steps back allowed)."""
    step = int((now or time.time()) // 30)
    return any(totp(seed, t) == code1 and totp(seed, t + 1) == code2 for t in range(step - 10, step + 1))


@action("iam", "CreateVirtualMFADevice", [w.MFA_PATH, w.VIRTUAL_MFA_NAME.req(), w.TAGS], mfa_resource, tag_keys)
def create_virtual_mfa_device(req):
    acc, p = req.account, req.p
    serial = _arn(req, "mfa", p.get("VirtualMFADeviceName"), p.get("Path"))
    if serial in acc.virtual_mfa:
        raise AwsError("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
    tags = p.tags()
    if tags:
        acc.tag(User("probe"), tags)
    device = VirtualMfaDevice(serial, os.urandom(40))
    acc.virtual_mfa[serial] = device
    # Blobs travel base64-encoded; the shared secret itself is the base32 text authenticator apps take.
    return {"VirtualMFADevice": {"SerialNumber": serial,
                                 "Base32StringSeed": base64.b64encode(base64.b32encode(device.seed)).decode(),
                                 "QRCodePNG": base64.b64encode(_png(33, 33)).decode()}}


@action("iam", "EnableMFADevice", [w.EXISTING_USER_NAME.req(), w.MFA_SERIAL.req(), w.AUTH_CODE_1.req(),
                                   w.AUTH_CODE_2.req()], user_resource)
def enable_mfa_device(req):
    acc, p = req.account, req.p
    u = acc.user(p.get("UserName"))
    serial = p.get("SerialNumber")
    device = acc.virtual_mfa.get(serial)
    if device is None:
        raise AwsError("NoSuchEntity", "MFA Device with serial number %s does not exist." % serial)
    if device.user is not None:
        raise AwsError("EntityAlreadyExists", "MFA Device is already in use.")
    if len(u.mfa_devices) >= MFA_DEVICES_PER_USER:
        raise AwsError("LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: %d" % MFA_DEVICES_PER_USER)
    if not _codes_valid(device.seed, p.get("AuthenticationCode1"), p.get("AuthenticationCode2")):
        raise AwsError("InvalidAuthenticationCode", "Authentication code for device is not valid.")
    device.user, device.enabled = u.name, time.time()
    u.mfa_devices.append({"serial": serial, "enabled": device.enabled})


@action("iam", "DeactivateMFADevice", [w.EXISTING_USER_NAME.req(), w.MFA_SERIAL.req()], user_resource)
def deactivate_mfa_device(req):
    u = req.account.user(req.p.get("UserName"))
    serial = req.p.get("SerialNumber")
    assigned = [m for m in u.mfa_devices if m["serial"] == serial]
    if not assigned:
        raise AwsError("NoSuchEntity", "MFA Device with serial number %s does not exist." % serial)
    u.mfa_devices.remove(assigned[0])
    device = req.account.virtual_mfa.get(serial)
    if device is not None:
        device.user = device.enabled = None


@action("iam", "ListMFADevices", [w.EXISTING_USER_NAME] + w.PAGING, user_resource)
def list_mfa_devices(req):
    u = _target_user(req, read=True)
    return _paged(req, "MFADevices", [{"UserName": u.name, "SerialNumber": m["serial"],
                                       "EnableDate": w.iso8601(m["enabled"])} for m in u.mfa_devices])


@action("iam", "DeleteVirtualMFADevice", [w.MFA_SERIAL.req()], mfa_resource)
def delete_virtual_mfa_device(req):
    serial = req.p.get("SerialNumber")
    device = req.account.virtual_mfa.get(serial)
    if device is None:
        raise AwsError("NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist." % serial)
    if device.user is not None:
        raise AwsError("DeleteConflict", "MFA Device is still in use.")
    del req.account.virtual_mfa[serial]


@action("iam", "ListVirtualMFADevices", [w.ASSIGNMENT_STATUS] + w.PAGING, list_resource("mfa"))
def list_virtual_mfa_devices(req):
    status = req.p.get("AssignmentStatus") or "Any"
    items = []
    for d in sorted(req.account.virtual_mfa.values(), key=lambda d: d.serial):
        if (status == "Assigned" and d.user is None) or (status == "Unassigned" and d.user is not None):
            continue
        item = {"SerialNumber": d.serial}
        u = req.account.users.get((d.user or "").lower())
        if u is not None:
            item.update(User=u.describe(full=False), EnableDate=w.iso8601(d.enabled))
        items.append(item)
    return _paged(req, "VirtualMFADevices", items)


# -- signing certificates -----------------------------------------------------------

def _certificate_der(body):
    """The DER bytes of a PEM X.509 certificate, or MalformedCertificate."""
    malformed = AwsError("MalformedCertificate", "Unable to parse certificate. Please ensure the certificate is "
                                                 "in PEM format.")
    try:
        der = ssl.PEM_cert_to_DER_cert(body.strip())
    except (ValueError, binascii.Error):
        raise malformed from None
    # An ASN.1 SEQUENCE whose length covers exactly the decoded bytes.
    if len(der) < 2 or der[0] != 0x30:
        raise malformed
    n = der[1]
    header, length = 2, n
    if n & 0x80:
        count = n & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            raise malformed
        header, length = 2 + count, int.from_bytes(der[2:2 + count], "big")
    if header + length != len(der):
        raise malformed
    return der


@action("iam", "UploadSigningCertificate", [w.EXISTING_USER_NAME, w.CERTIFICATE_BODY.req()], user_resource)
def upload_signing_certificate(req):
    u = _target_user(req)
    der = _certificate_der(req.p.get("CertificateBody"))
    for c in u.signing_certificates:
        if c.der == der:
            raise AwsError("DuplicateCertificate", "The Certificate with id %s already exists." % c.id)
    if len(u.signing_certificates) >= SIGNING_CERTIFICATES_PER_USER:
        raise AwsError("LimitExceeded", "Cannot exceed quota for SigningCertificatesPerUser: %d"
                       % SIGNING_CERTIFICATES_PER_USER)
    cert = SigningCertificate(u.name, req.p.get("CertificateBody"), der)
    u.signing_certificates.append(cert)
    return {"Certificate": cert.describe()}


@action("iam", "ListSigningCertificates", [w.EXISTING_USER_NAME] + w.PAGING, user_resource)
def list_signing_certificates(req):
    u = _target_user(req, read=True)
    return _paged(req, "Certificates", [c.describe() for c in u.signing_certificates])


@action("iam", "DeleteSigningCertificate", [w.EXISTING_USER_NAME, w.CERTIFICATE_ID.req()], user_resource)
def delete_signing_certificate(req):
    u = _target_user(req)
    cert_id = req.p.get("CertificateId")
    for c in u.signing_certificates:
        if c.id == cert_id:
            u.signing_certificates.remove(c)
            return
    raise AwsError("NoSuchEntity", "The Certificate with id %s cannot be found." % cert_id)


# -- SSH public keys ----------------------------------------------------------------

def _ssh_rsa_key(body):
    """(blob, MD5 fingerprint) of an RSA public key in OpenSSH (ssh-rsa …) or PEM (BEGIN PUBLIC KEY) format."""
    text = body.strip()
    invalid = AwsError("InvalidPublicKey", "The public key is malformed or otherwise invalid.")
    if text.startswith("-----BEGIN PUBLIC KEY-----") and text.endswith("-----END PUBLIC KEY-----"):
        try:
            blob = base64.b64decode("".join(text.splitlines()[1:-1]), validate=True)
        except (ValueError, binascii.Error):
            raise invalid from None
        if len(blob) < 270 or blob[0] != 0x30:  # a 2048-bit RSA SubjectPublicKeyInfo is 294 bytes
            raise invalid
    else:
        parts = text.split()
        if len(parts) < 2 or parts[0] != "ssh-rsa":
            raise AwsError("UnrecognizedPublicKeyEncoding", "The public key encoding format is unsupported or "
                                                            "unrecognized.")
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (ValueError, binascii.Error):
            raise invalid from None
        fields, pos = [], 0
        while pos < len(blob) and len(fields) < 4:
            if pos + 4 > len(blob):
                raise invalid
            n = struct.unpack(">I", blob[pos:pos + 4])[0]
            fields.append(blob[pos + 4:pos + 4 + n])
            pos += 4 + n
        if pos != len(blob) or len(fields) != 3 or fields[0] != b"ssh-rsa":
            raise invalid
        modulus = int.from_bytes(fields[2], "big")
        if modulus.bit_length() < 2048 or not int.from_bytes(fields[1], "big"):
            raise invalid
    digest = hashlib.md5(blob).hexdigest()
    return blob, ":".join(digest[i:i + 2] for i in range(0, 32, 2))


@action("iam", "UploadSSHPublicKey", [w.USER_NAME.req(), w.SSH_PUBLIC_KEY_BODY.req()], user_resource)
def upload_ssh_public_key(req):
    u = req.account.user(req.p.get("UserName"))
    blob, fingerprint = _ssh_rsa_key(req.p.get("SSHPublicKeyBody"))
    if any(k.blob == blob for k in u.ssh_public_keys):
        raise AwsError("DuplicateSSHPublicKey", "The SSH public key is already associated with the specified "
                                                "IAM user.")
    if len(u.ssh_public_keys) >= SSH_PUBLIC_KEYS_PER_USER:
        raise AwsError("LimitExceeded", "Cannot exceed quota for SSHPublicKeysPerUser: %d"
                       % SSH_PUBLIC_KEYS_PER_USER)
    key = SshPublicKey(u.name, req.p.get("SSHPublicKeyBody"), blob, fingerprint)
    u.ssh_public_keys.append(key)
    return {"SSHPublicKey": key.describe(full=True)}


@action("iam", "ListSSHPublicKeys", [w.USER_NAME] + w.PAGING, user_resource)
def list_ssh_public_keys(req):
    u = _target_user(req, read=True)
    return _paged(req, "SSHPublicKeys", [k.describe() for k in u.ssh_public_keys])


@action("iam", "DeleteSSHPublicKey", [w.USER_NAME.req(), w.SSH_PUBLIC_KEY_ID.req()], user_resource)
def delete_ssh_public_key(req):
    u = req.account.user(req.p.get("UserName"))
    key_id = req.p.get("SSHPublicKeyId")
    for k in u.ssh_public_keys:
        if k.id == key_id:
            u.ssh_public_keys.remove(k)
            return
    raise AwsError("NoSuchEntity", "The Public Key with id %s cannot be found." % key_id)


# -- service-specific credentials -----------------------------------------------------

SUPPORTED_CREDENTIAL_SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com")


def _check_service(name):
    if name not in SUPPORTED_CREDENTIAL_SERVICES:
        raise AwsError("NotSupportedService", "The specified service does not support service-specific "
                                              "credentials.")


@action("iam", "CreateServiceSpecificCredential", [w.USER_NAME.req(), w.SERVICE_NAME.req()], user_resource)
def create_service_specific_credential(req):
    u = req.account.user(req.p.get("UserName"))
    service = req.p.get("ServiceName")
    _check_service(service)
    if sum(1 for c in u.service_credentials if c.service == service) >= SERVICE_CREDENTIALS_PER_USER_PER_SERVICE:
        raise AwsError("LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: %d"
                       % SERVICE_CREDENTIALS_PER_USER_PER_SERVICE)
    cred = ServiceCredential(u.name, req.account.id, service)
    u.service_credentials.append(cred)
    return {"ServiceSpecificCredential": cred.describe(with_password=True)}


@action("iam", "ListServiceSpecificCredentials", [w.USER_NAME, w.SERVICE_NAME], user_resource)
def list_service_specific_credentials(req):
    u = _target_user(req, read=True)
    service = req.p.get("ServiceName")
    if service:
        _check_service(service)
    return {"ServiceSpecificCredentials": [c.describe() for c in u.service_credentials
                                           if not service or c.service == service]}


@action("iam", "DeleteServiceSpecificCredential", [w.USER_NAME, w.SERVICE_CREDENTIAL_ID.req()], user_resource)
def delete_service_specific_credential(req):
    u = _target_user(req)
    cred_id = req.p.get("ServiceSpecificCredentialId")
    for c in u.service_credentials:
        if c.id == cred_id:
            u.service_credentials.remove(c)
            return
    raise AwsError("NoSuchEntity", "The service-specific credential with id %s cannot be found." % cred_id)


# ---------------------------------------------------------------------------
# managed policies

@action("iam", "CreatePolicy", [w.POLICY_NAME.req(), w.POLICY_PATH, w.POLICY_DOCUMENT.req(), w.DESCRIPTION,
                                w.TAGS], policy_resource, tag_keys)
def create_policy(req):
    p = req.p
    created = req.account.create_policy(p.get("PolicyName"), p.get("Path") or "/", p.get("PolicyDocument"),
                                        p.get("Description") or "", p.tags())
    return {"Policy": created.describe()}


@action("iam", "GetPolicy", [w.POLICY_ARN.req()], policy_resource)
def get_policy(req):
    arn = req.p.get("PolicyArn")
    return {"Policy": req.account.managed(arn, "Policy %s was not found.").describe()}


@action("iam", "GetPolicyVersion", [w.POLICY_ARN.req(), w.Field("VersionId", required=True)], policy_resource)
def get_policy_version(req):
    arn = req.p.get("PolicyArn")
    p = req.account.managed(arn, "Policy %s was not found.")
    if req.p.get("VersionId") != "v1":
        raise AwsError("NoSuchEntity", "Policy %s version %s does not exist or is not attachable."
                       % (arn, req.p.get("VersionId")))
    return {"PolicyVersion": {"Document": quote(p.document.text, safe=""), "VersionId": "v1",
                              "IsDefaultVersion": True, "CreateDate": w.iso8601(p.created)}}


@action("iam", "DeletePolicy", [w.POLICY_ARN.req()], policy_resource)
def delete_policy(req):
    arn = req.p.get("PolicyArn")
    p = req.account.managed(arn, "Policy %s was not found.")
    if ":aws:policy" in arn:
        raise AwsError("InvalidInput", "ARN %s is not valid." % arn)
    if p.attachments:
        raise AwsError("DeleteConflict", "Cannot delete a policy attached to entities.")
    del req.account.policies[arn]


@action("iam", "ListPolicies", [w.Field("Scope", enum=["All", "AWS", "Local"]), w.PATH_PREFIX] + w.PAGING,
        lambda req: _arn(req, "policy", "", req.p.get("PathPrefix") or "/"))
def list_policies(req):
    scope = req.p.get("Scope") or "All"
    only_attached = req.p.bool("OnlyAttached")
    prefix = req.p.get("PathPrefix") or "/"
    items = []
    for pol_ in sorted(req.account.policies.values(), key=lambda x: x.name.lower()):
        aws_managed = ":aws:policy" in pol_.arn
        if (scope == "AWS" and not aws_managed) or (scope == "Local" and aws_managed):
            continue
        if (only_attached and not pol_.attachments) or not pol_.path.startswith(prefix):
            continue
        d = pol_.describe()
        d.pop("Tags", None)
        d.pop("Description", None)
        items.append(d)
    return _paged(req, "Policies", items)


# ---------------------------------------------------------------------------
# groups

@action("iam", "CreateGroup", [w.GROUP_NAME.req(), w.PATH], group_resource)
def create_group(req):
    return {"Group": req.account.create_group(req.p.get("GroupName"), req.p.get("Path") or "/").describe()}


@action("iam", "GetGroup", [w.GROUP_NAME.req()] + w.PAGING, group_resource)
def get_group(req):
    g = req.account.group(req.p.get("GroupName"))
    users = [req.account.users[n.lower()].describe(full=False) for n in g.members
             if n.lower() in req.account.users]
    chunk, extra = page(users, req.p)
    return {"Group": g.describe(), "Users": chunk, **extra}


@action("iam", "ListGroups", [w.PATH_PREFIX] + w.PAGING, list_resource("group"))
def list_groups(req):
    prefix = req.p.get("PathPrefix") or "/"
    groups = sorted((g for g in req.account.groups.values() if g.path.startswith(prefix)),
                    key=lambda g: g.name.lower())
    return _paged(req, "Groups", [g.describe() for g in groups])


@action("iam", "DeleteGroup", [w.GROUP_NAME.req()], group_resource)
def delete_group(req):
    g = req.account.group(req.p.get("GroupName"))
    if g.members:
        raise AwsError("DeleteConflict", "Cannot delete entity, must remove users from group first.")
    if g.inline:
        raise AwsError("DeleteConflict", "Cannot delete entity, must delete policies first.")
    if g.attached:
        raise AwsError("DeleteConflict", "Cannot delete entity, must detach all policies first.")
    del req.account.groups[g.name.lower()]


@action("iam", "PutGroupPolicy", [w.GROUP_NAME.req(), w.POLICY_NAME.req(), w.POLICY_DOCUMENT.req()],
        group_resource)
def put_group_policy(req):
    req.account.put_inline(req.account.group(req.p.get("GroupName")), req.p.get("PolicyName"),
                           req.p.get("PolicyDocument"))


@action("iam", "GetGroupPolicy", [w.GROUP_NAME.req(), w.POLICY_NAME.req()], group_resource)
def get_group_policy(req):
    g = req.account.group(req.p.get("GroupName"))
    name = req.p.get("PolicyName")
    return {"GroupName": g.name, "PolicyName": name, "PolicyDocument": _inline_get(g, name, "group")}


@action("iam", "DeleteGroupPolicy", [w.GROUP_NAME.req(), w.POLICY_NAME.req()], group_resource)
def delete_group_policy(req):
    _inline_delete(req.account.group(req.p.get("GroupName")), req.p.get("PolicyName"), "group")


@action("iam", "ListGroupPolicies", [w.GROUP_NAME.req()] + w.PAGING, group_resource)
def list_group_policies(req):
    return _paged(req, "PolicyNames", list(req.account.group(req.p.get("GroupName")).inline))


@action("iam", "AttachGroupPolicy", [w.GROUP_NAME.req(), w.POLICY_ARN.req()], group_resource, policy_arn_key)
def attach_group_policy(req):
    req.account.attach(req.account.group(req.p.get("GroupName")), req.p.get("PolicyArn"))


@action("iam", "DetachGroupPolicy", [w.GROUP_NAME.req(), w.POLICY_ARN.req()], group_resource, policy_arn_key)
def detach_group_policy(req):
    req.account.detach(req.account.group(req.p.get("GroupName")), req.p.get("PolicyArn"))


@action("iam", "ListAttachedGroupPolicies", [w.GROUP_NAME.req(), w.PATH_PREFIX] + w.PAGING, group_resource)
def list_attached_group_policies(req):
    return _attached(req, req.account.group(req.p.get("GroupName")))


@action("iam", "AddUserToGroup", [w.GROUP_NAME.req(), w.EXISTING_USER_NAME.req()], group_resource)
def add_user_to_group(req):
    g = req.account.group(req.p.get("GroupName"))
    req.account.add_to_group(req.account.user(req.p.get("UserName")), g)


@action("iam", "RemoveUserFromGroup", [w.GROUP_NAME.req(), w.EXISTING_USER_NAME.req()], group_resource)
def remove_user_from_group(req):
    g = req.account.group(req.p.get("GroupName"))
    u = req.account.user(req.p.get("UserName"))
    if g.name not in u.groups:
        raise AwsError("NoSuchEntity", "The user with name %s cannot be found." % u.name)
    u.groups.remove(g.name)
    g.members.remove(u.name)


@action("iam", "ListGroupsForUser", [w.EXISTING_USER_NAME.req()] + w.PAGING, user_resource)
def list_groups_for_user(req):
    u = _user_for_read(req, req.p.get("UserName"))
    groups = [req.account.groups[n.lower()].describe() for n in u.groups if n.lower() in req.account.groups]
    return _paged(req, "Groups", groups)


# ---------------------------------------------------------------------------
# roles

@action("iam", "CreateRole", [w.ROLE_NAME.req(), w.PATH, w.ASSUME_ROLE_POLICY_DOCUMENT.req(), w.DESCRIPTION,
                              w.MAX_SESSION_DURATION, w.BOUNDARY, w.TAGS], role_resource,
        lambda req: {**(boundary_key(req) or {}), **(tag_keys(req) or {})})
def create_role(req):
    acc, p = req.account, req.p
    if p.get("PermissionsBoundary"):
        acc.set_boundary(User("probe"), p.get("PermissionsBoundary"))
    tags = p.tags()
    if tags:
        acc.tag(User("probe"), tags)
    r = acc.create_role(p.get("RoleName"), p.get("Path") or "/", p.get("AssumeRolePolicyDocument"),
                        p.int("MaxSessionDuration", 3600), p.get("Description") or "")
    r.boundary = p.get("PermissionsBoundary") or None
    r.tags = list(tags)
    return {"Role": r.describe()}


@action("iam", "GetRole", [w.ROLE_NAME.req()], role_resource)
def get_role(req):
    return {"Role": req.account.role(req.p.get("RoleName")).describe()}


@action("iam", "ListRoles", [w.PATH_PREFIX] + w.PAGING, list_resource("role"))
def list_roles(req):
    prefix = req.p.get("PathPrefix") or "/"
    roles = sorted((r for r in req.account.roles.values() if r.path.startswith(prefix)), key=lambda r: r.name.lower())
    return _paged(req, "Roles", [r.describe() for r in roles])


@action("iam", "DeleteRole", [w.ROLE_NAME.req()], role_resource)
def delete_role(req):
    r = req.account.role(req.p.get("RoleName"))
    if r.inline:
        raise AwsError("DeleteConflict", "Cannot delete entity, must delete policies first.")
    if r.attached:
        raise AwsError("DeleteConflict", "Cannot delete entity, must detach all policies first.")
    del req.account.roles[r.name.lower()]


@action("iam", "UpdateAssumeRolePolicy", [w.ROLE_NAME.req(), w.POLICY_DOCUMENT.req()], role_resource)
def update_assume_role_policy(req):
    r = req.account.role(req.p.get("RoleName"))
    r.trust = req.account.parse_trust(req.p.get("PolicyDocument"))


@action("iam", "PutRolePolicy", [w.ROLE_NAME.req(), w.POLICY_NAME.req(), w.POLICY_DOCUMENT.req()], role_resource)
def put_role_policy(req):
    req.account.put_inline(req.account.role(req.p.get("RoleName")), req.p.get("PolicyName"),
                           req.p.get("PolicyDocument"))


@action("iam", "GetRolePolicy", [w.ROLE_NAME.req(), w.POLICY_NAME.req()], role_resource)
def get_role_policy(req):
    r = req.account.role(req.p.get("RoleName"))
    name = req.p.get("PolicyName")
    return {"RoleName": r.name, "PolicyName": name, "PolicyDocument": _inline_get(r, name, "role")}


@action("iam", "DeleteRolePolicy", [w.ROLE_NAME.req(), w.POLICY_NAME.req()], role_resource)
def delete_role_policy(req):
    _inline_delete(req.account.role(req.p.get("RoleName")), req.p.get("PolicyName"), "role")


@action("iam", "ListRolePolicies", [w.ROLE_NAME.req()] + w.PAGING, role_resource)
def list_role_policies(req):
    return _paged(req, "PolicyNames", list(req.account.role(req.p.get("RoleName")).inline))


@action("iam", "AttachRolePolicy", [w.ROLE_NAME.req(), w.POLICY_ARN.req()], role_resource, policy_arn_key)
def attach_role_policy(req):
    req.account.attach(req.account.role(req.p.get("RoleName")), req.p.get("PolicyArn"))


@action("iam", "DetachRolePolicy", [w.ROLE_NAME.req(), w.POLICY_ARN.req()], role_resource, policy_arn_key)
def detach_role_policy(req):
    req.account.detach(req.account.role(req.p.get("RoleName")), req.p.get("PolicyArn"))


@action("iam", "ListAttachedRolePolicies", [w.ROLE_NAME.req(), w.PATH_PREFIX] + w.PAGING, role_resource)
def list_attached_role_policies(req):
    return _attached(req, req.account.role(req.p.get("RoleName")))
