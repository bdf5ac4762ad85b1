// The real IAM and STS clients (api.h) over the Query protocol: SigV4-signed POSTs through a
// net::HttpClient, XML replies parsed into api.h's types, AWS errors into AwsError, retries with
// capped exponential backoff and full jitter, and one adaptive rate limiter per client.
//
// Composition (cmd/):
//   net::CurlHttpClient http({.handoff = &worker_pool});     // also the net::Timer
//   auto factory = aws::NewClientFactory(&http, &http, nullptr, SystemClock::Get());
//   engine.SetClientFactory(factory);
//
// Threads and completions: nothing blocks. A call suspends while it waits for a rate-limiter
// token, for the HTTP reply and for a backoff delay. When such a wait ends asynchronously the
// coroutine resumes on `completions` (ClientDeps) if set, otherwise on the thread that ended the
// wait (the HttpClient's / Timer's delivery thread). The server leaves both null: replies resume
// calls on the thread whose loop moved their bytes, so an issue's chain of calls (sign, send,
// parse, next call) costs no thread hop. A wait that ends inline (a free token, a fake client)
// continues on the same thread.
//
// Lifetimes: each call keeps its client alive until it finishes (clients may be dropped while
// calls run). The HttpClient, Timer, Executor and Clock must outlive every client and call.
//
// Secrets: the secret key and session token are used only to sign; they and returned secrets
// never appear in logs or AwsError messages (AWS's messages are scrubbed of our credentials).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aws/api.h"
#include "aws/query.h"
#include "aws/rate_limiter.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "net/http_client.h"
#include "util/clock.h"
#include "util/task.h"

namespace vault::aws {

// What every client needs from the outside world. None of it is owned.
struct ClientDeps {
  net::HttpClient* http = nullptr;  // required
  net::Timer* timer = nullptr;      // required: backoff delays and rate-limiter refills
  Executor* completions = nullptr;  // where coroutines resume after asynchronous waits
  Clock* clock = nullptr;           // SigV4 timestamps, rate limiter; null = SystemClock
  // Uniform random numbers in [0, 1) for backoff jitter; null = a thread-local PRNG.
  std::function<double()> random;
};

// SDK-style retry policy (the AWS SDKs' standard retry mode).
struct RetryOptions {
  int max_retries = 3;         // retries after the first attempt
  int64_t base_delay_ms = 30;  // 5xx and transport errors
  int64_t throttle_base_delay_ms = 500;
  int64_t max_delay_ms = 20000;
};

// AWS throttling error codes (SDK v1 and v2 lists), plus HTTP 429.
bool IsThrottlingCode(std::string_view code);
// Full jitter: uniform in [0, min(max_delay, base * 2^attempt)] where attempt counts from 0 and
// base depends on `throttled`. `unit_random` is in [0, 1).
int64_t BackoffDelayMs(const RetryOptions& options, int attempt, bool throttled,
                       double unit_random);

// Where and how one Query-protocol service is reached.
struct QueryClientOptions {
  std::string service;         // "iam" / "sts": the SigV4 service name
  std::string endpoint;        // "https://iam.amazonaws.com/"
  std::string signing_region;  // SigV4 scope region
  Credentials credentials;
  RetryOptions retry;
  int64_t timeout_ms = 30000;  // per attempt
  double rate_limit = 0;       // calls/second; 0 = unlimited until throttled
};

// A request encoded and signed ahead of its sending (QueryClient::Prepare).
struct PreparedQuery {
  std::string action;
  std::string body;
  net::HttpRequest http;  // signed at signed_at
  int64_t signed_at = 0;
};

// The protocol engine shared by IamClient and StsClient: sign, send, retry, parse. Thread-safe.
class QueryClient {
 public:
  // A prepared request sent within this many seconds of its signing goes out with that
  // signature; later (or on a retry) it is signed again. AWS accepts 5 minutes.
  static constexpr int64_t kPreparedMaxAgeSeconds = 60;

  QueryClient(QueryClientOptions options, ClientDeps deps);
  ~QueryClient();

  // Encodes and signs `request` now. IamClient and StsClient do this when a call's Task is
  // created, so a caller can have a call ready while another is in flight (an issue signs the
  // calls that follow CreateUser while CreateUser waits on AWS) and send it the moment it may.
  PreparedQuery Prepare(QueryRequest request) const;

  // Performs `request` (with retries) and returns the parsed reply's root element, which is
  // <ActionResponse>. Errors: AWS's code for error replies; "RequestError" (http_status 0) for
  // transport failures; "SerializationError" (http_status 0) when a 2xx reply is not the expected
  // XML. `throttled` is set when the final error is a throttling code. `self` keeps the client
  // alive for the duration of the call. Call prepares `request` when it is called (not when the
  // Task starts); Send takes a prepared one.
  static Task<Outcome<XmlElement>> Call(std::shared_ptr<QueryClient> self, QueryRequest request);
  static Task<Outcome<XmlElement>> Send(std::shared_ptr<QueryClient> self, PreparedQuery query);

  const QueryClientOptions& options() const { return options_; }
  RateLimiter& rate_limiter() { return *limiter_; }

 private:
  AwsError Scrub(AwsError err) const;
  // The POST of a form `body` to the endpoint, signed at `unix_seconds`.
  net::HttpRequest Signed(const std::string& body, int64_t unix_seconds) const;
  double Random() const;

