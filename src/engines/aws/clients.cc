// The AWS engine's clients: built through the factory from config/root and kept while the stored
// config/root is unchanged (one client, and so one rate limit, per configuration and mount).
#include <cstdlib>

#include "engines/aws/backend.h"

namespace vault::engines::awsengine {

namespace awsapi = ::vault::aws;

namespace {

std::string EnvOr(const char* a, const char* b, const char* fallback) {
  for (const char* name : {a, b}) {
    const char* v = std::getenv(name);
    if (v && *v) return v;
  }
  return fallback;
}

}  // namespace

awsapi::ClientConfig AwsBackend::BaseClientConfig(const RootConfig& cfg) const {
  awsapi::ClientConfig cc;
  cc.credentials.access_key_id = cfg.access_key;
  cc.credentials.secret_access_key = cfg.secret_key;
  cc.region =
      cfg.region.empty() ? EnvOr("AWS_REGION", "AWS_DEFAULT_REGION", "us-east-1") : cfg.region;
  cc.iam_endpoint = cfg.iam_endpoint;
  cc.sts_endpoint = cfg.sts_endpoint;
  // As in Vault, sts_region only applies to an explicit sts_endpoint.
  cc.sts_region = cfg.sts_endpoint.empty() ? "" : cfg.sts_region;
  cc.max_retries = static_cast<int>(cfg.max_retries);
  cc.rate_limit = static_cast<double>(cfg.max_calls_per_second);
  return cc;
}

std::vector<awsapi::ClientConfig> AwsBackend::StsCandidates(const RootConfig& cfg) const {
  std::vector<awsapi::ClientConfig> out{BaseClientConfig(cfg)};
  if (cfg.sts_endpoint.empty()) return out;  // fallbacks only apply with an explicit endpoint
  for (size_t i = 0; i < cfg.sts_fallback_endpoints.size() && i < cfg.sts_fallback_regions.size();
       ++i) {
    awsapi::ClientConfig cc = BaseClientConfig(cfg);
    cc.sts_endpoint = cfg.sts_fallback_endpoints[i];
    cc.sts_region = cfg.sts_fallback_regions[i];
    out.push_back(std::move(cc));
  }
  return out;
}

Task<Result<std::shared_ptr<awsapi::IamApi>>> AwsBackend::IamClient(logical::Storage* s) {
  std::string raw;
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> cfg, co_await LoadConfig(s, &raw));
  co_return IamClient(cfg.value_or(RootConfig{}), raw);
}

Result<std::shared_ptr<awsapi::IamApi>> AwsBackend::IamClient(const RootConfig& cfg,
                                                              const std::string& raw) {
  {
    std::lock_guard lock(mu_);
    if (iam_ && iam_key_ == raw) return iam_;
  }
  auto client = factory_->NewIam(BaseClientConfig(cfg));
  if (!client) return Internal("could not create an IAM client");
  std::lock_guard lock(mu_);
  // Concurrent first requests after a change each built one: the first to get here wins and the
  // others use it, so the mount keeps one client and one rate limit per configuration.
  if (iam_ && iam_key_ == raw) return iam_;
  iam_ = client;
  iam_key_ = raw;
  return client;
}

Task<Result<AwsBackend::StsHandle>> AwsBackend::StsClient(logical::Storage* s) {
  std::string raw;
  CO_ASSIGN_OR_RETURN(std::optional<RootConfig> cfg, co_await LoadConfig(s, &raw));
  {
    std::lock_guard lock(mu_);
    if (sts_ && sts_key_ == raw) co_return *sts_;
  }
  std::vector<awsapi::ClientConfig> candidates = StsCandidates(cfg.value_or(RootConfig{}));
  std::optional<StsHandle> chosen;
  std::string last_error;
  if (candidates.size() == 1) {
    chosen = StsHandle{factory_->NewSts(candidates[0]), candidates[0]};
  } else {
    // With fallbacks, the first endpoint that answers sts:GetCallerIdentity wins (as Vault).
    for (auto& cc : candidates) {
      std::shared_ptr<awsapi::StsApi> client = factory_->NewSts(cc);
      if (!client) continue;
      auto probe = co_await client->GetCallerIdentity();
      if (probe.ok()) {
        chosen = StsHandle{client, cc};
        break;
      }
      last_error = probe.error().ToString();
    }
  }
  if (!chosen || !chosen->client)
    co_return Upstream("could not obtain sts client" +
                       (last_error.empty() ? std::string() : ": " + last_error));
  std::lock_guard lock(mu_);
  if (sts_ && sts_key_ == raw) co_return *sts_;  // a concurrent request got here first (as IAM)
  sts_ = *chosen;
  sts_key_ = raw;
  co_return *chosen;
}

}  // namespace vault::engines::awsengine
