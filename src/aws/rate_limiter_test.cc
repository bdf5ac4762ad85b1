#include "aws/rate_limiter.h"

#include <gtest/gtest.h>

#include <memory>

#include "net/fake_http_client.h"

namespace vault::aws {
namespace {

TEST(RateLimiterTest, TokenBucketQueuesBeyondTheBurstAndRefills) {
  FakeClock clock;
  net::FakeTimer timer(/*auto_fire=*/false, &clock);
  RateLimiterOptions o;
  o.rate = 10;
  auto rl = std::make_shared<RateLimiter>(o, &timer, &clock);
  int ready = 0;
  for (int i = 0; i < 12; ++i) rl->Acquire([&] { ++ready; });
  EXPECT_EQ(ready, 10);  // burst = one second of tokens
  EXPECT_EQ(rl->waiting(), 2u);
  ASSERT_EQ(timer.delays(), (std::vector<int64_t>{100}));  // one timer for the queue
  timer.FireAll();                                         // +100 ms: one token
  EXPECT_EQ(ready, 11);
  timer.FireAll();
  EXPECT_EQ(ready, 12);
  EXPECT_EQ(rl->waiting(), 0u);
  EXPECT_EQ(timer.pending(), 0u);
}

TEST(RateLimiterTest, ThrottlingHalvesTheRateOncePerCooldownAndSuccessRecovers) {
  FakeClock clock;
  net::FakeTimer timer(false, &clock);
  RateLimiterOptions o;
  o.rate = 10;
  auto rl = std::make_shared<RateLimiter>(o, &timer, &clock);
  EXPECT_DOUBLE_EQ(rl->current_rate(), 10);
  rl->OnThrottle();
  rl->OnThrottle();  // same burst: ignored
  EXPECT_DOUBLE_EQ(rl->current_rate(), 5);
  clock.SetNanos(clock.NowNanos() + 600 * 1000000LL);
  rl->OnThrottle();
  EXPECT_DOUBLE_EQ(rl->current_rate(), 2.5);
  for (int i = 0; i < 100; ++i) rl->OnSuccess();
  EXPECT_DOUBLE_EQ(rl->current_rate(), 10);  // capped at the configured rate

  // Down to the floor and no lower.
  for (int i = 0; i < 20; ++i) {
    clock.SetNanos(clock.NowNanos() + 600 * 1000000LL);
    rl->OnThrottle();
  }
  EXPECT_DOUBLE_EQ(rl->current_rate(), 0.5);
  int ready = 0;
  rl->Acquire([&] { ++ready; });
  EXPECT_EQ(ready, 0);  // tokens were emptied by throttling
  ASSERT_FALSE(timer.delays().empty());
  EXPECT_EQ(timer.delays().back(), 2000);  // 1 token at 0.5/s
}

TEST(RateLimiterTest, UnlimitedLimiterEngagesOnThrottlingAndLiftsAfterRecovery) {
  FakeClock clock;
  net::FakeTimer timer(false, &clock);
  auto rl = std::make_shared<RateLimiter>(RateLimiterOptions{}, &timer, &clock);
  int ready = 0;
  for (int i = 0; i < 40; ++i) rl->Acquire([&] { ++ready; });
  EXPECT_EQ(ready, 40);
  EXPECT_EQ(rl->current_rate(), 0);
  rl->OnThrottle();
  EXPECT_DOUBLE_EQ(rl->current_rate(), 20);  // half the observed 40 calls/s
  rl->Acquire([&] { ++ready; });
  EXPECT_EQ(ready, 40);
  EXPECT_EQ(rl->waiting(), 1u);
  for (int i = 0; i < 100 && rl->current_rate() != 0; ++i) rl->OnSuccess();
  EXPECT_EQ(rl->current_rate(), 0);  // back to unlimited
  EXPECT_EQ(ready, 41);              // and the waiter was released
  timer.FireAll();                   // a stale timer firing is harmless
  EXPECT_EQ(ready, 41);

  // Throttled at a trickle of calls: limited at half the engage floor, not at half a trickle.
  clock.AdvanceSeconds(10);
  auto quiet = std::make_shared<RateLimiter>(RateLimiterOptions{}, &timer, &clock);
  quiet->Acquire([&] { ++ready; });
  quiet->OnThrottle();
  EXPECT_DOUBLE_EQ(quiet->current_rate(), 5);
}

}  // namespace
}  // namespace vault::aws
