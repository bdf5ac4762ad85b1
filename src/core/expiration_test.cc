#include "core/expiration.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <set>
#include <thread>

#include "core/core.h"
#include "engines/kv/kv.h"
#include "logical/framework.h"
#include "storage/inmem.h"
#include "util/testing.h"
#include "util/thread_pool.h"

namespace vault::core {
namespace {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

TEST(CalculateTtlTest, FollowsVaultsRules) {
  logical::MountInfo m;
  m.default_lease_ttl = 100;
  m.max_lease_ttl = 1000;
  EXPECT_EQ(CalculateTtl(m, 0, 0, 0, 0, 0)->ttl, 100);   // mount default
  EXPECT_EQ(CalculateTtl(m, 0, 50, 0, 0, 0)->ttl, 50);   // engine ttl
  EXPECT_EQ(CalculateTtl(m, 70, 50, 0, 0, 0)->ttl, 70);  // increment wins
  auto capped = CalculateTtl(m, 0, 50, 60, 0, 30);       // engine max 60 from issue at 0
  EXPECT_EQ(capped->ttl, 30);
  ASSERT_EQ(capped->warnings.size(), 1u);
  EXPECT_EQ(capped->warnings[0],
            "TTL of \"50s\" exceeded the effective max_ttl of \"30s\"; TTL value is capped "
            "accordingly");
  EXPECT_EQ(CalculateTtl(m, 5000, 0, 0, 0, 0)->ttl, 1000);  // mount max caps
  auto past = CalculateTtl(m, 10, 0, 60, 0, 60);
  EXPECT_FALSE(past.ok());
  EXPECT_EQ(past.status().message(), "past the max TTL, cannot renew");
}

// An engine handing out leased "things" whose revocation is observable and can fail.
struct FakeWorld {
  std::mutex mu;
  std::set<std::string> alive;
  std::vector<std::string> revoked;
  int fail_revokes = 0;  // the next N revocations fail
  std::string fail_message = "boom";
  StatusCode fail_code = StatusCode::kUpstream;
  int64_t renew_ttl = 0, renew_max = 0;
  std::vector<std::string> rolled_back;  // names whose write-ahead entries were undone
  Executor* revoke_on = nullptr;         // when set, revocations finish there (as AWS calls do)
  // The early/ path (a lease registered through Request::leases while the engine "waits"):
  std::vector<std::string> early_ids;      // what Register returned
  std::function<void()> while_registered;  // runs after Register, before the engine answers
  std::function<void()> before_register;   // runs before Register
  std::function<void()> before_answer;     // creds/: runs before the engine answers
  std::function<void()> during_renew;      // runs inside the engine's renew
  std::function<void()> on_revoke;         // runs (blocking) as each revocation starts
  bool Alive(const std::string& n) {
    std::lock_guard l(mu);
    return alive.count(n) > 0;
  }
};

std::shared_ptr<logical::Backend> NewFakeEngine(FakeWorld* w) {
  logical::Path p;
  p.pattern = "creds/(?P<name>\\w+)";
  p.fields = {{"name", FieldType::kString},
              {"ttl", FieldType::kInt},
              {"max_ttl", FieldType::kInt},
              {"renewable", FieldType::kBool, "", true}};
  p.operations[Operation::kRead] = [w](Request& r, const FieldData& d) -> Result<Response> {
    std::string n = d.GetString("name");
    {
      std::lock_guard l(w->mu);
      w->alive.insert(n);
    }
    Response resp = Response::WithData({{"name", n}});
    resp.secret = logical::SecretSpec{d.GetInt("ttl"), d.GetInt("max_ttl"), d.GetBool("renewable")};
    resp.secret->internal_data = {{"name", n}};
    if (w->before_answer) w->before_answer();
    return resp;
  };
  p.operations[Operation::kUpdate] = p.operations[Operation::kRead];
  // Records an intent and "crashes" before completing it: only a write-ahead entry remains.
  logical::Path intent;
  intent.pattern = "intent/(?P<name>\\w+)";
  intent.fields = {{"name", FieldType::kString}};
  intent.async_operations[Operation::kUpdate] = [](Request& r,
                                                   const FieldData& d) -> Task<Result<Response>> {
    Json data = {{"name", d.GetString("name")}};
    auto id = co_await logical::PutWal(r.storage, "thing", std::move(data), 0);
    if (!id.ok()) co_return id.status();
    co_return Response();
  };
  // Registers its lease before it is done (as the AWS engine does while its last calls are at
  // AWS), with a write-ahead entry for the thing; then fails if asked to, or lies about the lease.
  logical::Path early;
  early.pattern = "early/(?P<name>\\w+)";
  early.fields = {{"name", FieldType::kString},
                  {"ttl", FieldType::kInt},
                  {"fail", FieldType::kBool},
                  {"other_lease", FieldType::kBool}};
  early.async_operations[Operation::kRead] = [w](Request& r,
                                                 const FieldData& d) -> Task<Result<Response>> {
    if (r.leases == nullptr) co_return Internal("no registrar");
    std::string n = d.GetString("name");
    Json data = {{"name", n}};
    auto wal = co_await logical::PutWal(r.storage, "thing", std::move(data), 0);
    if (!wal.ok()) co_return wal.status();
    {
      std::lock_guard l(w->mu);
      w->alive.insert(n);
    }
    logical::SecretSpec spec{d.GetInt("ttl"), 0, true};
    spec.internal_data = {{"name", n}};
    spec.wal_ids.push_back(*wal);
    if (w->before_register) w->before_register();
    auto reg = co_await r.leases->Register(spec);
    if (!reg.ok()) co_return reg.status();
    {
      std::lock_guard l(w->mu);
      w->early_ids.push_back(reg->lease_id);
    }
    if (w->while_registered) w->while_registered();
    if (d.GetBool("fail")) co_return Status(StatusCode::kUpstream, "the last step failed");
    if (d.GetBool("other_lease")) reg->lease_id += "x";
    Response resp = Response::WithData({{"name", n}});
    spec.registered = std::move(*reg);
    resp.secret = std::move(spec);
    co_return resp;
  };
  auto b = std::make_shared<logical::FrameworkBackend>(
      "fake", std::vector<logical::Path>{p, intent, early});
  b->SetWalRollback({[w](Request&, const logical::WalEntry& e) -> Task<Status> {
                       std::lock_guard l(w->mu);
                       w->rolled_back.push_back(e.data["name"]);
                       co_return Status::Ok();
                     },
                     0});
  logical::SecretType t;
  t.type = "thing";
  t.revoke = [w](Request& r) -> Task<Result<Response>> {
    if (w->on_revoke) w->on_revoke();
    co_await ResumeOn(w->revoke_on);
    std::lock_guard l(w->mu);
    if (w->fail_revokes > 0) {
      --w->fail_revokes;
      co_return Status(w->fail_code, w->fail_message);
    }
    std::string n = r.secret->internal_data["name"];
    w->alive.erase(n);
    w->revoked.push_back(n);
    co_return Response();
  };
  t.renew = [w](Request& r) -> Task<Result<Response>> {
    if (w->during_renew) w->during_renew();
    Response resp;
    resp.secret = logical::SecretSpec{w->renew_ttl, w->renew_max, true};
    co_return resp;
  };
  b->SetSecretTypes({t});
  return b;
}

class ExpirationTest : public testing::Test {
 protected:
  void SetUp() override { Boot(true); }
  void Boot(bool init) {
    EngineRegistry reg;
    reg["fake"] = [this](const logical::MountInfo&) -> Result<std::shared_ptr<logical::Backend>> {
      return NewFakeEngine(&world_);
    };
    reg["kv"] = [](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
      return engines::NewKvBackend(m);
    };
    CoreConfig cfg;
    cfg.expiration.retry_base_ms = 1000;
    cfg.expiration.max_attempts = 3;
    cfg.expiration.throttle_retry_ms = 1000;
    core_ = std::make_unique<Core>(&physical_, reg, cfg, &clock_);
    if (init) {
      auto i = SyncWait(core_->Initialize(1, 1, std::string("root-token")));
      ASSERT_TRUE(i.ok()) << i.status().ToString();
      key_ = i->keys[0];
    }
    ASSERT_TRUE(SyncWait(core_->Unseal(key_)).ok());
    if (init) {
      ASSERT_TRUE(Do(Operation::kUpdate, "sys/mounts/fake", {{"type", "fake"}}).ok());
    }
    WaitFor([&] { return core_->expiration()->Restored(); });
  }
  Result<Response> Do(Operation op, std::string path, Json data = Json::object()) {
    return DoAs("root-token", op, std::move(path), std::move(data));
  }
  Result<Response> DoAs(const std::string& token, Operation op, std::string path,
                        Json data = Json::object()) {
    Request r;
    r.operation = op;
    r.path = std::move(path);
    r.data = std::move(data);
    r.client_token = token;
    return core_->HandleRequest(r);
  }
  // A root-policy token created with `params` (auth/token/create); "" on failure.
  std::string NewToken(Json params) {
    params["policies"] = {"root"};
    auto created = Do(Operation::kUpdate, "auth/token/create", std::move(params));
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->auth["client_token"].get<std::string>() : "";
  }
  std::string Issue(const std::string& name, int ttl, int max_ttl = 0, bool renewable = true) {
    auto r = Do(Operation::kRead, "fake/creds/" + name,
                {{"ttl", ttl}, {"max_ttl", max_ttl}, {"renewable", renewable}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->lease_id : "";
  }
  // Waits for the expiration manager's due work (Settle), then for `f` (conditions other threads
  // make true: an engine's revocation, a restore).
  template <class F>
  bool WaitFor(F f, int ms = 5000) {
    if (core_) core_->expiration()->Settle(std::chrono::milliseconds(ms));
    return testing_util::Eventually(f, std::chrono::milliseconds(ms));
  }
  // The timers due at the fake clock's time have fired and their revocations are done: what was
  // not due has not happened.
  void Settle() { ASSERT_TRUE(core_->expiration()->Settle()); }
  void Advance(int64_t s) {
    clock_.AdvanceSeconds(s);
    core_->expiration()->Wake();
  }
  Result<Json> Lookup(const std::string& id) {
    auto r = Do(Operation::kUpdate, "sys/leases/lookup", {{"lease_id", id}});
    if (!r.ok()) return r.status();
    return r->data;
  }

  // In-memory storage that can be told to fail the next batches deleting a lease.
  struct FlakyInmem : storage::InmemBackend {
    std::atomic<int> fail_lease_deletes{0};
    Task<Status> Write(std::vector<storage::Mutation> batch) override {
      for (const auto& m : batch) {
        if (!m.value && m.key.find("expire/id/") != std::string::npos &&
            fail_lease_deletes.load() > 0) {
          --fail_lease_deletes;
          co_return Status(StatusCode::kUnavailable, "disk on fire");
        }
      }
      Status st = co_await storage::InmemBackend::Write(std::move(batch));
      co_return st;
    }
  };

  FakeWorld world_;
  FlakyInmem physical_;
  FakeClock clock_;
  std::unique_ptr<Core> core_;
  std::string key_;
};

TEST_F(ExpirationTest, IssuedSecretGetsAPersistedLeaseAndExpiresOnTime) {
  auto r = Do(Operation::kRead, "fake/creds/a", {{"ttl", 10}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lease_duration, 10);
  EXPECT_EQ(r->lease_id.rfind("fake/creds/a/", 0), 0u) << r->lease_id;
  auto look = Lookup(r->lease_id);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ((*look)["ttl"], 10);
  EXPECT_EQ((*look)["renewable"], true);
  Advance(9);
  Settle();
  EXPECT_TRUE(world_.Alive("a"));
  Advance(1);
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("a"); }));
  ASSERT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); }));
  EXPECT_EQ(Lookup(r->lease_id).status().message(), "invalid lease");
}

