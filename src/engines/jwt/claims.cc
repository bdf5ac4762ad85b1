#include "engines/jwt/claims.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace vault::engines::jwt {
namespace {

// A claim value as the plugin compares it: Go's claims are decoded without UseNumber and
// getClaim turns float64 into an integer json.Number; bound values are decoded with UseNumber,
// so their number text is kept ("42.0" stays "42.0" and matches nothing).
struct Scalar {
  enum Kind { kString, kBool, kNumber, kOther } kind = kOther;
  std::string text;
  bool operator==(const Scalar& o) const {
    return kind == o.kind && kind != kOther && text == o.text;
  }
};

// A float claim truncated to an integer as Go's int(v) does; nullopt when out of range.
std::optional<int64_t> TruncateDouble(double d) {
  if (!std::isfinite(d) || d >= 9223372036854775807.0 || d <= -9223372036854775808.0)
    return std::nullopt;
  return static_cast<int64_t>(d);
}

std::optional<std::string> NumberText(const Json& v, bool truncate_floats) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float() && truncate_floats) {
    auto t = TruncateDouble(v.get<double>());
    if (t) return std::to_string(*t);
  }
  return std::nullopt;
}

Scalar TokenScalar(const Json& v) {
  if (v.is_string()) return {Scalar::kString, v.get<std::string>()};
  if (v.is_boolean()) return {Scalar::kBool, v.get<bool>() ? "true" : "false"};
  if (auto n = NumberText(v, true)) return {Scalar::kNumber, *n};
  return {};
}

Scalar BoundScalar(const Json& v) {
  if (v.is_string()) return {Scalar::kString, v.get<std::string>()};
  if (v.is_boolean()) return {Scalar::kBool, v.get<bool>() ? "true" : "false"};
  if (auto n = NumberText(v, false)) return {Scalar::kNumber, *n};
  return {};
}

// normalizeList: a list as is, a scalar as a list of one; nullopt for objects (and null).
std::optional<std::vector<const Json*>> NormalizeList(const Json& v) {
  std::vector<const Json*> out;
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(&e);
    return out;
  }
  if (v.is_string() || v.is_boolean() || v.is_number()) {
    out.push_back(&v);
    return out;
  }
  return std::nullopt;
}

// A NumericDate claim: seconds, fractions truncated, absurd values clamped. 0 when absent.
Result<int64_t> NumericDate(const Json& claims, const char* name) {
  if (!claims.contains(name) || claims[name].is_null()) return int64_t{0};
  const Json& v = claims[name];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return std::numeric_limits<int64_t>::max();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isnan(d))
      return InvalidArgument(std::string("the ") + name + " claim is not a number");
    if (auto t = TruncateDouble(d)) return *t;
    return d > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return InvalidArgument(std::string("expected number for numeric date (") + name + ")");
}

Result<std::string> StringClaim(const Json& claims, const char* name) {
  if (!claims.contains(name) || claims[name].is_null()) return std::string();
  if (!claims[name].is_string())
    return InvalidArgument(std::string("the ") + name + " claim is not a string");
  return claims[name].get<std::string>();
}

// The aud claim as a list: a string, an array of strings, or absent.
Result<std::vector<std::string>> Audience(const Json& claims) {
  std::vector<std::string> out;
  if (!claims.contains("aud") || claims["aud"].is_null()) return out;
  const Json& a = claims["aud"];
  if (a.is_string()) {
    out.push_back(a.get<std::string>());
    return out;
  }
  if (a.is_array()) {
    for (const auto& e : a) {
      if (!e.is_string()) break;
      out.push_back(e.get<std::string>());
    }
    if (out.size() == a.size()) return out;
  }
  return InvalidArgument("the aud claim is not a string or an array of strings");
}

int64_t Leeway(int64_t configured, int64_t default_seconds) {
  if (configured < 0) return 0;
  if (configured == 0) return default_seconds;
  return configured;
}

