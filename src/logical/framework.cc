#include "logical/framework.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <sstream>

#include "util/duration.h"
#include "util/log.h"
#include "util/strings.h"

namespace vault::logical {

const char* FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "string";
    case FieldType::kInt:
      return "int";
    case FieldType::kBool:
      return "bool";
    case FieldType::kDurationSecond:
      return "duration (sec)";
    case FieldType::kSignedDurationSecond:
      return "signed duration (sec)";
    case FieldType::kMap:
      return "map";
    case FieldType::kStringSlice:
      return "slice";
    case FieldType::kCommaStringSlice:
      return "slice";
    case FieldType::kKvPairs:
      return "keypair";
  }
  return "unknown";
}

namespace {

// The input value is deliberately not echoed: a value sent to the wrong field may be a secret.
Status ConvError(const Field& f, const Json&, const std::string& why) {
  return InvalidArgument("error converting input for field \"" + f.name + "\": " + why);
}

std::string ScalarToString(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)))
      return std::to_string(static_cast<int64_t>(d));
    std::ostringstream os;
    os << d;
    return os.str();
  }
  return DumpJson(v);
}

Result<Json> ToStringList(const Field& f, const Json& in, bool comma) {
  Json out = Json::array();
  if (in.is_array()) {
    for (const auto& e : in) {
      if (e.is_object() || e.is_array()) return ConvError(f, in, "expected a list of strings");
      if (comma && e.is_string()) {
        for (auto& s : Split(e.get<std::string>(), ',')) {
          std::string t = Trim(s);
          if (!t.empty()) out.push_back(t);
        }
      } else {
        out.push_back(ScalarToString(e));
      }
    }
    return out;
  }
  if (in.is_object()) return ConvError(f, in, "expected a list of strings");
  std::string s = ScalarToString(in);
  if (comma) {
    for (auto& part : Split(s, ',')) {
      std::string t = Trim(part);
      if (!t.empty()) out.push_back(t);
    }
  } else if (!s.empty()) {
    out.push_back(s);
  }
  return out;
}

}  // namespace

Result<Json> DecodeField(const Field& f, const Json& in) {
  switch (f.type) {
    case FieldType::kString:
      if (in.is_object() || in.is_array()) return ConvError(f, in, "expected a string");
      return Json(ScalarToString(in));
    case FieldType::kInt: {
      if (in.is_number_integer() || in.is_number_unsigned()) return Json(in.get<int64_t>());
      if (in.is_number_float()) return Json(static_cast<int64_t>(in.get<double>()));
      if (in.is_boolean()) return Json(in.get<bool>() ? 1 : 0);
      if (in.is_string()) {
        std::string s = Trim(in.get<std::string>());
        if (s.empty()) return Json(0);
        char* end = nullptr;
        errno = 0;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (errno || end == s.c_str() || *end != '\0')
          return ConvError(f, in, "expected an integer");
        return Json(static_cast<int64_t>(v));
      }
      return ConvError(f, in, "expected an integer");
    }
    case FieldType::kBool: {
      if (in.is_boolean()) return in;
      if (in.is_number()) return Json(in.get<double>() != 0);
      if (in.is_string()) {
        std::string s = in.get<std::string>();
        if (s.empty()) return Json(false);
        int b = ParseGoBool(s);
        if (b < 0) return ConvError(f, in, "expected a boolean");
        return Json(b == 1);
      }
      return ConvError(f, in, "expected a boolean");
    }
    case FieldType::kDurationSecond:
    case FieldType::kSignedDurationSecond: {
      const bool signed_ok = f.type == FieldType::kSignedDurationSecond;
      if (in.is_number_integer() || in.is_number_unsigned()) return Json(in.get<int64_t>());
      if (in.is_number_float()) return Json(static_cast<int64_t>(in.get<double>()));
      if (in.is_string()) {
        auto r = ParseDurationSeconds(Trim(in.get<std::string>()));
        if (!r.ok()) return ConvError(f, in, "expected seconds or a duration such as \"1h\"");
        if (*r < 0 && !signed_ok) return ConvError(f, in, "duration must not be negative");
        return Json(*r);
      }
      return ConvError(f, in, "expected a duration");
    }
    case FieldType::kMap: {
      if (in.is_object()) return in;
      if (in.is_string()) {
        std::string s = in.get<std::string>();
        if (s.empty()) return Json::object();
        auto j = ParseJson(s);
        if (j.ok() && j->is_object()) return *j;
      }
      return ConvError(f, in, "expected a map");
    }
    case FieldType::kStringSlice:
      return ToStringList(f, in, false);
    case FieldType::kCommaStringSlice:
      return ToStringList(f, in, true);
    case FieldType::kKvPairs: {
      if (in.is_object()) {
        Json out = Json::object();
        for (auto& [k, v] : in.items()) out[k] = ScalarToString(v);
        return out;
      }
      ASSIGN_OR_RETURN(Json list, ToStringList(f, in, true));
      Json out = Json::object();
      for (const auto& e : list) {
        std::string s = e.get<std::string>();
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0) return ConvError(f, in, "expected key=value pairs");
        out[s.substr(0, eq)] = s.substr(eq + 1);
      }
      return out;
    }
  }
  return ConvError(f, in, "unknown field type");
}

