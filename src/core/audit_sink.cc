#include "core/audit_sink.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>

#include "util/duration.h"
#include "util/log.h"
#include "util/strings.h"

namespace vault::core {

std::string AuditOptionString(const Json& options, const char* key, const std::string& def) {
  if (!options.is_object() || !options.contains(key)) return def;
  const Json& v = options[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return def;
}

Status CheckAuditOptions(const std::string& type, const Json& options) {
  static const std::map<std::string, std::vector<std::string>> kOwn = {
      {"file", {"file_path", "path", "mode"}},
      {"socket", {"address", "socket_type", "write_timeout"}},
      {"syslog", {"facility", "tag", "socket_path"}}};
  auto it = kOwn.find(type);
  if (it == kOwn.end()) return InvalidArgument("unknown backend type: \"" + type + "\"");
  std::vector<std::string> known = it->second;
  for (const char* common : {"format", "log_raw", "hmac_accessor", "prefix"})
    known.push_back(common);
  if (!options.is_object()) return Status::Ok();
  for (const auto& [key, value] : options.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return InvalidArgument("the " + type + " audit device does not support the option \"" + key +
                           "\" (its options: " + list + ")");
  }
  return Status::Ok();
}

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Milliseconds left until `deadline` (0 once it has passed), for poll.
int MillisLeft(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, INT_MAX));
}

// Waits until fd is ready for `events`: 0, ETIMEDOUT at the deadline, or poll's errno.
int WaitFd(int fd, short events, SteadyTime deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    return n == 0 ? ETIMEDOUT : 0;
  }
}

// Sends all of data on a non-blocking socket before the deadline: 0 or an errno.
int SendAll(int fd, std::string_view data, SteadyTime deadline) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return errno;
    if (int err = WaitFd(fd, POLLOUT, deadline)) return err;
  }
  return 0;
}

// Go's net.SplitHostPort: "host:port" or "[v6]:port".
bool SplitHostPort(const std::string& address, std::string* host, std::string* port) {
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':')
      return false;
    *host = address.substr(1, close - 1);
    *port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) return false;
    *host = address.substr(0, colon);
    *port = address.substr(colon + 1);
    if (host->find(':') != std::string::npos) return false;  // an IPv6 address needs brackets
  }
  return !port->empty();
}

// A connection to a socket: TCP, UDP or a unix socket. Entries are sent whole before a write
// timeout; a connection that broke is replaced, and the entry sent once more, as Vault does.
class SocketSink : public AuditSink {
 public:
  // network: one of the socket types; address: "host:port" or a unix socket's path ("@name"
  // for Linux's abstract namespace). Checked by Make.
  SocketSink(std::string network, std::string address, int64_t timeout_nanos)
      : network_(std::move(network)),
        address_(std::move(address)),
        timeout_(std::chrono::nanoseconds(timeout_nanos)) {
    unix_ = network_.rfind("unix", 0) == 0;
    socktype_ = network_ == "unixgram" || network_.rfind("udp", 0) == 0 ? SOCK_DGRAM
                : network_ == "unixpacket"                              ? SOCK_SEQPACKET
                                                                        : SOCK_STREAM;
    family_ = network_.back() == '4' ? AF_INET : network_.back() == '6' ? AF_INET6 : AF_UNSPEC;
  }
  ~SocketSink() override { Close(); }

  static Result<std::unique_ptr<SocketSink>> Make(const std::string& network,
                                                  const std::string& address,
                                                  int64_t timeout_nanos) {
    static const char* kNetworks[] = {"tcp",  "tcp4", "tcp6",     "udp",       "udp4",
                                      "udp6", "unix", "unixgram", "unixpacket"};
    if (std::find_if(std::begin(kNetworks), std::end(kNetworks),
                     [&](const char* n) { return network == n; }) == std::end(kNetworks))
      return InvalidArgument("unsupported socket_type \"" + network +
                             "\" (tcp, tcp4, tcp6, udp, udp4, udp6, unix, unixgram, unixpacket)");
    if (address.empty()) return InvalidArgument("address is required");
    if (network.rfind("unix", 0) == 0) {
      if (address.size() >= sizeof(sockaddr_un{}.sun_path))
        return InvalidArgument("the unix socket path \"" + address + "\" is too long");
    } else {
      std::string host, port;
      if (!SplitHostPort(address, &host, &port))
        return InvalidArgument("invalid address \"" + address + "\": expected host:port");
    }
    if (timeout_nanos <= 0) return InvalidArgument("write_timeout must be positive");
    return std::make_unique<SocketSink>(network, address, timeout_nanos);
  }

  // Makes a unixgram connection fall back to a stream one when the socket is a stream socket
  // (syslog(3) does the same with /dev/log).
  void AllowStreamFallback() { stream_fallback_ = true; }

