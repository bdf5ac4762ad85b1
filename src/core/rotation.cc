// sys/rotate/config and automatic barrier key rotation (Vault 1.x): the active node rotates the
// data key when its term has been used for `max_operations` encryptions (about 10 % under the
// 2^32 limit NIST SP 800-38D sets for AES-GCM with random nonces) or when it is older than
// `interval`. Old terms stay readable; a rotation is `sys/rotate`'s, so nothing is lost under
// load. The configuration is stored (encrypted) at core/barrier-rotation.
#include "core/core.h"
#include "util/duration.h"
#include "util/log.h"

namespace vault::core {
namespace {

constexpr char kRotationConfigPath[] = "core/barrier-rotation";
constexpr int64_t kDefaultMaxOperations = 3865470566LL;
constexpr int64_t kMinMaxOperations = 1000000;
constexpr int64_t kMinInterval = 24 * 3600;

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

}  // namespace

Task<Status> Core::LoadRotationConfig() {
  CO_ASSIGN_OR_RETURN(auto stored, co_await logical::GetJson(&barrier_, kRotationConfigPath));
  RotationConfig c;
  if (stored && stored->is_object()) {
    c.max_operations = stored->value("max_operations", kDefaultMaxOperations);
    c.interval = stored->value("interval", int64_t{0});
    c.enabled = stored->value("enabled", true);
  }
  std::lock_guard lock(rotation_mu_);
  rotation_ = c;
  co_return Status::Ok();
}

void Core::MaybeRotateBarrierKey() {
  RotationConfig c;
  {
    std::lock_guard lock(rotation_mu_);
    c = rotation_;
  }
  if (!c.enabled || !active_.load()) return;
  auto ks = barrier_.ActiveKeyStatus();
  if (!ks.ok()) return;
  const char* reason = nullptr;
  if (ks->encryptions > c.max_operations) {
    reason = "reached max operations";
  } else if (c.interval > 0 &&
             clock_->NowNanos() - ks->install_time_nanos >= c.interval * int64_t{1000000000}) {
    reason = "rotation interval reached";
  }
  if (!reason) return;
  // The background thread's own wait: it may block.
  Status st = SyncWait(barrier_.Rotate());
  if (st.ok()) {
    spdlog::info("core: automatic barrier key rotation triggered: {}", reason);
  } else {
    spdlog::error("core: automatic barrier key rotation ({}) failed: {}", reason, st.message());
  }
}

std::vector<Path> Core::RotationPaths() {
  Path p;
  p.pattern = "rotate/config";
  p.synopsis = "Configures automatic rotation of the backend encryption key.";
  p.fields = {
      {"max_operations", FieldType::kInt,
       "Encryptions under one key term before it is rotated (1,000,000 to 3,865,470,566)."},
      {"interval", FieldType::kDurationSecond, "Rotate a key term older than this (0: never)."},
      {"enabled", FieldType::kBool, "Whether automatic rotation is on."},
  };
  p.operations[Operation::kRead] = [this](Request&, const FieldData&) -> Result<Response> {
    RotationConfig c;
    {
      std::lock_guard lock(rotation_mu_);
      c = rotation_;
    }
    Json interval = c.interval > 0 ? Json(FormatGoDuration(c.interval)) : Json(0);
    return Response::WithData(
        {{"max_operations", c.max_operations}, {"enabled", c.enabled}, {"interval", interval}});
  };
  p.async_operations[Operation::kUpdate] = [this](Request&,
                                                  const FieldData& d) -> Task<Result<Response>> {
    RotationConfig c;
    {
      std::lock_guard lock(rotation_mu_);
      c = rotation_;
    }
    if (d.Has("max_operations")) {
      int64_t m = d.GetInt("max_operations");
      if (m < kMinMaxOperations || m > kDefaultMaxOperations)
        co_return InvalidArgument("max_operations must be in the range [1000000,3865470566]");
      c.max_operations = m;
    }
    if (d.Has("interval")) {
      int64_t i = d.GetInt("interval");
      if (i != 0 && i < kMinInterval)
        co_return InvalidArgument("interval must be greater or equal to 24h0m0s");
      c.interval = i;
    }
    if (d.Has("enabled")) c.enabled = d.GetBool("enabled");
    Json stored = {
        {"max_operations", c.max_operations}, {"interval", c.interval}, {"enabled", c.enabled}};
    CO_RETURN_IF_ERROR(co_await logical::PutJson(&barrier_, kRotationConfigPath, stored));
    {
      std::lock_guard lock(rotation_mu_);
      rotation_ = c;
    }
    co_return Response();
  };
  return {p};
}

}  // namespace vault::core
