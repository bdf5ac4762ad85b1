// A client for etcd's v3 API. The KV service (Range, Put, DeleteRange, Txn: every storage call,
// and the bulk reads of a takeover) goes over etcd's native gRPC API (grpc_kv.h); the lease
// calls of the HA lock, the member list and authentication go through the JSON gateway etcd
// serves on the same client port, over a net::HttpClient (docs/decisions/0005 and 0007 say
// why). No call holds a thread while etcd answers: every method returns a Task.
//
// Failover: the client talks to one member at a time and moves to the next when that one fails
// (connection refused or reset, a timeout, or etcd's "Unavailable": no leader, leader changed,
// server stopping). A call is retried, on the next member, with a short backoff, until its
// request_timeout has passed in total. Writes are retried too: each is idempotent in effect (a
// put of the same value, a delete, an atomic batch of those), so applying one twice changes
// nothing a reader could tell from applying it once at the later time.
//
// Through the gateway, bytes travel base64-encoded; 64-bit integers come back as JSON strings and
// fields holding their default value are omitted: the parsers here read both.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/grpc_kv.h"
#include "etcd/types.h"
#include "net/http_client.h"
#include "util/json.h"
#include "util/lock_annotations.h"
#include "util/status.h"
#include "util/task.h"

namespace vault::etcd {

struct ClientOptions {
  // Member client URLs ("http://127.0.0.1:2379", "https://etcd-1:2379"). At least one.
  std::vector<std::string> endpoints;
  // Per call, retries included (Vault's request_timeout, default 5 s).
  int64_t request_timeout_ms = 5000;
  // etcd v3 authentication: used when both are set (a token is fetched and renewed as needed).
  std::string username;
  std::string password;  // secret: never logged
  // PEM CA certificates https:// members are checked against (empty: the system's), for the
  // gRPC channels (the HTTP client is given its CA file by whoever builds it).
  std::string ca_pem;
};

class Client {
 public:
  // `http` is not owned and must outlive the client; so must `timer` (backoff between retries).
  Client(net::HttpClient* http, net::Timer* timer, ClientOptions options);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Checks the options (every endpoint an http:// or https:// URL with a host).
  static Status Validate(const ClientOptions& options);

  Task<Result<RangeResult>> Range(RangeRequest request);
  Task<Status> Put(std::string key, std::string value, int64_t lease = 0);
  // Keys deleted. `range_end` empty = exactly `key`.
  Task<Result<int64_t>> DeleteRange(std::string key, std::string range_end = {});
  Task<Result<TxnResult>> Txn(TxnRequest request);

  // A lease of `ttl_seconds` (etcd raises it to its minimum, about 2 s); returns its id and TTL.
  struct Lease {
    int64_t id = 0;
    int64_t ttl = 0;
  };
  Task<Result<Lease>> LeaseGrant(int64_t ttl_seconds);
  // One keep-alive: the lease's TTL now, 0 if the lease is gone (expired or revoked).
  Task<Result<int64_t>> LeaseKeepAlive(int64_t id);
  Task<Status> LeaseRevoke(int64_t id);

  // Every member's client URLs (etcd's MemberList; learners left out), for Vault's `sync`.
  Task<Result<std::vector<std::string>>> MemberClientUrls();
  // Uses these members from now on (after MemberClientUrls). Call before any other call.
  void SetEndpoints(std::vector<std::string> endpoints);

  // The member the next call goes to (tests, status output).
  std::string CurrentEndpoint() const;

 private:
  // Runs attempt(member, token, timeout_ms) -> Task<Attempt<T>> on the current member, failing
  // over and retrying as described above until request_timeout; etcd's error as a Status.
  template <typename T, typename F>
  Task<Result<T>> Retry(const char* what, const F& attempt);
  // POSTs `body` to `path` through the gateway (with Retry). The parsed answer of a 200.
  Task<Result<Json>> Call(const char* path, Json body);
  Task<Attempt<Json>> HttpAttempt(const char* path, const std::string& body, size_t member,
                                  std::string token, int64_t timeout_ms);
  Task<Result<std::string>> AuthToken(bool refresh);

  net::HttpClient* http_;
  net::Timer* timer_;
  ClientOptions options_;
  std::unique_ptr<GrpcKv> grpc_;  // one channel per member of options_.endpoints
  std::atomic<size_t> current_{0};
  std::mutex token_mu_;
  std::string token_ GUARDED_BY(token_mu_);  // etcd auth token; secret: never logged
};

}  // namespace vault::etcd