// As in Vault, a token's leases end with the token: when its TTL runs out, core's background
// thread revokes the token and, through the token's revocation, every lease it holds, although the
// lease itself had an hour left. Nobody has to use or tidy the token first.
TEST_F(ExpirationTest, AnExpiringTokenTakesItsLeasesWithIt) {
  std::string token = NewToken({{"ttl", "30s"}});
  auto issued = DoAs(token, Operation::kRead, "fake/creds/tok", {{"ttl", 3600}});
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->lease_duration, 3600);
  std::string other = Issue("other", 3600);  // the root token's lease stays
  // Core's background pass does this every second; here the test runs it after moving the clock.
  Advance(29);
  ASSERT_TRUE(core_->RevokeExpiredTokensNow().ok());
  Settle();
  EXPECT_TRUE(world_.Alive("tok"));
  Advance(1);
  ASSERT_TRUE(core_->RevokeExpiredTokensNow().ok());
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("tok"); }, 5000));
  ASSERT_TRUE(WaitFor([&] { return !Lookup(issued->lease_id).ok(); }));
  EXPECT_TRUE(world_.Alive("other"));
  EXPECT_TRUE(Lookup(other).ok());
  auto self = Do(Operation::kUpdate, "auth/token/lookup", {{"token", token}});
  EXPECT_FALSE(self.ok());
}

