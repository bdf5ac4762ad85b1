// IamApi/StsApi against the project's IAM/STS emulator (tools/iam-emulator), over real HTTP with
// CurlHttpClient. The emulator is found through $VAULT_IAM_EMULATOR (default: the one in this
// source tree); the tests skip when it does not exist.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <future>
#include <thread>

#include "aws/client.h"
#include "net/asio_event_loop.h"
#include "net/curl_http_client.h"
#include "util/json.h"
#include "util/thread_pool.h"

namespace vault::aws {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string EmulatorPath() {
  const char* env = std::getenv("VAULT_IAM_EMULATOR");
  if (env != nullptr && *env != '\0') return env;
  return std::string(VAULT_SOURCE_DIR) + "/tools/iam-emulator/iam_emulator.py";
}

// One emulator process: started with --port 0, its JSON line read from stdout.
class EmulatorProcess {
 public:
  // Returns false (with *why) when it could not start.
  bool Start(const std::vector<std::string>& extra_args, std::string* why) {
    int out[2];
    if (pipe(out) != 0) {
      *why = "pipe failed";
      return false;
    }
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<std::string> args = {"/usr/bin/python3", EmulatorPath(), "--port", "0"};
      args.insert(args.end(), extra_args.begin(), extra_args.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    auto deadline = SteadyClock::now() + std::chrono::seconds(20);
    while (SteadyClock::now() < deadline) {
      ssize_t n = read(out[0], &c, 1);
      if (n <= 0) break;
      if (c == '\n') break;
      line += c;
    }
    close(out[0]);
    Result<Json> info = ParseJson(line);
    if (!info.ok() || !info->contains("endpoint")) {
      *why = "emulator did not print its JSON line (got: " + line.substr(0, 200) + ")";
      Stop();
      return false;
    }
    endpoint_ = (*info)["endpoint"];
    access_key_ = (*info)["access_key"];
    secret_key_ = (*info)["secret_key"];
    admin_ = (*info)["admin"];
    return true;
  }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  ~EmulatorProcess() { Stop(); }

  std::string endpoint_, access_key_, secret_key_, admin_;

 private:
  pid_t pid_ = -1;
};

class EmulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(EmulatorPath())) return;
    emulator_ = new EmulatorProcess();
    std::string why;
    if (!emulator_->Start({}, &why)) {
      start_error_ = new std::string(why);
      delete emulator_;
      emulator_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete emulator_;
    emulator_ = nullptr;
  }

  void SetUp() override {
    if (!std::filesystem::exists(EmulatorPath())) {
      GTEST_SKIP() << "IAM emulator not found at " << EmulatorPath()
                   << " (set VAULT_IAM_EMULATOR to tools/iam-emulator/iam_emulator.py of a "
                      "checkout that has it)";
    }
    ASSERT_NE(emulator_, nullptr) << (start_error_ ? *start_error_ : "emulator failed to start");
    net::CurlOptions opts;
    opts.completions = &pool_;
    http_ = std::make_unique<net::CurlHttpClient>(opts);
    // The factory adds no hop of its own: the curl client already delivers on the pool.
    factory_ = NewClientFactory(http_.get(), http_.get(), nullptr, SystemClock::Get());
    ASSERT_TRUE(Admin("POST", "/reset", "{}").ok());
    ASSERT_TRUE(Admin("POST", "/faults", R"({"reset": true})").ok());
    ASSERT_TRUE(Admin("POST", "/reset-calls", "{}").ok());
  }

  ClientConfig Config() {
    ClientConfig cfg;
    cfg.credentials = {emulator_->access_key_, emulator_->secret_key_, ""};
    cfg.iam_endpoint = emulator_->endpoint_;
    cfg.sts_endpoint = emulator_->endpoint_;
    cfg.region = "us-east-1";
    return cfg;
  }

