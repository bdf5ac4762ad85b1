// The etcd client and storage backend against real etcd members on loopback.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "etcd/backend.h"
#include "etcd/client.h"
#include "etcd/ha_lock.h"
#include "etcd/testing/etcd_cluster.h"
#include "net/curl_http_client.h"
#include "storage/blocking.h"
#include "storage/conformance.h"
#include "util/encoding.h"
#include "util/random.h"
#include "util/testing.h"

namespace vault::etcd {
namespace {

// One single-member etcd for the tests of this process (ctest runs each test in its own).
struct Shared {
  testing::EtcdCluster cluster{1};
  net::CurlHttpClient http;
  std::unique_ptr<Client> client;
  Shared() {
    ClientOptions o;
    o.endpoints = cluster.ClientUrls();
    client = std::make_unique<Client>(&http, &http, o);
  }
};

Shared* shared_etcd = nullptr;

Shared& Etcd() {
  if (shared_etcd == nullptr) shared_etcd = new Shared();
  return *shared_etcd;
}

// Stops the shared member when the tests end.
class StopSharedEtcd : public ::testing::Environment {
 public:
  void TearDown() override {
    delete shared_etcd;
    shared_etcd = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const stop_shared_etcd =
    ::testing::AddGlobalTestEnvironment(new StopSharedEtcd);

std::string UniquePath() { return "/test-" + HexEncode(RandomBytes(6)) + "/"; }

std::unique_ptr<storage::Backend> NewBackend(int64_t page_size) {
  EXPECT_EQ(Etcd().cluster.error(), "");
  BackendOptions o;
  o.path = UniquePath();
  o.page_size = page_size;
  o.keys_page_size = page_size;
  return std::make_unique<EtcdBackend>(Etcd().client.get(), o);
}

TEST(EtcdBackend, KeysLiveUnderThePrefix) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  BackendOptions o;
  o.path = "vault-" + HexEncode(RandomBytes(4));  // no slashes: both are added
  EtcdBackend b(Etcd().client.get(), o);
  EXPECT_EQ(b.prefix(), "/" + o.path + "/");
  ASSERT_TRUE(SyncWait(b.Put("core/keyring", "ciphertext")).ok());
  RangeRequest r;
  r.key = "/" + o.path + "/core/keyring";
  auto got = SyncWait(Etcd().client->Range(r));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->kvs.size(), 1u);
  EXPECT_EQ(got->kvs[0].value, "ciphertext");
}

TEST(EtcdBackend, ListSkipsOverFoldersItHasSeen) {
  auto backend = NewBackend(3);
  storage::Blocking b(backend.get());
  // 50 keys in one folder and two beside it: the folder costs one page, not 17.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(b.Put("l/big/" + std::to_string(i), "x").ok());
  ASSERT_TRUE(b.Put("l/a", "x").ok());
  ASSERT_TRUE(b.Put("l/z", "x").ok());
  EXPECT_EQ(*b.List("l/"), (std::vector<std::string>{"a", "big/", "z"}));
}

// The writer caches what it read and wrote (it is the only writer); a standby does not.
TEST(EtcdBackend, TheWriterCachesAStandbyReadsEtcd) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  BackendOptions o;
  o.path = UniquePath();
  EtcdBackend cached(Etcd().client.get(), o);
  o.cache_bytes = 0;
  EtcdBackend uncached(Etcd().client.get(), o);
  ASSERT_TRUE(SyncWait(cached.Put("k", "1")).ok());
  EXPECT_EQ(**SyncWait(cached.Get("k")), "1");
  EXPECT_FALSE(SyncWait(cached.Get("absent"))->has_value());
  // Another writer behind this server's back (a misconfiguration: two active servers).
  ASSERT_TRUE(SyncWait(Etcd().client->Put(cached.prefix() + "k", "2")).ok());
  ASSERT_TRUE(SyncWait(Etcd().client->Put(cached.prefix() + "absent", "x")).ok());
  EXPECT_EQ(**SyncWait(cached.Get("k")), "1");
  EXPECT_FALSE(SyncWait(cached.Get("absent"))->has_value());
  EXPECT_EQ(**SyncWait(uncached.Get("k")), "2");
  // As a standby it forgets and stops caching.
  cached.SetFence(EtcdBackend::Fence::kClosed);
  EXPECT_EQ(**SyncWait(cached.Get("k")), "2");
  EXPECT_EQ(**SyncWait(cached.Get("absent")), "x");
  ASSERT_TRUE(SyncWait(Etcd().client->Put(cached.prefix() + "k", "3")).ok());
  EXPECT_EQ(**SyncWait(cached.Get("k")), "3");
  // A failed write leaves nothing cached for its key.
  cached.SetFence(EtcdBackend::Fence::kOpen);
  EXPECT_EQ(**SyncWait(cached.Get("k")), "3");
  EXPECT_EQ(SyncWait(cached.Put("k", std::string(2 << 20, 'x'))).code(),
            StatusCode::kPayloadTooLarge);
  ASSERT_TRUE(SyncWait(Etcd().client->Put(cached.prefix() + "k", "4")).ok());
  EXPECT_EQ(**SyncWait(cached.Get("k")), "4");
}

TEST(EtcdBackend, BatchesLargerThanATransactionAllLand) {
  auto backend = NewBackend(1000);
  storage::Blocking b(backend.get());
  std::vector<storage::Mutation> batch;
  for (int i = 0; i < 300; ++i) batch.push_back({"m/" + std::to_string(i), "v"});
  ASSERT_TRUE(b.Write(batch).ok());
  EXPECT_EQ(b.List("m/")->size(), 300u);
  batch.clear();
  for (int i = 0; i < 300; ++i) batch.push_back({"m/" + std::to_string(i), std::nullopt});
  ASSERT_TRUE(b.Write(batch).ok());
  EXPECT_TRUE(b.List("m/")->empty());
}

TEST(EtcdBackend, ValueOverEtcdsRequestLimitIsTooLarge) {
  auto backend = NewBackend(1000);
  storage::Blocking b(backend.get());
  Status st = b.Put("big", std::string(2 << 20, 'x'));
  EXPECT_EQ(st.code(), StatusCode::kPayloadTooLarge) << st.ToString();
  EXPECT_NE(st.message().find("too large"), std::string::npos);
  EXPECT_FALSE(b.Get("big")->has_value());
  st = b.Write({{"big2", std::string(2 << 20, 'y')}});
  EXPECT_EQ(st.code(), StatusCode::kPayloadTooLarge) << st.ToString();
}

TEST(EtcdClient, TxnComparesAndReportsTheBranch) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  Client& c = *Etcd().client;
  const std::string k = UniquePath() + "k";
  // "k does not exist" -> create it.
  TxnRequest create;
  create.compare.push_back({Compare::Target::kCreate, Compare::Result::kEqual, k, 0, ""});
  create.success.push_back({TxnOp::Kind::kPut, k, "v1", 0, ""});
  create.failure.push_back({TxnOp::Kind::kRange, k, "", 0, ""});
  auto first = SyncWait(c.Txn(create));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->succeeded);
  auto second = SyncWait(c.Txn(create));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->succeeded);
  ASSERT_EQ(second->ranges.size(), 1u);
  ASSERT_EQ(second->ranges[0].kvs.size(), 1u);
  EXPECT_EQ(second->ranges[0].kvs[0].value, "v1");
  EXPECT_EQ(second->ranges[0].kvs[0].create_revision, first->revision);
}