// Tokens that expire together are revoked many at a time: each waits for its leases'
// revocations (AWS calls), and one after the other a mass expiry (after downtime, or many jobs'
// tokens) would take the sum of them. Here each revocation is at "AWS" (on a thread of its own)
// until all 40 are under way at once, or 3 s: 16 at a time, as with the blocking threads
// before, gets there only after 9 s, with `most` at 16.
TEST_F(ExpirationTest, TokensExpiringTogetherAreRevokedSeveralAtATime) {
  constexpr int kTokens = 40;
  std::vector<std::string> names;
  for (int i = 0; i < kTokens; ++i) {
    std::string token = NewToken({{"ttl", "30s"}});
    std::string name = "mass" + std::to_string(i);
    ASSERT_TRUE(DoAs(token, Operation::kRead, "fake/creds/" + name, {{"ttl", 3600}}).ok());
    names.push_back(name);
  }
  struct GatheringAws : Executor {
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0, most = 0;
    std::vector<std::thread> threads;
    void Post(std::function<void()> fn) override {
      std::lock_guard l(mu);
      threads.emplace_back([this, fn = std::move(fn)] {
        {
          std::unique_lock l(mu);
          most = std::max(most, ++in_flight);
          cv.notify_all();
          cv.wait_for(l, std::chrono::seconds(3), [&] { return most >= kTokens; });
          --in_flight;
        }
        fn();
      });
    }
    ~GatheringAws() override {
      std::vector<std::thread> all;
      {
        std::lock_guard l(mu);
        all.swap(threads);
      }
      for (auto& t : all) t.join();
    }
  } aws;
  world_.revoke_on = &aws;
  auto started = std::chrono::steady_clock::now();
  Advance(30);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& n : names)
          if (world_.Alive(n)) return false;
        return true;
      },
      20000));
  world_.revoke_on = nullptr;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  std::lock_guard l(aws.mu);
  EXPECT_EQ(aws.most, kTokens);
}

// A used-up token is refused at once; its revocation, with its leases, runs on core's background
// thread (woken at once), not on the thread of the request that used it up.
TEST_F(ExpirationTest, AUsedUpTokenIsRevokedWithItsLeasesInTheBackground) {
  std::string token = NewToken({{"num_uses", 2}});
  auto issued = DoAs(token, Operation::kRead, "fake/creds/used", {{"ttl", 3600}});
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  ASSERT_TRUE(DoAs(token, Operation::kRead, "sys/mounts").ok());  // the last use
  EXPECT_EQ(DoAs(token, Operation::kRead, "sys/mounts").status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("used"); }, 900));  // before the 1 s tick
  ASSERT_TRUE(WaitFor([&] { return !Lookup(issued->lease_id).ok(); }));
}

TEST_F(ExpirationTest, RenewExtendsButNeverPastTheMaxTtl) {
  std::string id = Issue("b", 10, 30);
  world_.renew_ttl = 10;
  world_.renew_max = 30;
  Advance(5);
  auto r = Do(Operation::kUpdate, "sys/renew/" + id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lease_id, id);
  EXPECT_EQ(r->lease_duration, 10);
  Advance(9);  // t=14: the original deadline (10) passed but the renewal holds until 15
  Settle();
  EXPECT_TRUE(world_.Alive("b"));
  auto r2 = Do(Operation::kUpdate, "sys/leases/renew", {{"lease_id", id}, {"increment", "1h"}});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->lease_duration, 16);  // capped at issue + 30
  ASSERT_EQ(r2->warnings.size(), 1u);
  Advance(16);
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("b"); }));
}

TEST_F(ExpirationTest, NonRenewableAndUnknownLeasesAreRefused) {
  std::string id = Issue("c", 10, 0, false);
  auto r = Do(Operation::kUpdate, "sys/leases/renew", {{"lease_id", id}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "lease is not renewable");
  auto unknown = Do(Operation::kUpdate, "sys/revoke/fake/creds/c/nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "invalid request");
}

TEST_F(ExpirationTest, RevokeAndRevokePrefix) {
  std::string a = Issue("d1", 100), b = Issue("d2", 100), c = Issue("e1", 100);
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/revoke/" + a).ok());
  EXPECT_FALSE(world_.Alive("d1"));
  EXPECT_TRUE(world_.Alive("d2"));
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/leases/revoke-prefix/fake/creds/d2").ok());
  EXPECT_FALSE(world_.Alive("d2"));
  EXPECT_TRUE(world_.Alive("e1"));
  auto list = Do(Operation::kList, "sys/leases/lookup/fake/creds/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->data["keys"], Json::array({"e1/"}));
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/revoke-prefix/fake").ok());
  EXPECT_FALSE(world_.Alive("e1"));
  EXPECT_FALSE(Lookup(c).ok());
}

TEST_F(ExpirationTest, FailedRevocationsBackOffThenBecomeIrrevocableAndForceRemovesThem) {
  std::string id = Issue("f", 10);
  world_.fail_revokes = 100;
  world_.fail_message = "AccessDenied: nope";
  Advance(10);
  ASSERT_TRUE(WaitFor([&] {
    auto l = Lookup(id);
    return l.ok() && l->value("revoke_attempts", 0) == 1;
  }));
  EXPECT_EQ((*Lookup(id))["revoke_error"], "AccessDenied: nope");
  // Backoff: 1 s base with +-50% jitter, doubling; three attempts in all.
  for (int i = 0; i < 3; ++i) {
    Advance(5);
    Settle();
  }
  ASSERT_TRUE(WaitFor([&] {
    auto l = Lookup(id);
    return l.ok() && l->value("irrevocable", false);
  }));
  auto l = Lookup(id);
  EXPECT_EQ((*l)["revoke_attempts"], 3);
  EXPECT_EQ((*l)["revoke_error"], "out of retries: AccessDenied: nope");
  EXPECT_FALSE(Do(Operation::kUpdate, "sys/leases/renew", {{"lease_id", id}}).ok());
  EXPECT_TRUE(world_.Alive("f"));
  // sys/leases/count and sys/leases report it by mount accessor, before and after a restart.
  auto counted = [&] {
    auto c = Do(Operation::kRead, "sys/leases/count", {{"type", "irrevocable"}});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->data : Json();
  };
  auto mounts = Do(Operation::kRead, "sys/mounts");
  ASSERT_TRUE(mounts.ok());
  const std::string accessor = mounts->data["fake/"]["accessor"];
  EXPECT_EQ(counted(), (Json{{"lease_count", 1}, {"counts", {{accessor, 1}}}}));
  auto listed = Do(Operation::kRead, "sys/leases", {{"type", "irrevocable"}});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->data["lease_count"], 1);
  EXPECT_EQ(listed->data["leases"],
            Json::array({{{"lease_id", id},
                          {"mount_id", accessor},
                          {"error", "out of retries: AccessDenied: nope"}}}));
  EXPECT_EQ(
      Do(Operation::kRead, "sys/leases", {{"type", "irrevocable"}, {"limit", "0"}}).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(Operation::kRead, "sys/leases/count", {{"type", "all"}}).status().code(),
            StatusCode::kNotFound);
  core_.reset();
  Boot(false);
  EXPECT_EQ(core_->expiration()->GetStats().irrevocable, 1);
  EXPECT_EQ(core_->expiration()->GetStats().leases, 1);
  EXPECT_EQ(counted()["lease_count"], 1);
  ASSERT_TRUE(Do(Operation::kUpdate, "sys/leases/revoke-force/fake/creds/f").ok());
  EXPECT_FALSE(Lookup(id).ok());
  EXPECT_EQ(counted(), (Json{{"lease_count", 0}, {"counts", Json::object()}}));
  EXPECT_EQ(core_->expiration()->GetStats().irrevocable, 0);
  EXPECT_EQ(core_->expiration()->GetStats().leases, 0);
}

TEST_F(ExpirationTest, ThrottlingDoesNotUseUpAttempts) {
  std::string id = Issue("g", 10);
  world_.fail_revokes = 5;
  world_.fail_code = StatusCode::kUpstreamThrottled;
  world_.fail_message = "Error deleting IAM user: Rate exceeded";
  Advance(10);
  for (int i = 0; i < 5; ++i) {
    // Each failed attempt is stored (and its retry armed) before the clock moves on.
    ASSERT_TRUE(WaitFor([&] { return core_->expiration()->GetStats().failed_attempts >= i + 1; }));
    Advance(2);
  }
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("g"); }));
  EXPECT_EQ(core_->expiration()->GetStats().irrevocable, 0);
}

