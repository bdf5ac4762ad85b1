// The ACL: the rules of a token's policies merged into one prefix tree, answering "which
// capabilities does this token have on this path" in time proportional to the path length
// (never a scan of every rule), with Vault's precedence:
//   1. an exact rule for the path wins;
//   2. otherwise, among glob ('*' suffix) and segment-wildcard ('+') rules that match, the one
//      whose first wildcard/glob comes latest; then non-glob over glob; then fewer '+'
//      segments; then the longer pattern; then the lexically greater pattern
//      (vault/acl.go CheckAllowedFromNonExactPaths);
//   3. for list operations the path without its trailing '/' is tried as well.
// Rules for the same pattern in several policies are OR-ed, except that deny clears them all.
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/policy.h"
#include "logical/logical.h"

namespace vault::core {

// The capability an operation needs (kHelp needs none: 0).
uint32_t RequiredCapability(logical::Operation op);

class Acl {
 public:
  // `root` grants everything (the root policy).
  Acl(const std::vector<std::shared_ptr<const Policy>>& policies, bool root);
  ~Acl();
  Acl(const Acl&) = delete;
  Acl& operator=(const Acl&) = delete;

  bool root() const { return root_; }
  // The capability bitmap of the best-matching rule for path (0 if none; kCapDeny if denied).
  // For the root ACL: every capability.
  uint32_t Capabilities(std::string_view path, bool list = false) const;
  // Whether some rule for a path under `prefix` (or matching it) grants anything but deny: what
  // the UI's mount preflight (sys/internal/ui/mounts/<path>) asks of a mount. Root: true.
  bool GrantsUnder(std::string_view prefix) const;
  // Whether op on path is allowed; with sudo_required, the rule must also grant sudo.
  bool Allowed(logical::Operation op, std::string_view path, bool sudo_required) const;

 private:
  struct Node;
  struct Match;
  void Insert(const PathRule& rule);
  // Walks the tree; true with *exact set if an exact rule matched.
  void Walk(std::string_view path, Match* m) const;

  bool root_;
  std::unique_ptr<Node> tree_;
};

// True if path matches one of the glob patterns (a trailing '*' matches any suffix), as the
// root-path lists of engines are written.
bool MatchesAnyGlob(const std::vector<std::string>& patterns, std::string_view path);

}  // namespace vault::core
