// sys/metrics: the process's metrics (util/metrics.h) as go-metrics' JSON summary, or in the
// Prometheus text format with ?format=prometheus. A token needs read on sys/metrics (unless the
// listener's telemetry block allows unauthenticated access: the HTTP layer then calls
// RenderMetrics itself). Core's gauges (seal state, leases) are read when scraped; counters and
// summaries are updated where the work happens, without a lock; usage gauges (token counts) are
// collected by the background pass every usage_gauge_period.
#include "util/metrics.h"

#include <unistd.h>

#include <climits>

#include "core/core.h"
#include "util/log.h"

namespace vault::core {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

namespace {
std::string HostName() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}
}  // namespace

void Core::RegisterGauges() {
  auto& reg = metrics::Registry::Get();
  reg.SetGaugeHostname(config_.telemetry.disable_hostname ? "" : HostName());
  const metrics::Labels cluster = {{"cluster", "vault-cluster-cpp"}};
  reg.SetGauge("vault.core.unsealed", cluster, [this] { return barrier_.Sealed() ? 0.0 : 1.0; });
  reg.SetGauge("vault.core.active", cluster, [this] { return active_.load() ? 1.0 : 0.0; });
  reg.SetGauge("vault.core.in_flight_requests", {},
               [this] { return static_cast<double>(in_flight_.load()); });
  // Leases, by state (the expiration manager's own counts; no storage read).
  reg.SetGauge("vault.expire.num_leases", {},
               [this] { return static_cast<double>(expiration_->GetStats().leases); });
  reg.SetGauge("vault.expire.num_irrevocable_leases", {},
               [this] { return static_cast<double>(expiration_->GetStats().irrevocable); });
  reg.SetGauge("vault.expire.pending_timers", {},
               [this] { return static_cast<double>(expiration_->GetStats().pending); });
  reg.SetGauge("vault.expire.revocations_in_flight", {},
               [this] { return static_cast<double>(expiration_->GetStats().inflight); });
  reg.SetGauge("vault.expire.revoked", {},
               [this] { return static_cast<double>(expiration_->GetStats().revoked); });
  reg.SetGauge("vault.expire.failed_revocation_attempts", {},
               [this] { return static_cast<double>(expiration_->GetStats().failed_attempts); });
  reg.SetGauge("vault.barrier.estimated_encryptions", {}, [this] {
    auto ks = barrier_.ActiveKeyStatus();
    return ks.ok() ? static_cast<double>(ks->encryptions) : 0.0;
  });
  // Usage gauges: the last collection (absent until the first one).
  if (config_.telemetry.usage_gauge_period_ms > 0) {
    reg.SetGauge("vault.token.count", {{"namespace", "root"}},
                 [this] { return static_cast<double>(std::max<int64_t>(0, usage_token_count_)); });
  }
}

void Core::UnregisterGauges() {
  auto& reg = metrics::Registry::Get();
  reg.RemoveGauges("vault.core.");
  reg.RemoveGauges("vault.expire.");
  reg.RemoveGauges("vault.token.count");
  reg.RemoveGauges("vault.rollback.wal_entries");
  reg.RemoveGauges("vault.barrier.estimated_encryptions");
}

void Core::CollectUsageGauges() {
  if (!active_) return;
  // The background pass's own thread: it may wait for the listing.
  auto n = SyncWait(tokens_.Count());
  if (!n.ok()) {
    spdlog::warn("core: counting tokens for vault.token.count failed: {}", n.status().message());
    return;
  }
  usage_token_count_ = *n;
}

void Core::RefreshMountGauges() {
  auto& reg = metrics::Registry::Get();
  // Leases by mount and state: the expiration manager counts per lease path; each path belongs
  // to the mount that routes it.
  std::map<std::string, std::pair<int64_t, int64_t>> by_mount;  // mount -> (stored, irrevocable)
  for (const auto& c : expiration_->LeaseCountsByPath()) {
    auto m = c.path.empty() ? nullptr : router_.Route(c.path);
    auto& slot = by_mount[m ? m->entry.path : std::string("unknown/")];
    slot.first += c.leases;
    slot.second += c.irrevocable;
  }
  reg.RemoveGauges("vault.expire.leases.by_mount");
  for (const auto& [mount, n] : by_mount) {
    const double active = static_cast<double>(n.first - n.second);
    const double irrevocable = static_cast<double>(n.second);
    reg.SetGauge("vault.expire.leases.by_mount", {{"mount_point", mount}, {"state", "active"}},
                 [active] { return active; });
    reg.SetGauge("vault.expire.leases.by_mount", {{"mount_point", mount}, {"state", "irrevocable"}},
                 [irrevocable] { return irrevocable; });
  }
  reg.RemoveGauges("vault.rollback.wal_entries");
  std::lock_guard lock(wal_counts_mu_);
  for (const auto& [mount, n] : wal_counts_) {
    const double v = static_cast<double>(n);
    reg.SetGauge("vault.rollback.wal_entries", {{"mount_point", mount}}, [v] { return v; });
  }
}

