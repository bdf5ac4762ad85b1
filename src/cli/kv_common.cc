#include "cli/kv_common.h"

#include <algorithm>

#include "cli/format.h"
#include "util/strings.h"

namespace vault::cli {
namespace {

const Json& Member(const Json& object, std::string_view key) { return JsonField(object, key); }

// Member, or `zero` when it is absent or null (a Go struct field's zero value).
Json MemberOr(const Json& object, const char* key, Json zero) {
  const Json& value = Member(object, key);
  return value.is_null() ? zero : value;
}

// A 404 body Vault's client turns into a secret: warnings, or a non-empty data map.
bool CarriesSecret(const Json& body) {
  const Json& warnings = Member(body, "warnings");
  const Json& data = Member(body, "data");
  return (warnings.is_array() && !warnings.empty()) || (data.is_object() && !data.empty());
}

std::string_view TrimSuffix(std::string_view s, std::string_view suffix) {
  if (s.ends_with(suffix)) s.remove_suffix(suffix.size());
  return s;
}

std::string_view TrimPrefix(std::string_view s, std::string_view prefix) {
  if (s.starts_with(prefix)) s.remove_prefix(prefix.size());
  return s;
}

}  // namespace

const Json& JsonField(const Json& object, std::string_view key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// ---- paths ------------------------------------------------------------------------------------

std::string GoPathClean(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  const size_t n = path.size();
  std::string out;
  size_t r = 0;
  size_t dotdot = 0;  // out.size() at the last ".." that cannot be removed
  if (rooted) {
    out = "/";
    r = dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/') {
      ++r;
    } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
      ++r;
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
      r += 2;
      if (out.size() > dotdot) {
        out.pop_back();
        while (out.size() > dotdot && out.back() != '/') out.pop_back();
        if (out.size() > dotdot && out.back() == '/') out.pop_back();
      } else if (!rooted) {
        if (!out.empty()) out += '/';
        out += "..";
        dotdot = out.size();
      }
    } else {
      if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out += '/';
      for (; r < n && path[r] != '/'; ++r) out += path[r];
    }
  }
  return out.empty() ? "." : out;
}

std::string GoPathJoin(const std::vector<std::string_view>& elements) {
  std::string joined;
  bool any = false;
  for (std::string_view e : elements) {
    if (e.empty()) continue;
    if (any) joined += '/';
    joined += e;
    any = true;
  }
  return any ? GoPathClean(joined) : "";
}

std::string AddPrefixToKvPath(std::string_view path, std::string_view mount_path,
                              std::string_view prefix) {
  if (path == mount_path || path == TrimSuffix(mount_path, "/")) {
    return GoPathJoin({mount_path, prefix});
  }
  std::string_view mount = mount_path;
  std::string_view suffix = TrimPrefix(path, mount);
  // While the path does not start with the mount, drop the mount's first segment (a namespace
  // the path is relative to).
  while (suffix == path) {
    size_t slash = mount.find('/');
    if (slash == std::string_view::npos || slash + 1 == mount.size()) break;
    mount = TrimSuffix(mount.substr(slash + 1), "/");
    suffix = TrimPrefix(suffix, mount);
  }
  return GoPathJoin({mount, prefix, suffix});
}

