#include "core/core.h"

#include <mutex>

#include "core/acl.h"
#include "core/system_acl_paths.h"
#include "core/system_backend.h"
#include "core/token_backend.h"
#include "util/log.h"

namespace vault::core {

Core::Core(storage::Backend* physical, EngineRegistry registry, CoreConfig config, Clock* clock)
    : physical_(physical),
      clock_(clock),
      registry_(std::move(registry)),
      config_(config),
      barrier_(physical, clock),
      seal_(physical, &barrier_),
      tokens_(&barrier_, clock),
      policies_(&barrier_),
      audit_(&barrier_, clock),
      mounts_(&barrier_, &registry_, &router_, config.ttls) {
  mounts_.RegisterBuiltin("system", [this](const logical::MountInfo&)
                                        -> Result<std::shared_ptr<logical::Backend>> {
    std::vector<logical::Path> extra = PolicyPaths(&policies_);
    for (auto& p : CapabilitiesPaths(&tokens_, &policies_)) extra.push_back(std::move(p));
    for (auto& p : AuditPaths(&audit_)) extra.push_back(std::move(p));
    return NewSystemBackend(&mounts_, &barrier_, std::move(extra));
  });
  mounts_.RegisterBuiltin("token", [this](const logical::MountInfo&)
                                       -> Result<std::shared_ptr<logical::Backend>> {
    return NewTokenBackend(&tokens_, &policies_, [this](const TokenEntry& t, const std::string& p) {
      return HasSudo(t, p);
    }, clock_);
  });
}

Core::~Core() {
  std::unique_lock lock(state_mu_);
  PreSealLocked();
  seal_.Seal();
}

Result<bool> Core::Initialized() { return barrier_.Initialized(); }

Result<InitResult> Core::Initialize(int shares, int threshold,
                                    const std::optional<std::string>& root_token_id) {
  std::unique_lock lock(state_mu_);
  InitResult out;
  ASSIGN_OR_RETURN(out.keys, seal_.Initialize(shares, threshold));
  // The barrier is unsealed now: set up, create the root token, then seal again.
  Status st = PostUnsealLocked();
  if (st.ok()) {
    auto token = tokens_.CreateRoot(root_token_id);
    if (token.ok()) out.root_token = std::move(token).value();
    else st = token.status();
  }
  PreSealLocked();
  seal_.Seal();
  if (!st.ok()) return st;
  spdlog::info("core: vault initialized with {} key shares and a key threshold of {}", shares,
               threshold);
  return out;
}

Status Core::PostUnsealLocked() {
  RETURN_IF_ERROR(tokens_.Setup());
  RETURN_IF_ERROR(policies_.Setup());
  RETURN_IF_ERROR(mounts_.Load());
  RETURN_IF_ERROR(audit_.Load());
  active_ = true;
  return Status::Ok();
}

void Core::PreSealLocked() {
  active_ = false;
  audit_.Unload();
  mounts_.Unload();
  policies_.Teardown();
  tokens_.Teardown();
}

Result<barrier::SealStatus> Core::Unseal(const std::string& share) {
  std::unique_lock lock(state_mu_);
  ASSIGN_OR_RETURN(barrier::SealStatus st, seal_.SubmitShare(share));
  if (!st.sealed && !active_) {
    Status setup = PostUnsealLocked();
    if (!setup.ok()) {
      spdlog::error("core: post-unseal setup failed: {}", setup.message());
      PreSealLocked();
      seal_.Seal();
      return setup;
    }
    spdlog::info("core: vault is unsealed");
  }
  return st;
}

Result<barrier::SealStatus> Core::ResetUnseal() {
  if (!Sealed()) return InvalidArgument("vault is unsealed");
  seal_.ResetProgress();
  return seal_.GetStatus();
}

Result<barrier::SealStatus> Core::SealStatus() { return seal_.GetStatus(); }

bool Core::Sealed() const {
  std::shared_lock lock(state_mu_);
  return !active_;
}

Status Core::Seal(const std::string& client_token) {
  std::unique_lock lock(state_mu_);
  if (!active_) return Status::Ok();
  ASSIGN_OR_RETURN(auto entry, tokens_.Lookup(client_token));
  if (!entry) return PermissionDenied();
  ASSIGN_OR_RETURN(auto acl, policies_.AclFor(entry->policies));
  if (!acl->Allowed(logical::Operation::kUpdate, "sys/seal", /*sudo_required=*/true))
    return PermissionDenied();
  PreSealLocked();
  seal_.Seal();
  spdlog::info("core: vault is sealed");
  return Status::Ok();
}

Result<logical::Response> Core::HandleRequest(logical::Request& req) {
  std::shared_lock lock(state_mu_);
  if (!active_) return Unavailable("Vault is sealed");
  std::string full_path = req.path;
  auto mount = router_.Route(full_path);

  // Token + ACL before routing, so a refusal reveals nothing about the path (request_auth.cc).
  RequestAuth auth = CheckRequest(req, mount.get());
  // Audit (fail closed): nothing runs unless the request is on record.
  AuditRecord rec{"", &req, mount ? mount->entry.type : "", auth.token.get()};
  RETURN_IF_ERROR(audit_.LogRequest(rec, auth.status));
  if (!auth.status.ok()) return auth.status;

  Result<logical::Response> resp = Status::Ok();
  if (!mount) {
    resp = NotFound("no handler for route \"" + full_path + "\". route entry not found.");
  } else {
    const std::string& mp = mount->entry.path;
    req.path = full_path.size() >= mp.size() ? full_path.substr(mp.size()) : "";
    req.mount = mounts_.Info(mount->entry);
    req.storage = mount->storage.get();
    resp = mount->backend->HandleRequest(req);
    req.path = full_path;
  }
  Status logged = audit_.LogResponse(rec, resp);
  FinishRequest(auth);
  if (!logged.ok()) return logged;
  return resp;
}

Status Core::ReopenAuditDevices() {
  std::shared_lock lock(state_mu_);
  if (!active_) return Status::Ok();
  return audit_.Reopen();
}

}  // namespace vault::core