  Result<Json> Admin(const std::string& method, const std::string& path, const std::string& body) {
    net::HttpRequest req;
    req.method = method;
    req.url = emulator_->admin_ + path;
    req.body = body;
    if (!body.empty()) req.headers = {{"Content-Type", "application/json"}};
    Result<net::HttpResponse> r = SyncWait(http_->SendAsync(req));
    if (!r.ok()) return r.status();
    if (r->status >= 300) {
      return Internal("admin " + path + ": HTTP " + std::to_string(r->status) + " " + r->body);
    }
    return ParseJson(r->body);
  }

  std::vector<std::string> CalledActions() {
    Result<Json> calls = Admin("GET", "/calls", "");
    std::vector<std::string> out;
    if (!calls.ok()) return out;
    const Json& list = calls->is_array() ? *calls : (*calls)["calls"];
    for (const Json& c : list) out.push_back(c["action"].is_string() ? c["action"] : "");
    return out;
  }

  static EmulatorProcess* emulator_;
  static std::string* start_error_;
  ThreadPool pool_{2};
  std::unique_ptr<net::CurlHttpClient> http_;
  std::shared_ptr<ClientFactory> factory_;
};

EmulatorProcess* EmulatorTest::emulator_ = nullptr;
std::string* EmulatorTest::start_error_ = nullptr;

// Vault's issue sequence and revoke sequence of an iam_user credential.
TEST_F(EmulatorTest, IamUserIssueAndRevokeSequences) {
  ASSERT_TRUE(Admin("POST", "/groups", R"({"name": "devs"})").ok());
  auto iam = factory_->NewIam(Config());
  const std::string user = "vault-token-deploy-1700000000-AbCdEfGhIjKlMnOpQrSt";
  const std::string policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",)"
      R"("Resource":"arn:aws:s3:::bucket/a b+c"}]})";

  CreateUserInput in;
  in.user_name = user;
  in.path = "/";
  in.permissions_boundary_arn = "arn:aws:iam::aws:policy/PowerUserAccess";
  Outcome<User> created = SyncWait(iam->CreateUser(in));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created->user_name, user);
  EXPECT_EQ(created->arn, "arn:aws:iam::123456789012:user/" + user);
  EXPECT_EQ(created->permissions_boundary_arn, "arn:aws:iam::aws:policy/PowerUserAccess");
  EXPECT_FALSE(created->user_id.empty());
  EXPECT_FALSE(created->create_date.empty());

  Outcome<Empty> r =
      SyncWait(iam->AttachUserPolicy(user, "arn:aws:iam::aws:policy/ReadOnlyAccess"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  r = SyncWait(iam->PutUserPolicy(user, "deploy", policy));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  r = SyncWait(iam->AddUserToGroup("devs", user));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  r = SyncWait(iam->TagUser(user, {{"team", "eng"}, {"cost center", "R+D / café = 1"}}));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  Outcome<AccessKey> key = SyncWait(iam->CreateAccessKey(user));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_TRUE(key->access_key_id.starts_with("AKIA"));
  EXPECT_EQ(key->secret_access_key.size(), 40u);
  EXPECT_EQ(key->status, "Active");

  // The new key works.
  ClientConfig as_user = Config();
  as_user.credentials = {key->access_key_id, key->secret_access_key, ""};
  Outcome<CallerIdentity> who = SyncWait(factory_->NewSts(as_user)->GetCallerIdentity());
  ASSERT_TRUE(who.ok()) << who.error().ToString();
  EXPECT_EQ(who->arn, created->arn);
  EXPECT_EQ(who->account, "123456789012");

  Outcome<User> got = SyncWait(iam->GetUser(user));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->user_id, created->user_id);
  Outcome<User> me = SyncWait(iam->GetUser(""));
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->user_name, "vault-root");

  // Revoke.
  Outcome<std::vector<std::string>> groups = SyncWait(iam->ListGroupsForUser(user));
  ASSERT_TRUE(groups.ok()) << groups.error().ToString();
  EXPECT_EQ(*groups, std::vector<std::string>{"devs"});
  Outcome<std::vector<std::string>> inline_policies = SyncWait(iam->ListUserPolicies(user));
  ASSERT_TRUE(inline_policies.ok());
  EXPECT_EQ(*inline_policies, std::vector<std::string>{"deploy"});
  Outcome<std::vector<std::string>> attached = SyncWait(iam->ListAttachedUserPolicies(user));
  ASSERT_TRUE(attached.ok());
  EXPECT_EQ(*attached, std::vector<std::string>{"arn:aws:iam::aws:policy/ReadOnlyAccess"});
  Outcome<std::vector<AccessKey>> keys = SyncWait(iam->ListAccessKeys(user));
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].access_key_id, key->access_key_id);
  EXPECT_TRUE((*keys)[0].secret_access_key.empty());
  EXPECT_TRUE(ParseRfc3339Nanos((*keys)[0].create_date).ok()) << (*keys)[0].create_date;

  for (const AccessKey& k : *keys) {
    ASSERT_TRUE(SyncWait(iam->DeleteAccessKey(user, k.access_key_id)).ok());
  }
  for (const std::string& arn : *attached) {
    ASSERT_TRUE(SyncWait(iam->DetachUserPolicy(user, arn)).ok());
  }
  for (const std::string& name : *inline_policies) {
    ASSERT_TRUE(SyncWait(iam->DeleteUserPolicy(user, name)).ok());
  }
  for (const std::string& g : *groups) {
    ASSERT_TRUE(SyncWait(iam->RemoveUserFromGroup(g, user)).ok());
  }
  Outcome<Empty> deleted = SyncWait(iam->DeleteUser(user));
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();

  Outcome<User> gone = SyncWait(iam->GetUser(user));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "NoSuchEntity");

  std::vector<std::string> want = {"CreateUser",
                                   "AttachUserPolicy",
                                   "PutUserPolicy",
                                   "AddUserToGroup",
                                   "TagUser",
                                   "CreateAccessKey",
                                   "GetCallerIdentity",
                                   "GetUser",
                                   "GetUser",
                                   "ListGroupsForUser",
                                   "ListUserPolicies",
                                   "ListAttachedUserPolicies",
                                   "ListAccessKeys",
                                   "DeleteAccessKey",
                                   "DetachUserPolicy",
                                   "DeleteUserPolicy",
                                   "RemoveUserFromGroup",
                                   "DeleteUser",
                                   "GetUser"};
  EXPECT_EQ(CalledActions(), want);

  Result<Json> state = Admin("GET", "/state", "");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->dump().find(user), std::string::npos) << "user left behind";
}

