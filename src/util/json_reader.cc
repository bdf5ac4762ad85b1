#include "util/json_reader.h"

#include <limits>

namespace vault {

const Json* JsonReader::Find(std::string_view key) const {
  if (!j_.is_object()) return nullptr;
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string JsonReader::String(std::string_view key, std::string def) {
  const Json* v = Find(key);
  if (v == nullptr) return def;
  if (!v->is_string()) {
    ok_ = false;
    return def;
  }
  return v->get<std::string>();
}

int64_t JsonReader::Int(std::string_view key, int64_t def) {
  const Json* v = Find(key);
  if (v == nullptr) return def;
  const bool fits =
      v->is_number_integer() &&
      !(v->is_number_unsigned() &&
        v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  if (!fits) {
    ok_ = false;
    return def;
  }
  return v->get<int64_t>();
}

bool JsonReader::Bool(std::string_view key, bool def) {
  const Json* v = Find(key);
  if (v == nullptr) return def;
  if (!v->is_boolean()) {
    ok_ = false;
    return def;
  }
  return v->get<bool>();
}

std::vector<std::string> JsonReader::Strings(std::string_view key) {
  const Json* v = Find(key);
  if (v == nullptr) return {};
  std::vector<std::string> out;
  if (v->is_array()) {
    out.reserve(v->size());
    for (const Json& e : *v) {
      if (!e.is_string()) break;
      out.push_back(e.get<std::string>());
    }
    if (out.size() == v->size()) return out;
  }
  ok_ = false;
  return {};
}

Json JsonReader::Value(std::string_view key, Json def) const {
  const Json* v = Find(key);
  return v == nullptr ? std::move(def) : *v;
}

}  // namespace vault
