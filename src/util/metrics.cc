#include "util/metrics.h"

#include <chrono>
#include <cmath>
#include <mutex>
#include <sstream>

#include "util/clock.h"

namespace vault::metrics {
namespace {

int64_t MonoNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string LabelText(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += PrometheusName(labels[i].first) + "=\"" + EscapeLabel(labels[i].second) + "\"";
  }
  return out + "}";
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

Json LabelsJson(const Labels& labels) {
  Json out = Json::object();
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

}  // namespace

int64_t MonotonicNanosNow() { return MonoNanos(); }

std::string CreationTtlBucket(int64_t ttl_seconds) {
  static const std::pair<int64_t, const char*> kBuckets[] = {
      {60, "1m"},    {600, "10m"},   {1200, "20m"},  {3600, "1h"},    {7200, "2h"},
      {86400, "1d"}, {172800, "2d"}, {604800, "7d"}, {2592000, "30d"}};
  if (ttl_seconds <= 0) return "+Inf";
  for (const auto& [limit, name] : kBuckets)
    if (ttl_seconds <= limit) return name;
  return "+Inf";
}

void Histogram::Observe(double ms) {
  size_t i = 0;
  while (i < kBuckets && ms > kBoundsMs[i]) ++i;
  if (i < kBuckets) buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<int64_t>(ms * 1000.0), std::memory_order_relaxed);
}

int64_t Histogram::cumulative(size_t i) const {
  int64_t n = 0;
  for (size_t j = 0; j <= i && j < kBuckets; ++j) n += buckets_[j].load(std::memory_order_relaxed);
  return n;
}

Timer::Timer(Summary* s) : s_(s), start_ns_(MonoNanos()) {}
Timer::~Timer() { s_->Observe(static_cast<double>(MonoNanos() - start_ns_) / 1e6); }

Registry& Registry::Get() {
  static Registry* r = new Registry();  // never destroyed: series outlive every user
  return *r;
}

std::string PrometheusName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == '.' || c == ' ' || c == '-' || c == '=' || c == '/') c = '_';
  }
  return out;
}

