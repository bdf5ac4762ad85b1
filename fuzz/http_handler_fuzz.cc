// HTTP requests up to core: http::Handler (http/handler.h) with an arbitrary method, target,
// headers and body, as the transport hands them over. Two cores over in-memory storage, both
// initialized at start-up (with the kv engine for secret/): one sealed, one unsealed (whose root
// token the fuzzer never sees, so requests are refused by the token and ACL checks, or answered by
// the unauthenticated sys/ handlers: nothing an input does changes what the next one meets). This
// exercises the target's percent-decoding and path checks, the query and body parsers, the wrap
// headers, the sys/ handlers (init, unseal, seal-status, health, leader...) and core's routing and
// token checks.
//
// Invariants: no crash; every answer has a status in 100..599 and a body that is empty or JSON,
// except the web UI's files (under /ui, and / redirected there) and the metrics in Prometheus'
// text format.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/core.h"
#include "engines/kv/kv.h"
#include "http/handler.h"
#include "storage/inmem.h"
#include "util/clock.h"
#include "util/json.h"

namespace {

struct Server {
  vault::storage::InmemBackend physical;
  std::unique_ptr<vault::core::Core> core;
  std::unique_ptr<vault::http::Handler> handler;
};

[[noreturn]] void SetupFailed(const vault::Status& st) {
  std::fprintf(stderr, "http_handler_fuzz: set-up failed: %s\n", st.ToString().c_str());
  std::abort();
}

Server* NewServer(bool unseal) {
  auto* s = new Server;
  // The kv engine for the default secret/ mount, as the server registers it.
  vault::core::EngineRegistry engines;
  engines["kv"] = [](const vault::logical::MountInfo& m)
      -> vault::Result<std::shared_ptr<vault::logical::Backend>> {
    return vault::engines::NewKvBackend(m);
  };
  s->core = std::make_unique<vault::core::Core>(
      &s->physical, std::move(engines), vault::core::CoreConfig{}, vault::SystemClock::Get());
  s->handler = std::make_unique<vault::http::Handler>(s->core.get());
  auto init = vault::SyncWait(s->core->Initialize(1, 1));
  if (!init.ok()) SetupFailed(init.status());
  if (unseal) {
    auto st = vault::SyncWait(s->core->Unseal(init->keys[0]));
    if (!st.ok()) SetupFailed(st.status());
    if (st->sealed) SetupFailed(vault::Internal("still sealed after the unseal key"));
  }
  return s;
}

// Kept for the whole run (never destroyed: the process exits with them).
Server* g_sealed = nullptr;
Server* g_unsealed = nullptr;

const char* const kMethods[] = {"GET", "PUT", "POST", "DELETE", "LIST", "HEAD", "HELP", "PATCH"};
const char* const kHeaders[] = {"X-Vault-Token",
                                "Authorization",
                                "Content-Type",
                                "X-Vault-Wrap-TTL",
                                "X-Vault-Wrap-Format",
                                "X-Vault-Namespace",
                                "X-Vault-No-Request-Forwarding"};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  g_sealed = NewServer(/*unseal=*/false);
  g_unsealed = NewServer(/*unseal=*/true);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Server* server = in.ConsumeBool() ? g_unsealed : g_sealed;
  vault::http::HttpRequest req;
  if (in.ConsumeBool()) {
    req.method = in.PickValueInArray(kMethods);
  } else {
    req.method = in.ConsumeRandomLengthString(8);
  }
  req.target = in.ConsumeRandomLengthString(512);
  const int headers = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < headers; ++i) {
    std::string name = in.ConsumeBool() ? std::string(in.PickValueInArray(kHeaders))
                                        : in.ConsumeRandomLengthString(32);
    req.headers.emplace_back(std::move(name), in.ConsumeRandomLengthString(128));
  }
  req.remote_address = in.ConsumeBool() ? "127.0.0.1" : in.ConsumeRandomLengthString(40);
  req.body = in.ConsumeRemainingBytesAsString();

  vault::http::HttpResponse resp = server->handler->Handle(req);
  if (resp.status < 100 || resp.status > 599) __builtin_trap();
  // JSON unless the answer names another type: the web UI's files under /ui and the metrics'
  // Prometheus text are the only answers that do.
  const bool json = resp.content_type.empty() || resp.content_type == "application/json";
  if (json && !resp.body.empty() && !vault::ParseJson(resp.body).ok()) __builtin_trap();
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (!json && path != "/" && !path.starts_with("/ui") && !path.starts_with("/v1/sys/metrics")) {
    __builtin_trap();
  }
  return 0;
}
