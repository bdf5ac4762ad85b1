// vault::cmd::ParseServerConfig (cmd/config.h): the server's HCL or JSON config file, then the
// ETCD_* environment overrides on what parsed. No throw or crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cmd/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  vault::Result<vault::cmd::ServerConfig> config = vault::cmd::ParseServerConfig(text);
  if (!config.ok()) return 0;
  (void)vault::cmd::ApplyEtcdEnvironment(&*config, [](const char* name) -> const char* {
    std::string n = name;
    if (n == "ETCD_ADDR") return "http://127.0.0.1:2379,http://127.0.0.2:2379";
    if (n == "ETCD_HA_ENABLED") return "true";
    return nullptr;
  });
  return 0;
}
