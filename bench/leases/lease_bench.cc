// Lease benchmark: restore time and memory per pending lease at N stored leases, and the expiry
// rate for leases whose revocation needs no outside call. Uses the real expiration manager over
// the encrypted barrier on RocksDB (synced writes), as the server does.
//
//   build/bench/leases/lease_bench [--leases N] [--writers W] [--inflight I] [--dir PATH]
//                                   [--etcd URL,URL,...]
//
// With --etcd the leases live in etcd (the etcd storage backend under a fresh prefix) instead of
// RocksDB: phase 2's restore is then a new active node's restore at takeover.
//
// Phase 1 registers N leases and waits until RocksDB has settled (flush, compactions); phase 2
// runs in a fresh process (exec of itself) so the memory figure is not flattered by what the
// allocator kept from phase 1: restore, memory per pending lease, expiry of all at once.
// `--dir PATH --phase issue` stops after phase 1 and prints the command that runs phase 2, to
// repeat phase 2 on copies of one database (phase 2 consumes the leases).
//
// Prints one line per figure. Targets: restore 1,000,000 leases < 4 s, < 200 bytes of resident
// memory per pending lease, >= 50,000 expiries/s with a million pending.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "barrier/barrier.h"
#include "core/expiration.h"
#include "etcd/backend.h"
#include "etcd/client.h"
#include "net/curl_http_client.h"
#include "storage/rocksdb_backend.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/random.h"
#include "util/strings.h"

using namespace vault;

namespace {

int64_t RssBytes() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// CPU seconds this process has used (all threads): with other load on the machine, CPU per
// expiry says more than wall time.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string one;
  f >> one;
  return one;
}

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

Task<Result<logical::Response>> NoOpEngine(logical::Request&) { co_return logical::Response(); }

// The storage the leases live in: RocksDB at `dir`, or etcd under the prefix `dir` with --etcd.
struct Store {
  std::unique_ptr<net::CurlHttpClient> http;
  std::unique_ptr<etcd::Client> client;
  std::unique_ptr<storage::Backend> backend;
  storage::RocksDbBackend* rocks = nullptr;
};

Result<Store> OpenStore(const std::string& dir, const std::string& etcd_urls) {
  Store s;
  if (etcd_urls.empty()) {
    auto db = storage::RocksDbBackend::Open(dir);
    if (!db.ok()) return db.status();
    s.rocks = db->get();
    s.backend = std::move(db).value();
    return s;
  }
  net::CurlOptions ho;
  ho.max_response_bytes = 256 << 20;
  s.http = std::make_unique<net::CurlHttpClient>(ho);
  etcd::ClientOptions o;
  o.endpoints = Split(etcd_urls, ',');
  o.request_timeout_ms = 30000;
  s.client = std::make_unique<etcd::Client>(s.http.get(), s.http.get(), o);
  etcd::BackendOptions bo;
  bo.path = dir;
  bo.cache_bytes = 0;  // a restore reads etcd, as a new active node does
  s.backend = std::make_unique<etcd::EtcdBackend>(s.client.get(), bo);
  return s;
}

