#include "core/policy.h"

#include <algorithm>
#include <functional>
#include <mutex>

#include "core/acl.h"
#include "hcl/hcl.h"
#include "util/strings.h"

namespace vault::core {
namespace {

constexpr char kPolicyPrefix[] = "sys/policy/";
constexpr size_t kMaxCachedAcls = 4096;

const std::pair<const char*, uint32_t> kCapabilityNames[] = {
    {"create", kCapCreate}, {"delete", kCapDelete}, {"deny", kCapDeny}, {"list", kCapList},
    {"patch", kCapPatch},   {"read", kCapRead},     {"sudo", kCapSudo}, {"update", kCapUpdate},
};

// Keys Vault accepts inside a path block. The ones that narrow access and that this server does
// not enforce (kUnsupportedBlockKeys) are refused: a policy meant to restrict must not load as a
// wider one.
const char* const kPathBlockKeys[] = {
    "comment",
    "policy",
    "capabilities",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "control_group",
    "mfa_methods",
    "subscribe_event_types",
};

const char* const kUnsupportedBlockKeys[] = {
    "allowed_parameters", "denied_parameters", "required_parameters", "min_wrapping_ttl",
    "max_wrapping_ttl",   "control_group",     "mfa_methods",
};

Result<uint32_t> LegacyPolicy(const std::string& path, const std::string& v) {
  if (v == "deny") return uint32_t{kCapDeny};
  if (v == "read") return uint32_t{kCapRead | kCapList};
  if (v == "write") return uint32_t{kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList};
  if (v == "sudo")
    return uint32_t{kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo};
  return InvalidArgument("path \"" + path + "\": invalid policy \"" + v + "\"");
}

Result<PathRule> ParseRule(const std::string& pattern, const Json& block) {
  if (!block.is_object())
    return InvalidArgument("path \"" + pattern + "\": expected a block { ... }");
  PathRule rule;
  std::string p = pattern;
  if (!p.empty() && p[0] == '/') p.erase(0, 1);
  if (p.find("+*") != std::string::npos)
    return InvalidArgument("path \"" + pattern +
                           "\": invalid use of wildcards ('+*' is forbidden)");
  if (!p.empty() && p.back() == '*') {
    p.pop_back();
    rule.is_prefix = true;
  }
  rule.path = std::move(p);
  for (const auto& item : block.items()) {
    const std::string& key = item.key();
    if (std::find_if(std::begin(kPathBlockKeys), std::end(kPathBlockKeys),
                     [&](const char* k) { return key == k; }) == std::end(kPathBlockKeys))
      return InvalidArgument("path \"" + pattern + "\": invalid key \"" + key + "\"");
    if (std::find_if(std::begin(kUnsupportedBlockKeys), std::end(kUnsupportedBlockKeys),
                     [&](const char* k) { return key == k; }) != std::end(kUnsupportedBlockKeys))
      return InvalidArgument("path \"" + pattern + "\": \"" + key +
                             "\" is not supported by this server");
  }
  uint32_t caps = 0;
  if (block.contains("policy")) {
    const Json& v = block["policy"];
    if (!v.is_string()) return InvalidArgument("path \"" + pattern + "\": policy must be a string");
    ASSIGN_OR_RETURN(caps, LegacyPolicy(pattern, v.get<std::string>()));
  }
  if (block.contains("capabilities")) {
    Json list = block["capabilities"];
    if (list.is_string()) list = Json::array({list});
    if (!list.is_array())
      return InvalidArgument("path \"" + pattern + "\": capabilities must be a list of strings");
    for (const Json& c : list) {
      if (!c.is_string())
        return InvalidArgument("path \"" + pattern + "\": capabilities must be a list of strings");
      std::string name = c.get<std::string>();
      uint32_t bit = 0;
      for (const auto& [n, b] : kCapabilityNames) {
        if (name == n) bit = b;
      }
      if (bit == 0)
        return InvalidArgument("path \"" + pattern + "\": invalid capability \"" + name + "\"");
      caps |= bit;
    }
  }
  // deny in a rule clears everything else (Vault: DenyCapability short-circuits).
  if (caps & kCapDeny) caps = kCapDeny;
  rule.capabilities = caps;
  return rule;
}

// Appends the rules of one `path` value: {"pattern": {block}} (HCL/pyhcl shape) or a list of
// such objects (JSON policies sometimes use that form).
Status AppendRules(const Json& value, std::vector<PathRule>* out) {
  if (value.is_array()) {
    for (const Json& v : value) RETURN_IF_ERROR(AppendRules(v, out));
    return Status::Ok();
  }
  if (!value.is_object()) return InvalidArgument("policy: \"path\" must be a block");
  for (auto& [pattern, block] : value.items()) {
    if (block.is_array()) {  // the same path given twice in a JSON list form
      for (const Json& b : block) {
        ASSIGN_OR_RETURN(PathRule r, ParseRule(pattern, b));
        out->push_back(std::move(r));
      }
      continue;
    }
    ASSIGN_OR_RETURN(PathRule r, ParseRule(pattern, block));
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

std::string AclKey(const std::vector<std::string>& in) {
  // Token policies are stored sorted and deduplicated: the common case needs no copy.
  if (std::adjacent_find(in.begin(), in.end(), std::greater_equal<>()) == in.end())
    return Join(in, "\n");
  std::vector<std::string> names = in;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return Join(names, "\n");
}

}  // namespace

const char kDefaultPolicyText[] = R"(# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to renew a lease via lease_id in the request body; old path for
# old clients, new path for newer
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a given
# response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token. This is a convenience to
# avoid client token swapping since this is also part of the response wrapping
# policy.
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}
)";

const char kResponseWrappingPolicy[] = "response-wrapping";

namespace {
const char kResponseWrappingPolicyText[] = R"(path "cubbyhole/response" {
    capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
)";
}  // namespace

