#include "aws/query.h"

#include <cctype>
#include <charconv>

#include "util/clock.h"

namespace vault::aws {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status Missing(std::string_view action, std::string_view what) {
  return InvalidArgument("malformed " + std::string(action) + " response: missing " +
                         std::string(what));
}

// The <ActionResult> element, after checking the root is <ActionResponse>. `result` is set to
// nullptr when the response has no result element (allowed for output-less calls).
Status ResultOf(const XmlElement& root, std::string_view action, const XmlElement** result) {
  std::string want = std::string(action) + "Response";
  if (root.name() != want) {
    return InvalidArgument("malformed " + std::string(action) + " response: root element <" +
                           root.name().substr(0, 64) + ">, want <" + want + ">");
  }
  *result = root.Child(std::string(action) + "Result");
  return Status::Ok();
}

Result<const XmlElement*> RequiredResult(const XmlElement& root, std::string_view action) {
  const XmlElement* result = nullptr;
  RETURN_IF_ERROR(ResultOf(root, action, &result));
  if (result == nullptr) return Missing(action, std::string(action) + "Result");
  return result;
}

User UserFrom(const XmlElement& e) {
  User u;
  u.user_name = e.ChildText("UserName");
  u.user_id = e.ChildText("UserId");
  u.arn = e.ChildText("Arn");
  u.path = e.ChildText("Path");
  u.create_date = e.ChildText("CreateDate");
  if (const XmlElement* pb = e.Child("PermissionsBoundary")) {
    u.permissions_boundary_arn = pb->ChildText("PermissionsBoundaryArn");
  }
  return u;
}

AccessKey AccessKeyFrom(const XmlElement& e) {
  AccessKey k;
  k.user_name = e.ChildText("UserName");
  k.access_key_id = e.ChildText("AccessKeyId");
  k.secret_access_key = e.ChildText("SecretAccessKey");
  k.status = e.ChildText("Status");
  k.create_date = e.ChildText("CreateDate");
  return k;
}

}  // namespace

std::string PercentEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 15];
    }
  }
  return out;
}

std::string FormEncode(std::string_view s) {
  std::string out = PercentEncode(s);
  std::string plus;
  plus.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 3, "%20") == 0) {
      plus += '+';
      i += 2;
    } else {
      plus += out[i];
    }
  }
  return plus;
}

Result<std::string> QueryUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return InvalidArgument("invalid URL escape");
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("invalid URL escape");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<int64_t> ParseIso8601(std::string_view s) {
  // AWS's timestamps are RFC 3339; whole seconds (fractions are dropped, as before).
  auto nanos = ParseRfc3339Nanos(s);
  if (!nanos.ok()) return InvalidArgument("invalid ISO-8601 timestamp");
  int64_t secs = *nanos / 1000000000;
  if (*nanos % 1000000000 < 0) --secs;
  return secs;
}

QueryRequest::QueryRequest(std::string action, std::string version)
    : action_(std::move(action)), version_(std::move(version)) {}

QueryRequest& QueryRequest::Add(std::string_view key, std::string_view value) {
  params_.emplace_back(key, value);
  return *this;
}

QueryRequest& QueryRequest::AddIfSet(std::string_view key, std::string_view value) {
  if (!value.empty()) Add(key, value);
  return *this;
}

QueryRequest& QueryRequest::AddIfNonZero(std::string_view key, int64_t value) {
  if (value != 0) Add(key, std::to_string(value));
  return *this;
}

QueryRequest& QueryRequest::AddList(std::string_view name, const std::vector<std::string>& values,
                                    std::string_view field) {
  for (size_t i = 0; i < values.size(); ++i) {
    std::string key = std::string(name) + ".member." + std::to_string(i + 1);
    if (!field.empty()) key += "." + std::string(field);
    Add(key, values[i]);
  }
  return *this;
}

QueryRequest& QueryRequest::AddTags(std::string_view name, const Tags& tags) {
  for (size_t i = 0; i < tags.size(); ++i) {
    std::string prefix = std::string(name) + ".member." + std::to_string(i + 1);
    Add(prefix + ".Key", tags[i].first);
    Add(prefix + ".Value", tags[i].second);
  }
  return *this;
}

std::string QueryRequest::Body() const {
  std::string out = "Action=" + FormEncode(action_) + "&Version=" + FormEncode(version_);
  for (const auto& [k, v] : params_) {
    out += '&';
    out += FormEncode(k);
    out += '=';
    out += FormEncode(v);
  }
  return out;
}

