#include "logical/framework.h"

#include <gtest/gtest.h>

#include "logical/testing.h"
#include "logical/wal.h"

namespace vault::logical {
namespace {

FrameworkBackend MakeBackend() {
  Path roles;
  roles.pattern = "roles/(?P<name>\\w(([\\w-.@]+)?\\w)?)";
  roles.synopsis = "Manage roles.";
  roles.description = "Roles map names to policies.";
  roles.fields = {
      {"name", FieldType::kString, "Name of the role."},
      {"ttl", FieldType::kDurationSecond, "TTL.", Json(60)},
      {"count", FieldType::kInt, "A count."},
      {"enabled", FieldType::kBool, "On or off."},
      {"arns", FieldType::kCommaStringSlice, "ARNs."},
      {"tags", FieldType::kKvPairs, "Tags."},
      {"must", FieldType::kString, "Required on write.", nullptr, false},
  };
  roles.operations[Operation::kRead] = [](Request&, const FieldData& d) -> Result<Response> {
    return Response::WithData({{"name", d.GetString("name")}, {"ttl", d.GetInt("ttl")}});
  };
  roles.operations[Operation::kUpdate] = [](Request&, const FieldData& d) -> Result<Response> {
    return Response::WithData({{"count", d.GetInt("count")},
                               {"enabled", d.GetBool("enabled")},
                               {"arns", d.Get("arns")},
                               {"tags", d.Get("tags")},
                               {"ttl", d.GetInt("ttl")}});
  };
  Path req;
  req.pattern = "needs";
  req.fields = {{"x", FieldType::kString, "", nullptr, true}};
  req.operations[Operation::kUpdate] = [](Request&, const FieldData&) -> Result<Response> {
    return Response();
  };
  return FrameworkBackend("Test backend.", {roles, req}, {"roles/*"});
}

TEST(Framework, MatchesCapturesAndDefaults) {
  auto b = MakeBackend();
  Request r;
  r.operation = Operation::kRead;
  r.path = "roles/dep-loy";
  auto resp = b.HandleRequest(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->data["name"], "dep-loy");
  EXPECT_EQ(resp->data["ttl"], 60);
}

// Signed durations (JWT leeways) take negative values; plain durations refuse them as strings.
TEST(Framework, SignedDurations) {
  Field signed_f{"leeway", FieldType::kSignedDurationSecond, ""};
  Field plain_f{"ttl", FieldType::kDurationSecond, ""};
  EXPECT_EQ(*DecodeField(signed_f, Json(-1)), -1);
  EXPECT_EQ(*DecodeField(signed_f, Json("-1")), -1);
  EXPECT_EQ(*DecodeField(signed_f, Json("-2m")), -120);
  EXPECT_EQ(*DecodeField(signed_f, Json("90s")), 90);
  EXPECT_FALSE(DecodeField(signed_f, Json("soon")).ok());
  EXPECT_FALSE(DecodeField(plain_f, Json("-1")).ok());
  EXPECT_STREQ(FieldTypeName(FieldType::kSignedDurationSecond), "signed duration (sec)");
}

TEST(Framework, RegexLiteralPrefix) {
  EXPECT_EQ(RegexLiteralPrefix("config/root"), "config/root");
  EXPECT_EQ(RegexLiteralPrefix("creds/(\\w(([\\w\\-.]+)?\\w)?)"), "creds/");
  EXPECT_EQ(RegexLiteralPrefix("roles/?"), "roles");  // the '/' is optional
  EXPECT_EQ(RegexLiteralPrefix("ab*c"), "a");
  EXPECT_EQ(RegexLiteralPrefix("ab+c"), "a");  // conservative: "ab" would do
  EXPECT_EQ(RegexLiteralPrefix("ab{0,2}"), "a");
  EXPECT_EQ(RegexLiteralPrefix("a.c"), "a");
  EXPECT_EQ(RegexLiteralPrefix("\\.x"), "");
  EXPECT_EQ(RegexLiteralPrefix("sts|creds/x"), "");      // alternation outside a group
  EXPECT_EQ(RegexLiteralPrefix("x/(sts|creds)"), "x/");  // inside one
  EXPECT_EQ(RegexLiteralPrefix("x/[|]y"), "x/");         // a '|' in a class is a character
  EXPECT_EQ(RegexLiteralPrefix("(a)b"), "");
  EXPECT_EQ(RegexLiteralPrefix(".*"), "");
  EXPECT_EQ(RegexLiteralPrefix(""), "");
}

// Paths that do not start with a pattern's literal prefix skip its regex; the ones that do are
// still decided by it, whichever order the patterns come in.
TEST(Framework, PrefixFilterKeepsRegexDecisions) {
  auto handler = [](const char* tag) {
    return [tag](Request&, const FieldData& d) -> Result<Response> {
      return Response::WithData({{"tag", tag}, {"name", d.GetString("name")}});
    };
  };
  Path list, role, opt, alt;
  list.pattern = "roles/?";
  list.operations[Operation::kRead] = handler("list");
  role.pattern = "roles/(?P<name>\\w+)";
  role.fields = {{"name", FieldType::kString, ""}};
  role.operations[Operation::kRead] = handler("role");
  opt.pattern = "ab*c";
  opt.operations[Operation::kRead] = handler("opt");
  alt.pattern = "sts|cred";
  alt.operations[Operation::kRead] = handler("alt");
  FrameworkBackend b("t", {list, role, opt, alt}, {});
  auto tag = [&](const std::string& path) -> std::string {
    Request r;
    r.operation = Operation::kRead;
    r.path = path;
    auto resp = b.HandleRequest(r);
    if (!resp.ok()) return "error " + std::to_string(static_cast<int>(resp.status().code()));
    return resp->data["tag"].get<std::string>() + ":" + resp->data["name"].get<std::string>();
  };
  EXPECT_EQ(tag("roles"), "list:");
  EXPECT_EQ(tag("roles/"), "list:");
  EXPECT_EQ(tag("roles/dev"), "role:dev");
  EXPECT_EQ(tag("role"), tag("nothing-here"));  // 404 like any unknown path
  EXPECT_EQ(tag("ac"), "opt:");
  EXPECT_EQ(tag("abbbc"), "opt:");
  EXPECT_EQ(tag("sts"), "alt:");
  EXPECT_EQ(tag("cred"), "alt:");
}

TEST(Framework, WeakDecodesStrings) {
  auto b = MakeBackend();
  Request r;
  r.operation = Operation::kUpdate;
  r.path = "roles/x";
  r.data = {{"count", "42"}, {"enabled", "true"}, {"arns", "a, b,c"}, {"tags", {"k=v", "k2=v2"}},
            {"ttl", "1h"},   {"unknown", 1}};
  auto resp = b.HandleRequest(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->data["count"], 42);
  EXPECT_EQ(resp->data["enabled"], true);
  EXPECT_EQ(resp->data["arns"], Json({"a", "b", "c"}));
  EXPECT_EQ(resp->data["tags"]["k2"], "v2");
  EXPECT_EQ(resp->data["ttl"], 3600);
}

TEST(Framework, NullMeansUnset) {
  auto b = MakeBackend();
  Request r;
  r.operation = Operation::kUpdate;
  r.path = "roles/x";
  r.data = {{"ttl", nullptr}, {"count", nullptr}};
  auto resp = b.HandleRequest(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->data["ttl"], 60);
  EXPECT_EQ(resp->data["count"], 0);
}

TEST(Framework, BadInputIs400) {
  auto b = MakeBackend();
  Request r;
  r.operation = Operation::kUpdate;
  r.path = "roles/x";
  r.data = {{"count", "forty"}};
  auto resp = b.HandleRequest(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status().message().find("\"count\""), std::string::npos);
  // The offending value is not echoed back: it might be a secret sent to the wrong field.
  EXPECT_EQ(resp.status().message().find("forty"), std::string::npos);
  r.data = {{"ttl", "5 parsecs"}};
  EXPECT_EQ(b.HandleRequest(r).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b.HandleRequest(r).status().message().find("parsecs"), std::string::npos);
  r.path = "needs";
  r.data = Json::object();
  EXPECT_EQ(b.HandleRequest(r).status().message(), "missing required field: x");
}

TEST(Framework, UnknownPathAndOperation) {
  auto b = MakeBackend();
  Request r;
  r.operation = Operation::kRead;
  r.path = "nope";
  EXPECT_EQ(b.HandleRequest(r).status().code(), StatusCode::kNotFound);
  r.path = "roles/-bad";
  EXPECT_EQ(b.HandleRequest(r).status().code(), StatusCode::kNotFound);
  r.path = "roles/x";
  r.operation = Operation::kDelete;
  EXPECT_EQ(b.HandleRequest(r).status().code(), StatusCode::kUnsupportedOperation);
  r.operation = Operation::kCreate;  // falls back to update
  EXPECT_TRUE(b.HandleRequest(r).ok());
}

// ".*" is decided without the regex engine and must agree with it: every path but one with a
// line break ('.' in ECMAScript matches neither '\n' nor '\r').
TEST(Framework, CatchAllPatternMatchesLikeTheRegex) {
  Path all;
  all.pattern = ".*";
  all.operations[Operation::kRead] = [](Request& r, const FieldData&) -> Result<Response> {
    return Response::WithData({{"path", r.path}});
  };
  FrameworkBackend b("Catch-all.", {all});
  const std::regex re("^.*$", std::regex::ECMAScript);
  for (std::string path : {"", "a", "a/b/c", "x y", "\xc3\xa9/\t", "a\nb", "\r", "tail\n"}) {
    Request r;
    r.operation = Operation::kRead;
    r.path = path;
    auto resp = b.HandleRequest(r);
    EXPECT_EQ(resp.ok(), std::regex_match(path, re)) << path;
    if (resp.ok())
      EXPECT_EQ(resp->data["path"], path);
    else
      EXPECT_EQ(resp.status().code(), StatusCode::kNotFound);
  }
}

TEST(Framework, HelpForRootAndPath) {
  auto b = MakeBackend();
  Request r;
  r.operation = Operation::kHelp;
  r.path = "";
  auto root = b.HandleRequest(r);
  ASSERT_TRUE(root.ok());
  EXPECT_NE(root->help->find("## DESCRIPTION\n\nTest backend."), std::string::npos);
  EXPECT_NE(root->help->find("    ^roles/(?P<name>"), std::string::npos);
  r.path = "roles/deploy";
  auto p = b.HandleRequest(r);
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->help->find("Request:        roles/deploy\nMatching Route: ^roles/"),
            std::string::npos);
  EXPECT_NE(p->help->find("    ttl (duration (sec))\n        TTL."), std::string::npos);
  EXPECT_NE(p->help->find("## DESCRIPTION\n\nRoles map names"), std::string::npos);
}

TEST(Framework, RollbackRunsWalEntriesThenPeriodic) {
  auto b = MakeBackend();
  MemStorage storage;
  Request r;
  r.operation = Operation::kRollback;
  r.storage = &storage;
  // Neither hook: nothing to report.
  EXPECT_TRUE(b.HandleRequest(r)->Empty());

  std::vector<std::string> order;
  Status periodic_result = Status::Ok();
  b.SetPeriodic([&](Request&) -> Task<Status> {
    order.push_back("periodic");
    co_return periodic_result;
  });
  auto only_periodic = b.HandleRequest(r);
  ASSERT_TRUE(only_periodic.ok());
  EXPECT_EQ(order, std::vector<std::string>{"periodic"});
  EXPECT_EQ(only_periodic->data["failed"], 0);

  b.SetWalRollback({[&](Request&, const WalEntry& e) -> Task<Status> {
                      order.push_back("wal:" + e.kind);
                      co_return Status::Ok();
                    },
                    0});
  ASSERT_TRUE(SyncWait(PutWal(&storage, "thing", Json::object(), 0)).ok());
  periodic_result = Unavailable("rotation failed");
  order.clear();
  auto both = b.HandleRequest(r);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(order, (std::vector<std::string>{"wal:thing", "periodic"}));
  EXPECT_EQ(both->data["rolled_back"], 1);
  EXPECT_EQ(both->data["failed"], 1);
  EXPECT_EQ(both->data["errors"], Json::array({"rotation failed"}));
}

TEST(PrefixStorage, ConfinesKeys) {
  MemStorage mem;
  PrefixStorage view(&mem, "logical/abc/");
  ASSERT_TRUE(SyncWait(view.Put("k", "v")).ok());
  EXPECT_EQ(**mem.GetNow("logical/abc/k"), "v");
  EXPECT_EQ(*SyncWait(view.List("")), std::vector<std::string>{"k"});
}

}  // namespace
}  // namespace vault::logical
