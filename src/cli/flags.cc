#include "cli/flags.h"

#include <charconv>
#include <sstream>

#include "util/strings.h"

namespace vault::cli {

void FlagSet::Add(const std::string& name, Kind kind, void* target, std::string usage,
                  std::string default_text) {
  flags_[name] = Flag{kind, target, std::move(usage), std::move(default_text)};
}

void FlagSet::String(const std::string& name, std::string* target, std::string usage) {
  Add(name, Kind::kString, target, std::move(usage),
      target->empty() ? "<string>" : "\"" + *target + "\"");
}

void FlagSet::Bool(const std::string& name, bool* target, std::string usage) {
  Add(name, Kind::kBool, target, std::move(usage), *target ? "true" : "false");
}

void FlagSet::Int(const std::string& name, int64_t* target, std::string usage) {
  Add(name, Kind::kInt, target, std::move(usage), std::to_string(*target));
}

void FlagSet::StringList(const std::string& name, std::vector<std::string>* target,
                         std::string usage, bool split_commas) {
  Add(name, Kind::kList, target, std::move(usage), "");
  flags_[name].split_commas = split_commas;
}

void FlagSet::Map(const std::string& name, std::map<std::string, std::string>* target,
                  std::string usage) {
  Add(name, Kind::kMap, target, std::move(usage), "");
}

bool FlagSet::IsSet(const std::string& name) const { return seen_.count(name) > 0; }

Status FlagSet::SetValue(const std::string& name, Flag& flag, const std::string& value) {
  auto invalid = [&](const std::string& why) {
    return InvalidArgument("invalid value \"" + value + "\" for flag -" + name + ": " + why);
  };
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.target) = value;
      break;
    case Kind::kBool: {
      int b = ParseGoBool(value);
      if (b < 0) {
        return InvalidArgument("invalid boolean value \"" + value + "\" for -" + name +
                               ": parse error");
      }
      *static_cast<bool*>(flag.target) = b == 1;
      break;
    }
    case Kind::kInt: {
      int64_t v = 0;
      const char* begin = value.data();
      const char* end = begin + value.size();
      auto [ptr, ec] = std::from_chars(begin, end, v);
      if (value.empty() || ec != std::errc() || ptr != end) return invalid("parse error");
      *static_cast<int64_t*>(flag.target) = v;
      break;
    }
    case Kind::kList: {
      auto* list = static_cast<std::vector<std::string>*>(flag.target);
      if (flag.split_commas) {
        for (const std::string& part : Split(value, ',')) {
          std::string trimmed = Trim(part);
          if (!trimmed.empty()) list->push_back(trimmed);
        }
      } else {
        list->push_back(value);
      }
      break;
    }
    case Kind::kMap: {
      size_t eq = value.find('=');
      if (eq == std::string::npos) return invalid("must be in the form key=value");
      (*static_cast<std::map<std::string, std::string>*>(flag.target))[value.substr(0, eq)] =
          value.substr(eq + 1);
      break;
    }
  }
  ++seen_[name];
  return Status::Ok();
}

Status FlagSet::Parse(const std::vector<std::string>& args) {
  positionals_.clear();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positionals_.insert(positionals_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positionals_.push_back(arg);
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    if (body.empty() || body[0] == '-' || body[0] == '=') {
      return InvalidArgument("bad flag syntax: " + arg);
    }
    std::string name = body;
    std::string value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      if (name == "h" || name == "help") {
        help_requested_ = true;
        continue;
      }
      return InvalidArgument("flag provided but not defined: -" + name);
    }
    Flag& flag = it->second;
    if (flag.kind == Kind::kBool) {
      RETURN_IF_ERROR(SetValue(name, flag, has_value ? value : "true"));
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return InvalidArgument("flag needs an argument: -" + name);
      value = args[++i];
    }
    RETURN_IF_ERROR(SetValue(name, flag, value));
  }
  return Status::Ok();
}

std::string FlagSet::Help() const {
  std::ostringstream out;
  for (const auto& [name, flag] : flags_) {
    out << "  -" << name;
    switch (flag.kind) {
      case Kind::kBool:
        if (flag.default_text == "true") out << "=true";
        break;
      case Kind::kList:
      case Kind::kMap:
        out << "=<value>  (repeatable)";
        break;
      default:
        out << "=" << flag.default_text;
    }
    out << "\n      " << flag.usage << "\n";
  }
  return out.str();
}

}  // namespace vault::cli
