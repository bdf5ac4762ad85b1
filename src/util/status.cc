#include "util/status.h"

namespace vault {

std::string Status::message() const {
  std::string out;
  for (const auto& m : messages_) {
    if (!out.empty()) out += "; ";
    out += m;
  }
  return out;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message();
}

Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
Status UnsupportedOperation(std::string msg) {
  return {StatusCode::kUnsupportedOperation, std::move(msg)};
}
Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
Status Upstream(std::string msg) { return {StatusCode::kUpstream, std::move(msg)}; }

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kUnsupportedOperation:
      return "UNSUPPORTED_OPERATION";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kPayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case StatusCode::kRateLimited:
      return "RATE_LIMITED";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kUpstream:
      return "UPSTREAM";
    case StatusCode::kUpstreamThrottled:
      return "UPSTREAM_THROTTLED";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
  }
  return "UNKNOWN";
}

}  // namespace vault
