#include "core/acl.h"

#include <tuple>
#include <utility>

namespace vault::core {

using logical::Operation;

uint32_t RequiredCapability(Operation op) {
  switch (op) {
    case Operation::kRead:
      return kCapRead;
    case Operation::kList:
      return kCapList;
    case Operation::kCreate:
      return kCapCreate;
    case Operation::kUpdate:
      return kCapUpdate;
    case Operation::kPatch:
      return kCapPatch;
    case Operation::kDelete:
      return kCapDelete;
    case Operation::kHelp:
      return 0;
    case Operation::kRenew:
    case Operation::kRevoke:
    case Operation::kRollback:
      return kCapUpdate;
  }
  return kCapUpdate;
}

// One character of a pattern per edge; a whole "+" segment is the separate `plus` edge.
struct Acl::Node {
  std::vector<std::pair<char, std::unique_ptr<Node>>> children;
  std::unique_ptr<Node> plus;
  // Rules ending here: `exact` without a trailing '*', `glob` with one.
  bool has_exact = false;
  bool has_glob = false;
  uint32_t exact_caps = 0;
  uint32_t glob_caps = 0;
  // Set when a rule ends here: the pattern (without '*'), its '+' segment count and the
  // index of its first '+' (for precedence among non-exact matches).
  std::string pattern;
  int wildcards = 0;
  size_t first_plus = 0;

  Node* Child(char c) const {
    for (const auto& [k, n] : children) {
      if (k == c) return n.get();
    }
    return nullptr;
  }
  Node* AddChild(char c) {
    if (Node* n = Child(c)) return n;
    children.emplace_back(c, std::make_unique<Node>());
    return children.back().second.get();
  }
};

struct Acl::Match {
  bool exact = false;
  uint32_t exact_caps = 0;
  const Node* best = nullptr;
  bool best_is_prefix = false;
};

namespace {

uint32_t Merge(uint32_t a, uint32_t b) {
  uint32_t m = a | b;
  return (m & kCapDeny) ? uint32_t{kCapDeny} : m;
}

bool IsPlusSegment(std::string_view p, size_t i) {
  return p[i] == '+' && (i == 0 || p[i - 1] == '/') && (i + 1 == p.size() || p[i + 1] == '/');
}

}  // namespace

Acl::Acl(const std::vector<std::shared_ptr<const Policy>>& policies, bool root)
    : root_(root), tree_(std::make_unique<Node>()) {
  for (const auto& p : policies) {
    for (const auto& r : p->rules) Insert(r);
  }
}

Acl::~Acl() {
  // Tear the tree down iteratively: a long pattern would otherwise recurse once per character.
  std::vector<std::unique_ptr<Node>> pending;
  pending.push_back(std::move(tree_));
  while (!pending.empty()) {
    std::unique_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    for (auto& [c, child] : n->children) pending.push_back(std::move(child));
    if (n->plus) pending.push_back(std::move(n->plus));
  }
}

void Acl::Insert(const PathRule& rule) {
  const std::string& p = rule.path;
  Node* n = tree_.get();
  int wildcards = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (IsPlusSegment(p, i)) {
      if (!n->plus) n->plus = std::make_unique<Node>();
      n = n->plus.get();
      ++wildcards;
    } else {
      n = n->AddChild(p[i]);
    }
  }
  n->pattern = p;
  n->wildcards = wildcards;
  n->first_plus = wildcards > 0 ? p.find('+') : 0;
  if (rule.is_prefix) {
    n->glob_caps = n->has_glob ? Merge(n->glob_caps, rule.capabilities) : rule.capabilities;
    n->has_glob = true;
  } else {
    n->exact_caps = n->has_exact ? Merge(n->exact_caps, rule.capabilities) : rule.capabilities;
    n->has_exact = true;
  }
}

