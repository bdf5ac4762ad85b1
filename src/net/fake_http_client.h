// Test doubles for the net seams: FakeHttpClient answers from a handler function and records what
// was sent; FakeTimer records requested delays and fires callbacks immediately or on demand.
// Both complete inline on the calling thread, which keeps tests deterministic.
#pragma once

#include <algorithm>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "net/http_client.h"
#include "util/clock.h"

namespace vault::net {

class FakeHttpClient : public HttpClient {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  explicit FakeHttpClient(Handler handler = nullptr) : handler_(std::move(handler)) {}

  void set_handler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }

  // Records the request, then calls done(handler(request)) inline (404 with no handler).
  void Send(HttpRequest request, Callback done) override {
    Handler h;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      h = handler_;
    }
    if (!h) {
      done(HttpResponse{404, {}, ""});
      return;
    }
    done(h(request));
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

class FakeTimer : public Timer {
 public:
  // auto_fire: callbacks run inline from RunAfter; otherwise they wait for FireAll().
  explicit FakeTimer(bool auto_fire = true, FakeClock* clock = nullptr)
      : auto_fire_(auto_fire), clock_(clock) {}

  void RunAfter(int64_t delay_ms, std::function<void()> fn) override {
    {
      std::lock_guard lock(mu_);
      delays_.push_back(delay_ms);
      if (!auto_fire_) {
        pending_.push_back(std::move(fn));
        pending_delays_.push_back(delay_ms);
        return;
      }
    }
    Advance(delay_ms);
    fn();
  }

  // Runs the callbacks pending at the call (ones they schedule wait for the next FireAll), after
  // advancing the clock, if any, by the longest of their delays. Returns how many ran.
  size_t FireAll() {
    std::vector<std::function<void()>> run;
    std::vector<int64_t> delays;
    {
      std::lock_guard lock(mu_);
      run.swap(pending_);
      delays.swap(pending_delays_);
    }
    int64_t longest = 0;
    for (int64_t d : delays) longest = std::max(longest, d);
    Advance(longest);
    for (auto& fn : run) fn();
    return run.size();
  }

  std::vector<int64_t> delays() const {
    std::lock_guard lock(mu_);
    return delays_;
  }
  size_t pending() const {
    std::lock_guard lock(mu_);
    return pending_.size();
  }

 private:
  void Advance(int64_t ms) {
    if (clock_ != nullptr && ms > 0) clock_->SetNanos(clock_->NowNanos() + ms * 1000000);
  }

  mutable std::mutex mu_;
  bool auto_fire_;
  FakeClock* clock_;
  std::vector<int64_t> delays_;
  std::vector<std::function<void()>> pending_;
  std::vector<int64_t> pending_delays_;
};

}  // namespace vault::net
