#include "cmd/server_command.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "aws/client.h"
#include "cmd/config.h"
#include "core/core.h"
#include "crypto/hash.h"
#include "engines/approle/approle.h"
#include "engines/aws/aws.h"
#include "engines/jwt/jwt.h"
#include "engines/kv/kv.h"
#include "engines/userpass/userpass.h"
#include "etcd/backend.h"
#include "etcd/client.h"
#include "http/handler.h"
#include "http/server.h"
#include "net/curl_http_client.h"
#include "storage/inmem.h"
#include "storage/rocksdb_backend.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/thread_attrs.h"
#include "util/thread_pool.h"
#include "util/version.h"

namespace vault::cmd {
namespace {

// The HTTP clients the JWT auth method fetches discovery documents and JWKS with: one for the
// system's trusted CAs, one per CA bundle a config names (written to a private directory, as
// libcurl and Asio read CAs from files). They live as long as the server.
class JwtHttpClients {
 public:
  ~JwtHttpClients() {
    clients_.clear();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Result<std::shared_ptr<net::HttpClient>> Get(const std::string& ca_pem) {
    std::lock_guard lock(mu_);
    std::string key = HexEncode(crypto::Sha256(ca_pem));
    if (auto it = clients_.find(key); it != clients_.end())
      return std::shared_ptr<net::HttpClient>(it->second);
    net::CurlOptions o;
    o.max_response_bytes = 2 << 20;  // discovery documents and key sets are small
    if (!ca_pem.empty()) {
      if (dir_.empty()) {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "vault-jwt-ca-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) return Internal("cannot create a directory for CA bundles");
        dir_ = tmpl;
      }
      std::string path = dir_ + "/" + key + ".pem";
      std::ofstream f(path, std::ios::binary | std::ios::trunc);
      f << ca_pem;
      if (!f) return Internal("cannot write the CA bundle");
      o.ca_file = path;
      o.ca_from_environment = false;
    }
    auto client = std::make_shared<net::CurlHttpClient>(o);
    clients_[key] = client;
    return std::shared_ptr<net::HttpClient>(client);
  }

 private:
  std::mutex mu_;
  std::string dir_;
  std::map<std::string, std::shared_ptr<net::CurlHttpClient>> clients_;
};

// The engines this binary offers. `aws_clients` makes the AWS engine's IAM/STS clients.
core::EngineRegistry BuildRegistry(std::shared_ptr<aws::ClientFactory> aws_clients,
                                   JwtHttpClients* jwt_http) {
  core::EngineRegistry reg;
  auto kv = [](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
    return engines::NewKvBackend(m);
  };
  reg["kv"] = kv;
  reg["aws"] =
      [aws_clients](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
    return engines::NewAwsBackend(m, aws_clients, SystemClock::Get());
  };
  // Auth methods (sys/auth) are registered as "auth/<type>".
  reg["auth/approle"] =
      [](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
    return engines::NewAppRoleBackend(m, SystemClock::Get());
  };
  reg["auth/userpass"] =
      [](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
    return engines::NewUserpassBackend(m);
  };
  // Vault's JWT plugin serves both types.
  auto jwt = [jwt_http](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
    return engines::NewJwtBackend(
        m, [jwt_http](const std::string& ca_pem) { return jwt_http->Get(ca_pem); },
        SystemClock::Get());
  };
  reg["auth/jwt"] = jwt;
  reg["auth/oidc"] = jwt;
  return reg;
}

struct Flags {
  std::vector<std::string> configs;
  bool dev = false;
  bool dev_kv_v2 = false;  // dev mode mounts secret/ as KV version 2 (version 1 otherwise)
  std::string dev_root_token_id;
  std::string dev_listen_address = "127.0.0.1:8200";
  std::string log_level;
};

void Usage() {
  std::cerr
      << "Usage: vault server [options]\n\n"
         "  Start a Vault server. This command starts a Vault server that responds\n"
         "  to API requests. With -dev it starts in-memory, initialized and unsealed.\n\n"
         "Options:\n\n"
         "  -config=<path>              Path to a configuration file (HCL or JSON). May repeat.\n"
         "  -dev                        Enable development mode.\n"
         "  -dev-kv-v2                  Mount secret/ as KV version 2 in dev mode (default: 1).\n"
         "  -dev-root-token-id=<id>     The root token id in dev mode.\n"
         "  -dev-listen-address=<addr>  Address to bind in dev mode (default 127.0.0.1:8200).\n"
         "  -log-level=<level>          trace, debug, info, warn, err.\n";
}

// Go flag rules: -name=value, -name value, --name; bools may be -dev or -dev=true.
bool ParseFlags(const std::vector<std::string>& args, Flags* f, std::string* err) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      *err = "unexpected argument: " + a;
      return false;
    }
    a = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = a, value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    auto take = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= args.size()) {
        *err = "flag needs an argument: -" + name;
        return false;
      }
      value = args[++i];
      return true;
    };
    if (name == "dev") {
      f->dev = !has_value || value == "true" || value == "1";
    } else if (name == "dev-kv-v2") {
      f->dev_kv_v2 = !has_value || value == "true" || value == "1";
    } else if (name == "config") {
      if (!take()) return false;
      f->configs.push_back(value);
    } else if (name == "dev-root-token-id") {
      if (!take()) return false;
      f->dev_root_token_id = value;
    } else if (name == "dev-listen-address") {
      if (!take()) return false;
      f->dev_listen_address = value;
    } else if (name == "log-level") {
      if (!take()) return false;
      f->log_level = value;
    } else if (name == "h" || name == "help") {
      *err = "";
      return false;
    } else {
      *err = "flag provided but not defined: -" + name;
      return false;
    }
  }
  return true;
}

