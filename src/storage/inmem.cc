#include "storage/inmem.h"

#include <mutex>

namespace vault::storage {

Task<Result<std::optional<std::string>>> InmemBackend::Get(std::string_view key) {
  std::shared_lock lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) co_return std::optional<std::string>();
  co_return std::optional<std::string>(it->second);
}

Task<Status> InmemBackend::Put(std::string_view key, std::string_view value) {
  std::unique_lock lock(mu_);
  data_.insert_or_assign(std::string(key), std::string(value));
  co_return Status::Ok();
}

Task<Status> InmemBackend::Delete(std::string_view key) {
  std::unique_lock lock(mu_);
  auto it = data_.find(key);
  if (it != data_.end()) data_.erase(it);
  co_return Status::Ok();
}

Task<Status> InmemBackend::Write(std::vector<Mutation> batch) {
  std::unique_lock lock(mu_);
  for (const auto& m : batch) {
    if (m.value) {
      data_.insert_or_assign(m.key, *m.value);
    } else {
      auto it = data_.find(m.key);
      if (it != data_.end()) data_.erase(it);
    }
  }
  co_return Status::Ok();
}

Task<Result<std::vector<std::string>>> InmemBackend::List(std::string_view prefix) {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (auto it = data_.lower_bound(prefix); it != data_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    AppendChild(prefix, it->first, &out);
  }
  co_return out;
}

Task<Status> InmemBackend::Scan(std::string_view prefix, ScanFn fn) {
  std::shared_lock lock(mu_);
  for (auto it = data_.lower_bound(prefix); it != data_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (!fn(it->first, it->second)) break;
  }
  co_return Status::Ok();
}

}  // namespace vault::storage
