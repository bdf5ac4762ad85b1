// vault::ParseJson (util/json.h), the parser of every request body and stored document.
//
// Invariants: it never throws or crashes; what it accepts nests at most kMaxJsonDepth deep,
// serializes without throwing, and its serialization parses back to the same serialization.
// An input whose first byte is 0xFF is parsed wrapped in kMaxJsonDepth - 1 arrays (the rest of
// the input inside), so that the nesting limit itself is exercised at its edge.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/json.h"

namespace {

// The nesting depth of a document (a scalar is 0, [] is 1), walked without recursion.
int Depth(const vault::Json& root) {
  int deepest = 0;
  std::vector<std::pair<const vault::Json*, int>> todo = {{&root, 0}};
  while (!todo.empty()) {
    auto [j, depth] = todo.back();
    todo.pop_back();
    if (!j->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const auto& child : *j) todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

// `wrapped`: the document is the input inside kMaxJsonDepth - 1 arrays; then only the limit and
// one serialization (the recursion the limit protects) are checked, the rest being slow at that
// depth.
void Check(std::string_view text, bool wrapped) {
  vault::Result<vault::Json> j = vault::ParseJson(text);
  if (!j.ok()) return;
  const int depth = Depth(*j);
  if (depth > vault::kMaxJsonDepth) __builtin_trap();
  std::string dumped = vault::DumpJson(*j);
  if (wrapped) return;
  vault::Result<vault::Json> again = vault::ParseJson(dumped);
  if (!again.ok()) __builtin_trap();
  if (vault::DumpJson(*again) != dumped) __builtin_trap();
  vault::DumpJsonPretty(*j);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!text.empty() && static_cast<unsigned char>(text[0]) == 0xFF) {
    const size_t wrap = vault::kMaxJsonDepth - 1;
    std::string nested(wrap, '[');
    nested.append(text.substr(1));
    nested.append(wrap, ']');
    Check(nested, /*wrapped=*/true);
    return 0;
  }
  Check(text, /*wrapped=*/false);
  return 0;
}
