#include "etcd/testing/etcd_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "etcd/client.h"
#include "net/curl_http_client.h"
#include "util/encoding.h"
#include "util/random.h"

namespace vault::etcd::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string EtcdBinary() {
  const char* env = std::getenv("ETCD_BIN");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/etcd";
}

}  // namespace

EtcdCluster::EtcdCluster(int members) {
  const std::string bin = EtcdBinary();
  if (access(bin.c_str(), X_OK) != 0) {
    error_ = bin + " not found: scripts/install-deps installs etcd-server";
    return;
  }
  root_ = (std::filesystem::temp_directory_path() / ("vault-etcd-" + HexEncode(RandomBytes(6))))
              .string();
  std::filesystem::create_directories(root_);
  std::string initial;
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.dir = root_ + "/" + m.name;
    m.client_url = "http://127.0.0.1:" + std::to_string(FreePort());
    m.peer_url = "http://127.0.0.1:" + std::to_string(FreePort());
    if (!initial.empty()) initial += ",";
    initial += m.name + "=" + m.peer_url;
    members_.push_back(std::move(m));
  }
  for (auto& m : members_) {
    std::vector<std::string> args = {bin,
                                     "--name=" + m.name,
                                     "--data-dir=" + m.dir,
                                     "--listen-client-urls=" + m.client_url,
                                     "--advertise-client-urls=" + m.client_url,
                                     "--listen-peer-urls=" + m.peer_url,
                                     "--initial-advertise-peer-urls=" + m.peer_url,
                                     "--initial-cluster=" + initial,
                                     "--initial-cluster-state=new",
                                     "--log-outputs=" + root_ + "/" + m.name + ".log",
                                     "--logger=zap"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = root_ + "/" + m.name + ".out";
    m.pid = fork();
    if (m.pid == 0) {
      // The member dies with the test process, whatever ends it, and writes nothing to the
      // test's own output (ctest waits until every holder of that pipe is gone).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    if (m.pid < 0) {
      error_ = "could not start " + bin;
      return;
    }
  }
  // Ready when a write goes through (the cluster has a leader).
  net::CurlHttpClient http;
  ClientOptions o;
  o.endpoints = ClientUrls();
  o.request_timeout_ms = 1000;
  Client client(&http, &http, o);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = SyncWait(client.Put("/ready", "1"));
    if (last.ok()) return;
    // Polls a process the test started; nothing signals its readiness.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  error_ = "etcd did not become ready in 30 s: " + last.message() + " (logs in " + root_ + ")";
}

EtcdCluster::~EtcdCluster() {
  for (auto& m : members_) Kill(static_cast<int>(&m - members_.data()));
  if (!root_.empty() && error_.empty()) std::filesystem::remove_all(root_);
}

std::vector<std::string> EtcdCluster::ClientUrls() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(m.client_url);
  return out;
}

void EtcdCluster::Kill(int member) {
  Member& m = members_[member];
  if (m.pid <= 0) return;
  kill(m.pid, SIGKILL);
  int status = 0;
  waitpid(m.pid, &status, 0);
  m.pid = -1;
}

}  // namespace vault::etcd::testing
