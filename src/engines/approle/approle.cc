#include "engines/approle/approle.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "logical/framework.h"
#include "logical/token_fields.h"
#include "util/async_mutex.h"
#include "util/cidr.h"
#include "util/duration.h"
#include "util/encoding.h"
#include "util/lock_annotations.h"
#include "util/log.h"
#include "util/random.h"
#include "util/strings.h"

namespace vault::engines {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::LoginAuth;
using logical::Operation;
using logical::Request;
using logical::Response;
using logical::Storage;
using logical::TokenParams;

// Storage layout (the engine's own view):
//   salt                                   mount-wide random salt (text)
//   role/<name>                            Role::ToStorage()
//   role_id/<SaltId(role_id)>              {"name": <role>}
//   secret_id[_local]/<HMAC(k, role name)>/<HMAC(k, secret id)>   SecretIdEntry::ToStorage()
//   accessor[_local]/<SaltId(accessor)>    {"secret_id_hmac", "role_name_hmac"}
// k is the role's hmac_key; HMACs are hex HMAC-SHA256, SaltId is hex SHA-256(salt || value).
constexpr char kSaltKey[] = "salt";
constexpr char kRolePrefix[] = "role/";
constexpr char kRoleIdPrefix[] = "role_id/";
constexpr char kSecretIdPrefix[] = "secret_id/";
constexpr char kSecretIdLocalPrefix[] = "secret_id_local/";
constexpr char kAccessorPrefix[] = "accessor/";
constexpr char kAccessorLocalPrefix[] = "accessor_local/";

constexpr size_t kMaxHmacInputLength = 4096;
constexpr int64_t kNanos = 1000000000;
// framework.GenericNameRegex("role_name").
constexpr char kRoleName[] = "role/(?P<role_name>\\w(([\\w-.]+)?\\w)?)";
constexpr char kInvalidCredentials[] = "invalid role or secret ID";
constexpr char kTidyStarted[] =
    "Tidy operation successfully started. Any information from the operation will be printed to "
    "Vault's server logs.";
constexpr char kTidyRunning[] = "Tidy operation already in progress.";
// Go's fmt prints a nil error given to %w like this; Vault's CIDR messages carry it.
constexpr char kGoNilError[] = "%!w(<nil>)";

constexpr char kHelp[] =
    "Any registered Role can authenticate itself with Vault. The credentials\n"
    "depends on the constraints that are set on the Role. One common required\n"
    "credential is the 'role_id' which is a unique identifier of the Role.\n"
    "It can be retrieved from the 'role/<appname>/role-id' endpoint.\n\n"
    "The default constraint configuration is 'bind_secret_id', which requires\n"
    "the credential 'secret_id' to be presented during login. Refer to the\n"
    "documentation for other types of constraints.";

const logical::TokenFieldOptions& TokenOptions() {
  static const logical::TokenFieldOptions kOptions{{"policies", "period"}, true};
  return kOptions;
}

const std::vector<Field>& TokenSchema() {
  static const std::vector<Field> kSchema = logical::TokenFields(TokenOptions());
  return kSchema;
}

// Go's %q for a string (strconv.Quote, for the ASCII Vault's messages carry).
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Go's %q for a []string: ["a" "b"].
std::string GoQuoteList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ' ';
    out += GoQuote(v[i]);
  }
  return out + "]";
}

std::string JStr(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
int64_t JInt(const Json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}
bool JBool(const Json& j, const char* key, bool def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}
std::vector<std::string> JStrings(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object()) return out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& e : *it)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// Vault's createHMAC: hex HMAC-SHA256 under a role's hmac_key.
Result<std::string> CreateHmac(const std::string& key, std::string_view value) {
  if (key.empty()) return Internal("invalid HMAC key");
  if (value.size() > kMaxHmacInputLength)
    return InvalidArgument("value is longer than maximum of " +
                           std::to_string(kMaxHmacInputLength) + " bytes");
  return HexEncode(crypto::HmacSha256(key, value));
}

std::string SaltId(const std::string& salt, std::string_view value) {
  std::string in = salt;
  in.append(value);
  return HexEncode(crypto::Sha256(in));
}

std::string FormatTime(int64_t unix_nanos) {
  return unix_nanos == 0 ? std::string("0001-01-01T00:00:00Z") : FormatRfc3339Nano(unix_nanos);
}

bool HasLegacy(const TokenParams& p, const std::string& name) {
  return std::find(p.legacy.begin(), p.legacy.end(), name) != p.legacy.end();
}
void DropLegacy(TokenParams* p, const std::string& name) {
  p->legacy.erase(std::remove(p->legacy.begin(), p->legacy.end(), name), p->legacy.end());
}

// ---------------------------------------------------------------------------------------------
// Stored objects

struct Role {
  std::string name;  // lowercased
  std::string role_id;
  std::string hmac_key;
  std::string secret_id_prefix = kSecretIdPrefix;
  bool bind_secret_id = true;
  std::vector<std::string> secret_id_bound_cidrs;
  int64_t secret_id_num_uses = 0;
  int64_t secret_id_ttl = 0;  // seconds; 0 = secret IDs do not expire
  TokenParams token;

  bool local() const { return secret_id_prefix == kSecretIdLocalPrefix; }
  const char* accessor_prefix() const { return local() ? kAccessorLocalPrefix : kAccessorPrefix; }

  Json ToStorage() const {
    return {{"name", name},
            {"role_id", role_id},
            {"hmac_key", hmac_key},
            {"secret_id_prefix", secret_id_prefix},
            {"bind_secret_id", bind_secret_id},
            {"secret_id_bound_cidrs", secret_id_bound_cidrs},
            {"secret_id_num_uses", secret_id_num_uses},
            {"secret_id_ttl", secret_id_ttl},
            {"token", logical::TokenParamsToJson(token)}};
  }
  static Result<Role> FromStorage(const Json& j, const std::string& name) {
    if (!j.is_object()) return Internal("corrupt role entry " + GoQuote(name));
    Role r;
    r.name = name;
    r.role_id = JStr(j, "role_id");
    r.hmac_key = JStr(j, "hmac_key");
    r.secret_id_prefix = JStr(j, "secret_id_prefix") == kSecretIdLocalPrefix ? kSecretIdLocalPrefix
                                                                             : kSecretIdPrefix;
    r.bind_secret_id = JBool(j, "bind_secret_id", true);
    r.secret_id_bound_cidrs = JStrings(j, "secret_id_bound_cidrs");
    r.secret_id_num_uses = JInt(j, "secret_id_num_uses");
    r.secret_id_ttl = JInt(j, "secret_id_ttl");
    auto t = j.find("token");
    if (t != j.end() && t->is_object()) r.token = logical::TokenParamsFromJson(*t);
    if (r.hmac_key.empty()) return Internal("corrupt role entry " + GoQuote(name));
    return r;
  }
  bool HasConstraint() const {
    return bind_secret_id || !secret_id_bound_cidrs.empty() || !token.bound_cidrs.empty();
  }
};

// What a secret ID allows; stored under the HMAC of the secret ID, never with it.
struct SecretIdEntry {
  std::string accessor;
  int64_t num_uses = 0;  // remaining uses; 0 = unlimited
  int64_t ttl = 0;       // seconds
  int64_t creation_ns = 0;
  int64_t expiration_ns = 0;  // 0 = never
  int64_t last_updated_ns = 0;
  Json metadata = Json::object();  // string values
  std::vector<std::string> cidr_list;
  std::vector<std::string> token_bound_cidrs;

  bool Expired(int64_t now_ns) const { return expiration_ns != 0 && now_ns >= expiration_ns; }

  Json ToStorage() const {
    return {{"secret_id_accessor", accessor},
            {"secret_id_num_uses", num_uses},
            {"secret_id_ttl", ttl},
            {"creation_time", creation_ns},
            {"expiration_time", expiration_ns},
            {"last_updated_time", last_updated_ns},
            {"metadata", metadata},
            {"cidr_list", cidr_list},
            {"token_cidr_list", token_bound_cidrs}};
  }
  static Result<SecretIdEntry> FromStorage(const Json& j) {
    if (!j.is_object()) return Internal("corrupt secret ID entry");
    SecretIdEntry e;
    e.accessor = JStr(j, "secret_id_accessor");
    e.num_uses = JInt(j, "secret_id_num_uses");
    e.ttl = JInt(j, "secret_id_ttl");
    e.creation_ns = JInt(j, "creation_time");
    e.expiration_ns = JInt(j, "expiration_time");
    e.last_updated_ns = JInt(j, "last_updated_time");
    auto m = j.find("metadata");
    if (m != j.end() && m->is_object()) {
      for (const auto& [k, v] : m->items())
        if (v.is_string()) e.metadata[k] = v;
    }
    e.cidr_list = JStrings(j, "cidr_list");
    e.token_bound_cidrs = JStrings(j, "token_cidr_list");
    return e;
  }
  Json ToResponseData() const {
    return {{"secret_id_accessor", accessor},
            {"secret_id_num_uses", num_uses},
            {"secret_id_ttl", ttl},
            {"creation_time", FormatTime(creation_ns)},
            {"expiration_time", FormatTime(expiration_ns)},
            {"last_updated_time", FormatTime(last_updated_ns)},
            {"metadata", metadata},
            {"cidr_list", cidr_list},
            {"token_bound_cidrs", token_bound_cidrs}};
  }
};

