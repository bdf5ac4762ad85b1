#include "util/duration.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace vault {

Result<int64_t> ParseGoDurationNanos(std::string_view s) {
  const std::string orig(s);
  auto bad = [&] { return InvalidArgument("time: invalid duration \"" + orig + "\""); };
  if (s.empty()) return bad();
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return bad();
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return bad();
    std::string num(s.substr(0, i));
    if (num == "." || std::count(num.begin(), num.end(), '.') > 1) return bad();
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && !std::isdigit(static_cast<unsigned char>(s[j])) && s[j] != '.') ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else if (unit.empty())
      return InvalidArgument("time: missing unit in duration \"" + orig + "\"");
    else
      return InvalidArgument("time: unknown unit \"" + std::string(unit) + "\" in duration \"" +
                             orig + "\"");
    total += std::stold(num) * mult;
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return bad();
  }
  auto v = static_cast<int64_t>(total);
  return neg ? -v : v;
}

Result<int64_t> ParseDurationSeconds(std::string_view s) {
  if (s.empty()) return int64_t{0};
  bool all_digits = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])) && !(i == 0 && s[i] == '-')) {
      all_digits = false;
      break;
    }
  }
  if (all_digits && s != "-") {
    if (s.size() > 18) return InvalidArgument("duration out of range: " + std::string(s));
    return static_cast<int64_t>(std::stoll(std::string(s)));
  }
  ASSIGN_OR_RETURN(int64_t ns, ParseGoDurationNanos(s));
  return ns / 1000000000;
}

std::string FormatGoDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  if (seconds < 0) {
    out = "-";
    seconds = -seconds;
  }
  int64_t h = seconds / 3600, m = (seconds % 3600) / 60, s = seconds % 60;
  if (h > 0)
    return out + std::to_string(h) + "h" + std::to_string(m) + "m" + std::to_string(s) + "s";
  if (m > 0) return out + std::to_string(m) + "m" + std::to_string(s) + "s";
  return out + std::to_string(s) + "s";
}

}  // namespace vault
