#include "http/handler.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <map>

#include "core/core.h"
#include "engines/kv/kv.h"
#include "http/server.h"
#include "storage/inmem.h"
#include "util/testing.h"
#include "util/thread_attrs.h"

namespace vault::http {
namespace {

class HandlerTest : public testing::Test {
 protected:
  void SetUp() override {
    core::EngineRegistry reg;
    reg["kv"] = [](const logical::MountInfo& m) -> Result<std::shared_ptr<logical::Backend>> {
      return engines::NewKvBackend(m);
    };
    core_ = std::make_unique<core::Core>(&physical_, reg, core::CoreConfig{}, &clock_);
    handler_ = std::make_unique<Handler>(core_.get());
  }
  HttpResponse Do(std::string method, std::string target, std::string body = "",
                  std::string token = "", std::string content_type = "") {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    if (!token.empty()) r.headers.emplace_back("X-Vault-Token", token);
    if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
    return handler_->Handle(r);
  }
  Json J(const HttpResponse& r) { return Json::parse(r.body); }
  std::string InitAndUnseal() {
    auto init = Do("PUT", "/v1/sys/init", R"({"secret_shares":3,"secret_threshold":2})");
    EXPECT_EQ(init.status, 200);
    Json j = J(init);
    EXPECT_EQ(j["keys"].size(), 3u);
    EXPECT_EQ(j["keys"][0].get<std::string>().size(), 66u);
    EXPECT_EQ(Do("PUT", "/v1/sys/unseal", Json({{"key", j["keys"][0]}}).dump()).status, 200);
    auto st = J(Do("PUT", "/v1/sys/unseal", Json({{"key", j["keys_base64"][1]}}).dump()));
    EXPECT_EQ(st["sealed"], false);
    return j["root_token"];
  }
  storage::InmemBackend physical_;
  FakeClock clock_;
  std::unique_ptr<core::Core> core_;
  std::unique_ptr<Handler> handler_;
};

TEST_F(HandlerTest, KvVersion2Answers) {
  std::string root = InitAndUnseal();
  ASSERT_EQ(
      Do("POST", "/v1/sys/mounts/kv2", R"({"type":"kv","options":{"version":2}})", root).status,
      204);
  auto w = Do("POST", "/v1/kv2/data/app", R"({"data":{"a":1,"b":2}})", root);
  ASSERT_EQ(w.status, 200);
  EXPECT_EQ(J(w)["data"]["version"], 1);
  auto p = Do("PATCH", "/v1/kv2/data/app", R"({"data":{"b":null}})", root,
              "application/merge-patch+json; charset=utf-8");
  ASSERT_EQ(p.status, 200) << p.body;
  auto r = J(Do("GET", "/v1/kv2/data/app", "", root));
  EXPECT_EQ(r["data"]["data"], Json({{"a", 1}}));
  EXPECT_EQ(r["data"]["metadata"]["version"], 2);
  // A deleted version: 404 with the whole envelope, as Vault answers it.
  ASSERT_EQ(Do("DELETE", "/v1/kv2/data/app", "", root).status, 204);
  auto gone = Do("GET", "/v1/kv2/data/app", "", root);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(J(gone)["data"]["data"], nullptr);
  EXPECT_EQ(J(gone)["data"]["metadata"]["version"], 2);
  // Nothing there: 404 with an empty error list, for a patch as for a read.
  auto missing =
      Do("PATCH", "/v1/kv2/data/none", R"({"data":{"a":1}})", root, "application/merge-patch+json");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(J(missing), Json({{"errors", Json::array()}}));
  // The UI's mount preflight, which today's CLI sends before every `vault kv` command.
  auto ui = J(Do("GET", "/v1/sys/internal/ui/mounts/kv2/app", "", root));
  EXPECT_EQ(ui["data"]["path"], "kv2/");
  EXPECT_EQ(ui["data"]["options"]["version"], "2");
  EXPECT_FALSE(ui.contains("path"));  // not copied to the top level
  EXPECT_EQ(Do("GET", "/v1/sys/internal/ui/mounts/nowhere", "", root).status, 403);
}

TEST_F(HandlerTest, InitUnsealHealthFlow) {
  EXPECT_EQ(J(Do("GET", "/v1/sys/init"))["initialized"], false);
  EXPECT_EQ(Do("GET", "/v1/sys/health").status, 501);
  auto sealed_read = Do("GET", "/v1/secret/x", "", "whatever");
  EXPECT_EQ(sealed_read.status, 503);
  std::string root = InitAndUnseal();
  EXPECT_EQ(Do("GET", "/v1/sys/health").status, 200);
  EXPECT_EQ(Do("HEAD", "/v1/sys/health").body, "");
  EXPECT_EQ(Do("PUT", "/v1/sys/init", R"({"secret_shares":1,"secret_threshold":1})").body,
            R"({"errors":["Vault is already initialized"]})");
  EXPECT_EQ(Do("POST", "/v1/sys/seal-status").status, 405);
  EXPECT_EQ(Do("PUT", "/v1/sys/seal", "", root).status, 204);
  auto r = Do("GET", "/v1/secret/x", "", root);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"errors":["Vault is sealed"]})");
  EXPECT_EQ(Do("GET", "/v1/sys/health?sealedcode=299").status, 299);
  EXPECT_EQ(Do("PUT", "/v1/sys/unseal", "{}").status, 400);
  EXPECT_EQ(Do("PUT", "/v1/sys/unseal", R"({"key":"zz"})").status, 400);
}