std::vector<std::string> CapabilityNames(uint32_t caps) {
  if (caps & kCapDeny) return {"deny"};
  std::vector<std::string> out;
  for (const auto& [name, bit] : kCapabilityNames) {  // already sorted by name
    if (caps & bit) out.push_back(name);
  }
  return out;
}

Result<Policy> ParsePolicy(std::string name, std::string_view text) {
  auto parsed = hcl::Parse(text);
  if (!parsed.ok()) return InvalidArgument("failed to parse policy: " + parsed.status().message());
  const Json& doc = *parsed;
  if (!doc.is_object()) return InvalidArgument("failed to parse policy: not an object");
  Policy p;
  p.name = std::move(name);
  p.raw = std::string(text);
  for (auto& [key, value] : doc.items()) {
    if (key == "name") continue;
    if (key != "path")
      return InvalidArgument("failed to parse policy: invalid key \"" + key + "\"");
    Status st = AppendRules(value, &p.rules);
    if (!st.ok()) return InvalidArgument("failed to parse policy: " + st.message());
  }
  return p;
}

Task<Status> PolicyStore::Setup() {
  {
    std::unique_lock lock(mu_);
    policies_.clear();
    acls_.clear();
    ++generation_;
  }
  const std::string key = std::string(kPolicyPrefix) + "default";
  CO_ASSIGN_OR_RETURN(auto existing, co_await barrier_->Get(key));
  if (!existing) CO_RETURN_IF_ERROR(co_await Put("default", kDefaultPolicyText));
  co_return Status::Ok();
}

void PolicyStore::Teardown() {
  std::unique_lock lock(mu_);
  policies_.clear();
  acls_.clear();
  ++generation_;
}

Task<Result<std::vector<std::string>>> PolicyStore::List() {
  CO_ASSIGN_OR_RETURN(auto keys, co_await barrier_->List(kPolicyPrefix));
  std::vector<std::string> out;
  for (auto& k : keys) {
    if (!k.empty() && k.back() != '/') out.push_back(std::move(k));
  }
  out.push_back("root");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  co_return out;
}