// Where one secret ID of a role lives.
struct SecretRef {
  std::string role_hmac;
  std::string secret_hmac;
  std::string key;
};

std::string SecretKey(const std::string& prefix, const std::string& role_hmac,
                      const std::string& secret_hmac) {
  return prefix + role_hmac + "/" + secret_hmac;
}

Result<SecretRef> SecretRefFor(const Role& role, std::string_view secret_id) {
  ASSIGN_OR_RETURN(std::string sh, CreateHmac(role.hmac_key, secret_id));
  ASSIGN_OR_RETURN(std::string rh, CreateHmac(role.hmac_key, role.name));
  std::string key = SecretKey(role.secret_id_prefix, rh, sh);
  return SecretRef{std::move(rh), std::move(sh), std::move(key)};
}

// ---------------------------------------------------------------------------------------------
// Input checks

Status ValidCidrs(const std::vector<std::string>& cidrs, const std::string& message) {
  if (!ParseCidrs(cidrs).ok()) return InvalidArgument(message);
  return Status::Ok();
}

// Vault's verifyCIDRRoleSecretIDSubset: a secret ID's CIDRs must lie within the role's.
Status VerifyCidrSubset(const std::vector<std::string>& secret_cidrs,
                        std::vector<std::string> role_cidrs) {
  if (secret_cidrs.empty() || role_cidrs.empty()) return Status::Ok();
  for (auto& b : role_cidrs)
    if (b.find('/') == std::string::npos) b += "/32";
  if (CidrsSubset(secret_cidrs, role_cidrs)) return Status::Ok();
  return Internal("failed to verify subset relationship between CIDR blocks on the role " +
                  GoQuoteList(role_cidrs) + " and CIDR blocks on the secret ID " +
                  GoQuoteList(secret_cidrs) + ": " + kGoNilError);
}

Result<Json> MetadataValues(const Json& obj) {
  Json out = Json::object();
  for (const auto& [k, v] : obj.items()) {
    if (v.is_string()) {
      out[k] = v;
    } else if (v.is_null()) {
      out[k] = "";
    } else if (v.is_boolean() || v.is_number()) {
      out[k] = DumpJson(v);
    } else {
      return InvalidArgument("failed to parse metadata: the value of " + GoQuote(k) +
                             " is not a string");
    }
  }
  return out;
}

// Vault's strutil.ParseArbitraryKeyValues: the text of a JSON object (optionally base64), else
// "k=v,k2=v2". An object sent as such arrives here as its JSON text (HandleRequestAsync).
Result<Json> ParseMetadata(const std::string& raw) {
  std::string s = Trim(raw);
  if (s.empty()) return Json::object();
  if (s.size() % 4 == 0) {
    auto decoded = Base64Decode(s);
    if (decoded.ok() && IsValidUtf8(*decoded)) s = *decoded;
  }
  if (auto j = ParseJson(s); j.ok() && j->is_object()) return MetadataValues(*j);
  Json out = Json::object();
  for (const auto& pair : Split(s, ',')) {
    auto shards = Split(pair, '=');
    if (shards.size() != 2)
      return InvalidArgument("failed to parse metadata: invalid <key,value> format");
    std::string k = Trim(shards[0]), v = Trim(shards[1]);
    if (k.empty() || v.empty())
      return InvalidArgument("failed to parse metadata: invalid <key,value> pair: key: " +
                             GoQuote(k) + " value: " + GoQuote(v));
    out[k] = v;
  }
  return out;
}

// `d` restricted to `names`, over the token fields' schema (for ApplyTokenFields on a
// single-field path: fields the path does not take must not count as sent).
FieldData TokenSubset(const FieldData& d, const std::vector<std::string>& names) {
  Json raw = Json::object();
  for (const auto& n : names)
    if (d.Has(n)) raw[n] = d.raw().at(n);
  return FieldData(&TokenSchema(), std::move(raw));
}

Status CheckPeriod(const TokenParams& t, int64_t mount_max) {
  if (mount_max > 0 && t.period > mount_max)
    return InvalidArgument("period of " + GoQuote(FormatGoDuration(t.period)) +
                           " is greater than the backend's maximum lease TTL of " +
                           GoQuote(FormatGoDuration(mount_max)));
  return Status::Ok();
}

void WarnMaxTtl(const TokenParams& t, int64_t mount_max, std::vector<std::string>* warnings) {
  if (mount_max > 0 && t.max_ttl > mount_max)
    warnings->push_back(
        "token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max "
        "TTL value will be truncated");
}

Response WithWarnings(std::vector<std::string> warnings) {
  Response r;
  r.warnings = std::move(warnings);
  return r;
}

Json RoleData(const Role& r) {
  Json d = {{"bind_secret_id", r.bind_secret_id},
            {"secret_id_bound_cidrs", r.secret_id_bound_cidrs},
            {"secret_id_num_uses", r.secret_id_num_uses},
            {"secret_id_ttl", r.secret_id_ttl},
            {"local_secret_ids", r.local()}};
  logical::AddTokenFieldsToData(r.token, &d);
  // Legacy keys are echoed only when they hold something (as Vault's reads do).
  if (d.contains("period") && r.token.period == 0) d.erase("period");
  if (d.contains("policies") && r.token.policies.empty()) d.erase("policies");
  return d;
}

// ---------------------------------------------------------------------------------------------
// Single-field paths: role/:n/<suffix> with GET (read), POST (update), DELETE (reset).

struct FieldPathSpec {
  std::string suffix;
  std::vector<std::string> fields;  // what POST takes (one of them must be sent)
  std::string synopsis;
  std::function<Json(const Role&, std::vector<std::string>*)> read;
  // Applies a POST whose fields are present; an error refuses it.
  std::function<Status(Role*, const FieldData&, int64_t mount_max, std::vector<std::string>*)>
      update;
  std::function<void(Role*)> reset;
};

Status ApplyTokenSubset(Role* r, const FieldData& d, const std::vector<std::string>& names,
                        std::vector<std::string>* warnings) {
  FieldData sub = TokenSubset(d, names);
  return logical::ApplyTokenFields(sub, TokenOptions(), &r->token, warnings);
}