TEST_F(EmulatorTest, AwsErrorsSurfaceWithTheirCodes) {
  auto iam = factory_->NewIam(Config());
  Outcome<User> missing = SyncWait(iam->GetUser("nobody"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NoSuchEntity");
  EXPECT_EQ(missing.error().http_status, 404);
  EXPECT_FALSE(missing.error().request_id.empty());
  EXPECT_NE(missing.error().message.find("nobody"), std::string::npos);

  CreateUserInput in;
  in.user_name = "conflicted";
  ASSERT_TRUE(SyncWait(iam->CreateUser(in)).ok());
  Outcome<User> again = SyncWait(iam->CreateUser(in));
  EXPECT_EQ(again.error().code, "EntityAlreadyExists");
  EXPECT_EQ(again.error().http_status, 409);
  ASSERT_TRUE(SyncWait(iam->CreateAccessKey("conflicted")).ok());
  Outcome<Empty> del = SyncWait(iam->DeleteUser("conflicted"));
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, "DeleteConflict");
  EXPECT_EQ(del.error().http_status, 409);
  EXPECT_EQ(del.error().ToStatus("").code(), StatusCode::kInvalidArgument);

  // A user whose policy allows nothing.
  Result<Json> limited = Admin("POST", "/users", R"({"name": "limited"})");
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  ClientConfig cfg = Config();
  cfg.credentials = {(*limited)["access_key"], (*limited)["secret_key"], ""};
  Outcome<User> denied = SyncWait(factory_->NewIam(cfg)->CreateUser(in));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "AccessDenied");
  EXPECT_EQ(denied.error().http_status, 403);
  EXPECT_NE(denied.error().message.find("iam:CreateUser"), std::string::npos);

  // Wrong secret: SignatureDoesNotMatch, and the secret is nowhere in the error.
  cfg = Config();
  cfg.credentials.secret_access_key = "wrong-secret-0123456789abcdefghijklmnopq";
  Outcome<User> badsig = SyncWait(factory_->NewIam(cfg)->GetUser(""));
  ASSERT_FALSE(badsig.ok());
  EXPECT_EQ(badsig.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(badsig.error().message.find(cfg.credentials.secret_access_key), std::string::npos);

  // IAM must be signed for us-east-1 whatever the configured region: we do that.
  cfg = Config();
  cfg.region = "eu-west-1";
  EXPECT_TRUE(SyncWait(factory_->NewIam(cfg)->GetUser("")).ok());
}

TEST_F(EmulatorTest, ThrottlingIsRetriedToSuccessThenFlaggedWhenItPersists) {
  auto iam = factory_->NewIam(Config());
  ASSERT_TRUE(Admin("POST", "/faults", R"({"throttle_actions": {"GetUser": 2}})").ok());
  Outcome<User> u = SyncWait(iam->GetUser(""));
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  EXPECT_EQ(CalledActions(), (std::vector<std::string>{"GetUser", "GetUser", "GetUser"}));

  ASSERT_TRUE(Admin("POST", "/reset-calls", "{}").ok());
  ASSERT_TRUE(Admin("POST", "/faults", R"({"throttle_actions": {"GetUser": 10}})").ok());
  ClientConfig cfg = Config();
  cfg.max_retries = 2;
  Outcome<User> t = SyncWait(factory_->NewIam(cfg)->GetUser(""));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "Throttling");
  EXPECT_TRUE(t.error().throttled);
  EXPECT_EQ(t.error().ToStatus("x").code(), StatusCode::kUpstreamThrottled);
  EXPECT_EQ(CalledActions().size(), 3u);

  // 5xx is retried too.
  ASSERT_TRUE(
      Admin("POST", "/faults", R"({"reset": true, "fail_actions": {"ListAccessKeys": 1}})").ok());
  Outcome<std::vector<AccessKey>> keys = SyncWait(iam->ListAccessKeys("vault-root"));
  ASSERT_TRUE(keys.ok()) << keys.error().ToString();
  EXPECT_EQ(keys->size(), 1u);
}

