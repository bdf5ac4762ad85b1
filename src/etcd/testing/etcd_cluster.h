// Test fixture: real etcd members (Debian's etcd-server, /usr/bin/etcd or ETCD_BIN) on loopback,
// each in a temporary directory, on ports the kernel picked free. Built into the tests only.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace vault::etcd::testing {

class EtcdCluster {
 public:
  // Starts `members` members as one cluster and waits until it has a leader (a put succeeds).
  explicit EtcdCluster(int members = 1);
  // Kills every member and removes their directories.
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Empty when the cluster started; else why not (no etcd binary, a member exited...).
  const std::string& error() const { return error_; }
  // Every member's client URL, "http://127.0.0.1:PORT".
  std::vector<std::string> ClientUrls() const;
  const std::string& ClientUrl(int member) const { return members_[member].client_url; }
  // SIGKILL one member (it stays down).
  void Kill(int member);

 private:
  struct Member {
    std::string name;
    std::string dir;
    std::string client_url;
    std::string peer_url;
    pid_t pid = -1;
  };
  std::string root_;
  std::vector<Member> members_;
  std::string error_;
};

}  // namespace vault::etcd::testing
