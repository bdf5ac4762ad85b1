// Key material cleansing: secrets held in std::string (key shares, root keys, one-time passwords)
// are overwritten with OPENSSL_cleanse (which the compiler may not optimize away) when done.
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <vector>

namespace vault {

inline void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

inline void WipeAll(std::vector<std::string>& v) {
  for (auto& s : v) Wipe(s);
  v.clear();
}

// Wipes *s when the scope ends (a coroutine's parameter, whatever co_return is taken).
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string* s) : s_(s) {}
  ~WipeOnExit() { Wipe(*s_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string* s_;
};

}  // namespace vault
