#include "aws/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>

#include "net/fake_http_client.h"

namespace vault::aws {
namespace {

// A limiter on a fake clock whose timer fires only when a test says so.
class RateLimiterTest : public testing::Test {
 protected:
  std::shared_ptr<RateLimiter> Limiter(double rate) {
    RateLimiterOptions o;
    o.rate = rate;
    return std::make_shared<RateLimiter>(o, &timer, &clock);
  }
  FakeClock clock;
  net::FakeTimer timer{/*auto_fire=*/false, &clock};
};

TEST_F(RateLimiterTest, TokenBucketQueuesBeyondTheBurstAndRefills) {
  auto rl = Limiter(10);
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

TEST_F(RateLimiterTest, ThrottlingHalvesTheRateOncePerCooldownAndSuccessRecovers) {
  auto rl = Limiter(10);
  EXPECT_DOUBLE_EQ(rl->current_rate(), 10);
  rl->OnThrottle();
  rl->OnThrottle();  // same burst: ignored
  EXPECT_DOUBLE_EQ(rl->current_rate(), 5);
  clock.SetNanos(clock.NowNanos() + 600 * 1000000LL);
  rl->OnThrottle();
  EXPECT_DOUBLE_EQ(rl->current_rate(), 2.5);
  for (int i = 0; i < 100; ++i) rl->OnSuccess();
  // Nothing but throttled replies since the last decrease: rate-related throttling. Recovery is
  // fast up to 90% of the rate it began at (5), then slow: 2% of the target per second.
  EXPECT_DOUBLE_EQ(rl->current_rate(), 4.5);
  clock.SetNanos(clock.NowNanos() + 10 * 1000000000LL);
  rl->OnSuccess();
  EXPECT_NEAR(rl->current_rate(), 6.5, 1e-9);
  clock.SetNanos(clock.NowNanos() + 60 * 1000000000LL);
  rl->OnSuccess();
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

TEST_F(RateLimiterTest, ThrottlingOfASmallShareOfRepliesKeepsFastRecovery) {
  auto rl = Limiter(10);
  rl->OnThrottle();  // 10 -> 5; one throttled reply of one: the ceiling becomes 9
  for (int i = 0; i < 20; ++i) rl->OnSuccess();
  EXPECT_DOUBLE_EQ(rl->current_rate(), 9);
  // Then one throttled reply in ten (others using up the account's quota): halved, but the
  // ceiling stays, so the next replies bring the rate straight back.
  clock.SetNanos(clock.NowNanos() + 600 * 1000000LL);
  for (int i = 0; i < 9; ++i) rl->OnSuccess();
  double before = rl->current_rate();
  rl->OnThrottle();
  EXPECT_DOUBLE_EQ(rl->current_rate(), before / 2);
  for (int i = 0; i < 20; ++i) rl->OnSuccess();
  EXPECT_DOUBLE_EQ(rl->current_rate(), before);
}

TEST_F(RateLimiterTest, UnlimitedLimiterEngagesOnThrottlingAndLiftsAfterRecovery) {
  auto rl = Limiter(0);  // unlimited until throttled
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
  auto quiet = Limiter(0);
  quiet->Acquire([&] { ++ready; });
  quiet->OnThrottle();
  EXPECT_DOUBLE_EQ(quiet->current_rate(), 5);
}

// A timer on a simulated clock: callbacks run in deadline order as RunUntil advances the clock.
class SimTimer : public net::Timer {
 public:
  explicit SimTimer(FakeClock* clock) : clock_(clock) {}
  void RunAfter(int64_t delay_ms, std::function<void()> fn) override {
    events_.emplace(clock_->NowNanos() + std::max<int64_t>(delay_ms, 0) * 1000000, std::move(fn));
  }
  void RunUntil(int64_t until_ns) {
    while (!events_.empty() && events_.begin()->first <= until_ns) {
      auto node = events_.extract(events_.begin());
      clock_->SetNanos(std::max(clock_->NowNanos(), node.key()));
      node.mapped()();
    }
    clock_->SetNanos(until_ns);
  }

 private:
  FakeClock* clock_;
  std::multimap<int64_t, std::function<void()>> events_;
};

struct SimResult {
  double sent_per_s = 0, accepted_per_s = 0, throttled_share = 0;
};

// 128 revocations keep calling AWS (50 ms per call) through one limiter with a budget of 100
// calls/s, as the expiration manager does; AWS throttles beyond `aws_rate` calls/s (a token bucket
// with one second of burst, checked when the call completes, as the emulator does) and/or every
// `throttle_every`th call whatever the rate. Measured over 60 s after 20 s of settling.
SimResult SimulateRevocations(double aws_rate, int throttle_every, double throttle_chance = 0) {
  std::mt19937 rng(42);
  std::bernoulli_distribution chance(throttle_chance);
  FakeClock clock;
  SimTimer timer(&clock);
  RateLimiterOptions o;
  o.rate = 100;
  auto rl = std::make_shared<RateLimiter>(o, &timer, &clock);
  double aws_tokens = aws_rate;
  int64_t aws_refill = clock.NowNanos(), calls = 0, ok = 0, throttled = 0;
  const int64_t start = clock.NowNanos();
  const int64_t measure_from = start + 20 * 1000000000LL, end = start + 80 * 1000000000LL;
  std::function<void()> call = [&] {
    rl->Acquire([&] {
      timer.RunAfter(50, [&] {
        int64_t now = clock.NowNanos();
        bool limited = (throttle_every > 0 && ++calls % throttle_every == 0) ||
                       (throttle_chance > 0 && chance(rng));
        if (aws_rate > 0 && !limited) {
          aws_tokens = std::min(aws_rate, aws_tokens + (now - aws_refill) / 1e9 * aws_rate);
          aws_refill = now;
          limited = aws_tokens < 1;
          if (!limited) aws_tokens -= 1;
        }
        if (limited) {
          rl->OnThrottle();
        } else {
          rl->OnSuccess();
        }
        if (now >= measure_from) (limited ? throttled : ok) += 1;
        if (now < end) call();
      });
    });
  };
  for (int i = 0; i < 128; ++i) call();
  timer.RunUntil(end);
  double seconds = (end - measure_from) / 1e9;
  return {(ok + throttled) / seconds, ok / seconds,
          static_cast<double>(throttled) / std::max<int64_t>(1, ok + throttled)};
}

// The trade-off the AIMD makes, measured by bench/aws as well. Recovery per successful reply is
// fast, so throttling that does not depend on our rate (other clients of the account using up its
// quota: here every 10th call, or each call with a 10% chance) costs little throughput; a limiter
// that recovers over time only (the SDKs' CUBIC) falls to a few calls/s there and revocations
// pile up. When AWS allows less than the budget, throttled replies are a large share, the rate it
// began at becomes a ceiling and only probing over time goes above it: about a sixth of the calls
// are throttled (and retried) instead of a third (two thirds at 30 calls/s), and AWS's whole
// capacity is still used.
TEST(RateLimiterSimulationTest, ThrottlingUsesAwsCapacityAndDoesNotCollapse) {
  SimResult below = SimulateRevocations(/*aws_rate=*/60, /*throttle_every=*/0);
  EXPECT_GE(below.accepted_per_s, 0.9 * 60);
  EXPECT_LE(below.throttled_share, 0.2);  // ~0.16 (0.33 before the ceiling)
  SimResult random = SimulateRevocations(/*aws_rate=*/0, /*throttle_every=*/10);
  SimResult chance = SimulateRevocations(/*aws_rate=*/0, /*throttle_every=*/0, /*chance=*/0.1);
  SimResult far_below = SimulateRevocations(/*aws_rate=*/30, /*throttle_every=*/0);
  EXPECT_GE(far_below.accepted_per_s, 0.9 * 30);
  EXPECT_LE(far_below.throttled_share, 0.2);  // ~0.14 (0.63 before the ceiling)
  EXPECT_GE(chance.sent_per_s, 0.85 * 100);
  EXPECT_GE(chance.accepted_per_s, 0.75 * 100);
  EXPECT_GE(random.sent_per_s, 0.85 * 100);
  EXPECT_GE(random.accepted_per_s, 0.75 * 100);
}

}  // namespace
}  // namespace vault::aws