Task<Result<std::shared_ptr<const Policy>>> PolicyStore::Get(std::string raw_name) {
  std::string name = ToLower(raw_name);
  if (name == "root" || name.empty()) co_return std::shared_ptr<const Policy>();
  if (name == kResponseWrappingPolicy) {
    static const std::shared_ptr<const Policy> builtin = [] {
      auto parsed = ParsePolicy(kResponseWrappingPolicy, kResponseWrappingPolicyText);
      return std::make_shared<const Policy>(std::move(parsed).value());
    }();
    co_return builtin;
  }
  {
    std::shared_lock lock(mu_);
    auto it = policies_.find(name);
    if (it != policies_.end()) co_return it->second;
  }
  const std::string key = kPolicyPrefix + name;
  CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(barrier_, key));
  if (!j) co_return std::shared_ptr<const Policy>();
  auto parsed = ParsePolicy(name, j->value("Raw", ""));
  if (!parsed.ok()) co_return Internal("stored policy \"" + name + "\" is corrupt");
  auto p = std::make_shared<const Policy>(std::move(parsed).value());
  std::unique_lock lock(mu_);
  policies_[name] = p;
  co_return std::shared_ptr<const Policy>(p);
}

Task<Status> PolicyStore::Put(std::string raw_name, std::string text) {
  std::string name = ToLower(Trim(raw_name));
  if (name.empty()) co_return InvalidArgument("policy name must be provided");
  if (name == "root") co_return InvalidArgument("cannot update root policy");
  if (name == kResponseWrappingPolicy)
    co_return InvalidArgument("cannot update response-wrapping policy");
  if (name.find('/') != std::string::npos || name.size() > 256)
    co_return InvalidArgument("invalid policy name");
  CO_ASSIGN_OR_RETURN(Policy p, ParsePolicy(name, text));
  const std::string key = kPolicyPrefix + name;
  Json stored = {{"Version", 2}, {"Name", name}, {"Raw", p.raw}, {"Type", 0}};
  CO_RETURN_IF_ERROR(co_await logical::PutJson(barrier_, key, stored));
  std::unique_lock lock(mu_);
  policies_[name] = std::make_shared<const Policy>(std::move(p));
  acls_.clear();
  ++generation_;
  co_return Status::Ok();
}

Task<Status> PolicyStore::Delete(std::string raw_name) {
  std::string name = ToLower(Trim(raw_name));
  if (name == "root") co_return InvalidArgument("cannot delete root policy");
  if (name == "default") co_return InvalidArgument("cannot delete default policy");
  if (name == kResponseWrappingPolicy)
    co_return InvalidArgument("cannot delete response-wrapping policy");
  const std::string key = kPolicyPrefix + name;
  CO_RETURN_IF_ERROR(co_await barrier_->Delete(key));
  std::unique_lock lock(mu_);
  policies_.erase(name);
  acls_.clear();
  ++generation_;
  co_return Status::Ok();
}

std::shared_ptr<const Acl> PolicyStore::CachedAcl(const std::vector<std::string>& names) const {
  std::string key = AclKey(names);
  std::shared_lock lock(mu_);
  auto it = acls_.find(key);
  return it == acls_.end() ? nullptr : it->second;
}

Task<Result<std::shared_ptr<const Acl>>> PolicyStore::AclFor(
    const std::vector<std::string>& names) {
  std::string key = AclKey(names);
  uint64_t gen;
  {
    std::shared_lock lock(mu_);
    auto it = acls_.find(key);
    if (it != acls_.end()) co_return it->second;
    gen = generation_;
  }
  std::vector<std::shared_ptr<const Policy>> policies;
  bool root = false;
  for (const auto& n : names) {
    if (ToLower(n) == "root") {
      root = true;
      continue;
    }
    CO_ASSIGN_OR_RETURN(auto p, co_await Get(n));
    if (p) policies.push_back(std::move(p));
  }
  auto acl = std::make_shared<const Acl>(policies, root);
  std::unique_lock lock(mu_);
  if (generation_ == gen) {
    if (acls_.size() >= kMaxCachedAcls) acls_.clear();
    acls_[key] = acl;
  }
  co_return std::shared_ptr<const Acl>(acl);
}

}  // namespace vault::core
