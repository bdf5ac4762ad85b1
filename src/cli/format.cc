#include "cli/format.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <sstream>

#include "util/duration.h"
#include "util/strings.h"

namespace vault::cli {
namespace {

size_t Utf8Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool LooksLikeDuration(std::string_view key) {
  return key == "period" || key.ends_with("_period") || key == "ttl" || key.ends_with("_ttl") ||
         key == "duration" || key.ends_with("_duration") || key == "lease_max" || key == "ttl_max";
}

// Vault's humanDurationInt: numbers (and numeric strings) become durations, others unchanged.
std::string HumanDurationValue(const Json& value) {
  if (auto seconds = JsonInt(value); seconds.has_value()) return HumanDuration(*seconds);
  return FormatGoValue(value);
}

const Json& Member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string StringMember(const Json& object, const char* key) {
  const Json& v = Member(object, key);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t IntMember(const Json& object, const char* key) {
  return JsonInt(Member(object, key)).value_or(0);
}

bool BoolMember(const Json& object, const char* key) {
  const Json& v = Member(object, key);
  return v.is_boolean() && v.get<bool>();
}

}  // namespace

std::string FormatTable(const std::vector<TableRow>& input, bool underline_header) {
  std::vector<TableRow> rows;
  rows.reserve(input.size() + 1);
  for (const TableRow& row : input) {
    TableRow cleaned;
    for (const std::string& cell : row) {
      std::string trimmed = Trim(cell);
      cleaned.push_back(trimmed.empty() ? "n/a" : trimmed);
    }
    rows.push_back(std::move(cleaned));
  }
  if (underline_header && !rows.empty()) {
    TableRow underline;
    for (const std::string& cell : rows[0]) underline.push_back(std::string(Utf8Width(cell), '-'));
    rows.insert(rows.begin() + 1, std::move(underline));
  }
  std::vector<size_t> widths;
  for (const TableRow& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Utf8Width(row[i]));
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    const TableRow& row = rows[r];
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(widths[i] - Utf8Width(row[i]) + 4, ' ');
    }
    if (r + 1 < rows.size()) out += "\n";
  }
  return out;
}

std::string FormatGoValue(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "<nil>";
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += " ";
        out += FormatGoValue(value[i]);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [key, item] : value.items()) {  // nlohmann objects iterate sorted
        if (!first) out += " ";
        first = false;
        out += key + ":" + FormatGoValue(item);
      }
      return out + "]";
    }
    default:
      return DumpJson(value);
  }
}

std::string FormatGoQuotedList(const Json& value) {
  std::string out = "[";
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (i > 0) out += " ";
      out += value[i].is_string() ? DumpJson(value[i]) : "\"" + FormatGoValue(value[i]) + "\"";
    }
  }
  return out + "]";
}

std::string HumanDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string s = FormatGoDuration(seconds);
  if (s.ends_with("m0s")) s.resize(s.size() - 2);
  if (size_t idx = s.find("h0m"); idx != std::string::npos) s.erase(idx + 1, 2);
  return s;
}

std::optional<int64_t> JsonInt(const Json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) return static_cast<int64_t>(value.get<double>());
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!s.empty() && ec == std::errc() && ptr == s.data() + s.size()) return v;
  }
  return std::nullopt;
}

