#include "util/json.h"

namespace vault {
namespace {

// The deepest nesting of arrays and objects in `text`, counted outside strings, stopping as soon
// as it exceeds `limit`. nlohmann parses any depth, but serializing and walking a document are
// recursive: a body nested 100,000 deep overflows a thread's stack there. Checked before the
// parse, so a hostile body costs one linear scan and no allocation.
bool NestingExceeds(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character (a quote or backslash must not end the string)
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > limit) return true;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

Result<Json> ParseJson(std::string_view text) {
  if (NestingExceeds(text, kMaxJsonDepth)) {
    // Go's encoding/json (Vault's parser) refuses the same depth with this reason.
    return InvalidArgument("failed to parse JSON input: exceeded max depth");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's messages start with "[json.exception.parse_error.101] "; drop the tag.
    auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return InvalidArgument("failed to parse JSON input: " + what);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("failed to parse JSON input: ") + e.what());
  }
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string DumpJsonPretty(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace vault