TEST_F(ExpirationTest, LeasesSurviveARestartAndExpireAfterIt) {
  std::string id = Issue("h", 20);
  std::string kept = Issue("i", 1000);
  core_.reset();
  Boot(false);
  EXPECT_TRUE(Lookup(id).ok());
  EXPECT_EQ(core_->expiration()->GetStats().pending, 2);
  Advance(20);
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("h"); }));
  EXPECT_TRUE(world_.Alive("i"));
}

TEST_F(ExpirationTest, LeftoverWriteAheadEntriesAreRolledBackAtUnseal) {
  ASSERT_TRUE(Do(Operation::kUpdate, "fake/intent/orphan").ok());
  core_.reset();  // the "crash": the entry was never completed
  Boot(false);
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard l(world_.mu);
    return world_.rolled_back == std::vector<std::string>{"orphan"};
  }));
  // Undone once: the entry is gone, so the periodic rollback finds nothing more.
  core_.reset();
  Boot(false);
  ASSERT_TRUE(testing_util::Eventually([&] { return core_->RollbackPassesDone() >= 1; }));
  std::lock_guard l(world_.mu);
  EXPECT_EQ(world_.rolled_back.size(), 1u);
}

TEST_F(ExpirationTest, UnmountRevokesEveryLeaseFirst) {
  Issue("j", 100);
  Issue("k", 100);
  ASSERT_TRUE(Do(Operation::kDelete, "sys/mounts/fake").ok());
  EXPECT_FALSE(world_.Alive("j"));
  EXPECT_FALSE(world_.Alive("k"));
}

TEST_F(ExpirationTest, WriteAheadEntriesAreDroppedInTheSameBatchAsTheLease) {
  logical::MountInfo m;
  m.default_lease_ttl = 10;
  m.max_lease_ttl = 100;
  logical::SecretSpec spec;
  spec.ttl = 10;
  ASSERT_TRUE(SyncWait(physical_.Put("logical/x/wal/1", "intent")).ok());
  auto reg =
      SyncWait(core_->expiration()->Register("fake/creds/w", m, spec, "", {"logical/x/wal/1"}));
  ASSERT_TRUE(reg.ok());
  EXPECT_FALSE(SyncWait(physical_.Get("logical/x/wal/1"))->has_value());
  EXPECT_TRUE(Lookup(reg->lease_id).ok());
}

// An engine may register its secret's lease while it still waits (logical::LeaseRegistrar): the
// answer reports that lease, its write-ahead entry went with it, and it expires like any other.
// When AWS took seconds more after the registration (throttling, a call budget), the lease is
// moved to start with the answer: a short lease is not spent before the client has the secret.
TEST_F(ExpirationTest, ALeaseTheEngineRegisteredEarlyIsTheOneAnswered) {
  world_.while_registered = [&] { clock_.AdvanceSeconds(3); };  // AWS took 3 s more
  auto r = Do(Operation::kRead, "fake/early/e1", {{"ttl", 10}});
  world_.while_registered = nullptr;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(world_.early_ids.size(), 1u);
  EXPECT_EQ(r->lease_id, world_.early_ids[0]);
  EXPECT_EQ(r->lease_id.rfind("fake/early/e1/", 0), 0u) << r->lease_id;
  EXPECT_EQ(r->lease_duration, 10);
  auto look = Lookup(r->lease_id);
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  EXPECT_EQ((*look)["ttl"], 10);
  EXPECT_EQ((*look)["issue_time"], FormatRfc3339Nano(clock_.NowNanos()));
  auto wals = SyncWait(physical_.List(""));
  ASSERT_TRUE(wals.ok());
  for (const auto& k : *wals) EXPECT_EQ(k.find("wal/"), std::string::npos) << k;
  Advance(9);
  Settle();
  EXPECT_TRUE(world_.Alive("e1"));
  Advance(1);
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("e1"); }));
  ASSERT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); }));
}

// The usual wait (the last AWS calls, a tenth of a second) leaves the lease as registered.
TEST_F(ExpirationTest, AnEarlyLeaseAnsweredWithinASecondKeepsItsTimes) {
  const int64_t registered_at = clock_.NowNanos();
  world_.while_registered = [&] { clock_.SetNanos(clock_.NowNanos() + 400000000); };
  auto r = Do(Operation::kRead, "fake/early/e6", {{"ttl", 10}});
  world_.while_registered = nullptr;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lease_duration, 10);
  auto look = Lookup(r->lease_id);
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  EXPECT_EQ((*look)["issue_time"], FormatRfc3339Nano(registered_at / 1000000 * 1000000));
}

// While the request that registered it runs, the lease is left alone, even when it is due: the
// engine is not done making what it covers. Its timer looks again after the request.
TEST_F(ExpirationTest, AnEarlyLeaseIsHeldUntilItsRequestEnds) {
  bool alive_while_due = false;
  world_.while_registered = [&] {
    Advance(5);  // past its TTL of 2 s
    Settle();
    alive_while_due = world_.Alive("e2");
  };
  auto r = Do(Operation::kRead, "fake/early/e2", {{"ttl", 2}});
  world_.while_registered = nullptr;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(alive_while_due);
  EXPECT_TRUE(world_.Alive("e2"));
  // The request took 5 s after the registration, so the lease was moved to start with the
  // answer: it ends 2 s later, not at once.
  Advance(1);
  Settle();
  EXPECT_TRUE(world_.Alive("e2"));
  Advance(1);
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("e2"); }));
  ASSERT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); }));
}

// A user's revocation of a lease whose request is still running (the engine registered it and
// waits on AWS) is not lost: the secret is handed out, and the lease is revoked right after, long
// before its TTL. The same for a prefix and for the token's revocation.
TEST_F(ExpirationTest, RevokingAHeldLeaseRevokesItWhenItsRequestEnds) {
  std::string token = NewToken(Json::object());
  int n = 0;
  for (const char* how : {"lease", "prefix", "token"}) {
    std::string name = "h" + std::to_string(++n);
    bool alive_after_revoke = false, revoke_ok = false;
    world_.while_registered = [&] {
      std::string id;
      {
        std::lock_guard l(world_.mu);
        id = world_.early_ids.back();
      }
      Result<Response> rv = Status::Ok();
      if (std::string(how) == "lease") {
        rv = Do(Operation::kUpdate, "sys/leases/revoke", {{"lease_id", id}});
      } else if (std::string(how) == "prefix") {
        rv = Do(Operation::kUpdate, "sys/leases/revoke-prefix/fake/early/" + name);
      } else {
        rv = Do(Operation::kUpdate, "auth/token/revoke", {{"token", token}});
      }
      revoke_ok = rv.ok();
      Settle();
      alive_after_revoke = world_.Alive(name);
    };
    auto r = DoAs(token, Operation::kRead, "fake/early/" + name, {{"ttl", 3600}});
    world_.while_registered = nullptr;
    ASSERT_TRUE(r.ok()) << how << ": " << r.status().ToString();
    EXPECT_TRUE(revoke_ok) << how;
    EXPECT_TRUE(alive_after_revoke) << how << ": revoked under its request";
    EXPECT_TRUE(WaitFor([&] { return !world_.Alive(name); })) << how << ": never revoked";
    EXPECT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); })) << how;
  }
}

