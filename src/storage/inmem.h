// In-memory Backend (a sorted map under a shared mutex). Used by `server -dev` and tests.
#pragma once

#include <map>
#include <shared_mutex>

#include "storage/backend.h"

namespace vault::storage {

// Every operation completes inline (its task never suspends).
class InmemBackend : public Backend {
 public:
  Task<Result<std::optional<std::string>>> Get(std::string_view key) override;
  Task<Status> Put(std::string_view key, std::string_view value) override;
  Task<Status> Delete(std::string_view key) override;
  Task<Status> Write(std::vector<Mutation> batch) override;
  Task<Result<std::vector<std::string>>> List(std::string_view prefix) override;
  Task<Status> Scan(std::string_view prefix, ScanFn fn) override;
  std::string Name() const override { return "inmem"; }

 private:
  std::shared_mutex mu_;
  std::map<std::string, std::string, std::less<>> data_;
};

}  // namespace vault::storage