void WriteTokenFile(const std::string& token) {
  const char* home = std::getenv("HOME");
  if (!home) return;
  std::string path = std::string(home) + "/.vault-token";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << token;
  }
  ::chmod(tmp.c_str(), 0600);
  std::rename(tmp.c_str(), path.c_str());
}

// The etcd backend of a storage "etcd" block: its HTTP client (with the block's CA), the etcd
// client (members from the cluster's own list when `sync`), the backend. Start-up: may wait.
Result<std::unique_ptr<storage::Backend>> OpenEtcd(const EtcdStorageConfig& c,
                                                   std::unique_ptr<net::CurlHttpClient>* http,
                                                   std::unique_ptr<etcd::Client>* client) {
  net::CurlOptions ho;
  ho.ca_file = c.tls_ca_file;
  ho.max_response_bytes = 256 << 20;  // a page of a ranged read
  *http = std::make_unique<net::CurlHttpClient>(ho);
  etcd::ClientOptions o;
  o.endpoints = c.address;
  o.request_timeout_ms = c.request_timeout_ms;
  o.username = c.username;
  o.password = c.password;
  if (!c.tls_ca_file.empty()) {
    std::ifstream in(c.tls_ca_file, std::ios::binary);
    if (!in) return InvalidArgument("etcd: cannot read tls_ca_file " + c.tls_ca_file);
    o.ca_pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  RETURN_IF_ERROR(etcd::Client::Validate(o));
  *client = std::make_unique<etcd::Client>(http->get(), http->get(), o);
  if (c.sync) {
    auto members = SyncWait((*client)->MemberClientUrls());
    if (!members.ok())
      return Internal("reading etcd's member list (sync) failed: " + members.status().message());
    (*client)->SetEndpoints(std::move(*members));
  }
  etcd::BackendOptions bo;
  bo.path = c.path;
  bo.ha_enabled = c.ha_enabled;
  bo.lock_timeout_s = c.lock_timeout_s;
  return std::unique_ptr<storage::Backend>(std::make_unique<etcd::EtcdBackend>(client->get(), bo));
}

// The address clients reach this server at, and the one reported as its cluster address: the
// environment, else the file, else derived from the first listener (as Vault does).
core::HaConfig HaAddresses(const ServerConfig& config) {
  core::HaConfig ha;
  const http::ListenerConfig& l = config.listeners.front();
  const char* api_env = std::getenv("VAULT_API_ADDR");
  const char* cluster_env = std::getenv("VAULT_CLUSTER_ADDR");
  ha.api_addr = api_env != nullptr && *api_env != '\0' ? api_env : config.api_addr;
  if (ha.api_addr.empty()) ha.api_addr = (l.tls_disable ? "http://" : "https://") + l.address;
  ha.cluster_addr =
      cluster_env != nullptr && *cluster_env != '\0' ? cluster_env : config.cluster_addr;
  if (ha.cluster_addr.empty()) {
    std::string addr = config.listener_cluster_address;
    if (addr.empty()) {
      auto colon = l.address.rfind(':');
      int port = colon == std::string::npos ? 8200 : std::atoi(l.address.c_str() + colon + 1);
      addr = l.address.substr(0, colon) + ":" + std::to_string(port + 1);
    }
    ha.cluster_addr = "https://" + addr;
  }
  ha.disable_clustering = config.disable_clustering;
  return ha;
}

}  // namespace

