#include "util/delay_timer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

namespace vault {
namespace {

TEST(DelayTimer, SleepsWithoutBlockingTheCaller) {
  DelayTimer timer;
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(SyncWait(timer.Sleep(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  // Shorter sleeps scheduled later fire first.
  std::atomic<int> order{0};
  int a = 0, b = 0;
  StartTask(timer.Sleep(60), [&](bool) { a = ++order; });
  StartTask(timer.Sleep(10), [&](bool) { b = ++order; });
  EXPECT_TRUE(SyncWait(timer.Sleep(100)));
  EXPECT_EQ(b, 1);
  EXPECT_EQ(a, 2);
}

TEST(DelayTimer, ShutdownWakesSleepersWithFalse) {
  auto timer = std::make_unique<DelayTimer>();
  std::optional<bool> result;
  StartTask(timer->Sleep(60000), [&](bool ok) { result = ok; });
  EXPECT_FALSE(result.has_value());
  timer.reset();
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
}

// PollUntil: done after a few attempts; the deadline ends it with false; an error ends it at once.
TEST(PollUntil, StopsWhenDoneAtTheDeadlineOrOnAnError) {
  using std::chrono::milliseconds;
  DelayTimer timer;
  auto soon = [](int ms) { return std::chrono::steady_clock::now() + milliseconds(ms); };
  int calls = 0;
  auto third = [&]() -> Task<Result<bool>> { co_return ++calls == 3; };
  Result<bool> r = SyncWait(PollUntil(&timer, soon(5000), third, milliseconds(1)));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(calls, 3);

  calls = 0;
  auto never = [&]() -> Task<Result<bool>> {
    ++calls;
    co_return false;
  };
  auto start = std::chrono::steady_clock::now();
  r = SyncWait(PollUntil(&timer, soon(50), never, milliseconds(5)));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(50));
  EXPECT_GT(calls, 1);

  calls = 0;
  auto fails = [&]() -> Task<Result<bool>> {
    ++calls;
    co_return Internal("broken");
  };
  r = SyncWait(PollUntil(&timer, soon(5000), fails, milliseconds(1)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "broken");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace vault