// ---- builders (parameter order = the botocore model's member order) ----

QueryRequest BuildCreateUser(const CreateUserInput& in) {
  QueryRequest q("CreateUser", kIamApiVersion);
  q.AddIfSet("Path", in.path).Add("UserName", in.user_name);
  q.AddIfSet("PermissionsBoundary", in.permissions_boundary_arn).AddTags("Tags", in.tags);
  return q;
}

QueryRequest BuildGetUser(const std::string& user_name) {
  QueryRequest q("GetUser", kIamApiVersion);
  q.AddIfSet("UserName", user_name);
  return q;
}

QueryRequest BuildDeleteUser(const std::string& user_name) {
  return std::move(QueryRequest("DeleteUser", kIamApiVersion).Add("UserName", user_name));
}

QueryRequest BuildTagUser(const std::string& user_name, const Tags& tags) {
  QueryRequest q("TagUser", kIamApiVersion);
  q.Add("UserName", user_name).AddTags("Tags", tags);
  return q;
}

QueryRequest BuildPutUserPolicy(const std::string& user_name, const std::string& policy_name,
                                const std::string& policy_document) {
  QueryRequest q("PutUserPolicy", kIamApiVersion);
  q.Add("UserName", user_name).Add("PolicyName", policy_name);
  q.Add("PolicyDocument", policy_document);
  return q;
}

QueryRequest BuildDeleteUserPolicy(const std::string& user_name, const std::string& policy_name) {
  QueryRequest q("DeleteUserPolicy", kIamApiVersion);
  q.Add("UserName", user_name).Add("PolicyName", policy_name);
  return q;
}

