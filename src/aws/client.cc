#include "aws/client.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include "util/metrics.h"
#include "util/random.h"

namespace vault::aws {

namespace {

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr char kFormContentType[] = "application/x-www-form-urlencoded; charset=utf-8";

// Like AwaitCallback (util/task.h), but a completion that arrives asynchronously resumes the
// coroutine through `executor` (when set) instead of on the completing thread. A completion that
// arrives inline continues inline.
template <typename T>
class AwaitVia {
 public:
  using Callback = std::function<void(T)>;
  AwaitVia(Executor* executor, std::function<void(Callback)> start)
      : executor_(executor), start_(std::move(start)) {}

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    start_([this](T v) {
      value_.emplace(std::move(v));
      if (state_.exchange(kDone) == kSuspended) {
        std::coroutine_handle<> resume = handle_;
        if (executor_ != nullptr) {
          executor_->Post([resume] { resume.resume(); });
        } else {
          resume.resume();
        }
      }
    });
    return state_.exchange(kSuspended) != kDone;
  }
  T await_resume() { return std::move(*value_); }

 private:
  enum : int { kStarting = 0, kSuspended = 1, kDone = 2 };
  Executor* executor_;
  std::function<void(Callback)> start_;
  std::coroutine_handle<> handle_;
  std::optional<T> value_;
  std::atomic<int> state_{kStarting};
};

void ReplaceAll(std::string& s, const std::string& needle, std::string_view with) {
  if (needle.empty()) return;
  for (size_t pos = s.find(needle); pos != std::string::npos;
       pos = s.find(needle, pos + with.size())) {
    s.replace(pos, needle.size(), with);
  }
}

void Wipe(std::string& s) {
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string NormalizeEndpoint(std::string endpoint) {
  if (endpoint.find("://") == std::string::npos) endpoint = "https://" + endpoint;
  size_t authority = endpoint.find("://") + 3;
  if (endpoint.find('/', authority) == std::string::npos) endpoint += "/";
  return endpoint;
}

template <typename T, typename Parse>
Task<Outcome<T>> SendAndParse(std::shared_ptr<QueryClient> core, PreparedQuery query, Parse parse) {
  Outcome<XmlElement> reply = co_await QueryClient::Send(core, std::move(query));
  if (!reply.ok()) co_return reply.error();
  Result<T> value = parse(reply.value());
  if (!value.ok()) {
    AwsError err;
    err.code = "SerializationError";
    err.message = value.status().message();
    err.request_id = reply.value().Find({"ResponseMetadata", "RequestId"}) != nullptr
                         ? reply.value().Find({"ResponseMetadata", "RequestId"})->text()
                         : "";
    co_return err;
  }
  co_return std::move(value).value();
}

// Not a coroutine: the request is encoded and signed when the call's Task is created.
template <typename T, typename Parse>
Task<Outcome<T>> CallAndParse(const std::shared_ptr<QueryClient>& core, QueryRequest request,
                              Parse parse) {
  return SendAndParse<T>(core, core->Prepare(std::move(request)), std::move(parse));
}

}  // namespace

bool IsThrottlingCode(std::string_view code) {
  static constexpr std::string_view kCodes[] = {
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestLimitExceeded",
      "RequestThrottled",
      "RequestThrottledException",
      "TooManyRequestsException",
      "ProvisionedThroughputExceededException",
      "PriorRequestNotComplete",
      "TransactionInProgressException",
      "EC2ThrottledException",
      "BandwidthLimitExceeded",
      "LimitExceededException",
      "SlowDown",
  };
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

int64_t BackoffDelayMs(const RetryOptions& options, int attempt, bool throttled,
                       double unit_random) {
  double base =
      static_cast<double>(throttled ? options.throttle_base_delay_ms : options.base_delay_ms);
  double cap = static_cast<double>(options.max_delay_ms);
  double ceiling = std::min(cap, base * std::ldexp(1.0, std::clamp(attempt, 0, 40)));
  double r = std::clamp(unit_random, 0.0, 1.0);
  return static_cast<int64_t>(ceiling * r);
}

// ---- QueryClient ----

namespace {
// The live clients' rate limiters by service, for the call-budget gauges (read when scraped):
// vault.aws.call_budget.rate{service} (the rate the clients may call at now, summed; 0 while
// unlimited) and vault.aws.call_budget.waiting{service} (calls waiting for the budget).
struct LiveLimiters {
  std::mutex mu;
  std::multimap<std::string, std::weak_ptr<RateLimiter>> by_service;

  static LiveLimiters& Get() {
    static LiveLimiters* l = new LiveLimiters();  // never destroyed: gauges read it
    return *l;
  }
  void Add(const std::string& service, const std::shared_ptr<RateLimiter>& limiter) {
    std::lock_guard lock(mu);
    bool first = by_service.find(service) == by_service.end();
    by_service.emplace(service, limiter);
    if (!first) return;
    auto sum = [this, service](bool waiting) {
      std::lock_guard lock(mu);
      double total = 0;
      auto [b, e] = by_service.equal_range(service);
      for (auto it = b; it != e; ++it) {
        if (auto l = it->second.lock())
          total += waiting ? static_cast<double>(l->waiting()) : l->current_rate();
      }
      return total;
    };
    metrics::Registry::Get().SetGauge("vault.aws.call_budget.rate", {{"service", service}},
                                      [sum] { return sum(false); });
    metrics::Registry::Get().SetGauge("vault.aws.call_budget.waiting", {{"service", service}},
                                      [sum] { return sum(true); });
  }
  void Remove(const std::string& service, const RateLimiter* limiter) {
    std::lock_guard lock(mu);
    auto [b, e] = by_service.equal_range(service);
    for (auto it = b; it != e; ++it) {
      auto l = it->second.lock();
      if (!l || l.get() == limiter) {
        by_service.erase(it);
        return;
      }
    }
  }
};
}  // namespace

QueryClient::QueryClient(QueryClientOptions options, ClientDeps deps)
    : options_(std::move(options)),
      deps_(std::move(deps)),
      signer_(options_.credentials, options_.signing_region, options_.service) {
  if (deps_.clock == nullptr) deps_.clock = SystemClock::Get();
  RateLimiterOptions lo;
  lo.rate = options_.rate_limit;
  limiter_ = std::make_shared<RateLimiter>(lo, deps_.timer, deps_.clock);
  LiveLimiters::Get().Add(options_.service, limiter_);
}

QueryClient::~QueryClient() {
  LiveLimiters::Get().Remove(options_.service, limiter_.get());
  Wipe(options_.credentials.secret_access_key);
  Wipe(options_.credentials.session_token);
}

double QueryClient::Random() const {
  if (deps_.random) return deps_.random();
  thread_local std::mt19937_64 rng = [] {
    std::string seed = RandomBytes(8);
    uint64_t s = 0;
    std::memcpy(&s, seed.data(), sizeof(s));
    return std::mt19937_64(s);
  }();
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

AwsError QueryClient::Scrub(AwsError err) const {
  for (const std::string* secret :
       {&options_.credentials.secret_access_key, &options_.credentials.session_token}) {
    ReplaceAll(err.message, *secret, "[redacted]");
    ReplaceAll(err.code, *secret, "[redacted]");
  }
  return err;
}

net::HttpRequest QueryClient::Signed(const std::string& body, int64_t unix_seconds) const {
  net::HttpRequest http;
  http.method = "POST";
  http.url = options_.endpoint;
  http.headers = {{"Content-Type", kFormContentType}};
  http.body = body;
  http.timeout_ms = options_.timeout_ms;
  signer_.Sign(http, unix_seconds);
  return http;
}

PreparedQuery QueryClient::Prepare(QueryRequest request) const {
  PreparedQuery q;
  q.action = request.action();
  q.body = request.Body();
  q.signed_at = deps_.clock->NowSeconds();
  q.http = Signed(q.body, q.signed_at);
  return q;
}

Task<Outcome<XmlElement>> QueryClient::Call(std::shared_ptr<QueryClient> self,
                                            QueryRequest request) {
  PreparedQuery query = self->Prepare(std::move(request));
  return Send(std::move(self), std::move(query));
}

Task<Outcome<XmlElement>> QueryClient::Send(std::shared_ptr<QueryClient> self,
                                            PreparedQuery query) {
  const QueryClientOptions& o = self->options_;
  Executor* ex = self->deps_.completions;
  const std::string& action = query.action;
  const std::string want_root = action + "Response";
  bool signed_ahead = true;

  for (int attempt = 0;; ++attempt) {
    co_await AwaitVia<bool>(ex, [&](auto cb) { self->limiter_->Acquire([cb] { cb(true); }); });

    int64_t now = self->deps_.clock->NowSeconds();
    bool fresh =
        signed_ahead && now >= query.signed_at && now - query.signed_at <= kPreparedMaxAgeSeconds;
    net::HttpRequest http = fresh ? std::move(query.http) : self->Signed(query.body, now);
    signed_ahead = false;

    const int64_t sent_ns = MonotonicNanos();
    Result<net::HttpResponse> reply = co_await AwaitVia<Result<net::HttpResponse>>(
        ex, [&](auto cb) { self->deps_.http->Send(std::move(http), cb); });
    // vault.aws.call{service, action, outcome}: every attempt, with the time AWS took.
    // vault.aws.call.latency: the same, as a histogram (buckets from 5 ms to 10 s).
    auto record = [&](const char* outcome) {
      const double ms = static_cast<double>(MonotonicNanos() - sent_ns) / 1e6;
      const metrics::Labels labels = {
          {"service", o.service}, {"action", action}, {"outcome", outcome}};
      metrics::Registry::Get().GetSummary("vault.aws.call", labels)->Observe(ms);
      metrics::Registry::Get().GetHistogram("vault.aws.call.latency", labels)->Observe(ms);
    };

    AwsError err;
    if (!reply.ok()) {
      err.code = "RequestError";
      err.message = reply.status().message();
      err.http_status = 0;
    } else if (reply->status >= 200 && reply->status < 300) {
      record("ok");
      self->limiter_->OnSuccess();
      Result<XmlElement> doc = ParseXml(reply->body);
      if (doc.ok() && doc->name() == want_root) co_return std::move(doc).value();
      err.code = "SerializationError";
      err.message = doc.ok() ? "unexpected " + action + " response: root element <" +
                                   doc->name().substr(0, 64) + ">"
                             : action + " response: " + doc.status().message();
      err.http_status = 0;
      if (const std::string* id = net::FindHeader(reply->headers, "x-amzn-RequestId")) {
        err.request_id = *id;
      }
      co_return self->Scrub(std::move(err));  // a garbled success is not retried
    } else {
      err = ParseErrorResponse(*reply);
    }

    bool throttled = IsThrottlingCode(err.code) || err.http_status == 429;
    record(throttled ? "throttled" : "error");
    if (throttled) {
      self->limiter_->OnThrottle();
    } else if (err.http_status != 0) {
      self->limiter_->OnSuccess();
    }
    bool retryable =
        throttled || err.http_status == 0 || (err.http_status >= 500 && err.http_status != 501);
    if (!retryable || attempt >= o.retry.max_retries) {
      err.throttled = throttled;
      if (retryable) {
        spdlog::warn("aws {} {}: giving up after {} attempts: {} (HTTP {})", o.service, action,
                     attempt + 1, err.code, err.http_status);
      }
      co_return self->Scrub(std::move(err));
    }
    int64_t delay = BackoffDelayMs(o.retry, attempt, throttled, self->Random());
    spdlog::debug("aws {} {}: attempt {} failed: {} (HTTP {}); retrying in {} ms", o.service,
                  action, attempt + 1, err.code, err.http_status, delay);
    co_await AwaitVia<bool>(
        ex, [&](auto cb) { self->deps_.timer->RunAfter(delay, [cb] { cb(true); }); });
  }
}

// ---- IamClient ----

Task<Outcome<User>> IamClient::CreateUser(CreateUserInput in) {
  return CallAndParse<User>(core_, BuildCreateUser(in),
                            [](const XmlElement& x) { return ParseUserResponse(x, "CreateUser"); });
}

Task<Outcome<User>> IamClient::GetUser(std::string user_name) {
  return CallAndParse<User>(core_, BuildGetUser(user_name),
                            [](const XmlElement& x) { return ParseUserResponse(x, "GetUser"); });
}

Task<Outcome<Empty>> IamClient::DeleteUser(std::string user_name) {
  return CallAndParse<Empty>(core_, BuildDeleteUser(user_name), [](const XmlElement& x) {
    return ParseEmptyResponse(x, "DeleteUser");
  });
}

Task<Outcome<Empty>> IamClient::TagUser(std::string user_name, Tags tags) {
  return CallAndParse<Empty>(core_, BuildTagUser(user_name, tags),
                             [](const XmlElement& x) { return ParseEmptyResponse(x, "TagUser"); });
}

Task<Outcome<Empty>> IamClient::PutUserPolicy(std::string user_name, std::string policy_name,
                                              std::string policy_document) {
  return CallAndParse<Empty>(
      core_, BuildPutUserPolicy(user_name, policy_name, policy_document),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "PutUserPolicy"); });
}

Task<Outcome<Empty>> IamClient::DeleteUserPolicy(std::string user_name, std::string policy_name) {
  return CallAndParse<Empty>(
      core_, BuildDeleteUserPolicy(user_name, policy_name),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DeleteUserPolicy"); });
}

Task<Outcome<std::vector<std::string>>> IamClient::ListUserPolicies(std::string user_name) {
  return CallAndParse<std::vector<std::string>>(
      core_, BuildListUserPolicies(user_name),
      [](const XmlElement& x) { return ParseNameListResponse(x, "ListUserPolicies"); });
}

Task<Outcome<Empty>> IamClient::AttachUserPolicy(std::string user_name, std::string policy_arn) {
  return CallAndParse<Empty>(
      core_, BuildAttachUserPolicy(user_name, policy_arn),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "AttachUserPolicy"); });
}

