// A client for etcd's v3 API, spoken through the JSON gateway etcd serves on its client port
// (POST /v3/kv/range, /v3/kv/txn, /v3/lease/grant, ...; docs/decisions/0005-etcd-json-gateway.md
// says why not gRPC). It sends over a net::HttpClient, so no call holds a thread while etcd
// answers: every method returns a Task that resumes on the thread that delivered the answer.
//
// Failover: the client talks to one member at a time and moves to the next when that one fails
// (connection refused or reset, a timeout, or etcd's "Unavailable": no leader, leader changed,
// server stopping). A call is retried, on the next member, with a short backoff, until its
// request_timeout has passed in total. Writes are retried too: each is idempotent in effect (a
// put of the same value, a delete, an atomic batch of those), so applying one twice changes
// nothing a reader could tell from applying it once at the later time.
//
// Bytes (keys, values) travel base64-encoded; 64-bit integers come back as JSON strings and
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
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeRequest {
  std::string key;
  std::string range_end;  // empty = exactly `key`
  int64_t limit = 0;      // 0 = no limit
  int64_t revision = 0;   // 0 = latest
  bool keys_only = false;
  bool count_only = false;
  enum class Sort { kNone, kKeyAscend, kCreateAscend, kCreateDescend } sort = Sort::kNone;
  int64_t max_create_revision = 0;  // 0 = none
};

struct RangeResult {
  int64_t revision = 0;  // the store's revision the range was read at
  std::vector<KeyValue> kvs;
  bool more = false;  // more keys matched than `limit` returned
  int64_t count = 0;  // keys that matched
};

// One operation of a transaction's branch: a put (value set), a delete (no value) or a range.
struct TxnOp {
  enum class Kind { kPut, kDelete, kRange } kind = Kind::kPut;
  std::string key;
  std::string value;      // kPut
  int64_t lease = 0;      // kPut: attach to this lease (0 = none)
  std::string range_end;  // kDelete/kRange: empty = exactly `key`
};

// A comparison every one of which must hold for the success branch to run.
struct Compare {
  enum class Target { kVersion, kCreate, kMod, kValue, kLease } target = Target::kCreate;
  enum class Result { kEqual, kGreater, kLess, kNotEqual } result = Result::kEqual;
  std::string key;
  int64_t number = 0;  // version / create_revision / mod_revision / lease
  std::string value;   // kValue
};

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResult {
  int64_t revision = 0;
  bool succeeded = false;
  // The ranges of the branch that ran, in order (puts and deletes leave no entry).
  std::vector<RangeResult> ranges;
};

// The smallest key greater than every key starting with `prefix` (etcd's prefix range end):
// "/vault/" -> "/vault0"; "\0" when there is none (an empty or all-0xff prefix).
std::string PrefixEnd(std::string_view prefix);

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
  void SetEndpoints(std::vector<std::string> endpoints) {
    options_.endpoints = std::move(endpoints);
  }

  // The member the next call goes to (tests, status output).
  std::string CurrentEndpoint() const;

 private:
  // POSTs `body` to `path` on the current member, failing over and retrying as described above.
  // Returns the parsed answer of a 200; etcd's error as a Status otherwise.
  Task<Result<Json>> Call(const char* path, Json body);
  Task<Result<std::string>> AuthToken(bool refresh);

  net::HttpClient* http_;
  net::Timer* timer_;
  ClientOptions options_;
  std::atomic<size_t> current_{0};
  std::mutex token_mu_;
  std::string token_ GUARDED_BY(token_mu_);  // etcd auth token; secret: never logged
};

}  // namespace vault::etcd