// revoke-force on a lease still held by its request keeps its force: once the request ends the
// lease is revoked, and removed even though the engine fails. A plain revocation in the same spot
// keeps the lease for its retries.
TEST_F(ExpirationTest, ForceRevokingAHeldLeaseRemovesItWhenItsRequestEndsEvenIfTheEngineFails) {
  for (bool force : {true, false}) {
    std::string name = force ? "fh" : "ph";
    bool revoke_ok = false;
    world_.while_registered = [&] {
      revoke_ok = Do(Operation::kUpdate, std::string("sys/leases/") +
                                             (force ? "revoke-force" : "revoke-prefix") +
                                             "/fake/early/" + name)
                      .ok();
      std::lock_guard l(world_.mu);
      world_.fail_revokes = 100;
      world_.fail_message = "AccessDenied: nope";
    };
    auto r = Do(Operation::kRead, "fake/early/" + name, {{"ttl", 3600}});
    world_.while_registered = nullptr;
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(revoke_ok);
    if (force) {
      EXPECT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); })) << "force was lost";
      EXPECT_TRUE(world_.Alive(name));  // the engine failed: only the lease went
    } else {
      ASSERT_TRUE(WaitFor([&] {
        auto l = Lookup(r->lease_id);
        return l.ok() && l->value("revoke_attempts", 0) >= 1;
      }));
      EXPECT_EQ((*Lookup(r->lease_id))["revoke_error"], "AccessDenied: nope");
    }
    std::lock_guard l(world_.mu);
    world_.fail_revokes = 0;
  }
}

// revoke-force while a plain revocation of the lease is under way (and fails): the lease goes
// once that attempt ends, instead of waiting for the attempt's retries.
TEST_F(ExpirationTest, ForceRevokingALeaseBeingRevokedRemovesItWhenThatAttemptFails) {
  std::string id = Issue("fr", 3600);
  {
    std::lock_guard l(world_.mu);
    world_.fail_revokes = 100;
    world_.fail_message = "AccessDenied: nope";
  }
  bool force_ok = false;
  std::atomic<bool> first{true};
  world_.on_revoke = [&] {
    if (first.exchange(false)) {
      force_ok = Do(Operation::kUpdate, "sys/leases/revoke-force/fake/creds/fr").ok();
    }
  };
  auto plain = Do(Operation::kUpdate, "sys/leases/revoke", {{"lease_id", id}});
  EXPECT_FALSE(plain.ok());
  EXPECT_TRUE(force_ok);
  EXPECT_TRUE(WaitFor([&] { return !Lookup(id).ok(); })) << "force was lost";
  world_.on_revoke = nullptr;
  std::lock_guard l(world_.mu);
  world_.fail_revokes = 0;
}

// A deferred revocation whose engine call succeeded but whose lease could not be deleted from
// storage is looked at again 5 s later, whatever the lease's own deadline (still an hour ahead).
TEST_F(ExpirationTest, ADeferredRevocationWhoseDeleteFailedIsRetried) {
  world_.while_registered = [&] {
    ASSERT_TRUE(Do(Operation::kUpdate, "sys/leases/revoke-prefix/fake/early/dw").ok());
    physical_.fail_lease_deletes = 1;
  };
  auto r = Do(Operation::kRead, "fake/early/dw", {{"ttl", 3600}});
  world_.while_registered = nullptr;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("dw"); }));  // revoked at AWS...
  ASSERT_TRUE(WaitFor([&] { return physical_.fail_lease_deletes.load() == 0; }));
  Settle();
  EXPECT_TRUE(Lookup(r->lease_id).ok());  // ...but still stored
  Advance(6);
  EXPECT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); })) << "never deleted";
}

// A revocation deferred because the lease's request was still running is stored: a server that
// stops before the request ends (here: its storage as it was at that moment, started again)
// revokes the lease as soon as it is back, not at the lease's TTL an hour later. The record is
// dropped at a later start, once the lease is gone.
TEST_F(ExpirationTest, ADeferredRevocationSurvivesAStopBeforeTheHoldEnds) {
  for (bool force : {false, true}) {
    std::string name = force ? "sf" : "sp";
    std::vector<std::pair<std::string, std::string>> at_stop;
    world_.while_registered = [&] {
      ASSERT_TRUE(Do(Operation::kUpdate, std::string("sys/leases/") +
                                             (force ? "revoke-force" : "revoke-prefix") +
                                             "/fake/early/" + name)
                      .ok());
      ASSERT_TRUE(SyncWait(physical_.Scan("", [&](std::string_view k, std::string_view v) {
                    at_stop.emplace_back(k, v);
                    return true;
                  })).ok());
    };
    auto r = Do(Operation::kRead, "fake/early/" + name, {{"ttl", 3600}});
    world_.while_registered = nullptr;
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(WaitFor([&] { return !world_.Alive(name); }));

    // The "crash": back to the storage of that moment, with the user still at AWS.
    core_.reset();
    std::vector<std::string> now;
    ASSERT_TRUE(SyncWait(physical_.Scan("", [&](std::string_view k, std::string_view) {
                  now.emplace_back(k);
                  return true;
                })).ok());
    for (const auto& k : now) ASSERT_TRUE(SyncWait(physical_.Delete(k)).ok());
    for (const auto& [k, v] : at_stop) ASSERT_TRUE(SyncWait(physical_.Put(k, v)).ok());
    {
      std::lock_guard l(world_.mu);
      world_.alive.insert(name);
      if (force) {
        world_.fail_revokes = 100;
        world_.fail_message = "AccessDenied: nope";
      }
    }
    Boot(false);
    if (force) {
      EXPECT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); })) << "force was lost";
      EXPECT_TRUE(world_.Alive(name));  // the engine failed: only the lease went
      std::lock_guard l(world_.mu);
      world_.fail_revokes = 0;
    } else {
      EXPECT_TRUE(WaitFor([&] { return !world_.Alive(name); })) << "not revoked after the restart";
      EXPECT_TRUE(WaitFor([&] { return !Lookup(r->lease_id).ok(); }));
    }
  }
  auto records = [&] {
    int n = 0;
    EXPECT_TRUE(SyncWait(physical_.Scan("", [&](std::string_view k, std::string_view) {
                  n += k.find("revoke-requested/") != std::string_view::npos;
                  return true;
                })).ok());
    return n;
  };
  EXPECT_GT(records(), 0);
  core_.reset();
  Boot(false);
  EXPECT_EQ(records(), 0);
}

