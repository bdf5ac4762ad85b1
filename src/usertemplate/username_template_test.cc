#include "usertemplate/username_template.h"

#include <gtest/gtest.h>

#include <regex>

namespace vault::usertemplate {
namespace {

TemplateEnv Env() {
  TemplateEnv env;
  env.now_nanos = 1700000000LL * 1000000000LL + 123456789;  // 2023-11-14T22:13:20.123456789Z
  env.random_alnum = [](size_t n) {
    std::string s;
    while (s.size() < n) s += "AbCdEfGhIjKlMnOpQrStUvWxYz";
    return s.substr(0, n);
  };
  env.uuid = [] { return std::string("11111111-2222-4333-8444-555555555555"); };
  return env;
}

std::string Render(const std::string& text, UsernameMetadata md = {"IAM", "token", "role"}) {
  auto t = UsernameTemplate::Parse(text);
  if (!t.ok()) return "PARSE: " + t.status().message();
  auto out = t->Execute(md, Env());
  if (!out.ok()) return "EXEC: " + out.status().message();
  return *out;
}

TEST(UsernameTemplate, DefaultTemplateIsVaultsExactly) {
  EXPECT_EQ(std::string(kDefaultUsernameTemplate),
            "{{ if (eq .Type \"STS\") }}{{ printf \"vault-%s-%s\"  (unix_time) (random 20) | "
            "truncate 32 }}{{ else }}{{ printf \"vault-%s-%s-%s\" (printf \"%s-%s\" "
            "(.DisplayName) (.PolicyName) | truncate 42) (unix_time) (random 20) | truncate 64 "
            "}}{{ end }}");
}

TEST(UsernameTemplate, DefaultShapes) {
  EXPECT_EQ(Render(kDefaultUsernameTemplate, {"IAM", "token", "myrole"}),
            "vault-token-myrole-1700000000-AbCdEfGhIjKlMnOpQrSt");
  // STS: exactly 32 characters (17 fixed + 15 random).
  EXPECT_EQ(Render(kDefaultUsernameTemplate, {"STS", "token", "myrole"}),
            "vault-1700000000-AbCdEfGhIjKlMnO");
  // The display-name/role part is cut to 42, the whole name to 64.
  std::string long_name(100, 'x');
  std::string out = Render(kDefaultUsernameTemplate, {"IAM", long_name, "role"});
  EXPECT_EQ(out.size(), 64u);
  EXPECT_EQ(out.substr(0, 48), "vault-" + std::string(42, 'x'));
}

// The direct rendering of the default template is the interpreter's, on names around every cut
// (42 for display-name + role, 64 and 32 for the whole), empty names, both types and times of
// every width; the random part is drawn once per name in both.
TEST(UsernameTemplate, DefaultRenderedDirectlyMatchesTheInterpreter) {
  auto parsed = UsernameTemplate::Parse(kDefaultUsernameTemplate);
  ASSERT_TRUE(parsed.ok());
  int checked = 0;
  for (const char* type : {"IAM", "STS", "sts", ""}) {
    for (size_t dl : {0, 1, 5, 20, 40, 41, 42, 43, 60, 64, 100}) {
      for (size_t pl : {0, 1, 2, 10, 21, 41, 42, 64}) {
        for (int64_t secs : {int64_t{0}, int64_t{7}, int64_t{1700000000}, int64_t{9000000000}}) {
          TemplateEnv env = Env();
          env.now_nanos = secs * 1000000000 + 999999999;
          int draws = 0;
          env.random_alnum = [&draws](size_t n) {
            ++draws;
            return std::string(n, static_cast<char>('a' + draws));
          };
          UsernameMetadata md{type, std::string(dl, 'd'), std::string(pl, 'p')};
          auto interpreted = parsed->Execute(md, env);
          ASSERT_TRUE(interpreted.ok());
          int interpreter_draws = draws;
          draws = 0;
          EXPECT_EQ(RenderDefaultUsername(md, env), *interpreted)
              << "type=" << type << " display=" << dl << " role=" << pl << " secs=" << secs;
          EXPECT_EQ(draws, interpreter_draws);
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 11 * 8 * 4);
}

TEST(UsernameTemplate, Functions) {
  EXPECT_EQ(Render("{{ .DisplayName | uppercase }}-{{ lowercase \"ABC\" }}"), "TOKEN-abc");
  EXPECT_EQ(Render("{{ replace \"o\" \"0\" .DisplayName }}"), "t0ken");
  EXPECT_EQ(Render("{{ .PolicyName | replace \"r\" \"R\" }}"), "Role");
  EXPECT_EQ(Render("{{ sha256 \"abc\" }}"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Render("{{ base64 \"hello\" }}"), "aGVsbG8=");
  EXPECT_EQ(Render("{{ uuid }}"), "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(Render("{{ unix_time_millis }}"), "1700000000123");
  EXPECT_EQ(Render("{{ timestamp \"2006-01-02T15:04:05.000Z07:00\" }}"),
            "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(Render("{{ timestamp \"20060102\" }}"), "20231114");
  EXPECT_EQ(Render("{{ random 5 }}"), "AbCdE");
  EXPECT_EQ(Render("{{ truncate 3 \"abcdef\" }}"), "abc");
  // truncate_sha256: first n-8 characters + the first 8 hex of sha256 of the rest.
  EXPECT_EQ(Render("{{ truncate_sha256 10 \"abcdefghijkl\" }}"), "ab3615b840");
  EXPECT_EQ(Render("{{ truncate_sha256 20 \"short\" }}"), "short");
  EXPECT_EQ(Render("{{ printf \"%s=%d %v %q %%\" \"a\" 5 true \"q\" }}"), "a=5 true \"q\" %");
  EXPECT_EQ(Render("{{ printf \"%s\" 5 }}"), "%!s(int=5)");
  EXPECT_EQ(Render("{{ printf \"%s %s\" \"a\" }}"), "a %!s(MISSING)");
}

TEST(UsernameTemplate, Conditionals) {
  const char* t = "{{ if eq .Type \"STS\" }}s{{ else if eq .Type \"IAM\" }}i{{ else }}o{{ end }}";
  EXPECT_EQ(Render(t, {"STS", "a", "b"}), "s");
  EXPECT_EQ(Render(t, {"IAM", "a", "b"}), "i");
  EXPECT_EQ(Render(t, {"X", "a", "b"}), "o");
  EXPECT_EQ(Render("{{ if ne .Type \"STS\" }}y{{ end }}"), "y");
  EXPECT_EQ(Render("{{ if not (eq .Type \"IAM\") }}y{{ else }}n{{ end }}"), "n");
  EXPECT_EQ(Render("{{ if and .DisplayName .PolicyName }}y{{ end }}"), "y");
  EXPECT_EQ(Render("a  {{- \"b\" -}}  c"), "abc");
  EXPECT_EQ(Render("a{{/* comment */}}b"), "ab");
  EXPECT_EQ(Render("{{ `raw\\n` }}"), "raw\\n");
}

TEST(UsernameTemplate, ParseErrors) {
  EXPECT_EQ(Render("{{ nope }}").rfind("PARSE:", 0), 0u);
  EXPECT_NE(Render("{{ nope }}").find("function \"nope\" not defined"), std::string::npos);
  EXPECT_EQ(Render("{{ if .Type }}x").rfind("PARSE:", 0), 0u);
  EXPECT_EQ(Render("{{ end }}").rfind("PARSE:", 0), 0u);
  EXPECT_EQ(Render("{{ .Type ").rfind("PARSE:", 0), 0u);
  EXPECT_EQ(Render("{{ \"unterminated }}").rfind("PARSE:", 0), 0u);
  EXPECT_EQ(Render("{{ range .Type }}{{ end }}").rfind("PARSE:", 0), 0u);
  EXPECT_EQ(Render("{{ (truncate 3 \"abc\" }}").rfind("PARSE:", 0), 0u);
  EXPECT_EQ(Render("{{ }}").rfind("PARSE:", 0), 0u);
}

TEST(UsernameTemplate, ExecErrors) {
  EXPECT_EQ(Render("{{ .Nope }}").rfind("EXEC:", 0), 0u);
  EXPECT_EQ(Render("{{ truncate \"a\" \"b\" }}").rfind("EXEC:", 0), 0u);
  EXPECT_EQ(Render("{{ truncate 0 \"b\" }}").rfind("EXEC:", 0), 0u);
  EXPECT_EQ(Render("{{ truncate_sha256 8 \"b\" }}").rfind("EXEC:", 0), 0u);
  EXPECT_EQ(Render("{{ eq .Type 1 }}").rfind("EXEC:", 0), 0u);
  EXPECT_EQ(Render("{{ uuid 1 }}").rfind("EXEC:", 0), 0u);
  EXPECT_EQ(Render("{{ \"a\" | \"b\" }}").rfind("EXEC:", 0), 0u);
}

TEST(UsernameTemplate, NormalizeName) {
  EXPECT_EQ(NormalizeName("some user@example.com/x"), "some_user@example.com_x");
  EXPECT_EQ(NormalizeName("a+b=c,d.e@f_g-h"), "a+b=c,d.e@f_g-h");
  EXPECT_EQ(NormalizeName("caf\xC3\xA9"), "caf_");  // one '_' per character, as Go
}

}  // namespace
}  // namespace vault::usertemplate