TEST_F(EmulatorTest, FiveHundredConcurrentCallsOverlapOnFewThreads) {
  ASSERT_TRUE(Admin("POST", "/faults", R"({"latency_ms": 100})").ok());
  auto iam = factory_->NewIam(Config());
  constexpr int kCalls = 500;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  std::string first_error;
  auto start = SteadyClock::now();
  for (int i = 0; i < kCalls; ++i) {
    StartTask(iam->GetUser(""), [&](Outcome<User> u) {
      std::lock_guard lock(mu);
      if (u.ok()) {
        ++ok;
      } else if (first_error.empty()) {
        first_error = u.error().ToString();
      }
      if (++done == kCalls) cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == kCalls; }));
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
  EXPECT_EQ(ok, kCalls) << first_error;
  // Serially: 50 s; overlapping on one I/O thread + 2 workers, about 1 s on an idle machine.
  // The bound proves the overlap (at least 5 calls waiting at once on average) without racing a
  // busy machine's scheduler: the speed itself is for bench/.
  EXPECT_LT(elapsed.count(), 10000) << "500 calls took " << elapsed.count() << " ms";
  std::printf(
      "[ perf     ] 500 concurrent GetUser with 100 ms latency: %lld ms, %lld connections\n",
      static_cast<long long>(elapsed.count()), static_cast<long long>(http_->connections_opened()));
}

