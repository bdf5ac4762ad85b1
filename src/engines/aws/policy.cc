#include "engines/aws/policy.h"

#include <cctype>
#include <set>

#include "util/json.h"
#include "util/strings.h"

namespace vault::engines::awsengine {

Result<std::string> CompactJson(const std::string& json) {
  // Validate first (also rejects trailing garbage and invalid UTF-8).
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return parsed.status();
  std::string out;
  out.reserve(json.size());
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      out += c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '"') in_string = true;
    out += c;
  }
  return out;
}

namespace {

Status Malformed(const std::string& why) {
  return InvalidArgument("invalid policy document: " + why);
}

// A string or a non-empty list of strings.
Result<std::vector<std::string>> StringOrList(const Json& v, const std::string& key) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (v.is_array() && !v.empty()) {
    for (const auto& e : v) {
      if (!e.is_string()) return Malformed(key + " must be a string or a list of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  return Malformed(key + " must be a string or a non-empty list of strings");
}

bool ValidActionName(const std::string& a) {
  if (a == "*") return true;
  auto colon = a.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= a.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = a[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return a.find(':', colon + 1) == std::string::npos;
}

Status ValidateStatement(const Json& st, size_t index) {
  std::string where = "Statement " + std::to_string(index + 1) + ": ";
  if (!st.is_object()) return Malformed(where + "must be an object");
  static const std::set<std::string> kKeys = {"Sid",          "Effect",      "Principal",
                                              "NotPrincipal", "Action",      "NotAction",
                                              "Resource",     "NotResource", "Condition"};
  for (auto& [k, v] : st.items()) {
    if (!kKeys.count(k)) return Malformed(where + "unknown key \"" + k + "\"");
  }
  if (st.contains("Sid") && !st["Sid"].is_string())
    return Malformed(where + "Sid must be a string");
  if (!st.contains("Effect")) return Malformed(where + "Effect is required");
  if (!st["Effect"].is_string() || (st["Effect"] != "Allow" && st["Effect"] != "Deny"))
    return Malformed(where + "Effect must be \"Allow\" or \"Deny\"");
  if (st.contains("Principal") || st.contains("NotPrincipal"))
    return Malformed(where + "an identity policy must not specify a principal");
  bool has_action = st.contains("Action"), has_not_action = st.contains("NotAction");
  if (has_action == has_not_action)
    return Malformed(where + "exactly one of Action or NotAction is required");
  const char* akey = has_action ? "Action" : "NotAction";
  ASSIGN_OR_RETURN(std::vector<std::string> actions, StringOrList(st[akey], where + akey));
  for (const auto& a : actions) {
    if (!ValidActionName(a))
      return Malformed(where + "action \"" + a + "\" must be \"*\" or \"<service>:<action>\"");
  }
  bool has_res = st.contains("Resource"), has_not_res = st.contains("NotResource");
  if (!has_res && !has_not_res)
    return Malformed(where + "Policy statement must contain resources.");
  if (has_res && has_not_res)
    return Malformed(where + "only one of Resource or NotResource may be given");
  const char* rkey = has_res ? "Resource" : "NotResource";
  ASSIGN_OR_RETURN(std::vector<std::string> resources, StringOrList(st[rkey], where + rkey));
  for (const auto& r : resources) {
    if (r != "*" && r.rfind("arn:", 0) != 0)
      return Malformed(where + "resource \"" + r + "\" must be \"*\" or an ARN");
  }
  if (st.contains("Condition")) {
    const Json& c = st["Condition"];
    if (!c.is_object()) return Malformed(where + "Condition must be an object");
    for (auto& [op, block] : c.items()) {
      if (!block.is_object())
        return Malformed(where + "Condition operator \"" + op + "\" must map to an object");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ValidatePolicyDocument(const std::string& document) {
  auto parsed = ParseJson(document);
  if (!parsed.ok())
    return InvalidArgument("cannot parse policy document: " + parsed.status().message());
  const Json& doc = *parsed;
  if (!doc.is_object()) return Malformed("must be a JSON object");
  for (auto& [k, v] : doc.items()) {
    if (k != "Version" && k != "Id" && k != "Statement")
      return Malformed("unknown top-level key \"" + k + "\"");
  }
  if (doc.contains("Version")) {
    if (!doc["Version"].is_string() ||
        (doc["Version"] != "2012-10-17" && doc["Version"] != "2008-10-17"))
      return Malformed("Version must be \"2012-10-17\" or \"2008-10-17\"");
  }
  if (doc.contains("Id") && !doc["Id"].is_string()) return Malformed("Id must be a string");
  if (!doc.contains("Statement")) return Malformed("Statement is required");
  const Json& st = doc["Statement"];
  if (st.is_object()) {
    RETURN_IF_ERROR(ValidateStatement(st, 0));
  } else if (st.is_array() && !st.empty()) {
    for (size_t i = 0; i < st.size(); ++i) RETURN_IF_ERROR(ValidateStatement(st[i], i));
  } else {
    return Malformed("Statement must be an object or a non-empty list");
  }
  return CompactJson(document);
}

Result<std::string> MergePolicyDocuments(const std::vector<std::string>& documents) {
  Json statements = Json::array();
  for (const auto& d : documents) {
    if (d.empty()) continue;
    auto parsed = ParseJson(d);
    if (!parsed.ok())
      return InvalidArgument("cannot parse policy document: " + parsed.status().message());
    if (!parsed->is_object() || !parsed->contains("Statement"))
      return InvalidArgument("policy document has no Statement");
    const Json& st = (*parsed)["Statement"];
    if (st.is_array()) {
      for (const auto& s : st) statements.push_back(s);
    } else {
      statements.push_back(st);
    }
  }
  if (statements.empty()) return std::string();
  Json merged = {{"Version", "2012-10-17"}, {"Statement", statements}};
  return DumpJson(merged);
}

Result<Arn> ParseArn(const std::string& arn) {
  if (arn.rfind("arn:", 0) != 0) return InvalidArgument("arn: invalid prefix");
  std::vector<std::string> parts;
  size_t pos = 4;
  for (int i = 0; i < 4; ++i) {
    size_t c = arn.find(':', pos);
    if (c == std::string::npos) return InvalidArgument("arn: not enough sections");
    parts.push_back(arn.substr(pos, c - pos));
    pos = c + 1;
  }
  Arn out{parts[0], parts[1], parts[2], parts[3], arn.substr(pos)};
  if (out.partition.empty() || out.service.empty() || out.resource.empty())
    return InvalidArgument("arn: missing partition, service or resource");
  return out;
}

}  // namespace vault::engines::awsengine
