#include "util/run_bounded.h"

#include <algorithm>
#include <memory>
#include <mutex>

namespace vault {
namespace {

struct BoundedState {
  std::mutex mu;
  std::vector<std::function<Task<Status>()>> jobs;
  std::vector<Status> results;
  size_t next = 0;
  size_t runners_left = 0;
  std::function<void(std::vector<Status>)> finish;
};

Task<Status> BoundedRunner(std::shared_ptr<BoundedState> st) {
  for (;;) {
    size_t i;
    {
      std::lock_guard lock(st->mu);
      if (st->next >= st->jobs.size()) break;
      i = st->next++;
    }
    Status r = co_await st->jobs[i]();
    std::lock_guard lock(st->mu);
    st->results[i] = std::move(r);
  }
  co_return Status::Ok();
}

}  // namespace

Task<std::vector<Status>> RunBounded(std::vector<std::function<Task<Status>()>> jobs, int limit) {
  if (jobs.empty()) co_return std::vector<Status>{};
  auto st = std::make_shared<BoundedState>();
  st->results.resize(jobs.size());
  st->jobs = std::move(jobs);
  size_t n = std::min<size_t>(std::max(1, limit), st->jobs.size());
  st->runners_left = n;
  // The lambda captures by reference only: GCC 12 destroys a lambda temporary in a co_await
  // expression twice (a captured shared_ptr was released twice; found by ASan).
  std::vector<Status> results = co_await AwaitCallback<std::vector<Status>>(
      [&st, n](std::function<void(std::vector<Status>)> cb) {
        st->finish = std::move(cb);
        for (size_t k = 0; k < n; ++k) {
          StartTask(BoundedRunner(st), [st](Status) {
            bool last;
            {
              std::lock_guard lock(st->mu);
              last = --st->runners_left == 0;
            }
            if (last) st->finish(std::move(st->results));
          });
        }
      });
  co_return results;
}

}  // namespace vault
