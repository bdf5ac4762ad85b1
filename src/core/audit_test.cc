#include "core/audit.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/hash.h"
#include "logical/testing.h"
#include "util/encoding.h"

namespace vault::core {
namespace {

std::vector<Json> ReadLines(const std::string& path) {
  std::ifstream f(path);
  std::vector<Json> out;
  std::string line;
  while (std::getline(f, line)) {
    auto j = ParseJson(line);
    EXPECT_TRUE(j.ok()) << line;
    if (j.ok()) out.push_back(*j);
  }
  return out;
}

// The other end of a socket device, opened by the test: a listening TCP or unix stream socket,
// or a bound UDP or unix datagram socket. Entries are read from the kernel's buffers after the
// device wrote them, so no thread is needed.
class Reader {
 public:
  enum Kind { kTcp, kUdp, kUnix, kUnixgram };
  // TCP and UDP bind 127.0.0.1 on `port` (0: any free port); unix kinds bind `path`.
  Reader(Kind kind, std::string path = "", int port = 0) : kind_(kind), path_(std::move(path)) {
    bool dgram = kind == kUdp || kind == kUnixgram;
    int family = kind == kTcp || kind == kUdp ? AF_INET : AF_UNIX;
    fd_ = ::socket(family, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    if (family == AF_INET) {
      int one = 1;
      ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sa.sin_port = htons(static_cast<uint16_t>(port));
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0)
          << std::strerror(errno);
      socklen_t len = sizeof sa;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
      port_ = ntohs(sa.sin_port);
    } else {
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0)
          << std::strerror(errno);
    }
    if (!dgram) {
      EXPECT_EQ(::listen(fd_, 8), 0);
    }
  }
  ~Reader() { Close(); }

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Closes the connection and the listening socket (and removes a unix socket's file).
  void Close() {
    if (conn_ >= 0) ::close(conn_);
    if (fd_ >= 0) ::close(fd_);
    conn_ = fd_ = -1;
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  // The next `n` entries (a stream's lines, or datagrams, without their newline); fewer if they
  // do not arrive within 5 seconds. A stream reader takes the newest connection.
  std::vector<std::string> Read(size_t n) {
    std::vector<std::string> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool dgram = kind_ == kUdp || kind_ == kUnixgram;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      if (!dgram) {
        size_t nl;
        while (out.size() < n && (nl = buf_.find('\n')) != std::string::npos) {
          out.push_back(buf_.substr(0, nl));
          buf_.erase(0, nl + 1);
        }
        if (out.size() == n) break;
      }
      pollfd p[2] = {{fd_, POLLIN, 0}, {conn_, POLLIN, 0}};
      if (::poll(p, conn_ >= 0 ? 2 : 1, 100) <= 0) continue;
      char chunk[65536];
      if (dgram) {
        ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
        if (got <= 0) continue;
        std::string msg(chunk, static_cast<size_t>(got));
        if (!msg.empty() && msg.back() == '\n') msg.pop_back();
        out.push_back(msg);
        continue;
      }
      if (p[0].revents & POLLIN) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          if (conn_ >= 0) ::close(conn_);
          conn_ = c;
          buf_.clear();
        }
        continue;
      }
      ssize_t got = ::recv(conn_, chunk, sizeof chunk, 0);
      if (got > 0) buf_.append(chunk, static_cast<size_t>(got));
    }
    return out;
  }

 private:
  Kind kind_;
  std::string path_;
  int fd_ = -1;
  int conn_ = -1;
  int port_ = 0;
  std::string buf_;
};

class AuditTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vault-audit-test-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    log_ = (dir_ / "audit.log").string();
    char sock_dir[] = "/tmp/vault-audit-XXXXXX";  // short: a unix socket's path has 107 bytes
    ASSERT_NE(::mkdtemp(sock_dir), nullptr);
    sock_dir_ = sock_dir;
    ASSERT_TRUE(SyncWait(broker_.Load()).ok());
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::remove_all(sock_dir_);
  }
  Status EnableFile(const std::string& path, Json options) {
    return Enable(path, "file", std::move(options));
  }
  Status Enable(const std::string& path, const std::string& type, Json options) {
    AuditDeviceEntry e;
    e.path = path;
    e.type = type;
    e.options = std::move(options);
    return SyncWait(broker_.Enable(e));
  }
  // Records one request for secret/app/x with the data {"password": password}.
  Status LogSecret(const std::string& password = "hunter2") {
    req_ = logical::Request();
    req_.operation = logical::Operation::kUpdate;
    req_.path = "secret/app/x";
    req_.client_token = "hvs.supersecrettoken";
    req_.data = {{"password", password}};
    AuditRecord rec{"", &req_, "kv", nullptr};
    return broker_.LogRequest(rec, Status::Ok());
  }
  std::string Sock(const std::string& name) const { return (sock_dir_ / name).string(); }

  std::filesystem::path dir_;
  std::filesystem::path sock_dir_;
  std::string log_;
  logical::Request req_;
  logical::MemStorage storage_;
  FakeClock clock_;
  AuditBroker broker_{&storage_, &clock_};
};