  Status Open() override {
    std::string why = Connect(Deadline());
    if (!why.empty())
      return InvalidArgument("failed to connect to the " + network_ + " socket \"" + address_ +
                             "\": " + why);
    return Status::Ok();
  }

  Status Write(std::string_view entry) override {
    if (fd_ >= 0 && connected_stream() && PeerClosed()) Close();
    bool reused = fd_ >= 0;
    std::string why = reused ? "" : Connect(Deadline());
    if (why.empty()) {
      int err = SendAll(fd_, entry, Deadline());
      if (err != 0 && err != ETIMEDOUT && reused) {
        // The connection broke since the last entry (the reader restarted, a datagram was
        // refused): connect again and send once more.
        Close();
        why = Connect(Deadline());
        if (why.empty()) err = SendAll(fd_, entry, Deadline());
      }
      if (why.empty() && err == ETIMEDOUT)
        why = "write timed out after " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count()) +
              "ms";
      else if (why.empty() && err != 0)
        why = std::strerror(err);
    }
    if (!why.empty()) {
      Close();
      spdlog::error("audit: writing to the {} socket {} failed: {}", network_, address_, why);
      return Internal("writing to the " + network_ + " socket \"" + address_ + "\" failed");
    }
    return Status::Ok();
  }

  void Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  SteadyTime Deadline() const { return std::chrono::steady_clock::now() + timeout_; }
  bool connected_stream() const { return socktype_ != SOCK_DGRAM; }

  // True when the reader closed the connection (read end of file, or an error is pending). The
  // reader is not expected to send anything; what it sends is dropped.
  bool PeerClosed() {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, 0);
      if (n <= 0) return false;
      if (p.revents & (POLLERR | POLLHUP)) return true;
      char buf[4096];
      ssize_t got = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (got == 0) return true;
      if (got < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
  }

  // Connects fd_ before the deadline: "" or why it could not.
  std::string Connect(SteadyTime deadline) {
    Close();
    if (unix_) {
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::memcpy(sa.sun_path, address_.data(), address_.size());
      if (address_[0] == '@') sa.sun_path[0] = '\0';  // the abstract namespace
      auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                        (address_[0] == '@' ? 0 : 1));
      int err = ConnectOne(AF_UNIX, socktype_, reinterpret_cast<sockaddr*>(&sa), len, deadline);
      if (err == EPROTOTYPE && stream_fallback_)
        err = ConnectOne(AF_UNIX, SOCK_STREAM, reinterpret_cast<sockaddr*>(&sa), len, deadline);
      return err == 0 ? "" : std::strerror(err);
    }
    std::string host, port;
    SplitHostPort(address_, &host, &port);
    addrinfo hints{};
    hints.ai_family = family_;
    hints.ai_socktype = socktype_;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) return std::string("cannot resolve \"") + address_ + "\": " + gai_strerror(rc);
    int err = EHOSTUNREACH;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      err = ConnectOne(ai->ai_family, ai->ai_socktype, ai->ai_addr, ai->ai_addrlen, deadline);
      if (err == 0) break;
    }
    ::freeaddrinfo(res);
    if (err == ETIMEDOUT) return "connecting timed out";
    return err == 0 ? "" : std::strerror(err);
  }

  // One non-blocking connect, awaited until the deadline: sets fd_ and returns 0, or an errno.
  int ConnectOne(int family, int socktype, const sockaddr* sa, socklen_t len, SteadyTime deadline) {
    int fd = ::socket(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    int err = ::connect(fd, sa, len) == 0 ? 0 : errno;
    if (err == EINPROGRESS || err == EINTR) {
      err = WaitFd(fd, POLLOUT, deadline);
      if (err == 0) {
        socklen_t l = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) err = errno;
      }
    }
    if (err != 0) {
      ::close(fd);
      return err;
    }
    fd_ = fd;
    return 0;
  }

  const std::string network_;
  const std::string address_;
  const std::chrono::nanoseconds timeout_;
  bool unix_ = false;
  int socktype_ = SOCK_STREAM;
  int family_ = AF_UNSPEC;
  bool stream_fallback_ = false;
  int fd_ = -1;
};

// The file device's sink: appends with O_APPEND; "stdout" and "discard" are special.
class FileSink : public AuditSink {
 public:
  FileSink(std::string path, int mode) : path_(std::move(path)), mode_(mode) {}
  ~FileSink() override { Close(); }