// SIGHUP reopens the audit log files (log rotation). SIGHUP is blocked in every thread (the
// mask is set before any thread starts, and threads inherit it) until the main thread takes it in
// http::Server::RunUntilSignal, where the reopen runs in a normal context, never inside a signal
// handler. One received during start-up waits until then.
void BlockSighup() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Raises the soft limit on open descriptors to the hard limit, as Go's runtime does for Vault:
// each client connection is one, and the default soft limit (1,024) is easily reached.
void RaiseDescriptorLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);  // best effort: the old limit stays otherwise
}

// No core dumps: a dump of the unsealed server would hold the barrier keys and every secret in
// memory. (Also keeps other processes of the same user from attaching with ptrace.)
void DisableCoreDumps() {
  rlimit r{0, 0};
  setrlimit(RLIMIT_CORE, &r);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// Vault's memory locking: every page the process has and will have stays in RAM, so that no
// secret (unseal keys, the keyring, tokens, answers) is ever written to swap. Needs
// CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK (the package's systemd unit grants both).
// Sanitizer builds skip it: their shadow memory reserves terabytes of address space.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VAULT_NO_MLOCK_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define VAULT_NO_MLOCK_BUILD 1
#endif
#endif
bool LockMemory() {
#ifdef VAULT_NO_MLOCK_BUILD
  std::cerr << "WARNING: this is a sanitizer build; memory is not locked (disable_mlock is "
               "treated as true)\n";
  return true;
#else
  // MCL_ONFAULT (Linux 4.4+): pages are locked as they are first touched rather than all at
  // once, so an 8 MiB thread stack or an allocator's reserve costs only what is used (with plain
  // MCL_FUTURE an idle server keeps ~400 MiB resident). Swap never sees a page either way.
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) return true;
  if (errno == EINVAL && mlockall(MCL_CURRENT | MCL_FUTURE) == 0) return true;
  const int err = errno;
  std::cerr << "Error initializing core: Failed to lock memory: " << std::strerror(err)
            << "\n\n"
               "This usually means that the mlock syscall is not available.\n"
               "Vault uses mlock to prevent memory from being swapped to\n"
               "disk. This requires root privileges as well as a machine\n"
               "that supports mlock. Please enable mlock on your system or\n"
               "disable Vault from using it. To disable Vault from using it,\n"
               "set the `disable_mlock` configuration option in your configuration\n"
               "file.\n";
  return false;
#endif
}

