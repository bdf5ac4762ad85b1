// The AWS APIs the AWS secrets engine uses, as abstract interfaces: IAM and STS over the Query
// protocol. Implemented for real (SigV4 over HTTPS with libcurl multi, aws/client.h) and by test
// fakes. Every call is asynchronous (util/task.h): waiting on AWS never blocks a thread.
//
// Errors are values: an AwsError carries AWS's own error code ("NoSuchEntity",
// "DeleteConflict", "Throttling", "AccessDenied", ...) so callers can branch on it. Transport
// failures (connection refused, TLS, timeout) use code "RequestError" with http_status 0.
// Retries (throttling, 5xx, transport) happen inside the client, up to max_retries, sharing one
// adaptive rate limit per client; what reaches the caller is final.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "util/status.h"
#include "util/task.h"

namespace vault::aws {

struct AwsError {
  std::string code;        // AWS error code, or "RequestError" for transport failures
  std::string message;     // AWS's message (never contains our secrets)
  int http_status = 0;     // 0 for transport failures
  std::string request_id;  // x-amzn-RequestId / <RequestId>, if any
  bool throttled = false;  // a throttling code (after retries were exhausted)

  // "<code>: <message>" as users see it in errors.
  std::string ToString() const { return code + ": " + message; }
  // The entity (user, key, policy...) does not exist: for a deletion, already gone.
  bool NoSuchEntity() const { return code == "NoSuchEntity"; }
  // The request may or may not have taken effect on AWS's side (a timeout, a 5xx): whatever it
  // was to create may exist anyway.
  bool Ambiguous() const { return http_status == 0 || http_status >= 500; }
  // Vault's mapping to our status codes: throttled -> kUpstreamThrottled, 5xx/transport ->
  // kUpstream (both 502), anything else -> kInvalidArgument (400). `prefix` is prepended ("Error
  // creating IAM user").
  Status ToStatus(const std::string& prefix) const {
    // Vault 0.2's AWS backend docs show AWS's message alone ("Error creating IAM user: User:
    // arn:... is not authorized..."); the code is added only when AWS sent no message.
    std::string detail = message.empty() ? code : message;
    std::string msg = prefix.empty() ? detail : prefix + ": " + detail;
    if (throttled) return Status(StatusCode::kUpstreamThrottled, msg);
    bool upstream = http_status == 0 || http_status >= 500;
    return Status(upstream ? StatusCode::kUpstream : StatusCode::kInvalidArgument, msg);
  }
};

// Either a value or an AwsError.
template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T v) : v_(std::move(v)) {}         // NOLINT: implicit by design
  Outcome(AwsError e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const AwsError& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, AwsError> v_;
};

struct Empty {};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // secret: never log
  std::string session_token;      // empty for long-term keys
};

using Tags = std::vector<std::pair<std::string, std::string>>;  // order preserved

struct User {
  std::string user_name;
  std::string user_id;
  std::string arn;
  std::string path;
  std::string permissions_boundary_arn;  // empty if none
  std::string create_date;               // ISO-8601
};

struct AccessKey {
  std::string user_name;
  std::string access_key_id;
  std::string secret_access_key;  // only from CreateAccessKey; secret
  std::string status;             // "Active" / "Inactive"
  std::string create_date;
};

// What else IAM lets hang off a user, each of which blocks DeleteUser (DeleteConflict) until it
// is removed. Metadata only: no secrets.
struct MfaDevice {
  std::string user_name;
  std::string serial_number;  // an ARN (arn:aws:iam::<account>:mfa/...) for virtual devices
  std::string enable_date;
};

struct SigningCertificate {
  std::string user_name;
  std::string certificate_id;
  std::string status;
  std::string upload_date;
};

struct SshPublicKey {
  std::string user_name;
  std::string ssh_public_key_id;
  std::string status;
  std::string upload_date;
};

struct ServiceSpecificCredential {
  std::string user_name;
  std::string service_specific_credential_id;
  std::string service_name;       // e.g. codecommit.amazonaws.com
  std::string service_user_name;  // e.g. jane-at-123456789012
  std::string status;
  std::string create_date;
};

struct CreateUserInput {
  std::string user_name;
  std::string path;                      // empty = "/" (not sent)
  std::string permissions_boundary_arn;  // empty = not sent
  Tags tags;                             // empty = not sent
};

