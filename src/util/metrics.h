// Process metrics for sys/metrics: counters, summaries (count and sum of observations, in
// milliseconds as Vault reports timings) and gauges read at scrape time. Updating a metric is one
// or two relaxed atomic additions on a series found once (a function-local static at the call
// site): no lock on the request path. Series with labels (AWS calls by action and outcome) are
// looked up under a shared lock, created under an exclusive one the first time.
// Names are Vault's dotted names ("vault.core.handle_request"); the Prometheus text format turns
// the dots into underscores as go-metrics does.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "util/json.h"

namespace vault::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Summary {
 public:
  void Observe(double ms) {
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(static_cast<int64_t>(ms * 1000.0), std::memory_order_relaxed);
  }
  int64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_ms() const {
    return static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e3;
  }

 private:
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_us_{0};
};

// A latency histogram in milliseconds with fixed bucket bounds (kBoundsMs; the last bucket is
// +Inf): one relaxed addition per bucket counter, plus count and sum.
class Histogram {
 public:
  static constexpr double kBoundsMs[] = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  static constexpr size_t kBuckets = sizeof(kBoundsMs) / sizeof(kBoundsMs[0]);
  void Observe(double ms);
  // Observations <= kBoundsMs[i] (i < kBuckets; cumulative, as Prometheus reports them).
  int64_t cumulative(size_t i) const;
  int64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_ms() const {
    return static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e3;
  }

 private:
  std::atomic<int64_t> buckets_[kBuckets] = {};  // per bucket, not cumulative
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_us_{0};
};

// Measures from construction to destruction into a summary.
class Timer {
 public:
  explicit Timer(Summary* s);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

 private:
  Summary* s_;
  int64_t start_ns_;
};

class Registry {
 public:
  // The process's registry.
  static Registry& Get();

  // The series of this name and labels, created on first use; the pointer stays valid.
  Counter* GetCounter(const std::string& name, const Labels& labels = {});
  Summary* GetSummary(const std::string& name, const Labels& labels = {});
  Histogram* GetHistogram(const std::string& name, const Labels& labels = {});
  // A gauge computed when scraped. Registering the same name and labels again replaces it.
  void SetGauge(const std::string& name, const Labels& labels, std::function<double()> fn);
  // Removes the gauges whose name starts with prefix (their owner is going away).
  void RemoveGauges(const std::string& prefix);

  // go-metrics' EnableHostname: gauge names get this host inserted after their first part
  // ("vault.core.unsealed" -> "vault.<host>.core.unsealed"); empty = not (disable_hostname).
  void SetGaugeHostname(std::string host);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Prometheus() const;
  // go-metrics' JSON summary: {"Timestamp", "Gauges", "Points", "Counters", "Samples"}.
  Json ToJson(int64_t now_unix_nanos) const;

 private:
  using Key = std::pair<std::string, Labels>;
  mutable std::shared_mutex mu_;
  std::map<Key, std::unique_ptr<Counter>> counters_;
  std::map<Key, std::unique_ptr<Summary>> summaries_;
  std::map<Key, std::unique_ptr<Histogram>> histograms_;
  std::map<Key, std::function<double()>> gauges_;
  std::string gauge_host_;
  std::string GaugeName(const std::string& name) const;
};

// "vault.core.handle_request" -> "vault_core_handle_request" (and ' ', '-', '=', '/' -> '_').
std::string PrometheusName(const std::string& name);

// Vault's creation_ttl label: the first of 1m, 10m, 20m, 1h, 2h, 1d, 2d, 7d, 30d at or above
// the TTL (seconds), else (and for 0, no expiry) "+Inf".
std::string CreationTtlBucket(int64_t ttl_seconds);

// A monotonic clock reading in nanoseconds, for timing observations.
int64_t MonotonicNanosNow();

}  // namespace vault::metrics
