#include "core/quotas.h"

#include <algorithm>
#include <cmath>

#include "core/acl.h"
#include "util/duration.h"
#include "util/strings.h"

namespace vault::core {
namespace {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

constexpr char kQuotaPrefix[] = "sys/quotas/rate-limit/";
constexpr char kConfigPath[] = "sys/quotas/config";

// Vault's default rate_limit_exempt_paths, plus step-down (an operator must always be able to
// move the active node).
const std::vector<std::string> kAlwaysExempt = {"sys/health",
                                                "sys/seal-status",
                                                "sys/unseal",
                                                "sys/step-down",
                                                "sys/generate-root/attempt",
                                                "sys/generate-root/update",
                                                "sys/generate-recovery-token/attempt",
                                                "sys/generate-recovery-token/update"};

Json QuotaToJson(const RateLimitQuota& q) {
  return {{"name", q.name},
          {"path", q.path},
          {"type", "rate-limit"},
          {"rate", q.rate},
          {"interval", q.interval_ms / 1000},
          {"block_interval", q.block_interval_ms / 1000},
          {"role", ""},
          {"inheritable", false}};
}

RateLimitQuota QuotaFromJson(const Json& j) {
  RateLimitQuota q;
  q.name = j.value("name", "");
  q.path = j.value("path", "");
  q.rate = j.value("rate", 0.0);
  q.interval_ms = j.value("interval", int64_t{1}) * 1000;
  q.block_interval_ms = j.value("block_interval", int64_t{0}) * 1000;
  return q;
}

}  // namespace

Task<Status> QuotaManager::Load() {
  CO_ASSIGN_OR_RETURN(auto names, co_await barrier_->List(kQuotaPrefix));
  std::vector<RateLimitQuota> loaded;
  for (const auto& n : names) {
    CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(barrier_, kQuotaPrefix + n));
    if (j) loaded.push_back(QuotaFromJson(*j));
  }
  CO_ASSIGN_OR_RETURN(auto cfg, co_await logical::GetJson(barrier_, kConfigPath));
  std::unique_lock lock(mu_);
  quotas_.clear();
  exempt_ = cfg ? cfg->value("rate_limit_exempt_paths", std::vector<std::string>{})
                : std::vector<std::string>{};
  lock.unlock();
  for (const auto& q : loaded) Install(q);
  co_return Status::Ok();
}

void QuotaManager::Unload() {
  std::unique_lock lock(mu_);
  quotas_.clear();
  any_ = false;
}

void QuotaManager::Install(const RateLimitQuota& q) {
  auto live = std::make_shared<Live>();
  live->quota = q;
  std::unique_lock lock(mu_);
  quotas_[q.name] = std::move(live);
  any_ = !quotas_.empty();
}

bool QuotaManager::Exempt(const std::string& path) const {
  for (const auto& p : kAlwaysExempt) {
    if (path == p) return true;
  }
  std::shared_lock lock(mu_);
  for (const auto& p : exempt_) {
    std::string prefix = p;
    while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
    if (!prefix.empty() && path.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

std::optional<int64_t> QuotaManager::Check(const std::string& path, const std::string& address) {
  if (!any_.load(std::memory_order_relaxed)) return std::nullopt;
  if (Exempt(path)) return std::nullopt;
  // The most specific quota: the longest matching path ("" matches everything).
  std::shared_ptr<Live> best;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, live] : quotas_) {
      const std::string& qp = live->quota.path;
      bool match = qp.empty() || path.compare(0, qp.size(), qp) == 0 ||
                   (qp.back() == '/' && path + "/" == qp);
      if (!match) continue;
      if (!best || qp.size() > best->quota.path.size()) best = live;
    }
  }
  if (!best || best->quota.rate <= 0) return std::nullopt;
  const RateLimitQuota& q = best->quota;
  const int64_t now = clock_->NowNanos() / 1000000;
  std::lock_guard lock(best->mu);
  if (best->buckets.size() > 100000) best->buckets.clear();  // bounded memory under a flood
  Bucket& b = best->buckets[address];
  if (b.last_ms == 0) {
    b.tokens = q.rate;
    b.last_ms = now;
  }
  if (b.blocked_until_ms > now) return (b.blocked_until_ms - now + 999) / 1000;
  // Token bucket: `rate` tokens per interval, at most `rate` saved up.
  b.tokens = std::min(q.rate, b.tokens + (now - b.last_ms) * q.rate / q.interval_ms);
  b.last_ms = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  if (q.block_interval_ms > 0) {
    b.blocked_until_ms = now + q.block_interval_ms;
    return (q.block_interval_ms + 999) / 1000;
  }
  double wait_ms = (1 - b.tokens) * q.interval_ms / q.rate;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms / 1000)));
}

Task<Status> QuotaManager::Persist(const RateLimitQuota& q) {
  Status st = co_await logical::PutJson(barrier_, kQuotaPrefix + q.name, QuotaToJson(q));
  co_return st;
}

