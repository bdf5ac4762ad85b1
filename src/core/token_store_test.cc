#include "core/token_store.h"

#include <gtest/gtest.h>

#include "logical/testing.h"

namespace vault::core {
namespace {

// A synchronous hook as the store's coroutine hook. The coroutine refers to this closure, which
// lives in the copy of the hook that the revocation holds until the call is awaited.
TokenStore::RevokeHook SyncHook(std::function<Status(const TokenEntry&)> hook) {
  return [hook = std::move(hook)](const TokenEntry& e) -> Task<Status> { co_return hook(e); };
}

class TokenStoreTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(SyncWait(store_.Setup()).ok()); }
  std::string Make(const std::string& parent_token, int64_t ttl = 3600, int64_t uses = 0) {
    TokenCreateParams p;
    if (!parent_token.empty()) p.parent_hash = *store_.HashOf(parent_token);
    p.policies = {"default"};
    p.display_name = "token";
    p.path = "auth/token/create";
    p.ttl = ttl;
    p.num_uses = uses;
    auto t = SyncWait(store_.Create(p));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return *t;
  }
  bool Live(const std::string& token) { return *SyncWait(store_.Lookup(token)) != nullptr; }

  logical::MemStorage storage_;
  FakeClock clock_;
  TokenStore store_{&storage_, &clock_};
};

TEST_F(TokenStoreTest, IdsAreRandomAndStoredOnlyHashed) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string child = Make(root);
  EXPECT_EQ(root.rfind("hvs.", 0), 0u);
  EXPECT_NE(root, child);
  auto keys = SyncWait(storage_.List("sys/token/id/"));
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);
  for (const auto& k : *keys) {
    EXPECT_EQ(k.find(root), std::string::npos);
    auto v = SyncWait(storage_.Get("sys/token/id/" + k));
    EXPECT_EQ(v->value().find(root), std::string::npos);
    EXPECT_EQ(v->value().find(child), std::string::npos);
  }
  auto e = *SyncWait(store_.Lookup(child));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id_hash, *store_.HashOf(child));
  EXPECT_EQ(e->parent_hash, *store_.HashOf(root));
  EXPECT_FALSE(*SyncWait(store_.Lookup("hvs.nottherightone")));
  EXPECT_FALSE(*SyncWait(store_.Lookup("")));
}

TEST_F(TokenStoreTest, RevokingAParentRevokesChildrenFirstThroughTheHook) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root);
  std::string b = Make(a);
  std::string c = Make(b);
  std::string other = Make(root);
  std::vector<std::string> revoked;
  store_.SetRevokeHook(SyncHook([&](const TokenEntry& e) {
    revoked.push_back(e.id_hash);
    // The entry still exists when the hook runs.
    EXPECT_TRUE(SyncWait(storage_.Get("sys/token/id/" + e.id_hash))->has_value());
    return Status::Ok();
  }));
  ASSERT_TRUE(SyncWait(store_.RevokeTree(*store_.HashOf(a))).ok());
  EXPECT_EQ(revoked,
            (std::vector<std::string>{*store_.HashOf(c), *store_.HashOf(b), *store_.HashOf(a)}));
  EXPECT_FALSE(Live(a));
  EXPECT_FALSE(Live(b));
  EXPECT_FALSE(Live(c));
  EXPECT_TRUE(Live(other));
  EXPECT_TRUE(Live(root));
}

TEST_F(TokenStoreTest, AHookFailureLeavesTheTokenUnusable) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root);
  store_.SetRevokeHook(SyncHook([](const TokenEntry&) { return Internal("lease backend down"); }));
  EXPECT_FALSE(SyncWait(store_.RevokeTree(*store_.HashOf(a))).ok());
  EXPECT_FALSE(Live(a));  // pending revocation
  store_.SetRevokeHook(nullptr);
  ASSERT_TRUE(SyncWait(store_.Tidy()).ok());  // retried
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(a)))->has_value());
}

// The hook (core: the token's leases, AWS calls that can take seconds) runs without the store's
// write lock: tokens are created and used meanwhile (this deadlocked when the lock was held), while
// the tokens being revoked are already unusable.
TEST_F(TokenStoreTest, TheHookRunsWithoutBlockingOtherTokenWrites) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string other_root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root);
  std::string b = Make(a);
  std::string limited = Make(other_root, 3600, 5);
  std::vector<std::string> made;
  store_.SetRevokeHook(SyncHook([&](const TokenEntry&) {
    EXPECT_FALSE(Live(a));  // revocation-pending from the start
    EXPECT_FALSE(Live(b));
    made.push_back(Make(other_root));
    EXPECT_EQ(*SyncWait(store_.Use(*store_.HashOf(limited))), false);
    return Status::Ok();
  }));
  ASSERT_TRUE(SyncWait(store_.RevokeTree(*store_.HashOf(a))).ok());
  ASSERT_EQ(made.size(), 2u);
  for (const auto& t : made) EXPECT_TRUE(Live(t));
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(a)))->has_value());
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(b)))->has_value());
  EXPECT_EQ((*SyncWait(store_.Lookup(limited)))->num_uses, 3);
  ASSERT_TRUE(SyncWait(store_.RevokeOrphan(*store_.HashOf(root))).ok());  // the orphan path too
  EXPECT_EQ(made.size(), 3u);
  EXPECT_FALSE(Live(root));
  EXPECT_TRUE(Live(made.back()));
}

