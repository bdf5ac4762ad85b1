#include "barrier/barrier.h"

#include <gtest/gtest.h>

#include "barrier/seal.h"
#include "crypto/shamir.h"
#include "storage/inmem.h"
#include "util/encoding.h"

namespace vault::barrier {
namespace {

class BarrierTest : public testing::Test {
 protected:
  storage::InmemBackend physical_;
  FakeClock clock_;
  Barrier barrier_{&physical_, &clock_};
  SealManager seal_{&physical_, &barrier_};
};

TEST_F(BarrierTest, NothingInClearAtRest) {
  auto shares = SyncWait(seal_.Initialize(1, 1));
  ASSERT_TRUE(shares.ok());
  ASSERT_TRUE(SyncWait(barrier_.Put("logical/x/secret", "super-secret-value")).ok());
  EXPECT_EQ(**SyncWait(barrier_.Get("logical/x/secret")), "super-secret-value");
  bool found_plain = false;
  ASSERT_TRUE(SyncWait(physical_.Scan("", [&](std::string_view k, std::string_view v) {
                if (v.find("super-secret") != std::string_view::npos) found_plain = true;
                if (k == "logical/x/secret") {
                  EXPECT_EQ(v[3], 1);  // term 1
                  EXPECT_EQ(v[4], 2);  // version 2 (path as AAD)
                }
                return true;
              })).ok());
  EXPECT_FALSE(found_plain);
}

TEST_F(BarrierTest, CiphertextIsBoundToItsPath) {
  ASSERT_TRUE(SyncWait(seal_.Initialize(1, 1)).ok());
  ASSERT_TRUE(SyncWait(barrier_.Put("a", "value")).ok());
  auto raw = **SyncWait(physical_.Get("a"));
  ASSERT_TRUE(SyncWait(physical_.Put("b", raw)).ok());
  auto moved = SyncWait(barrier_.Get("b"));
  EXPECT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), StatusCode::kInternal);
}

TEST_F(BarrierTest, SealedRefusesEverything) {
  ASSERT_TRUE(SyncWait(seal_.Initialize(1, 1)).ok());
  seal_.Seal();
  EXPECT_EQ(SyncWait(barrier_.Get("a")).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(SyncWait(barrier_.Get("a")).status().message(), "Vault is sealed");
  EXPECT_EQ(SyncWait(barrier_.Put("a", "b")).code(), StatusCode::kUnavailable);
}

TEST_F(BarrierTest, ShamirUnsealWithThreshold) {
  auto shares = SyncWait(seal_.Initialize(5, 3));
  ASSERT_TRUE(shares.ok());
  ASSERT_EQ(shares->size(), 5u);
  EXPECT_EQ((*shares)[0].size(), 33u);
  ASSERT_TRUE(SyncWait(barrier_.Put("k", "v")).ok());
  seal_.Seal();
  auto st = SyncWait(seal_.SubmitShare((*shares)[4]));
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->sealed);
  EXPECT_EQ(st->progress, 1);
  EXPECT_FALSE(st->nonce.empty());
  // The same share again does not count twice.
  EXPECT_EQ(SyncWait(seal_.SubmitShare((*shares)[4]))->progress, 1);
  EXPECT_EQ(SyncWait(seal_.SubmitShare((*shares)[1]))->progress, 2);
  st = SyncWait(seal_.SubmitShare((*shares)[2]));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_FALSE(st->sealed);
  EXPECT_EQ(st->progress, 0);
  EXPECT_EQ(st->threshold, 3);
  EXPECT_EQ(st->shares, 5);
  EXPECT_EQ(**SyncWait(barrier_.Get("k")), "v");
}

TEST_F(BarrierTest, WrongKeyIsRejectedAndProgressResets) {
  auto shares = SyncWait(seal_.Initialize(3, 2));
  ASSERT_TRUE(shares.ok());
  auto other_phys = storage::InmemBackend();
  Barrier other_barrier(&other_phys, &clock_);
  SealManager other(&other_phys, &other_barrier);
  auto foreign = SyncWait(other.Initialize(3, 2));
  seal_.Seal();
  ASSERT_TRUE(SyncWait(seal_.SubmitShare((*shares)[0])).ok());
  auto st = SyncWait(seal_.SubmitShare((*foreign)[1]));
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SyncWait(seal_.GetStatus())->progress, 0);
  EXPECT_TRUE(barrier_.Sealed());
}

TEST_F(BarrierTest, InitTwiceFailsAndBadParams) {
  EXPECT_FALSE(SyncWait(seal_.Initialize(3, 1)).ok());
  EXPECT_FALSE(SyncWait(seal_.Initialize(2, 3)).ok());
  EXPECT_FALSE(SyncWait(seal_.Initialize(0, 0)).ok());
  ASSERT_TRUE(SyncWait(seal_.Initialize(1, 1)).ok());
  auto again = SyncWait(seal_.Initialize(1, 1));
  EXPECT_EQ(again.status().message(), "Vault is already initialized");
}

