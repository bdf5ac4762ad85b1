#include "http/ui.h"

#include <algorithm>
#include <string>

#include "util/strings.h"

namespace vault::http {
namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";

void AddSecurityHeaders(HttpResponse* r) {
  r->headers.emplace_back("Content-Security-Policy", std::string(kUiContentSecurityPolicy));
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("X-Frame-Options", "DENY");
  r->headers.emplace_back("Referrer-Policy", "no-referrer");
  r->headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r->headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

HttpResponse UiError(int status, const std::string& message) {
  HttpResponse r = ErrorResponse(
      status, message.empty() ? std::vector<std::string>{} : std::vector<std::string>{message});
  AddSecurityHeaders(&r);
  return r;
}

HttpResponse Redirect(std::string location) {
  HttpResponse r;
  r.status = 307;
  r.location = std::move(location);
  r.content_type = "text/plain; charset=utf-8";
  AddSecurityHeaders(&r);
  return r;
}

// Whether an Accept-Encoding header accepts gzip (gzip or *, without q=0).
bool AcceptsGzip(std::string_view header) {
  for (const std::string& item : Split(header, ',')) {
    std::string_view part = item;
    const std::string name = Trim(part.substr(0, part.find(';')));
    if (!EqualsIgnoreCase(name, "gzip") && name != "*") continue;
    size_t q = part.find("q=");
    if (q == std::string_view::npos) return true;
    const std::string value = Trim(part.substr(q + 2));
    // q=0, q=0.0, q=0.000: refused; anything else accepts.
    if (value.empty() || value.find_first_not_of("0.") != std::string::npos) return true;
  }
  return false;
}

bool IsHashedAsset(std::string_view path) { return path.rfind("assets/", 0) == 0; }

}  // namespace

const UiAsset* FindUiAsset(std::string_view path) {
  std::span<const UiAsset> all = UiAssets();
  auto it = std::lower_bound(
      all.begin(), all.end(), path,
      [](const UiAsset& a, std::string_view p) { return std::string_view(a.path) < p; });
  if (it == all.end() || std::string_view(it->path) != path) return nullptr;
  return &*it;
}

std::string_view UiContentType(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

HttpResponse ServeUi(const HttpRequest& req, std::string_view path) {
  if (path == "/" || path == "/ui") {
    if (req.method != "GET" && req.method != "HEAD") return UiError(405, "");
    return Redirect("/ui/");
  }
  if (path.rfind("/ui/", 0) != 0) return ErrorResponse(404, {});
  std::string_view rel = path.substr(4);
  for (const std::string& seg : Split(rel, '/')) {
    if (seg == "." || seg == ".." || seg.find('\\') != std::string::npos ||
        seg.find('\0') != std::string::npos)
      return UiError(400, "invalid UI path");
  }
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = UiError(405, "");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const UiAsset* asset = rel.empty() ? nullptr : FindUiAsset(rel);
  if (asset == nullptr) {
    // The build's own files are all listed: a missing one is a 404, not the app.
    if (IsHashedAsset(rel)) return UiError(404, "");
    asset = FindUiAsset("index.html");
    if (asset == nullptr) return UiError(404, "the web UI is not built into this binary");
    rel = "index.html";
  }
  HttpResponse r;
  r.content_type = std::string(UiContentType(rel));
  r.cache_control = std::string(IsHashedAsset(rel) ? kImmutable : kRevalidate);
  if (asset->gzip != nullptr) {
    r.headers.emplace_back("Vary", "Accept-Encoding");
    if (AcceptsGzip(req.Header("Accept-Encoding"))) {
      r.headers.emplace_back("Content-Encoding", "gzip");
      r.body.assign(reinterpret_cast<const char*>(asset->gzip), asset->gzip_size);
    }
  }
  if (r.body.empty()) r.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  AddSecurityHeaders(&r);
  return r;
}

}  // namespace vault::http
