// etcd's KV service (Range, Put, DeleteRange, Txn) over its native gRPC API: the calls the
// storage backend makes on every request and, in bulk, at takeover (the lease restore reads
// every lease key). gRPC and protobuf headers stay inside grpc_kv.cc; this header has none.
//
// One channel per member (HTTP/2, one connection multiplexing every call, with keep-alive
// pings). Each method is one attempt on one member: failover, retries and the auth token are the
// caller's (etcd::Client), which sees the outcome as gRPC's status code and message.
//
// Threads: a call completes on one of gRPC's threads; the awaiting coroutine resumes on the event
// loop it started on (EventLoop::Current() at the call), or on that gRPC thread when it had none.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcd/types.h"
#include "util/task.h"

namespace vault::etcd {

// gRPC status codes the client acts on.
inline constexpr int kGrpcOk = 0;
inline constexpr int kGrpcUnknown = 2;
inline constexpr int kGrpcDeadlineExceeded = 4;
inline constexpr int kGrpcInvalidArgument = 3;
inline constexpr int kGrpcNotFound = 5;
inline constexpr int kGrpcResourceExhausted = 8;
inline constexpr int kGrpcInternal = 13;
inline constexpr int kGrpcUnavailable = 14;
inline constexpr int kGrpcUnauthenticated = 16;

// What one call to one member came to: a value, or gRPC's status code and etcd's message.
template <typename T>
struct Attempt {
  std::optional<T> value;
  int code = kGrpcOk;
  std::string message;
};

class GrpcKv {
 public:
  // `endpoints`: member URLs (http:// plaintext, https:// TLS). `ca_pem`: the CA certificates
  // https members are checked against (empty: the system's). Channels connect lazily.
  GrpcKv(const std::vector<std::string>& endpoints, const std::string& ca_pem);
  ~GrpcKv();
  GrpcKv(const GrpcKv&) = delete;
  GrpcKv& operator=(const GrpcKv&) = delete;

  // `token`: etcd's auth token (empty: none). `timeout_ms`: the attempt's deadline.
  Task<Attempt<RangeResult>> Range(size_t member, const RangeRequest& request, std::string token,
                                   int64_t timeout_ms);
  Task<Attempt<bool>> Put(size_t member, const std::string& key, const std::string& value,
                          int64_t lease, std::string token, int64_t timeout_ms);
  // The number of keys deleted.
  Task<Attempt<int64_t>> DeleteRange(size_t member, const std::string& key,
                                     const std::string& range_end, std::string token,
                                     int64_t timeout_ms);
  Task<Attempt<TxnResult>> Txn(size_t member, const TxnRequest& request, std::string token,
                               int64_t timeout_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vault::etcd