// IAM (global endpoint, signed for us-east-1 unless configured otherwise).
class IamApi {
 public:
  virtual ~IamApi() = default;
  virtual Task<Outcome<User>> CreateUser(CreateUserInput in) = 0;
  // user_name empty = the caller (used by rotate-root).
  virtual Task<Outcome<User>> GetUser(std::string user_name) = 0;
  virtual Task<Outcome<Empty>> DeleteUser(std::string user_name) = 0;
  virtual Task<Outcome<Empty>> TagUser(std::string user_name, Tags tags) = 0;
  virtual Task<Outcome<Empty>> PutUserPolicy(std::string user_name, std::string policy_name,
                                             std::string policy_document) = 0;
  virtual Task<Outcome<Empty>> DeleteUserPolicy(std::string user_name, std::string policy_name) = 0;
  virtual Task<Outcome<std::vector<std::string>>> ListUserPolicies(std::string user_name) = 0;
  virtual Task<Outcome<Empty>> AttachUserPolicy(std::string user_name, std::string policy_arn) = 0;
  virtual Task<Outcome<Empty>> DetachUserPolicy(std::string user_name, std::string policy_arn) = 0;
  // Policy ARNs.
  virtual Task<Outcome<std::vector<std::string>>> ListAttachedUserPolicies(
      std::string user_name) = 0;
  virtual Task<Outcome<Empty>> AddUserToGroup(std::string group_name, std::string user_name) = 0;
  virtual Task<Outcome<Empty>> RemoveUserFromGroup(std::string group_name,
                                                   std::string user_name) = 0;
  // Group names.
  virtual Task<Outcome<std::vector<std::string>>> ListGroupsForUser(std::string user_name) = 0;
  virtual Task<Outcome<AccessKey>> CreateAccessKey(std::string user_name) = 0;
  virtual Task<Outcome<Empty>> DeleteAccessKey(std::string user_name,
                                               std::string access_key_id) = 0;
  virtual Task<Outcome<std::vector<AccessKey>>> ListAccessKeys(std::string user_name) = 0;
  // The console password. NoSuchEntity when the user has none (or does not exist).
  virtual Task<Outcome<Empty>> DeleteLoginProfile(std::string user_name) = 0;
  virtual Task<Outcome<std::vector<MfaDevice>>> ListMFADevices(std::string user_name) = 0;
  // Detaches the device from the user; a virtual device then still exists, unassigned.
  virtual Task<Outcome<Empty>> DeactivateMFADevice(std::string user_name,
                                                   std::string serial_number) = 0;
  virtual Task<Outcome<Empty>> DeleteVirtualMFADevice(std::string serial_number) = 0;
  virtual Task<Outcome<std::vector<SigningCertificate>>> ListSigningCertificates(
      std::string user_name) = 0;
  virtual Task<Outcome<Empty>> DeleteSigningCertificate(std::string user_name,
                                                        std::string certificate_id) = 0;
  virtual Task<Outcome<std::vector<SshPublicKey>>> ListSSHPublicKeys(std::string user_name) = 0;
  virtual Task<Outcome<Empty>> DeleteSSHPublicKey(std::string user_name,
                                                  std::string ssh_public_key_id) = 0;
  // All services' credentials of the user.
  virtual Task<Outcome<std::vector<ServiceSpecificCredential>>> ListServiceSpecificCredentials(
      std::string user_name) = 0;
  virtual Task<Outcome<Empty>> DeleteServiceSpecificCredential(
      std::string user_name, std::string service_specific_credential_id) = 0;
  // Group policies (for iam_groups with STS credential types).
  virtual Task<Outcome<std::vector<std::string>>> ListAttachedGroupPolicies(
      std::string group_name) = 0;
  virtual Task<Outcome<std::vector<std::string>>> ListGroupPolicies(std::string group_name) = 0;
  // The document, already URL-decoded.
  virtual Task<Outcome<std::string>> GetGroupPolicy(std::string group_name,
                                                    std::string policy_name) = 0;
};

struct TemporaryCredentials {
  Credentials credentials;
  std::string expiration;          // ISO-8601 as AWS returned it
  int64_t expiration_unix = 0;     // parsed
  std::string assumed_role_arn;    // AssumeRole only
  std::string federated_user_arn;  // GetFederationToken only
};

struct AssumeRoleInput {
  std::string role_arn;
  std::string role_session_name;
  int64_t duration_seconds = 0;  // 0 = not sent
  std::string policy;            // empty = not sent
  std::vector<std::string> policy_arns;
  Tags tags;
  std::string external_id;
};

struct GetFederationTokenInput {
  std::string name;
  int64_t duration_seconds = 0;
  std::string policy;
  std::vector<std::string> policy_arns;
};

struct GetSessionTokenInput {
  int64_t duration_seconds = 0;
  std::string serial_number;
  std::string token_code;
};

struct CallerIdentity {
  std::string account;
  std::string arn;
  std::string user_id;
};

// STS (regional endpoint by default).
class StsApi {
 public:
  virtual ~StsApi() = default;
  virtual Task<Outcome<TemporaryCredentials>> AssumeRole(AssumeRoleInput in) = 0;
  virtual Task<Outcome<TemporaryCredentials>> GetFederationToken(GetFederationTokenInput in) = 0;
  virtual Task<Outcome<TemporaryCredentials>> GetSessionToken(GetSessionTokenInput in) = 0;
  virtual Task<Outcome<CallerIdentity>> GetCallerIdentity() = 0;
};

// How to reach AWS. Empty endpoints mean AWS's defaults (https://iam.amazonaws.com,
// https://sts.<region>.amazonaws.com).
struct ClientConfig {
  Credentials credentials;
  std::string region = "us-east-1";
  std::string iam_endpoint;
  std::string sts_endpoint;
  std::string sts_region;      // empty = region
  int max_retries = -1;        // -1 = default (3)
  int64_t timeout_ms = 30000;  // per attempt
  double rate_limit = 0;       // calls/second shared by this client's users; 0 = unlimited
};

// Creates clients. The engine holds one factory (injected by cmd/), and rebuilds its clients
// when config/root changes. Implementations are thread-safe.
class ClientFactory {
 public:
  virtual ~ClientFactory() = default;
  virtual std::shared_ptr<IamApi> NewIam(const ClientConfig& cfg) = 0;
  virtual std::shared_ptr<StsApi> NewSts(const ClientConfig& cfg) = 0;
};

}  // namespace vault::aws