std::vector<TableRow> SecretRows(const Json& secret) {
  std::vector<TableRow> rows;
  // A wrapped answer: only the wrapping token's rows (Vault's names, colons included).
  const Json& wrap = Member(secret, "wrap_info");
  if (wrap.is_object()) {
    rows.push_back({"wrapping_token:", StringMember(wrap, "token")});
    rows.push_back({"wrapping_accessor:", StringMember(wrap, "accessor")});
    rows.push_back({"wrapping_token_ttl:", HumanDuration(IntMember(wrap, "ttl"))});
    rows.push_back({"wrapping_token_creation_time:", StringMember(wrap, "creation_time")});
    rows.push_back({"wrapping_token_creation_path:", StringMember(wrap, "creation_path")});
    if (!StringMember(wrap, "wrapped_accessor").empty())
      rows.push_back({"wrapped_accessor:", StringMember(wrap, "wrapped_accessor")});
    return rows;
  }
  std::string lease_id = StringMember(secret, "lease_id");
  int64_t lease_duration = IntMember(secret, "lease_duration");
  if (!lease_id.empty()) {
    rows.push_back({"lease_id", lease_id});
    rows.push_back({"lease_duration", std::to_string(lease_duration)});
    rows.push_back({"lease_renewable", BoolMember(secret, "renewable") ? "true" : "false"});
  } else if (lease_duration > 0) {
    rows.push_back({"refresh_interval", HumanDuration(lease_duration)});
  }

  const Json& auth = Member(secret, "auth");
  if (auth.is_object()) {
    int64_t token_duration = IntMember(auth, "lease_duration");
    rows.push_back({"token", StringMember(auth, "client_token")});
    rows.push_back({"token_accessor", StringMember(auth, "accessor")});
    rows.push_back(
        {"token_duration", token_duration == 0 ? "\xE2\x88\x9E" : HumanDuration(token_duration)});
    rows.push_back({"token_renewable", BoolMember(auth, "renewable") ? "true" : "false"});
    const Json& token_policies = Member(auth, "token_policies");
    const Json& policies = Member(auth, "policies");
    rows.push_back({"token_policies",
                    FormatGoQuotedList(token_policies.is_array() ? token_policies : policies)});
    rows.push_back({"identity_policies", FormatGoQuotedList(Member(auth, "identity_policies"))});
    rows.push_back({"policies", FormatGoQuotedList(policies)});
    const Json& meta = Member(auth, "metadata");
    if (meta.is_object()) {
      for (const auto& [key, value] : meta.items()) {
        rows.push_back({"token_meta_" + key, FormatGoValue(value)});
      }
    }
  }

  const Json& data = Member(secret, "data");
  if (data.is_object()) {
    for (const auto& [key, value] : data.items()) {  // sorted by key
      rows.push_back(
          {key, LooksLikeDuration(key) ? HumanDurationValue(value) : FormatGoValue(value)});
    }
  }
  return rows;
}

std::string FormatSecretTable(const Json& secret) {
  std::vector<TableRow> rows = {{"Key", "Value"}};
  for (TableRow& row : SecretRows(secret)) rows.push_back(std::move(row));
  return FormatTable(rows);
}

std::vector<TableRow> SealStatusRows(const Json& seal, const Json& leader) {
  auto value = [&](const char* key) -> std::string {
    const Json& v = Member(seal, key);
    return v.is_null() ? "" : FormatGoValue(v);
  };
  bool sealed = BoolMember(seal, "sealed");
  std::vector<TableRow> rows = {{"Key", "Value"}};
  rows.push_back({"Seal Type", value("type")});
  rows.push_back({"Initialized", value("initialized")});
  rows.push_back({"Sealed", sealed ? "true" : "false"});
  rows.push_back({"Total Shares", value("n")});
  rows.push_back({"Threshold", value("t")});
  if (sealed) {
    rows.push_back({"Unseal Progress", value("progress") + "/" + value("t")});
    rows.push_back({"Unseal Nonce", value("nonce")});
  }
  if (BoolMember(seal, "migration")) rows.push_back({"Seal Migration in Progress", "true"});
  rows.push_back({"Version", value("version")});
  rows.push_back({"Build Date", value("build_date")});
  rows.push_back({"Storage Type", value("storage_type")});
  std::string cluster_name = StringMember(seal, "cluster_name");
  std::string cluster_id = StringMember(seal, "cluster_id");
  if (!cluster_name.empty() && !cluster_id.empty()) {
    rows.push_back({"Cluster Name", cluster_name});
    rows.push_back({"Cluster ID", cluster_id});
  }
  if (leader.is_object() && leader.contains("ha_enabled")) {
    bool ha = BoolMember(leader, "ha_enabled");
    rows.push_back({"HA Enabled", ha ? "true" : "false"});
    if (ha && !sealed) {
      rows.push_back({"HA Cluster", StringMember(leader, "leader_cluster_address")});
      bool is_self = BoolMember(leader, "is_self");
      rows.push_back({"HA Mode", is_self ? "active" : "standby"});
      if (!is_self) {
        std::string address = StringMember(leader, "leader_address");
        rows.push_back({"Active Node Address", address.empty() ? "<none>" : address});
      }
    }
  }
  return rows;
}