TEST_F(TokenStoreTest, RevokeOrphanKeepsChildren) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root);
  std::string b = Make(a);
  ASSERT_TRUE(SyncWait(store_.RevokeOrphan(*store_.HashOf(a))).ok());
  EXPECT_FALSE(Live(a));
  ASSERT_TRUE(Live(b));
  EXPECT_TRUE((*SyncWait(store_.Lookup(b)))->Orphan());
}

TEST_F(TokenStoreTest, ExpiredTokensStopAtOnceAndAreCleanedUp) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root, 60);
  std::string child = Make(a, 3600);
  int hooked = 0;
  store_.SetRevokeHook(SyncHook([&](const TokenEntry&) {
    ++hooked;
    return Status::Ok();
  }));
  EXPECT_TRUE(Live(a));
  clock_.AdvanceSeconds(60);
  EXPECT_FALSE(Live(a));  // refused at once
  EXPECT_EQ(hooked, 0);   // revoked by the expiry pass, not on the caller's thread
  ASSERT_TRUE(SyncWait(store_.RevokeExpired()).ok());
  EXPECT_EQ(hooked, 2);  // the expired token and its child
  EXPECT_FALSE(Live(child));
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(a)))->has_value());
  EXPECT_TRUE(Live(root));  // root tokens never expire
}

// RevokeExpired() (core calls it every second) revokes tokens whose TTL ran out without anyone
// looking them up, skips renewed ones, and knows the deadlines of tokens written before a restart.
TEST_F(TokenStoreTest, ExpiredTokensAreRevokedWithoutALookup) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root, 10);
  std::string renewed = Make(root, 10);
  std::string later = Make(root, 100);
  TokenStore restarted(&storage_, &clock_);  // another process on the same storage
  ASSERT_TRUE(SyncWait(restarted.Setup()).ok());
  std::vector<std::string> hooked;
  restarted.SetRevokeHook(SyncHook([&](const TokenEntry& e) {
    hooked.push_back(e.id_hash);
    return Status::Ok();
  }));
  clock_.AdvanceSeconds(5);
  ASSERT_TRUE(SyncWait(restarted.Renew(*restarted.HashOf(renewed), 60, 0)).ok());
  ASSERT_TRUE(SyncWait(restarted.RevokeExpired()).ok());
  EXPECT_TRUE(hooked.empty());
  clock_.AdvanceSeconds(6);
  ASSERT_TRUE(SyncWait(restarted.RevokeExpired()).ok());
  EXPECT_EQ(hooked, std::vector<std::string>{*restarted.HashOf(a)});
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *restarted.HashOf(a)))->has_value());
  EXPECT_TRUE(SyncWait(storage_.Get("sys/token/id/" + *restarted.HashOf(renewed)))->has_value());
  clock_.AdvanceSeconds(100);
  ASSERT_TRUE(SyncWait(restarted.RevokeExpired()).ok());
  EXPECT_EQ(hooked.size(), 3u);
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *restarted.HashOf(later)))->has_value());
  EXPECT_TRUE(SyncWait(storage_.Get("sys/token/id/" + *restarted.HashOf(root)))->has_value());
}

// A failing hook leaves the token pending (unusable) and it is tried again 10 s later.
TEST_F(TokenStoreTest, AFailedExpiryRevocationIsRetried) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root, 10);
  int calls = 0;
  store_.SetRevokeHook(SyncHook([&](const TokenEntry&) {
    return ++calls == 1 ? Internal("lease backend down") : Status::Ok();
  }));
  clock_.AdvanceSeconds(10);
  EXPECT_FALSE(SyncWait(store_.RevokeExpired()).ok());
  EXPECT_TRUE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(a)))->has_value());
  clock_.AdvanceSeconds(5);
  ASSERT_TRUE(SyncWait(store_.RevokeExpired()).ok());
  EXPECT_EQ(calls, 1);
  clock_.AdvanceSeconds(5);
  ASSERT_TRUE(SyncWait(store_.RevokeExpired()).ok());
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(a)))->has_value());

  // A revocation that failed before a restart (the token is left pending, without a TTL here)
  // is finished by the restarted store's first pass.
  std::string b = Make(root);
  store_.SetRevokeHook(SyncHook([](const TokenEntry&) { return Internal("lease backend down"); }));
  EXPECT_FALSE(SyncWait(store_.RevokeTree(*store_.HashOf(b))).ok());
  TokenStore restarted(&storage_, &clock_);
  ASSERT_TRUE(SyncWait(restarted.Setup()).ok());
  int again = 0;
  restarted.SetRevokeHook(SyncHook([&](const TokenEntry&) {
    ++again;
    return Status::Ok();
  }));
  ASSERT_TRUE(SyncWait(restarted.RevokeExpired()).ok());
  EXPECT_EQ(again, 1);
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(b)))->has_value());
}

