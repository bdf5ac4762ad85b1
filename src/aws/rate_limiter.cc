#include "aws/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace vault::aws {

namespace {
constexpr int64_t kNanosPerSecond = 1000000000;
double Burst(double rate) { return std::max(1.0, rate); }
}  // namespace

RateLimiter::RateLimiter(RateLimiterOptions options, net::Timer* timer, Clock* clock)
    : options_(options),
      timer_(timer),
      clock_(clock),
      limited_(options.rate > 0),
      rate_(options.rate > 0 ? options.rate : 0),
      target_(options.rate > 0 ? options.rate : 0),
      ceiling_(target_) {
  int64_t now = clock_->NowNanos();
  last_increase_ns_ = now;
  tokens_ = Burst(rate_);
  last_refill_ns_ = now;
  window_start_ns_ = now;
}

void RateLimiter::RefillLocked(int64_t now_ns) {
  if (now_ns > last_refill_ns_) {
    double elapsed = static_cast<double>(now_ns - last_refill_ns_) / kNanosPerSecond;
    tokens_ = std::min(Burst(rate_), tokens_ + elapsed * rate_);
  }
  last_refill_ns_ = std::max(last_refill_ns_, now_ns);
}

void RateLimiter::CountCallLocked(int64_t now_ns) {
  int64_t elapsed = now_ns - window_start_ns_;
  if (elapsed >= kNanosPerSecond) {
    previous_window_calls_ = elapsed >= 2 * kNanosPerSecond ? 0 : window_calls_;
    window_calls_ = 0;
    window_start_ns_ = now_ns - elapsed % kNanosPerSecond;
  }
  ++window_calls_;
}

double RateLimiter::ObservedRateLocked(int64_t now_ns) const {
  double in_window = static_cast<double>(now_ns - window_start_ns_) / kNanosPerSecond;
  double current = in_window >= 0.1 ? window_calls_ / in_window : 0;
  return std::max(
      {static_cast<double>(previous_window_calls_), current, static_cast<double>(window_calls_)});
}

void RateLimiter::Acquire(std::function<void()> ready) {
  constexpr int64_t kNoWait = -2;
  int64_t delay = kNoWait;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_->NowNanos();
    CountCallLocked(now);
    if (!limited_) {
      // fall through to run inline
    } else {
      RefillLocked(now);
      if (waiters_.empty() && tokens_ >= 1) {
        tokens_ -= 1;
      } else {
        waiters_.push_back(std::move(ready));
        delay = ArmTimerLocked();
      }
    }
  }
  if (delay != kNoWait) {
    StartTimer(delay);
    return;
  }
  ready();
}

int64_t RateLimiter::ArmTimerLocked() {
  if (timer_armed_ || waiters_.empty()) return -1;
  timer_armed_ = true;
  double need = std::max(0.0, 1 - tokens_);
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(need / std::max(rate_, 1e-6) * 1000)));
}

void RateLimiter::StartTimer(int64_t delay_ms) {
  if (delay_ms < 0) return;
  // The callback owns a reference: the limiter lives until its timer has fired.
  timer_->RunAfter(delay_ms, [self = shared_from_this()] { self->OnTimer(); });
}

void RateLimiter::OnTimer() {
  std::vector<std::function<void()>> run;
  int64_t delay = -1;
  {
    std::lock_guard lock(mu_);
    timer_armed_ = false;
    if (!limited_) {
      run.assign(std::make_move_iterator(waiters_.begin()),
                 std::make_move_iterator(waiters_.end()));
      waiters_.clear();
    } else {
      RefillLocked(clock_->NowNanos());
      while (!waiters_.empty() && tokens_ >= 1) {
        tokens_ -= 1;
        run.push_back(std::move(waiters_.front()));
        waiters_.pop_front();
      }
      delay = ArmTimerLocked();
    }
  }
  StartTimer(delay);
  for (auto& fn : run) fn();
}

void RateLimiter::OnThrottle() {
  std::unique_lock lock(mu_);
  int64_t now = clock_->NowNanos();
  ++replies_since_decrease_;
  ++throttled_since_decrease_;
  if (now - last_decrease_ns_ < options_.decrease_cooldown_ms * 1000000) return;
  last_decrease_ns_ = now;
  RefillLocked(now);
  if (!limited_) {
    double observed = std::max({options_.min_rate, options_.engage_floor, ObservedRateLocked(now)});
    target_ = observed;
    ceiling_ = observed;
    rate_ = observed;
    limited_ = true;
    last_refill_ns_ = now;
  } else if (static_cast<double>(throttled_since_decrease_) >
             options_.rate_related_share * static_cast<double>(replies_since_decrease_)) {
    // Rate-related: do not race back to where it began.
    ceiling_ = std::max(options_.min_rate, std::min(ceiling_, rate_) * options_.ceiling_factor);
  }
  replies_since_decrease_ = 0;
  throttled_since_decrease_ = 0;
  rate_ = std::max(options_.min_rate, rate_ * options_.decrease_factor);
  tokens_ = 0;  // slow down from now on, not after the remaining burst drains
  last_increase_ns_ = now;
  int64_t delay = ArmTimerLocked();
  lock.unlock();
  StartTimer(delay);
}

void RateLimiter::OnSuccess() {
  std::vector<std::function<void()>> run;
  {
    std::lock_guard lock(mu_);
    if (!limited_) return;
    ++replies_since_decrease_;
    int64_t now = clock_->NowNanos();
    RefillLocked(now);
    double seconds = static_cast<double>(now - last_increase_ns_) / kNanosPerSecond;
    last_increase_ns_ = now;
    if (rate_ < ceiling_) {  // fast, per reply, up to the ceiling
      rate_ = std::min(ceiling_, rate_ + std::max(0.1, target_ * options_.increase_fraction));
    } else {  // slow, over time, above it; the ceiling follows what AWS accepts
      rate_ = std::min(target_, rate_ + target_ * options_.probe_fraction * seconds);
      ceiling_ = std::max(ceiling_, rate_);
    }
    if (options_.rate <= 0 && rate_ >= target_) {
      // Recovered: back to unlimited; release everyone queued.
      limited_ = false;
      rate_ = 0;
      run.assign(std::make_move_iterator(waiters_.begin()),
                 std::make_move_iterator(waiters_.end()));
      waiters_.clear();
    }
  }
  for (auto& fn : run) fn();
}

double RateLimiter::current_rate() const {
  std::lock_guard lock(mu_);
  return limited_ ? rate_ : 0;
}

size_t RateLimiter::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

}  // namespace vault::aws