std::optional<std::string> SecretField(const Json& secret, std::string_view field) {
  const Json& wrap = Member(secret, "wrap_info");
  if (wrap.is_object()) {
    if (field == "wrapping_token") return StringMember(wrap, "token");
    if (field == "wrapping_accessor") return StringMember(wrap, "accessor");
    if (field == "wrapping_token_ttl") return std::to_string(IntMember(wrap, "ttl"));
    if (field == "wrapping_token_creation_time") return StringMember(wrap, "creation_time");
    if (field == "wrapping_token_creation_path") return StringMember(wrap, "creation_path");
    if (field == "wrapped_accessor") return StringMember(wrap, "wrapped_accessor");
  }
  const Json& data = Member(secret, "data");
  if (data.is_object()) {
    auto it = data.find(std::string(field));
    if (it != data.end()) return FormatGoValue(*it);
  }
  // Computed rows, with raw values (lease_duration in seconds, token_duration as Go prints it).
  const Json& auth = Member(secret, "auth");
  if (auth.is_object()) {
    if (field == "token") return StringMember(auth, "client_token");
    if (field == "token_accessor") return StringMember(auth, "accessor");
    if (field == "token_duration") return HumanDuration(IntMember(auth, "lease_duration"));
    if (field == "token_renewable") return BoolMember(auth, "renewable") ? "true" : "false";
    if (field == "token_policies") {
      const Json& tp = Member(auth, "token_policies");
      return FormatGoValue(tp.is_array() ? tp : Member(auth, "policies"));
    }
    if (field == "identity_policies") {
      const Json& ip = Member(auth, "identity_policies");
      return FormatGoValue(ip.is_array() ? ip : Json::array());
    }
    if (field == "policies") return FormatGoValue(Member(auth, "policies"));
  }
  if (field == "lease_id") return StringMember(secret, "lease_id");
  if (field == "lease_duration") return std::to_string(IntMember(secret, "lease_duration"));
  if (field == "lease_renewable") return BoolMember(secret, "renewable") ? "true" : "false";
  if (field == "refresh_interval") return HumanDuration(IntMember(secret, "lease_duration"));
  return std::nullopt;
}

