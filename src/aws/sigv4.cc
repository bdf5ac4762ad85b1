#include "aws/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "crypto/hash.h"
#include "util/encoding.h"
#include "util/strings.h"

namespace vault::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// Splits a URL into (scheme, authority, path, query); fragment dropped.
struct UrlParts {
  std::string_view scheme, authority, path, query;
};
UrlParts SplitUrl(std::string_view url) {
  UrlParts p;
  size_t scheme_end = url.find("://");
  size_t pos = 0;
  if (scheme_end != std::string_view::npos) {
    p.scheme = url.substr(0, scheme_end);
    pos = scheme_end + 3;
  }
  size_t hash = url.find('#', pos);
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  size_t auth_end = url.find_first_of("/?", pos);
  p.authority = url.substr(pos, auth_end == std::string_view::npos ? url.npos : auth_end - pos);
  if (auth_end == std::string_view::npos) return p;
  std::string_view rest = url.substr(auth_end);
  size_t q = rest.find('?');
  if (q == std::string_view::npos) {
    p.path = rest;
  } else {
    p.path = rest.substr(0, q);
    p.query = rest.substr(q + 1);
  }
  return p;
}

// botocore._canonical_query_string_url: pairs split on '&' and the first '=', sorted, as written.
std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  size_t start = 0;
  for (;;) {
    size_t amp = query.find('&', start);
    std::string_view pair = query.substr(start, amp == query.npos ? query.npos : amp - start);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      pairs.emplace_back(pair, std::string_view());
    } else {
      pairs.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    }
    if (amp == query.npos) break;
    start = amp + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out += '&';
    out += pairs[i].first;
    out += '=';
    out += pairs[i].second;
  }
  return out;
}

// Python's ' '.join(value.split()): trim and collapse runs of ASCII whitespace.
std::string TrimAll(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char ch : v) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += ch;
  }
  return out;
}

bool IsExcludedHeader(const std::string& lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id";
}

void RemoveHeader(net::HttpHeaders& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); });
}

}  // namespace

std::string FormatAmzDate(int64_t unix_seconds) {
  // The proleptic Gregorian date of a day count (Howard Hinnant's civil_from_days), by hand: every
  // signed request needs it, and gmtime_r + strftime run a lot of cold code for sixteen digits.
  int64_t days = unix_seconds / 86400;
  int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;                                    // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;                           // [1, 31]
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;                            // [1, 12]
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::string out;
  out.reserve(16);
  AppendZeroPadded(&out, static_cast<uint64_t>(std::max<int64_t>(year, 0)), 4);
  AppendZeroPadded(&out, static_cast<uint64_t>(month), 2);
  AppendZeroPadded(&out, static_cast<uint64_t>(day), 2);
  out += 'T';
  AppendZeroPadded(&out, static_cast<uint64_t>(secs / 3600), 2);
  AppendZeroPadded(&out, static_cast<uint64_t>(secs / 60 % 60), 2);
  AppendZeroPadded(&out, static_cast<uint64_t>(secs % 60), 2);
  out += 'Z';
  return out;
}

std::string DeriveSigningKey(std::string_view secret_key, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string k = "AWS4";
  k += secret_key;
  std::string k_date = crypto::HmacSha256(k, date);
  OPENSSL_cleanse(k.data(), k.size());
  std::string k_region = crypto::HmacSha256(k_date, region);
  std::string k_service = crypto::HmacSha256(k_region, service);
  std::string k_signing = crypto::HmacSha256(k_service, "aws4_request");
  OPENSSL_cleanse(k_date.data(), k_date.size());
  OPENSSL_cleanse(k_region.data(), k_region.size());
  OPENSSL_cleanse(k_service.data(), k_service.size());
  return k_signing;
}

std::string HostFromUrl(std::string_view url) {
  UrlParts p = SplitUrl(url);
  std::string_view auth = p.authority;
  size_t at = auth.rfind('@');
  if (at != std::string_view::npos) auth = auth.substr(at + 1);
  std::string_view host = auth, port;
  if (!auth.empty() && auth.front() == '[') {
    size_t close = auth.find(']');
    host = auth.substr(0, close == auth.npos ? auth.npos : close + 1);
    if (close != auth.npos && close + 1 < auth.size() && auth[close + 1] == ':') {
      port = auth.substr(close + 2);
    }
  } else {
    size_t colon = auth.rfind(':');
    if (colon != std::string_view::npos) {
      host = auth.substr(0, colon);
      port = auth.substr(colon + 1);
    }
  }
  std::string out = ToLower(host);
  std::string scheme = ToLower(p.scheme);
  // Python's urlsplit reports int(port); "0443" is 443. Compare numerically. A port that is not
  // a number up to 65535 (which botocore refuses) is kept as written.
  if (!port.empty()) {
    uint32_t n = 0;
    bool numeric = true;
    for (char c : port) {
      if (c < '0' || c > '9') {
        numeric = false;
        break;
      }
      n = std::min<uint32_t>(n * 10 + static_cast<uint32_t>(c - '0'), 100000);  // saturates
    }
    if (!numeric || n > 65535) {
      out += ':';
      out += port;
    } else if (!((scheme == "https" && n == 443) || (scheme == "http" && n == 80))) {
      out += ":" + std::to_string(n);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  // botocore.utils.remove_dot_segments (it also drops empty segments).
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == path.npos ? path.npos : slash - start);
    if (!seg.empty() && seg != ".") {
      if (seg == "..") {
        if (!out.empty()) out.pop_back();
      } else {
        out.push_back(seg);
      }
    }
    if (slash == path.npos) break;
    start = slash + 1;
  }
  std::string normalized = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) normalized += '/';
    normalized += out[i];
  }
  if (path.back() == '/' && !out.empty()) normalized += '/';
  // quote(normalized, safe='/~')
  static const char* kHex = "0123456789ABCDEF";
  std::string encoded;
  for (char ch : normalized) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || c == '/') {
      encoded += ch;
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return encoded;
}