// Found by fuzz/http_handler: a secret_threshold of 299999999999999999999 (a double past any int)
// was converted to int, which is undefined behaviour. Shares and threshold that are no whole
// number an int holds are a 400 now, and nothing is initialized; whole numbers written as 1.0 or
// "1" are still read.
TEST_F(HandlerTest, InitRefusesSharesAndThresholdsThatAreNoInt) {
  for (const char* body : {
           R"({"secret_shares":3,"secret_threshold":299999999999999999999,"pgp_keys":null})",
           R"({"secret_shares":1,"secret_threshold":1.5})",
           R"({"secret_shares":4294967297,"secret_threshold":1})",
           R"({"secret_shares":-9223372036854775808,"secret_threshold":1})",
           R"({"secret_shares":"99999999999","secret_threshold":1})",
           R"({"secret_shares":"3abc","secret_threshold":1})",
           R"({"secret_shares":[3],"secret_threshold":1})",
       }) {
    auto r = Do("PUT", "/v1/sys/init", body, "", "application/json");
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find("must be an integer"), std::string::npos) << body << " " << r.body;
  }
  EXPECT_EQ(J(Do("GET", "/v1/sys/init"))["initialized"], false);
  auto ok = Do("PUT", "/v1/sys/init", R"({"secret_shares":"1","secret_threshold":1.0})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(J(ok)["keys"].size(), 1u);
}

TEST_F(HandlerTest, KvEnvelopeAndListForms) {
  std::string root = InitAndUnseal();
  EXPECT_EQ(Do("PUT", "/v1/secret/a/b", R"({"v":"1","ttl":"1h"})", root).status, 204);
  auto r = Do("GET", "/v1/secret/a/b", "", root);
  ASSERT_EQ(r.status, 200);
  Json j = J(r);
  EXPECT_EQ(j["data"]["v"], "1");
  EXPECT_EQ(j["lease_duration"], 3600);
  EXPECT_EQ(j["lease_id"], "");
  EXPECT_EQ(j["renewable"], false);
  EXPECT_TRUE(j.contains("request_id"));
  // The envelope is written by hand around the stored text: byte for byte what dumping the
  // parsed envelope prints (sorted keys, no spaces), for a document with and without a TTL hint.
  EXPECT_EQ(
      Do("PUT", "/v1/secret/plain", R"({"z":"\u00e9\"","a":[1,2.5,null],"m":{"k":true}})", root)
          .status,
      204);
  for (const char* t : {"/v1/secret/plain", "/v1/secret/a/b"}) {
    auto got = Do("GET", t, "", root);
    ASSERT_EQ(got.status, 200) << t;
    EXPECT_EQ(got.body, J(got).dump()) << t;
  }
  EXPECT_EQ(J(Do("GET", "/v1/secret/plain", "", root))["data"],
            Json::parse(R"({"z":"\u00e9\"","a":[1,2.5,null],"m":{"k":true}})"));
  EXPECT_EQ(J(Do("GET", "/v1/secret/plain", "", root))["lease_duration"], 2764800);
  for (const char* t :
       {"/v1/secret/a?list=true", "/v1/secret/a/?list=True", "/v1/secret/a?list=1"}) {
    auto l = Do("GET", t, "", root);
    EXPECT_EQ(l.status, 200) << t;
    EXPECT_EQ(J(l)["data"]["keys"], Json({"b"}));
  }
  EXPECT_EQ(J(Do("LIST", "/v1/secret/a", "", root))["data"]["keys"], Json({"b"}));
  EXPECT_EQ(Do("GET", "/v1/secret/a?list=maybe", "", root).status, 400);
  EXPECT_EQ(Do("GET", "/v1/secret/none", "", root).body, R"({"errors":[]})");
  EXPECT_EQ(Do("LIST", "/v1/secret/none", "", root).status, 404);
  // Authorization: Bearer works as well.
  HttpRequest br;
  br.method = "GET";
  br.target = "/v1/secret/a/b";
  br.headers.emplace_back("Authorization", "Bearer " + root);
  EXPECT_EQ(handler_->Handle(br).status, 200);
}