TEST(EtcdClient, LeasesKeepAliveAndEnd) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  Client& c = *Etcd().client;
  auto lease = SyncWait(c.LeaseGrant(10));
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(lease->ttl, 10);
  const std::string k = UniquePath() + "leased";
  ASSERT_TRUE(SyncWait(c.Put(k, "x", lease->id)).ok());
  auto ttl = SyncWait(c.LeaseKeepAlive(lease->id));
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(*ttl, 10);
  ASSERT_TRUE(SyncWait(c.LeaseRevoke(lease->id)).ok());
  ttl = SyncWait(c.LeaseKeepAlive(lease->id));
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(*ttl, 0);  // gone, and its key with it
  RangeRequest r;
  r.key = k;
  EXPECT_TRUE(SyncWait(c.Range(r))->kvs.empty());
  // A put on a lease that is gone is etcd's NotFound.
  EXPECT_EQ(SyncWait(c.Put(k, "x", lease->id)).code(), StatusCode::kNotFound);
}

// Two servers' backends on one prefix, each with its HA lock.
struct TwoCandidates {
  std::string path = UniquePath();
  EtcdBackend a{Etcd().client.get(), Options()};
  EtcdBackend b{Etcd().client.get(), Options()};
  BackendOptions Options() const {
    BackendOptions o;
    o.path = path;
    o.ha_enabled = true;
    o.lock_timeout_s = 5;
    return o;
  }
};

