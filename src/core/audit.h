// The audit broker: enabled audit devices (sys/audit), persisted at core/audit through the
// barrier, each with its own HMAC salt (audit/<uuid>/salt). Every request and every response is
// written as one JSON line to every device (a file, a socket, the local syslog: audit_sink.h),
// with secrets (tokens, accessors, every string in request/response data and auth blocks)
// replaced by "hmac-sha256:<hex>" keyed by the device's salt; sys/audit-hash computes the same
// HMAC for a known value.
//
// Fail closed: when at least one device is enabled and none can record an entry, LogRequest /
// LogResponse return kInternal and the caller refuses the request (before it runs) or discards
// the response. Writes are synchronous: a socket device that cannot write holds the request for
// at most its write_timeout. Thread safety: all methods may be called concurrently; each device
// serializes its own writes, so lines never interleave, and Reopen (SIGHUP) swaps the file or
// connection between lines.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/token_store.h"
#include "logical/logical.h"
#include "util/async_mutex.h"
#include "util/clock.h"
#include "util/lock_annotations.h"

namespace vault::core {

// An audit entry in JSONx (format = "jsonx"): IBM's XML rendering of JSON, as Vault writes it
// (an XML declaration, then the object with its members in key order).
std::string ToJsonx(const Json& object);

struct AuditDeviceEntry {
  std::string path;  // always ends in '/'
  std::string type;  // "file", "socket" or "syslog"
  std::string description;
  Json options = Json::object();  // string values, by device type: audit_sink.h; for all:
                                  // log_raw, hmac_accessor, format, prefix
  std::string uuid;
  bool local = false;

  Json ToJson() const;
  static AuditDeviceEntry FromJson(const Json& j);
};

// What one audited request is about.
struct AuditRecord {
  std::string request_id;
  const logical::Request* request = nullptr;  // path is the full path ("secret/foo")
  std::string mount_type;
  const TokenEntry* token = nullptr;  // null if the token was missing/invalid
};

class AuditDevice;

class AuditBroker {
 public:
  AuditBroker(logical::Storage* barrier, Clock* clock);
  ~AuditBroker();

  // Reads the device table and opens every device. Call after unseal. A device that fails to
  // open is kept (and logged); with no device able to write, requests fail closed.
  Task<Status> Load();
  // Closes every device. Call on seal.
  void Unload();

  // Enables a device (path normalized); opens it first (the file, the socket's connection): 400
  // if it cannot, 400 for an unknown type, an option the type does not take or a path in use.
  Task<Status> Enable(AuditDeviceEntry entry);
  // Disables a device; unknown paths succeed.
  Task<Status> Disable(std::string path);
  std::vector<AuditDeviceEntry> List() const;
  // "hmac-sha256:<hex>" of input with the device's salt; kInvalidArgument for an unknown path.
  Result<std::string> Hash(std::string_view path, std::string_view input) const;
  // Reopens every device: files (log rotation on SIGHUP) and sockets (a new connection).
  Status Reopen();

  // Record a request (error: why it was refused, if it was) / a response or error. kInternal
  // when devices are enabled and none recorded the entry.
  // LogRequest assigns rec.request_id (shared with the response entry) when devices exist.
  Status LogRequest(AuditRecord& rec, const Status& error);
  Status LogResponse(const AuditRecord& rec, const Result<logical::Response>& resp);

 private:
  Status Log(const AuditRecord& rec, const Status& error, const logical::Response* resp,
             bool is_response);
  // Stores the device table (`devices`); the caller holds table_mu_.
  Task<Status> Persist(std::vector<std::shared_ptr<AuditDevice>> devices);
  // Orders the table's changes (Enable, Disable) across their storage writes.
  AsyncMutex table_mu_;

  logical::Storage* barrier_;
  Clock* clock_;
  mutable std::shared_mutex mu_;  // devices_ and the table
  std::vector<std::shared_ptr<AuditDevice>> devices_ GUARDED_BY(mu_);
};

}  // namespace vault::core