QueryRequest BuildListUserPolicies(const std::string& user_name) {
  QueryRequest q("ListUserPolicies", kIamApiVersion);
  q.Add("UserName", user_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildAttachUserPolicy(const std::string& user_name, const std::string& policy_arn) {
  QueryRequest q("AttachUserPolicy", kIamApiVersion);
  q.Add("UserName", user_name).Add("PolicyArn", policy_arn);
  return q;
}

QueryRequest BuildDetachUserPolicy(const std::string& user_name, const std::string& policy_arn) {
  QueryRequest q("DetachUserPolicy", kIamApiVersion);
  q.Add("UserName", user_name).Add("PolicyArn", policy_arn);
  return q;
}

QueryRequest BuildListAttachedUserPolicies(const std::string& user_name) {
  QueryRequest q("ListAttachedUserPolicies", kIamApiVersion);
  q.Add("UserName", user_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildAddUserToGroup(const std::string& group_name, const std::string& user_name) {
  QueryRequest q("AddUserToGroup", kIamApiVersion);
  q.Add("GroupName", group_name).Add("UserName", user_name);
  return q;
}

QueryRequest BuildRemoveUserFromGroup(const std::string& group_name, const std::string& user_name) {
  QueryRequest q("RemoveUserFromGroup", kIamApiVersion);
  q.Add("GroupName", group_name).Add("UserName", user_name);
  return q;
}

QueryRequest BuildListGroupsForUser(const std::string& user_name) {
  QueryRequest q("ListGroupsForUser", kIamApiVersion);
  q.Add("UserName", user_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildCreateAccessKey(const std::string& user_name) {
  QueryRequest q("CreateAccessKey", kIamApiVersion);
  q.AddIfSet("UserName", user_name);
  return q;
}

QueryRequest BuildDeleteAccessKey(const std::string& user_name, const std::string& access_key_id) {
  QueryRequest q("DeleteAccessKey", kIamApiVersion);
  q.AddIfSet("UserName", user_name).Add("AccessKeyId", access_key_id);
  return q;
}

QueryRequest BuildListAccessKeys(const std::string& user_name) {
  QueryRequest q("ListAccessKeys", kIamApiVersion);
  q.AddIfSet("UserName", user_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildDeleteLoginProfile(const std::string& user_name) {
  return std::move(QueryRequest("DeleteLoginProfile", kIamApiVersion).Add("UserName", user_name));
}

QueryRequest BuildListMFADevices(const std::string& user_name) {
  QueryRequest q("ListMFADevices", kIamApiVersion);
  q.AddIfSet("UserName", user_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildDeactivateMFADevice(const std::string& user_name,
                                      const std::string& serial_number) {
  QueryRequest q("DeactivateMFADevice", kIamApiVersion);
  q.Add("UserName", user_name).Add("SerialNumber", serial_number);
  return q;
}

QueryRequest BuildDeleteVirtualMFADevice(const std::string& serial_number) {
  return std::move(
      QueryRequest("DeleteVirtualMFADevice", kIamApiVersion).Add("SerialNumber", serial_number));
}

QueryRequest BuildListSigningCertificates(const std::string& user_name) {
  QueryRequest q("ListSigningCertificates", kIamApiVersion);
  q.AddIfSet("UserName", user_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildDeleteSigningCertificate(const std::string& user_name,
                                           const std::string& certificate_id) {
  QueryRequest q("DeleteSigningCertificate", kIamApiVersion);
  q.AddIfSet("UserName", user_name).Add("CertificateId", certificate_id);
  return q;
}

QueryRequest BuildListSSHPublicKeys(const std::string& user_name) {
  QueryRequest q("ListSSHPublicKeys", kIamApiVersion);
  q.AddIfSet("UserName", user_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildDeleteSSHPublicKey(const std::string& user_name,
                                     const std::string& ssh_public_key_id) {
  QueryRequest q("DeleteSSHPublicKey", kIamApiVersion);
  q.Add("UserName", user_name).Add("SSHPublicKeyId", ssh_public_key_id);
  return q;
}

QueryRequest BuildListServiceSpecificCredentials(const std::string& user_name) {
  QueryRequest q("ListServiceSpecificCredentials", kIamApiVersion);
  q.AddIfSet("UserName", user_name);
  return q;
}

QueryRequest BuildDeleteServiceSpecificCredential(const std::string& user_name,
                                                  const std::string& credential_id) {
  QueryRequest q("DeleteServiceSpecificCredential", kIamApiVersion);
  q.AddIfSet("UserName", user_name).Add("ServiceSpecificCredentialId", credential_id);
  return q;
}

QueryRequest BuildListAttachedGroupPolicies(const std::string& group_name) {
  QueryRequest q("ListAttachedGroupPolicies", kIamApiVersion);
  q.Add("GroupName", group_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildListGroupPolicies(const std::string& group_name) {
  QueryRequest q("ListGroupPolicies", kIamApiVersion);
  q.Add("GroupName", group_name).Add("MaxItems", "1000");
  return q;
}

QueryRequest BuildGetGroupPolicy(const std::string& group_name, const std::string& policy_name) {
  QueryRequest q("GetGroupPolicy", kIamApiVersion);
  q.Add("GroupName", group_name).Add("PolicyName", policy_name);
  return q;
}

QueryRequest BuildAssumeRole(const AssumeRoleInput& in) {
  QueryRequest q("AssumeRole", kStsApiVersion);
  q.Add("RoleArn", in.role_arn).Add("RoleSessionName", in.role_session_name);
  q.AddList("PolicyArns", in.policy_arns, "arn").AddIfSet("Policy", in.policy);
  q.AddIfNonZero("DurationSeconds", in.duration_seconds).AddTags("Tags", in.tags);
  q.AddIfSet("ExternalId", in.external_id);
  return q;
}

QueryRequest BuildGetFederationToken(const GetFederationTokenInput& in) {
  QueryRequest q("GetFederationToken", kStsApiVersion);
  q.Add("Name", in.name).AddIfSet("Policy", in.policy).AddList("PolicyArns", in.policy_arns, "arn");
  q.AddIfNonZero("DurationSeconds", in.duration_seconds);
  return q;
}

QueryRequest BuildGetSessionToken(const GetSessionTokenInput& in) {
  QueryRequest q("GetSessionToken", kStsApiVersion);
  q.AddIfNonZero("DurationSeconds", in.duration_seconds).AddIfSet("SerialNumber", in.serial_number);
  q.AddIfSet("TokenCode", in.token_code);
  return q;
}

QueryRequest BuildGetCallerIdentity() { return QueryRequest("GetCallerIdentity", kStsApiVersion); }

// ---- parsers ----

Result<User> ParseUserResponse(const XmlElement& root, std::string_view action) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, action));
  const XmlElement* user = result->Child("User");
  if (user == nullptr) return Missing(action, "User");
  User u = UserFrom(*user);
  if (u.user_name.empty()) return Missing(action, "User/UserName");
  return u;
}

Result<Empty> ParseEmptyResponse(const XmlElement& root, std::string_view action) {
  const XmlElement* result = nullptr;
  RETURN_IF_ERROR(ResultOf(root, action, &result));
  return Empty{};
}

Result<AccessKey> ParseCreateAccessKeyResponse(const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, "CreateAccessKey"));
  const XmlElement* key = result->Child("AccessKey");
  if (key == nullptr) return Missing("CreateAccessKey", "AccessKey");
  AccessKey k = AccessKeyFrom(*key);
  if (k.access_key_id.empty()) return Missing("CreateAccessKey", "AccessKey/AccessKeyId");
  if (k.secret_access_key.empty()) return Missing("CreateAccessKey", "AccessKey/SecretAccessKey");
  return k;
}

Result<std::vector<AccessKey>> ParseListAccessKeysResponse(const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, "ListAccessKeys"));
  std::vector<AccessKey> keys;
  for (const XmlElement* m : result->Members("AccessKeyMetadata")) {
    keys.push_back(AccessKeyFrom(*m));
    if (keys.back().access_key_id.empty()) {
      return Missing("ListAccessKeys", "AccessKeyMetadata/member/AccessKeyId");
    }
  }
  return keys;
}

Result<std::vector<MfaDevice>> ParseListMFADevicesResponse(const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, "ListMFADevices"));
  std::vector<MfaDevice> out;
  for (const XmlElement* m : result->Members("MFADevices")) {
    MfaDevice d;
    d.user_name = m->ChildText("UserName");
    d.serial_number = m->ChildText("SerialNumber");
    d.enable_date = m->ChildText("EnableDate");
    if (d.serial_number.empty()) return Missing("ListMFADevices", "MFADevices/member/SerialNumber");
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<SigningCertificate>> ParseListSigningCertificatesResponse(
    const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, "ListSigningCertificates"));
  std::vector<SigningCertificate> out;
  for (const XmlElement* m : result->Members("Certificates")) {
    SigningCertificate c;
    c.user_name = m->ChildText("UserName");
    c.certificate_id = m->ChildText("CertificateId");
    c.status = m->ChildText("Status");
    c.upload_date = m->ChildText("UploadDate");
    if (c.certificate_id.empty())
      return Missing("ListSigningCertificates", "Certificates/member/CertificateId");
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<SshPublicKey>> ParseListSSHPublicKeysResponse(const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, "ListSSHPublicKeys"));
  std::vector<SshPublicKey> out;
  for (const XmlElement* m : result->Members("SSHPublicKeys")) {
    SshPublicKey k;
    k.user_name = m->ChildText("UserName");
    k.ssh_public_key_id = m->ChildText("SSHPublicKeyId");
    k.status = m->ChildText("Status");
    k.upload_date = m->ChildText("UploadDate");
    if (k.ssh_public_key_id.empty())
      return Missing("ListSSHPublicKeys", "SSHPublicKeys/member/SSHPublicKeyId");
    out.push_back(std::move(k));
  }
  return out;
}

Result<std::vector<ServiceSpecificCredential>> ParseListServiceSpecificCredentialsResponse(
    const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result,
                   RequiredResult(root, "ListServiceSpecificCredentials"));
  std::vector<ServiceSpecificCredential> out;
  for (const XmlElement* m : result->Members("ServiceSpecificCredentials")) {
    ServiceSpecificCredential c;
    c.user_name = m->ChildText("UserName");
    c.service_specific_credential_id = m->ChildText("ServiceSpecificCredentialId");
    c.service_name = m->ChildText("ServiceName");
    c.service_user_name = m->ChildText("ServiceUserName");
    c.status = m->ChildText("Status");
    c.create_date = m->ChildText("CreateDate");
    if (c.service_specific_credential_id.empty())
      return Missing("ListServiceSpecificCredentials",
                     "ServiceSpecificCredentials/member/ServiceSpecificCredentialId");
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<std::string>> ParseNameListResponse(const XmlElement& root,
                                                       std::string_view action) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, action));
  std::vector<std::string> out;
  if (action == "ListUserPolicies" || action == "ListGroupPolicies") {
    for (const XmlElement* m : result->Members("PolicyNames")) out.push_back(m->text());
  } else if (action == "ListAttachedUserPolicies" || action == "ListAttachedGroupPolicies") {
    for (const XmlElement* m : result->Members("AttachedPolicies")) {
      out.push_back(m->ChildText("PolicyArn"));
      if (out.back().empty()) return Missing(action, "AttachedPolicies/member/PolicyArn");
    }
  } else if (action == "ListGroupsForUser") {
    for (const XmlElement* m : result->Members("Groups")) {
      out.push_back(m->ChildText("GroupName"));
      if (out.back().empty()) return Missing(action, "Groups/member/GroupName");
    }
  } else {
    return Internal("ParseNameListResponse: unsupported action");
  }
  return out;
}

Result<std::string> ParseGetGroupPolicyResponse(const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, "GetGroupPolicy"));
  const XmlElement* doc = result->Child("PolicyDocument");
  if (doc == nullptr) return Missing("GetGroupPolicy", "PolicyDocument");
  Result<std::string> decoded = QueryUnescape(doc->text());
  if (!decoded.ok())
    return InvalidArgument("malformed GetGroupPolicy response: " + decoded.status().message() +
                           " in PolicyDocument");
  return decoded;
}

Result<TemporaryCredentials> ParseCredentialsResponse(const XmlElement& root,
                                                      std::string_view action) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, action));
  const XmlElement* c = result->Child("Credentials");
  if (c == nullptr) return Missing(action, "Credentials");
  TemporaryCredentials t;
  t.credentials.access_key_id = c->ChildText("AccessKeyId");
  t.credentials.secret_access_key = c->ChildText("SecretAccessKey");
  t.credentials.session_token = c->ChildText("SessionToken");
  t.expiration = c->ChildText("Expiration");
  if (t.credentials.access_key_id.empty()) return Missing(action, "Credentials/AccessKeyId");
  if (t.credentials.secret_access_key.empty()) {
    return Missing(action, "Credentials/SecretAccessKey");
  }
  if (t.credentials.session_token.empty()) return Missing(action, "Credentials/SessionToken");
  Result<int64_t> exp = ParseIso8601(t.expiration);
  if (!exp.ok())
    return InvalidArgument("malformed " + std::string(action) +
                           " response: invalid Credentials/Expiration");
  t.expiration_unix = *exp;
  if (const XmlElement* a = result->Child("AssumedRoleUser"))
    t.assumed_role_arn = a->ChildText("Arn");
  if (const XmlElement* f = result->Child("FederatedUser"))
    t.federated_user_arn = f->ChildText("Arn");
  return t;
}