const std::vector<FieldPathSpec>& FieldSpecs() {
  static const std::vector<FieldPathSpec> kSpecs = [] {
    std::vector<FieldPathSpec> v;
    auto token_field = [&](std::string suffix, std::vector<std::string> fields,
                           std::string synopsis, std::function<Json(const Role&)> read,
                           std::function<void(Role*)> reset) {
      FieldPathSpec s;
      s.suffix = std::move(suffix);
      s.fields = fields;
      s.synopsis = std::move(synopsis);
      s.read = [read](const Role& r, std::vector<std::string>*) { return read(r); };
      s.update = [fields](Role* r, const FieldData& d, int64_t mount_max,
                          std::vector<std::string>* w) -> Status {
        RETURN_IF_ERROR(ApplyTokenSubset(r, d, fields, w));
        RETURN_IF_ERROR(CheckPeriod(r->token, mount_max));
        WarnMaxTtl(r->token, mount_max, w);
        return Status::Ok();
      };
      s.reset = std::move(reset);
      v.push_back(std::move(s));
    };
    token_field(
        "policies", {"token_policies", "policies"}, "Policies of the tokens the role issues.",
        [](const Role& r) {
          Json d = {{"token_policies", r.token.policies}};
          if (HasLegacy(r.token, "policies") && !r.token.policies.empty())
            d["policies"] = r.token.policies;
          return d;
        },
        [](Role* r) {
          r->token.policies.clear();
          DropLegacy(&r->token, "policies");
        });
    token_field(
        "period", {"token_period", "period"}, "Period of the tokens the role issues.",
        [](const Role& r) {
          Json d = {{"token_period", r.token.period}};
          if (HasLegacy(r.token, "period") && r.token.period > 0) d["period"] = r.token.period;
          return d;
        },
        [](Role* r) {
          r->token.period = 0;
          DropLegacy(&r->token, "period");
        });
    token_field(
        "token-ttl", {"token_ttl"}, "Initial TTL of the tokens the role issues.",
        [](const Role& r) {
          return Json{{"token_ttl", r.token.ttl}};
        },
        [](Role* r) { r->token.ttl = 0; });
    token_field(
        "token-max-ttl", {"token_max_ttl"}, "Maximum lifetime of the tokens the role issues.",
        [](const Role& r) {
          return Json{{"token_max_ttl", r.token.max_ttl}};
        },
        [](Role* r) { r->token.max_ttl = 0; });
    token_field(
        "token-num-uses", {"token_num_uses"}, "Number of uses of the tokens the role issues.",
        [](const Role& r) {
          return Json{{"token_num_uses", r.token.num_uses}};
        },
        [](Role* r) { r->token.num_uses = 0; });
    token_field(
        "token-bound-cidrs", {"token_bound_cidrs"},
        "CIDR blocks the tokens the role issues may be used from.",
        [](const Role& r) {
          return Json{{"token_bound_cidrs", r.token.bound_cidrs}};
        },
        [](Role* r) { r->token.bound_cidrs.clear(); });

    FieldPathSpec s;
    s.suffix = "secret-id-num-uses";
    s.fields = {"secret_id_num_uses"};
    s.synopsis = "Number of times a secret ID of the role can be used to log in.";
    s.read = [](const Role& r, std::vector<std::string>*) {
      return Json{{"secret_id_num_uses", r.secret_id_num_uses}};
    };
    s.update = [](Role* r, const FieldData& d, int64_t, std::vector<std::string>*) -> Status {
      int64_t n = d.GetInt("secret_id_num_uses");
      if (n < 0) return InvalidArgument("secret_id_num_uses cannot be negative");
      r->secret_id_num_uses = n;
      return Status::Ok();
    };
    s.reset = [](Role* r) { r->secret_id_num_uses = 0; };
    v.push_back(s);

    s = FieldPathSpec();
    s.suffix = "secret-id-ttl";
    s.fields = {"secret_id_ttl"};
    s.synopsis = "Lifetime of the secret IDs of the role.";
    s.read = [](const Role& r, std::vector<std::string>*) {
      return Json{{"secret_id_ttl", r.secret_id_ttl}};
    };
    s.update = [](Role* r, const FieldData& d, int64_t, std::vector<std::string>*) -> Status {
      r->secret_id_ttl = d.GetInt("secret_id_ttl");
      return Status::Ok();
    };
    s.reset = [](Role* r) { r->secret_id_ttl = 0; };
    v.push_back(s);

    s = FieldPathSpec();
    s.suffix = "bind-secret-id";
    s.fields = {"bind_secret_id"};
    s.synopsis = "Whether a login must present a secret ID.";
    s.read = [](const Role& r, std::vector<std::string>*) {
      return Json{{"bind_secret_id", r.bind_secret_id}};
    };
    s.update = [](Role* r, const FieldData& d, int64_t, std::vector<std::string>*) -> Status {
      r->bind_secret_id = d.GetBool("bind_secret_id");
      return Status::Ok();
    };
    s.reset = [](Role* r) { r->bind_secret_id = true; };
    v.push_back(s);

    auto cidr_update = [](std::string field) {
      return [field](Role* r, const FieldData& d, int64_t, std::vector<std::string>*) -> Status {
        std::vector<std::string> cidrs = d.GetStrings(field);
        if (cidrs.empty()) return InvalidArgument("missing " + field);
        RETURN_IF_ERROR(ValidCidrs(cidrs, "failed to validate CIDR blocks"));
        r->secret_id_bound_cidrs = std::move(cidrs);
        return Status::Ok();
      };
    };
    s = FieldPathSpec();
    s.suffix = "secret-id-bound-cidrs";
    s.fields = {"secret_id_bound_cidrs"};
    s.synopsis = "CIDR blocks logins with the role may come from.";
    s.read = [](const Role& r, std::vector<std::string>*) {
      return Json{{"secret_id_bound_cidrs", r.secret_id_bound_cidrs}};
    };
    s.update = cidr_update("secret_id_bound_cidrs");
    s.reset = [](Role* r) { r->secret_id_bound_cidrs.clear(); };
    v.push_back(s);

    s = FieldPathSpec();
    s.suffix = "bound-cidr-list";
    s.fields = {"bound_cidr_list"};
    s.synopsis = "Deprecated: use secret-id-bound-cidrs.";
    s.read = [](const Role& r, std::vector<std::string>* w) {
      w->push_back(
          "The \"bound_cidr_list\" field is deprecated and will be removed. Please use "
          "\"secret_id_bound_cidrs\" instead.");
      return Json{{"bound_cidr_list", r.secret_id_bound_cidrs}};
    };
    s.update = cidr_update("bound_cidr_list");
    s.reset = [](Role* r) { r->secret_id_bound_cidrs.clear(); };
    v.push_back(s);
    return v;
  }();
  return kSpecs;
}

// ---------------------------------------------------------------------------------------------
// The backend

class AppRoleBackend : public logical::FrameworkBackend {
 public:
  AppRoleBackend(const logical::MountInfo& mount, Clock* clock)
      : logical::FrameworkBackend(kHelp, BuildPaths(this)),
        mount_(mount),
        clock_(clock ? clock : SystemClock::Get()) {
    SetClock(clock_);
    SetUnauthenticatedPaths({"login"});
    SetAuthRenew([this](Request& r) { return Renew(r); });
    SetPeriodic([this](Request& r) { return PeriodicTidy(r); });
  }

  // A secret ID's metadata may be sent as a JSON object (hvac's create_custom_secret_id) as
  // well as the text Vault's field takes: the object is handed on as its text.
  Task<Result<Response>> HandleRequestAsync(Request& req) override {
    if (req.data.is_object()) {
      auto it = req.data.find("metadata");
      if (it != req.data.end() && it->is_object()) *it = DumpJson(*it);
    }
    return logical::FrameworkBackend::HandleRequestAsync(req);
  }

 private:
  using Handler = Task<Result<Response>> (AppRoleBackend::*)(Request&, const FieldData&);
  static std::vector<logical::Path> BuildPaths(AppRoleBackend* self);

  int64_t MountMax(const Request& req) const {
    return req.mount.max_lease_ttl > 0 ? req.mount.max_lease_ttl : mount_.max_lease_ttl;
  }
  AsyncMutex& RoleLock(const std::string& name) {
    return role_locks_[std::hash<std::string>{}(name) % kLocks];
  }
  AsyncMutex& SecretLock(const std::string& secret_hmac) {
    return secret_locks_[std::hash<std::string>{}(secret_hmac) % kLocks];
  }

  // --- storage helpers
  Task<Result<std::string>> Salt(Storage* s);
  Task<Result<std::optional<Role>>> LoadRole(Storage* s, std::string name);
  Task<Status> StoreRole(Storage* s, const Role& role, std::string previous_role_id);
  Task<Result<std::optional<SecretIdEntry>>> LoadEntry(Storage* s, std::string key);
  Task<Result<std::string>> AccessorKey(Storage* s, std::string prefix, std::string accessor);
  Task<Result<bool>> AccessorIndexed(Storage* s, std::string prefix, std::string accessor);
  // Deletes a secret ID and its accessor index entry.
  Task<Status> DeleteSecretId(Storage* s, std::string accessor_prefix, std::string key,
                              std::string accessor);
  Task<Result<SecretIdEntry>> RegisterSecretId(Storage* s, const Role& role, std::string secret_id,
                                               SecretIdEntry entry, int64_t mount_max);
  // Deletes every secret ID of the role (the caller holds the role's lock).
  Task<Status> FlushSecretIds(Storage* s, const Role& role);

  // --- paths
  Task<Result<bool>> RoleExists(Request& req, const FieldData& d);
  Task<Result<Response>> RoleList(Request& req, const FieldData& d);
  Task<Result<Response>> RoleRead(Request& req, const FieldData& d);
  Task<Result<Response>> RoleWrite(Request& req, const FieldData& d);
  Task<Result<Response>> RoleDelete(Request& req, const FieldData& d);
  Task<Result<Response>> FieldRead(Request& req, const FieldData& d, const FieldPathSpec* spec);
  Task<Result<Response>> FieldUpdate(Request& req, const FieldData& d, const FieldPathSpec* spec);
  Task<Result<Response>> FieldDelete(Request& req, const FieldData& d, const FieldPathSpec* spec);
  Task<Result<Response>> RoleIdRead(Request& req, const FieldData& d);
  Task<Result<Response>> RoleIdWrite(Request& req, const FieldData& d);
  Task<Result<Response>> LocalSecretIdsRead(Request& req, const FieldData& d);
  Task<Result<Response>> SecretIdGenerate(Request& req, const FieldData& d);
  Task<Result<Response>> SecretIdCustom(Request& req, const FieldData& d);
  Task<Result<Response>> IssueSecretId(Request& req, const FieldData& d, std::string secret_id);
  Task<Result<Response>> SecretIdList(Request& req, const FieldData& d);
  Task<Result<Response>> SecretIdLookup(Request& req, const FieldData& d);
  Task<Result<Response>> SecretIdDestroy(Request& req, const FieldData& d);
  Task<Result<Response>> AccessorLookup(Request& req, const FieldData& d);
  Task<Result<Response>> AccessorDestroy(Request& req, const FieldData& d);
  Task<Result<Response>> Login(Request& req, const FieldData& d);
  Task<Result<Response>> TidyEndpoint(Request& req, const FieldData& d);

  // Checks a login's secret ID and takes one use of it.
  Task<Result<SecretIdEntry>> UseSecretId(Request& req, const Role& role, std::string secret_id);
  Task<Result<Response>> Renew(Request& req);
  Task<Status> PeriodicTidy(Request& req);
  // Removes expired secret IDs, secret IDs without an accessor entry, and accessor entries
  // without a secret ID. Returns false (and does nothing) when a tidy is running already.
  Task<Result<bool>> Tidy(Storage* s);
  Task<Status> TidyPrefix(Storage* s, std::string secret_prefix, std::string accessor_prefix,
                          int64_t* removed);

  static constexpr size_t kLocks = 256;

  logical::MountInfo mount_;
  Clock* clock_;
  std::mutex salt_mu_;
  std::string salt_ GUARDED_BY(salt_mu_);  // cached once read or created
  AsyncMutex salt_init_mu_;
  // Changes to a role (and issuing its secret IDs), by role name; the use count of a secret ID,
  // by its HMAC; the role_id index. A request holds at most one of each, taken in this order.
  std::array<AsyncMutex, kLocks> role_locks_;
  std::array<AsyncMutex, kLocks> secret_locks_;
  AsyncMutex role_id_mu_;
  std::atomic<bool> tidy_running_{false};
};