TEST_F(BarrierTest, RotateKeepsOldTermsReadable) {
  ASSERT_TRUE(SyncWait(seal_.Initialize(1, 1)).ok());
  ASSERT_TRUE(SyncWait(barrier_.Put("old", "1")).ok());
  ASSERT_TRUE(SyncWait(barrier_.Rotate()).ok());
  EXPECT_EQ(barrier_.ActiveKeyStatus()->term, 2u);
  ASSERT_TRUE(SyncWait(barrier_.Put("new", "2")).ok());
  EXPECT_EQ((**SyncWait(physical_.Get("new")))[3], 2);
  EXPECT_EQ(**SyncWait(barrier_.Get("old")), "1");
}

TEST_F(BarrierTest, RestartWithSameStorageUnseals) {
  auto shares = SyncWait(seal_.Initialize(1, 1));
  ASSERT_TRUE(SyncWait(barrier_.Put("k", "v")).ok());
  Barrier fresh(&physical_, &clock_);
  SealManager fresh_seal(&physical_, &fresh);
  EXPECT_TRUE(fresh.Sealed());
  auto st = SyncWait(fresh_seal.SubmitShare((*shares)[0]));
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->sealed);
  EXPECT_EQ(**SyncWait(fresh.Get("k")), "v");
}

TEST_F(BarrierTest, RekeyNeedsTheCurrentSharesAndReplacesThemAtOnce) {
  auto old = SyncWait(seal_.Initialize(3, 2));
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(SyncWait(barrier_.Put("k", "v")).ok());
  auto other_phys = storage::InmemBackend();
  Barrier other_barrier(&other_phys, &clock_);
  SealManager other(&other_phys, &other_barrier);
  auto foreign = SyncWait(other.Initialize(3, 2));

  auto started = SyncWait(seal_.RekeyInit(2, 2, /*require_verification=*/false));
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(SyncWait(seal_.RekeyInit(2, 2, false)).status().message(), "rekey already in progress");
  const std::string nonce = started->nonce;
  EXPECT_NE(SyncWait(seal_.RekeySubmit((*old)[0], "other"))
                .status()
                .message()
                .find("incorrect nonce supplied"),
            std::string::npos);
  // Shares of another seal do not authorize a rekey; nothing changes.
  ASSERT_TRUE(SyncWait(seal_.RekeySubmit((*old)[0], nonce)).ok());
  auto wrong = SyncWait(seal_.RekeySubmit((*foreign)[1], nonce));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("root key verification failed"), std::string::npos);
  EXPECT_EQ(SyncWait(seal_.GetStatus())->shares, 3);

  ASSERT_TRUE(SyncWait(seal_.RekeySubmit((*old)[1], nonce)).ok());
  auto done = SyncWait(seal_.RekeySubmit((*old)[2], nonce));
  ASSERT_TRUE(done.ok()) << done.status().message();
  ASSERT_TRUE(done->complete);
  ASSERT_EQ(done->keys.size(), 2u);
  auto st = SyncWait(seal_.GetStatus());
  EXPECT_EQ(st->shares, 2);
  EXPECT_EQ(st->threshold, 2);
  EXPECT_FALSE(SyncWait(seal_.RekeyGetStatus())->started);

  // A restarted server: old shares fail, new ones unseal, the data is readable.
  Barrier fresh(&physical_, &clock_);
  SealManager fresh_seal(&physical_, &fresh);
  ASSERT_TRUE(SyncWait(fresh_seal.SubmitShare((*old)[0])).ok());
  EXPECT_FALSE(SyncWait(fresh_seal.SubmitShare((*old)[1])).ok());
  ASSERT_TRUE(SyncWait(fresh_seal.SubmitShare(done->keys[0])).ok());
  auto opened = SyncWait(fresh_seal.SubmitShare(done->keys[1]));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_FALSE(opened->sealed);
  EXPECT_EQ(**SyncWait(fresh.Get("k")), "v");
}

