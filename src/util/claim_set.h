// A thread-safe set of names that code claims for the length of an operation (a WAL entry a
// request is still working on, a role being rotated): a claim is a guard that gives the name back
// when it goes out of scope, whatever the path out.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace vault {

class ClaimSet {
 public:
  class Claim {
   public:
    ~Claim() { set_->Release(name_); }
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;

   private:
    friend class ClaimSet;
    Claim(ClaimSet* set, std::string name) : set_(set), name_(std::move(name)) {}
    ClaimSet* set_;
    std::string name_;
  };

  // The claim on `name`, or nullptr when someone holds it already. The set must outlive it.
  std::unique_ptr<Claim> TryClaim(std::string name) {
    std::lock_guard lock(mu_);
    if (!names_.insert(name).second) return nullptr;
    return std::unique_ptr<Claim>(new Claim(this, std::move(name)));
  }

  bool Contains(const std::string& name) const {
    std::lock_guard lock(mu_);
    return names_.count(name) > 0;
  }

 private:
  void Release(const std::string& name) {
    std::lock_guard lock(mu_);
    names_.erase(name);
  }

  mutable std::mutex mu_;
  std::set<std::string> names_;
};

}  // namespace vault
