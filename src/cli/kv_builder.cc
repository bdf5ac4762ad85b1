#include "cli/kv_builder.h"

namespace vault::cli {
namespace {

class Builder {
 public:
  explicit Builder(const InputSources& inputs) : inputs_(inputs) {}

  Status Add(const std::string& raw) {
    Status st = AddOne(raw);
    if (!st.ok()) {
      return InvalidArgument("Invalid key/value pair '" + raw + "': " + st.message());
    }
    return Status::Ok();
  }

  Json Take() { return std::move(result_); }

 private:
  Result<std::string> ReadStdinOnce() {
    if (!inputs_.read_stdin) return InvalidArgument("stdin is not supported");
    if (stdin_used_) return InvalidArgument("stdin already consumed");
    stdin_used_ = true;
    return inputs_.read_stdin();
  }

  Result<std::string> ReadFile(const std::string& path) {
    if (!inputs_.read_file) return InvalidArgument("files are not supported");
    return inputs_.read_file(path);
  }

  Status MergeJson(const std::string& text) {
    auto parsed = ParseJson(text);
    if (!parsed.ok()) return InvalidArgument(parsed.status().message());
    if (!parsed->is_object()) return InvalidArgument("JSON input must be an object");
    for (auto& [key, value] : parsed->items()) result_[key] = value;
    return Status::Ok();
  }

  Status AddOne(const std::string& raw) {
    if (raw.empty()) return Status::Ok();
    if (raw == "-") {
      ASSIGN_OR_RETURN(std::string text, ReadStdinOnce());
      return MergeJson(text);
    }
    if (raw[0] == '@') {
      ASSIGN_OR_RETURN(std::string text, ReadFile(raw.substr(1)));
      return MergeJson(text);
    }
    size_t eq = raw.find('=');
    if (eq == std::string::npos) return InvalidArgument("format must be key=value");
    std::string key = raw.substr(0, eq);
    std::string value = raw.substr(eq + 1);
    if (!value.empty()) {
      if (value[0] == '@') {
        auto contents = ReadFile(value.substr(1));
        if (!contents.ok()) {
          return InvalidArgument("error reading file: " + contents.status().message());
        }
        value = std::move(contents).value();
      } else if (value.size() > 1 && value[0] == '\\' && value[1] == '@') {
        value = value.substr(1);
      } else if (value == "-") {
        ASSIGN_OR_RETURN(value, ReadStdinOnce());
      }
    }
    if (result_.contains(key)) {
      Json& existing = result_[key];
      if (!existing.is_array()) existing = Json::array({existing});
      existing.push_back(value);
    } else {
      result_[key] = value;
    }
    return Status::Ok();
  }

  const InputSources& inputs_;
  bool stdin_used_ = false;
  Json result_ = Json::object();
};

}  // namespace

Result<Json> BuildKeyValueData(const std::vector<std::string>& args, const InputSources& inputs) {
  Builder builder(inputs);
  for (const std::string& arg : args) RETURN_IF_ERROR(builder.Add(arg));
  return builder.Take();
}

}  // namespace vault::cli
