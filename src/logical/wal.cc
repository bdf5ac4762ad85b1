#include "logical/wal.h"

#include "util/random.h"

namespace vault::logical {

const std::string& ProcessBootId() {
  static const std::string id = NewUuid();
  return id;
}

Result<std::string> PutWal(Storage* s, const std::string& kind, const Json& data,
                           int64_t now_unix) {
  std::string id = NewUuid();
  // Built by key rather than from an initializer list, which makes and copies a temporary array
  // per member (a WAL entry is written on the path of every iam_user issue).
  Json doc = Json::object();
  doc["kind"] = kind;
  doc["data"] = data;
  doc["created_at"] = now_unix;
  doc["boot"] = ProcessBootId();
  RETURN_IF_ERROR(PutJson(s, std::string(kWalPrefix) + id, doc));
  return id;
}

Result<std::optional<WalEntry>> GetWal(Storage* s, const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<Json> doc, GetJson(s, std::string(kWalPrefix) + id));
  if (!doc) return std::optional<WalEntry>();
  if (!doc->is_object() || !(*doc)["kind"].is_string() || !(*doc)["created_at"].is_number_integer())
    return Internal("corrupt write-ahead entry " + id);
  WalEntry e;
  e.id = id;
  e.kind = (*doc)["kind"].get<std::string>();
  e.data = (*doc)["data"];
  e.created_at = (*doc)["created_at"].get<int64_t>();
  auto boot = doc->find("boot");
  e.foreign =
      boot == doc->end() || !boot->is_string() || boot->get<std::string>() != ProcessBootId();
  return std::optional<WalEntry>(std::move(e));
}

Status DeleteWal(Storage* s, const std::string& id) {
  return s->Delete(std::string(kWalPrefix) + id);
}

Result<std::vector<std::string>> ListWal(Storage* s) { return s->List(kWalPrefix); }

}  // namespace vault::logical