TEST(EtcdHaLock, OneHolderAtATimeAndTheNextTakesOverOnRelease) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  TwoCandidates c;
  std::atomic<bool> never{false};
  ASSERT_TRUE(*c.a.Lock()->Acquire("server-a", never));
  EXPECT_EQ(*SyncWait(c.a.Lock()->Holder()), "server-a");
  std::atomic<bool> b_holds{false};
  std::thread b([&] {
    EXPECT_TRUE(*c.b.Lock()->Acquire("server-b", never));
    b_holds = true;
  });
  // b waits in line, and may not write meanwhile.
  ASSERT_TRUE(testing_util::Eventually([&] {
    RangeRequest r;
    r.key = "/" + c.path.substr(1) + "core/lock/";
    r.range_end = PrefixEnd(r.key);
    r.count_only = true;
    auto got = SyncWait(Etcd().client->Range(r));
    return got.ok() && got->count == 2;
  }));
  EXPECT_FALSE(b_holds.load());
  EXPECT_EQ(SyncWait(c.b.Put("x", "from b")).code(), StatusCode::kUnavailable);
  ASSERT_TRUE(SyncWait(c.a.Put("x", "from a")).ok());
  ASSERT_TRUE(c.a.Lock()->Release().ok());
  b.join();  // takes the lock once a is out of line
  EXPECT_TRUE(b_holds.load());
  EXPECT_EQ(*SyncWait(c.b.Lock()->Holder()), "server-b");
  EXPECT_EQ(SyncWait(c.a.Put("x", "late a")).code(), StatusCode::kUnavailable);
  ASSERT_TRUE(SyncWait(c.b.Put("x", "from b")).ok());
  EXPECT_EQ(**SyncWait(c.b.Get("x")), "from b");
  ASSERT_TRUE(c.b.Lock()->Release().ok());
  EXPECT_FALSE(SyncWait(c.b.Lock()->Holder())->has_value());
}

// The holder's lease ends behind its back (as when it is paused past its TTL): the next candidate
// takes over, and the old holder's writes are refused, not applied, and mark its lock lost.
TEST(EtcdHaLock, AHolderThatLostItsLeaseCannotWrite) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  TwoCandidates c;
  std::atomic<bool> never{false};
  ASSERT_TRUE(*c.a.Lock()->Acquire("server-a", never));
  ASSERT_TRUE(SyncWait(c.a.Put("k", "a1")).ok());
  auto* lock_a = static_cast<EtcdHaLock*>(c.a.Lock());
  ASSERT_TRUE(SyncWait(Etcd().client->LeaseRevoke(lock_a->lease_id())).ok());
  ASSERT_TRUE(*c.b.Lock()->Acquire("server-b", never));
  EXPECT_FALSE(c.a.Lock()->Lost());  // a has not noticed yet
  Status late = SyncWait(c.a.Write({{"k", "a2"}, {"other", "a2"}}));
  EXPECT_EQ(late.code(), StatusCode::kUnavailable) << late.ToString();
  EXPECT_TRUE(c.a.Lock()->Lost());
  EXPECT_FALSE(c.a.Lock()->KeepAlive());
  EXPECT_EQ(**SyncWait(c.b.Get("k")), "a1");
  EXPECT_FALSE(SyncWait(c.b.Get("other"))->has_value());
  EXPECT_EQ(*SyncWait(c.b.Lock()->Holder()), "server-b");
}