std::vector<logical::Path> QuotaManager::Paths() {
  Path config;
  config.pattern = "quotas/config";
  config.synopsis = "Create, update and read the quota configuration.";
  config.fields = {
      {"rate_limit_exempt_paths", FieldType::kCommaStringSlice,
       "Paths (prefixes) no rate-limit quota applies to."},
      {"enable_rate_limit_audit_logging", FieldType::kBool, "Not supported."},
      {"enable_rate_limit_response_headers", FieldType::kBool, "Not supported."},
  };
  config.operations[Operation::kRead] = [this](Request&, const FieldData&) -> Result<Response> {
    std::shared_lock lock(mu_);
    std::vector<std::string> exempt = kAlwaysExempt;
    for (const auto& p : exempt_) exempt.push_back(p);
    return Response::WithData({{"rate_limit_exempt_paths", exempt},
                               {"enable_rate_limit_audit_logging", false},
                               {"enable_rate_limit_response_headers", false}});
  };
  config.async_operations[Operation::kUpdate] =
      [this](Request&, const FieldData& d) -> Task<Result<Response>> {
    if (d.GetBool("enable_rate_limit_audit_logging") ||
        d.GetBool("enable_rate_limit_response_headers"))
      co_return InvalidArgument(
          "enable_rate_limit_audit_logging and enable_rate_limit_response_headers are not "
          "supported by this server");
    std::vector<std::string> exempt;
    for (const auto& p : d.GetStrings("rate_limit_exempt_paths")) {
      std::string t = Trim(p);
      if (std::find(kAlwaysExempt.begin(), kAlwaysExempt.end(), t) == kAlwaysExempt.end())
        exempt.push_back(t);
    }
    Json stored = {{"rate_limit_exempt_paths", exempt}};
    CO_RETURN_IF_ERROR(co_await logical::PutJson(barrier_, kConfigPath, stored));
    std::unique_lock lock(mu_);
    exempt_ = std::move(exempt);
    co_return Response();
  };

  Path list;
  list.pattern = "quotas/rate-limit/?";
  list.synopsis = "Lists the rate-limit quotas.";
  list.operations[Operation::kList] = [this](Request&, const FieldData&) -> Result<Response> {
    std::shared_lock lock(mu_);
    std::vector<std::string> keys;
    for (const auto& [name, live] : quotas_) keys.push_back(name);
    if (keys.empty()) return Response();
    return Response::WithData({{"keys", keys}});
  };

  Path quota;
  quota.pattern = "quotas/rate-limit/(?P<name>\\w(([\\w\\-.]+)?\\w)?)";
  quota.synopsis = "Create, update, read and delete a rate-limit quota.";
  quota.fields = {
      {"name", FieldType::kString, "The name of the quota."},
      {"type", FieldType::kString, "rate-limit"},
      {"path", FieldType::kString,
       "Path of the mount or a path under it the quota applies to; empty: every request."},
      {"rate", FieldType::kString, "Requests allowed per interval (per client address)."},
      {"interval", FieldType::kDurationSecond, "The window of the rate (default 1s)."},
      {"block_interval", FieldType::kDurationSecond,
       "How long a client over the rate is refused (0: until it is under the rate again)."},
      {"role", FieldType::kString, "Not supported."},
      {"inheritable", FieldType::kBool, "Not supported."},
  };
  quota.operations[Operation::kRead] = [this](Request&, const FieldData& d) -> Result<Response> {
    std::shared_lock lock(mu_);
    auto it = quotas_.find(d.GetString("name"));
    if (it == quotas_.end()) return Response();
    return Response::WithData(QuotaToJson(it->second->quota));
  };
  auto write = [this](Request& r, const FieldData& d) -> Task<Result<Response>> {
    RateLimitQuota q;
    q.name = d.GetString("name");
    {
      std::shared_lock lock(mu_);
      if (auto it = quotas_.find(q.name); it != quotas_.end()) q = it->second->quota;
    }
    if (d.Has("role") && !d.GetString("role").empty())
      co_return InvalidArgument("role-based quotas are not supported by this server");
    if (d.GetBool("inheritable"))
      co_return InvalidArgument("inheritable quotas are not supported by this server");
    if (d.Has("type") && d.GetString("type") != "rate-limit")
      co_return InvalidArgument("unsupported quota type \"" + d.GetString("type") + "\"");
    if (d.Has("path")) {
      std::string p = Trim(d.GetString("path"));
      while (!p.empty() && p.front() == '/') p.erase(0, 1);
      q.path = p;
    }
    if (d.Has("rate")) {
      Json raw = d.raw()["rate"];
      double rate = raw.is_number() ? raw.get<double>() : std::atof(d.GetString("rate").c_str());
      if (!(rate > 0)) co_return InvalidArgument("invalid rate: must be positive");
      q.rate = rate;
    } else if (q.rate <= 0) {
      co_return InvalidArgument("missing rate");
    }
    if (d.Has("interval")) q.interval_ms = std::max<int64_t>(1, d.GetInt("interval")) * 1000;
    if (d.Has("block_interval")) q.block_interval_ms = d.GetInt("block_interval") * 1000;
    {
      std::shared_lock lock(mu_);
      for (const auto& [name, live] : quotas_) {
        if (name != q.name && live->quota.path == q.path)
          co_return InvalidArgument("quota with the same path \"" + q.path +
                                    "\" already exists: " + name);
      }
    }
    (void)r;
    CO_RETURN_IF_ERROR(co_await Persist(q));
    Install(q);
    co_return Response();
  };
  quota.async_operations[Operation::kUpdate] = write;
  quota.async_operations[Operation::kCreate] = write;
  quota.async_operations[Operation::kDelete] =
      [this](Request&, const FieldData& d) -> Task<Result<Response>> {
    std::string name = d.GetString("name");
    CO_RETURN_IF_ERROR(co_await barrier_->Delete(kQuotaPrefix + name));
    std::unique_lock lock(mu_);
    quotas_.erase(name);
    any_ = !quotas_.empty();
    co_return Response();
  };
  return {config, list, quota};
}

}  // namespace vault::core
