// Where an audit device's entries go, one sink per device type:
//   file    file_path (or path): appended to a file, or "stdout", or "discard"; mode
//   socket  address, socket_type (tcp, tcp4, tcp6, udp, udp4, udp6, unix, unixgram, unixpacket;
//           default tcp), write_timeout (Go duration, default 2s)
//   syslog  facility (default AUTH), tag (default vault), socket_path (an extension: the local
//           syslog socket, default /dev/log)
// A sink is given whole entries (the device's prefix, the JSON line and its newline). It is not
// thread safe: the device serializes Open, Write, Reopen and Close.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/json.h"
#include "util/status.h"

namespace vault::core {

// An option's value as a string (booleans and integers as Go would print them); `def` when absent.
std::string AuditOptionString(const Json& options, const char* key, const std::string& def = "");

// kInvalidArgument naming the first option the device type does not take (the options common to
// every device: format, log_raw, hmac_accessor, prefix).
Status CheckAuditOptions(const std::string& type, const Json& options);

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Opens the file or connects the socket: kInvalidArgument with the reason when it cannot.
  virtual Status Open() = 0;
  // Writes one entry whole; kInternal when it could not (within the write timeout). A sink that
  // lost its file or connection opens it again first.
  virtual Status Write(std::string_view entry) = 0;
  // Closes and opens again (SIGHUP: a rotated file, a restarted log collector).
  virtual Status Reopen() {
    Close();
    return Open();
  }
  virtual void Close() = 0;
};

// The sink for a device type configured from its options, not yet open; kInvalidArgument for an
// unknown type or an invalid option (a missing address, an unknown facility, ...).
Result<std::unique_ptr<AuditSink>> MakeAuditSink(const std::string& type, const Json& options);

}  // namespace vault::core