std::vector<logical::Path> AppRoleBackend::BuildPaths(AppRoleBackend* self) {
  using logical::Path;
  auto bind = [self](Handler fn) -> logical::AsyncOperationHandler {
    return [self, fn](Request& r, const FieldData& d) { return (self->*fn)(r, d); };
  };
  const Field role_name{"role_name", FieldType::kString,
                        "Name of the role. Must be less than 4096 bytes."};
  std::vector<Field> role_fields = {
      role_name,
      {"bind_secret_id", FieldType::kBool,
       "Impose secret_id to be presented when logging in using this role. Defaults to 'true'.",
       Json(true)},
      {"secret_id_bound_cidrs", FieldType::kCommaStringSlice,
       "Comma separated string or list of CIDR blocks. If set, specifies the blocks of IP "
       "addresses which can perform the login operation."},
      {"bound_cidr_list", FieldType::kCommaStringSlice, "Use \"secret_id_bound_cidrs\" instead."},
      {"secret_id_num_uses", FieldType::kInt,
       "Number of times a SecretID can access the role, after which the SecretID will expire. "
       "Defaults to 0 meaning that the the secret_id is of unlimited use."},
      {"secret_id_ttl", FieldType::kDurationSecond,
       "Duration in seconds after which the issued SecretID should expire. Defaults to 0, meaning "
       "no expiration (the mount's maximum lease TTL caps it)."},
      {"role_id", FieldType::kString, "Identifier of the role. Defaults to a UUID."},
      {"local_secret_ids", FieldType::kBool,
       "If set, the secret IDs generated using this role will be cluster local. This can only be "
       "set during role creation and once set, it can't be reset later."},
  };
  for (const auto& f : TokenSchema()) role_fields.push_back(f);
  auto field_def = [&](const std::string& name) {
    for (const auto& f : role_fields)
      if (f.name == name) return f;
    return Field{name};
  };

  std::vector<Path> paths;

  Path list;
  list.pattern = "role/?";
  list.synopsis = "Lists all the roles registered with the backend.";
  list.description = "The list will contain the names of the roles.";
  list.async_operations[Operation::kList] = bind(&AppRoleBackend::RoleList);
  paths.push_back(std::move(list));

  Path role;
  role.pattern = kRoleName;
  role.fields = role_fields;
  role.synopsis = "Register an role with the backend.";
  role.description =
      "A role can represent a service, a machine or anything that can be IDed. The set of "
      "policies on the role defines access to the role, meaning, any Vault token with a policy "
      "set that is a superset of the policies on the role registered here will have access to "
      "the role. If a SecretID is desired to be generated against only this specific role, it "
      "can be done via 'role/<role_name>/secret-id' and 'role/<role_name>/custom-secret-id' "
      "endpoints. The properties of the SecretID created against the role and the properties of "
      "the token issued with the SecretID generated against the role, can be configured using "
      "the fields of this endpoint.";
  role.existence_check = [self](Request& r, const FieldData& d) { return self->RoleExists(r, d); };
  role.async_operations[Operation::kRead] = bind(&AppRoleBackend::RoleRead);
  role.async_operations[Operation::kCreate] = bind(&AppRoleBackend::RoleWrite);
  role.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::RoleWrite);
  role.async_operations[Operation::kDelete] = bind(&AppRoleBackend::RoleDelete);
  paths.push_back(std::move(role));

  for (const FieldPathSpec& spec : FieldSpecs()) {
    const FieldPathSpec* sp = &spec;
    Path p;
    p.pattern = std::string(kRoleName) + "/" + spec.suffix;
    p.fields = {role_name};
    for (const auto& f : spec.fields) p.fields.push_back(field_def(f));
    p.synopsis = spec.synopsis;
    p.async_operations[Operation::kRead] = [self, sp](Request& r, const FieldData& d) {
      return self->FieldRead(r, d, sp);
    };
    p.async_operations[Operation::kUpdate] = [self, sp](Request& r, const FieldData& d) {
      return self->FieldUpdate(r, d, sp);
    };
    p.async_operations[Operation::kDelete] = [self, sp](Request& r, const FieldData& d) {
      return self->FieldDelete(r, d, sp);
    };
    paths.push_back(std::move(p));
  }

  Path role_id;
  role_id.pattern = std::string(kRoleName) + "/role-id";
  role_id.fields = {role_name, field_def("role_id")};
  role_id.synopsis = "Returns the 'role_id' of the role.";
  role_id.description =
      "If login is performed from an role, then its 'role_id' should be presented as a "
      "credential during the login. This 'role_id' can be retrieved using this endpoint.";
  role_id.async_operations[Operation::kRead] = bind(&AppRoleBackend::RoleIdRead);
  role_id.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::RoleIdWrite);
  paths.push_back(std::move(role_id));

  Path local;
  local.pattern = std::string(kRoleName) + "/local-secret-ids";
  local.fields = {role_name};
  local.synopsis = "Enables cluster local secret IDs";
  local.async_operations[Operation::kRead] = bind(&AppRoleBackend::LocalSecretIdsRead);
  paths.push_back(std::move(local));

  std::vector<Field> issue_fields = {
      role_name,
      {"metadata", FieldType::kString,
       "Metadata to be tied to the SecretID. This should be a JSON formatted string containing "
       "the metadata in key value pairs (a JSON object is accepted too)."},
      {"cidr_list", FieldType::kCommaStringSlice,
       "Comma separated string or list of CIDR blocks enforcing secret IDs to be used from "
       "specific set of IP addresses. If 'secret_id_bound_cidrs' is set on the role, then the "
       "list of CIDR blocks listed here should be a subset of the CIDR blocks listed on the "
       "role."},
      {"token_bound_cidrs", FieldType::kCommaStringSlice,
       "Comma separated string or list of CIDR blocks. If set, specifies the blocks of IP "
       "addresses which can use the returned token. Should be a subset of the token CIDR blocks "
       "listed on the role, if any."},
      {"num_uses", FieldType::kInt,
       "Number of times this SecretID can be used, after which the SecretID expires. Overrides "
       "secret_id_num_uses role option when supplied. May not be higher than role's "
       "secret_id_num_uses."},
      {"ttl", FieldType::kDurationSecond,
       "Duration in seconds after which this SecretID expires. Overrides secret_id_ttl role "
       "option when supplied. May not be longer than role's secret_id_ttl."},
  };

  Path secret_id;
  secret_id.pattern = std::string(kRoleName) + "/secret-id/?";
  secret_id.fields = issue_fields;
  secret_id.synopsis =
      "Generate a SecretID against this role (POST), or list the accessors of its SecretIDs "
      "(LIST).";
  secret_id.description =
      "The SecretID generated using this endpoint will be scoped to access just this role and "
      "none else. The properties of this SecretID will be derived from the options set on the "
      "role.";
  secret_id.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::SecretIdGenerate);
  secret_id.async_operations[Operation::kList] = bind(&AppRoleBackend::SecretIdList);
  paths.push_back(std::move(secret_id));

  Path lookup;
  lookup.pattern = std::string(kRoleName) + "/secret-id/lookup/?";
  lookup.fields = {role_name, {"secret_id", FieldType::kString, "SecretID attached to the role."}};
  lookup.synopsis = "Read the properties of an issued secret_id";
  lookup.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::SecretIdLookup);
  paths.push_back(std::move(lookup));

  Path destroy;
  destroy.pattern = std::string(kRoleName) + "/secret-id/destroy/?";
  destroy.fields = {role_name, {"secret_id", FieldType::kString, "SecretID attached to the role."}};
  destroy.synopsis = "Invalidate an issued secret_id";
  destroy.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::SecretIdDestroy);
  destroy.async_operations[Operation::kDelete] = bind(&AppRoleBackend::SecretIdDestroy);
  paths.push_back(std::move(destroy));

  const Field accessor{"secret_id_accessor", FieldType::kString, "Accessor of the SecretID"};
  Path acc_lookup;
  acc_lookup.pattern = std::string(kRoleName) + "/secret-id-accessor/lookup/?";
  acc_lookup.fields = {role_name, accessor};
  acc_lookup.synopsis = "Read an issued secret_id, using its accessor.";
  acc_lookup.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::AccessorLookup);
  paths.push_back(std::move(acc_lookup));

  Path acc_destroy;
  acc_destroy.pattern = std::string(kRoleName) + "/secret-id-accessor/destroy/?";
  acc_destroy.fields = {role_name, accessor};
  acc_destroy.synopsis = "Delete an issued secret_id, using its accessor.";
  acc_destroy.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::AccessorDestroy);
  acc_destroy.async_operations[Operation::kDelete] = bind(&AppRoleBackend::AccessorDestroy);
  paths.push_back(std::move(acc_destroy));

  Path custom;
  custom.pattern = std::string(kRoleName) + "/custom-secret-id";
  custom.fields = issue_fields;
  custom.fields.push_back(
      {"secret_id", FieldType::kString, "SecretID to be attached to the role."});
  custom.synopsis = "Assign a SecretID of choice against the role.";
  custom.description =
      "This option is not recommended unless there is a specific need to do so. This will "
      "assign a client supplied SecretID to be used to access the role. This SecretID will "
      "behave similarly to the SecretIDs generated by the backend. The properties of this "
      "SecretID will be based on the options set on the role.";
  custom.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::SecretIdCustom);
  paths.push_back(std::move(custom));

  Path login;
  login.pattern = "login";
  login.fields = {
      {"role_id", FieldType::kString,
       "Unique identifier of the Role. Required to be supplied when the 'bind_secret_id' "
       "constraint is set."},
      {"secret_id", FieldType::kString, "SecretID belong to the App role"},
  };
  login.synopsis = "Issue a token based on the credentials supplied";
  login.description =
      "While the credential 'role_id' is required at all times, other credentials required "
      "depends on the properties App role to which the 'role_id' belongs to. The "
      "'bind_secret_id' constraint (enabled by default) on the App role requires the "
      "'secret_id' credential to be presented.";
  login.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::Login);
  paths.push_back(std::move(login));

  Path tidy;
  tidy.pattern = "tidy/secret-id";
  tidy.synopsis = "Trigger the clean-up of expired SecretID entries.";
  tidy.description =
      "SecretIDs will have expiration time attached to them. The periodic function of the "
      "backend will look for expired entries and delete them. This happens once in a minute. "
      "Invoking this endpoint will trigger the clean-up action, without waiting for the backend's "
      "periodic function.";
  tidy.async_operations[Operation::kUpdate] = bind(&AppRoleBackend::TidyEndpoint);
  paths.push_back(std::move(tidy));
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Storage helpers