const Field* FieldData::Find(const std::string& name) const {
  for (const auto& f : *schema_)
    if (f.name == name) return &f;
  return nullptr;
}

Status FieldData::Validate() const {
  for (const auto& f : *schema_) {
    if (Has(f.name)) {
      auto r = DecodeField(f, raw_.at(f.name));
      if (!r.ok()) return r.status();
    } else if (f.required) {
      return InvalidArgument("missing required field: " + f.name);
    }
  }
  return Status::Ok();
}

bool FieldData::Has(const std::string& name) const {
  return raw_.is_object() && raw_.contains(name) && !raw_.at(name).is_null();
}

Json FieldData::Get(const std::string& name) const {
  const Field* f = Find(name);
  if (!f) return nullptr;
  if (Has(name)) {
    auto r = DecodeField(*f, raw_.at(name));
    if (r.ok()) return *r;
  }
  if (!f->default_value.is_null()) {
    auto r = DecodeField(*f, f->default_value);
    if (r.ok()) return *r;
  }
  switch (f->type) {
    case FieldType::kString:
      return "";
    case FieldType::kInt:
    case FieldType::kDurationSecond:
    case FieldType::kSignedDurationSecond:
      return 0;
    case FieldType::kBool:
      return false;
    case FieldType::kMap:
    case FieldType::kKvPairs:
      return Json::object();
    case FieldType::kStringSlice:
    case FieldType::kCommaStringSlice:
      return Json::array();
  }
  return nullptr;
}

std::string FieldData::GetString(const std::string& name) const {
  Json v = Get(name);
  return v.is_string() ? v.get<std::string>() : "";
}
int64_t FieldData::GetInt(const std::string& name) const {
  Json v = Get(name);
  return v.is_number() ? v.get<int64_t>() : 0;
}
bool FieldData::GetBool(const std::string& name) const {
  Json v = Get(name);
  return v.is_boolean() && v.get<bool>();
}
std::vector<std::string> FieldData::GetStrings(const std::string& name) const {
  std::vector<std::string> out;
  Json v = Get(name);
  if (v.is_array())
    for (const auto& e : v) out.push_back(e.get<std::string>());
  return out;
}

std::string RegexLiteralPrefix(std::string_view pattern) {
  int depth = 0;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      return "";
    }
  }
  std::string out;
  for (char c : pattern) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
      if ((c == '?' || c == '*' || c == '+' || c == '{') && !out.empty()) out.pop_back();
      break;
    }
    out += c;
  }
  return out;
}