// Saturating int64 addition (token times are attacker-chosen).
int64_t Add(int64_t a, int64_t b) {
  __int128 r = static_cast<__int128>(a) + b;
  if (r > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (r < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(r);
}

}  // namespace

std::string Quote(std::string_view s) {
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
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

const Json* GetClaim(const Json& claims, std::string_view claim) {
  if (!claims.is_object()) return nullptr;
  if (claim.empty() || claim.front() != '/') {
    auto it = claims.find(std::string(claim));
    if (it == claims.end() || it->is_null()) return nullptr;
    return &*it;
  }
  const Json* cur = &claims;
  size_t pos = 1;
  while (true) {
    size_t slash = claim.find('/', pos);
    std::string_view raw = claim.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
      } else if (i + 1 < raw.size() && raw[i + 1] == '0') {
        token += '~';
        ++i;
      } else if (i + 1 < raw.size() && raw[i + 1] == '1') {
        token += '/';
        ++i;
      } else {
        return nullptr;  // malformed escape
      }
    }
    if (cur->is_object()) {
      auto it = cur->find(token);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      if (token.empty() || token.size() > 9) return nullptr;
      size_t index = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return nullptr;
        index = index * 10 + static_cast<size_t>(c - '0');
      }
      if (index >= cur->size()) return nullptr;
      cur = &(*cur)[index];
    } else {
      return nullptr;
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return cur->is_null() ? nullptr : cur;
}

Status ValidateRegisteredClaims(const Json& claims, const ExpectedClaims& e) {
  ASSIGN_OR_RETURN(std::string iss, StringClaim(claims, "iss"));
  ASSIGN_OR_RETURN(std::string sub, StringClaim(claims, "sub"));
  RETURN_IF_ERROR(StringClaim(claims, "jti").status());
  ASSIGN_OR_RETURN(std::vector<std::string> aud, Audience(claims));
  ASSIGN_OR_RETURN(int64_t exp, NumericDate(claims, "exp"));
  ASSIGN_OR_RETURN(int64_t nbf, NumericDate(claims, "nbf"));
  ASSIGN_OR_RETURN(int64_t iat, NumericDate(claims, "iat"));

  if (!e.issuer.empty() && e.issuer != iss) return InvalidArgument("invalid issuer (iss) claim");
  if (!e.subject.empty() && e.subject != sub) return InvalidArgument("invalid subject (sub) claim");
  if (!e.audiences.empty()) {
    bool found = false;
    for (const auto& want : e.audiences) {
      for (const auto& have : aud) found = found || want == have;
    }
    if (!found)
      return InvalidArgument(
          "invalid audience (aud) claim: audience claim does not match any expected audience");
  }

  if (iat == 0 && exp == 0 && nbf == 0)
    return InvalidArgument(
        "no issued at (iat), not before (nbf), or expiration time (exp) claims in token");
  if (exp == 0) {
    exp = Add(std::max(iat, nbf), Leeway(e.expiration_leeway, kDefaultClaimLeeway));
  }
  if (nbf == 0) {
    nbf = iat != 0 ? iat : Add(exp, -Leeway(e.not_before_leeway, kDefaultClaimLeeway));
  }
  const __int128 kNs = 1000000000;
  const __int128 skew =
      static_cast<__int128>(Leeway(e.clock_skew_leeway, kDefaultClockSkewLeeway)) * kNs;
  const __int128 now = e.now_ns;
  if (now + skew < nbf * kNs)
    return InvalidArgument("invalid not before (nbf) claim: token not yet valid");
  if (now - skew > exp * kNs)
    return InvalidArgument("invalid expiration time (exp) claim: token is expired");
  if (now + skew < iat * kNs)
    return InvalidArgument("invalid issued at (iat) claim: token issued in the future");
  return Status::Ok();
}

bool HasAudience(const Json& claims) {
  if (!claims.contains("aud")) return false;
  const Json& a = claims["aud"];
  if (a.is_string()) return !a.get<std::string>().empty();
  if (a.is_array()) return !a.empty();
  return false;
}

bool GlobMatch(std::string_view pattern, std::string_view subject) {
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == subject;
  // The text before the first '*' is a prefix, the text after the last a suffix, and the pieces
  // between appear in order: taking each at its leftmost place never loses a match.
  std::string_view first = pattern.substr(0, star);
  if (subject.substr(0, first.size()) != first) return false;
  size_t pos = first.size();
  size_t last_star = pattern.rfind('*');
  std::string_view last = pattern.substr(last_star + 1);
  std::string_view middle = pattern.substr(star + 1, last_star - star);  // ends with '*'
  size_t start = 0;
  while (start < middle.size()) {
    size_t next = middle.find('*', start);
    std::string_view piece = middle.substr(start, next - start);
    if (!piece.empty()) {
      size_t at = subject.find(piece, pos);
      if (at == std::string_view::npos) return false;
      pos = at + piece.size();
    }
    start = next + 1;
  }
  return subject.size() >= pos + last.size() &&
         subject.substr(subject.size() - last.size()) == last;
}

Status CheckBoundClaimsValues(const Json& bound, bool glob) {
  if (!bound.is_object()) return Status::Ok();
  for (const auto& [key, value] : bound.items()) {
    auto list = NormalizeList(value);
    if (!list) {
      if (glob) return InvalidArgument("claim is not a string or list: " + DumpJson(value));
      return InvalidArgument("bound claim " + Quote(key) +
                             " is not a string, bool, number or list: " + DumpJson(value));
    }
    for (const Json* v : *list) {
      if (glob && !v->is_string()) return InvalidArgument("claim is not a string: " + DumpJson(*v));
      if (!glob && (v->is_object() || v->is_array() || v->is_null()))
        return InvalidArgument("bound claim " + Quote(key) +
                               " is not a string, bool, number or list: " + DumpJson(value));
    }
  }
  return Status::Ok();
}

Status ValidateBoundClaims(const Json& bound, bool glob, const Json& claims) {
  if (!bound.is_object()) return Status::Ok();
  for (const auto& [key, expected] : bound.items()) {
    const Json* actual = GetClaim(claims, key);
    if (actual == nullptr) return InvalidArgument("claim " + Quote(key) + " is missing");
    auto act = NormalizeList(*actual);
    if (!act)
      return InvalidArgument("received claim " + Quote(key) +
                             " is not a string, bool, int or list");
    auto exp = NormalizeList(expected);
    if (!exp)
      return InvalidArgument("bound claim " + Quote(key) + " is not a string, bool, int or list");
    bool found = false;
    for (const Json* want : *exp) {
      if (glob && !want->is_string())
        return InvalidArgument("bound claim " + Quote(key) + " is not a glob string");
      for (const Json* have : *act) {
        if (glob) {
          found =
              have->is_string() && GlobMatch(want->get<std::string>(), have->get<std::string>());
        } else {
          found = BoundScalar(*want) == TokenScalar(*have);
        }
        if (found) break;
      }
      if (found) break;
    }
    if (!found)
      return InvalidArgument("claim " + Quote(key) +
                             " does not match any associated bound claim values");
  }
  return Status::Ok();
}

Result<std::string> UserClaimValue(const Json& claims, const std::string& user_claim,
                                   bool json_pointer) {
  const Json* v = nullptr;
  if (json_pointer) {
    v = GetClaim(claims, user_claim);
  } else if (claims.is_object() && claims.contains(user_claim)) {
    v = &claims[user_claim];
  }
  if (v == nullptr) return InvalidArgument("claim " + Quote(user_claim) + " not found in token");
  if (!v->is_string())
    return InvalidArgument("claim " + Quote(user_claim) + " could not be converted to string");
  // An empty name would make an alias of nobody; Vault's core refuses such an alias too.
  if (v->get<std::string>().empty())
    return InvalidArgument("claim " + Quote(user_claim) + " is empty");
  return v->get<std::string>();
}

Result<std::map<std::string, std::string>> ExtractMetadata(const Json& claims,
                                                           const Json& claim_mappings) {
  std::map<std::string, std::string> out;
  if (!claim_mappings.is_object()) return out;
  for (const auto& [source, target] : claim_mappings.items()) {
    const Json* v = GetClaim(claims, source);
    if (v == nullptr) continue;
    std::optional<std::string> text;
    if (v->is_string()) {
      text = v->get<std::string>();
    } else {
      text = NumberText(*v, true);
    }
    if (!text) return InvalidArgument("error converting claim '" + source + "' to string");
    out[target.is_string() ? target.get<std::string>() : DumpJson(target)] = *text;
  }
  return out;
}

Result<std::vector<std::string>> GroupsFromClaim(const Json& claims,
                                                 const std::string& groups_claim) {
  const Json* v = GetClaim(claims, groups_claim);
  if (v == nullptr)
    return InvalidArgument("failed to fetch groups: " + Quote(groups_claim) +
                           " claim not found in token");
  auto list = NormalizeList(*v);
  if (!list)
    return InvalidArgument(Quote(groups_claim) + " claim could not be converted to string list");
  std::vector<std::string> out;
  for (const Json* g : *list) {
    if (!g->is_string())
      return InvalidArgument("a value in the groups claim could not be parsed as string");
    if (!g->get<std::string>().empty()) out.push_back(g->get<std::string>());
  }
  return out;
}

}  // namespace vault::engines::jwt