TEST_F(TokenStoreTest, TidyRevokesExpiredTokensNobodyLooksUp) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root, 10);
  clock_.AdvanceSeconds(11);
  ASSERT_TRUE(SyncWait(store_.Tidy()).ok());
  EXPECT_FALSE(SyncWait(storage_.Get("sys/token/id/" + *store_.HashOf(a)))->has_value());
}

TEST_F(TokenStoreTest, NumUses) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root, 3600, 2);
  std::string h = *store_.HashOf(a);
  EXPECT_FALSE(*SyncWait(store_.Use(h)));
  EXPECT_TRUE(*SyncWait(store_.Use(h)));  // the last one
  EXPECT_FALSE(Live(a));
  EXPECT_EQ(SyncWait(store_.Use(h)).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(TokenStoreTest, AccessorsAndRenew) {
  std::string root = *SyncWait(store_.CreateRoot(std::nullopt));
  std::string a = Make(root, 100);
  auto e = *SyncWait(store_.Lookup(a));
  auto by_acc = *SyncWait(store_.LookupAccessor(e->accessor));
  ASSERT_TRUE(by_acc);
  EXPECT_EQ(by_acc->id_hash, e->id_hash);
  auto accessors = *SyncWait(store_.ListAccessors());
  EXPECT_EQ(accessors.size(), 2u);
  clock_.AdvanceSeconds(50);
  auto renewed = SyncWait(store_.Renew(e->id_hash, 500, 0));
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ((*renewed)->expire_time, clock_.NowSeconds() + 500);
  EXPECT_EQ(SyncWait(store_.Renew(*store_.HashOf(root), 10, 0)).status().code(),
            StatusCode::kInvalidArgument);  // non-expiring root
  ASSERT_TRUE(SyncWait(store_.RevokeTree(e->id_hash)).ok());
  EXPECT_FALSE(*SyncWait(store_.LookupAccessor(e->accessor)));
}

TEST_F(TokenStoreTest, TokensSurviveARestartOfTheStore) {
  std::string root = *SyncWait(store_.CreateRoot(std::string("fixed-root")));
  EXPECT_EQ(root, "fixed-root");
  TokenStore again(&storage_, &clock_);
  ASSERT_TRUE(SyncWait(again.Setup()).ok());
  auto e = *SyncWait(again.Lookup("fixed-root"));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->IsRoot());
  EXPECT_EQ(e->display_name, "root");
  EXPECT_EQ(SyncWait(store_.CreateRoot(std::string("fixed-root"))).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TokenEntryTest, StoredFormRoundTrips) {
  TokenEntry e;
  e.id_hash = "h";
  e.accessor = "a";
  e.parent_hash = "p";
  e.policies = {"default", "dev"};
  e.meta = {{"role_name", "ci"}};
  e.num_uses = 3;
  e.creation_time = 1700000000;
  e.ttl = 3600;
  e.expire_time = 1700003600;
  e.renewable = true;
  e.bound_cidrs = {"10.0.0.0/8"};
  e.login = {{"metadata", {{"role_name", "ci"}}}};
  e.mount_accessor = "auth_approle_1";
  e.role = "r";
  auto back = TokenEntry::FromJson(e.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), e.ToJson());
  // Entries written before expire_time existed expire at creation + ttl.
  auto old = TokenEntry::FromJson(Json::parse(R"({"creation_time":100,"ttl":60})"));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->expire_time, 160);
}

// Found by fuzz/token_entry: a stored entry that was not an object, or had a member of another
// type, made nlohmann throw, which ends the process inside a coroutine. Now it is corrupt.
TEST(TokenEntryTest, ACorruptStoredEntryIsRefused) {
  for (const char* doc : {"4", R"(["a"])", R"({"ttl":"1h"})", R"({"ttl":1e300})",
                          R"({"policies":"root"})", R"({"policies":["root",7]})",
                          R"({"renewable":"true"})", R"({"num_uses":18446744073709551615})",
                          R"({"creation_time":9223372036854775807,"ttl":1})"}) {
    auto e = TokenEntry::FromJson(Json::parse(doc));
    ASSERT_FALSE(e.ok()) << doc;
    EXPECT_EQ(e.status().code(), StatusCode::kInternal) << doc;
  }
}

TEST_F(TokenStoreTest, ACorruptStoredEntryIsAnErrorInsteadOfTheEndOfTheProcess) {
  std::string token = Make("");
  ASSERT_TRUE(storage_.PutNow("sys/token/id/" + *store_.HashOf(token), "4").ok());
  // A store set up over this storage (as at unseal) reads every entry.
  TokenStore fresh(&storage_, &clock_);
  Status st = SyncWait(fresh.Setup());
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
}

}  // namespace
}  // namespace vault::core