namespace {
// Turns Vault's "(?P<name>" groups into plain groups and records capture names by group index.
std::string TranslatePattern(const std::string& pattern, std::vector<std::string>* names) {
  std::string out;
  int group = 0;
  std::map<int, std::string> by_index;
  bool in_class = false;
  bool after_class_escape = false;  // RE2 reads "[\\w-.]" as \w, '-', '.'; ECMAScript needs "\\-"
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      out += c;
      char e = pattern[++i];
      out += e;
      after_class_escape = in_class && std::string_view("wWdDsS").find(e) != std::string_view::npos;
      continue;
    }
    if (in_class) {
      if (c == '-' && after_class_escape) out += '\\';
      after_class_escape = false;
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') in_class = true;
    if (c == '(') {
      if (pattern.compare(i, 4, "(?P<") == 0) {
        auto end = pattern.find('>', i);
        ++group;
        by_index[group] = pattern.substr(i + 4, end - i - 4);
        out += '(';
        i = end;
        continue;
      }
      if (pattern.compare(i, 3, "(?:") != 0) ++group;
    }
    out += c;
  }
  names->assign(group + 1, "");
  for (auto& [idx, name] : by_index) (*names)[idx] = name;
  return out;
}
}  // namespace

FrameworkBackend::FrameworkBackend(std::string help, std::vector<Path> paths,
                                   std::vector<std::string> root_paths)
    : help_(std::move(help)), root_paths_(std::move(root_paths)) {
  for (auto& p : paths) {
    Compiled c;
    std::string re = TranslatePattern(p.pattern, &c.captures);
    try {
      c.re = std::regex("^" + re + "$", std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      // Patterns are compiled-in constants: a bad one is a programming error caught by tests.
      spdlog::critical("invalid path pattern {}: {}", p.pattern, e.what());
      std::abort();
    }
    c.any = re == ".*";
    c.prefix = RegexLiteralPrefix(re);
    c.path = std::move(p);
    paths_.push_back(std::move(c));
  }
}

const FrameworkBackend::Compiled* FrameworkBackend::Match(const std::string& path,
                                                          Json* captures) const {
  for (const auto& c : paths_) {
    // ".*" (the KV engine's only path) is decided without running the regex: ECMAScript's '.'
    // matches any byte but '\n' and '\r'.
    if (c.any) {
      if (path.find_first_of("\n\r") == std::string::npos) return &c;
      continue;
    }
    // std::regex_match costs allocations and a large executor even when the first byte differs.
    if (path.compare(0, c.prefix.size(), c.prefix) != 0) continue;
    std::smatch m;
    if (std::regex_match(path, m, c.re)) {
      for (size_t i = 1; i < m.size() && i < c.captures.size(); ++i) {
        if (!c.captures[i].empty() && m[i].matched) (*captures)[c.captures[i]] = m[i].str();
      }
      return &c;
    }
  }
  return nullptr;
}

Task<Result<std::optional<bool>>> FrameworkBackend::ExistenceCheck(Request& req) {
  Json captures = Json::object();
  const Compiled* c = Match(req.path, &captures);
  if (!c || !c->path.existence_check) co_return std::optional<bool>();
  Json raw = req.data.is_object() ? req.data : Json::object();
  for (auto& [k, v] : captures.items()) raw[k] = v;
  FieldData fd(&c->path.fields, std::move(raw));
  CO_ASSIGN_OR_RETURN(bool exists, co_await c->path.existence_check(req, fd));
  co_return std::optional<bool>(exists);
}

Result<Response> FrameworkBackend::HandleRequest(Request& req) {
  return SyncWait(HandleRequestAsync(req));
}

Task<Result<Response>> FrameworkBackend::HandleRequestAsync(Request& req) {
  if (req.operation == Operation::kRenew && req.auth) {
    if (!auth_renew_) co_return InvalidArgument("this auth method does not renew tokens");
    co_return co_await auth_renew_(req);
  }
  if (req.operation == Operation::kRenew || req.operation == Operation::kRevoke) {
    co_return co_await HandleSecret(req);
  }
  if (req.operation == Operation::kRollback) co_return co_await HandleRollback(req);
  if (req.operation == Operation::kHelp) {
    Response r;
    if (req.path.empty()) {
      r.help = RootHelp();
      co_return r;
    }
    Json captures = Json::object();
    const Compiled* c = Match(req.path, &captures);
    if (!c) co_return NotFound("unsupported path");
    r.help = PathHelp(*c, req.path);
    co_return r;
  }
  Json captures = Json::object();
  const Compiled* c = Match(req.path, &captures);
  if (!c) co_return NotFound("unsupported path");
  const auto& ops = c->path.operations;
  const auto& async_ops = c->path.async_operations;
  auto has = [&](Operation o) { return ops.count(o) > 0 || async_ops.count(o) > 0; };
  Operation op = req.operation;
  if (!has(op) && op == Operation::kCreate) op = Operation::kUpdate;
  if (!has(op) && op == Operation::kUpdate && !c->path.existence_check) op = Operation::kCreate;
  if (!has(op)) co_return UnsupportedOperation();
  // Captures win over body fields of the same name (as in Vault).
  Json raw = req.data.is_object() ? req.data : Json::object();
  for (auto& [k, v] : captures.items()) raw[k] = v;
  FieldData fd(&c->path.fields, std::move(raw));
  if (Status st = fd.Validate(); !st.ok()) co_return st;
  // Not a conditional expression: GCC 12 miscompiles co_await inside `?:`.
  std::optional<Result<Response>> result;
  if (auto a = async_ops.find(op); a != async_ops.end()) {
    result.emplace(co_await a->second(req, fd));
  } else {
    result.emplace(ops.at(op)(req, fd));
  }
  Result<Response> out = std::move(*result);
  if (out.ok() && out->secret) {
    // Tag the lease with its secret type so renew/revoke find their handlers.
    if (!out->secret->internal_data.is_object()) out->secret->internal_data = Json::object();
    if (!out->secret->internal_data.contains("secret_type") && secret_types_.size() == 1)
      out->secret->internal_data["secret_type"] = secret_types_[0].type;
  }
  co_return out;
}

Task<Result<Response>> FrameworkBackend::HandleSecret(Request& req) {
  if (!req.secret) co_return InvalidArgument("request has no secret");
  const Json& internal = req.secret->internal_data;
  std::string type;
  if (internal.is_object() && internal.contains("secret_type") &&
      internal["secret_type"].is_string())
    type = internal["secret_type"].get<std::string>();
  const SecretType* found = nullptr;
  for (const auto& t : secret_types_) {
    if (t.type == type || (type.empty() && secret_types_.size() == 1)) found = &t;
  }
  if (!found) co_return InvalidArgument("secret is unsupported by this backend");
  if (req.operation == Operation::kRenew) {
    if (!found->renew) co_return InvalidArgument("lease is not renewable");
    co_return co_await found->renew(req);
  }
  if (!found->revoke) co_return Response();
  co_return co_await found->revoke(req);
}

namespace {

// One rollback pass over a mount's WAL entries, shared by its workers.
struct RollbackPass {
  const WalRollback* rollback = nullptr;
  int64_t now = 0;
  int64_t min_age = 0;
  std::vector<std::string> ids;
  std::mutex mu;
  size_t next = 0;
  int64_t done = 0, pending = 0, failed = 0;
  std::vector<std::string> errors;

  std::optional<std::string> Next() {
    std::lock_guard lock(mu);
    if (next == ids.size()) return std::nullopt;
    return ids[next++];
  }
  void Count(int64_t RollbackPass::*counter, std::string error = "") {
    std::lock_guard lock(mu);
    ++(this->*counter);
    if (!error.empty()) errors.push_back(std::move(error));
  }
};

// Takes entries off the pass until none is left. `req` is this worker's own copy.
Task<Status> RollbackWorker(std::shared_ptr<RollbackPass> pass, Request req) {
  while (auto id = pass->Next()) {
    auto entry = co_await GetWal(req.storage, *id);
    if (!entry.ok()) {
      pass->Count(&RollbackPass::failed, entry.status().message());
      continue;
    }
    if (!entry->has_value()) continue;  // completed meanwhile
    const bool young = pass->now - (*entry)->created_at < pass->min_age;
    if (young && !(*entry)->foreign) {
      pass->Count(&RollbackPass::pending);
      continue;
    }
    Status st = co_await pass->rollback->rollback(req, **entry);
    if (st.ok() && !young) st = co_await DeleteWal(req.storage, *id);
    if (st.ok()) {
      pass->Count(&RollbackPass::done);
    } else {
      pass->Count(&RollbackPass::failed, st.message());
    }
  }
  co_return Status::Ok();
}

}  // namespace

Task<Result<Response>> FrameworkBackend::HandleRollback(Request& req) {
  Response r;
  if ((!wal_rollback_ && !periodic_) || !req.storage) co_return r;
  // One pass at a time: a slow pass (AWS calls) is not overtaken by the next periodic one.
  if (rollback_running_.exchange(true)) {
    r.data = {{"rolled_back", 0}, {"pending", 0}, {"failed", 0}, {"skipped", true}};
    co_return r;
  }
  struct Clear {
    std::atomic<bool>* flag;
    ~Clear() { flag->store(false); }
  } clear{&rollback_running_};
  auto pass = std::make_shared<RollbackPass>();
  if (wal_rollback_) {
    pass->rollback = &*wal_rollback_;
    pass->min_age = wal_rollback_->min_age_seconds;
    if (req.data.is_object() && req.data.contains("min_age") && req.data["min_age"].is_number())
      pass->min_age = req.data["min_age"].get<int64_t>();
    auto ids = co_await ListWal(req.storage);
    if (!ids.ok()) co_return ids.status();
    pass->ids = std::move(*ids);
    pass->now = clock_->NowSeconds();
  }
  // Entries are independent (each names its own outside object): undo several at once, bounded,
  // so a crash that left hundreds behind is cleaned up in seconds, not minutes.
  const size_t workers = std::min<size_t>(pass->ids.size(), kRollbackConcurrency);
  if (workers > 0) {
    co_await AwaitCallback<int>([&](std::function<void(int)> all_done) {
      auto remaining = std::make_shared<std::atomic<size_t>>(workers);
      for (size_t i = 0; i < workers; ++i) {
        StartTask(RollbackWorker(pass, req), [remaining, all_done](Status) {
          if (remaining->fetch_sub(1) == 1) all_done(0);
        });
      }
    });
  }
  // Then the engine's periodic work (Vault's PeriodicFunc), e.g. static-role rotation.
  if (periodic_) {
    Status st = co_await periodic_(req);
    if (!st.ok()) pass->Count(&RollbackPass::failed, st.message());
  }
  r.data = {{"rolled_back", pass->done}, {"pending", pass->pending}, {"failed", pass->failed}};
  // Write-ahead entries still stored after the pass (too young, or their undo failed).
  if (wal_rollback_)
    r.data["waiting"] = static_cast<int64_t>(pass->ids.size()) - static_cast<int64_t>(pass->done);
  if (!pass->errors.empty()) r.data["errors"] = pass->errors;
  co_return r;
}

std::string FrameworkBackend::RootHelp() const {
  std::string out = "## DESCRIPTION\n\n" + help_ +
                    "\n\n## PATHS\n\nThe following paths are supported by this backend. To view "
                    "help for\nany of the paths below, use the help command with any route "
                    "matching\nthe path pattern. Note that depending on the policy of your auth "
                    "token,\nyou may or may not be able to access certain paths.\n\n";
  for (const auto& c : paths_) {
    out += "    ^" + c.path.pattern + "$\n";
    out += "        " + c.path.synopsis + "\n\n";
  }
  return out;
}

std::string FrameworkBackend::PathHelp(const Compiled& c, const std::string& request_path) const {
  std::string out = "Request:        " + request_path + "\nMatching Route: ^" + c.path.pattern +
                    "$\n\n" + c.path.synopsis + "\n";
  if (!c.path.fields.empty()) {
    out += "\n## PARAMETERS\n";
    std::vector<const Field*> fields;
    for (const auto& f : c.path.fields) fields.push_back(&f);
    std::sort(fields.begin(), fields.end(),
              [](const Field* a, const Field* b) { return a->name < b->name; });
    for (const Field* f : fields) {
      out += "\n    " + f->name + " (" + FieldTypeName(f->type) + ")\n";
      if (!f->description.empty()) out += "        " + f->description + "\n";
    }
  }
  if (!c.path.description.empty()) out += "\n## DESCRIPTION\n\n" + c.path.description + "\n";
  return out;
}

}  // namespace vault::logical
