// Blocking calls on a Backend for tests, tools and benchmarks: each call waits for the backend's
// task (SyncWait). Never use it on a server thread.
#pragma once

#include "storage/backend.h"

namespace vault::storage {

class Blocking {
 public:
  explicit Blocking(Backend* backend) : b_(backend) {}
  Result<std::optional<std::string>> Get(std::string_view key) { return SyncWait(b_->Get(key)); }
  Status Put(std::string_view key, std::string_view value) { return SyncWait(b_->Put(key, value)); }
  Status Delete(std::string_view key) { return SyncWait(b_->Delete(key)); }
  Status Write(std::vector<Mutation> batch) { return SyncWait(b_->Write(std::move(batch))); }
  Result<std::vector<std::string>> List(std::string_view prefix) {
    return SyncWait(b_->List(prefix));
  }
  Status Scan(std::string_view prefix, Backend::ScanFn fn) {
    return SyncWait(b_->Scan(prefix, std::move(fn)));
  }
  Status ScanKeys(std::string_view prefix, Backend::KeyFn fn) {
    return SyncWait(b_->ScanKeys(prefix, std::move(fn)));
  }

 private:
  Backend* b_;
};

}  // namespace vault::storage
