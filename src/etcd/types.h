// The messages of etcd's KV service as the client's callers see them: plain structs, free of
// gRPC and JSON (etcd::Client, grpc_kv.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vault::etcd {

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

}  // namespace vault::etcd
