// The AWS Query protocol as IAM and STS speak it: request bodies (form-encoded exactly as boto3
// puts them on the wire, checked against testdata/query_vectors.json), typed request builders for
// the calls in api.h, and parsers from the XML responses (success and ErrorResponse) into api.h's
// types.
//
// Pure functions, no I/O: aws/client.h signs, sends and retries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/api.h"
#include "aws/xml.h"
#include "net/http_client.h"
#include "util/status.h"

namespace vault::aws {

inline constexpr char kIamApiVersion[] = "2010-05-08";
inline constexpr char kStsApiVersion[] = "2011-06-15";

// RFC 3986 percent-encoding of UTF-8 bytes: everything but A-Z a-z 0-9 - _ . ~ becomes %XX
// (upper-case hex). Python's quote(s, safe='-_.~').
std::string PercentEncode(std::string_view s);
// application/x-www-form-urlencoded as botocore sends Query bodies (urllib's quote_plus): as
// PercentEncode, except that a space becomes '+'. AWS decodes both forms.
std::string FormEncode(std::string_view s);
// Go's url.QueryUnescape: %XX decoded, '+' becomes a space. kInvalidArgument on a bad escape.
Result<std::string> QueryUnescape(std::string_view s);
// "2026-11-23T19:22:33Z" / "2026-11-23T19:22:33.470454Z" / "...+02:00" to Unix seconds.
Result<int64_t> ParseIso8601(std::string_view s);

// One Query-protocol call: Action, Version, then parameters in the order added.
class QueryRequest {
 public:
  QueryRequest(std::string action, std::string version);

  QueryRequest& Add(std::string_view key, std::string_view value);
  // Adds only when value is non-empty (optional string parameters).
  QueryRequest& AddIfSet(std::string_view key, std::string_view value);
  // Adds only when value is non-zero.
  QueryRequest& AddIfNonZero(std::string_view key, int64_t value);
  // name.member.1[.field]=v1&name.member.2[.field]=v2 ... (nothing when values is empty).
  QueryRequest& AddList(std::string_view name, const std::vector<std::string>& values,
                        std::string_view field = "");
  // name.member.N.Key / name.member.N.Value in order (nothing when tags is empty).
  QueryRequest& AddTags(std::string_view name, const Tags& tags);

  // "Action=...&Version=...&k=v..." with keys and values form-encoded.
  std::string Body() const;
  const std::string& action() const { return action_; }
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }

 private:
  std::string action_;
  std::string version_;
  std::vector<std::pair<std::string, std::string>> params_;
};

// Request builders. Parameter names and order follow Vault's calls;
// list calls send MaxItems=1000 as Vault does (pagination is not followed).
QueryRequest BuildCreateUser(const CreateUserInput& in);
QueryRequest BuildGetUser(const std::string& user_name);  // empty = the caller
QueryRequest BuildDeleteUser(const std::string& user_name);
QueryRequest BuildTagUser(const std::string& user_name, const Tags& tags);
QueryRequest BuildPutUserPolicy(const std::string& user_name, const std::string& policy_name,
                                const std::string& policy_document);
QueryRequest BuildDeleteUserPolicy(const std::string& user_name, const std::string& policy_name);
QueryRequest BuildListUserPolicies(const std::string& user_name);
QueryRequest BuildAttachUserPolicy(const std::string& user_name, const std::string& policy_arn);
QueryRequest BuildDetachUserPolicy(const std::string& user_name, const std::string& policy_arn);
QueryRequest BuildListAttachedUserPolicies(const std::string& user_name);
QueryRequest BuildAddUserToGroup(const std::string& group_name, const std::string& user_name);
QueryRequest BuildRemoveUserFromGroup(const std::string& group_name, const std::string& user_name);
QueryRequest BuildListGroupsForUser(const std::string& user_name);
QueryRequest BuildCreateAccessKey(const std::string& user_name);
QueryRequest BuildDeleteAccessKey(const std::string& user_name, const std::string& access_key_id);
QueryRequest BuildListAccessKeys(const std::string& user_name);
QueryRequest BuildDeleteLoginProfile(const std::string& user_name);
QueryRequest BuildListMFADevices(const std::string& user_name);
QueryRequest BuildDeactivateMFADevice(const std::string& user_name,
                                      const std::string& serial_number);