std::string FormatApiError(std::string_view method, std::string_view url, int status,
                           std::string_view body) {
  std::string out = "Error making API request.\n\nURL: " + std::string(method) + " " +
                    std::string(url) + "\nCode: " + std::to_string(status) + ". " +
                    (status == 307 ? "Warnings" : "Errors") + ":\n\n";
  auto parsed = ParseJson(body);
  if (parsed.ok() && parsed->is_object()) {
    // A JSON object is decoded for its "errors"; without them (a 404 carrying a secret) there
    // is nothing to list.
    std::vector<std::string> bullets;
    const Json& errors = Member(*parsed, "errors");
    if (errors.is_array()) {
      for (const Json& e : errors) bullets.push_back("* " + FormatGoValue(e));
    }
    out += Join(bullets, "\n");
  } else {
    out += Trim(body);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string WrapAtLength(std::string_view text, size_t width) {
  std::string out;
  std::istringstream lines{std::string(text)};
  std::string line;
  bool first_line = true;
  while (std::getline(lines, line)) {
    if (!first_line) out += "\n";
    first_line = false;
    std::istringstream words(line);
    std::string word;
    size_t column = 0;
    while (words >> word) {
      size_t w = Utf8Width(word);
      if (column > 0 && column + 1 + w > width) {
        out += "\n";
        column = 0;
      } else if (column > 0) {
        out += " ";
        ++column;
      }
      out += word;
      column += w;
    }
  }
  return out;
}

std::string WrapMinimumRaggedness(std::string_view text, size_t width) {
  // The words are what splitting the trimmed text on single spaces gives (empty words from
  // repeated spaces included, as kr/text keeps them).
  std::string flat(Trim(std::string(text)));
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::vector<std::string> words;
  size_t start = 0;
  while (true) {
    size_t space = flat.find(' ', start);
    words.push_back(
        flat.substr(start, space == std::string::npos ? std::string::npos : space - start));
    if (space == std::string::npos) break;
    start = space + 1;
  }
  const long limit = static_cast<long>(width);
  const long penalty = 100000;  // added to the cost of a line longer than the limit
  size_t n = words.size();
  // length(i, j): the words i..j on one line, separated by single spaces.
  std::vector<long> prefix(n + 1, 0);
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + static_cast<long>(Utf8Width(words[i]));
  auto length = [&](size_t i, size_t j) {
    return prefix[j + 1] - prefix[i] + static_cast<long>(j - i);
  };
  std::vector<size_t> next_break(n, n);
  std::vector<long> cost(n, INT32_MAX);
  for (size_t k = n; k-- > 0;) {
    if (length(k, n - 1) <= limit || k == n - 1) {
      cost[k] = 0;
      next_break[k] = n;
      continue;
    }
    for (size_t j = k + 1; j < n; ++j) {
      long shortfall = limit - length(k, j - 1);
      long c = shortfall * shortfall + cost[j];
      if (length(k, j - 1) > limit) c += penalty;
      if (c < cost[k]) {
        cost[k] = c;
        next_break[k] = j;
      }
    }
  }
  std::string out;
  for (size_t i = 0; i < n; i = next_break[i]) {
    if (i > 0) out += "\n";
    for (size_t w = i; w < next_break[i]; ++w) {
      if (w > i) out += " ";
      out += words[w];
    }
  }
  return out;
}

std::string FormatWarnings(const Json& warnings) {
  if (!warnings.is_array() || warnings.empty()) return "";
  std::string out = "WARNING! The following warnings were returned from Vault:\n\n";
  for (const Json& warning : warnings) {
    std::string wrapped = WrapMinimumRaggedness("* " + FormatGoValue(warning), 76);
    size_t start = 0;
    while (true) {
      size_t newline = wrapped.find('\n', start);
      out += "  " + wrapped.substr(start, newline == std::string::npos ? std::string::npos
                                                                       : newline - start + 1);
      if (newline == std::string::npos) break;
      start = newline + 1;
    }
    out += "\n\n";
  }
  return out;
}

std::string FormatGoJson(const Json& value) {
  std::string text = DumpJsonPretty(value);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSecretJson(const Json& secret) {
  auto member = [&](const char* key, Json zero) -> Json {
    const Json& value = Member(secret, key);
    return value.is_null() ? zero : value;
  };
  std::vector<std::pair<std::string, Json>> fields = {
      {"request_id", member("request_id", "")},
      {"lease_id", member("lease_id", "")},
      {"lease_duration", member("lease_duration", 0)},
      {"renewable", member("renewable", false)},
      {"data", Member(secret, "data")},
      {"warnings", Member(secret, "warnings")},
  };
  for (const char* optional : {"auth", "wrap_info"}) {
    if (!Member(secret, optional).is_null())
      fields.emplace_back(optional, Member(secret, optional));
  }
  if (!StringMember(secret, "mount_type").empty()) {
    fields.emplace_back("mount_type", Member(secret, "mount_type"));
  }
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string value = FormatGoJson(fields[i].second);
    std::string indented;
    for (char c : value) {
      indented += c;
      if (c == '\n') indented += "  ";
    }
    out += (i == 0 ? "\n  " : ",\n  ") + DumpJson(fields[i].first) + ": " + indented;
  }
  return out + "\n}";
}

}  // namespace vault::cli