Task<Result<std::string>> AppRoleBackend::Salt(Storage* s) {
  {
    std::lock_guard lock(salt_mu_);
    if (!salt_.empty()) co_return salt_;
  }
  AsyncMutex::Guard guard = co_await salt_init_mu_.Lock();
  {
    std::lock_guard lock(salt_mu_);
    if (!salt_.empty()) co_return salt_;
  }
  CO_ASSIGN_OR_RETURN(std::optional<std::string> stored, co_await s->Get(kSaltKey));
  std::string salt;
  if (stored && !stored->empty()) {
    salt = std::move(*stored);
  } else {
    salt = HexEncode(RandomBytes(32));
    CO_RETURN_IF_ERROR(co_await s->Put(kSaltKey, salt));
  }
  std::lock_guard lock(salt_mu_);
  salt_ = salt;
  co_return salt;
}

Task<Result<std::optional<Role>>> AppRoleBackend::LoadRole(Storage* s, std::string name) {
  if (name.empty()) co_return std::optional<Role>();
  std::string key = kRolePrefix + name;
  CO_ASSIGN_OR_RETURN(std::optional<Json> j, co_await logical::GetJson(s, key));
  if (!j) co_return std::optional<Role>();
  CO_ASSIGN_OR_RETURN(Role r, Role::FromStorage(*j, name));
  co_return std::optional<Role>(std::move(r));
}

// Vault's setRoleEntry: the constraint rule, the role_id's uniqueness, then the role and its
// role_id index (the previous role_id's index goes last).
Task<Status> AppRoleBackend::StoreRole(Storage* s, const Role& role, std::string previous_role_id) {
  if (!role.HasConstraint())
    co_return Internal("at least one constraint should be enabled on the role");
  CO_ASSIGN_OR_RETURN(std::string salt, co_await Salt(s));
  std::string index_key = kRoleIdPrefix + SaltId(salt, role.role_id);
  AsyncMutex::Guard guard = co_await role_id_mu_.Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Json> index, co_await logical::GetJson(s, index_key));
  bool write_index = true;
  if (index) {
    std::string owner = JStr(*index, "name");
    if (owner == role.name) {
      write_index = false;
    } else {
      // Taken, unless the index is stale (its role is gone or has another role_id now).
      CO_ASSIGN_OR_RETURN(std::optional<Role> other, co_await LoadRole(s, owner));
      if (other && crypto::ConstantTimeEquals(other->role_id, role.role_id))
        co_return Internal("role_id already in use");
    }
  }
  std::string role_key = kRolePrefix + role.name;
  Json stored = role.ToStorage();
  CO_RETURN_IF_ERROR(co_await logical::PutJson(s, role_key, stored));
  if (write_index) {
    Json entry = {{"name", role.name}};
    CO_RETURN_IF_ERROR(co_await logical::PutJson(s, index_key, entry));
  }
  if (!previous_role_id.empty() && previous_role_id != role.role_id) {
    std::string old_key = kRoleIdPrefix + SaltId(salt, previous_role_id);
    CO_ASSIGN_OR_RETURN(std::optional<Json> old, co_await logical::GetJson(s, old_key));
    if (old && JStr(*old, "name") == role.name) CO_RETURN_IF_ERROR(co_await s->Delete(old_key));
  }
  co_return Status::Ok();
}

Task<Result<std::optional<SecretIdEntry>>> AppRoleBackend::LoadEntry(Storage* s, std::string key) {
  CO_ASSIGN_OR_RETURN(std::optional<Json> j, co_await logical::GetJson(s, key));
  if (!j) co_return std::optional<SecretIdEntry>();
  CO_ASSIGN_OR_RETURN(SecretIdEntry e, SecretIdEntry::FromStorage(*j));
  co_return std::optional<SecretIdEntry>(std::move(e));
}

Task<Result<std::string>> AppRoleBackend::AccessorKey(Storage* s, std::string prefix,
                                                      std::string accessor) {
  CO_ASSIGN_OR_RETURN(std::string salt, co_await Salt(s));
  co_return prefix + SaltId(salt, accessor);
}

Task<Result<bool>> AppRoleBackend::AccessorIndexed(Storage* s, std::string prefix,
                                                   std::string accessor) {
  if (accessor.empty()) co_return false;
  CO_ASSIGN_OR_RETURN(std::string key, co_await AccessorKey(s, prefix, accessor));
  CO_ASSIGN_OR_RETURN(std::optional<std::string> v, co_await s->Get(key));
  co_return v.has_value();
}

Task<Status> AppRoleBackend::DeleteSecretId(Storage* s, std::string accessor_prefix,
                                            std::string key, std::string accessor) {
  if (!accessor.empty()) {
    CO_ASSIGN_OR_RETURN(std::string akey, co_await AccessorKey(s, accessor_prefix, accessor));
    CO_RETURN_IF_ERROR(co_await s->Delete(akey));
  }
  CO_RETURN_IF_ERROR(co_await s->Delete(key));
  co_return Status::Ok();
}

// Vault's registerSecretIDEntry. The accessor index and the entry are written under the secret
// ID's lock, so tidy never sees one without the other.
Task<Result<SecretIdEntry>> AppRoleBackend::RegisterSecretId(Storage* s, const Role& role,
                                                             std::string secret_id,
                                                             SecretIdEntry entry,
                                                             int64_t mount_max) {
  CO_ASSIGN_OR_RETURN(SecretRef ref, SecretRefFor(role, secret_id));
  AsyncMutex::Guard guard = co_await SecretLock(ref.secret_hmac).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<std::string> existing, co_await s->Get(ref.key));
  if (existing) co_return Internal("SecretID is already registered");
  const int64_t now = clock_->NowNanos();
  entry.creation_ns = now;
  entry.last_updated_ns = now;
  if (mount_max > 0 && entry.ttl > mount_max) entry.ttl = mount_max;
  entry.expiration_ns = entry.ttl > 0 ? now + entry.ttl * kNanos : 0;
  entry.accessor = NewUuid();
  CO_ASSIGN_OR_RETURN(std::string akey,
                      co_await AccessorKey(s, role.accessor_prefix(), entry.accessor));
  Json index = {{"secret_id_hmac", ref.secret_hmac}, {"role_name_hmac", ref.role_hmac}};
  CO_RETURN_IF_ERROR(co_await logical::PutJson(s, akey, index));
  Json stored = entry.ToStorage();
  CO_RETURN_IF_ERROR(co_await logical::PutJson(s, ref.key, stored));
  co_return entry;
}

Task<Status> AppRoleBackend::FlushSecretIds(Storage* s, const Role& role) {
  CO_ASSIGN_OR_RETURN(std::string rh, CreateHmac(role.hmac_key, role.name));
  std::string dir = role.secret_id_prefix + rh + "/";
  CO_ASSIGN_OR_RETURN(std::vector<std::string> hmacs, co_await s->List(dir));
  for (const auto& sh : hmacs) {
    if (sh.empty() || sh.back() == '/') continue;
    AsyncMutex::Guard guard = co_await SecretLock(sh).Lock();
    std::string key = dir + sh;
    CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> e, co_await LoadEntry(s, key));
    if (!e) continue;
    CO_RETURN_IF_ERROR(co_await DeleteSecretId(s, role.accessor_prefix(), key, e->accessor));
  }
  co_return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Roles

Task<Result<bool>> AppRoleBackend::RoleExists(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(std::optional<Role> r,
                      co_await LoadRole(req.storage, ToLower(d.GetString("role_name"))));
  co_return r.has_value();
}

Task<Result<Response>> AppRoleBackend::RoleList(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(std::vector<std::string> keys, co_await req.storage->List(kRolePrefix));
  keys.erase(std::remove_if(keys.begin(), keys.end(),
                            [](const std::string& k) { return k.empty() || k.back() == '/'; }),
             keys.end());
  if (keys.empty()) co_return Response();
  co_return Response::WithData({{"keys", keys}});
}

