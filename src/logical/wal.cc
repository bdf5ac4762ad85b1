#include "logical/wal.h"

#include "util/random.h"

namespace vault::logical {

const std::string& ProcessBootId() {
  static const std::string id = NewUuid();
  return id;
}

Task<Result<std::string>> PutWal(Storage* s, std::string kind, Json data, int64_t now_unix) {
  std::string id = NewUuid();
  // Built by key rather than from an initializer list, which makes and copies a temporary array
  // per member (a WAL entry is written on the path of every iam_user issue).
  Json doc = Json::object();
  doc["kind"] = kind;
  doc["data"] = data;
  doc["created_at"] = now_unix;
  doc["boot"] = ProcessBootId();
  std::string key = std::string(kWalPrefix) + id;
  CO_RETURN_IF_ERROR(co_await PutJson(s, key, doc));
  co_return id;
}

Task<Result<std::optional<WalEntry>>> GetWal(Storage* s, std::string id) {
  std::string key = std::string(kWalPrefix) + id;
  CO_ASSIGN_OR_RETURN(std::optional<Json> doc, co_await GetJson(s, key));
  if (!doc) co_return std::optional<WalEntry>();
  if (!doc->is_object() || !(*doc)["kind"].is_string() || !(*doc)["created_at"].is_number_integer())
    co_return Internal("corrupt write-ahead entry " + id);
  WalEntry e;
  e.id = id;
  e.kind = (*doc)["kind"].get<std::string>();
  e.data = (*doc)["data"];
  e.created_at = (*doc)["created_at"].get<int64_t>();
  auto boot = doc->find("boot");
  e.foreign =
      boot == doc->end() || !boot->is_string() || boot->get<std::string>() != ProcessBootId();
  co_return std::optional<WalEntry>(std::move(e));
}

Task<Status> DeleteWal(Storage* s, std::string id) {
  std::string key = std::string(kWalPrefix) + id;
  Status st = co_await s->Delete(key);
  co_return st;
}

Task<Result<std::vector<std::string>>> ListWal(Storage* s) {
  Result<std::vector<std::string>> r = co_await s->List(kWalPrefix);
  co_return r;
}

}  // namespace vault::logical
