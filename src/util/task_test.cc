#include "util/task.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "util/async_mutex.h"
#include "util/testing.h"
#include "util/thread_pool.h"

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

// A callback API completing on another thread (before or after the caller suspends: AwaitCallback
// handles both).
void AsyncAdd(int a, int b, std::function<void(int)> cb) {
  std::thread([=] { cb(a + b); }).detach();
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
  ASSERT_TRUE(testing_util::Eventually([&] { return done.load() == 200; }));
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

// Values the test hands out, each when it chooses, on a thread of its own.
struct Answers {
  std::mutex mu;
  std::map<int, std::function<void(int)>> waiting;  // by value
  void Answer(int v) {
    std::function<void(int)> cb;
    {
      std::lock_guard lock(mu);
      cb = std::move(waiting.at(v));
      waiting.erase(v);
    }
    std::thread([cb, v] { cb(v); }).join();
  }
};

// `v` once the test answers it; at once (without suspending) when `now`.
Task<int> Later(int v, bool now, Answers* answers, std::atomic<int>* started) {
  ++*started;
  if (now) co_return v;
  int got = co_await AwaitCallback<int>([&](std::function<void(int)> cb) {
    std::lock_guard lock(answers->mu);
    answers->waiting[v] = std::move(cb);
  });
  co_return got;
}

Task<std::vector<int>> Gather(std::vector<bool> now, Answers* answers, std::atomic<int>* started) {
  std::vector<Task<int>> tasks;
  for (size_t i = 0; i < now.size(); ++i)
    tasks.push_back(Later(static_cast<int>(i) + 1, now[i], answers, started));
  std::vector<int> out = co_await WhenAll(std::move(tasks));
  co_return out;
}

TEST(TaskTest, WhenAllRunsTasksConcurrentlyAndKeepsTheirOrder) {
  std::atomic<int> started{0};
  Answers answers;
  std::optional<std::vector<int>> got;
  StartTask(Gather({false, false, false, false, true}, &answers, &started),
            [&](std::vector<int> v) { got = std::move(v); });
  // Every task started before any finished: they run together, not one after the other.
  EXPECT_EQ(started.load(), 5);
  EXPECT_EQ(answers.waiting.size(), 4u);
  // Finishing in the order 3, 1, 4, 2 (and 5 inline): the results keep the tasks' order, and
  // the whole is done when the last one is.
  for (int v : {3, 1, 4}) {
    answers.Answer(v);
    EXPECT_FALSE(got.has_value()) << v;
  }
  answers.Answer(2);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, (std::vector<int>{1, 2, 3, 4, 5}));

  EXPECT_EQ(SyncWait(Gather({true, true, true}, &answers, &started)), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(SyncWait(Gather({}, &answers, &started)).empty());
}

// The lock is held across a suspension and handed to waiters in order; nobody is ever in the
// critical section with another.
TEST(AsyncMutexTest, HoldsAcrossSuspensionsAndHandsOverInOrder) {
  AsyncMutex mu;
  std::vector<std::function<void()>> parked;  // the suspensions, resumed by the test
  std::vector<int> order;
  int inside = 0, max_inside = 0;
  auto critical = [&](int id) -> Task<int> {
    AsyncMutex::Guard g = co_await mu.Lock();
    max_inside = std::max(max_inside, ++inside);
    co_await AwaitCallback<int>(
        [&](std::function<void(int)> cb) { parked.push_back([cb] { cb(0); }); });
    order.push_back(id);
    --inside;
    co_return id;
  };
  std::vector<int> done;
  for (int i = 0; i < 3; ++i) StartTask(critical(i), [&](int id) { done.push_back(id); });
  ASSERT_EQ(parked.size(), 1u);  // only the first got in; the others wait for the lock
  for (size_t i = 0; i < parked.size(); ++i) parked[i]();  // each release lets the next in
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(done, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(max_inside, 1);
  EXPECT_TRUE(mu.TryLock());
  mu.Unlock();
}

class FakeLoop : public EventLoop {
 public:
  void Watch(int, int, std::function<void(int)>) override {}
  void Unwatch(int) override {}
  uint64_t RunAfter(int64_t, std::function<void()>) override { return 0; }
  void CancelTimer(uint64_t) override {}
  void Post(std::function<void()> fn) override {
    std::lock_guard lock(mu);
    posted.push_back(std::move(fn));
  }
  void AtStop(std::function<void()>) override {}
  bool stopped() const override { return false; }
  std::mutex mu;
  std::vector<std::function<void()>> posted;
};

Task<std::thread::id> BlockingThenWhere(ThreadPool* pool, std::thread::id* ran_on) {
  int v = co_await RunBlocking(pool, [&] {
    *ran_on = std::this_thread::get_id();
    return 7;
  });
  EXPECT_EQ(v, 7);
  co_return std::this_thread::get_id();
}

// RunBlocking runs the work on the pool and resumes the caller on its own loop when it has one,
// else on the pool's thread; on the pool itself it runs inline.
TEST(RunBlockingTest, RunsOnThePoolAndResumesWhereTheCallerWas) {
  ThreadPool pool(2, "test-pool");
  FakeLoop loop;
  std::thread::id ran_on, resumed_on;
  std::atomic<bool> finished{false};
  EventLoop::SetCurrent(&loop);
  StartTask(BlockingThenWhere(&pool, &ran_on), [&](std::thread::id id) {
    resumed_on = id;
    finished = true;
  });
  EventLoop::SetCurrent(nullptr);
  // The caller's continuation comes back as a post to its loop; run it here, on "the loop".
  ASSERT_TRUE(testing_util::Eventually([&] {
    std::lock_guard lock(loop.mu);
    return !loop.posted.empty();
  }));
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard lock(loop.mu);
    fns.swap(loop.posted);
  }
  for (auto& fn : fns) fn();
  ASSERT_TRUE(finished);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(resumed_on, std::this_thread::get_id());

  // Without a loop the caller continues on the pool thread that ran the work.
  std::thread::id ran2;
  std::thread::id resumed2 = SyncWait(BlockingThenWhere(&pool, &ran2));
  EXPECT_EQ(resumed2, ran2);
  EXPECT_NE(ran2, std::this_thread::get_id());

  // Already on the pool: inline.
  std::promise<std::pair<std::thread::id, std::thread::id>> where;
  pool.Post([&] {
    std::thread::id ran3;
    std::thread::id resumed3 = SyncWait(BlockingThenWhere(&pool, &ran3));
    where.set_value({ran3, resumed3});
  });
  auto [ran3, resumed3] = where.get_future().get();
  EXPECT_EQ(ran3, resumed3);
}

}  // namespace
}  // namespace vault