TEST_F(AuditTest, NoDevicesNoAuditing) {
  logical::Request req;
  AuditRecord rec{"", &req, "kv", nullptr};
  EXPECT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  EXPECT_TRUE(rec.request_id.empty());
}

TEST_F(AuditTest, SecretsAreHmacedAndTheHashEndpointMatches) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  TokenEntry token;
  token.accessor = "acc123";
  token.policies = {"default", "app"};
  token.display_name = "token-app";
  logical::Request req;
  req.operation = logical::Operation::kUpdate;
  req.path = "secret/app/x";
  req.client_token = "hvs.supersecrettoken";
  req.data = {{"password", "hunter2"}, {"port", 5432}, {"nested", {{"k", "v"}}}};
  AuditRecord rec{"", &req, "kv", &token};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  logical::Response resp = logical::Response::WithData({{"password", "hunter2"}});
  resp.auth = {{"client_token", "hvs.minted"}, {"accessor", "acc2"}, {"policies", {"x"}}};
  ASSERT_TRUE(broker_.LogResponse(rec, Result<logical::Response>(resp)).ok());

  std::string text;
  {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  for (const char* secret : {"hunter2", "hvs.supersecrettoken", "hvs.minted", "acc123"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked: " << text;

  auto lines = ReadLines(log_);
  ASSERT_EQ(lines.size(), 2u);
  const Json& rq = lines[0];
  EXPECT_EQ(rq["type"], "request");
  EXPECT_EQ(rq["request"]["path"], "secret/app/x");
  EXPECT_EQ(rq["request"]["operation"], "update");
  EXPECT_EQ(rq["request"]["data"]["port"], 5432);  // numbers stay
  EXPECT_EQ(rq["auth"]["display_name"], "token-app");
  EXPECT_EQ(rq["request"]["id"], lines[1]["request"]["id"]);
  EXPECT_FALSE(rec.request_id.empty());
  auto hash = broker_.Hash("file", "hunter2");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("hmac-sha256:", 0), 0u);
  EXPECT_EQ(rq["request"]["data"]["password"], *hash);
  EXPECT_EQ(rq["request"]["data"]["nested"]["k"], *broker_.Hash("file/", "v"));
  EXPECT_EQ(rq["request"]["client_token"], *broker_.Hash("file", "hvs.supersecrettoken"));
  EXPECT_EQ(lines[1]["type"], "response");
  EXPECT_EQ(lines[1]["response"]["data"]["password"], *hash);
  EXPECT_EQ(lines[1]["response"]["auth"]["client_token"], *broker_.Hash("file", "hvs.minted"));
  EXPECT_EQ(broker_.Hash("nope", "x").status().code(), StatusCode::kInvalidArgument);
}

// A KV read over HTTP hands its data over serialized (Response::data_json): the device still
// records it, hashed like parsed data, and the secret never reaches the log.
TEST_F(AuditTest, SerializedResponseDataIsHashedToo) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  logical::Request req;
  req.path = "secret/app/x";
  req.accepts_data_json = true;
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  logical::Response resp;
  resp.data_json = R"({"password":"hunter2","port":5432})";
  ASSERT_TRUE(broker_.LogResponse(rec, Result<logical::Response>(resp)).ok());
  auto lines = ReadLines(log_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["response"]["data"]["password"], *broker_.Hash("file", "hunter2"));
  EXPECT_EQ(lines[1]["response"]["data"]["port"], 5432);
  std::ifstream f(log_);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str().find("hunter2"), std::string::npos);
}

