// Status and Result<T>: the error values every fallible function returns (no exceptions).
// A closed set of codes; http/ maps each to one Vault HTTP status in a single switch.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vault {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,       // 400
  kPermissionDenied,      // 403
  kNotFound,              // 404
  kUnsupportedOperation,  // 405
  kAlreadyExists,         // 409 (mount path in use)
  kPayloadTooLarge,       // 413
  kRateLimited,           // 429
  kInternal,              // 500
  kUnimplemented,         // 501
  kUpstream,              // 502 (AWS)
  kUpstreamThrottled,     // 502: AWS still throttled after the client's retries
  kUnavailable,           // 503 (sealed)
};

// A Status is a code plus zero or more messages (Vault's "errors" array). An error with no
// message renders as {"errors":[]} (Vault's shape for "not found").
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code) {
    if (!message.empty()) messages_.push_back(std::move(message));
  }
  Status(StatusCode code, std::vector<std::string> messages)
      : code_(code), messages_(std::move(messages)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::vector<std::string>& messages() const { return messages_; }
  // All messages joined with "; " (for logs and tests).
  std::string message() const;
  std::string ToString() const;
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::vector<std::string> messages_;
};

Status InvalidArgument(std::string msg);
Status PermissionDenied(std::string msg = "permission denied");
Status NotFound(std::string msg = "");
Status UnsupportedOperation(std::string msg = "unsupported operation");
Status AlreadyExists(std::string msg);
Status Internal(std::string msg);
Status Unavailable(std::string msg);
Status Upstream(std::string msg);

const char* StatusCodeName(StatusCode code);

// Result<T>: either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace vault

#define VAULT_CONCAT_INNER(a, b) a##b
#define VAULT_CONCAT(a, b) VAULT_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)     \
  do {                            \
    ::vault::Status _st = (expr); \
    if (!_st.ok()) return _st;    \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(VAULT_CONCAT(_res_, __LINE__), lhs, expr)

// The same for coroutines (co_return). `expr` may contain co_await, but not inside `?:`
// (GCC 12 miscompiles that).
#define CO_RETURN_IF_ERROR(expr)  \
  do {                            \
    ::vault::Status _st = (expr); \
    if (!_st.ok()) co_return _st; \
  } while (0)

#define CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) co_return tmp.status();         \
  lhs = std::move(tmp).value()

#define CO_ASSIGN_OR_RETURN(lhs, expr) \
  CO_ASSIGN_OR_RETURN_IMPL(VAULT_CONCAT(_co_res_, __LINE__), lhs, expr)