TEST(EtcdHaLock, CancelledCandidateLeavesTheLine) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  TwoCandidates c;
  std::atomic<bool> never{false};
  ASSERT_TRUE(*c.a.Lock()->Acquire("server-a", never));
  std::atomic<bool> cancel{false};
  std::thread b([&] { EXPECT_FALSE(*c.b.Lock()->Acquire("server-b", cancel)); });
  cancel = true;
  b.join();
  ASSERT_TRUE(c.a.Lock()->Release().ok());
  EXPECT_FALSE(SyncWait(c.a.Lock()->Holder())->has_value());  // b's key is gone too
}

TEST(EtcdClient, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("/vault/"), "/vault0");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));
}

TEST(EtcdClient, ValidateNeedsUrlsWithASchemeAndHost) {
  ClientOptions o;
  EXPECT_FALSE(Client::Validate(o).ok());
  o.endpoints = {"127.0.0.1:2379"};
  EXPECT_NE(Client::Validate(o).message().find("address must be valid URL"), std::string::npos);
  o.endpoints = {"http://"};
  EXPECT_FALSE(Client::Validate(o).ok());
  o.endpoints = {"http://127.0.0.1:2379", "https://etcd-2:2379"};
  EXPECT_TRUE(Client::Validate(o).ok());
}

TEST(EtcdClient, NoMemberAnsweringIsAnErrorAfterTheTimeout) {
  net::CurlHttpClient http;
  ClientOptions o;
  o.endpoints = {"http://127.0.0.1:1", "http://127.0.0.1:2"};
  o.request_timeout_ms = 300;
  Client c(&http, &http, o);
  RangeRequest r;
  r.key = "x";
  auto got = SyncWait(c.Range(r));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
  EXPECT_NE(got.status().message().find("no member answered"), std::string::npos);
}

// Group commit: 64 concurrent writes with one transaction in flight at a time share transactions
// (etcd's revision, one per transaction, moves by fewer than 64), every one lands, and writes of
// one key never share a transaction (etcd would refuse a key twice in one).
TEST(EtcdBackend, ConcurrentWritesShareTransactions) {
  ASSERT_EQ(Etcd().cluster.error(), "");
  BackendOptions o;
  o.path = UniquePath();
  o.max_txns_in_flight = 1;
  EtcdBackend backend(Etcd().client.get(), o);
  auto revision = [&] {
    RangeRequest r;
    r.key = "/any";
    auto got = SyncWait(Etcd().client->Range(r));
    EXPECT_TRUE(got.ok());
    return got.ok() ? got->revision : 0;
  };
  const int64_t before = revision();
  // Put takes views: the keys and values outlive the (lazily started) tasks.
  std::vector<std::string> keys, values;
  for (int i = 0; i < 64; ++i) keys.push_back("k/" + std::to_string(i));
  for (int i = 0; i < 16; ++i) values.push_back(std::to_string(i));
  std::vector<Task<Status>> writes;
  for (const std::string& k : keys) writes.push_back(backend.Put(k, "v"));
  for (const std::string& v : values) writes.push_back(backend.Put("same", v));
  for (const Status& st : SyncWait(WhenAll(std::move(writes))))
    EXPECT_TRUE(st.ok()) << st.ToString();
  const int64_t txns = revision() - before;
  EXPECT_LT(txns, 64 + 16);
  EXPECT_GE(txns, 16);  // the 16 writes of "same" went in 16 transactions
  storage::Blocking b(&backend);
  EXPECT_EQ(b.List("k/")->size(), 64u);
  auto same = b.Get("same");
  ASSERT_TRUE(same.ok() && same->has_value());
}