SigV4Signer::SigV4Signer(Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

SigV4Signer::~SigV4Signer() {
  OPENSSL_cleanse(credentials_.secret_access_key.data(), credentials_.secret_access_key.size());
}

std::shared_ptr<const crypto::HmacSha256Key> SigV4Signer::SigningMac(
    const std::string& date) const {
  std::lock_guard lock(mu_);
  if (cached_date_ != date || !cached_mac_) {
    std::string key = DeriveSigningKey(credentials_.secret_access_key, date, region_, service_);
    cached_mac_ = std::make_shared<const crypto::HmacSha256Key>(key);
    OPENSSL_cleanse(key.data(), key.size());
    cached_date_ = date;
  }
  return cached_mac_;
}

SigV4Parts SigV4Signer::Sign(net::HttpRequest& request, int64_t unix_seconds) const {
  SigV4Parts parts;
  parts.amz_date = FormatAmzDate(unix_seconds);
  const std::string date = parts.amz_date.substr(0, 8);

  RemoveHeader(request.headers, "Authorization");
  RemoveHeader(request.headers, "X-Amz-Date");
  request.headers.emplace_back("X-Amz-Date", parts.amz_date);
  if (!credentials_.session_token.empty()) {
    RemoveHeader(request.headers, "X-Amz-Security-Token");
    request.headers.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }

  // Canonical headers: lower-case names, sorted; repeated names joined with ','.
  std::map<std::string, std::string> canon;
  for (const auto& [name, value] : request.headers) {
    std::string lname = ToLower(name);
    if (IsExcludedHeader(lname)) continue;
    auto [it, inserted] = canon.emplace(lname, TrimAll(value));
    if (!inserted) it->second += "," + TrimAll(value);
  }
  if (!canon.contains("host")) canon.emplace("host", HostFromUrl(request.url));

  std::string canonical_headers;
  for (const auto& [k, v] : canon) {
    canonical_headers.append(k).append(":").append(v).append("\n");
    if (!parts.signed_headers.empty()) parts.signed_headers += ';';
    parts.signed_headers += k;
  }

  const std::string* content_sha = net::FindHeader(request.headers, "X-Amz-Content-SHA256");
  std::string payload_hash =
      content_sha != nullptr ? *content_sha : HexEncode(crypto::Sha256(request.body));

  UrlParts url = SplitUrl(request.url);
  std::string method = request.method;
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // Built by appending into one reserved string each (no chain of temporaries).
  std::string& creq = parts.canonical_request;
  creq.reserve(method.size() + url.path.size() + url.query.size() + canonical_headers.size() +
               parts.signed_headers.size() + payload_hash.size() + 16);
  creq.append(method).append("\n").append(CanonicalUri(url.path)).append("\n");
  creq.append(CanonicalQuery(url.query)).append("\n").append(canonical_headers).append("\n");
  creq.append(parts.signed_headers).append("\n").append(payload_hash);

  std::string scope;
  scope.reserve(date.size() + region_.size() + service_.size() + 16);
  scope.append(date).append("/").append(region_).append("/").append(service_).append(
      "/aws4_request");
  std::string& sts = parts.string_to_sign;
  sts.reserve(kAlgorithm.size() + parts.amz_date.size() + scope.size() + 68);
  sts.append(kAlgorithm)
      .append("\n")
      .append(parts.amz_date)
      .append("\n")
      .append(scope)
      .append("\n");
  sts.append(HexEncode(crypto::Sha256(creq)));
  parts.signature = HexEncode(SigningMac(date)->Mac(sts));
  std::string& auth = parts.authorization;
  auth.reserve(kAlgorithm.size() + credentials_.access_key_id.size() + scope.size() +
               parts.signed_headers.size() + parts.signature.size() + 48);
  auth.append(kAlgorithm).append(" Credential=").append(credentials_.access_key_id).append("/");
  auth.append(scope).append(", SignedHeaders=").append(parts.signed_headers);
  auth.append(", Signature=").append(parts.signature);
  request.headers.emplace_back("Authorization", parts.authorization);
  return parts;
}

}  // namespace vault::aws