TEST_F(AuditTest, EachDeviceHasItsOwnKeyAndLogRawSkipsHashing) {
  ASSERT_TRUE(EnableFile("a", {{"file_path", log_}}).ok());
  ASSERT_TRUE(EnableFile("b", {{"path", (dir_ / "b.log").string()}}).ok());  // 2015 option name
  ASSERT_TRUE(
      EnableFile("raw", {{"file_path", (dir_ / "raw.log").string()}, {"log_raw", "true"}}).ok());
  EXPECT_NE(*broker_.Hash("a", "x"), *broker_.Hash("b", "x"));
  logical::Request req;
  req.data = {{"k", "plain"}};
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  EXPECT_EQ(ReadLines((dir_ / "raw.log").string())[0]["request"]["data"]["k"], "plain");
  EXPECT_EQ(ReadLines((dir_ / "b.log").string())[0]["request"]["data"]["k"],
            *broker_.Hash("b", "plain"));
  EXPECT_EQ(broker_.List().size(), 3u);
}

TEST_F(AuditTest, EnableValidates) {
  EXPECT_EQ(EnableFile("f", Json::object()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnableFile("f", {{"file_path", "/nonexistent-dir/x/audit.log"}}).code(),
            StatusCode::kInvalidArgument);
  AuditDeviceEntry e;
  e.path = "s";
  e.type = "nope";
  EXPECT_EQ(SyncWait(broker_.Enable(e)).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(EnableFile("f", {{"file_path", log_}}).ok());
  EXPECT_EQ(EnableFile("f/", {{"file_path", log_}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(broker_.List().size() == 1);
}

TEST_F(AuditTest, FailsClosedWhenNoDeviceCanWrite) {
  ASSERT_TRUE(EnableFile("full", {{"file_path", "/dev/full"}}).ok());
  logical::Request req;
  AuditRecord rec{"", &req, "kv", nullptr};
  EXPECT_EQ(broker_.LogRequest(rec, Status::Ok()).code(), StatusCode::kInternal);
  // One working device is enough.
  ASSERT_TRUE(EnableFile("ok", {{"file_path", log_}}).ok());
  EXPECT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  ASSERT_TRUE(SyncWait(broker_.Disable("ok")).ok());
  EXPECT_EQ(broker_.LogResponse(rec, Result<logical::Response>(logical::Response())).code(),
            StatusCode::kInternal);
}

TEST_F(AuditTest, ReopenAfterRotationLosesNoLine) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  logical::Request req;
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  std::filesystem::rename(log_, log_ + ".1");
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());  // still goes to the renamed file
  ASSERT_TRUE(broker_.Reopen().ok());
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  EXPECT_EQ(ReadLines(log_ + ".1").size(), 2u);
  EXPECT_EQ(ReadLines(log_).size(), 1u);
}

// format = "jsonx": the same entry as XML (IBM's JSONx, as Vault writes it), secrets HMAC'd,
// text escaped.
TEST_F(AuditTest, JsonxFormatWritesTheEntryAsXml) {
  ASSERT_TRUE(EnableFile("x", {{"file_path", log_}, {"format", "jsonx"}}).ok());
  logical::Request req;
  req.path = "secret/a<b>&\"c";
  req.client_token = "hvs.topsecret";
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(broker_.LogRequest(rec, Status::Ok()).ok());
  std::ifstream f(log_);
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u);
  const std::string& x = lines[0];
  EXPECT_EQ(x.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?><json:object ", 0), 0u) << x;
  EXPECT_NE(x.find("xmlns:json=\"http://www.ibm.com/xmlns/prod/2009/jsonx\""), std::string::npos);
  EXPECT_NE(x.find("<json:string name=\"type\">request</json:string>"), std::string::npos) << x;
  EXPECT_NE(x.find("<json:string name=\"path\">secret/a&lt;b&gt;&amp;&#34;c</json:string>"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<json:string name=\"client_token\">hmac-sha256:"), std::string::npos) << x;
  EXPECT_EQ(x.find("topsecret"), std::string::npos);
  EXPECT_EQ(x.substr(x.size() - 14), "</json:object>");
  // Every kind of value.
  EXPECT_EQ(ToJsonx(Json{{"a", nullptr},
                         {"b", true},
                         {"c", 1.5},
                         {"d", Json::array({1, "x"})},
                         {"e", Json{{"f", false}}}})
                .substr(ToJsonx(Json::object()).size() - 14),
            "<json:null name=\"a\" /><json:boolean name=\"b\">true</json:boolean><json:number "
            "name=\"c\">1.5</json:number><json:array name=\"d\"><json:number>1</"
            "json:number><json:string>x</json:string></json:array><json:object "
            "name=\"e\"><json:boolean name=\"f\">false</json:boolean></json:object></"
            "json:object>");
}

TEST_F(AuditTest, TheTableAndSaltsSurviveARestart) {
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  std::string before = *broker_.Hash("file", "x");
  AuditBroker again(&storage_, &clock_);
  ASSERT_TRUE(SyncWait(again.Load()).ok());
  ASSERT_EQ(again.List().size(), 1u);
  EXPECT_EQ(*again.Hash("file", "x"), before);
  ASSERT_TRUE(SyncWait(again.Disable("file")).ok());
  AuditBroker third(&storage_, &clock_);
  ASSERT_TRUE(SyncWait(third.Load()).ok());
  EXPECT_TRUE(third.List().empty());
}

// The entry read by a reader: JSON, with the password and the token HMAC'd by `device`.
void ExpectHashedEntry(AuditBroker& broker, const std::string& device, const std::string& line) {
  EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  EXPECT_EQ(line.find("hvs.supersecrettoken"), std::string::npos) << line;
  auto j = ParseJson(line);
  ASSERT_TRUE(j.ok()) << line;
  EXPECT_EQ((*j)["type"], "request");
  EXPECT_EQ((*j)["request"]["path"], "secret/app/x");
  EXPECT_EQ((*j)["request"]["data"]["password"], *broker.Hash(device, "hunter2"));
  EXPECT_EQ((*j)["request"]["client_token"], *broker.Hash(device, "hvs.supersecrettoken"));
}

TEST_F(AuditTest, SocketDeviceOverTcpSendsHashedLines) {
  Reader reader(Reader::kTcp);
  ASSERT_TRUE(Enable("sock", "socket", {{"address", reader.address()}}).ok());  // tcp: default
  ASSERT_TRUE(LogSecret().ok());
  ASSERT_TRUE(LogSecret().ok());
  auto lines = reader.Read(2);
  ASSERT_EQ(lines.size(), 2u);
  ExpectHashedEntry(broker_, "sock", lines[0]);
  ExpectHashedEntry(broker_, "sock", lines[1]);
}

TEST_F(AuditTest, SocketDeviceOverUnixSocketWithPrefix) {
  Reader reader(Reader::kUnix, Sock("audit.sock"));
  ASSERT_TRUE(
      Enable("sock", "socket",
             {{"address", Sock("audit.sock")}, {"socket_type", "unix"}, {"prefix", "@cee: "}})
          .ok());
  ASSERT_TRUE(LogSecret().ok());
  auto lines = reader.Read(1);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].rfind("@cee: {", 0), 0u) << lines[0];
  ExpectHashedEntry(broker_, "sock", lines[0].substr(6));
}

TEST_F(AuditTest, SocketDeviceOverUdpSendsOneDatagramPerEntry) {
  Reader reader(Reader::kUdp);
  ASSERT_TRUE(
      Enable("udp", "socket", {{"address", reader.address()}, {"socket_type", "udp"}}).ok());
  ASSERT_TRUE(LogSecret().ok());
  ASSERT_TRUE(LogSecret().ok());
  auto msgs = reader.Read(2);
  ASSERT_EQ(msgs.size(), 2u);
  ExpectHashedEntry(broker_, "udp", msgs[0]);
  ExpectHashedEntry(broker_, "udp", msgs[1]);
}

TEST_F(AuditTest, SocketDeviceEnableValidatesAndRefusesAnUnreachableAddress) {
  int closed_port;
  {
    Reader gone(Reader::kTcp);
    closed_port = gone.port();
  }
  const std::string closed = "127.0.0.1:" + std::to_string(closed_port);
  EXPECT_EQ(Enable("s", "socket", {{"address", closed}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Enable("s", "socket", {{"address", Sock("none.sock")}, {"socket_type", "unix"}}).code(),
            StatusCode::kInvalidArgument);
  Reader reader(Reader::kTcp);
  const std::string ok = reader.address();
  for (const Json& bad :
       {Json{{"socket_type", "tcp"}},  // no address
        Json{{"address", "127.0.0.1"}}, Json{{"address", ok}, {"socket_type", "sctp"}},
        Json{{"address", ok}, {"write_timeout", "soon"}},
        Json{{"address", ok}, {"write_timeout", "0s"}}, Json{{"address", ok}, {"format", "xml"}},
        Json{{"address", ok}, {"log_raw", "maybe"}},
        Json{{"address", ok}, {"mode", "0600"}},  // the file device's
        Json{{"address", ok}, {"filter", "operation == read"}}}) {
    EXPECT_EQ(Enable("s", "socket", bad).code(), StatusCode::kInvalidArgument) << bad.dump();
  }
  EXPECT_TRUE(broker_.List().empty());
  ASSERT_TRUE(Enable("s", "socket", {{"address", ok}, {"write_timeout", "500ms"}}).ok());
  ASSERT_TRUE(Enable("t", "socket", {{"address", ok}, {"write_timeout", "3"}}).ok());
  EXPECT_EQ(broker_.List().size(), 2u);
}

// With the reader gone and no other device, requests fail closed; when a reader listens again
// the device connects on the next entry.
TEST_F(AuditTest, UnixSocketReaderGoneFailsClosedThenReconnects) {
  auto reader = std::make_unique<Reader>(Reader::kUnix, Sock("a.sock"));
  ASSERT_TRUE(
      Enable("sock", "socket", {{"address", Sock("a.sock")}, {"socket_type", "unix"}}).ok());
  ASSERT_TRUE(LogSecret().ok());
  ASSERT_EQ(reader->Read(1).size(), 1u);
  reader.reset();
  EXPECT_EQ(LogSecret().code(), StatusCode::kInternal);
  EXPECT_EQ(LogSecret().code(), StatusCode::kInternal);
  reader = std::make_unique<Reader>(Reader::kUnix, Sock("a.sock"));
  ASSERT_TRUE(LogSecret().ok());
  auto lines = reader->Read(1);
  ASSERT_EQ(lines.size(), 1u);
  ExpectHashedEntry(broker_, "sock", lines[0]);
}

// A TCP reader that closed its connection is noticed before the next entry is written, so no
// entry is handed to a dead connection.
TEST_F(AuditTest, TcpReaderGoneFailsClosedThenReconnects) {
  auto reader = std::make_unique<Reader>(Reader::kTcp);
  const int port = reader->port();
  ASSERT_TRUE(Enable("sock", "socket", {{"address", reader->address()}}).ok());
  ASSERT_TRUE(LogSecret().ok());
  ASSERT_EQ(reader->Read(1).size(), 1u);
  reader.reset();
  EXPECT_EQ(LogSecret().code(), StatusCode::kInternal);
  reader = std::make_unique<Reader>(Reader::kTcp, "", port);
  ASSERT_TRUE(LogSecret().ok());
  auto lines = reader->Read(1);
  ASSERT_EQ(lines.size(), 1u);
  ExpectHashedEntry(broker_, "sock", lines[0]);
}

// One device that records the entry is enough: a dead socket beside a file device.
TEST_F(AuditTest, AFailingSocketBesideAWorkingFileDevice) {
  auto reader = std::make_unique<Reader>(Reader::kUnix, Sock("a.sock"));
  ASSERT_TRUE(
      Enable("sock", "socket", {{"address", Sock("a.sock")}, {"socket_type", "unix"}}).ok());
  ASSERT_TRUE(EnableFile("file", {{"file_path", log_}}).ok());
  reader.reset();
  ASSERT_TRUE(LogSecret().ok());
  EXPECT_EQ(ReadLines(log_).size(), 1u);
  ASSERT_TRUE(SyncWait(broker_.Disable("file")).ok());
  EXPECT_EQ(LogSecret().code(), StatusCode::kInternal);
}

// A reader that stops reading: the write gives up after write_timeout and the device fails.
TEST_F(AuditTest, SocketWriteTimeoutFailsTheDevice) {
  Reader reader(Reader::kUnix, Sock("slow.sock"));
  ASSERT_TRUE(Enable("sock", "socket",
                     {{"address", Sock("slow.sock")},
                      {"socket_type", "unix"},
                      {"write_timeout", "200ms"},
                      {"log_raw", "true"}})
                  .ok());
  // Raw entries of 4 MiB each: more than the socket buffers hold.
  auto start = std::chrono::steady_clock::now();
  Status st = LogSecret(std::string(4 << 20, 'x'));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_GE(took, std::chrono::milliseconds(150));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST_F(AuditTest, SyslogDeviceWritesDatagramsToTheLogSocket) {
  Reader reader(Reader::kUnixgram, Sock("log"));
  ASSERT_TRUE(Enable("syslog", "syslog",
                     {{"socket_path", Sock("log")}, {"facility", "LOCAL3"}, {"tag", "vault-test"}})
                  .ok());
  ASSERT_TRUE(LogSecret().ok());
  auto msgs = reader.Read(1);
  ASSERT_EQ(msgs.size(), 1u);
  const std::string& m = msgs[0];
  EXPECT_EQ(m.rfind("<158>", 0), 0u) << m;  // local3 (19) * 8 + info (6)
  const std::string tag = " vault-test[" + std::to_string(::getpid()) + "]: ";
  size_t at = m.find(tag);
  ASSERT_NE(at, std::string::npos) << m;
  EXPECT_EQ(at, 5u + 15u);  // "<158>" then "Mmm dd hh:mm:ss"
  ExpectHashedEntry(broker_, "syslog", m.substr(at + tag.size()));
}

TEST_F(AuditTest, SyslogDeviceDefaultsAndValidation) {
  Reader reader(Reader::kUnixgram, Sock("log"));
  ASSERT_TRUE(Enable("syslog", "syslog", {{"socket_path", Sock("log")}}).ok());
  ASSERT_TRUE(LogSecret().ok());
  auto msgs = reader.Read(1);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].rfind("<38>", 0), 0u) << msgs[0];  // auth (4) * 8 + info (6)
  EXPECT_NE(msgs[0].find(" vault[" + std::to_string(::getpid()) + "]: {"), std::string::npos);
  for (const Json& bad : {Json{{"socket_path", Sock("log")}, {"facility", "local9"}},
                          Json{{"socket_path", Sock("missing")}}, Json{{"socket_path", ""}},
                          Json{{"socket_path", Sock("log")}, {"address", "127.0.0.1:1"}}}) {
    EXPECT_EQ(Enable("s2", "syslog", bad).code(), StatusCode::kInvalidArgument) << bad.dump();
  }
}

TEST_F(AuditTest, SyslogReceiverGoneFailsClosedThenReconnects) {
  auto reader = std::make_unique<Reader>(Reader::kUnixgram, Sock("log"));
  ASSERT_TRUE(Enable("syslog", "syslog", {{"socket_path", Sock("log")}}).ok());
  ASSERT_TRUE(LogSecret().ok());
  reader.reset();
  EXPECT_EQ(LogSecret().code(), StatusCode::kInternal);
  reader = std::make_unique<Reader>(Reader::kUnixgram, Sock("log"));
  ASSERT_TRUE(LogSecret().ok());
  EXPECT_EQ(reader->Read(1).size(), 1u);
}

// SIGHUP reopens sockets too: the device connects anew.
TEST_F(AuditTest, ReopenReconnectsASocketDevice) {
  Reader reader(Reader::kUnix, Sock("a.sock"));
  ASSERT_TRUE(
      Enable("sock", "socket", {{"address", Sock("a.sock")}, {"socket_type", "unix"}}).ok());
  ASSERT_TRUE(LogSecret().ok());
  ASSERT_EQ(reader.Read(1).size(), 1u);
  ASSERT_TRUE(broker_.Reopen().ok());
  ASSERT_TRUE(LogSecret().ok());
  ASSERT_EQ(reader.Read(1).size(), 1u);  // read from the newest connection
}

// A table stored with an option no device takes still loads and records (only enabling checks).
TEST_F(AuditTest, AStoredTableWithAnUnknownOptionStillLoads) {
  Json table = {{"type", "audit"},
                {"entries",
                 {{{"path", "file/"},
                   {"type", "file"},
                   {"options", {{"file_path", log_}, {"elide_list_responses", "true"}}},
                   {"uuid", "u1"}}}}};
  ASSERT_TRUE(SyncWait(logical::PutJson(&storage_, "core/audit", table)).ok());
  AuditBroker again(&storage_, &clock_);
  ASSERT_TRUE(SyncWait(again.Load()).ok());
  logical::Request req;
  AuditRecord rec{"", &req, "kv", nullptr};
  ASSERT_TRUE(again.LogRequest(rec, Status::Ok()).ok());
  EXPECT_EQ(ReadLines(log_).size(), 1u);
  EXPECT_EQ(EnableFile("f2", {{"file_path", log_}, {"elide_list_responses", "true"}}).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vault::core