TEST_F(HandlerTest, BadInput) {
  std::string root = InitAndUnseal();
  auto bad_json = Do("PUT", "/v1/secret/x", "{not json", root);
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(J(bad_json)["errors"][0].get<std::string>().find("failed to parse JSON input"),
            std::string::npos);
  EXPECT_EQ(Do("PUT", "/v1/secret/x", "[1,2]", root).status, 400);
  EXPECT_EQ(Do("PUT", "/v1/secret/x", "\"\xff\"", root).status, 400);
  EXPECT_EQ(Do("GET", "/v1/secret/../sys/mounts", "", root).status, 400);
  EXPECT_EQ(Do("GET", "/v1/secret/%2e%2e/sys", "", root).status, 400);
  EXPECT_EQ(Do("GET", "/v1/secret//x", "", root).status, 400);
  EXPECT_EQ(Do("GET", "/v2/secret/x", "", root).status, 404);
  EXPECT_EQ(Do("GET", "/v1/secret/x", "", "").status, 403);
  EXPECT_EQ(J(Do("GET", "/v1/secret/x", "", "bogus"))["errors"][0], "permission denied");
  // PATCH takes a JSON merge patch only; a version 1 mount has no patch operation.
  auto plain = Do("PATCH", "/v1/secret/x", "{}", root);
  EXPECT_EQ(plain.status, 415);
  EXPECT_EQ(J(plain)["errors"][0],
            "PATCH requires Content-Type of application/merge-patch+json, got \"\"");
  EXPECT_EQ(Do("PATCH", "/v1/secret/x", "{}", root, "application/merge-patch+json").status, 405);
  EXPECT_EQ(Do("GET", "/v1/nomount/x", "", root).status, 404);
  // Bounded paths: length and segment count.
  EXPECT_EQ(Do("PUT", "/v1/secret/" + std::string(9000, 'a'), "{}", root).status, 400);
  std::string deep = "/v1/secret";
  for (int i = 0; i < 300; ++i) deep += "/s";
  EXPECT_EQ(Do("PUT", deep, "{\"a\":\"b\"}", root).status, 400);
  EXPECT_EQ(Do("PUT", "/v1/secret/" + std::string(8000, 'a'), "{\"a\":\"b\"}", root).status, 204);
  // Nothing was written by any of the above.
  EXPECT_EQ(Do("GET", "/v1/secret/x", "", root).status, 404);
}

TEST_F(HandlerTest, SysMountsInjectedAndHelp) {
  std::string root = InitAndUnseal();
  EXPECT_EQ(
      Do("POST", "/v1/sys/mounts/custom",
         R"({"type":"kv","description":null,"config":null,"options":null,"plugin_name":null,"local":false,"seal_wrap":false})",
         root)
          .status,
      204);
  Json m = J(Do("GET", "/v1/sys/mounts", "", root));
  EXPECT_EQ(m["data"]["custom/"]["type"], "kv");
  EXPECT_EQ(m["custom/"]["type"], "kv");  // top-level copy for the 2015 CLI
  auto help = J(Do("GET", "/v1/custom?help=1", "", root));
  EXPECT_NE(help["help"].get<std::string>().find("## DESCRIPTION"), std::string::npos);
  EXPECT_FALSE(help.contains("data"));
  EXPECT_EQ(Do("GET", "/v1/custom?help=1", "", "").status, 403);
  // Form-encoded bodies are accepted.
  HttpRequest fr;
  fr.method = "POST";
  fr.target = "/v1/custom/f";
  fr.body = "a=1&b=two+words";
  fr.headers.emplace_back("X-Vault-Token", root);
  fr.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  EXPECT_EQ(handler_->Handle(fr).status, 204);
  EXPECT_EQ(J(Do("GET", "/v1/custom/f", "", root))["data"]["b"], "two words");
}

}  // namespace
}  // namespace vault::http

