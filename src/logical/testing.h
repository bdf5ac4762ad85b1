// Test helpers for engines: an in-memory logical::Storage (its tasks complete inline).
#pragma once

#include <map>
#include <mutex>

#include "logical/logical.h"

namespace vault::logical {

class MemStorage : public Storage {
 public:
  Task<Result<std::optional<std::string>>> Get(std::string_view key) override {
    co_return GetNow(key);
  }
  Task<Status> Put(std::string_view key, std::string_view value) override {
    co_return PutNow(key, value);
  }
  Task<Status> Delete(std::string_view key) override {
    std::lock_guard l(mu_);
    m_.erase(std::string(key));
    co_return Status::Ok();
  }
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override {
    co_return ListNow(prefix);
  }
  // The same, for a test's own checks (no task to wait for).
  Result<std::optional<std::string>> GetNow(std::string_view key) {
    std::lock_guard l(mu_);
    auto it = m_.find(std::string(key));
    if (it == m_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status PutNow(std::string_view key, std::string_view value) {
    std::lock_guard l(mu_);
    m_[std::string(key)] = std::string(value);
    return Status::Ok();
  }
  Result<std::vector<std::string>> ListNow(std::string_view prefix) {
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
