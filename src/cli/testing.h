// Fakes for the CLI's command tests (test targets only): a transport that records requests and
// answers from a queue, an Environment with in-memory variables, files, stdin and output, and
// the CommandTest fixture that runs commands against them.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "cli/environment.h"
#include "cli/http_client.h"
#include "util/json.h"

namespace vault::cli {

class FakeTransport : public HttpTransport {
 public:
  Result<HttpResponse> Do(const HttpRequest& request) override {
    requests.push_back(request);
    if (responses.empty()) return HttpResponse{204, {}, "", request.url};
    Result<HttpResponse> next = responses.front();
    responses.pop_front();
    if (next.ok()) next->url = request.url;
    return next;
  }
  void Reply(int status, std::string body = "") {
    responses.push_back(HttpResponse{status, {}, std::move(body), ""});
  }

  std::vector<HttpRequest> requests;
  std::deque<Result<HttpResponse>> responses;
};

// Forwards to a FakeTransport the test owns (the environment hands out owned transports).
class ForwardingTransport : public HttpTransport {
 public:
  explicit ForwardingTransport(HttpTransport* target) : target_(target) {}
  Result<HttpResponse> Do(const HttpRequest& request) override { return target_->Do(request); }

 private:
  HttpTransport* target_;
};

class FakeEnvironment : public Environment {
 public:
  FakeEnvironment() { vars["VAULT_ADDR"] = "http://127.0.0.1:8200"; }

  std::optional<std::string> GetEnv(const std::string& name) const override {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  }
  std::string HomeDir() const override { return "/home/u"; }
  Result<std::string> ReadStdin() override { return std::exchange(stdin_text, ""); }
  Result<std::string> ReadLine(const std::string& prompt, bool hidden) override {
    prompts.push_back(prompt);
    if (lines.empty()) return InvalidArgument("EOF");
    std::string line = lines.front();
    lines.pop_front();
    return line;
  }
  Result<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return NotFound("open " + path + ": no such file or directory");
    return it->second;
  }
  Status WriteFile(const std::string& path, const std::string& contents) override {
    files[path] = contents;
    return Status::Ok();
  }
  bool StdoutIsTerminal() const override { return tty; }
  std::ostream& Out() override { return out; }
  std::ostream& Err() override { return err; }
  std::unique_ptr<HttpTransport> NewTransport(const HttpClientOptions& options) override {
    last_options = options;
    if (real_transport) return std::make_unique<HttpClient>(options);
    return std::make_unique<ForwardingTransport>(&transport);
  }

  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> files;
  std::string stdin_text;
  std::deque<std::string> lines;
  std::vector<std::string> prompts;
  bool tty = false;
  bool real_transport = false;
  std::ostringstream out;
  std::ostringstream err;
  HttpClientOptions last_options;
  FakeTransport transport;
};

class CommandTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    env_.out.str("");
    env_.err.str("");
    return RunWithEnvironment(args, env_);
  }
  const HttpRequest& LastRequest() { return env_.transport.requests.back(); }
  Json LastBody() { return Json::parse(LastRequest().body.value_or("null")); }
  std::string Out() { return env_.out.str(); }
  std::string Err() { return env_.err.str(); }

  FakeEnvironment env_;
};

}  // namespace vault::cli
