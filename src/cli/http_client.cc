#include "cli/http_client.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "util/strings.h"

namespace vault::cli {
namespace {

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100 Continue or similar)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    headers->emplace_back(ToLower(Trim(line.substr(0, colon))), Trim(line.substr(colon + 1)));
  }
  return size * count;
}

// "scheme://host:port/..." -> "host:port" with the scheme's default port filled in.
std::string HostPort(std::string_view url) {
  bool https = url.starts_with("https://");
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority(url.substr(start, end == std::string_view::npos ? url.npos : end - start));
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  bool has_port = authority.starts_with("[") ? authority.find("]:") != std::string::npos
                                             : authority.find(':') != std::string::npos;
  if (!has_port) authority += https ? ":443" : ":80";
  return authority;
}

std::string HostOnly(std::string_view url) {
  std::string hp = HostPort(url);
  size_t colon = hp.rfind(':');
  return colon == std::string::npos ? hp : hp.substr(0, colon);
}

std::string LowerFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Maps a libcurl failure to the text Go's net/http would have produced for the same failure.
std::string DescribeCurlError(CURLcode code, CURL* curl, const std::string& url,
                              const char* errbuf) {
  std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  switch (code) {
    case CURLE_COULDNT_CONNECT: {
      std::string target = HostPort(url);
      char* ip = nullptr;
      if (curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip) {
        std::string port = target.substr(target.rfind(':') + 1);
        std::string host = ip;
        target = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
      }
      std::string reason = os_errno != 0 ? LowerFirst(std::strerror(static_cast<int>(os_errno)))
                                         : "connection refused";
      return "dial tcp " + target + ": connect: " + reason;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      return "dial tcp: lookup " + HostOnly(url) + ": no such host";
    case CURLE_OPERATION_TIMEDOUT:
      return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
    case CURLE_PEER_FAILED_VERIFICATION:
      return "tls: failed to verify certificate: x509: " + detail;
    case CURLE_SSL_CONNECT_ERROR:
      if (detail.find("wrong version number") != std::string::npos ||
          detail.find("packet length too long") != std::string::npos) {
        return "http: server gave HTTP response to HTTPS client";
      }
      return "tls: " + detail;
    case CURLE_GOT_NOTHING:
      return "EOF";
    default:
      return detail;
  }
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  std::string lower = ToLower(name);
  for (const auto& [key, value] : headers) {
    if (key == lower) return value;
  }
  return "";
}

std::string ResolveLocation(std::string_view base_url, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  size_t scheme_end = base_url.find("://");
  size_t path_start = scheme_end == std::string_view::npos ? 0 : base_url.find('/', scheme_end + 3);
  std::string origin(base_url.substr(0, path_start));
  if (location.starts_with("/")) return origin + std::string(location);
  return origin + "/" + std::string(location);
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  GlobalInitOnce();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<HttpResponse> HttpClient::Do(const HttpRequest& request) {
  HttpRequest current = request;
  for (int hop = 0;; ++hop) {
    ASSIGN_OR_RETURN(HttpResponse response, DoOnce(current));
    std::string location = response.Header("location");
    if (response.status != 307 || location.empty() || hop >= options_.max_redirects) {
      return response;
    }
    current.url = ResolveLocation(current.url, location);
  }
}

Result<HttpResponse> HttpClient::DoOnce(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Internal("curl_easy_init failed");
  curl_easy_reset(curl);

  HttpResponse response;
  response.url = request.url;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, options_.timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (options_.tls_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.ca_cert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_cert.c_str());
  if (!options_.ca_path.empty()) curl_easy_setopt(curl, CURLOPT_CAPATH, options_.ca_path.c_str());

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.body.has_value()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body->size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->data());
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  bool empty_write =
      !request.body.has_value() && (request.method == "PUT" || request.method == "POST");
  if (empty_write) {
    // An explicit "Content-Length: 0", as Go sends for a body-less PUT, without curl's default
    // form content type.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* header_list = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (ToLower(name) == "content-type") has_content_type = true;
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  }
  if (request.body.has_value() && !has_content_type) {
    header_list = curl_slist_append(header_list, "Content-Type: application/json");
  }
  if (empty_write && !has_content_type)
    header_list = curl_slist_append(header_list, "Content-Type:");
  header_list = curl_slist_append(header_list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(header_list);
  if (code != CURLE_OK) {
    return Unavailable(DescribeCurlError(code, curl, request.url, errbuf));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace vault::cli