Result<CallerIdentity> ParseGetCallerIdentityResponse(const XmlElement& root) {
  ASSIGN_OR_RETURN(const XmlElement* result, RequiredResult(root, "GetCallerIdentity"));
  CallerIdentity id;
  id.account = result->ChildText("Account");
  id.arn = result->ChildText("Arn");
  id.user_id = result->ChildText("UserId");
  if (id.arn.empty()) return Missing("GetCallerIdentity", "Arn");
  return id;
}

AwsError ParseErrorResponse(const net::HttpResponse& response) {
  AwsError err;
  err.http_status = response.status;
  for (const char* h : {"x-amzn-RequestId", "x-amz-request-id"}) {
    if (const std::string* v = net::FindHeader(response.headers, h)) {
      err.request_id = *v;
      break;
    }
  }
  Result<XmlElement> doc = ParseXml(response.body);
  const XmlElement* error = nullptr;
  if (doc.ok()) {
    const XmlElement& root = *doc;
    if (root.name() == "ErrorResponse") {
      error = root.Child("Error");
      if (err.request_id.empty()) err.request_id = root.ChildText("RequestId");
    } else if (root.name() == "Response") {  // EC2-style
      error = root.Find({"Errors", "Error"});
      if (err.request_id.empty()) err.request_id = root.ChildText("RequestID");
    } else if (root.name() == "Error") {
      error = &root;
      if (err.request_id.empty()) err.request_id = root.ChildText("RequestId");
    }
  }
  if (error != nullptr && !error->ChildText("Code").empty()) {
    err.code = error->ChildText("Code");
    err.message = error->ChildText("Message");
    return err;
  }
  err.code = std::to_string(response.status);
  err.message = "HTTP " + std::to_string(response.status) + " with no AWS error document";
  return err;
}

}  // namespace vault::aws