namespace vault::http {
namespace {
// AWS failures are 502 whether AWS kept throttling or failed outright (Vault's codes).
TEST(HttpStatusForTest, UpstreamFailuresAre502) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kUpstream), 502);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUpstreamThrottled), 502);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
}

// This process's threads (/proc/self/task/TID/comm) by name: name -> thread ids.
std::multimap<std::string, int> ThreadsByName() {
  std::multimap<std::string, int> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    if (std::getline(f, name)) out.emplace(name, std::atoi(e->d_name));
  }
  closedir(d);
  return out;
}

// The threads by name once each name in `want` is carried by `count` threads (1 s at most): the
// server's threads name themselves as they start, possibly after Start() returns.
std::multimap<std::string, int> WaitForThreads(std::initializer_list<const char*> want,
                                               size_t count = 1) {
  std::multimap<std::string, int> names;
  testing_util::Eventually(
      [&] {
        names = ThreadsByName();
        bool all = true;
        for (const char* w : want) all = all && names.count(w) == count;
        return all;
      },
      std::chrono::seconds(1));
  return names;
}

// Whether this kernel keeps a per-thread time slice (Linux 6.12+), probed on a throwaway thread so
// that the test's own thread keeps its attributes.
bool KernelKeepsTimeSlices() {
  bool kept = false;
  std::thread([&] { kept = RequestTimeSlice(200000) == 200000; }).join();
  return kept;
}

// `top -H`, `ps -L` and perf tell the server's I/O threads apart; the AWS benchmark reads their
// scheduling statistics by these names.
TEST_F(HandlerTest, ServerNamesItsIoThreads) {
  ServerOptions opts;
  opts.listeners.push_back(ListenerConfig{"127.0.0.1:0"});
  opts.io_threads = 2;
  Server server(handler_.get(), opts);
  EXPECT_EQ(ThreadsByName().count("http-io-0"), 0u);
  ASSERT_TRUE(server.Start().ok());
  std::multimap<std::string, int> names = WaitForThreads({"http-io-0", "http-io-1"});
  EXPECT_EQ(names.count("http-io-0"), 1u);
  EXPECT_EQ(names.count("http-io-1"), 1u);
  EXPECT_EQ(names.count("http-io-2"), 0u);
  // Requests run on the I/O threads: there is no worker pool.
  EXPECT_EQ(names.count("http-worker"), 0u);
  // Each asked for the 0.1 ms slice (ServerOptions::io_thread_slice_ns) where the kernel keeps one.
  if (KernelKeepsTimeSlices()) {
    for (const char* io : {"http-io-0", "http-io-1"}) {
      auto it = names.find(io);
      ASSERT_NE(it, names.end());
      EXPECT_EQ(TimeSliceOf(it->second), 100000u) << io;
    }
  }
  server.Stop();
}

TEST_F(HandlerTest, ServerIoThreadSliceCanBeLeftAtTheKernelDefault) {
  if (!KernelKeepsTimeSlices()) GTEST_SKIP() << "this kernel keeps no per-thread time slice";
  ServerOptions opts;
  opts.listeners.push_back(ListenerConfig{"127.0.0.1:0"});
  opts.io_threads = 1;
  opts.io_thread_slice_ns = 0;
  Server server(handler_.get(), opts);
  // A thread inherits its creator's attributes: started from a thread that asked for 0.2 ms, the
  // I/O thread keeps that one when the server asks for nothing, instead of the server's 0.1 ms.
  bool started = false;
  std::thread([&] {
    RequestTimeSlice(200000);
    started = server.Start().ok();
  }).join();
  ASSERT_TRUE(started);
  std::multimap<std::string, int> names = WaitForThreads({"http-io-0"});
  ASSERT_EQ(names.count("http-io-0"), 1u);
  EXPECT_EQ(TimeSliceOf(names.find("http-io-0")->second), 200000u);
  server.Stop();
}

}  // namespace
}  // namespace vault::http
