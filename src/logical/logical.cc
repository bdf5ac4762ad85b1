#include "logical/logical.h"

namespace vault::logical {

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kRead:
      return "read";
    case Operation::kCreate:
      return "create";
    case Operation::kUpdate:
      return "update";
    case Operation::kPatch:
      return "patch";
    case Operation::kDelete:
      return "delete";
    case Operation::kList:
      return "list";
    case Operation::kHelp:
      return "help";
    case Operation::kRenew:
      return "renew";
    case Operation::kRevoke:
      return "revoke";
    case Operation::kRollback:
      return "rollback";
  }
  return "unknown";
}

// Each builds the full key in its own frame (not as a temporary inside the co_await expression).
Task<Result<std::optional<std::string>>> PrefixStorage::Get(std::string_view key) {
  std::string full = prefix_ + std::string(key);
  Result<std::optional<std::string>> r = co_await inner_->Get(full);
  co_return r;
}
Task<Status> PrefixStorage::Put(std::string_view key, std::string_view value) {
  std::string full = prefix_ + std::string(key);
  Status st = co_await inner_->Put(full, value);
  co_return st;
}
Task<Status> PrefixStorage::Delete(std::string_view key) {
  std::string full = prefix_ + std::string(key);
  Status st = co_await inner_->Delete(full);
  co_return st;
}
Task<Result<std::vector<std::string>>> PrefixStorage::List(std::string_view prefix) {
  std::string full = prefix_ + std::string(prefix);
  Result<std::vector<std::string>> r = co_await inner_->List(full);
  co_return r;
}

Task<Result<std::optional<Json>>> GetJson(Storage* s, std::string_view key) {
  CO_ASSIGN_OR_RETURN(std::optional<std::string> raw, co_await s->Get(key));
  if (!raw) co_return std::optional<Json>();
  auto parsed = ParseJson(*raw);
  if (!parsed.ok()) co_return Internal("corrupt entry at " + std::string(key));
  co_return std::optional<Json>(std::move(parsed).value());
}

Task<Status> PutJson(Storage* s, std::string_view key, const Json& value) {
  std::string text = DumpJson(value);
  Status st = co_await s->Put(key, text);
  co_return st;
}

}  // namespace vault::logical
