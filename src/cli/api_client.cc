#include "cli/api_client.h"

#include <cctype>

#include "cli/format.h"

namespace vault::cli {
namespace {

// Go's http.Client error prefix: the method with only its first letter capitalized.
std::string GoMethodName(std::string_view method) {
  std::string out;
  for (size_t i = 0; i < method.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(method[i]);
    out += static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

}  // namespace

std::string UrlEscape(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

StatusCode StatusCodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 405:
      return StatusCode::kUnsupportedOperation;
    case 409:
      return StatusCode::kAlreadyExists;
    case 413:
      return StatusCode::kPayloadTooLarge;
    case 429:
      return StatusCode::kRateLimited;
    case 501:
      return StatusCode::kUnimplemented;
    case 502:
      return StatusCode::kUpstream;
    case 503:
      return StatusCode::kUnavailable;
    default:
      return http_status >= 400 && http_status < 500 ? StatusCode::kInvalidArgument
                                                     : StatusCode::kInternal;
  }
}

ApiClient::ApiClient(std::string address, std::string token, HttpTransport* transport)
    : address_(std::move(address)), token_(std::move(token)), transport_(transport) {
  while (!address_.empty() && address_.back() == '/') address_.pop_back();
}

std::string ApiClient::Url(std::string_view path, const QueryParams& query) const {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string url = address_ + "/v1/" + UrlEscape(path, /*keep_slash=*/true);
  for (size_t i = 0; i < query.size(); ++i) {
    url += i == 0 ? "?" : "&";
    url += UrlEscape(query[i].first, false) + "=" + UrlEscape(query[i].second, false);
  }
  return url;
}

Result<ApiResponse> ApiClient::Request(std::string_view method, std::string_view path,
                                       const std::optional<Json>& body, const QueryParams& query) {
  auto response = RequestAnyStatus(method, path, body, query);
  if (!response.ok()) return response.status();
  if (!response->error.ok()) return response->error;
  return response;
}

Result<ApiResponse> ApiClient::RequestAnyStatus(std::string_view method, std::string_view path,
                                                const std::optional<Json>& body,
                                                const QueryParams& query,
                                                const HttpHeaders& headers) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = Url(path, query);
  if (!token_.empty()) request.headers.emplace_back("X-Vault-Token", token_);
  request.headers.emplace_back("X-Vault-Request", "true");
  if (!wrap_ttl_.empty()) request.headers.emplace_back("X-Vault-Wrap-TTL", wrap_ttl_);
  for (const auto& header : headers) request.headers.push_back(header);
  if (body.has_value()) request.body = DumpJson(*body);

  auto response = transport_->Do(request);
  if (!response.ok()) {
    return Status(response.status().code(), GoMethodName(method) + " \"" + request.url +
                                                "\": " + response.status().message());
  }
  ApiResponse out;
  out.status = response->status;
  if (response->status < 200 || response->status >= 300) {
    out.error =
        Status(StatusCodeForHttp(response->status),
               FormatApiError(request.method, response->url, response->status, response->body));
  }
  out.body = std::move(response->body);
  if (!out.body.empty()) {
    auto parsed = ParseJson(out.body);
    if (parsed.ok()) out.json = std::move(parsed).value();
  }
  return out;
}

}  // namespace vault::cli
