#include "storage/backend.h"

namespace vault::storage {

void AppendChild(std::string_view prefix, std::string_view key, std::vector<std::string>* out) {
  std::string_view rest = key.substr(prefix.size());
  auto slash = rest.find('/');
  std::string child(slash == std::string_view::npos ? rest : rest.substr(0, slash + 1));
  if (child.empty()) return;
  if (out->empty() || out->back() != child) out->push_back(std::move(child));
}

Task<Status> Backend::ScanKeys(std::string_view prefix, KeyFn fn) {
  ScanFn keys = [&fn](std::string_view key, std::string_view) { return fn(key); };
  Status st = co_await Scan(prefix, std::move(keys));
  co_return st;
}

}  // namespace vault::storage
