#include "util/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace vault::metrics {
namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    pos = end + 1;
  }
  return out;
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfLast) {
  Histogram* h = Registry::Get().GetHistogram("test.hist.latency", {{"action", "CreateUser"}});
  h->Observe(3);      // <= 5
  h->Observe(7);      // <= 10
  h->Observe(7);      // <= 10
  h->Observe(60000);  // above every bound: only +Inf
  std::string text = Registry::Get().Prometheus();
  auto buckets = Lines(text, "test_hist_latency_bucket");
  ASSERT_EQ(buckets.size(), Histogram::kBuckets + 1);
  EXPECT_EQ(buckets[0], "test_hist_latency_bucket{action=\"CreateUser\",le=\"5\"} 1");
  EXPECT_EQ(buckets[1], "test_hist_latency_bucket{action=\"CreateUser\",le=\"10\"} 3");
  EXPECT_EQ(buckets[Histogram::kBuckets - 1],
            "test_hist_latency_bucket{action=\"CreateUser\",le=\"10000\"} 3");
  EXPECT_EQ(buckets.back(), "test_hist_latency_bucket{action=\"CreateUser\",le=\"+Inf\"} 4");
  EXPECT_EQ(Lines(text, "test_hist_latency_count"),
            std::vector<std::string>{"test_hist_latency_count{action=\"CreateUser\"} 4"});
  EXPECT_EQ(Lines(text, "# TYPE test_hist_latency"),
            std::vector<std::string>{"# TYPE test_hist_latency histogram"});
  EXPECT_NEAR(h->sum_ms(), 60017, 0.01);
}

TEST(MetricsTest, GaugeNamesCarryTheHostUnlessDisabled) {
  Registry::Get().SetGauge("test.host.gauge", {}, [] { return 7.0; });
  Registry::Get().SetGaugeHostname("node-1");
  std::string with_host = Registry::Get().Prometheus();
  Json json = Registry::Get().ToJson(0);
  Registry::Get().SetGaugeHostname("");
  std::string without = Registry::Get().Prometheus();
  Registry::Get().RemoveGauges("test.host.");
  EXPECT_EQ(Lines(with_host, "test_node_1_host_gauge"),
            std::vector<std::string>{"test_node_1_host_gauge 7"});
  EXPECT_TRUE(Lines(with_host, "test_host_gauge").empty());
  EXPECT_EQ(Lines(without, "test_host_gauge"), std::vector<std::string>{"test_host_gauge 7"});
  bool found = false;
  for (const auto& g : json["Gauges"]) found = found || g["Name"] == "test.node-1.host.gauge";
  EXPECT_TRUE(found) << json.dump();
}

TEST(MetricsTest, CountersFromManyThreadsAddUpAndLabelsAreEscaped) {
  Counter* c = Registry::Get().GetCounter("test.count.calls", {{"path", "a\"b\\c\nd"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([c] {
      for (int i = 0; i < 10000; ++i) c->Add();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->value(), 40000);
  EXPECT_EQ(Lines(Registry::Get().Prometheus(), "test_count_calls"),
            std::vector<std::string>{"test_count_calls{path=\"a\\\"b\\\\c\\nd\"} 40000"});
  // The same name and labels give the same series.
  EXPECT_EQ(Registry::Get().GetCounter("test.count.calls", {{"path", "a\"b\\c\nd"}}), c);
}

TEST(MetricsTest, SummariesReportSumAndCountInMilliseconds) {
  Summary* s = Registry::Get().GetSummary("test.sum.op");
  s->Observe(1.5);
  s->Observe(2.5);
  std::string text = Registry::Get().Prometheus();
  EXPECT_EQ(Lines(text, "test_sum_op_sum"), std::vector<std::string>{"test_sum_op_sum 4"});
  EXPECT_EQ(Lines(text, "test_sum_op_count"), std::vector<std::string>{"test_sum_op_count 2"});
  Json json = Registry::Get().ToJson(1700000000123456789);
  EXPECT_EQ(json["Timestamp"], "2023-11-14T22:13:20Z");
  bool found = false;
  for (const auto& x : json["Samples"])
    if (x["Name"] == "test.sum.op") {
      found = true;
      EXPECT_EQ(x["Count"], 2);
      EXPECT_DOUBLE_EQ(x["Mean"].get<double>(), 2.0);
    }
  EXPECT_TRUE(found);
}

TEST(MetricsTest, CreationTtlBucketsAreVaults) {
  EXPECT_EQ(CreationTtlBucket(0), "+Inf");  // never expires
  EXPECT_EQ(CreationTtlBucket(1), "1m");
  EXPECT_EQ(CreationTtlBucket(60), "1m");
  EXPECT_EQ(CreationTtlBucket(61), "10m");
  EXPECT_EQ(CreationTtlBucket(3600), "1h");
  EXPECT_EQ(CreationTtlBucket(2764800), "+Inf");  // 32 days
  EXPECT_EQ(CreationTtlBucket(2592000), "30d");
}

}  // namespace
}  // namespace vault::metrics