TEST_F(BarrierTest, RekeyWithVerificationChangesNothingUntilVerified) {
  auto old = SyncWait(seal_.Initialize(1, 1));
  ASSERT_TRUE(old.ok());
  auto started = SyncWait(seal_.RekeyInit(3, 2, /*require_verification=*/true));
  auto done = SyncWait(seal_.RekeySubmit((*old)[0], started->nonce));
  ASSERT_TRUE(done.ok() && done->complete);
  ASSERT_FALSE(done->verification_nonce.empty());
  EXPECT_EQ(SyncWait(seal_.GetStatus())->shares, 1);
  auto again = SyncWait(seal_.RekeySubmit((*old)[0], started->nonce));
  EXPECT_NE(again.status().message().find("verification must be performed"), std::string::npos);
  const std::string vnonce = done->verification_nonce;
  ASSERT_TRUE(SyncWait(seal_.RekeyVerifySubmit(done->keys[2], vnonce)).ok());
  auto verified = SyncWait(seal_.RekeyVerifySubmit(done->keys[0], vnonce));
  ASSERT_TRUE(verified.ok()) << verified.status().message();
  EXPECT_TRUE(verified->complete);
  EXPECT_EQ(SyncWait(seal_.GetStatus())->shares, 3);
  // Cancelling a rekey in verification keeps the old shares.
  auto second = SyncWait(seal_.RekeyInit(1, 1, true));
  ASSERT_TRUE(SyncWait(seal_.RekeySubmit(done->keys[0], second->nonce)).ok());
  auto finished = SyncWait(seal_.RekeySubmit(done->keys[1], second->nonce));
  ASSERT_TRUE(finished.ok() && finished->complete);
  seal_.RekeyCancel();
  EXPECT_EQ(SyncWait(seal_.GetStatus())->shares, 3);
  EXPECT_TRUE(barrier_.IsRootKey(*crypto::ShamirCombine({done->keys[0], done->keys[1]})));
}

TEST_F(BarrierTest, ANodeWithAStaleRootKeyStoresNoKeyring) {
  auto old = SyncWait(seal_.Initialize(1, 1));
  ASSERT_TRUE(old.ok());
  // A second node on the same storage (an HA standby), unsealed with the old share.
  Barrier standby(&physical_, &clock_);
  SealManager standby_seal(&physical_, &standby);
  ASSERT_TRUE(SyncWait(standby_seal.SubmitShare((*old)[0])).ok());
  auto started = SyncWait(seal_.RekeyInit(1, 1, false));
  auto done = SyncWait(seal_.RekeySubmit((*old)[0], started->nonce));
  ASSERT_TRUE(done.ok() && done->complete);
  // Its root key is stale: a rotation there would seal the keyring under it.
  auto rotated = SyncWait(standby.Rotate());
  EXPECT_FALSE(rotated.ok());
  EXPECT_NE(rotated.message().find("rekeyed by another node"), std::string::npos);
  EXPECT_TRUE(SyncWait(barrier_.Rotate()).ok());
  Barrier fresh(&physical_, &clock_);
  SealManager fresh_seal(&physical_, &fresh);
  EXPECT_FALSE(SyncWait(fresh_seal.SubmitShare((*old)[0])).ok());
  auto opened = SyncWait(fresh_seal.SubmitShare(done->keys[0]));
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->sealed);
}

TEST(KeyringTest, DecodesTermsValuesAndInstallTimes) {
  const std::string a(32, 'a'), b(32, 'b');
  auto ring = DecodeKeyring(R"({"MasterKey":"bW0=","Keys":[{"Term":1,"Version":1,"Value":")" +
                            Base64Encode(a) +
                            R"(","InstallTime":"2023-11-14T22:13:20Z","InstallTimeNanos":5},)"
                            R"({"Term":2,"Value":")" +
                            Base64Encode(b) + R"("}]})");
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  ASSERT_EQ(ring->size(), 2u);
  EXPECT_EQ((*ring)[0].term, 1u);
  EXPECT_EQ((*ring)[0].value, a);
  EXPECT_EQ((*ring)[0].install_time_nanos, 5);
  EXPECT_EQ((*ring)[1].term, 2u);
  EXPECT_EQ((*ring)[1].value, b);
}

// Found by fuzz/keyring: a key whose Value was not a string made nlohmann throw, which ends the
// process inside unseal's coroutine. A keyring without keys (found beside it) would leave no
// active term, and the first write would have thrown too. Both are corrupt keyrings now.
TEST(KeyringTest, ACorruptKeyringIsRefused) {
  const std::string key = "\"" + Base64Encode(std::string(32, 'k')) + "\"";
  for (const std::string& plain : {
           std::string(R"({"MasterKey": "bW1tbW1ttra2tra2tra2tra2tra2tra2tra2tra2tra=", )"
                       R"("Keys": [{"Term": 1, "Version": 1, "Value": 89}]})"),
           std::string(R"({"Keys":[]})"),
           std::string(R"({"Keys":{"Term":1}})"),
           std::string(R"({"Keys":["x"]})"),
           std::string("[1]"),
           R"({"Keys":[{"Term":"1","Value":)" + key + "}]}",
           R"({"Keys":[{"Term":4294967296,"Value":)" + key + "}]}",
           R"({"Keys":[{"Term":1,"Value":)" + key + R"(,"InstallTimeNanos":1e300}]})",
           std::string(R"({"Keys":[{"Term":1,"Value":"c2hvcnQ="}]})"),
       }) {
    auto ring = DecodeKeyring(plain);
    ASSERT_FALSE(ring.ok()) << plain;
    EXPECT_EQ(ring.status().message(), "keyring is corrupt") << plain;
  }
}

}  // namespace
}  // namespace vault::barrier