QueryRequest BuildDeleteVirtualMFADevice(const std::string& serial_number);
QueryRequest BuildListSigningCertificates(const std::string& user_name);
QueryRequest BuildDeleteSigningCertificate(const std::string& user_name,
                                           const std::string& certificate_id);
QueryRequest BuildListSSHPublicKeys(const std::string& user_name);
QueryRequest BuildDeleteSSHPublicKey(const std::string& user_name,
                                     const std::string& ssh_public_key_id);
// No MaxItems: the call has no paging in the API version botocore models for us.
QueryRequest BuildListServiceSpecificCredentials(const std::string& user_name);
QueryRequest BuildDeleteServiceSpecificCredential(const std::string& user_name,
                                                  const std::string& credential_id);
QueryRequest BuildListAttachedGroupPolicies(const std::string& group_name);
QueryRequest BuildListGroupPolicies(const std::string& group_name);
QueryRequest BuildGetGroupPolicy(const std::string& group_name, const std::string& policy_name);
QueryRequest BuildAssumeRole(const AssumeRoleInput& in);
QueryRequest BuildGetFederationToken(const GetFederationTokenInput& in);
QueryRequest BuildGetSessionToken(const GetSessionTokenInput& in);
QueryRequest BuildGetCallerIdentity();

// Response parsers. `root` is the document's root element (<ActionResponse>); a missing required
// element is kInvalidArgument. Parsed values may contain secrets (SecretAccessKey, SessionToken);
// error messages never do.
Result<User> ParseUserResponse(const XmlElement& root, std::string_view action);  // Create/GetUser
Result<Empty> ParseEmptyResponse(const XmlElement& root, std::string_view action);
Result<AccessKey> ParseCreateAccessKeyResponse(const XmlElement& root);
Result<std::vector<AccessKey>> ParseListAccessKeysResponse(const XmlElement& root);
// MFADevices/member (SerialNumber required).
Result<std::vector<MfaDevice>> ParseListMFADevicesResponse(const XmlElement& root);
// Certificates/member (CertificateId required; the certificate body is not kept).
Result<std::vector<SigningCertificate>> ParseListSigningCertificatesResponse(
    const XmlElement& root);
// SSHPublicKeys/member (SSHPublicKeyId required).
Result<std::vector<SshPublicKey>> ParseListSSHPublicKeysResponse(const XmlElement& root);
// ServiceSpecificCredentials/member (ServiceSpecificCredentialId required).
Result<std::vector<ServiceSpecificCredential>> ParseListServiceSpecificCredentialsResponse(
    const XmlElement& root);
// Lists of names/ARNs: ListUserPolicies, ListGroupPolicies (PolicyNames), ListAttachedUser/
// GroupPolicies (AttachedPolicies/PolicyArn), ListGroupsForUser (Groups/GroupName).
Result<std::vector<std::string>> ParseNameListResponse(const XmlElement& root,
                                                       std::string_view action);
// The PolicyDocument, URL-decoded.
Result<std::string> ParseGetGroupPolicyResponse(const XmlElement& root);
Result<TemporaryCredentials> ParseCredentialsResponse(const XmlElement& root,
                                                      std::string_view action);
Result<CallerIdentity> ParseGetCallerIdentityResponse(const XmlElement& root);

// An error reply (non-2xx) into an AwsError: Error/Code, Error/Message and RequestId from an
// <ErrorResponse> (or EC2-style <Response><Errors>), the request id also from the
// x-amzn-RequestId header. An unparseable body gives code = the HTTP status as text and a generic
// message (never the body).
AwsError ParseErrorResponse(const net::HttpResponse& response);

}  // namespace vault::aws