Result<std::pair<std::string, std::string>> Core::RenderMetrics(const std::string& format) {
  if (format == "prometheus") {
    if (config_.telemetry.prometheus_retention_s <= 0)
      return InvalidArgument("prometheus is not enabled");
    if (active_) RefreshMountGauges();
    return std::make_pair(metrics::Registry::Get().Prometheus(),
                          std::string("text/plain; version=0.0.4"));
  }
  if (format.empty() || format == "json") {
    if (active_) RefreshMountGauges();
    return std::make_pair(DumpJson(metrics::Registry::Get().ToJson(clock_->NowNanos())),
                          std::string("application/json"));
  }
  return InvalidArgument("metric response format \"" + format + "\" unknown");
}

namespace {
// sys/leases/count and sys/leases answer about irrevocable leases only (Vault's rule).
Status CheckLeaseType(const FieldData& d) {
  if (d.GetString("type") != "irrevocable")
    return NotFound("lease type \"" + d.GetString("type") + "\" unknown: only irrevocable");
  return Status::Ok();
}
}  // namespace

std::vector<Path> Core::MetricsPaths() {
  std::vector<Path> out;
  // The accessor of the mount a lease path belongs to.
  auto accessor_of = [this](const std::string& lease_path) -> std::string {
    auto m = lease_path.empty() ? nullptr : router_.Route(lease_path);
    return m ? m->entry.accessor : "";
  };
  Path count;
  count.pattern = "leases/count";
  count.synopsis = "Count of leases associated with this Vault cluster";
  count.fields = {{"type", FieldType::kString, "Type of leases to get counts for."},
                  {"include_child_namespaces", FieldType::kBool,
                   "Set true if the counts should include child namespaces (one namespace here)."}};
  count.operations[Operation::kRead] = [this, accessor_of](Request&,
                                                           const FieldData& d) -> Result<Response> {
    RETURN_IF_ERROR(CheckLeaseType(d));
    Json counts = Json::object();
    int64_t total = 0;
    for (const auto& c : expiration_->LeaseCountsByPath()) {
      if (c.irrevocable == 0) continue;
      std::string accessor = accessor_of(c.path);
      counts[accessor] = counts.value(accessor, int64_t{0}) + c.irrevocable;
      total += c.irrevocable;
    }
    return Response::WithData({{"lease_count", total}, {"counts", counts}});
  };
  out.push_back(count);

  Path list;
  list.pattern = "leases";
  list.synopsis = "List leases associated with this Vault cluster";
  list.fields = {{"type", FieldType::kString, "Type of leases to retrieve."},
                 {"include_child_namespaces", FieldType::kBool,
                  "Set true if the list should include child namespaces (one namespace here)."},
                 {"limit", FieldType::kString,
                  "How many leases to list at most: a positive number, or \"none\" (10000 by "
                  "default)."}};
  list.async_operations[Operation::kRead] =
      [this, accessor_of](Request&, const FieldData& d) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(CheckLeaseType(d));
    constexpr int64_t kDefaultLimit = 10000;
    int64_t limit = kDefaultLimit;
    const std::string limit_text = d.GetString("limit");
    if (limit_text == "none") {
      limit = 0;
    } else if (!limit_text.empty()) {
      bool digits =
          limit_text.size() < 12 && limit_text.find_first_not_of("0123456789") == std::string::npos;
      limit = digits ? std::stoll(limit_text) : 0;
      if (limit <= 0) co_return InvalidArgument("limit must be 'none' or a positive integer");
    }
    CO_ASSIGN_OR_RETURN(auto listed, co_await expiration_->ListIrrevocable(limit));
    Json leases = Json::array();
    for (const auto& e : listed.first) {
      leases.push_back(
          {{"lease_id", e.lease_id}, {"mount_id", accessor_of(e.path)}, {"error", e.revoke_error}});
    }
    Response r = Response::WithData({{"lease_count", listed.second}, {"leases", leases}});
    if (limit == kDefaultLimit && listed.second > limit && limit_text.empty()) {
      r.warnings.push_back(
          "Command halted because many irrevocable leases were found. To emit the entire list, "
          "re-run the command with limit set to \"none\".");
    }
    co_return r;
  };
  out.push_back(list);

  Path p;
  p.pattern = "metrics";
  p.synopsis = "Export the metrics aggregated for telemetry purpose.";
  p.fields = {{"format", FieldType::kString,
               "Format to export metrics into: \"prometheus\", or empty for JSON."}};
  p.operations[Operation::kRead] = [this](Request&, const FieldData& d) -> Result<Response> {
    ASSIGN_OR_RETURN(auto rendered, RenderMetrics(d.GetString("format")));
    Response r;
    r.raw_body = std::move(rendered.first);
    if (rendered.second != "application/json") r.raw_content_type = std::move(rendered.second);
    return r;
  };
  out.push_back(p);
  return out;
}

}  // namespace vault::core
