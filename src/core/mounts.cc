#include "core/mounts.h"

#include <mutex>

namespace vault::core {

Json MountEntry::ToJson() const {
  Json j = {
      {"path", path},
      {"type", type},
      {"description", description},
      {"uuid", uuid},
      {"accessor", accessor},
      {"config", {{"default_lease_ttl", default_lease_ttl}, {"max_lease_ttl", max_lease_ttl}}},
      {"options", options},
      {"local", local},
      {"seal_wrap", seal_wrap}};
  if (!listing_visibility.empty()) j["listing_visibility"] = listing_visibility;
  return j;
}

MountEntry MountEntry::FromJson(const Json& j) {
  MountEntry e;
  e.path = j.value("path", "");
  e.type = j.value("type", "");
  e.description = j.value("description", "");
  e.uuid = j.value("uuid", "");
  e.accessor = j.value("accessor", "");
  if (j.contains("config") && j["config"].is_object()) {
    e.default_lease_ttl = j["config"].value("default_lease_ttl", int64_t{0});
    e.max_lease_ttl = j["config"].value("max_lease_ttl", int64_t{0});
  }
  e.options = j.value("options", Json());
  e.local = j.value("local", false);
  e.seal_wrap = j.value("seal_wrap", false);
  e.listing_visibility = j.value("listing_visibility", "");
  return e;
}

std::string NormalizeMountPath(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return "";
  return std::string(path) + "/";
}

std::shared_ptr<const Mount> Router::Route(std::string_view path) const {
  std::string with_slash = std::string(path) + "/";
  std::shared_lock lock(mu_);
  std::shared_ptr<const Mount> best;
  for (const auto& [mp, m] : mounts_) {
    if (with_slash.compare(0, mp.size(), mp) == 0) {
      if (!best || mp.size() > best->entry.path.size()) best = m;
    }
  }
  return best;
}

std::shared_ptr<const Mount> Router::Get(std::string_view mount_path) const {
  std::shared_lock lock(mu_);
  auto it = mounts_.find(mount_path);
  return it == mounts_.end() ? nullptr : it->second;
}

std::optional<std::string> Router::Conflict(std::string_view mount_path) const {
  std::shared_lock lock(mu_);
  for (const auto& [mp, m] : mounts_) {
    if (mount_path.substr(0, mp.size()) == mp ||
        std::string_view(mp).substr(0, mount_path.size()) == mount_path)
      return mp;
  }
  return std::nullopt;
}

void Router::Add(std::shared_ptr<const Mount> m) {
  std::unique_lock lock(mu_);
  mounts_[m->entry.path] = std::move(m);
}

void Router::Remove(std::string_view mount_path) {
  std::unique_lock lock(mu_);
  auto it = mounts_.find(mount_path);
  if (it != mounts_.end()) mounts_.erase(it);
}

void Router::Clear() {
  std::unique_lock lock(mu_);
  mounts_.clear();
}

std::vector<std::shared_ptr<const Mount>> Router::All() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<const Mount>> out;
  for (const auto& [mp, m] : mounts_) out.push_back(m);
  return out;
}

}  // namespace vault::core
