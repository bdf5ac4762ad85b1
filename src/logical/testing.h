// Test helpers for engines: an in-memory logical::Storage.
#pragma once

#include <map>
#include <mutex>

#include "logical/logical.h"

namespace vault::logical {

class MemStorage : public Storage {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::lock_guard l(mu_);
    auto it = m_.find(std::string(key));
    if (it == m_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status Put(std::string_view key, std::string_view value) override {
    std::lock_guard l(mu_);
    m_[std::string(key)] = std::string(value);
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    std::lock_guard l(mu_);
    m_.erase(std::string(key));
    return Status::Ok();
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    std::lock_guard l(mu_);
    std::vector<std::string> out;
    for (auto it = m_.lower_bound(std::string(prefix)); it != m_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      std::string rest = it->first.substr(prefix.size());
      auto slash = rest.find('/');
      std::string child = slash == std::string::npos ? rest : rest.substr(0, slash + 1);
      if (out.empty() || out.back() != child) out.push_back(child);
    }
    return out;
  }
  size_t size() const { return m_.size(); }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> m_;
};

}  // namespace vault::logical