Task<Result<Response>> AppRoleBackend::RoleRead(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return Response();
  Response resp = Response::WithData(RoleData(*role));
  if (!role->HasConstraint())
    resp.warnings.push_back(
        "Role does not have any constraints set on it. Updates to this role will require a "
        "constraint to be set");
  // The role_id index should exist; put it back if it went missing (under the role's lock, so
  // that a concurrent delete of the role cannot leave it behind).
  CO_ASSIGN_OR_RETURN(std::string salt, co_await Salt(req.storage));
  std::string index_key = kRoleIdPrefix + SaltId(salt, role->role_id);
  CO_ASSIGN_OR_RETURN(std::optional<std::string> index, co_await req.storage->Get(index_key));
  if (index) co_return resp;
  AsyncMutex::Guard role_guard = co_await RoleLock(name).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Role> current, co_await LoadRole(req.storage, name));
  if (!current || current->role_id != role->role_id) co_return resp;
  AsyncMutex::Guard index_guard = co_await role_id_mu_.Lock();
  CO_ASSIGN_OR_RETURN(index, co_await req.storage->Get(index_key));
  if (!index) {
    Json entry = {{"name", role->name}};
    CO_RETURN_IF_ERROR(co_await logical::PutJson(req.storage, index_key, entry));
    resp.warnings.push_back(
        "Role identifier was missing an index back to role name. A new index has been added. "
        "Please report this observation.");
  }
  co_return resp;
}

Task<Result<Response>> AppRoleBackend::RoleWrite(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  if (name.empty()) co_return InvalidArgument("missing role_name");
  if (name.size() > kMaxHmacInputLength)
    co_return InvalidArgument("role_name is longer than maximum of " +
                              std::to_string(kMaxHmacInputLength) + " bytes");
  AsyncMutex::Guard guard = co_await RoleLock(name).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Role> existing, co_await LoadRole(req.storage, name));
  // A write to a missing role creates it, whatever the operation says (root tokens skip the
  // existence check, so their creates arrive as updates).
  const bool create = !existing;
  Role role;
  if (existing) {
    role = std::move(*existing);
  } else {
    role.name = name;
    role.hmac_key = NewUuid();
  }
  std::vector<std::string> warnings;
  CO_RETURN_IF_ERROR(logical::ApplyTokenFields(d, TokenOptions(), &role.token, &warnings));
  if (d.Has("local_secret_ids")) {
    if (!create)
      co_return InvalidArgument("local_secret_ids can only be modified during role creation");
    if (d.GetBool("local_secret_ids")) role.secret_id_prefix = kSecretIdLocalPrefix;
  }
  const std::string previous_role_id = role.role_id;
  if (d.Has("role_id")) {
    role.role_id = d.GetString("role_id");
  } else if (create) {
    role.role_id = NewUuid();
  }
  if (role.role_id.empty())
    co_return InvalidArgument("invalid role_id supplied, or failed to generate a role_id");
  if (d.Has("bind_secret_id")) role.bind_secret_id = d.GetBool("bind_secret_id");
  for (const char* f : {"secret_id_bound_cidrs", "bound_cidr_list"}) {
    if (!d.Has(f)) continue;
    role.secret_id_bound_cidrs = d.GetStrings(f);
    break;
  }
  CO_RETURN_IF_ERROR(ValidCidrs(role.secret_id_bound_cidrs, "invalid CIDR blocks"));
  if (d.Has("secret_id_num_uses")) role.secret_id_num_uses = d.GetInt("secret_id_num_uses");
  if (role.secret_id_num_uses < 0)
    co_return InvalidArgument("secret_id_num_uses cannot be negative");
  if (d.Has("secret_id_ttl")) role.secret_id_ttl = d.GetInt("secret_id_ttl");
  const int64_t mount_max = MountMax(req);
  CO_RETURN_IF_ERROR(CheckPeriod(role.token, mount_max));
  WarnMaxTtl(role.token, mount_max, &warnings);
  CO_RETURN_IF_ERROR(co_await StoreRole(req.storage, role, previous_role_id));
  co_return WithWarnings(std::move(warnings));
}

Task<Result<Response>> AppRoleBackend::RoleDelete(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  AsyncMutex::Guard guard = co_await RoleLock(name).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return Response();
  Status flushed = co_await FlushSecretIds(req.storage, *role);
  if (!flushed.ok())
    co_return Internal("failed to invalidate the secrets belonging to role " + GoQuote(name) +
                       ": " + flushed.message());
  {
    CO_ASSIGN_OR_RETURN(std::string salt, co_await Salt(req.storage));
    std::string index_key = kRoleIdPrefix + SaltId(salt, role->role_id);
    AsyncMutex::Guard index_guard = co_await role_id_mu_.Lock();
    CO_ASSIGN_OR_RETURN(std::optional<Json> index,
                        co_await logical::GetJson(req.storage, index_key));
    if (index && JStr(*index, "name") == name)
      CO_RETURN_IF_ERROR(co_await req.storage->Delete(index_key));
  }
  std::string key = kRolePrefix + name;
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(key));
  co_return Response();
}

Task<Result<Response>> AppRoleBackend::FieldRead(Request& req, const FieldData& d,
                                                 const FieldPathSpec* spec) {
  CO_ASSIGN_OR_RETURN(std::optional<Role> role,
                      co_await LoadRole(req.storage, ToLower(d.GetString("role_name"))));
  if (!role) co_return Response();
  std::vector<std::string> warnings;
  Response resp = Response::WithData(spec->read(*role, &warnings));
  resp.warnings = std::move(warnings);
  co_return resp;
}

Task<Result<Response>> AppRoleBackend::FieldUpdate(Request& req, const FieldData& d,
                                                   const FieldPathSpec* spec) {
  std::string name = ToLower(d.GetString("role_name"));
  AsyncMutex::Guard guard = co_await RoleLock(name).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return NotFound("unsupported path");
  bool sent = false;
  for (const auto& f : spec->fields) sent = sent || d.Has(f);
  // Vault names the legacy field for period and the token_* one for policies.
  if (!sent)
    co_return InvalidArgument(
        "missing " + (spec->suffix == "period" ? spec->fields.back() : spec->fields.front()));
  std::vector<std::string> warnings;
  CO_RETURN_IF_ERROR(spec->update(&*role, d, MountMax(req), &warnings));
  CO_RETURN_IF_ERROR(co_await StoreRole(req.storage, *role, role->role_id));
  co_return WithWarnings(std::move(warnings));
}

Task<Result<Response>> AppRoleBackend::FieldDelete(Request& req, const FieldData& d,
                                                   const FieldPathSpec* spec) {
  std::string name = ToLower(d.GetString("role_name"));
  AsyncMutex::Guard guard = co_await RoleLock(name).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return Response();
  spec->reset(&*role);
  CO_RETURN_IF_ERROR(co_await StoreRole(req.storage, *role, role->role_id));
  co_return Response();
}

Task<Result<Response>> AppRoleBackend::RoleIdRead(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(std::optional<Role> role,
                      co_await LoadRole(req.storage, ToLower(d.GetString("role_name"))));
  if (!role) co_return Response();
  co_return Response::WithData({{"role_id", role->role_id}});
}

Task<Result<Response>> AppRoleBackend::RoleIdWrite(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  AsyncMutex::Guard guard = co_await RoleLock(name).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return NotFound("unsupported path");
  std::string previous = role->role_id;
  role->role_id = d.GetString("role_id");
  if (role->role_id.empty()) co_return InvalidArgument("missing role_id");
  CO_RETURN_IF_ERROR(co_await StoreRole(req.storage, *role, previous));
  co_return Response();
}

Task<Result<Response>> AppRoleBackend::LocalSecretIdsRead(Request& req, const FieldData& d) {
  CO_ASSIGN_OR_RETURN(std::optional<Role> role,
                      co_await LoadRole(req.storage, ToLower(d.GetString("role_name"))));
  if (!role) co_return Response();
  co_return Response::WithData({{"local_secret_ids", role->local()}});
}

// ---------------------------------------------------------------------------------------------
// Secret IDs

Task<Result<Response>> AppRoleBackend::SecretIdGenerate(Request& req, const FieldData& d) {
  co_return co_await IssueSecretId(req, d, NewUuid());
}

Task<Result<Response>> AppRoleBackend::SecretIdCustom(Request& req, const FieldData& d) {
  co_return co_await IssueSecretId(req, d, d.GetString("secret_id"));
}

