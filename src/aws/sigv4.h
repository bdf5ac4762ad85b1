// AWS Signature Version 4 for the IAM and STS Query APIs: canonical request, string to sign,
// signing key and the Authorization header, byte-compatible with botocore's SigV4Auth (checked
// against vectors botocore generated: testdata/sigv4_vectors.json).
//
// What is signed: every request header except Authorization, User-Agent, Expect and
// X-Amzn-Trace-Id (botocore's exclusions), plus Host (derived from the URL when not given: lower
// case, default port dropped), X-Amz-Date and, for session credentials, X-Amz-Security-Token.
// The payload hash is hex SHA-256 of the body (X-Amz-Content-SHA256 is honoured when present but
// never added: IAM and STS do not need it). The path is normalised (dot segments and empty
// segments removed) and percent-encoded once more, as for every service but S3; the query string
// is taken as written in the URL (already encoded) and sorted.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "aws/api.h"
#include "crypto/hash.h"
#include "net/http_client.h"
#include "util/lock_annotations.h"

namespace vault::aws {

// The intermediate strings, for tests and debugging. None of them contains the secret key; the
// canonical request contains the session token when there is one (a header value), so do not log
// it either.
struct SigV4Parts {
  std::string amz_date;  // YYYYMMDD'T'HHMMSS'Z'
  std::string canonical_request;
  std::string signed_headers;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header value
};

// Signs requests for one (credentials, region, service). Thread-safe; caches the derived signing
// key for the current date, prepared as an HMAC key (no key expansion per request). Holds the
// secret key and wipes it on destruction.
class SigV4Signer {
 public:
  SigV4Signer(Credentials credentials, std::string region, std::string service);
  ~SigV4Signer();
  SigV4Signer(const SigV4Signer&) = delete;
  SigV4Signer& operator=(const SigV4Signer&) = delete;

  // Adds (replacing any previous) X-Amz-Date, X-Amz-Security-Token when the credentials have a
  // session token, and Authorization to request.headers, signed as of `unix_seconds`. Returns the
  // intermediate strings.
  SigV4Parts Sign(net::HttpRequest& request, int64_t unix_seconds) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }
  const std::string& access_key_id() const { return credentials_.access_key_id; }

 private:
  // HMAC under the day's signing key, prepared once per date.
  std::shared_ptr<const crypto::HmacSha256Key> SigningMac(const std::string& date) const;

  Credentials credentials_;
  std::string region_;
  std::string service_;
  mutable std::mutex mu_;
  mutable std::string cached_date_ GUARDED_BY(mu_);
  mutable std::shared_ptr<const crypto::HmacSha256Key> cached_mac_ GUARDED_BY(mu_);
};

// Building blocks (exposed for tests).

// "20261123T182654Z" for a Unix time.
std::string FormatAmzDate(int64_t unix_seconds);
// kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request".
// Raw 32 bytes.
std::string DeriveSigningKey(std::string_view secret_key, std::string_view date,
                             std::string_view region, std::string_view service);
// The Host header value botocore derives from a URL: lower-case host, port unless the scheme's
// default, userinfo dropped, IPv6 literals in brackets.
std::string HostFromUrl(std::string_view url);
// botocore's canonical URI: remove dot and empty segments, then percent-encode all but unreserved
// characters and '/'.
std::string CanonicalUri(std::string_view url_path);

}  // namespace vault::aws