Task<Outcome<Empty>> IamClient::DetachUserPolicy(std::string user_name, std::string policy_arn) {
  return CallAndParse<Empty>(
      core_, BuildDetachUserPolicy(user_name, policy_arn),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DetachUserPolicy"); });
}

Task<Outcome<std::vector<std::string>>> IamClient::ListAttachedUserPolicies(std::string user_name) {
  return CallAndParse<std::vector<std::string>>(
      core_, BuildListAttachedUserPolicies(user_name),
      [](const XmlElement& x) { return ParseNameListResponse(x, "ListAttachedUserPolicies"); });
}

Task<Outcome<Empty>> IamClient::AddUserToGroup(std::string group_name, std::string user_name) {
  return CallAndParse<Empty>(
      core_, BuildAddUserToGroup(group_name, user_name),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "AddUserToGroup"); });
}

Task<Outcome<Empty>> IamClient::RemoveUserFromGroup(std::string group_name, std::string user_name) {
  return CallAndParse<Empty>(
      core_, BuildRemoveUserFromGroup(group_name, user_name),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "RemoveUserFromGroup"); });
}

Task<Outcome<std::vector<std::string>>> IamClient::ListGroupsForUser(std::string user_name) {
  return CallAndParse<std::vector<std::string>>(
      core_, BuildListGroupsForUser(user_name),
      [](const XmlElement& x) { return ParseNameListResponse(x, "ListGroupsForUser"); });
}

