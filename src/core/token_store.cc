#include "core/token_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <mutex>

#include "crypto/hash.h"
#include "util/encoding.h"
#include "util/random.h"

namespace vault::core {
namespace {
constexpr char kSaltPath[] = "sys/token/salt";
constexpr char kIdPrefix[] = "sys/token/id/";
}  // namespace

bool TokenEntry::IsRoot() const {
  return std::find(policies.begin(), policies.end(), "root") != policies.end();
}

Json TokenEntry::ToJson() const {
  return {{"accessor", accessor}, {"policies", policies}, {"display_name", display_name},
          {"path", path}, {"creation_time", creation_time}, {"ttl", ttl}, {"meta", meta}};
}

TokenEntry TokenEntry::FromJson(const Json& j) {
  TokenEntry e;
  e.accessor = j.value("accessor", "");
  e.policies = j.value("policies", std::vector<std::string>{});
  e.display_name = j.value("display_name", "");
  e.path = j.value("path", "");
  e.creation_time = j.value("creation_time", int64_t{0});
  e.ttl = j.value("ttl", int64_t{0});
  e.meta = j.value("meta", Json::object());
  return e;
}

Status TokenStore::Setup() {
  ASSIGN_OR_RETURN(auto salt, storage_->Get(kSaltPath));
  std::unique_lock lock(mu_);
  if (salt) {
    salt_ = *salt;
  } else {
    salt_ = RandomBytes(32);
    RETURN_IF_ERROR(storage_->Put(kSaltPath, salt_));
  }
  hmac_ = std::make_unique<crypto::HmacSha256Key>(salt_);
  cache_.clear();
  return Status::Ok();
}

void TokenStore::Teardown() {
  std::unique_lock lock(mu_);
  if (!salt_.empty()) OPENSSL_cleanse(salt_.data(), salt_.size());
  salt_.clear();
  hmac_.reset();
  cache_.clear();
}

std::string TokenStore::Hash(const std::string& token) const {
  return HexEncode(hmac_->Mac(token));
}

Result<std::string> TokenStore::CreateRoot(const std::optional<std::string>& id) {
  std::string token = id ? *id : "hvs." + RandomAlnum(24);
  if (token.empty()) return InvalidArgument("token id must not be empty");
  TokenEntry e;
  e.accessor = RandomAlnum(24);
  e.policies = {"root"};
  e.display_name = "root";
  e.path = "auth/token/root";
  e.creation_time = clock_->NowSeconds();
  std::string hash;
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) return Unavailable("Vault is sealed");
    hash = Hash(token);
  }
  RETURN_IF_ERROR(logical::PutJson(storage_, kIdPrefix + hash, e.ToJson()));
  std::unique_lock lock(mu_);
  cache_[hash] = e;
  return token;
}

Result<std::optional<TokenEntry>> TokenStore::Lookup(const std::string& token) {
  if (token.empty() || token.size() > 1024) return std::optional<TokenEntry>();
  std::string hash;
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) return Unavailable("Vault is sealed");
    hash = Hash(token);
    // The map lookup is by the keyed hash, so timing reveals nothing about valid token ids.
    auto it = cache_.find(hash);
    if (it != cache_.end()) return std::optional<TokenEntry>(it->second);
  }
  ASSIGN_OR_RETURN(auto j, logical::GetJson(storage_, kIdPrefix + hash));
  if (!j) return std::optional<TokenEntry>();
  TokenEntry e = TokenEntry::FromJson(*j);
  if (e.ttl > 0 && e.creation_time + e.ttl <= clock_->NowSeconds())
    return std::optional<TokenEntry>();
  std::unique_lock lock(mu_);
  cache_[hash] = e;
  return std::optional<TokenEntry>(std::move(e));
}

Status TokenStore::Revoke(const std::string& token) {
  std::string hash;
  {
    std::shared_lock lock(mu_);
    if (salt_.empty()) return Unavailable("Vault is sealed");
    hash = Hash(token);
  }
  RETURN_IF_ERROR(storage_->Delete(kIdPrefix + hash));
  std::unique_lock lock(mu_);
  cache_.erase(hash);
  return Status::Ok();
}

}  // namespace vault::core