std::vector<std::string> ParseKvVersions(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    std::string trimmed = Trim(value);
    if (trimmed.empty()) continue;
    size_t start = 0;
    while (true) {
      size_t comma = trimmed.find(',', start);
      out.push_back(Trim(
          trimmed.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

// ---- preflight --------------------------------------------------------------------------------

std::optional<int> KvPreflight(Invocation& inv, const std::string& path, KvMount* mount) {
  ApiClient& client = inv.Client();
  // Vault's CLI sends the preflight without response wrapping.
  std::string wrap_ttl = client.wrap_ttl();
  client.set_wrap_ttl("");
  auto response = client.RequestAnyStatus("GET", "sys/internal/ui/mounts/" + path);
  client.set_wrap_ttl(wrap_ttl);
  if (!response.ok()) {
    inv.Err() << response.status().message() << "\n";
    return 2;
  }
  if (!response->error.ok()) {
    if (response->status == 404) {  // a server from before the endpoint: KV version 1
      *mount = KvMount{};
      return std::nullopt;
    }
    inv.Err() << response->error.message() << "\n";
    return 2;
  }
  if (response->body.empty()) {
    inv.Err() << "nil response from pre-flight request\n";
    return 2;
  }
  auto parsed = ParseJson(response->body);
  if (!parsed.ok() || !parsed->is_object()) {
    inv.Err() << (parsed.ok() ? "json: cannot unmarshal into Go value of type api.Secret"
                              : parsed.status().message())
              << "\n";
    return 2;
  }
  const Json& data = Member(*parsed, "data");
  const Json& mount_path = Member(data, "path");
  mount->path = mount_path.is_string() ? mount_path.get<std::string>() : "";
  const Json& version = Member(Member(data, "options"), "version");
  mount->v2 = (version.is_string() && version.get<std::string>() == "2") ||
              (version.is_number() && version.get<double>() == 2);
  return std::nullopt;
}

std::string KvPath::Full(std::string_view prefix) const {
  if (mount.v2) return AddPrefixToKvPath(partial, mount.path, prefix);
  return mount_flag ? GoPathJoin({mount.path, partial}) : partial;
}

std::optional<int> ResolveKvPath(Invocation& inv, const std::string& mount_flag,
                                 const std::string& arg, KvPath* path) {
  path->partial = SanitizePath(arg);
  path->mount_flag = !mount_flag.empty();
  if (!path->mount_flag) return KvPreflight(inv, path->partial, &path->mount);
  if (auto rc = KvPreflight(inv, SanitizePath(mount_flag), &path->mount)) return rc;
  if (path->mount.v2) path->partial = GoPathJoin({path->mount.path, path->partial});
  return std::nullopt;
}

// ---- requests ---------------------------------------------------------------------------------

KvReply KvRequest(Invocation& inv, KvCall kind, std::string_view method, const std::string& path,
                  const std::optional<Json>& body, const QueryParams& query,
                  const HttpHeaders& headers) {
  KvReply reply;
  auto response = inv.Client().RequestAnyStatus(method, path, body, query, headers);
  if (!response.ok()) {
    reply.error = response.status();
    return reply;
  }
  reply.http_status = response->status;
  if (response->status == 404) {
    if (CarriesSecret(response->json)) {
      reply.secret = std::move(response->json);
      if (kind == KvCall::kWrite) reply.error = response->error;
      return reply;
    }
    // A read of nothing; an unreadable body is still an error.
    bool readable = response->body.empty() || ParseJson(response->body).ok();
    if (kind == KvCall::kWrite || !readable) reply.error = response->error;
    return reply;
  }
  if (!response->error.ok()) {
    reply.error = response->error;
    return reply;
  }
  if (response->body.empty()) return reply;
  auto parsed = ParseJson(response->body);
  if (!parsed.ok()) {
    reply.error = parsed.status();
  } else if (parsed->is_object()) {
    reply.secret = std::move(parsed).value();
  } else if (!parsed->is_null()) {
    reply.error = InvalidArgument("json: cannot unmarshal into Go value of type api.Secret");
  }
  return reply;
}

// ---- output -----------------------------------------------------------------------------------

std::string PadEqualSigns(std::string_view title, size_t width) {
  long equal_signs = static_cast<long>(width) - static_cast<long>(title.size() + 2);
  if (equal_signs <= 0) equal_signs = 4;
  if (equal_signs % 2 != 0) ++equal_signs;
  std::string side(static_cast<size_t>(equal_signs / 2), '=');
  return side + " " + std::string(title) + " " + side;
}

std::string HeaderForMap(std::string_view title, const Json& map) {
  size_t max_key = 0;
  if (map.is_object()) {
    for (const auto& [key, value] : map.items()) max_key = std::max(max_key, key.size());
  }
  return PadEqualSigns(title, max_key + 4 + 5);
}

void PrintPathTitle(Invocation& inv, const std::string& path, std::string_view title) {
  inv.Print(PadEqualSigns(title, path.size()));
  inv.Print(path);
  inv.Print("");
}

void PrintMapTable(Invocation& inv, const Json& map) {
  if (!map.is_object() || map.empty()) return;
  inv.Print(FormatSecretTable(Json{{"data", map}}));
}

int KvOutputSecret(Invocation& inv, const Json& secret) {
  if (inv.JsonFormat()) {
    inv.Print(FormatSecretJson(secret));
    return 0;
  }
  inv.PrintWarnings(secret);
  if (!SecretRows(secret).empty()) inv.Print(FormatSecretTable(secret));
  return 0;
}

int PrintKvWritten(Invocation& inv, const std::string& path, const Json& secret) {
  if (secret.is_null()) {
    if (!inv.JsonFormat()) inv.Print("Success! Data written to: " + path);
    return 0;
  }
  if (!inv.field().empty()) return KvPrintField(inv, KvRawField(secret, inv.field()));
  const Json& wrap = Member(secret, "wrap_info");
  bool wrapped = wrap.is_object() && JsonInt(Member(wrap, "ttl")).value_or(0) != 0;
  if (wrapped || inv.JsonFormat()) return KvOutputSecret(inv, secret);
  PrintPathTitle(inv, path, "Secret Path");
  inv.Print(HeaderForMap("Metadata", Member(secret, "data")));
  PrintMapTable(inv, Member(secret, "data"));
  return 0;
}

Json KvRawField(const Json& secret, const std::string& name) {
  const Json& data = Member(secret, "data");
  const Json& wrap = Member(secret, "wrap_info");
  if (wrap.is_object()) {
    if (name == "wrapping_token") return MemberOr(wrap, "token", "");
    if (name == "wrapping_accessor") return MemberOr(wrap, "accessor", "");
    if (name == "wrapping_token_ttl") return MemberOr(wrap, "ttl", 0);
    if (name == "wrapping_token_creation_time") return MemberOr(wrap, "creation_time", "");
    if (name == "wrapping_token_creation_path") return MemberOr(wrap, "creation_path", "");
    if (name == "wrapped_accessor") return MemberOr(wrap, "wrapped_accessor", "");
    return Member(data, name);
  }
  if (name == "lease_duration" || name == "refresh_interval") {
    return MemberOr(secret, "lease_duration", 0);
  }
  if (name == "lease_id") return MemberOr(secret, "lease_id", "");
  if (name == "request_id") return MemberOr(secret, "request_id", "");
  if (name == "renewable") return MemberOr(secret, "renewable", false);
  if (name == "data" && !(data.is_object() && data.contains("data"))) return data;
  return Member(data, name);
}

int KvPrintField(Invocation& inv, const Json& value) {
  if (value.is_null()) return inv.Fail("Field \"" + inv.field() + "\" not present in secret");
  inv.PrintRaw(inv.JsonFormat() ? FormatGoJson(value) : FormatGoValue(value));
  return 0;
}

}  // namespace vault::cli