  Status Open() override {
    if (path_ == "discard") return Status::Ok();
    if (path_ == "stdout") {
      fd_ = ::dup(STDOUT_FILENO);
      if (fd_ < 0) return InvalidArgument("cannot write to stdout");
      return Status::Ok();
    }
    int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode_);
    if (fd < 0)
      return InvalidArgument("sys/audit: failed to open file \"" + path_ +
                             "\": " + std::strerror(errno));
    fd_ = fd;
    return Status::Ok();
  }

  Status Write(std::string_view entry) override {
    if (path_ == "discard") return Status::Ok();
    if (fd_ < 0) {
      // A previous open or write failed: try again before giving up on this entry.
      Status st = Open();
      if (!st.ok()) return Internal("audit file \"" + path_ + "\" is not writable");
    }
    size_t off = 0;
    while (off < entry.size()) {
      ssize_t n = ::write(fd_, entry.data() + off, entry.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        spdlog::error("audit: writing to {} failed: {}", path_, std::strerror(errno));
        Close();
        return Internal("audit file \"" + path_ + "\" failed to write");
      }
      off += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  void Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  const std::string path_;
  const int mode_;
  int fd_ = -1;
};

// syslog(3)'s facilities by name.
int SyslogFacility(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, int> kFacilities = {
      {"kern", 0},      {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
      {"syslog", 5},    {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
      {"authpriv", 10}, {"ftp", 11},    {"local0", 16}, {"local1", 17}, {"local2", 18},
      {"local3", 19},   {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23}};
  auto it = kFacilities.find(name);
  return it == kFacilities.end() ? -1 : it->second;
}

// The local syslog socket, written as syslog(3) writes it: one datagram per entry,
// "<PRI>Mmm dd hh:mm:ss TAG[PID]: ENTRY", at severity info.
class SyslogSink : public AuditSink {
 public:
  SyslogSink(std::unique_ptr<SocketSink> socket, int facility, std::string tag)
      : socket_(std::move(socket)), priority_(facility * 8 + 6), tag_(std::move(tag)) {
    socket_->AllowStreamFallback();
  }

  Status Open() override { return socket_->Open(); }

  Status Write(std::string_view entry) override {
    static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%s %2d %02d:%02d:%02d", kMonths[tm.tm_mon], tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::string msg = "<" + std::to_string(priority_) + ">" + stamp + " " + tag_ + "[" +
                      std::to_string(::getpid()) + "]: ";
    msg.append(entry);
    return socket_->Write(msg);
  }

  void Close() override { socket_->Close(); }

 private:
  std::unique_ptr<SocketSink> socket_;
  const int priority_;
  const std::string tag_;
};

constexpr int64_t kDefaultWriteTimeoutNanos = 2'000'000'000;

}  // namespace

Result<std::unique_ptr<AuditSink>> MakeAuditSink(const std::string& type, const Json& options) {
  if (type == "file") {
    std::string path = AuditOptionString(options, "file_path");
    if (path.empty()) path = AuditOptionString(options, "path");  // the 2015 option name
    if (path.empty()) return InvalidArgument("file_path is required");
    std::string mode = AuditOptionString(options, "mode", "0600");
    char* end = nullptr;
    long m = std::strtol(mode.c_str(), &end, 8);
    if (mode.empty() || *end != '\0' || m < 0 || m > 0777)
      return InvalidArgument("invalid file mode \"" + mode + "\"");
    return std::unique_ptr<AuditSink>(std::make_unique<FileSink>(path, static_cast<int>(m)));
  }
  if (type == "socket") {
    std::string address = AuditOptionString(options, "address");
    if (address.empty()) return InvalidArgument("address is required");
    std::string network = AuditOptionString(options, "socket_type", "tcp");
    int64_t timeout = kDefaultWriteTimeoutNanos;
    std::string raw_timeout = AuditOptionString(options, "write_timeout");
    if (!raw_timeout.empty()) {
      // A Go duration ("500ms", "2s") or whole seconds.
      auto nanos = ParseGoDurationNanos(raw_timeout);
      auto seconds = ParseDurationSeconds(raw_timeout);
      if (nanos.ok())
        timeout = *nanos;
      else if (seconds.ok())
        timeout = *seconds * 1'000'000'000;
      else
        return InvalidArgument("invalid write_timeout \"" + raw_timeout + "\"");
    }
    ASSIGN_OR_RETURN(auto sink, SocketSink::Make(network, address, timeout));
    return std::unique_ptr<AuditSink>(std::move(sink));
  }
  if (type == "syslog") {
    std::string facility_name = AuditOptionString(options, "facility", "AUTH");
    int facility = SyslogFacility(facility_name);
    if (facility < 0) return InvalidArgument("invalid syslog facility \"" + facility_name + "\"");
    std::string tag = AuditOptionString(options, "tag", "vault");
    std::string path = AuditOptionString(options, "socket_path", "/dev/log");
    if (path.empty()) return InvalidArgument("socket_path must not be empty");
    ASSIGN_OR_RETURN(auto socket, SocketSink::Make("unixgram", path, kDefaultWriteTimeoutNanos));
    return std::unique_ptr<AuditSink>(
        std::make_unique<SyslogSink>(std::move(socket), facility, tag));
  }
  return InvalidArgument("unknown backend type: \"" + type + "\"");
}

}  // namespace vault::core