// Before a mount goes, its leases go, including one whose request is still issuing it: the
// revocation waits for that request (here it cannot end meanwhile, so the wait runs out with an
// error and the mount must stay), then revokes it.
std::chrono::steady_clock::time_point SoonMs(int ms) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
}

TEST_F(ExpirationTest, AMountsLeasesAreRevokedBeforeItGoesIncludingOnesStillBeingIssued) {
  Issue("m1", 3600);
  Status during = Status::Ok();
  world_.while_registered = [&] {
    during = SyncWait(core_->expiration()->RevokeMountLeases("fake/", SoonMs(300)));
  };
  auto r = Do(Operation::kRead, "fake/early/m2", {{"ttl", 3600}});
  world_.while_registered = nullptr;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(during.code(), StatusCode::kInternal);
  EXPECT_NE(during.message().find("1 lease(s) under fake/ are still being issued"),
            std::string::npos)
      << during.message();
  EXPECT_FALSE(world_.Alive("m1"));  // the others went at once
  // The held one goes once its request ended, through the mount, which is still there.
  EXPECT_TRUE(WaitFor([&] { return !world_.Alive("m2"); }));
  EXPECT_TRUE(SyncWait(core_->expiration()->RevokeMountLeases("fake/", SoonMs(300))).ok());
  ASSERT_TRUE(Do(Operation::kDelete, "sys/mounts/fake").ok());
}

// Likewise a lease revoked while a renewal of it is under way: the renewal finishes, then the
// lease is revoked.
TEST_F(ExpirationTest, RevokingALeaseBeingRenewedRevokesItOnceTheRenewalEnds) {
  world_.renew_ttl = 3600;
  std::string id = Issue("r1", 3600);
  bool revoke_ok = false;
  world_.during_renew = [&] {
    revoke_ok = Do(Operation::kUpdate, "sys/leases/revoke", {{"lease_id", id}}).ok();
  };
  auto renewed = Do(Operation::kUpdate, "sys/leases/renew", {{"lease_id", id}});
  world_.during_renew = nullptr;
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_TRUE(revoke_ok);
  EXPECT_TRUE(WaitFor([&] { return !world_.Alive("r1"); }));
  EXPECT_TRUE(WaitFor([&] { return !Lookup(id).ok(); }));
}

// The token was revoked while its request ran but before the engine registered the lease, so the
// token's revocation found nothing to revoke: the lease registered afterwards is revoked anyway.
TEST_F(ExpirationTest, ALeaseRegisteredAfterItsTokenWasRevokedIsRevoked) {
  // `hook` is the world's hook that runs inside the engine at the moment in question.
  auto issue_revoking_the_token_at = [&](std::function<void()>* hook, const std::string& path) {
    std::string token = NewToken(Json::object());
    *hook = [&] {
      ASSERT_TRUE(Do(Operation::kUpdate, "auth/token/revoke", {{"token", token}}).ok());
    };
    auto r = DoAs(token, Operation::kRead, path, {{"ttl", 3600}});
    *hook = nullptr;
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->lease_id : "";
  };
  std::string id = issue_revoking_the_token_at(&world_.before_register, "fake/early/t1");
  EXPECT_TRUE(WaitFor([&] { return !world_.Alive("t1"); }));
  EXPECT_TRUE(WaitFor([&] { return !Lookup(id).ok(); }));
  // A lease core registers after the engine answered (no early registration) likewise.
  id = issue_revoking_the_token_at(&world_.before_answer, "fake/creds/t2");
  EXPECT_TRUE(WaitFor([&] { return !world_.Alive("t2"); }));
  EXPECT_TRUE(WaitFor([&] { return !Lookup(id).ok(); }));
  // Other tokens' leases are not touched.
  Issue("t3", 3600);
  Settle();
  EXPECT_TRUE(world_.Alive("t3"));
}

// The engine failed after registering: the secret is not handed out, so core revokes its lease
// through the engine (which undoes the thing) before answering with the engine's error.
TEST_F(ExpirationTest, AnEarlyLeaseWhoseRequestFailedIsRevokedBeforeTheAnswer) {
  auto r = Do(Operation::kRead, "fake/early/e3", {{"ttl", 100}, {"fail", true}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  EXPECT_EQ(r.status().messages(), std::vector<std::string>{"the last step failed"});
  EXPECT_FALSE(world_.Alive("e3"));
  ASSERT_EQ(world_.early_ids.size(), 1u);
  EXPECT_EQ(Lookup(world_.early_ids[0]).status().message(), "invalid lease");
  EXPECT_EQ(core_->expiration()->GetStats().revoked, 1);
}

// ... and when that revocation fails, the answer says so, and the lease is retried with backoff
// like a lease whose revocation at expiry failed, long before its TTL.
TEST_F(ExpirationTest, AnEarlyLeaseThatCouldNotBeRevokedIsReportedAndRetried) {
  world_.fail_revokes = 1;
  world_.fail_message = "ServiceFailure: try later";
  auto r = Do(Operation::kRead, "fake/early/e4", {{"ttl", 3600}, {"fail", true}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstream);
  ASSERT_EQ(r.status().messages().size(), 2u);
  EXPECT_EQ(r.status().messages()[0], "the last step failed");
  const std::string& note = r.status().messages()[1];
  EXPECT_EQ(note.rfind("lease fake/early/e4/", 0), 0u) << note;
  EXPECT_NE(note.find("could not be revoked yet and is retried: ServiceFailure: try later"),
            std::string::npos)
      << note;
  EXPECT_TRUE(world_.Alive("e4"));
  std::string id = world_.early_ids.at(0);
  auto look = Lookup(id);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ((*look)["revoke_attempts"], 1);
  Advance(2);  // the first retry comes after 1 s +-50 %, not after the hour
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("e4"); }));
  ASSERT_TRUE(WaitFor([&] { return !Lookup(id).ok(); }));
}

