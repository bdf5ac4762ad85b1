// The web UI: the files of ui/dist, built into the binary (embed_ui.cmake generates the table),
// served at /ui/ under a strict Content-Security-Policy. Knows nothing of Beast or of Core: the UI
// talks to the server only through the public /v1/ API, with the user's token.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "http/handler.h"

namespace vault::http {

// One file of ui/dist. `gzip` is the same file gzip-compressed (null when compression would not
// make it smaller).
struct UiAsset {
  const char* path;  // relative to ui/dist: "index.html", "assets/index-<hash>.js"
  const unsigned char* data;
  size_t size;
  const unsigned char* gzip;
  size_t gzip_size;
};

// Every embedded file, sorted by path (the generated ui_assets.cc).
std::span<const UiAsset> UiAssets();

// The file at `path` (relative to ui/dist), or null.
const UiAsset* FindUiAsset(std::string_view path);

// The Content-Type of a file, by its extension (application/octet-stream when unknown).
std::string_view UiContentType(std::string_view path);

// The policy sent with every UI response: only this origin's scripts, styles, images and API; no
// inline script or style, no plugins, no framing, forms posting only here.
inline constexpr std::string_view kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; require-trusted-types-for 'script'";

// Answers a request for a path outside /v1/ (`path` percent-decoded): "/" and "/ui" redirect to
// "/ui/"; a file of ui/dist is served with its content type (gzip when the client takes it);
// hashed assets may be cached for a year, everything else is revalidated (no-cache); any other
// path under /ui/ is a client-side route and gets index.html, except under /ui/assets/ (404).
// A path with a "." or ".." segment is refused (400); methods other than GET and HEAD are 405;
// paths outside /ui/ are 404. Every answer carries the security headers.
HttpResponse ServeUi(const HttpRequest& req, std::string_view path);

}  // namespace vault::http
