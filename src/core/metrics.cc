// sys/metrics: the process's metrics (util/metrics.h) as go-metrics' JSON summary, or in the
// Prometheus text format with ?format=prometheus. A token needs read on sys/metrics. Core's
// gauges (seal state, leases) are read when scraped; counters and summaries are updated where
// the work happens, without a lock.
#include "util/metrics.h"

#include "core/core.h"

namespace vault::core {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

void Core::RegisterGauges() {
  auto& reg = metrics::Registry::Get();
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
}

void Core::UnregisterGauges() {
  auto& reg = metrics::Registry::Get();
  reg.RemoveGauges("vault.core.");
  reg.RemoveGauges("vault.expire.");
  reg.RemoveGauges("vault.barrier.estimated_encryptions");
}

std::vector<Path> Core::MetricsPaths() {
  Path p;
  p.pattern = "metrics";
  p.synopsis = "Export the metrics aggregated for telemetry purpose.";
  p.fields = {{"format", FieldType::kString,
               "Format to export metrics into: \"prometheus\", or empty for JSON."}};
  p.operations[Operation::kRead] = [this](Request&, const FieldData& d) -> Result<Response> {
    const std::string format = d.GetString("format");
    Response r;
    if (format == "prometheus") {
      r.raw_body = metrics::Registry::Get().Prometheus();
      r.raw_content_type = "text/plain; version=0.0.4";
    } else if (format.empty() || format == "json") {
      r.raw_body = DumpJson(metrics::Registry::Get().ToJson(clock_->NowNanos()));
    } else {
      return InvalidArgument("metric response format \"" + format + "\" unknown");
    }
    return r;
  };
  return {p};
}

}  // namespace vault::core