// Phase 2, in a fresh process (so the resident-memory figure is not flattered by memory the
// allocator kept from phase 1): restore, memory per pending lease, expiry.
int RestoreAndExpire(const std::string& dir, const std::string& etcd_urls, bool own_dir, int64_t n,
                     int inflight, const std::string& root_key, int64_t clock_ns) {
  auto db = OpenStore(dir, etcd_urls);
  if (!db.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), db.status().message().c_str());
    return 1;
  }
  FakeClock clock(clock_ns);
  barrier::Barrier barrier(db->backend.get(), &clock);
  if (Status st = SyncWait(barrier.Unseal(root_key)); !st.ok()) {
    std::fprintf(stderr, "unseal: %s\n", st.message().c_str());
    return 1;
  }
  logical::MountInfo mount{"aws/", "aws", 3600, 7200};
  auto dispatch = [](logical::Request& r) { return NoOpEngine(r); };
  auto ttls = [&](std::string_view) -> std::optional<logical::MountInfo> { return mount; };

  // 2. Restore: a manager over the stored leases, as after a restart.
  core::ExpirationManager exp(&barrier, &clock, dispatch, ttls,
                              core::ExpirationConfig{.max_inflight = inflight});
  int64_t rss0 = RssBytes();
  auto t0 = std::chrono::steady_clock::now();
  exp.Start();
  while (!exp.Restored()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double restore_s = Seconds(t0);
  int64_t rss1 = RssBytes();
  auto stats = exp.GetStats();
  std::printf("restore:  %lld timers armed in %.2f s (target < 4 s at 1,000,000)\n",
              static_cast<long long>(stats.pending), restore_s);
  std::printf("memory:   %.0f bytes resident per pending lease (target < 200; a fresh process)\n",
              static_cast<double>(rss1 - rss0) / std::max<int64_t>(1, stats.pending));

  // 3. Expiry: move the clock past every deadline and time the revocations (no-op engine; each
  //    lease is loaded, revoked and deleted from storage in batches).
  t0 = std::chrono::steady_clock::now();
  double cpu0 = CpuSeconds();
  clock.AdvanceSeconds(3601);  // past every deadline (TTL 1 h from each lease's issue)
  exp.Wake();
  while (exp.GetStats().revoked < n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (Seconds(t0) > 600) break;
  }
  double expire_s = Seconds(t0);
  double expire_cpu = CpuSeconds() - cpu0;
  std::printf("expiry:   %lld leases revoked in %.2f s (%.0f/s, target >= 50,000/s)\n",
              static_cast<long long>(exp.GetStats().revoked), expire_s,
              exp.GetStats().revoked / expire_s);
  std::printf(
      "          %.1f us of CPU per expiry (all threads, incl. RocksDB's), load average %s\n",
      expire_cpu * 1e6 / std::max<int64_t>(1, exp.GetStats().revoked), LoadAverage().c_str());
  exp.Stop();
  if (own_dir && etcd_urls.empty()) std::filesystem::remove_all(dir);
  if (own_dir && !etcd_urls.empty()) {
    std::string prefix = etcd::NormalizePrefix(dir);
    SyncWait(db->client->DeleteRange(prefix, etcd::PrefixEnd(prefix))).status().IgnoreError();
  }
  return exp.GetStats().revoked >= n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000;
  int writers = 64;
  int inflight = 1024;
  std::string dir;
  std::string phase = "all";
  bool own_dir = false;
  int64_t clock_ns = 0;
  std::string etcd_urls;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--leases") n = std::atoll(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
    if (a == "--inflight") inflight = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--writers") writers = std::max(1, std::atoi(argv[i + 1]));
    // "issue": stop after phase 1 (with --dir); "expire": phase 2 only (started by phase 1)
    if (a == "--phase") phase = argv[i + 1];
    if (a == "--own-dir") own_dir = std::string(argv[i + 1]) == "1";
    if (a == "--clock-ns") clock_ns = std::atoll(argv[i + 1]);
    if (a == "--etcd") etcd_urls = argv[i + 1];
  }
  spdlog::set_level(spdlog::level::warn);
  if (phase == "expire") {
    const char* hex = std::getenv("LEASE_BENCH_ROOT_KEY");
    auto key = HexDecode(hex ? hex : "");
    if (!key.ok() || dir.empty()) {
      std::fprintf(stderr, "--phase expire needs --dir and LEASE_BENCH_ROOT_KEY\n");
      return 2;
    }
    return RestoreAndExpire(dir, etcd_urls, own_dir, n, inflight, *key, clock_ns);
  }
  own_dir = dir.empty();
  if (own_dir && etcd_urls.empty())
    dir = std::filesystem::temp_directory_path() / ("lease-bench-" + NewUuid());
  if (own_dir && !etcd_urls.empty()) dir = "/lease-bench-" + NewUuid() + "/";
  std::string root_key = RandomBytes(32);
  FakeClock clock(1700000000LL * 1000000000LL);
  {
    auto db = OpenStore(dir, etcd_urls);
    if (!db.ok()) {
      std::fprintf(stderr, "open %s: %s\n", dir.c_str(), db.status().message().c_str());
      return 1;
    }
    barrier::Barrier barrier(db->backend.get(), &clock);
    if (!SyncWait(barrier.Initialize(root_key)).ok()) return 1;

    logical::MountInfo mount{"aws/", "aws", 3600, 7200};
    auto dispatch = [](logical::Request& r) { return NoOpEngine(r); };
    auto ttls = [&](std::string_view) -> std::optional<logical::MountInfo> { return mount; };

    // 1. Issue n leases (TTL 1 h, spread over 100 tokens) with `writers` concurrent writers, each
    //    lease one synced write (RocksDB groups concurrent ones into one fsync).
    core::ExpirationManager exp(&barrier, &clock, dispatch, ttls);
    exp.Start();
    auto t0 = std::chrono::steady_clock::now();
    const int64_t issue_start_ns = clock.NowNanos();
    std::atomic<int64_t> next{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&] {
        logical::SecretSpec spec;
        spec.ttl = 3600;
        spec.internal_data = {{"username", "vault-token-deploy-1700000000-abcdefghijklmnopqrst"},
                              {"secret_type", "access_keys"}};
        for (int64_t i; (i = next++) < n;) {
          // The fake clock follows real time while leases are issued (as on a server: leases
          // issued over the run, not all in one millisecond); it jumps ahead for the expiry.
          clock.SetNanos(issue_start_ns + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::steady_clock::now() - t0)
                                              .count());
          auto r = SyncWait(
              exp.Register("aws/creds/deploy", mount, spec, "acc" + std::to_string(i % 100), {}));
          if (!r.ok()) {
            std::fprintf(stderr, "register: %s\n", r.status().message().c_str());
            std::exit(1);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    std::printf("issue:    %lld leases registered durably in %.2f s (%.0f/s, %d writers)\n",
                static_cast<long long>(n), Seconds(t0), n / Seconds(t0), writers);
    exp.Stop();
    // Leases are issued over hours on a server: restore and expire on a settled database, not
    // while RocksDB is still compacting the bulk load above.
    auto t1 = std::chrono::steady_clock::now();
    if (Status st = db->rocks ? db->rocks->WaitIdle() : Status(); !st.ok()) {
      std::fprintf(stderr, "settle: %s\n", st.message().c_str());
      return 1;
    }
    std::printf("settle:   flush and compactions done in %.2f s\n", Seconds(t1));
  }
  std::fflush(stdout);

  // Phase 2 in a fresh process (the database is closed above).
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  std::string n_s = std::to_string(n), inflight_s = std::to_string(inflight),
              clock_s = std::to_string(clock.NowNanos());
  setenv("LEASE_BENCH_ROOT_KEY", HexEncode(root_key).c_str(), 1);
  if (phase == "issue") {  // keep the database as it is and say how to run phase 2 on a copy
    std::printf(
        "phase 2:  LEASE_BENCH_ROOT_KEY=%s %s --phase expire --dir %s --leases %s "
        "--clock-ns %s\n",
        HexEncode(root_key).c_str(), self.c_str(), dir.c_str(), n_s.c_str(), clock_s.c_str());
    return 0;
  }
  execl(self.c_str(), self.c_str(), "--phase", "expire", "--dir", dir.c_str(), "--leases",
        n_s.c_str(), "--inflight", inflight_s.c_str(), "--clock-ns", clock_s.c_str(), "--own-dir",
        own_dir ? "1" : "0", "--etcd", etcd_urls.empty() ? "" : etcd_urls.c_str(),
        static_cast<char*>(nullptr));
  std::perror("exec lease_bench --phase expire");
  return 1;
}
