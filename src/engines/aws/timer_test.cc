#include "engines/aws/timer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

namespace vault::engines::awsengine {
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

}  // namespace
}  // namespace vault::engines::awsengine