Task<Result<Response>> AppRoleBackend::IssueSecretId(Request& req, const FieldData& d,
                                                     std::string secret_id) {
  std::string name = ToLower(d.GetString("role_name"));
  if (secret_id.empty()) co_return InvalidArgument("missing secret_id");
  // The role's lock keeps a concurrent delete of the role from missing this secret ID.
  AsyncMutex::Guard guard = co_await RoleLock(name).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return NotFound("role " + GoQuote(name) + " does not exist");
  if (!role->bind_secret_id) co_return InvalidArgument("bind_secret_id is not set on the role");

  SecretIdEntry entry;
  entry.cidr_list = d.GetStrings("cidr_list");
  CO_RETURN_IF_ERROR(ValidCidrs(entry.cidr_list, "failed to validate CIDR blocks"));
  CO_RETURN_IF_ERROR(VerifyCidrSubset(entry.cidr_list, role->secret_id_bound_cidrs));
  entry.token_bound_cidrs = d.GetStrings("token_bound_cidrs");
  CO_RETURN_IF_ERROR(ValidCidrs(entry.token_bound_cidrs, "failed to validate token CIDR blocks"));
  CO_RETURN_IF_ERROR(VerifyCidrSubset(entry.token_bound_cidrs, role->token.bound_cidrs));

  entry.num_uses = role->secret_id_num_uses;
  if (d.Has("num_uses")) {
    int64_t n = d.GetInt("num_uses");
    if (n < 0) co_return InvalidArgument("num_uses cannot be negative");
    const int64_t limit = role->secret_id_num_uses;
    if (limit > 0 && (n == 0 || n > limit))
      co_return InvalidArgument("num_uses cannot be higher than the role's secret_id_num_uses");
    entry.num_uses = n;
  }
  entry.ttl = role->secret_id_ttl;
  if (d.Has("ttl")) {
    int64_t ttl = d.GetInt("ttl");
    const int64_t limit = role->secret_id_ttl;
    if (limit > 0 && (ttl == 0 || ttl > limit))
      co_return InvalidArgument("ttl cannot be longer than the role's secret_id_ttl");
    entry.ttl = ttl;
  }
  CO_ASSIGN_OR_RETURN(entry.metadata, ParseMetadata(d.GetString("metadata")));

  CO_ASSIGN_OR_RETURN(
      SecretIdEntry stored,
      co_await RegisterSecretId(req.storage, *role, secret_id, std::move(entry), MountMax(req)));
  co_return Response::WithData({{"secret_id", secret_id},
                                {"secret_id_accessor", stored.accessor},
                                {"secret_id_ttl", stored.ttl},
                                {"secret_id_num_uses", stored.num_uses}});
}

Task<Result<Response>> AppRoleBackend::SecretIdList(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return InvalidArgument("role " + GoQuote(name) + " does not exist");
  CO_ASSIGN_OR_RETURN(std::string rh, CreateHmac(role->hmac_key, role->name));
  std::string dir = role->secret_id_prefix + rh + "/";
  CO_ASSIGN_OR_RETURN(std::vector<std::string> hmacs, co_await req.storage->List(dir));
  std::vector<std::string> accessors;
  for (const auto& sh : hmacs) {
    if (sh.empty() || sh.back() == '/') continue;
    std::string key = dir + sh;
    CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> e, co_await LoadEntry(req.storage, key));
    if (e && !e->accessor.empty()) accessors.push_back(e->accessor);
  }
  if (accessors.empty()) co_return Response();
  std::sort(accessors.begin(), accessors.end());
  co_return Response::WithData({{"keys", accessors}});
}

Task<Result<Response>> AppRoleBackend::SecretIdLookup(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  std::string secret_id = d.GetString("secret_id");
  if (secret_id.empty()) co_return InvalidArgument("missing secret_id");
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return Internal("role " + GoQuote(name) + " does not exist");
  CO_ASSIGN_OR_RETURN(SecretRef ref, SecretRefFor(*role, secret_id));
  AsyncMutex::Guard guard = co_await SecretLock(ref.secret_hmac).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> e, co_await LoadEntry(req.storage, ref.key));
  if (!e) co_return Response();
  CO_ASSIGN_OR_RETURN(bool indexed,
                      co_await AccessorIndexed(req.storage, role->accessor_prefix(), e->accessor));
  if (!indexed) {
    // An entry without its accessor is deleted on sight.
    CO_RETURN_IF_ERROR(co_await req.storage->Delete(ref.key));
    co_return InvalidArgument("invalid secret id");
  }
  co_return Response::WithData(e->ToResponseData());
}

Task<Result<Response>> AppRoleBackend::SecretIdDestroy(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  std::string secret_id = d.GetString("secret_id");
  if (secret_id.empty()) co_return InvalidArgument("missing secret_id");
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return Internal("role " + GoQuote(name) + " does not exist");
  CO_ASSIGN_OR_RETURN(SecretRef ref, SecretRefFor(*role, secret_id));
  AsyncMutex::Guard guard = co_await SecretLock(ref.secret_hmac).Lock();
  CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> e, co_await LoadEntry(req.storage, ref.key));
  if (!e) co_return Response();
  CO_RETURN_IF_ERROR(
      co_await DeleteSecretId(req.storage, role->accessor_prefix(), ref.key, e->accessor));
  co_return Response();
}

Task<Result<Response>> AppRoleBackend::AccessorLookup(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  std::string accessor = d.GetString("secret_id_accessor");
  if (accessor.empty()) co_return InvalidArgument("missing secret_id_accessor");
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return Internal("role " + GoQuote(name) + " does not exist");
  CO_ASSIGN_OR_RETURN(std::string akey,
                      co_await AccessorKey(req.storage, role->accessor_prefix(), accessor));
  CO_ASSIGN_OR_RETURN(std::optional<Json> index, co_await logical::GetJson(req.storage, akey));
  if (!index)
    co_return NotFound("failed to find accessor entry for secret_id_accessor: " +
                       GoQuote(accessor));
  CO_ASSIGN_OR_RETURN(std::string rh, CreateHmac(role->hmac_key, role->name));
  std::string sh = JStr(*index, "secret_id_hmac");
  AsyncMutex::Guard guard = co_await SecretLock(sh).Lock();
  std::string key = SecretKey(role->secret_id_prefix, rh, sh);
  // Another role's accessor names no entry under this role: nothing to show.
  CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> e, co_await LoadEntry(req.storage, key));
  if (!e) co_return Response();
  co_return Response::WithData(e->ToResponseData());
}

Task<Result<Response>> AppRoleBackend::AccessorDestroy(Request& req, const FieldData& d) {
  std::string name = ToLower(d.GetString("role_name"));
  std::string accessor = d.GetString("secret_id_accessor");
  if (accessor.empty()) co_return InvalidArgument("missing secret_id_accessor");
  CO_ASSIGN_OR_RETURN(std::optional<Role> role, co_await LoadRole(req.storage, name));
  if (!role) co_return Internal("role " + GoQuote(name) + " does not exist");
  CO_ASSIGN_OR_RETURN(std::string akey,
                      co_await AccessorKey(req.storage, role->accessor_prefix(), accessor));
  CO_ASSIGN_OR_RETURN(std::optional<Json> index, co_await logical::GetJson(req.storage, akey));
  if (!index)
    co_return Internal("failed to find accessor entry for secret_id_accessor: " +
                       GoQuote(accessor));
  CO_ASSIGN_OR_RETURN(std::string rh, CreateHmac(role->hmac_key, role->name));
  std::string sh = JStr(*index, "secret_id_hmac");
  AsyncMutex::Guard guard = co_await SecretLock(sh).Lock();
  std::string key = SecretKey(role->secret_id_prefix, rh, sh);
  // CVE-2023-24999: the accessor must name a secret ID of this role, not of another one.
  CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> e, co_await LoadEntry(req.storage, key));
  if (!e) co_return PermissionDenied("invalid secret id accessor");
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(akey));
  CO_RETURN_IF_ERROR(co_await req.storage->Delete(key));
  co_return Response();
}

// ---------------------------------------------------------------------------------------------
// Login and renewal

// The CIDR checks of a login, in Vault's order: the secret ID's cidr_list (still within the
// role's blocks), then the role's secret_id_bound_cidrs.
Status CheckLoginCidrs(const Role& role, const SecretIdEntry* entry, const std::string& remote) {
  if (entry && !entry->cidr_list.empty()) {
    RETURN_IF_ERROR(VerifyCidrSubset(entry->cidr_list, role.secret_id_bound_cidrs));
    if (remote.empty()) return Internal("failed to get connection information");
    if (!AddressAllowed(entry->cidr_list, remote)) {
      // Vault words the two cases differently (limited-use IDs through a wrapped nil error).
      if (entry->num_uses == 0)
        return InvalidArgument("source address " + GoQuote(remote) +
                               " unauthorized through CIDR restrictions on the secret ID");
      return InvalidArgument("source address " + GoQuote(remote) +
                             " unauthorized by CIDR restrictions on the secret ID: " + kGoNilError);
    }
  }
  if (!role.secret_id_bound_cidrs.empty()) {
    if (remote.empty()) return Internal("failed to get connection information");
    if (!AddressAllowed(role.secret_id_bound_cidrs, remote))
      return InvalidArgument("source address " + GoQuote(remote) +
                             " unauthorized by CIDR restrictions on the role: " + kGoNilError);
  }
  return Status::Ok();
}

