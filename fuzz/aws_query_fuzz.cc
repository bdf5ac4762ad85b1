// The AWS request encoders on arbitrary keys and values: PercentEncode, FormEncode and
// QueryUnescape (aws/query.h), a QueryRequest's body, and SigV4 signing (aws/sigv4.h) of a
// request with arbitrary URL, headers and body. The date parser ParseIso8601 on arbitrary text.
//
// Invariants: no throw or crash; both encoders produce only unreserved characters, '%XX' (and
// '+' for FormEncode), and QueryUnescape gives back the original; a Query body splits at '&' and
// '=' into exactly the parameters added, each decoding to what was added; a signature is 64
// lower-case hex digits.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aws/query.h"
#include "aws/sigv4.h"
#include "util/strings.h"

namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}
bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Only unreserved characters and %XX (upper-case hex), and '+' when `plus` is allowed.
void CheckEncoded(const std::string& s, bool plus) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsUnreserved(s[i]) || (plus && s[i] == '+')) continue;
    if (s[i] != '%' || i + 2 >= s.size() || !IsUpperHex(s[i + 1]) || !IsUpperHex(s[i + 2]))
      __builtin_trap();
    i += 2;
  }
}

void CheckRoundTrip(const std::string& s) {
  std::string p = vault::aws::PercentEncode(s);
  CheckEncoded(p, false);
  auto back = vault::aws::QueryUnescape(p);
  if (!back.ok() || *back != s) __builtin_trap();
  std::string f = vault::aws::FormEncode(s);
  CheckEncoded(f, true);
  back = vault::aws::QueryUnescape(f);
  if (!back.ok() || *back != s) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vault::aws;
  FuzzedDataProvider in(data, size);

  std::string action = in.ConsumeRandomLengthString(64);
  std::string version = in.ConsumeRandomLengthString(32);
  CheckRoundTrip(action);
  QueryRequest q(action, version);
  std::vector<std::pair<std::string, std::string>> added = {{"Action", action},
                                                            {"Version", version}};
  const int params = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < params; ++i) {
    std::string k = in.ConsumeRandomLengthString(64);
    std::string v = in.ConsumeRandomLengthString(256);
    CheckRoundTrip(k);
    CheckRoundTrip(v);
    q.Add(k, v);
    added.emplace_back(k, v);
  }
  if (in.ConsumeBool()) {
    std::vector<std::string> list = {in.ConsumeRandomLengthString(32),
                                     in.ConsumeRandomLengthString(32)};
    std::string name = in.ConsumeRandomLengthString(16);
    std::string field = in.ConsumeRandomLengthString(8);
    q.AddList(name, list, field);
    for (size_t i = 0; i < list.size(); ++i) {
      std::string key = name + ".member." + std::to_string(i + 1);
      if (!field.empty()) key += "." + field;
      added.emplace_back(key, list[i]);
    }
  }
  std::string body = q.Body();
  std::vector<std::string> pairs = vault::Split(body, '&');
  if (pairs.size() != added.size()) __builtin_trap();
  for (size_t i = 0; i < pairs.size(); ++i) {
    size_t eq = pairs[i].find('=');
    if (eq == std::string::npos) __builtin_trap();
    auto k = QueryUnescape(std::string_view(pairs[i]).substr(0, eq));
    auto v = QueryUnescape(std::string_view(pairs[i]).substr(eq + 1));
    if (!k.ok() || !v.ok() || *k != added[i].first || *v != added[i].second) __builtin_trap();
  }

  vault::aws::Credentials creds;
  creds.access_key_id = in.ConsumeRandomLengthString(32);
  creds.secret_access_key = in.ConsumeRandomLengthString(64);
  if (in.ConsumeBool()) creds.session_token = in.ConsumeRandomLengthString(128);
  SigV4Signer signer(creds, in.ConsumeRandomLengthString(24), in.ConsumeRandomLengthString(8));
  vault::net::HttpRequest req;
  req.method = in.ConsumeRandomLengthString(8);
  req.url = in.ConsumeRandomLengthString(256);
  const int headers = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < headers; ++i) {
    std::string name = in.ConsumeRandomLengthString(32);
    req.headers.emplace_back(name, in.ConsumeRandomLengthString(64));
  }
  req.body = body;
  // Signing times come from the clock: from 1970 to the year 9999.
  int64_t now = in.ConsumeIntegralInRange<int64_t>(0, 253402300799);
  SigV4Parts parts = signer.Sign(req, now);
  if (parts.signature.size() != 64) __builtin_trap();
  for (char c : parts.signature) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) __builtin_trap();
  }
  if (parts.amz_date.size() != 16) __builtin_trap();

  std::string rest = in.ConsumeRemainingBytesAsString();
  HostFromUrl(rest);
  CanonicalUri(rest);
  (void)ParseIso8601(rest);
  (void)QueryUnescape(rest);
  return 0;
}