// An engine cannot answer with a lease this request did not register; the one it did register
// is revoked.
TEST_F(ExpirationTest, AnAnswerNamingALeaseTheRequestDidNotRegisterIsRefused) {
  auto r = Do(Operation::kRead, "fake/early/e5", {{"ttl", 100}, {"other_lease", true}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "the engine returned a lease it did not register");
  EXPECT_FALSE(world_.Alive("e5"));
  EXPECT_EQ(Lookup(world_.early_ids.at(0)).status().message(), "invalid lease");
}

// Revoking a token over the API waits for its leases' revocations (AWS calls) without holding
// the thread that runs the request: the request suspends while a revocation is at "AWS" and
// resumes where that one finishes. Here "AWS" answers only when the test lets it, on a thread of
// its own; the request must be back with its caller before.
TEST_F(ExpirationTest, RevokingATokenHoldsNoThreadWhileItsLeasesAreRevoked) {
  struct HeldAws : Executor {
    std::mutex mu;
    std::vector<std::function<void()>> held;
    void Post(std::function<void()> fn) override {
      std::lock_guard l(mu);
      held.push_back(std::move(fn));
    }
    void Answer() {
      std::vector<std::function<void()>> fns;
      {
        std::lock_guard l(mu);
        fns.swap(held);
      }
      std::thread([&fns] {
        for (auto& fn : fns) fn();
      }).join();
    }
  } aws;
  for (const char* path : {"auth/token/revoke", "auth/token/revoke-orphan",
                           "auth/token/revoke-accessor", "auth/token/revoke-self"}) {
    std::string name = "tk" + std::to_string(std::strlen(path));  // one per path
    std::string token = NewToken(Json::object());
    auto issued = DoAs(token, Operation::kRead, "fake/creds/" + name, {{"ttl", 3600}});
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    auto looked = DoAs(token, Operation::kRead, "auth/token/lookup-self");
    ASSERT_TRUE(looked.ok());
    world_.revoke_on = &aws;
    Request req;
    req.operation = Operation::kUpdate;
    req.path = path;
    req.client_token = std::string(path).ends_with("self") ? token : "root-token";
    if (std::string(path).ends_with("accessor")) {
      req.data = {{"accessor", looked->data["accessor"]}};
    } else if (!std::string(path).ends_with("self")) {
      req.data = {{"token", token}};
    }
    std::atomic<bool> done{false};
    Result<Response> out = Status::Ok();
    auto started = std::chrono::steady_clock::now();
    StartTask(core_->HandleRequestAsync(req), [&](Result<Response> r) {
      out = std::move(r);
      done = true;
    });
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500))
        << path << ": the request held its thread while the lease was revoked";
    EXPECT_FALSE(done.load()) << path;
    aws.Answer();
    ASSERT_TRUE(WaitFor([&] { return done.load(); }, 5000)) << path;
    EXPECT_TRUE(out.ok()) << path << ": " << out.status().ToString();
    EXPECT_FALSE(world_.Alive(name)) << path;
    world_.revoke_on = nullptr;
  }
}

// revoke-prefix runs up to 128 revocations at once; when they finish on other threads (as AWS
// calls do), RunBounded's shared state used to be released once too often (a GCC 12 coroutine
// temporary) and freed while still in use: heap corruption after a few hundred leases. Valgrind
// and ASan report it here; a plain build rarely crashes.
TEST_F(ExpirationTest, RevokePrefixOfManyLeasesFinishingOnOtherThreads) {
  ThreadPool pool(4);
  world_.revoke_on = &pool;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 600; ++i)
      Issue("p" + std::to_string(round) + "x" + std::to_string(i), 1000);
    ASSERT_TRUE(Do(Operation::kUpdate, "sys/leases/revoke-prefix/fake/creds").ok());
    std::lock_guard l(world_.mu);
    EXPECT_TRUE(world_.alive.empty());
    EXPECT_EQ(world_.revoked.size(), 600u * (round + 1));
  }
  world_.revoke_on = nullptr;
}

TEST_F(ExpirationTest, ManyLeasesExpireTogether) {
  for (int i = 0; i < 2000; ++i) Issue("m" + std::to_string(i), 10);
  Advance(10);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard l(world_.mu);
        return world_.revoked.size() == 2000;
      },
      20000));
  // Storage deletions follow in batches.
  ASSERT_TRUE(WaitFor([&] { return core_->expiration()->GetStats().revoked == 2000; }));
  auto list = Do(Operation::kList, "sys/leases/lookup/fake/creds/");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->Empty());
}

TEST_F(ExpirationTest, TidyRemovesIndexEntriesOfLeasesThatAreGoneAndKeepsTheRest) {
  std::string kept = Issue("t1", 100);
  std::string lost = Issue("t2", 100);
  auto index_keys = [&](const std::string& id) {
    std::vector<std::string> keys;
    EXPECT_TRUE(SyncWait(physical_.Scan("sys/expire/", [&](std::string_view k, std::string_view) {
                  if (k.size() > id.size() && k.substr(k.size() - id.size()) == id &&
                      k.rfind("sys/expire/id/", 0) != 0)
                    keys.emplace_back(k);
                  return true;
                })).ok());
    return keys;
  };
  EXPECT_EQ(index_keys(lost).size(), 2u);  // deadline and token index
  // A lease record lost without its index entries (as a crash between writes of an older
  // version could leave them).
  ASSERT_TRUE(SyncWait(physical_.Delete("sys/expire/id/" + lost)).ok());
  auto r = Do(Operation::kUpdate, "sys/leases/tidy");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "Tidy operation completed: checked 4 index entries, removed 2");
  EXPECT_TRUE(index_keys(lost).empty());
  EXPECT_EQ(index_keys(kept).size(), 2u);
  EXPECT_TRUE(Lookup(kept).ok());
  // Nothing left to tidy; the kept lease still expires on time.
  r = Do(Operation::kUpdate, "sys/leases/tidy");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->warnings[0], "Tidy operation completed: checked 2 index entries, removed 0");
  Advance(100);
  ASSERT_TRUE(WaitFor([&] { return !world_.Alive("t1"); }));
}

TEST(LeaseEntryTest, EncodeDecodeRoundTripAndEarlierJsonForm) {
  LeaseEntry e;
  e.lease_id = "aws/creds/deploy/3f0c9a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6";
  e.path = "aws/creds/deploy";
  e.token_accessor = "acc";
  e.internal_data = {{"username", "vault-x"}, {"secret_type", "access_keys"}, {"n", 3}};
  e.issue_time_ms = 1700000000123;
  e.expire_time_ms = 1700003600123;
  e.last_renewal_ms = 1700000100000;
  e.ttl = 3600;
  e.renewable = true;
  e.revoke_attempts = 2;
  e.next_attempt_ms = 1700003700000;
  e.revoke_error = "Error deleting IAM user: boom";
  e.irrevocable = true;
  std::string enc = e.Encode();
  auto d = LeaseEntry::Decode(enc);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->lease_id, e.lease_id);
  EXPECT_EQ(d->path, e.path);
  EXPECT_EQ(d->token_accessor, e.token_accessor);
  EXPECT_EQ(d->internal_data, e.internal_data);
  EXPECT_EQ(d->issue_time_ms, e.issue_time_ms);
  EXPECT_EQ(d->expire_time_ms, e.expire_time_ms);
  EXPECT_EQ(d->last_renewal_ms, e.last_renewal_ms);
  EXPECT_EQ(d->ttl, e.ttl);
  EXPECT_TRUE(d->renewable);
  EXPECT_EQ(d->revoke_attempts, 2);
  EXPECT_EQ(d->next_attempt_ms, e.next_attempt_ms);
  EXPECT_EQ(d->revoke_error, e.revoke_error);
  EXPECT_TRUE(d->irrevocable);

  // Every truncation and a trailing byte are refused, never read past the end.
  for (size_t n = 0; n < enc.size(); ++n)
    EXPECT_FALSE(LeaseEntry::Decode(std::string_view(enc).substr(0, n)).ok()) << n;
  EXPECT_FALSE(LeaseEntry::Decode(enc + "x").ok());

  // Leases stored by earlier versions are JSON.
  auto legacy =
      LeaseEntry::Decode(R"({"lease_id":"aws/creds/a/1","path":"aws/creds/a","token_accessor":"t",)"
                         R"("internal_data":{"username":"u"},"issue_time_ms":5,"expire_time_ms":7,)"
                         R"("ttl":2,"renewable":true,"revoke_attempts":1,"revoke_error":"e"})");
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  EXPECT_EQ(legacy->lease_id, "aws/creds/a/1");
  EXPECT_EQ(legacy->internal_data["username"], "u");
  EXPECT_EQ(legacy->expire_time_ms, 7);
  EXPECT_TRUE(legacy->renewable);
  EXPECT_EQ(legacy->revoke_attempts, 1);
  EXPECT_FALSE(LeaseEntry::Decode("{not json").ok());
}