Task<Outcome<AccessKey>> IamClient::CreateAccessKey(std::string user_name) {
  return CallAndParse<AccessKey>(core_, BuildCreateAccessKey(user_name), [](const XmlElement& x) {
    return ParseCreateAccessKeyResponse(x);
  });
}

Task<Outcome<Empty>> IamClient::DeleteAccessKey(std::string user_name, std::string access_key_id) {
  return CallAndParse<Empty>(
      core_, BuildDeleteAccessKey(user_name, access_key_id),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DeleteAccessKey"); });
}

Task<Outcome<std::vector<AccessKey>>> IamClient::ListAccessKeys(std::string user_name) {
  return CallAndParse<std::vector<AccessKey>>(
      core_, BuildListAccessKeys(user_name),
      [](const XmlElement& x) { return ParseListAccessKeysResponse(x); });
}

Task<Outcome<Empty>> IamClient::DeleteLoginProfile(std::string user_name) {
  return CallAndParse<Empty>(core_, BuildDeleteLoginProfile(user_name), [](const XmlElement& x) {
    return ParseEmptyResponse(x, "DeleteLoginProfile");
  });
}

Task<Outcome<std::vector<MfaDevice>>> IamClient::ListMFADevices(std::string user_name) {
  return CallAndParse<std::vector<MfaDevice>>(
      core_, BuildListMFADevices(user_name),
      [](const XmlElement& x) { return ParseListMFADevicesResponse(x); });
}

Task<Outcome<Empty>> IamClient::DeactivateMFADevice(std::string user_name,
                                                    std::string serial_number) {
  return CallAndParse<Empty>(
      core_, BuildDeactivateMFADevice(user_name, serial_number),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DeactivateMFADevice"); });
}

Task<Outcome<Empty>> IamClient::DeleteVirtualMFADevice(std::string serial_number) {
  return CallAndParse<Empty>(
      core_, BuildDeleteVirtualMFADevice(serial_number),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DeleteVirtualMFADevice"); });
}

Task<Outcome<std::vector<SigningCertificate>>> IamClient::ListSigningCertificates(
    std::string user_name) {
  return CallAndParse<std::vector<SigningCertificate>>(
      core_, BuildListSigningCertificates(user_name),
      [](const XmlElement& x) { return ParseListSigningCertificatesResponse(x); });
}

Task<Outcome<Empty>> IamClient::DeleteSigningCertificate(std::string user_name,
                                                         std::string certificate_id) {
  return CallAndParse<Empty>(
      core_, BuildDeleteSigningCertificate(user_name, certificate_id),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DeleteSigningCertificate"); });
}

Task<Outcome<std::vector<SshPublicKey>>> IamClient::ListSSHPublicKeys(std::string user_name) {
  return CallAndParse<std::vector<SshPublicKey>>(
      core_, BuildListSSHPublicKeys(user_name),
      [](const XmlElement& x) { return ParseListSSHPublicKeysResponse(x); });
}

Task<Outcome<Empty>> IamClient::DeleteSSHPublicKey(std::string user_name,
                                                   std::string ssh_public_key_id) {
  return CallAndParse<Empty>(
      core_, BuildDeleteSSHPublicKey(user_name, ssh_public_key_id),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DeleteSSHPublicKey"); });
}

Task<Outcome<std::vector<ServiceSpecificCredential>>> IamClient::ListServiceSpecificCredentials(
    std::string user_name) {
  return CallAndParse<std::vector<ServiceSpecificCredential>>(
      core_, BuildListServiceSpecificCredentials(user_name),
      [](const XmlElement& x) { return ParseListServiceSpecificCredentialsResponse(x); });
}

Task<Outcome<Empty>> IamClient::DeleteServiceSpecificCredential(
    std::string user_name, std::string service_specific_credential_id) {
  return CallAndParse<Empty>(
      core_, BuildDeleteServiceSpecificCredential(user_name, service_specific_credential_id),
      [](const XmlElement& x) { return ParseEmptyResponse(x, "DeleteServiceSpecificCredential"); });
}

Task<Outcome<std::vector<std::string>>> IamClient::ListAttachedGroupPolicies(
    std::string group_name) {
  return CallAndParse<std::vector<std::string>>(
      core_, BuildListAttachedGroupPolicies(group_name),
      [](const XmlElement& x) { return ParseNameListResponse(x, "ListAttachedGroupPolicies"); });
}

Task<Outcome<std::vector<std::string>>> IamClient::ListGroupPolicies(std::string group_name) {
  return CallAndParse<std::vector<std::string>>(
      core_, BuildListGroupPolicies(group_name),
      [](const XmlElement& x) { return ParseNameListResponse(x, "ListGroupPolicies"); });
}

Task<Outcome<std::string>> IamClient::GetGroupPolicy(std::string group_name,
                                                     std::string policy_name) {
  return CallAndParse<std::string>(
      core_, BuildGetGroupPolicy(group_name, policy_name),
      [](const XmlElement& x) { return ParseGetGroupPolicyResponse(x); });
}

// ---- StsClient ----

Task<Outcome<TemporaryCredentials>> StsClient::AssumeRole(AssumeRoleInput in) {
  return CallAndParse<TemporaryCredentials>(core_, BuildAssumeRole(in), [](const XmlElement& x) {
    return ParseCredentialsResponse(x, "AssumeRole");
  });
}

Task<Outcome<TemporaryCredentials>> StsClient::GetFederationToken(GetFederationTokenInput in) {
  return CallAndParse<TemporaryCredentials>(
      core_, BuildGetFederationToken(in),
      [](const XmlElement& x) { return ParseCredentialsResponse(x, "GetFederationToken"); });
}

Task<Outcome<TemporaryCredentials>> StsClient::GetSessionToken(GetSessionTokenInput in) {
  return CallAndParse<TemporaryCredentials>(
      core_, BuildGetSessionToken(in),
      [](const XmlElement& x) { return ParseCredentialsResponse(x, "GetSessionToken"); });
}

Task<Outcome<CallerIdentity>> StsClient::GetCallerIdentity() {
  return CallAndParse<CallerIdentity>(core_, BuildGetCallerIdentity(), [](const XmlElement& x) {
    return ParseGetCallerIdentityResponse(x);
  });
}

// ---- configuration and factory ----

namespace {
QueryClientOptions CommonOptions(const ClientConfig& cfg) {
  QueryClientOptions o;
  o.credentials = cfg.credentials;
  o.retry.max_retries = cfg.max_retries >= 0 ? cfg.max_retries : 3;
  o.timeout_ms = cfg.timeout_ms > 0 ? cfg.timeout_ms : 30000;
  o.rate_limit = cfg.rate_limit > 0 ? cfg.rate_limit : 0;
  return o;
}
}  // namespace

QueryClientOptions IamOptions(const ClientConfig& cfg) {
  QueryClientOptions o = CommonOptions(cfg);
  o.service = "iam";
  std::string default_endpoint = "https://iam.amazonaws.com/";
  o.signing_region = "us-east-1";
  if (cfg.region.starts_with("us-gov-")) {
    default_endpoint = "https://iam.us-gov.amazonaws.com/";
    o.signing_region = "us-gov-west-1";
  } else if (cfg.region.starts_with("cn-")) {
    default_endpoint = "https://iam.cn-north-1.amazonaws.com.cn/";
    o.signing_region = "cn-north-1";
  }
  o.endpoint = NormalizeEndpoint(cfg.iam_endpoint.empty() ? default_endpoint : cfg.iam_endpoint);
  return o;
}

QueryClientOptions StsOptions(const ClientConfig& cfg) {
  QueryClientOptions o = CommonOptions(cfg);
  o.service = "sts";
  std::string region = !cfg.sts_region.empty() ? cfg.sts_region
                       : !cfg.region.empty()   ? cfg.region
                                               : "us-east-1";
  o.signing_region = region;
  std::string suffix = region.starts_with("cn-") ? ".amazonaws.com.cn/" : ".amazonaws.com/";
  o.endpoint = NormalizeEndpoint(cfg.sts_endpoint.empty() ? "https://sts." + region + suffix
                                                          : cfg.sts_endpoint);
  return o;
}

namespace {
class DefaultClientFactory final : public ClientFactory {
 public:
  explicit DefaultClientFactory(ClientDeps deps) : deps_(std::move(deps)) {}
  std::shared_ptr<IamApi> NewIam(const ClientConfig& cfg) override {
    return std::make_shared<IamClient>(std::make_shared<QueryClient>(IamOptions(cfg), deps_));
  }
  std::shared_ptr<StsApi> NewSts(const ClientConfig& cfg) override {
    return std::make_shared<StsClient>(std::make_shared<QueryClient>(StsOptions(cfg), deps_));
  }

 private:
  const ClientDeps deps_;
};
}  // namespace

std::shared_ptr<ClientFactory> NewClientFactory(ClientDeps deps) {
  return std::make_shared<DefaultClientFactory>(std::move(deps));
}

std::shared_ptr<ClientFactory> NewClientFactory(net::HttpClient* http, net::Timer* timer,
                                                Executor* completions, Clock* clock) {
  ClientDeps deps;
  deps.http = http;
  deps.timer = timer;
  deps.completions = completions;
  deps.clock = clock;
  return NewClientFactory(std::move(deps));
}

}  // namespace vault::aws