TEST_F(EmulatorTest, StsCalls) {
  Result<Json> role = Admin("POST", "/roles", R"({"name": "deploy", "max_session_duration": 7200,
      "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
      "Resource": "*"}]}})");
  ASSERT_TRUE(role.ok()) << role.status().ToString();
  auto sts = factory_->NewSts(Config());
  const int64_t now = SystemClock::Get()->NowSeconds();

  AssumeRoleInput ar;
  ar.role_arn = (*role)["arn"];
  ar.role_session_name = "vault-sess";
  ar.duration_seconds = 3600;
  ar.policy_arns = {"arn:aws:iam::aws:policy/ReadOnlyAccess"};
  ar.tags = {{"k", "v"}};
  Outcome<TemporaryCredentials> assumed = SyncWait(sts->AssumeRole(ar));
  ASSERT_TRUE(assumed.ok()) << assumed.error().ToString();
  EXPECT_TRUE(assumed->credentials.access_key_id.starts_with("ASIA"));
  EXPECT_FALSE(assumed->credentials.session_token.empty());
  EXPECT_EQ(assumed->assumed_role_arn, "arn:aws:sts::123456789012:assumed-role/deploy/vault-sess");
  EXPECT_NEAR(static_cast<double>(assumed->expiration_unix - now), 3600, 60);

  // The session credentials sign with X-Amz-Security-Token and work.
  ClientConfig session = Config();
  session.credentials = assumed->credentials;
  Outcome<CallerIdentity> who = SyncWait(factory_->NewSts(session)->GetCallerIdentity());
  ASSERT_TRUE(who.ok()) << who.error().ToString();
  EXPECT_EQ(who->arn, assumed->assumed_role_arn);

  ar.role_arn = "arn:aws:iam::123456789012:role/NoSuch";
  Outcome<TemporaryCredentials> nosuch = SyncWait(sts->AssumeRole(ar));
  ASSERT_FALSE(nosuch.ok());
  EXPECT_EQ(nosuch.error().code, "AccessDenied");

  GetFederationTokenInput ft;
  ft.name = "vault-1700000000-AbCdEfGhIjKlMnO";
  ft.policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})";
  ft.duration_seconds = 900;
  Outcome<TemporaryCredentials> fed = SyncWait(sts->GetFederationToken(ft));
  ASSERT_TRUE(fed.ok()) << fed.error().ToString();
  EXPECT_EQ(fed->federated_user_arn,
            "arn:aws:sts::123456789012:federated-user/vault-1700000000-AbCdEfGhIjKlMnO");
  EXPECT_NEAR(static_cast<double>(fed->expiration_unix - now), 900, 60);

  GetSessionTokenInput st;
  st.duration_seconds = 1800;
  Outcome<TemporaryCredentials> sess = SyncWait(sts->GetSessionToken(st));
  ASSERT_TRUE(sess.ok()) << sess.error().ToString();
  EXPECT_FALSE(sess->credentials.session_token.empty());
  EXPECT_NEAR(static_cast<double>(sess->expiration_unix - now), 1800, 60);

  Outcome<CallerIdentity> root = SyncWait(sts->GetCallerIdentity());
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->arn, "arn:aws:iam::123456789012:user/vault-root");

  // A region the STS client signs for: the configured region.
  ClientConfig eu = Config();
  eu.region = "eu-west-1";
  EXPECT_TRUE(SyncWait(factory_->NewSts(eu)->GetCallerIdentity()).ok());
}

TEST_F(EmulatorTest, GroupPoliciesForStsTypes) {
  ASSERT_TRUE(Admin("POST", "/groups", R"({"name": "g1",
      "policies": {"p1": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
      "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/a b+c"}]}},
      "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]})")
                  .ok());
  auto iam = factory_->NewIam(Config());
  Outcome<std::vector<std::string>> arns = SyncWait(iam->ListAttachedGroupPolicies("g1"));
  ASSERT_TRUE(arns.ok()) << arns.error().ToString();
  EXPECT_EQ(*arns, std::vector<std::string>{"arn:aws:iam::aws:policy/ReadOnlyAccess"});
  Outcome<std::vector<std::string>> names = SyncWait(iam->ListGroupPolicies("g1"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"p1"});
  Outcome<std::string> doc = SyncWait(iam->GetGroupPolicy("g1", "p1"));
  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  Result<Json> parsed = ParseJson(*doc);
  ASSERT_TRUE(parsed.ok()) << *doc;
  EXPECT_EQ((*parsed)["Statement"][0]["Resource"], "arn:aws:s3:::b/a b+c");
}