// Found by fuzz/lease_entry: a JSON-form lease with a member of another type made nlohmann throw
// (which ends the process inside a coroutine), and a CBOR array declaring more elements than a
// container can hold made from_cbor throw although asked not to. Both are corrupt leases now.
TEST(LeaseEntryTest, CorruptStoredFormsAreRefused) {
  const std::string json_form =
      R"({"lease_id": "secret/lease/abc", "path": "secret/x", "token_accessor": "acc", )"
      R"("internal_data": {"k": [1, "v"]}, "issue_time_mu": 1700000000000, "expire_time_ms": )"
      R"(1700000060000, "ttl": 60, "renewable": "acc", "internal_data": {"k": [1, "v"]}, )"
      R"("issue_time_mu": 1700000000000, "expire_time_mirrevocable": false})";
  const std::string cbor_huge_array(
      "\x01\x03\x0e\x00\x00\x00\x61\x77\x73\x2f\x63\x72\x65\x64\x73\x2f\x78\x2f\x69\x64"
      "\x0b\x00\x00\x00\x61\x77\x73\x2f\x63\x72\x65\x64\x73\x2f\x78\x00\x00\x00\x00\x19"
      "\x00\x00\x00\xa3\x61\x61\x83\x01\x20\xf9\x3c\x00\x65\x64\x73\xd1\x87\xd0\x96\x9b"
      "\xf5\x00\x05\x00\x61\x77\x73\x2f\x63\x72\x65\x00\x00\x20\x00\x00\x02\x00\x00\x00"
      "\x00\x6e\x65\x78\x74\x5f\x61\x74\x74\x65\x6d\x70\x74\x5f\x6d\x73\x00\x61\x77\x00"
      "\x05\x00\x00\x00\x00\x00\x00\x00\x00\x68\xe5\xcf\x8b\x01\x00\x00\x19\x00\x00\x00"
      "\x41\x63\x63\x65\x73\x73\x44\x65\x6e\x69\x65\x64\x3a\x20\x6e\x6e\x74\x20\x61\x6c"
      "\x6c\x6f\x77\x65\x64",
      145);
  for (const std::string& stored :
       {json_form, cbor_huge_array, std::string(R"({"lease_id":"x","ttl":1.5})"),
        std::string(R"({"lease_id":"x","revoke_attempts":4294967296})"),
        std::string(R"({"lease_id":7})"), std::string(R"({"path":"no id"})")}) {
    auto d = LeaseEntry::Decode(stored);
    ASSERT_FALSE(d.ok()) << stored;
    EXPECT_EQ(d.status().code(), StatusCode::kInternal);
  }
}

// The timer heap stores "<path>/<uuid>" ids compactly and keeps any other id as it is; leases in
// either form, and leases stored as JSON by earlier versions, are restored and revoked on time.
TEST(ExpirationManagerTest, RestoresAndRevokesLeasesOfEveryIdFormAndStoredForm) {
  storage::InmemBackend physical;
  FakeClock clock;
  barrier::Barrier barrier(&physical, &clock);
  ASSERT_TRUE(SyncWait(barrier.Initialize(std::string(32, 'k'))).ok());
  std::mutex mu;
  std::vector<std::string> revoked;
  auto dispatch = [&](logical::Request& r) -> Task<Result<logical::Response>> {
    std::lock_guard l(mu);
    revoked.push_back(r.secret->lease_id);
    co_return logical::Response();
  };
  logical::MountInfo mount{"fake/", "fake", 100, 1000};
  auto ttls = [&](std::string_view) -> std::optional<logical::MountInfo> { return mount; };
  int64_t now_ms = clock.NowNanos() / 1000000;
  // Stored by hand as an earlier version would have: JSON value, deadline and token index.
  auto put_json_lease = [&](const std::string& id, int64_t expire_ms) {
    Json j = {{"lease_id", id},
              {"path", "fake/creds/old"},
              {"token_accessor", ""},
              {"internal_data", {{"name", id}}},
              {"issue_time_ms", now_ms},
              {"expire_time_ms", expire_ms},
              {"ttl", 10},
              {"renewable", true}};
    char deadline[32];
    std::snprintf(deadline, sizeof(deadline), "%015lld/", static_cast<long long>(expire_ms));
    ASSERT_TRUE(SyncWait(barrier.Write({{"sys/expire/id/" + id, DumpJson(j)},
                                        {std::string("sys/expire/deadline/") + deadline + id, ""}}))
                    .ok());
  };
  put_json_lease("fake/creds/old/not-a-uuid", now_ms + 10000);
  put_json_lease("fake/creds/old/3F0C9A9E-1B2C-4D5E-8F90-A1B2C3D4E5F6", now_ms + 10000);
  put_json_lease("fake/creds/old/later", now_ms + 50000);
  std::string fresh;
  {
    ExpirationManager first(&barrier, &clock, dispatch, ttls);
    first.Start();
    logical::SecretSpec spec;
    spec.ttl = 20;
    auto r = SyncWait(first.Register("fake/creds/new", mount, spec, "", {}));
    ASSERT_TRUE(r.ok());
    fresh = r->lease_id;
    first.Stop();
  }
  ExpirationManager exp(&barrier, &clock, dispatch, ttls);
  exp.Start();
  ASSERT_TRUE(exp.Settle());
  ASSERT_TRUE(exp.Restored());
  EXPECT_EQ(exp.GetStats().pending, 4);
  auto revoked_now = [&] {
    std::lock_guard l(mu);
    return std::set<std::string>(revoked.begin(), revoked.end());
  };
  auto wait_revoked = [&](size_t) {
    EXPECT_TRUE(exp.Settle());
    return exp.GetStats().revoked;
  };
  clock.AdvanceSeconds(25);
  EXPECT_EQ(wait_revoked(3), 3);
  EXPECT_EQ(revoked_now(),
            (std::set<std::string>{"fake/creds/old/not-a-uuid",
                                   "fake/creds/old/3F0C9A9E-1B2C-4D5E-8F90-A1B2C3D4E5F6", fresh}));
  EXPECT_TRUE(SyncWait(exp.Lookup("fake/creds/old/later")).ok());
  clock.AdvanceSeconds(30);
  EXPECT_EQ(wait_revoked(4), 4);
  EXPECT_FALSE(SyncWait(exp.Lookup("fake/creds/old/later")).ok());
  EXPECT_EQ(exp.GetStats().pending, 0);
  exp.Stop();
}

}  // namespace
}  // namespace vault::core
