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
  // A gauge computed when scraped. Registering the same name and labels again replaces it.
  void SetGauge(const std::string& name, const Labels& labels, std::function<double()> fn);
  // Removes the gauges whose name starts with prefix (their owner is going away).
  void RemoveGauges(const std::string& prefix);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Prometheus() const;
  // go-metrics' JSON summary: {"Timestamp", "Gauges", "Points", "Counters", "Samples"}.
  Json ToJson(int64_t now_unix_nanos) const;

 private:
  using Key = std::pair<std::string, Labels>;
  mutable std::shared_mutex mu_;
  std::map<Key, std::unique_ptr<Counter>> counters_;
  std::map<Key, std::unique_ptr<Summary>> summaries_;
  std::map<Key, std::function<double()>> gauges_;
};

// "vault.core.handle_request" -> "vault_core_handle_request" (and ' ', '-', '=', '/' -> '_').
std::string PrometheusName(const std::string& name);

}  // namespace vault::metrics