int RunServer(const std::vector<std::string>& args) {
  BlockSighup();  // first: before any thread exists
  RaiseDescriptorLimit();
  DisableCoreDumps();
  Flags flags;
  std::string err;
  if (!ParseFlags(args, &flags, &err)) {
    if (!err.empty()) std::cerr << err << "\n";
    Usage();
    return err.empty() ? 0 : 2;
  }
  if (!flags.dev && flags.configs.empty()) {
    std::cerr << "No configuration files found. Please provide configurations with the\n"
                 "-config flag. If you are supplying the path to a directory, please\n"
                 "ensure the directory contains files with valid config extensions.\n";
    return 1;
  }
  if (flags.dev_kv_v2 && !flags.dev) {
    std::cerr << "-dev-kv-v2 applies to dev mode only (with -dev); a configured server's "
                 "secrets engines are mounted with `vault secrets enable`\n";
    return 1;
  }
  ServerConfig config;
  for (const auto& path : flags.configs) {
    Status st = LoadServerConfigFile(path, &config);
    if (!st.ok()) {
      std::cerr << st.message() << "\n";
      return 1;
    }
  }
  if (flags.dev) {
    config.storage_type = "inmem";
    config.disable_hostname = true;  // as Vault's dev config sets them
    config.disable_mlock = true;
    http::ListenerConfig l;
    l.address = flags.dev_listen_address;
    l.tls_disable = true;
    config.listeners.insert(config.listeners.begin(), l);
  }
  if (config.listeners.empty()) {
    std::cerr << "Error: at least one listener \"tcp\" block is required in the configuration\n";
    return 1;
  }
  InitLogging(flags.log_level.empty() ? config.log_level : flags.log_level);
  if (!config.disable_mlock && !LockMemory()) return 1;

  Status env_applied = ApplyEtcdEnvironment(&config, [](const char* n) { return std::getenv(n); });
  if (!env_applied.ok()) {
    std::cerr << env_applied.message() << "\n";
    return 1;
  }

  // etcd's client and its HTTP connections; declared before the core, which outlives nothing
  // it uses.
  std::unique_ptr<net::CurlHttpClient> etcd_http;
  std::unique_ptr<etcd::Client> etcd_client;
  std::unique_ptr<storage::Backend> physical;
  if (config.storage_type == "etcd") {
    auto opened = OpenEtcd(config.etcd, &etcd_http, &etcd_client);
    if (!opened.ok()) {
      std::cerr << "Error initializing storage of type etcd: " << opened.status().message() << "\n";
      return 1;
    }
    physical = std::move(opened).value();
  } else if (config.storage_type == "rocksdb") {
    auto db = storage::RocksDbBackend::Open(config.storage_path);
    if (!db.ok()) {
      std::cerr << "Error initializing storage of type rocksdb: " << db.status().message() << "\n";
      return 1;
    }
    physical = std::move(db).value();
  } else {
    physical = std::make_unique<storage::InmemBackend>();
  }
  core::CoreConfig core_config;
  if (config.default_lease_ttl) core_config.ttls.default_lease_ttl = config.default_lease_ttl;
  if (config.max_lease_ttl) core_config.ttls.max_lease_ttl = config.max_lease_ttl;
  if (config.rollback_interval) core_config.rollback_interval_ms = config.rollback_interval * 1000;
  core_config.telemetry.prometheus_retention_s = config.prometheus_retention_s;
  core_config.telemetry.disable_hostname = config.disable_hostname;
  core_config.telemetry.usage_gauge_period_ms = config.usage_gauge_period_ms;
  if (core_config.ttls.default_lease_ttl > core_config.ttls.max_lease_ttl) {
    std::cerr << "Error: default_lease_ttl must not exceed max_lease_ttl\n";
    return 1;
  }
  // Outbound AWS calls never hold a thread while waiting on IAM. A request on an HTTP I/O thread
  // runs its calls on that thread's loop: it sends, resumes on each reply and answers there.
  // Callers without a loop (core's background work, a request resumed by a storage write) use
  // the client's own libcurl thread. Declared before the core and the server so it outlives
  // every engine and every loop.
  net::CurlHttpClient aws_http(net::CurlOptions{});
  auto aws_clients = aws::NewClientFactory(&aws_http, &aws_http, nullptr, SystemClock::Get());
  // A standby sends its clients' requests on to the active node over the active's api_addr.
  std::unique_ptr<net::CurlHttpClient> forward_http;
  JwtHttpClients jwt_http;
  core::Core core(physical.get(), BuildRegistry(aws_clients, &jwt_http), core_config,
                  SystemClock::Get());
  storage::HaLock* ha_lock = nullptr;
  if (auto* ha = dynamic_cast<storage::HaBackend*>(physical.get())) ha_lock = ha->Lock();
  core::HaConfig ha_addresses;
  if (ha_lock != nullptr) {
    ha_addresses = HaAddresses(config);
    core.EnableHa(ha_lock, ha_addresses);
    forward_http = std::make_unique<net::CurlHttpClient>(net::CurlOptions{});
  }

  std::string unseal_key_b64, root_token;
  if (flags.dev) {
    std::optional<std::string> id;
    if (!flags.dev_root_token_id.empty()) id = flags.dev_root_token_id;
    // Start-up, before any server thread exists: this thread may wait.
    auto init = SyncWait(core.Initialize(1, 1, id));
    if (!init.ok()) {
      std::cerr << "Error initializing dev core: " << init.status().message() << "\n";
      return 1;
    }
    auto unsealed = SyncWait(core.Unseal(init->keys[0]));
    if (!unsealed.ok()) {
      std::cerr << "Error unsealing dev core: " << unsealed.status().message() << "\n";
      return 1;
    }
    unseal_key_b64 = Base64Encode(init->keys[0]);
    root_token = init->root_token;
    if (flags.dev_kv_v2) {
      // The empty version 1 mount is upgraded in place, as `vault kv enable-versioning` does.
      logical::Request tune;
      tune.operation = logical::Operation::kUpdate;
      tune.path = "sys/mounts/secret/tune";
      tune.data = {{"options", {{"version", "2"}}}};
      tune.client_token = root_token;
      auto tuned = SyncWait(core.HandleRequestAsync(tune));
      if (!tuned.ok()) {
        std::cerr << "Error mounting secret/ as KV version 2: " << tuned.status().message() << "\n";
        return 1;
      }
    }
  }

  http::Handler handler(&core, forward_http.get());
  const bool ui = config.ui.value_or(flags.dev);
  handler.set_ui_enabled(ui);
  http::ServerOptions opts;
  opts.listeners = config.listeners;
  opts.max_request_size = config.max_request_size;
  if (config.http_io_time_slice_ns >= 0)
    opts.io_thread_slice_ns = static_cast<uint64_t>(config.http_io_time_slice_ns);
  http::Server server(&handler, opts);
  Status started = server.Start();
  if (!started.ok()) {
    std::cerr << "Error initializing listener: " << started.message() << "\n";
    return 1;
  }
  auto ports = server.Ports();

  std::string out = "==> Vault server configuration:\n\n";
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const auto& l = config.listeners[i];
    std::string addr = l.address;
    if (auto c = addr.rfind(':'); c != std::string::npos)
      addr = addr.substr(0, c + 1) + std::to_string(ports[i]);
    out += "             Listener " + std::to_string(i + 1) + ": tcp (addr: \"" + addr +
           "\", tls: \"" + (l.tls_disable ? "disabled" : "enabled") + "\")\n";
  }
  out +=
      "              Log Level: " + (flags.log_level.empty() ? config.log_level : flags.log_level) +
      "\n";
  out += "                Storage: " + config.storage_type +
         (ha_lock != nullptr ? " (HA available)" : "") + "\n";
  if (ha_lock != nullptr) {
    out += "            Api Address: " + ha_addresses.api_addr + "\n";
    out += "        Cluster Address: " + ha_addresses.cluster_addr + "\n";
  }
  out += "                Version: Vault v" + std::string(kVersion) + " (vault-cpp)\n\n";
  if (flags.dev) {
    std::string addr = config.listeners[0].address;
    if (auto c = addr.rfind(':'); c != std::string::npos)
      addr = addr.substr(0, c + 1) + std::to_string(ports[0]);
    WriteTokenFile(root_token);
    out +=
        "WARNING! dev mode is enabled! In this mode, Vault runs entirely in-memory\n"
        "and starts unsealed with a single unseal key. The root token is already\n"
        "authenticated to the CLI, so you can immediately begin using Vault.\n\n"
        "You may need to set the following environment variables:\n\n"
        "    $ export VAULT_ADDR='http://" +
        addr +
        "'\n\n"
        "The unseal key and root token are displayed below in case you want to\n"
        "seal/unseal the Vault or re-authenticate.\n\n"
        "Unseal Key: " +
        unseal_key_b64 +
        "\n"
        "Root Token: " +
        root_token + "\n\n" +
        (ui ? "The web UI is at http://" + addr + "/ui/ (sign in with the root token).\n\n"
            : std::string()) +
        "The secrets engine at secret/ is KV version " +
        std::string(flags.dev_kv_v2 ? "2" : "1 (-dev-kv-v2 mounts version 2 there)") +
        ".\n\n"
        "Development mode should NOT be used in production installations!\n\n";
  }
  out += "==> Vault server started! Log data will stream in below:\n\n";
  std::cout << out << std::flush;
  server.RunUntilSignal([&core] {
    spdlog::info("==> Vault reload triggered (SIGHUP): reopening audit devices");
    Status st = core.ReopenAuditDevices();
    if (!st.ok()) spdlog::error("reopening audit devices failed: {}", st.message());
  });
  std::cout << "==> Vault shutdown complete\n" << std::flush;
  return 0;
}

}  // namespace vault::cmd