  QueryClientOptions options_;
  ClientDeps deps_;
  SigV4Signer signer_;
  std::shared_ptr<RateLimiter> limiter_;
};

class IamClient final : public IamApi {
 public:
  explicit IamClient(std::shared_ptr<QueryClient> core) : core_(std::move(core)) {}

  Task<Outcome<User>> CreateUser(CreateUserInput in) override;
  Task<Outcome<User>> GetUser(std::string user_name) override;
  Task<Outcome<Empty>> DeleteUser(std::string user_name) override;
  Task<Outcome<Empty>> TagUser(std::string user_name, Tags tags) override;
  Task<Outcome<Empty>> PutUserPolicy(std::string user_name, std::string policy_name,
                                     std::string policy_document) override;
  Task<Outcome<Empty>> DeleteUserPolicy(std::string user_name, std::string policy_name) override;
  Task<Outcome<std::vector<std::string>>> ListUserPolicies(std::string user_name) override;
  Task<Outcome<Empty>> AttachUserPolicy(std::string user_name, std::string policy_arn) override;
  Task<Outcome<Empty>> DetachUserPolicy(std::string user_name, std::string policy_arn) override;
  Task<Outcome<std::vector<std::string>>> ListAttachedUserPolicies(std::string user_name) override;
  Task<Outcome<Empty>> AddUserToGroup(std::string group_name, std::string user_name) override;
  Task<Outcome<Empty>> RemoveUserFromGroup(std::string group_name, std::string user_name) override;
  Task<Outcome<std::vector<std::string>>> ListGroupsForUser(std::string user_name) override;
  Task<Outcome<AccessKey>> CreateAccessKey(std::string user_name) override;
  Task<Outcome<Empty>> DeleteAccessKey(std::string user_name, std::string access_key_id) override;
  Task<Outcome<std::vector<AccessKey>>> ListAccessKeys(std::string user_name) override;
  Task<Outcome<Empty>> DeleteLoginProfile(std::string user_name) override;
  Task<Outcome<std::vector<MfaDevice>>> ListMFADevices(std::string user_name) override;
  Task<Outcome<Empty>> DeactivateMFADevice(std::string user_name,
                                           std::string serial_number) override;
  Task<Outcome<Empty>> DeleteVirtualMFADevice(std::string serial_number) override;
  Task<Outcome<std::vector<SigningCertificate>>> ListSigningCertificates(
      std::string user_name) override;
  Task<Outcome<Empty>> DeleteSigningCertificate(std::string user_name,
                                                std::string certificate_id) override;
  Task<Outcome<std::vector<SshPublicKey>>> ListSSHPublicKeys(std::string user_name) override;
  Task<Outcome<Empty>> DeleteSSHPublicKey(std::string user_name,
                                          std::string ssh_public_key_id) override;
  Task<Outcome<std::vector<ServiceSpecificCredential>>> ListServiceSpecificCredentials(
      std::string user_name) override;
  Task<Outcome<Empty>> DeleteServiceSpecificCredential(
      std::string user_name, std::string service_specific_credential_id) override;
  Task<Outcome<std::vector<std::string>>> ListAttachedGroupPolicies(
      std::string group_name) override;
  Task<Outcome<std::vector<std::string>>> ListGroupPolicies(std::string group_name) override;
  Task<Outcome<std::string>> GetGroupPolicy(std::string group_name,
                                            std::string policy_name) override;

  QueryClient& core() { return *core_; }

 private:
  std::shared_ptr<QueryClient> core_;
};

class StsClient final : public StsApi {
 public:
  explicit StsClient(std::shared_ptr<QueryClient> core) : core_(std::move(core)) {}

  Task<Outcome<TemporaryCredentials>> AssumeRole(AssumeRoleInput in) override;
  Task<Outcome<TemporaryCredentials>> GetFederationToken(GetFederationTokenInput in) override;
  Task<Outcome<TemporaryCredentials>> GetSessionToken(GetSessionTokenInput in) override;
  Task<Outcome<CallerIdentity>> GetCallerIdentity() override;

  QueryClient& core() { return *core_; }

 private:
  std::shared_ptr<QueryClient> core_;
};

// Endpoint rules. IAM: `iam_endpoint`, else the partition's global endpoint
// (https://iam.amazonaws.com; us-gov-* -> iam.us-gov.amazonaws.com; cn-* ->
// iam.cn-north-1.amazonaws.com.cn), signed for us-east-1 (us-gov-west-1 / cn-north-1 in those
// partitions). STS: `sts_endpoint`, else https://sts.<region>.amazonaws.com(.cn), signed for
// `sts_region`, else `region`. An endpoint without a scheme gets https://; one without a path
// gets "/".
QueryClientOptions IamOptions(const ClientConfig& cfg);
QueryClientOptions StsOptions(const ClientConfig& cfg);

// The production ClientFactory: NewIam/NewSts build IamClient/StsClient from a ClientConfig
// (each with its own rate limiter). Thread-safe. `deps.http` and `deps.timer` are required.
std::shared_ptr<ClientFactory> NewClientFactory(ClientDeps deps);
// Shorthand: NewClientFactory({http, timer, completions, clock}).
std::shared_ptr<ClientFactory> NewClientFactory(net::HttpClient* http, net::Timer* timer,
                                                Executor* completions, Clock* clock);

}  // namespace vault::aws
