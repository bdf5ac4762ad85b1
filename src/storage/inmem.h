// In-memory Backend (a sorted map under a shared mutex). Used by `server -dev` and tests.
#pragma once

#include <map>
#include <shared_mutex>

#include "storage/backend.h"

namespace vault::storage {

class InmemBackend : public Backend {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Status Write(const std::vector<Mutation>& batch) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) override;
  std::string Name() const override { return "inmem"; }

 private:
  std::shared_mutex mu_;
  std::map<std::string, std::string, std::less<>> data_;
};

}  // namespace vault::storage