// Unlimited-use secret IDs are checked without a lock (nothing changes). A limited-use one, an
// expired one or one without its accessor index is decided under the secret ID's lock, held
// from the read to the write of its use count: two logins never spend the same last use.
// Unlike Vault, every check (expiry, CIDRs) comes before the use is taken, so a refused login
// (another address, say) does not burn a use.
Task<Result<SecretIdEntry>> AppRoleBackend::UseSecretId(Request& req, const Role& role,
                                                        std::string secret_id) {
  Storage* s = req.storage;
  CO_ASSIGN_OR_RETURN(SecretRef ref, SecretRefFor(role, secret_id));
  CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> entry, co_await LoadEntry(s, ref.key));
  if (!entry) co_return InvalidArgument(kInvalidCredentials);
  if (entry->num_uses == 0 && !entry->Expired(clock_->NowNanos())) {
    CO_ASSIGN_OR_RETURN(bool indexed,
                        co_await AccessorIndexed(s, role.accessor_prefix(), entry->accessor));
    if (indexed) {
      CO_RETURN_IF_ERROR(CheckLoginCidrs(role, &*entry, req.remote_address));
      co_return std::move(*entry);
    }
  }
  AsyncMutex::Guard guard = co_await SecretLock(ref.secret_hmac).Lock();
  CO_ASSIGN_OR_RETURN(entry, co_await LoadEntry(s, ref.key));
  if (!entry) co_return InvalidArgument(kInvalidCredentials);
  CO_ASSIGN_OR_RETURN(bool indexed,
                      co_await AccessorIndexed(s, role.accessor_prefix(), entry->accessor));
  if (!indexed) {
    CO_RETURN_IF_ERROR(co_await s->Delete(ref.key));
    co_return InvalidArgument(kInvalidCredentials);
  }
  const int64_t now = clock_->NowNanos();
  if (entry->Expired(now)) {
    CO_RETURN_IF_ERROR(
        co_await DeleteSecretId(s, role.accessor_prefix(), ref.key, entry->accessor));
    co_return InvalidArgument(kInvalidCredentials);
  }
  CO_RETURN_IF_ERROR(CheckLoginCidrs(role, &*entry, req.remote_address));
  if (entry->num_uses == 1) {
    CO_RETURN_IF_ERROR(
        co_await DeleteSecretId(s, role.accessor_prefix(), ref.key, entry->accessor));
  } else if (entry->num_uses > 1) {
    SecretIdEntry updated = *entry;
    updated.num_uses -= 1;
    updated.last_updated_ns = now;
    Json stored = updated.ToStorage();
    CO_RETURN_IF_ERROR(co_await logical::PutJson(s, ref.key, stored));
  }
  co_return std::move(*entry);
}

Task<Result<Response>> AppRoleBackend::Login(Request& req, const FieldData& d) {
  std::string role_id = Trim(d.GetString("role_id"));
  if (role_id.empty()) co_return InvalidArgument("missing role_id");
  CO_ASSIGN_OR_RETURN(std::string salt, co_await Salt(req.storage));
  std::string index_key = kRoleIdPrefix + SaltId(salt, role_id);
  CO_ASSIGN_OR_RETURN(std::optional<Json> index, co_await logical::GetJson(req.storage, index_key));
  if (!index) co_return InvalidArgument(kInvalidCredentials);
  CO_ASSIGN_OR_RETURN(std::optional<Role> role,
                      co_await LoadRole(req.storage, JStr(*index, "name")));
  if (!role || !crypto::ConstantTimeEquals(role->role_id, role_id))
    co_return InvalidArgument(kInvalidCredentials);

  Json metadata = Json::object();
  std::vector<std::string> token_cidrs = role->token.bound_cidrs;
  if (role->bind_secret_id) {
    std::string secret_id = Trim(d.GetString("secret_id"));
    if (secret_id.empty()) co_return InvalidArgument("missing secret_id");
    CO_ASSIGN_OR_RETURN(SecretIdEntry entry,
                        co_await UseSecretId(req, *role, std::move(secret_id)));
    metadata = std::move(entry.metadata);
    if (!entry.token_bound_cidrs.empty()) token_cidrs = std::move(entry.token_bound_cidrs);
  } else {
    CO_RETURN_IF_ERROR(CheckLoginCidrs(*role, nullptr, req.remote_address));
  }
  metadata["role_name"] = role->name;

  LoginAuth auth;
  auth.token = role->token;
  auth.token.bound_cidrs = std::move(token_cidrs);
  auth.display_name = "";
  auth.alias_name = role->role_id;
  auth.metadata = std::move(metadata);
  auth.internal_data = {{"role_name", role->name}};
  auth.renewable = true;
  Response resp;
  resp.login = std::move(auth);
  co_return resp;
}

// A token this method issued asks for renewal: the role must still exist, and its current
// token settings apply. The token keeps the CIDR binding it was issued with (a secret ID's
// token_bound_cidrs may have narrowed the role's).
Task<Result<Response>> AppRoleBackend::Renew(Request& req) {
  const LoginAuth& was = *req.auth;
  std::string name = JStr(was.internal_data, "role_name");
  if (name.empty()) co_return Internal("failed to fetch role_name during renewal");
  auto role = co_await LoadRole(req.storage, name);
  if (!role.ok())
    co_return Internal("failed to validate role " + GoQuote(name) +
                       " during renewal: " + role.status().message());
  if (!role->has_value())
    co_return InvalidArgument("role " + GoQuote(name) + " does not exist during renewal");
  LoginAuth auth = was;
  auth.token = (*role)->token;
  auth.token.bound_cidrs = was.token.bound_cidrs;
  Response resp;
  resp.login = std::move(auth);
  co_return resp;
}

// ---------------------------------------------------------------------------------------------
// Tidy

Task<Status> AppRoleBackend::TidyPrefix(Storage* s, std::string secret_prefix,
                                        std::string accessor_prefix, int64_t* removed) {
  // Secret IDs: expired, or without their accessor index.
  CO_ASSIGN_OR_RETURN(std::vector<std::string> roles, co_await s->List(secret_prefix));
  for (const auto& rdir : roles) {
    if (rdir.empty() || rdir.back() != '/') continue;
    std::string dir = secret_prefix + rdir;
    CO_ASSIGN_OR_RETURN(std::vector<std::string> hmacs, co_await s->List(dir));
    for (const auto& sh : hmacs) {
      if (sh.empty() || sh.back() == '/') continue;
      AsyncMutex::Guard guard = co_await SecretLock(sh).Lock();
      std::string key = dir + sh;
      CO_ASSIGN_OR_RETURN(std::optional<SecretIdEntry> e, co_await LoadEntry(s, key));
      if (!e) continue;
      CO_ASSIGN_OR_RETURN(bool indexed, co_await AccessorIndexed(s, accessor_prefix, e->accessor));
      if (!indexed) {
        CO_RETURN_IF_ERROR(co_await s->Delete(key));
        ++*removed;
      } else if (e->Expired(clock_->NowNanos())) {
        CO_RETURN_IF_ERROR(co_await DeleteSecretId(s, accessor_prefix, key, e->accessor));
        ++*removed;
      }
    }
  }
  // Accessor entries whose secret ID is gone.
  CO_ASSIGN_OR_RETURN(std::vector<std::string> accessors, co_await s->List(accessor_prefix));
  for (const auto& a : accessors) {
    if (a.empty() || a.back() == '/') continue;
    std::string akey = accessor_prefix + a;
    CO_ASSIGN_OR_RETURN(std::optional<Json> index, co_await logical::GetJson(s, akey));
    if (!index) continue;
    std::string sh = JStr(*index, "secret_id_hmac");
    std::string rh = JStr(*index, "role_name_hmac");
    if (sh.empty() || rh.empty()) {
      CO_RETURN_IF_ERROR(co_await s->Delete(akey));
      continue;
    }
    // Under the secret ID's lock: a secret ID being issued has both entries or neither.
    AsyncMutex::Guard guard = co_await SecretLock(sh).Lock();
    std::string key = SecretKey(secret_prefix, rh, sh);
    CO_ASSIGN_OR_RETURN(std::optional<std::string> entry, co_await s->Get(key));
    if (!entry) {
      CO_ASSIGN_OR_RETURN(std::optional<std::string> still, co_await s->Get(akey));
      if (still) CO_RETURN_IF_ERROR(co_await s->Delete(akey));
    }
  }
  co_return Status::Ok();
}

Task<Result<bool>> AppRoleBackend::Tidy(Storage* s) {
  if (tidy_running_.exchange(true)) co_return false;
  struct Clear {
    std::atomic<bool>* flag;
    ~Clear() { flag->store(false); }
  } clear{&tidy_running_};
  int64_t removed = 0;
  Status st = co_await TidyPrefix(s, kSecretIdPrefix, kAccessorPrefix, &removed);
  if (st.ok()) st = co_await TidyPrefix(s, kSecretIdLocalPrefix, kAccessorLocalPrefix, &removed);
  if (removed > 0) spdlog::info("approle: tidy removed {} secret IDs", removed);
  if (!st.ok()) {
    spdlog::warn("approle: tidy of secret IDs failed: {}", st.message());
    co_return st;
  }
  co_return true;
}

Task<Status> AppRoleBackend::PeriodicTidy(Request& req) {
  auto r = co_await Tidy(req.storage);
  co_return r.status();
}

// Vault answers 202 and tidies in the background; here the tidy runs within the request and
// the answer is Vault's warning.
Task<Result<Response>> AppRoleBackend::TidyEndpoint(Request& req, const FieldData&) {
  CO_ASSIGN_OR_RETURN(bool ran, co_await Tidy(req.storage));
  co_return WithWarnings({ran ? kTidyStarted : kTidyRunning});
}

}  // namespace

std::shared_ptr<logical::Backend> NewAppRoleBackend(const logical::MountInfo& mount, Clock* clock) {
  return std::make_shared<AppRoleBackend>(mount, clock);
}

}  // namespace vault::engines
