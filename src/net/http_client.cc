#include "net/http_client.h"

#include "util/strings.h"

namespace vault::net {

const std::string* FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

Task<Result<HttpResponse>> HttpClient::SendAsync(HttpRequest request) {
  co_return co_await AwaitCallback<Result<HttpResponse>>(
      [&](Callback cb) { Send(std::move(request), std::move(cb)); });
}

Task<bool> SleepFor(Timer* timer, int64_t delay_ms) {
  co_return co_await AwaitCallback<bool>(
      [&](std::function<void(bool)> cb) { timer->RunAfter(delay_ms, [cb] { cb(true); }); });
}

std::string DescribeRequest(std::string_view method, std::string_view url) {
  std::string out(method);
  out += ' ';
  size_t scheme_end = url.find("://");
  size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t path_start = url.find_first_of("/?#", authority_start);
  std::string_view authority = url.substr(authority_start, path_start == std::string_view::npos
                                                               ? std::string_view::npos
                                                               : path_start - authority_start);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view path;
  if (path_start != std::string_view::npos) {
    path = url.substr(path_start);
    size_t q = path.find_first_of("?#");
    if (q != std::string_view::npos) path = path.substr(0, q);
  }
  out += url.substr(0, authority_start);
  out += authority;
  out += path.empty() ? "/" : path;
  return out;
}

}  // namespace vault::net
