// RateLimiter: the adaptive client-side rate limit shared by all calls of one AWS client.
//
// A token bucket (burst = one second of tokens, at least 1) refilled at `rate` calls/second.
// Throttling replies lower the rate multiplicatively (at most once per cooldown, so one burst of
// throttled replies counts once); every other reply raises it additively until it is back at the
// configured rate: fast up to a ceiling learnt from rate-related throttling, slowly above it.
// With no configured rate (0) the limiter lets everything through until the first throttling
// reply, then limits at half the observed call rate (see engage_floor) and lifts the limit again
// once it has recovered to the rate at which throttling began (AIMD, like the SDKs' adaptive
// retry mode, simplified).
//
// Acquisition is asynchronous: no thread ever blocks. Waiters are released from the Timer's
// thread, in FIFO order. Thread-safe. Create with std::make_shared (timer callbacks keep the
// limiter alive).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "net/http_client.h"
#include "util/clock.h"

namespace vault::aws {

struct RateLimiterOptions {
  double rate = 0;        // calls/second; 0 = unlimited until throttled
  double min_rate = 0.5;  // floor after repeated throttling
  // An unlimited limiter engages at half of max(observed rate, this): throttling seen at a trickle
  // of calls comes from others sharing the account's quota, and should not cut us to a trickle.
  double engage_floor = 10;
  double decrease_factor = 0.5;  // rate *= this on throttling
  // Additive increase per non-throttled reply, as a fraction of the target rate.
  double increase_fraction = 0.05;
  int64_t decrease_cooldown_ms = 500;
  // Throttling that depends on our rate (AWS allows less than the budget) shows as a large share
  // of throttled replies since the last decrease; then the rate at which it began becomes a
  // ceiling (times ceiling_factor): recovery is fast up to it and slow above it (probe_fraction of
  // the target per second). Throttling of a small share whatever the rate (others using up the
  // account's quota) leaves the ceiling alone, so it costs little throughput.
  double rate_related_share = 0.2;
  double ceiling_factor = 0.9;
  double probe_fraction = 0.02;
};

class RateLimiter : public std::enable_shared_from_this<RateLimiter> {
 public:
  // timer and clock are not owned and must outlive the limiter's pending waits.
  RateLimiter(RateLimiterOptions options, net::Timer* timer, Clock* clock);

  // Calls ready() exactly once when the call may proceed: inline (before returning) when a token
  // is available and nobody is queued, else later from the timer's thread.
  void Acquire(std::function<void()> ready);

  // Feedback from replies.
  void OnThrottle();
  void OnSuccess();

  // Current fill rate in calls/second; 0 while unlimited.
  double current_rate() const;
  size_t waiting() const;

 private:
  void RefillLocked(int64_t now_ns);
  // Marks the timer armed and returns its delay, or -1 when none is needed. StartTimer runs
  // outside the lock (a timer may fire inline).
  int64_t ArmTimerLocked();
  void StartTimer(int64_t delay_ms);
  void OnTimer();
  void CountCallLocked(int64_t now_ns);
  double ObservedRateLocked(int64_t now_ns) const;

  const RateLimiterOptions options_;
  net::Timer* const timer_;
  Clock* const clock_;

  mutable std::mutex mu_;
  bool limited_;
  double rate_;
  double target_;   // the rate to recover to (configured, or where throttling began)
  double ceiling_;  // fast recovery up to here, slow probing above (see RateLimiterOptions)
  int64_t replies_since_decrease_ = 0;
  int64_t throttled_since_decrease_ = 0;
  int64_t last_increase_ns_ = 0;
  double tokens_ = 0;
  int64_t last_refill_ns_ = 0;
  int64_t last_decrease_ns_ = INT64_MIN / 2;
  bool timer_armed_ = false;
  std::deque<std::function<void()>> waiters_;
  // Observed call rate: calls in the current and the previous one-second window.
  int64_t window_start_ns_ = 0;
  int64_t window_calls_ = 0;
  int64_t previous_window_calls_ = 0;
};

}  // namespace vault::aws