TEST_F(EmulatorTest, TransportFailuresBecomeRequestErrors) {
  ClientConfig cfg = Config();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  cfg.iam_endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  cfg.max_retries = 2;
  auto start = SteadyClock::now();
  Outcome<User> u = SyncWait(factory_->NewIam(cfg)->GetUser(""));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code, "RequestError");
  EXPECT_EQ(u.error().http_status, 0);
  EXPECT_EQ(u.error().ToStatus("").code(), StatusCode::kUpstream);
  EXPECT_LT(SteadyClock::now() - start, std::chrono::seconds(2));

  // A per-attempt timeout against a slow emulator.
  ASSERT_TRUE(Admin("POST", "/faults", R"({"latency_ms": 1500})").ok());
  cfg = Config();
  cfg.max_retries = 0;
  cfg.timeout_ms = 200;
  Outcome<User> slow = SyncWait(factory_->NewIam(cfg)->GetUser(""));
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, "RequestError");
  EXPECT_NE(slow.error().message.find("timed out"), std::string::npos) << slow.error().message;
}

// TLS: the emulator serving HTTPS with a self-signed certificate. Without the CA the handshake
// fails verification; with ca_file (as AWS_CA_BUNDLE would give it) the same call succeeds.
TEST(EmulatorTlsTest, VerifiesTheServerCertificate) {
  if (!std::filesystem::exists(EmulatorPath())) {
    GTEST_SKIP() << "IAM emulator not found at " << EmulatorPath();
  }
  std::string dir =
      std::filesystem::temp_directory_path() / ("vault-aws-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl CLI not available";
  EmulatorProcess emu;
  std::string why;
  ASSERT_TRUE(emu.Start({"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"}, &why))
      << why;
  ASSERT_TRUE(emu.endpoint_.starts_with("https://"));
  ClientConfig cfg;
  cfg.credentials = {emu.access_key_, emu.secret_key_, ""};
  cfg.iam_endpoint = emu.endpoint_;
  cfg.max_retries = 0;

  net::CurlOptions strict;
  strict.ca_from_environment = false;
  net::CurlHttpClient untrusting(strict);
  Outcome<User> rejected = SyncWait(
      NewClientFactory(&untrusting, &untrusting, nullptr, nullptr)->NewIam(cfg)->GetUser(""));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, "RequestError");

  net::CurlOptions trusting;
  trusting.ca_file = dir + "/cert.pem";
  net::CurlHttpClient http(trusting);
  Outcome<User> u =
      SyncWait(NewClientFactory(&http, &http, nullptr, nullptr)->NewIam(cfg)->GetUser(""));
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  EXPECT_EQ(u->user_name, "vault-root");

  // The same from an I/O thread's loop, where the client speaks HTTPS through Asio's OpenSSL
  // streams instead of libcurl: verification fails without the CA and succeeds with it.
  net::AsioLoopThread lt;
  auto on_loop = [&](net::CurlHttpClient* client) {
    std::shared_ptr<IamApi> iam = NewClientFactory(client, client, nullptr, nullptr)->NewIam(cfg);
    std::promise<Outcome<User>> got;
    lt.RunSync([&] {
      StartTask(iam->GetUser(""), [&](Outcome<User> r) { got.set_value(std::move(r)); });
    });
    return got.get_future().get();
  };
  net::CurlHttpClient untrusting_loop(strict);
  Outcome<User> rejected_on_loop = on_loop(&untrusting_loop);
  ASSERT_FALSE(rejected_on_loop.ok());
  EXPECT_EQ(rejected_on_loop.error().code, "RequestError");
  EXPECT_NE(rejected_on_loop.error().message.find("certificate verify failed"), std::string::npos)
      << rejected_on_loop.error().message;
  net::CurlHttpClient trusting_loop(trusting);
  Outcome<User> on_loop_ok = on_loop(&trusting_loop);
  ASSERT_TRUE(on_loop_ok.ok()) << on_loop_ok.error().ToString();
  EXPECT_EQ(on_loop_ok->user_name, "vault-root");
  lt.Stop();  // before the clients go
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vault::aws
