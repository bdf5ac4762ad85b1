// etcd's own put rate through the client the server uses (etcd::Client: the KV service over
// gRPC): the reference for the durable KV writes of a server on etcd (bench/ha/ha_bench.py).
//
//   build/bench/ha/etcd_put_bench --endpoints URL,URL,... [--seconds S] [--inflight I]
//                                 [--value-bytes B]
//
// I puts in flight at all times, each of a new key under /etcd-put-bench/ with a value of B
// random bytes, for S seconds; the keys are deleted afterwards. Prints one line:
//   etcd put (gRPC): <puts/s> req/s, p50 <ms> ms, p99 <ms> ms, <errors> errors
//
//   build/bench/ha/etcd_put_bench --endpoints URLS --fill N --fill-prefix PREFIX
// instead writes N lease-deadline index entries under PREFIX (as the expiration manager writes
// them: "<15-digit deadline ms>/aws/creds/deploy/<id>", a 32-byte value), 128 per transaction,
// and keeps them: a million leases' worth of restore input in seconds rather than the quarter of
// an hour their registration takes (lease_bench --etcd reads them back).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "etcd/client.h"
#include "net/curl_http_client.h"
#include "util/encoding.h"
#include "util/random.h"
#include "util/strings.h"
#include "util/task.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
};

vault::Task<bool> Run(vault::etcd::Client* client, int id, Clock::time_point end,
                      const std::string& value, Worker* w) {
  for (int64_t i = 0; Clock::now() < end; ++i) {
    const auto t0 = Clock::now();
    vault::Status st = co_await client->Put(
        "/etcd-put-bench/" + std::to_string(id) + "/" + std::to_string(i), value);
    const auto t1 = Clock::now();
    if (!st.ok()) {
      if (w->errors++ == 0) std::fprintf(stderr, "etcd_put_bench: %s\n", st.ToString().c_str());
      continue;
    }
    w->latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  co_return true;
}

vault::Task<bool> Fill(vault::etcd::Client* client, const std::string& prefix, int64_t from,
                       int64_t to, int64_t* errors) {
  for (int64_t i = from; i < to; i += 128) {
    vault::etcd::TxnRequest txn;
    for (int64_t j = i; j < std::min(to, i + 128); ++j) {
      char deadline[32];
      std::snprintf(deadline, sizeof deadline, "%015lld", 1700003600000LL + j / 50);
      vault::etcd::TxnOp op;
      op.key = prefix + deadline + "/aws/creds/deploy/" + vault::HexEncode(vault::RandomBytes(16));
      op.value = vault::RandomBytes(32);
      txn.success.push_back(std::move(op));
    }
    auto r = co_await client->Txn(std::move(txn));
    if (!r.ok() && (*errors)++ == 0) {
      std::fprintf(stderr, "etcd_put_bench: %s\n", r.status().ToString().c_str());
    }
  }
  co_return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoints;
  double seconds = 10;
  int inflight = 32;
  size_t value_bytes = 200;
  int64_t fill = 0;
  std::string fill_prefix;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--endpoints") endpoints = argv[i + 1];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--inflight") inflight = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--value-bytes") value_bytes = static_cast<size_t>(std::atol(argv[i + 1]));
    if (a == "--fill") fill = std::atoll(argv[i + 1]);
    if (a == "--fill-prefix") fill_prefix = argv[i + 1];
  }
  if (endpoints.empty()) {
    std::fprintf(stderr,
                 "usage: etcd_put_bench --endpoints URL,URL,... [--seconds S] "
                 "[--inflight I] [--value-bytes B]\n");
    return 2;
  }
  vault::net::CurlHttpClient http;
  vault::etcd::ClientOptions o;
  o.endpoints = vault::Split(endpoints, ',');
  vault::etcd::Client client(&http, &http, o);
  if (fill > 0) {
    const auto t0 = Clock::now();
    int64_t errors = 0;
    std::vector<vault::Task<bool>> fillers;
    constexpr int kFillers = 16;
    for (int f = 0; f < kFillers; ++f) {
      fillers.push_back(
          Fill(&client, fill_prefix, fill * f / kFillers, fill * (f + 1) / kFillers, &errors));
    }
    vault::SyncWait(vault::WhenAll(std::move(fillers)));
    std::printf("filled %lld deadline entries under %s in %.1f s, %lld errors\n",
                static_cast<long long>(fill), fill_prefix.c_str(),
                std::chrono::duration<double>(Clock::now() - t0).count(),
                static_cast<long long>(errors));
    return errors == 0 ? 0 : 1;
  }
  const std::string value = vault::RandomBytes(value_bytes);

  std::vector<Worker> workers(static_cast<size_t>(inflight));
  std::vector<vault::Task<bool>> tasks;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < inflight; ++i) tasks.push_back(Run(&client, i, end, value, &workers[i]));
  vault::SyncWait(vault::WhenAll(std::move(tasks)));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  int64_t errors = 0;
  for (auto& w : workers) {
    all.insert(all.end(), w.latencies_ms.begin(), w.latencies_ms.end());
    errors += w.errors;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf("etcd put (gRPC): %.0f req/s, p50 %.2f ms, p99 %.2f ms, %lld errors\n",
              static_cast<double>(all.size()) / elapsed, pct(0.50), pct(0.99),
              static_cast<long long>(errors));
  auto deleted = vault::SyncWait(
      client.DeleteRange("/etcd-put-bench/", vault::etcd::PrefixEnd("/etcd-put-bench/")));
  if (!deleted.ok())
    std::fprintf(stderr, "etcd_put_bench: clean-up: %s\n", deleted.status().ToString().c_str());
  return errors == 0 ? 0 : 1;
}