Counter* Registry::GetCounter(const std::string& name, const Labels& labels) {
  Key key{name, labels};
  {
    std::shared_lock lock(mu_);
    if (auto it = counters_.find(key); it != counters_.end()) return it->second.get();
  }
  std::unique_lock lock(mu_);
  auto& slot = counters_[key];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Summary* Registry::GetSummary(const std::string& name, const Labels& labels) {
  Key key{name, labels};
  {
    std::shared_lock lock(mu_);
    if (auto it = summaries_.find(key); it != summaries_.end()) return it->second.get();
  }
  std::unique_lock lock(mu_);
  auto& slot = summaries_[key];
  if (!slot) slot = std::make_unique<Summary>();
  return slot.get();
}

Histogram* Registry::GetHistogram(const std::string& name, const Labels& labels) {
  Key key{name, labels};
  {
    std::shared_lock lock(mu_);
    if (auto it = histograms_.find(key); it != histograms_.end()) return it->second.get();
  }
  std::unique_lock lock(mu_);
  auto& slot = histograms_[key];
  if (!slot) slot = std::make_unique<Histogram>();
  return slot.get();
}

void Registry::SetGaugeHostname(std::string host) {
  std::unique_lock lock(mu_);
  gauge_host_ = std::move(host);
}

std::string Registry::GaugeName(const std::string& name) const {
  if (gauge_host_.empty()) return name;
  auto dot = name.find('.');
  if (dot == std::string::npos) return gauge_host_ + "." + name;
  return name.substr(0, dot + 1) + gauge_host_ + name.substr(dot);
}

void Registry::SetGauge(const std::string& name, const Labels& labels, std::function<double()> fn) {
  std::unique_lock lock(mu_);
  gauges_[Key{name, labels}] = std::move(fn);
}

void Registry::RemoveGauges(const std::string& prefix) {
  std::unique_lock lock(mu_);
  for (auto it = gauges_.begin(); it != gauges_.end();) {
    if (it->first.first.compare(0, prefix.size(), prefix) == 0) {
      it = gauges_.erase(it);
    } else {
      ++it;
    }
  }
}

std::string Registry::Prometheus() const {
  std::shared_lock lock(mu_);
  std::string out;
  std::string last;
  auto header = [&](const std::string& name, const char* type) {
    if (name == last) return;
    last = name;
    out += "# HELP " + name + " " + name + "\n# TYPE " + name + " " + type + "\n";
  };
  for (const auto& [key, fn] : gauges_) {
    std::string name = PrometheusName(GaugeName(key.first));
    header(name, "gauge");
    out += name + LabelText(key.second) + " " + Number(fn()) + "\n";
  }
  for (const auto& [key, c] : counters_) {
    std::string name = PrometheusName(key.first);
    header(name, "counter");
    out += name + LabelText(key.second) + " " + std::to_string(c->value()) + "\n";
  }
  for (const auto& [key, s] : summaries_) {
    std::string name = PrometheusName(key.first);
    header(name, "summary");
    std::string labels = LabelText(key.second);
    out += name + "_sum" + labels + " " + Number(s->sum_ms()) + "\n";
    out += name + "_count" + labels + " " + std::to_string(s->count()) + "\n";
  }
  for (const auto& [key, h] : histograms_) {
    std::string name = PrometheusName(key.first);
    header(name, "histogram");
    // Buckets carry their bound as the label "le", after the series' own labels.
    const Labels& own = key.second;
    auto with_le = [&own](const std::string& le) {
      Labels l = own;
      l.emplace_back("le", le);
      return LabelText(l);
    };
    for (size_t i = 0; i < Histogram::kBuckets; ++i) {
      out += name + "_bucket" + with_le(Number(Histogram::kBoundsMs[i])) + " " +
             std::to_string(h->cumulative(i)) + "\n";
    }
    std::string labels = LabelText(key.second);
    out += name + "_bucket" + with_le("+Inf") + " " + std::to_string(h->count()) + "\n";
    out += name + "_sum" + labels + " " + Number(h->sum_ms()) + "\n";
    out += name + "_count" + labels + " " + std::to_string(h->count()) + "\n";
  }
  return out;
}

Json Registry::ToJson(int64_t now_unix_nanos) const {
  std::shared_lock lock(mu_);
  Json gauges = Json::array(), counters = Json::array(), samples = Json::array();
  for (const auto& [key, fn] : gauges_)
    gauges.push_back(
        {{"Name", GaugeName(key.first)}, {"Value", fn()}, {"Labels", LabelsJson(key.second)}});
  for (const auto& [key, c] : counters_) {
    double n = static_cast<double>(c->value());
    counters.push_back({{"Name", key.first},
                        {"Count", c->value()},
                        {"Sum", n},
                        {"Labels", LabelsJson(key.second)}});
  }
  for (const auto& [key, s] : summaries_) {
    int64_t n = s->count();
    samples.push_back({{"Name", key.first},
                       {"Count", n},
                       {"Sum", s->sum_ms()},
                       {"Mean", n > 0 ? s->sum_ms() / static_cast<double>(n) : 0.0},
                       {"Labels", LabelsJson(key.second)}});
  }
  // go-metrics has no histogram in its JSON summary: a histogram is reported as a sample.
  for (const auto& [key, h] : histograms_) {
    int64_t n = h->count();
    samples.push_back({{"Name", key.first},
                       {"Count", n},
                       {"Sum", h->sum_ms()},
                       {"Mean", n > 0 ? h->sum_ms() / static_cast<double>(n) : 0.0},
                       {"Labels", LabelsJson(key.second)}});
  }
  std::string ts = FormatRfc3339Nano(now_unix_nanos - now_unix_nanos % 1000000000);
  return {{"Timestamp", ts},
          {"Gauges", gauges},
          {"Points", Json::array()},
          {"Counters", counters},
          {"Samples", samples}};
}

}  // namespace vault::metrics
