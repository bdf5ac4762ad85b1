// The path framework engines are built with: an engine declares its paths (Vault-style regex
// patterns with (?P<name>...) captures), typed fields with defaults, the operations each path
// supports and help text. The framework matches the path, validates and weakly decodes input
// (strings to ints/bools as the CLI sends everything as strings), answers 404 for unknown
// paths and 405 for unsupported operations, and renders path-help for the root and every path.
#pragma once

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "logical/logical.h"

namespace vault::logical {

enum class FieldType {
  kString,
  kInt,
  kBool,
  kDurationSecond,    // int seconds or a Go duration string; stored as seconds
  kMap,               // JSON object
  kStringSlice,       // JSON array of strings, or one string
  kCommaStringSlice,  // JSON array, or a comma-separated string
  kKvPairs,           // map, or ["k=v", ...] / "k=v,k2=v2"
};
const char* FieldTypeName(FieldType t);

struct Field {
  std::string name;
  FieldType type = FieldType::kString;
  std::string description;
  Json default_value;  // null = the type's zero value
  bool required = false;
};

// Validated request data for one path: the request body/query plus the path's captures.
class FieldData {
 public:
  FieldData(const std::vector<Field>* schema, Json raw) : schema_(schema), raw_(std::move(raw)) {}
  // Decodes every field present in the input; the first failure is a kInvalidArgument.
  Status Validate() const;
  // True if the field was supplied (and not JSON null).
  bool Has(const std::string& name) const;
  // The decoded value, or the default when absent. Only call for declared fields after Validate.
  Json Get(const std::string& name) const;
  std::string GetString(const std::string& name) const;
  int64_t GetInt(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  std::vector<std::string> GetStrings(const std::string& name) const;
  const Json& raw() const { return raw_; }

 private:
  const Field* Find(const std::string& name) const;
  const std::vector<Field>* schema_;
  Json raw_;
};

// Weakly decodes one input value to a field type (as Vault's framework does).
Result<Json> DecodeField(const Field& f, const Json& in);

using OperationHandler = std::function<Result<Response>(Request&, const FieldData&)>;

struct Path {
  std::string pattern;  // e.g. "roles/(?P<name>\\w(([\\w-.@]+)?\\w)?)"; anchored implicitly
  std::vector<Field> fields;
  std::map<Operation, OperationHandler> operations;
  // Decides create vs update for PUT/POST; absent = always update.
  std::function<Result<bool>(Request&, const FieldData&)> existence_check;
  std::string synopsis;
  std::string description;
};

class FrameworkBackend : public Backend {
 public:
  FrameworkBackend(std::string help, std::vector<Path> paths, std::vector<std::string> root_paths = {});
  Result<Response> HandleRequest(Request& req) override;
  std::vector<std::string> RootPaths() const override { return root_paths_; }
  Result<std::optional<bool>> ExistenceCheck(Request& req) override;

  // Rendered help for the engine root (path "") or a path.
  std::string RootHelp() const;

 private:
  struct Compiled {
    Path path;
    std::regex re;
    std::vector<std::string> captures;
  };
  const Compiled* Match(const std::string& path, Json* captures) const;
  std::string PathHelp(const Compiled& c, const std::string& request_path) const;

  std::string help_;
  std::vector<Compiled> paths_;
  std::vector<std::string> root_paths_;
};

}  // namespace vault::logical