void Acl::Walk(std::string_view path, Match* m) const {
  // The precedence key of a non-exact candidate; the greatest wins.
  auto key = [](const Node* n, bool is_prefix) {
    size_t first = n->wildcards > 0 ? n->first_plus : n->pattern.size();
    return std::make_tuple(first, !is_prefix, -n->wildcards, n->pattern.size());
  };
  auto consider = [&](const Node* n, bool is_prefix) {
    if (!m->best) {
      m->best = n;
      m->best_is_prefix = is_prefix;
      return;
    }
    auto a = key(n, is_prefix), b = key(m->best, m->best_is_prefix);
    if (a > b || (a == b && n->pattern > m->best->pattern)) {
      m->best = n;
      m->best_is_prefix = is_prefix;
    }
  };
  // Iterative so that a long path cannot exhaust the stack. Every node is reached at most once
  // (a pattern prefix determines how much of the path it consumed), so the work is bounded by
  // the path length times the number of '+' branches actually present.
  std::vector<std::pair<const Node*, size_t>> stack;
  stack.emplace_back(tree_.get(), 0);
  while (!stack.empty()) {
    auto [n, pos] = stack.back();
    stack.pop_back();
    if (n->has_glob) consider(n, true);
    if (pos == path.size()) {
      if (n->has_exact) {
        if (n->wildcards == 0) {
          m->exact = true;
          m->exact_caps = n->exact_caps;
        } else {
          consider(n, false);
        }
      }
    } else if (const Node* c = n->Child(path[pos])) {
      stack.emplace_back(c, pos + 1);
    }
    if (n->plus && pos <= path.size()) {
      size_t end = path.find('/', pos);
      stack.emplace_back(n->plus.get(), end == std::string_view::npos ? path.size() : end);
    }
  }
}

uint32_t Acl::Capabilities(std::string_view path, bool list) const {
  if (root_) {
    return kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo | kCapPatch;
  }
  Match m;
  Walk(path, &m);
  if (m.exact) return m.exact_caps;
  bool retry = list && !path.empty() && path.back() == '/';
  Match trimmed;
  if (retry) {
    Walk(path.substr(0, path.size() - 1), &trimmed);
    if (trimmed.exact) return trimmed.exact_caps;
  }
  if (m.best) return m.best_is_prefix ? m.best->glob_caps : m.best->exact_caps;
  if (trimmed.best)
    return trimmed.best_is_prefix ? trimmed.best->glob_caps : trimmed.best->exact_caps;
  return 0;
}

bool Acl::GrantsUnder(std::string_view prefix) const {
  if (root_) return true;
  constexpr uint32_t kGrants =
      kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo | kCapPatch;
  auto grants = [&](const Node* n) {
    return (n->has_exact && !(n->exact_caps & kCapDeny) && (n->exact_caps & kGrants)) ||
           (n->has_glob && !(n->glob_caps & kCapDeny) && (n->glob_caps & kGrants));
  };
  // The nodes the prefix leads to (through '+' edges too), then every rule below them.
  std::vector<const Node*> below;
  std::vector<std::pair<const Node*, size_t>> stack;
  stack.emplace_back(tree_.get(), 0);
  while (!stack.empty()) {
    auto [n, pos] = stack.back();
    stack.pop_back();
    if (pos == prefix.size()) {
      below.push_back(n);
      continue;
    }
    if (n->has_glob && grants(n)) return true;  // a glob that covers the prefix ("sec*")
    if (const Node* c = n->Child(prefix[pos])) stack.emplace_back(c, pos + 1);
    if (n->plus) {
      size_t end = prefix.find('/', pos);
      stack.emplace_back(n->plus.get(), end == std::string_view::npos ? prefix.size() : end);
    }
  }
  while (!below.empty()) {
    const Node* n = below.back();
    below.pop_back();
    if (grants(n)) return true;
    for (const auto& [c, child] : n->children) below.push_back(child.get());
    if (n->plus) below.push_back(n->plus.get());
  }
  return false;
}

bool Acl::Allowed(Operation op, std::string_view path, bool sudo_required) const {
  if (root_) return true;
  if (op == Operation::kHelp) return true;
  uint32_t caps = Capabilities(path, op == Operation::kList);
  if (caps & kCapDeny) return false;
  if (!(caps & RequiredCapability(op))) return false;
  if (sudo_required && !(caps & kCapSudo)) return false;
  return true;
}

bool MatchesAnyGlob(const std::vector<std::string>& patterns, std::string_view path) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (path.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (path == p) {
      return true;
    }
  }
  return false;
}

}  // namespace vault::core
