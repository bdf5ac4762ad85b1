// Injectable time source: the system clock in production, a fake clock in tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace vault {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in nanoseconds. Thread-safe.
  virtual int64_t NowNanos() const = 0;
  int64_t NowSeconds() const { return NowNanos() / 1000000000; }
};

class SystemClock : public Clock {
 public:
  int64_t NowNanos() const override;
  static SystemClock* Get();
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_nanos = 1700000000LL * 1000000000LL) : now_(now_nanos) {}
  int64_t NowNanos() const override { return now_.load(); }
  void AdvanceSeconds(int64_t s) { now_ += s * 1000000000LL; }
  void SetNanos(int64_t n) { now_ = n; }

 private:
  std::atomic<int64_t> now_;
};

// RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano prints it.
std::string FormatRfc3339Nano(int64_t unix_nanos);
// Parses an RFC 3339 date-time as AWS and Go print them ("2023-11-14T22:13:20Z",
// "2023-11-14T22:13:20.351073Z", "2023-11-14T23:13:20+01:00") to unix nanoseconds. Digits past
// nanoseconds are ignored. kInvalidArgument for anything else, and for a time that unix
// nanoseconds cannot hold (before 1677 or after 2262).
Result<int64_t> ParseRfc3339Nanos(std::string_view text);

}  // namespace vault
