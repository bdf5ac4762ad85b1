#include "util/clock.h"

#include <chrono>
#include <ctime>
#include <string>

namespace vault {

int64_t SystemClock::NowNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock* SystemClock::Get() {
  static SystemClock clock;
  return &clock;
}

std::string FormatRfc3339Nano(int64_t unix_nanos) {
  time_t secs = static_cast<time_t>(unix_nanos / 1000000000);
  int64_t frac = unix_nanos % 1000000000;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac) {
    char fb[16];
    snprintf(fb, sizeof(fb), ".%09lld", static_cast<long long>(frac));
    std::string f = fb;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int64_t y, int64_t m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

Result<int64_t> ParseRfc3339Nanos(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("invalid RFC 3339 time: \"" + std::string(text) + "\"");
  };
  size_t pos = 0;
  // Reads exactly `n` digits.
  auto number = [&](size_t n, int64_t* out) {
    if (pos + n > text.size()) return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = text[pos + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos += n;
    *out = v;
    return true;
  };
  auto expect = [&](std::string_view chars) {
    if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) return false;
    ++pos;
    return true;
  };
  int64_t y, mo, d, h, mi, s;
  if (!number(4, &y) || !expect("-") || !number(2, &mo) || !expect("-") || !number(2, &d) ||
      !expect("Tt ") || !number(2, &h) || !expect(":") || !number(2, &mi) || !expect(":") ||
      !number(2, &s))
    return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || s > 60)
    return bad();
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset = 0;
  if (expect("Zz")) {
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh, om;
    if (!number(2, &oh) || !expect(":") || !number(2, &om) || oh > 23 || om > 59) return bad();
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
  // Unix nanoseconds in 64 bits reach from 1677 to 2262: a time outside is refused. (Before 1970
  // the whole seconds are taken one nearer zero, so that the earliest second that fits does.)
  if (secs < 0 && nanos > 0) {
    ++secs;
    nanos -= 1000000000;
  }
  int64_t unix_nanos = 0;
  if (__builtin_mul_overflow(secs, int64_t{1000000000}, &unix_nanos) ||
      __builtin_add_overflow(unix_nanos, nanos, &unix_nanos))
    return bad();
  return unix_nanos;
}

}  // namespace vault
