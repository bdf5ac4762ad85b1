#include "util/task.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace vault {
namespace {

Task<int> Leaf(int v) { co_return v * 2; }

Task<int> Chain() {
  int a = co_await Leaf(1);
  int b = co_await Leaf(a);
  co_return a + b;
}

TEST(TaskTest, ChainsRunInlineAndProduceTheValue) { EXPECT_EQ(SyncWait(Chain()), 6); }

TEST(TaskTest, UnstartedTaskIsFreedWithoutRunning) {
  bool ran = false;
  auto make = [&]() -> Task<int> {
    ran = true;
    co_return 1;
  };
  { Task<int> t = make(); }
  EXPECT_FALSE(ran);
}

TEST(TaskTest, StartTaskCallsDoneOnceSynchronouslyWhenNothingSuspends) {
  int calls = 0, got = 0;
  StartTask(Chain(), [&](int v) {
    ++calls;
    got = v;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, 6);
}

// A callback API completing on another thread, after a delay.
void AsyncAdd(int a, int b, std::function<void(int)> cb) {
  std::thread([=] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    cb(a + b);
  }).detach();
}

Task<int> UsesCallback(int x) {
  int s = co_await AwaitCallback<int>([&](auto cb) { AsyncAdd(x, 1, cb); });
  int t = co_await AwaitCallback<int>([&](auto cb) { cb(s * 10); });  // completes synchronously
  co_return t;
}

TEST(TaskTest, AwaitCallbackResumesAcrossThreadsAndInline) {
  EXPECT_EQ(SyncWait(UsesCallback(4)), 50);
}

TEST(TaskTest, ManyConcurrentTasksEachCompleteOnce) {
  std::atomic<int> done{0}, sum{0};
  for (int i = 0; i < 200; ++i) {
    StartTask(UsesCallback(i), [&](int v) {
      sum += v;
      ++done;
    });
  }
  while (done.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  int want = 0;
  for (int i = 0; i < 200; ++i) want += (i + 1) * 10;
  EXPECT_EQ(sum.load(), want);
}

class ThreadExecutor : public Executor {
 public:
  void Post(std::function<void()> fn) override { std::thread(std::move(fn)).detach(); }
};

Task<std::thread::id> HopTo(Executor* ex) {
  co_await ResumeOn(ex);
  co_return std::this_thread::get_id();
}

TEST(TaskTest, ResumeOnMovesToTheExecutor) {
  ThreadExecutor ex;
  EXPECT_NE(SyncWait(HopTo(&ex)), std::this_thread::get_id());
  EXPECT_EQ(SyncWait(HopTo(nullptr)), std::this_thread::get_id());
}

// A value after `delay_ms` on a thread of its own (0: inline, without suspending).
Task<int> Later(int v, int delay_ms, std::atomic<int>* started) {
  ++*started;
  if (delay_ms == 0) co_return v;
  int got = co_await AwaitCallback<int>([&](std::function<void(int)> cb) {
    std::thread([cb, v, delay_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      cb(v);
    }).detach();
  });
  co_return got;
}

Task<std::vector<int>> Gather(std::vector<int> delays, std::atomic<int>* started) {
  std::vector<Task<int>> tasks;
  for (size_t i = 0; i < delays.size(); ++i)
    tasks.push_back(Later(static_cast<int>(i) + 1, delays[i], started));
  std::vector<int> out = co_await WhenAll(std::move(tasks));
  co_return out;
}

TEST(TaskTest, WhenAllRunsTasksConcurrentlyAndKeepsTheirOrder) {
  std::atomic<int> started{0};
  // Finishing in the order 3, 1, 4, 2 (and 5 inline): the results keep the tasks' order.
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int> got = SyncWait(Gather({60, 150, 20, 90, 0}, &started));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(started.load(), 5);
  // Together, not one after the other (which would take 320 ms).
  EXPECT_LT(elapsed, std::chrono::milliseconds(300));
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));

  EXPECT_EQ(SyncWait(Gather({0, 0, 0}, &started)), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(SyncWait(Gather({}, &started)).empty());
}

}  // namespace
}  // namespace vault