// etcd with authentication on: a client with the user's password reads and writes (its calls over
// gRPC carry the token it got through the gateway); one without credentials, or with a wrong
// password, is refused with etcd's reason.
TEST(EtcdClient, AuthenticatesWithUsernameAndPassword) {
  testing::EtcdCluster cluster(1);
  ASSERT_EQ(cluster.error(), "");
  net::CurlHttpClient http;
  auto admin = [&](const char* path, Json body) {
    net::HttpRequest req;
    req.method = "POST";
    req.url = cluster.ClientUrl(0) + path;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = DumpJson(body);
    auto resp = SyncWait(http.SendAsync(std::move(req)));
    ASSERT_TRUE(resp.ok()) << path;
    ASSERT_EQ(resp->status, 200) << path << ": " << resp->body;
  };
  admin("/v3/auth/user/add", {{"name", "root"}, {"password", "s3cret-pw"}});
  admin("/v3/auth/role/add", {{"name", "root"}});
  admin("/v3/auth/user/grant", {{"user", "root"}, {"role", "root"}});
  admin("/v3/auth/enable", Json::object());

  ClientOptions o;
  o.endpoints = cluster.ClientUrls();
  o.username = "root";
  o.password = "s3cret-pw";
  o.request_timeout_ms = 3000;
  Client c(&http, &http, o);
  EtcdBackend backend(&c, BackendOptions{});
  storage::Blocking b(&backend);
  ASSERT_TRUE(b.Put("a", "1").ok());
  EXPECT_EQ(**b.Get("a"), "1");
  EXPECT_EQ(b.List("")->size(), 1u);

  o.username.clear();
  o.password.clear();
  Client anonymous(&http, &http, o);
  RangeRequest r;
  r.key = "/vault/a";
  auto got = SyncWait(anonymous.Range(r));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message().find("no member answered"), std::string::npos);  // not retried
  EXPECT_NE(got.status().message().find("user name is empty"), std::string::npos)
      << got.status().message();

  o.username = "root";
  o.password = "wrong";
  Client wrong(&http, &http, o);
  got = SyncWait(wrong.Range(r));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("authentication failed"), std::string::npos)
      << got.status().message();
  EXPECT_EQ(got.status().message().find("wrong"), std::string::npos);  // no password in errors
}

// A three-member cluster: the client starts on an address where nothing listens, moves on, and
// keeps writing when the member it uses is killed.
TEST(EtcdClient, FailsOverBetweenMembers) {
  testing::EtcdCluster cluster(3);
  ASSERT_EQ(cluster.error(), "");
  net::CurlHttpClient http;
  ClientOptions o;
  o.endpoints = {"http://127.0.0.1:1"};
  for (const auto& u : cluster.ClientUrls()) o.endpoints.push_back(u);
  o.request_timeout_ms = 10000;  // a new etcd leader takes about a second to elect
  Client c(&http, &http, o);
  EtcdBackend backend(&c, BackendOptions{});
  storage::Blocking b(&backend);
  ASSERT_TRUE(b.Put("a", "1").ok());
  EXPECT_EQ(c.CurrentEndpoint(), cluster.ClientUrl(0));
  cluster.Kill(0);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.Put("k" + std::to_string(i), "v").ok()) << i;
  EXPECT_NE(c.CurrentEndpoint(), cluster.ClientUrl(0));
  EXPECT_EQ(**b.Get("a"), "1");
  EXPECT_EQ(b.List("")->size(), 21u);
}

}  // namespace
}  // namespace vault::etcd

namespace vault::storage {
INSTANTIATE_TEST_SUITE_P(
    Etcd, BackendConformance,
    ::testing::Values(BackendFactory{"etcd", [] { return etcd::NewBackend(1000); }},
                      // Pages of two keys: listing and scanning cross page boundaries.
                      BackendFactory{"etcd_pages_of_2", [] { return etcd::NewBackend(2); }}),
    [](const auto& info) { return info.param.name; });
}  // namespace vault::storage
