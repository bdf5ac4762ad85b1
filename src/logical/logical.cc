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

Result<std::optional<std::string>> PrefixStorage::Get(std::string_view key) {
  return inner_->Get(prefix_ + std::string(key));
}
Status PrefixStorage::Put(std::string_view key, std::string_view value) {
  return inner_->Put(prefix_ + std::string(key), value);
}
Status PrefixStorage::Delete(std::string_view key) {
  return inner_->Delete(prefix_ + std::string(key));
}
Result<std::vector<std::string>> PrefixStorage::List(std::string_view prefix) {
  return inner_->List(prefix_ + std::string(prefix));
}

Result<std::optional<Json>> GetJson(Storage* s, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, s->Get(key));
  if (!raw) return std::optional<Json>();
  auto parsed = ParseJson(*raw);
  if (!parsed.ok()) return Internal("corrupt entry at " + std::string(key));
  return std::optional<Json>(std::move(parsed).value());
}

Status PutJson(Storage* s, std::string_view key, const Json& value) {
  return s->Put(key, DumpJson(value));
}

}  // namespace vault::logical
