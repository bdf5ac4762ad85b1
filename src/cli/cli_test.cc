// Tests of the `vault` CLI: flag parsing, write-data building, output formatting, every
// command against a fake transport, and one full path through libcurl to a loopback server.
#include "cli/cli.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/api_client.h"
#include "cli/command.h"
#include "cli/environment.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "cli/http_client.h"
#include "cli/kv_builder.h"
#include "cli/testing.h"

namespace vault::cli {
namespace {

// ---- FlagSet ------------------------------------------------------------------------------

struct TestFlags {
  std::string address;
  std::string format = "table";
  bool force = false;
  bool renewable = true;
  int64_t shares = 5;
  std::vector<std::string> policies;
  std::vector<std::string> raw;
  std::map<std::string, std::string> meta;
  FlagSet set;

  TestFlags() {
    set.String("address", &address, "addr");
    set.String("format", &format, "fmt");
    set.Bool("force", &force, "force");
    set.Bool("f", &force, "alias");
    set.Bool("renewable", &renewable, "renewable");
    set.Int("key-shares", &shares, "shares");
    set.StringList("policy", &policies, "policies", /*split_commas=*/true);
    set.StringList("raw", &raw, "raw");
    set.Map("metadata", &meta, "meta");
  }
};

TEST(Flags, GoSyntaxForms) {
  TestFlags f;
  ASSERT_TRUE(
      f.set.Parse({"-address=http://a:1", "--format", "json", "-key-shares", "7", "p"}).ok());
  EXPECT_EQ(f.address, "http://a:1");
  EXPECT_EQ(f.format, "json");
  EXPECT_EQ(f.shares, 7);
  EXPECT_EQ(f.set.args(), std::vector<std::string>{"p"});
  EXPECT_TRUE(f.set.IsSet("format"));
  EXPECT_FALSE(f.set.IsSet("force"));

  TestFlags g;
  ASSERT_TRUE(g.set.Parse({"--address=x", "-format=", "q"}).ok());
  EXPECT_EQ(g.address, "x");
  EXPECT_EQ(g.format, "");  // -name= sets the empty string
}

TEST(Flags, BoolsNeverConsumeTheNextArgument) {
  TestFlags f;
  ASSERT_TRUE(f.set.Parse({"-f", "false"}).ok());
  EXPECT_TRUE(f.force);
  EXPECT_EQ(f.set.args(), std::vector<std::string>{"false"});

  TestFlags g;
  ASSERT_TRUE(g.set.Parse({"-renewable=false", "-force=1", "--f=T"}).ok());
  EXPECT_FALSE(g.renewable);
  EXPECT_TRUE(g.force);

  TestFlags h;
  Status st = h.set.Parse({"-force=maybe"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "invalid boolean value \"maybe\" for -force: parse error");
}

TEST(Flags, RepeatedFlagsAccumulate) {
  TestFlags f;
  ASSERT_TRUE(f.set
                  .Parse({"-policy=a", "-policy", "b,c", "-raw=x,y", "-raw=z", "-metadata=k=v=w",
                          "-metadata", "team=ops"})
                  .ok());
  EXPECT_EQ(f.policies, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(f.raw, (std::vector<std::string>{"x,y", "z"}));
  EXPECT_EQ(f.meta, (std::map<std::string, std::string>{{"k", "v=w"}, {"team", "ops"}}));

  TestFlags g;
  EXPECT_FALSE(g.set.Parse({"-metadata=novalue"}).ok());
}

TEST(Flags, FlagsAfterPositionalsAndDoubleDash) {
  TestFlags f;
  ASSERT_TRUE(f.set.Parse({"secret/x", "-format=json", "a=b", "-", "--", "-f", "--x"}).ok());
  EXPECT_EQ(f.format, "json");
  EXPECT_FALSE(f.force);  // after --, "-f" is positional
  EXPECT_EQ(f.set.args(), (std::vector<std::string>{"secret/x", "a=b", "-", "-f", "--x"}));
}

TEST(Flags, ErrorsUseGoTexts) {
  TestFlags f;
  Status st = f.set.Parse({"-nope=1"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "flag provided but not defined: -nope");

  TestFlags g;
  st = g.set.Parse({"path", "-address"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "flag needs an argument: -address");

  TestFlags h;
  st = h.set.Parse({"-key-shares=five"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "invalid value \"five\" for flag -key-shares: parse error");

  TestFlags i;
  EXPECT_FALSE(i.set.Parse({"---x"}).ok());
  EXPECT_FALSE(i.set.Parse({"-=x"}).ok());
}

TEST(Flags, HelpIsRequestedNotAnError) {
  for (const char* arg : {"-h", "-help", "--help"}) {
    TestFlags f;
    ASSERT_TRUE(f.set.Parse({arg}).ok()) << arg;
    EXPECT_TRUE(f.set.help_requested()) << arg;
  }
  TestFlags f;
  EXPECT_NE(f.set.Help().find("-address=<string>"), std::string::npos);
  EXPECT_NE(f.set.Help().find("-key-shares=5"), std::string::npos);
}

// ---- write data building -----------------------------------------------------------------

InputSources FakeInputs(std::string stdin_text, std::map<std::string, std::string> files) {
  auto remaining = std::make_shared<std::string>(std::move(stdin_text));
  return InputSources{
      [remaining]() -> Result<std::string> { return std::exchange(*remaining, ""); },
      [files](const std::string& path) -> Result<std::string> {
        auto it = files.find(path);
        if (it == files.end()) return NotFound("open " + path + ": no such file or directory");
        return it->second;
      }};
}

TEST(KvBuilder, KeyValueStringsAndRepeatedKeys) {
  auto data =
      BuildKeyValueData({"a=1", "b=x=y", "", "c=", "a=2", "a=3", "t=true"}, FakeInputs("", {}));
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ(*data, Json::parse(R"({"a":["1","2","3"],"b":"x=y","c":"","t":"true"})"));
  auto empty = BuildKeyValueData({}, FakeInputs("", {}));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(DumpJson(*empty), "{}");
}

TEST(KvBuilder, FileAndEscapedAt) {
  // A real temporary file, read through the real environment's file reader.
  std::string path = (std::filesystem::temp_directory_path() /
                      ("cli_test_policy_" + std::to_string(getpid()) + ".json"))
                         .string();
  const std::string policy = "{\n  \"Version\": \"2012-10-17\"\n}\n";
  std::ofstream(path) << policy;
  std::unique_ptr<Environment> env = NewSystemEnvironment();
  InputSources inputs{nullptr, [&](const std::string& p) { return env->ReadFile(p); }};
  auto data = BuildKeyValueData({"policy=@" + path, "lit=\\@home"}, inputs);
  std::remove(path.c_str());
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ((*data)["policy"], policy);
  EXPECT_EQ((*data)["lit"], "@home");

  auto missing = BuildKeyValueData({"policy=@/nonexistent/p.json"}, inputs);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "Invalid key/value pair 'policy=@/nonexistent/p.json': error reading file: open "
            "/nonexistent/p.json: no such file or directory");
}

TEST(KvBuilder, StdinValueAndWholeJsonForms) {
  auto data = BuildKeyValueData({"key=-", "x=1"}, FakeInputs("from stdin\n", {}));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ((*data)["key"], "from stdin\n");

  auto merged = BuildKeyValueData(
      {"a=first", "-", "@extra.json", "z=last"},
      FakeInputs(R"({"a":"stdin","n":5})", {{"extra.json", R"({"list":[1,2],"n":6})"}}));
  ASSERT_TRUE(merged.ok()) << merged.status().message();
  EXPECT_EQ(*merged, Json::parse(R"({"a":"stdin","n":6,"list":[1,2],"z":"last"})"));
}

TEST(KvBuilder, Errors) {
  auto bad = BuildKeyValueData({"a=1", "novalue"}, FakeInputs("", {}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "Invalid key/value pair 'novalue': format must be key=value");

  auto twice = BuildKeyValueData({"a=-", "b=-"}, FakeInputs("x", {}));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "Invalid key/value pair 'b=-': stdin already consumed");

  auto not_object = BuildKeyValueData({"-"}, FakeInputs("[1]", {}));
  EXPECT_FALSE(not_object.ok());
  auto not_json = BuildKeyValueData({"-"}, FakeInputs("nope", {}));
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().message().rfind("Invalid key/value pair '-': ", 0), 0u);
}

// ---- formatting ---------------------------------------------------------------------------

TEST(Format, TableAlignsColumnsWithFourSpaces) {
  std::string table = FormatTable({{"Key", "Value"}, {"lease_id", "x"}, {"a", ""}});
  EXPECT_EQ(table,
            "Key         Value\n"
            "---         -----\n"
            "lease_id    x\n"
            "a           n/a");
  EXPECT_EQ(FormatTable({{"Keys"}, {"foo"}, {"bar/"}}), "Keys\n----\nfoo\nbar/");
  EXPECT_EQ(FormatTable({{"Path", "Type"}, {"aws/", "aws"}}, false), "Path    Type\naws/    aws");
  // Width counts characters, not bytes.
  EXPECT_EQ(FormatTable({{"\xE2\x88\x9E", "x"}, {"ab", "y"}}, false),
            "\xE2\x88\x9E     x\nab    y");
}

TEST(Format, GoValues) {
  EXPECT_EQ(FormatGoValue(Json("s")), "s");
  EXPECT_EQ(FormatGoValue(Json(3600)), "3600");
  EXPECT_EQ(FormatGoValue(Json(true)), "true");
  EXPECT_EQ(FormatGoValue(Json()), "<nil>");
  EXPECT_EQ(FormatGoValue(Json::parse(R"(["a",1,["b"]])")), "[a 1 [b]]");
  EXPECT_EQ(FormatGoValue(Json::parse(R"({"z":1,"a":{"k":"v"}})")), "map[a:map[k:v] z:1]");
  EXPECT_EQ(FormatGoQuotedList(Json::parse(R"(["root","default"])")), R"(["root" "default"])");
  EXPECT_EQ(FormatGoQuotedList(Json()), "[]");
}

TEST(Format, HumanDurations) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(3600), "1h");
  EXPECT_EQ(HumanDuration(2764800), "768h");
  EXPECT_EQ(HumanDuration(90), "1m30s");
  EXPECT_EQ(HumanDuration(3660), "1h1m");
  EXPECT_EQ(HumanDuration(3601), "1h1s");
  EXPECT_EQ(HumanDuration(59), "59s");
  EXPECT_EQ(JsonInt(Json("42")), 42);
  EXPECT_EQ(JsonInt(Json("4x")), std::nullopt);
}

const char kCredsResponse[] = R"({
  "request_id": "r1", "lease_id": "aws/creds/deploy/7cb8df71-782f-3de1-79dd-251778e49f58",
  "renewable": true, "lease_duration": 3600,
  "data": {"secret_key": "BK9++oBABaBvRKcT5KEF69xQGcH7ZpPRF3oqVEv7",
           "access_key": "AKIAIOMYUTSLGJOGLHTQ", "security_token": null},
  "wrap_info": null, "warnings": null, "auth": null})";

TEST(Format, SecretTableForLeasedCredentials) {
  EXPECT_EQ(FormatSecretTable(Json::parse(kCredsResponse)),
            "Key                Value\n"
            "---                -----\n"
            "lease_id           aws/creds/deploy/7cb8df71-782f-3de1-79dd-251778e49f58\n"
            "lease_duration     3600\n"
            "lease_renewable    true\n"
            "access_key         AKIAIOMYUTSLGJOGLHTQ\n"
            "secret_key         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\n"
            "security_token     <nil>");
}

TEST(Format, SecretTableRefreshIntervalAuthAndTtlKeys) {
  Json kv = Json::parse(R"({"lease_id":"","lease_duration":2764800,
      "data":{"b":"2","a":"1","ttl":3600,"max_ttl":"60","creation_ttl":"x"}})");
  std::vector<TableRow> rows = SecretRows(kv);
  std::vector<TableRow> want = {{"refresh_interval", "768h"}, {"a", "1"},        {"b", "2"},
                                {"creation_ttl", "x"},        {"max_ttl", "1m"}, {"ttl", "1h"}};
  EXPECT_EQ(rows, want);

  Json token = Json::parse(R"({"lease_id":"","lease_duration":0,"data":null,
      "auth":{"client_token":"hvs.abc","accessor":"acc","policies":["default","ops"],
              "token_policies":["default","ops"],"metadata":{"team":"x"},
              "lease_duration":2764800,"renewable":true}})");
  EXPECT_EQ(FormatSecretTable(token),
            "Key                  Value\n"
            "---                  -----\n"
            "token                hvs.abc\n"
            "token_accessor       acc\n"
            "token_duration       768h\n"
            "token_renewable      true\n"
            "token_policies       [\"default\" \"ops\"]\n"
            "identity_policies    []\n"
            "policies             [\"default\" \"ops\"]\n"
            "token_meta_team      x");
  Json root =
      Json::parse(R"({"auth":{"client_token":"r","policies":["root"],"lease_duration":0}})");
  EXPECT_EQ(SecretRows(root)[2], (TableRow{"token_duration", "\xE2\x88\x9E"}));
}

TEST(Format, SecretFields) {
  Json creds = Json::parse(kCredsResponse);
  EXPECT_EQ(SecretField(creds, "access_key"), "AKIAIOMYUTSLGJOGLHTQ");
  EXPECT_EQ(SecretField(creds, "lease_id"),
            "aws/creds/deploy/7cb8df71-782f-3de1-79dd-251778e49f58");
  EXPECT_EQ(SecretField(creds, "lease_duration"), "3600");
  EXPECT_EQ(SecretField(creds, "nope"), std::nullopt);
  Json token = Json::parse(R"({"auth":{"client_token":"t1","policies":["a","b"]}})");
  EXPECT_EQ(SecretField(token, "token"), "t1");
  EXPECT_EQ(SecretField(token, "token_policies"), "[a b]");
}

TEST(Format, ApiErrorShape) {
  EXPECT_EQ(FormatApiError("GET", "http://127.0.0.1:8200/v1/secret/foo", 403,
                           R"({"errors":["permission denied"]})"),
            "Error making API request.\n\n"
            "URL: GET http://127.0.0.1:8200/v1/secret/foo\n"
            "Code: 403. Errors:\n\n"
            "* permission denied");
  EXPECT_EQ(FormatApiError("PUT", "http://h/v1/x", 400, R"({"errors":["a","b"]})"),
            "Error making API request.\n\nURL: PUT http://h/v1/x\nCode: 400. Errors:\n\n* a\n* b");
  EXPECT_EQ(
      FormatApiError("GET", "http://h/v1/x", 502, "Bad Gateway\n"),
      "Error making API request.\n\nURL: GET http://h/v1/x\nCode: 502. Errors:\n\nBad Gateway");
  // A JSON object without "errors" (a KV version 2 404 with the secret) has no bullets.
  EXPECT_EQ(FormatApiError("PATCH", "http://h/v1/x", 404, R"({"data":{"version":5}})"),
            "Error making API request.\n\nURL: PATCH http://h/v1/x\nCode: 404. Errors:");
}

TEST(Format, SealStatusRows) {
  Json sealed = Json::parse(R"({"type":"shamir","initialized":true,"sealed":true,"t":3,"n":5,
      "progress":1,"nonce":"","version":"1.15.0","storage_type":"inmem"})");
  EXPECT_EQ(FormatTable(SealStatusRows(sealed, Json())),
            "Key                Value\n"
            "---                -----\n"
            "Seal Type          shamir\n"
            "Initialized        true\n"
            "Sealed             true\n"
            "Total Shares       5\n"
            "Threshold          3\n"
            "Unseal Progress    1/3\n"
            "Unseal Nonce       n/a\n"
            "Version            1.15.0\n"
            "Build Date         n/a\n"
            "Storage Type       inmem");
  Json unsealed = Json::parse(R"({"type":"shamir","sealed":false,"t":1,"n":1})");
  auto rows = SealStatusRows(unsealed, Json::parse(R"({"ha_enabled":false})"));
  EXPECT_EQ(rows.back(), (TableRow{"HA Enabled", "false"}));
}

TEST(Format, WrapAtLength) {
  std::string wrapped = WrapAtLength(std::string(70, 'a') + " bbbbbbbbbbbb cc");
  EXPECT_EQ(wrapped, std::string(70, 'a') + "\nbbbbbbbbbbbb cc");
}

TEST(Format, WarningsWrapWithMinimumRaggedness) {
  // A greedy wrap would give "aaa bb / cc / ddddd".
  EXPECT_EQ(WrapMinimumRaggedness("aaa bb cc ddddd", 6), "aaa\nbb cc\nddddd");
  EXPECT_EQ(WrapMinimumRaggedness("one", 1), "one");
  EXPECT_EQ(
      FormatWarnings(Json::parse(
          R"(["Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.","short"])")),
      "WARNING! The following warnings were returned from Vault:\n\n"
      "  * Invalid path for a versioned K/V secrets engine. See the API docs "
      "for the\n"
      "  appropriate API endpoints to use. If using the Vault CLI, use 'vault "
      "kv get'\n"
      "  for this operation.\n\n"
      "  * short\n\n");
  EXPECT_EQ(FormatWarnings(Json()), "");
  EXPECT_EQ(FormatWarnings(Json::array()), "");
}

TEST(Format, SecretJsonInTheOrderOfVaultsSecret) {
  Json secret = Json::parse(
      R"({"auth":null,"data":{"data":{"html":"<a&b>"}},"lease_duration":0,
      "lease_id":"","renewable":false,"request_id":"r1","warnings":null,"wrap_info":null,
      "mount_type":"kv"})");
  EXPECT_EQ(FormatSecretJson(secret),
            "{\n"
            "  \"request_id\": \"r1\",\n"
            "  \"lease_id\": \"\",\n"
            "  \"lease_duration\": 0,\n"
            "  \"renewable\": false,\n"
            "  \"data\": {\n"
            "    \"data\": {\n"
            "      \"html\": \"\\u003ca\\u0026b\\u003e\"\n"
            "    }\n"
            "  },\n"
            "  \"warnings\": null,\n"
            "  \"mount_type\": \"kv\"\n"
            "}");
  EXPECT_EQ(FormatSecretJson(Json::parse(R"({"warnings":["w"]})")),
            "{\n"
            "  \"request_id\": \"\",\n"
            "  \"lease_id\": \"\",\n"
            "  \"lease_duration\": 0,\n"
            "  \"renewable\": false,\n"
            "  \"data\": null,\n"
            "  \"warnings\": [\n"
            "    \"w\"\n"
            "  ]\n"
            "}");
}

// ---- commands against a fake environment ----------------------------------------------------

TEST_F(CommandTest, ReadPrintsTheSecretTableAndSendsHeaders) {
  env_.vars["VAULT_TOKEN"] = "root-token";
  env_.transport.Reply(200, kCredsResponse);
  EXPECT_EQ(Run({"read", "aws/creds/deploy"}), 0);
  const HttpRequest& request = LastRequest();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "http://127.0.0.1:8200/v1/aws/creds/deploy");
  EXPECT_FALSE(request.body.has_value());
  EXPECT_EQ(request.headers,
            (HttpHeaders{{"X-Vault-Token", "root-token"}, {"X-Vault-Request", "true"}}));
  EXPECT_EQ(Out(),
            "Key                Value\n"
            "---                -----\n"
            "lease_id           aws/creds/deploy/7cb8df71-782f-3de1-79dd-251778e49f58\n"
            "lease_duration     3600\n"
            "lease_renewable    true\n"
            "access_key         AKIAIOMYUTSLGJOGLHTQ\n"
            "secret_key         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\n"
            "security_token     <nil>\n");
}

TEST_F(CommandTest, TokenComesFromTheTokenFileAndAddressDefaults) {
  env_.vars.erase("VAULT_ADDR");
  env_.files["/home/u/.vault-token"] = "file-token\n";
  env_.transport.Reply(200, R"({"data":{"k":"v"}})");
  EXPECT_EQ(Run({"read", "/secret/foo"}), 0);
  EXPECT_EQ(LastRequest().url, "https://127.0.0.1:8200/v1/secret/foo");
  EXPECT_EQ(LastRequest().headers[0],
            (std::pair<std::string, std::string>{"X-Vault-Token", "file-token"}));
  // No token at all: no X-Vault-Token header.
  env_.files.clear();
  env_.transport.Reply(200, R"({"data":{"k":"v"}})");
  EXPECT_EQ(Run({"read", "-address=http://10.0.0.1:8200/", "secret/foo"}), 0);
  EXPECT_EQ(LastRequest().url, "http://10.0.0.1:8200/v1/secret/foo");
  EXPECT_EQ(LastRequest().headers, (HttpHeaders{{"X-Vault-Request", "true"}}));
}

TEST_F(CommandTest, TlsOptionsFromFlagsAndEnvironment) {
  env_.vars["VAULT_CACERT"] = "/etc/ca.pem";
  env_.vars["VAULT_SKIP_VERIFY"] = "true";
  env_.transport.Reply(200, R"({"data":{}})");
  EXPECT_EQ(Run({"read", "secret/foo"}), 0);
  EXPECT_EQ(env_.last_options.ca_cert, "/etc/ca.pem");
  EXPECT_TRUE(env_.last_options.tls_skip_verify);
  EXPECT_EQ(env_.last_options.timeout_seconds, 60);
  env_.transport.Reply(200, R"({"data":{}})");
  EXPECT_EQ(Run({"read", "-tls-skip-verify=false", "-ca-cert=/x.pem", "secret/foo"}), 0);
  EXPECT_FALSE(env_.last_options.tls_skip_verify);
  EXPECT_EQ(env_.last_options.ca_cert, "/x.pem");
}

TEST_F(CommandTest, ReadNotFoundAndErrors) {
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"read", "secret/nope"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/nope\n");

  env_.transport.Reply(403, R"({"errors":["permission denied"]})");
  EXPECT_EQ(Run({"read", "secret/foo"}), 1);
  EXPECT_EQ(Err(),
            "Error reading secret/foo: Error making API request.\n\n"
            "URL: GET http://127.0.0.1:8200/v1/secret/foo\n"
            "Code: 403. Errors:\n\n"
            "* permission denied\n");

  env_.transport.responses.push_back(
      Unavailable("dial tcp 127.0.0.1:8200: connect: connection refused"));
  EXPECT_EQ(Run({"read", "secret/foo"}), 1);
  EXPECT_EQ(Err(),
            "Error reading secret/foo: Get \"http://127.0.0.1:8200/v1/secret/foo\": dial tcp "
            "127.0.0.1:8200: connect: connection refused\n");

  EXPECT_EQ(Run({"read"}), 2);
  EXPECT_NE(Err().find("Not enough arguments (expected 1, got 0)"), std::string::npos);
}

TEST_F(CommandTest, ReadFieldAndJsonFormats) {
  env_.transport.Reply(200, kCredsResponse);
  EXPECT_EQ(Run({"read", "-field=secret_key", "aws/creds/deploy"}), 0);
  EXPECT_EQ(Out(), "BK9++oBABaBvRKcT5KEF69xQGcH7ZpPRF3oqVEv7");  // no newline: not a terminal

  env_.tty = true;
  env_.transport.Reply(200, kCredsResponse);
  EXPECT_EQ(Run({"read", "aws/creds/deploy", "-field=lease_id"}), 0);
  EXPECT_EQ(Out(), "aws/creds/deploy/7cb8df71-782f-3de1-79dd-251778e49f58\n");

  env_.transport.Reply(200, kCredsResponse);
  EXPECT_EQ(Run({"read", "-field=nope", "aws/creds/deploy"}), 1);
  EXPECT_EQ(Err(), "Field \"nope\" not present in secret\n");

  env_.transport.Reply(200, R"({"lease_id":"","data":{"a":"b"}})");
  EXPECT_EQ(Run({"read", "secret/x", "-format=json"}), 0);
  EXPECT_EQ(Out(), "{\n  \"data\": {\n    \"a\": \"b\"\n  },\n  \"lease_id\": \"\"\n}\n");

  env_.vars["VAULT_FORMAT"] = "json";
  env_.transport.Reply(200, R"({"data":{}})");
  EXPECT_EQ(Run({"read", "secret/x"}), 0);
  EXPECT_EQ(Out()[0], '{');

  EXPECT_EQ(Run({"read", "-format=yaml", "secret/x"}), 2);
  EXPECT_NE(Err().find("Invalid output format: yaml"), std::string::npos);
}

TEST_F(CommandTest, ReadPassesKeyValueArgsAsQuery) {
  env_.transport.Reply(200, kCredsResponse);
  EXPECT_EQ(Run({"read", "aws/creds/deploy", "ttl=1h", "role_arn=arn:aws:iam::1:role/x y"}), 0);
  EXPECT_EQ(LastRequest().url,
            "http://127.0.0.1:8200/v1/aws/creds/deploy?role_arn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx"
            "%20y&ttl=1h");
}

TEST_F(CommandTest, WriteBuildsDataAndReportsSuccess) {
  EXPECT_EQ(Run({"write", "aws/config/root", "access_key=AKIAJWVN5Z4FOFT7NLNA",
                 "secret_key=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", "region=us-east-1"}),
            0);
  EXPECT_EQ(LastRequest().method, "PUT");
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/aws/config/root");
  EXPECT_EQ(LastBody(), Json::parse(R"({"access_key":"AKIAJWVN5Z4FOFT7NLNA",
      "secret_key":"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","region":"us-east-1"})"));
  EXPECT_EQ(Out(), "Success! Data written to: aws/config/root\n");

  env_.files["policy.json"] = "{\"Version\": \"2012-10-17\"}\n";
  EXPECT_EQ(Run({"write", "aws/roles/deploy", "policy=@policy.json"}), 0);
  EXPECT_EQ(LastBody()["policy"], "{\"Version\": \"2012-10-17\"}\n");

  env_.stdin_text = R"({"x":"y"})";
  EXPECT_EQ(Run({"write", "secret/a", "-"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"x":"y"})"));
}

TEST_F(CommandTest, WriteForceEmptyAndUsageErrors) {
  EXPECT_EQ(Run({"write", "secret/a"}), 2);
  EXPECT_EQ(Err().rfind("Must supply data or use -force\n", 0), 0u);
  EXPECT_TRUE(env_.transport.requests.empty());

  EXPECT_EQ(Run({"write", "-f", "sys/rotate"}), 0);
  EXPECT_EQ(LastRequest().body, "{}");

  EXPECT_EQ(Run({"write", "secret/a", "oops"}), 1);
  EXPECT_EQ(Err(), "Invalid key/value pair 'oops': format must be key=value\n");

  EXPECT_EQ(Run({"write", "-bogus", "secret/a", "a=b"}), 2);
  EXPECT_EQ(Err().rfind("flag provided but not defined: -bogus\n", 0), 0u);
}

TEST_F(CommandTest, WriteWithResponsePrintsItAndErrorsArePrefixed) {
  env_.transport.Reply(200, R"({"lease_id":"","data":{"sts":"x"},"warnings":["careful"]})");
  EXPECT_EQ(Run({"write", "aws/sts/deploy", "ttl=1h"}), 0);
  EXPECT_EQ(Out(), "Key    Value\n---    -----\nsts    x\n");
  EXPECT_EQ(Err(), "WARNING! The following warnings were returned from Vault:\n\n  * careful\n\n");

  // Warnings and nothing else: no empty table.
  env_.transport.Reply(200, R"({"lease_id":"","data":null,"warnings":["only this"]})");
  EXPECT_EQ(Run({"write", "aws/sts/deploy", "ttl=1h"}), 0);
  EXPECT_EQ(Out(), "");
  EXPECT_EQ(Err(),
            "WARNING! The following warnings were returned from Vault:\n\n  * only this\n\n");

  env_.transport.Reply(400, R"({"errors":["missing region"]})");
  EXPECT_EQ(Run({"write", "aws/config/root", "a=b"}), 1);
  EXPECT_EQ(Err().rfind("Error writing data to aws/config/root: Error making API request.", 0), 0u);
}

TEST_F(CommandTest, DeleteListAndPathHelp) {
  EXPECT_EQ(Run({"delete", "secret/foo"}), 0);
  EXPECT_EQ(LastRequest().method, "DELETE");
  EXPECT_EQ(Out(), "Success! Data deleted (if it existed) at: secret/foo\n");

  env_.transport.Reply(200, R"({"data":{"keys":["a","b/"]}})");
  EXPECT_EQ(Run({"list", "secret"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/secret/?list=true");
  EXPECT_EQ(Out(), "Keys\n----\na\nb/\n");

  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"list", "secret/none"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/none/\n");

  env_.transport.Reply(200, R"({"help":"## DESCRIPTION\n\nAWS","see_also":null})");
  EXPECT_EQ(Run({"path-help", "aws"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/aws?help=1");
  EXPECT_EQ(Out(), "## DESCRIPTION\n\nAWS\n");
}

TEST_F(CommandTest, VersionInEverySpelling) {
  for (const char* arg : {"version", "-v", "-version", "--version"}) {
    EXPECT_EQ(Run({arg}), 0) << arg;
    EXPECT_EQ(Out(), "Vault v0.1.0 (vault-cpp)\n") << arg;
  }
}

TEST_F(CommandTest, TokenCapabilitiesBothSpellings) {
  // The server's answer carries them under the path and under "capabilities" (as Vault's).
  const char* reply = R"({"data":{"capabilities":["update","read","create"],
                                  "secret/foo":["update","read","create"]}})";
  env_.transport.Reply(200, reply);
  EXPECT_EQ(Run({"token", "capabilities", "secret/foo"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/capabilities-self");
  EXPECT_EQ(LastBody(), Json::parse(R"({"path":"secret/foo"})"));
  EXPECT_EQ(Out(), "create, read, update\n");

  env_.transport.Reply(200, R"({"data":{"secret/foo":["deny"]}})");
  EXPECT_EQ(Run({"token", "capabilities", "s.abc", "secret/foo"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/capabilities");
  EXPECT_EQ(LastBody(), Json::parse(R"({"path":"secret/foo","token":"s.abc"})"));
  EXPECT_EQ(Out(), "deny\n");

  env_.transport.Reply(200, reply);
  EXPECT_EQ(Run({"token", "capabilities", "-format=json", "secret/foo"}), 0);
  EXPECT_EQ(Json::parse(Out()), Json::parse(R"(["update","read","create"])"));

  env_.transport.Reply(200, reply);
  EXPECT_EQ(Run({"capabilities", "secret/foo"}), 0);
  EXPECT_EQ(Out(), "Capabilities: [update read create]\n");

  EXPECT_EQ(Run({"capabilities"}), 2);
  EXPECT_NE(Err().find("Not enough arguments"), std::string::npos) << Err();
  env_.transport.Reply(403, R"({"errors":["permission denied"]})");
  EXPECT_EQ(Run({"token", "capabilities", "s.abc", "secret/foo"}), 1);
  EXPECT_EQ(Err().rfind("Error listing capabilities: ", 0), 0u) << Err();
}

TEST_F(CommandTest, MountCommandsBothSpellings) {
  EXPECT_EQ(Run({"mount", "aws"}), 0);
  EXPECT_EQ(LastRequest().method, "POST");
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/mounts/aws");
  EXPECT_EQ(LastBody(), Json::parse(R"({"type":"aws","description":"","config":{}})"));
  EXPECT_EQ(Out(), "Successfully mounted 'aws' at 'aws'!\n");

  EXPECT_EQ(Run({"secrets", "enable", "-path=cloud/", "-description=AWS creds",
                 "-default-lease-ttl=1h", "-max-lease-ttl=24h", "aws"}),
            0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/mounts/cloud");
  EXPECT_EQ(LastBody(), Json::parse(R"({"type":"aws","description":"AWS creds",
      "config":{"default_lease_ttl":"1h","max_lease_ttl":"24h"}})"));
  EXPECT_EQ(Out(), "Success! Enabled the aws secrets engine at: cloud/\n");

  env_.transport.Reply(400, R"({"errors":["existing mount at aws/"]})");
  EXPECT_EQ(Run({"mount", "aws"}), 1);
  EXPECT_EQ(Err().rfind("Error mounting: Error making API request.", 0), 0u);

  EXPECT_EQ(Run({"unmount", "aws"}), 0);
  EXPECT_EQ(LastRequest().method, "DELETE");
  EXPECT_EQ(Out(), "Successfully unmounted 'aws'!\n");
  EXPECT_EQ(Run({"secrets", "disable", "aws/"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/mounts/aws");
  EXPECT_EQ(Out(), "Success! Disabled the secrets engine (if it existed) at: aws/\n");

  EXPECT_EQ(Run({"mount-tune", "-default-lease-ttl=30m", "aws"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/mounts/aws/tune");
  EXPECT_EQ(LastBody(), Json::parse(R"({"default_lease_ttl":"30m"})"));
  EXPECT_EQ(Run({"secrets", "tune", "-max-lease-ttl=2h", "aws"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"max_lease_ttl":"2h"})"));
  EXPECT_EQ(Out(), "Success! Tuned the secrets engine at: aws/\n");
}

TEST_F(CommandTest, SecretsEnableSendsTheKvVersionAsAnInteger) {
  EXPECT_EQ(Run({"secrets", "enable", "-version=2", "kv"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/mounts/kv");
  EXPECT_EQ(LastBody(), Json::parse(R"({"type":"kv","description":"","config":{},
      "options":{"version":"2"}})"));
  EXPECT_EQ(Run({"secrets", "enable", "-version=2", "kv-v2"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/mounts/kv-v2");
  EXPECT_EQ(LastBody(), Json::parse(R"({"type":"kv-v2","description":"","config":{},
      "options":{"version":"2"}})"));
  EXPECT_EQ(Out(), "Success! Enabled the kv-v2 secrets engine at: kv-v2/\n");
  // 0 is not sent; a version must be a number.
  EXPECT_EQ(Run({"secrets", "enable", "-path=old", "-version=0", "kv"}), 0);
  EXPECT_FALSE(LastBody().contains("options"));
  EXPECT_EQ(Run({"secrets", "enable", "-version=two", "kv"}), 2);
  EXPECT_EQ(Err().rfind("invalid value \"two\" for flag -version: parse error\n", 0), 0u);
}

TEST_F(CommandTest, MountListings) {
  const char* mounts = R"({"aws/":{"type":"aws","description":"","accessor":"aws_1",
      "config":{"default_lease_ttl":3600,"max_lease_ttl":0}},
    "sys/":{"type":"system","description":"system endpoints","accessor":"system_2",
      "config":{"default_lease_ttl":0,"max_lease_ttl":0}},
    "request_id":"x",
    "data":{"aws/":{"type":"aws","description":"","accessor":"aws_1",
      "config":{"default_lease_ttl":3600,"max_lease_ttl":0}},
    "sys/":{"type":"system","description":"system endpoints","accessor":"system_2",
      "config":{"default_lease_ttl":0,"max_lease_ttl":0}}}})";
  env_.transport.Reply(200, mounts);
  EXPECT_EQ(Run({"secrets", "list"}), 0);
  EXPECT_EQ(Out(),
            "Path    Type      Accessor    Description\n"
            "----    ----      --------    -----------\n"
            "aws/    aws       aws_1       n/a\n"
            "sys/    system    system_2    system endpoints\n");
  // 2015 servers answered with the bare map.
  env_.transport.Reply(200, R"({"aws/":{"type":"aws","description":"",
      "config":{"default_lease_ttl":3600,"max_lease_ttl":0}}})");
  EXPECT_EQ(Run({"mounts"}), 0);
  EXPECT_EQ(Out(),
            "Path    Type    Default TTL    Max TTL    Description\n"
            "aws/    aws     3600           system     n/a\n");
}

TEST_F(CommandTest, RevokeMatchesTheSeedError) {
  env_.transport.Reply(400, R"({"errors":["invalid request"]})");
  EXPECT_EQ(Run({"revoke", "aws/creds/deploy/774cfb27-c22d-6e78-0077-254879d1af3c"}), 1);
  EXPECT_EQ(LastRequest().method, "PUT");
  EXPECT_EQ(
      Err(),
      "Revoke error: Error making API request.\n\n"
      "URL: PUT "
      "http://127.0.0.1:8200/v1/sys/revoke/aws/creds/deploy/774cfb27-c22d-6e78-0077-254879d1af3c\n"
      "Code: 400. Errors:\n\n"
      "* invalid request\n");

  EXPECT_EQ(Run({"revoke", "aws/creds/deploy/1"}), 0);
  EXPECT_EQ(Out(), "Success! Revoked the secret with ID 'aws/creds/deploy/1', if it existed.\n");
  EXPECT_EQ(Run({"revoke", "-prefix", "aws/"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/revoke-prefix/aws/");
  EXPECT_EQ(Out(), "Success! Revoked any secrets with prefix 'aws/'\n");
  EXPECT_EQ(Run({"revoke", "-prefix", "-force", "aws/"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/revoke-force/aws/");
  EXPECT_EQ(Out(), "Success! Force revoked any secrets with prefix 'aws/'\n");

  size_t before = env_.transport.requests.size();
  EXPECT_EQ(Run({"revoke", "-force", "aws/"}), 2);
  EXPECT_EQ(env_.transport.requests.size(), before);
}

TEST_F(CommandTest, RenewAndLeaseCommands) {
  env_.transport.Reply(200, R"({"lease_id":"aws/creds/deploy/1","lease_duration":7200,
      "renewable":true,"data":null})");
  EXPECT_EQ(Run({"renew", "aws/creds/deploy/1", "1h"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/renew/aws/creds/deploy/1");
  EXPECT_EQ(LastBody(), Json::parse(R"({"increment":3600})"));
  EXPECT_NE(Out().find("lease_duration     7200"), std::string::npos);

  env_.transport.Reply(200, R"({"lease_id":"x","lease_duration":60})");
  EXPECT_EQ(Run({"renew", "x", "3600"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"increment":3600})"));
  EXPECT_EQ(Run({"renew", "x", "soon"}), 2);

  EXPECT_EQ(Run({"lease", "revoke", "aws/creds/deploy/1"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/leases/revoke");
  EXPECT_EQ(LastBody(), Json::parse(R"({"lease_id":"aws/creds/deploy/1"})"));
  EXPECT_EQ(Out(), "Success! Revoked lease: aws/creds/deploy/1\n");
  EXPECT_EQ(Run({"lease", "revoke", "-prefix", "-force", "aws"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/leases/revoke-force/aws");

  env_.transport.Reply(200, R"({"lease_id":"l","lease_duration":60,"renewable":true})");
  EXPECT_EQ(Run({"lease", "renew", "-increment=30m", "l"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"lease_id":"l","increment":1800})"));

  env_.transport.Reply(200, R"({"data":{"id":"l","ttl":59,"renewable":true}})");
  EXPECT_EQ(Run({"lease", "lookup", "l"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/leases/lookup");
  EXPECT_NE(Out().find("ttl          59s"), std::string::npos);
}

TEST_F(CommandTest, TokenCreateLookupRevokeRenew) {
  env_.transport.Reply(200, R"({"auth":{"client_token":"t1","accessor":"a1",
      "policies":["default","ops"],"token_policies":["default","ops"],"lease_duration":3600,
      "renewable":true}})");
  EXPECT_EQ(Run({"token", "create", "-policy=ops", "-policy=dev,qa", "-ttl=1h", "-use-limit=3",
                 "-metadata=team=x", "-display-name=ci"}),
            0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/auth/token/create");
  EXPECT_EQ(LastBody(), Json::parse(R"({"policies":["ops","dev","qa"],"ttl":"1h","num_uses":3,
      "meta":{"team":"x"},"display_name":"ci","renewable":true})"));
  EXPECT_NE(Out().find("\ntoken                t1\n"), std::string::npos) << Out();
  EXPECT_NE(Out().find("\ntoken_duration       1h\n"), std::string::npos) << Out();

  env_.transport.Reply(200, R"({"auth":{"client_token":"t2"}})");
  EXPECT_EQ(Run({"token-create", "-orphan", "-renewable=false", "-field=token"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/auth/token/create-orphan");
  EXPECT_EQ(LastBody()["renewable"], false);
  EXPECT_EQ(LastBody()["no_parent"], true);
  EXPECT_EQ(Out(), "t2");

  env_.transport.Reply(200, R"({"data":{"id":"t1","policies":["root"],"ttl":0}})");
  EXPECT_EQ(Run({"token", "lookup"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/auth/token/lookup-self");
  env_.transport.Reply(200, R"({"data":{"id":"t1"}})");
  EXPECT_EQ(Run({"token", "lookup", "t1"}), 0);
  EXPECT_EQ(LastRequest().method, "POST");
  EXPECT_EQ(LastBody(), Json::parse(R"({"token":"t1"})"));

  EXPECT_EQ(Run({"token", "revoke", "t1"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/auth/token/revoke");
  EXPECT_EQ(LastBody(), Json::parse(R"({"token":"t1"})"));
  EXPECT_EQ(Out(), "Success! Revoked token (if it existed)\n");

  env_.transport.Reply(200, R"({"auth":{"client_token":"t1","lease_duration":7200}})");
  EXPECT_EQ(Run({"token", "renew", "-increment=2h", "t1"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"token":"t1","increment":7200})"));
}

TEST_F(CommandTest, LoginValidatesAndStoresTheToken) {
  env_.transport.Reply(200, R"({"data":{"id":"s.tok","accessor":"acc","policies":["root"],
      "ttl":0,"renewable":false}})");
  EXPECT_EQ(Run({"login", "s.tok"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/auth/token/lookup-self");
  EXPECT_EQ(LastRequest().headers[0],
            (std::pair<std::string, std::string>{"X-Vault-Token", "s.tok"}));
  EXPECT_EQ(env_.files["/home/u/.vault-token"], "s.tok");
  EXPECT_EQ(Out().rfind("Success! You are now authenticated.", 0), 0u);
  EXPECT_NE(Out().find("token_policies       [\"root\"]"), std::string::npos);

  env_.files.clear();
  env_.transport.Reply(200, R"({"data":{"id":"t","policies":["default","ops"]}})");
  EXPECT_EQ(Run({"auth", "t"}), 0);
  EXPECT_EQ(Out(),
            "Successfully authenticated! The policies that are associated\n"
            "with this token are listed below:\n\ndefault, ops\n");

  env_.files.clear();
  env_.transport.Reply(403, R"({"errors":["permission denied"]})");
  EXPECT_EQ(Run({"login", "bad"}), 1);
  EXPECT_EQ(Err().rfind("Error authenticating: Error making API request.", 0), 0u);
  EXPECT_TRUE(env_.files.empty());
}

TEST_F(CommandTest, OperatorInitUnsealSealStatus) {
  env_.transport.Reply(200, R"({"keys":["0a0b","0c0d"],"keys_base64":["Cgs=","DA0="],
      "root_token":"hvs.root"})");
  EXPECT_EQ(Run({"operator", "init", "-key-shares=2", "-key-threshold=2"}), 0);
  EXPECT_EQ(LastRequest().method, "PUT");
  EXPECT_EQ(LastBody(), Json::parse(R"({"secret_shares":2,"secret_threshold":2})"));
  EXPECT_EQ(Out().rfind("Unseal Key 1: Cgs=\nUnseal Key 2: DA0=\n\nInitial Root Token: hvs.root\n"
                        "\nVault initialized with 2 key shares and a key threshold of 2.",
                        0),
            0u);

  env_.transport.Reply(200, R"({"keys":["0a0b"],"root_token":"r"})");
  EXPECT_EQ(Run({"init", "-format=json"}), 0);
  Json init = Json::parse(Out());
  EXPECT_EQ(init["unseal_keys_b64"], Json::parse(R"(["Cgs="])"));
  EXPECT_EQ(init["unseal_keys_hex"], Json::parse(R"(["0a0b"])"));
  EXPECT_EQ(init["unseal_shares"], 5);
  EXPECT_EQ(init["root_token"], "r");

  env_.lines.push_back("key-from-prompt\n");
  env_.transport.Reply(200, R"({"type":"shamir","initialized":true,"sealed":false,"t":1,"n":1,
      "progress":0,"version":"1.15.0","storage_type":"inmem"})");
  EXPECT_EQ(Run({"unseal"}), 0);
  EXPECT_EQ(env_.prompts, std::vector<std::string>{"Unseal Key (will be hidden): "});
  EXPECT_EQ(LastBody(), Json::parse(R"({"key":"key-from-prompt"})"));
  EXPECT_NE(Out().find("Sealed          false"), std::string::npos);
  EXPECT_EQ(Run({"operator", "unseal", "-reset"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"reset":true})"));

  EXPECT_EQ(Run({"operator", "seal"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/seal");
  EXPECT_EQ(Out(), "Success! Vault is sealed.\n");

  env_.transport.Reply(200, R"({"sealed":true,"t":3,"n":5,"progress":0})");
  EXPECT_EQ(Run({"status"}), 2);
  env_.transport.Reply(200, R"({"sealed":false,"t":3,"n":5,"progress":0})");
  env_.transport.Reply(200, R"({"ha_enabled":false})");
  EXPECT_EQ(Run({"status"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/leader");
  EXPECT_NE(Out().find("HA Enabled      false"), std::string::npos);
  env_.transport.responses.push_back(Unavailable("dial tcp x: connect: connection refused"));
  EXPECT_EQ(Run({"status"}), 1);
}

TEST_F(CommandTest, PolicyCommands) {
  env_.stdin_text = "path \"secret/*\" { policy = \"write\" }\n";
  EXPECT_EQ(Run({"policy", "write", "Ops", "-"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/policy/ops");
  EXPECT_EQ(LastBody()["policy"], "path \"secret/*\" { policy = \"write\" }\n");
  EXPECT_EQ(Out(), "Success! Uploaded policy: ops\n");

  env_.files["p.hcl"] = "rules";
  EXPECT_EQ(Run({"policy-write", "dev", "p.hcl"}), 0);
  EXPECT_EQ(Out(), "Policy 'dev' written.\n");
  EXPECT_EQ(Run({"policy", "write", "dev", "missing.hcl"}), 1);
  EXPECT_EQ(Err(), "Error opening policy file: open missing.hcl: no such file or directory\n");

  env_.transport.Reply(200,
                       R"({"policies":["default","root"],"data":{"policies":["default","root"]}})");
  EXPECT_EQ(Run({"policy", "list"}), 0);
  EXPECT_EQ(Out(), "default\nroot\n");
  env_.transport.Reply(200, R"({"rules":"path {}\n"})");
  EXPECT_EQ(Run({"policies", "ops"}), 0);
  EXPECT_EQ(Out(), "path {}\n");
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"policy", "read", "none"}), 2);
  EXPECT_EQ(Err(), "No policy named: none\n");

  EXPECT_EQ(Run({"policy", "delete", "ops"}), 0);
  EXPECT_EQ(LastRequest().method, "DELETE");
  EXPECT_EQ(Out(), "Success! Deleted policy: ops\n");
  EXPECT_EQ(Run({"policy-delete", "ops"}), 0);
  EXPECT_EQ(Out(), "Policy 'ops' deleted.\n");
}

TEST_F(CommandTest, AuditCommands) {
  EXPECT_EQ(Run({"audit", "enable", "file", "file_path=/tmp/a.log"}), 0);
  EXPECT_EQ(LastRequest().url, "http://127.0.0.1:8200/v1/sys/audit/file");
  EXPECT_EQ(LastBody(), Json::parse(R"({"type":"file","description":"",
      "options":{"file_path":"/tmp/a.log"}})"));
  EXPECT_EQ(Out(), "Success! Enabled the file audit device at: file/\n");
  env_.transport.Reply(200, R"({"data":{"file/":{"type":"file","description":"",
      "options":{"file_path":"/tmp/a.log"}}}})");
  EXPECT_EQ(Run({"audit", "list"}), 0);
  EXPECT_EQ(Out(),
            "Path     Type    Description\n----     ----    -----------\nfile/    file    n/a\n");
  EXPECT_EQ(Run({"audit", "disable", "file"}), 0);
  EXPECT_EQ(LastRequest().method, "DELETE");
}

TEST_F(CommandTest, TopLevelHelpAndUnknownCommands) {
  EXPECT_EQ(Run({}), 127);
  EXPECT_NE(Err().find("Usage: vault <command> [args]"), std::string::npos);
  EXPECT_NE(Err().find("server"), std::string::npos);
  EXPECT_EQ(Run({"-h"}), 0);
  EXPECT_NE(Out().find("    server      Start a Vault server"), std::string::npos);
  EXPECT_NE(Out().find("secrets"), std::string::npos);
  EXPECT_EQ(Run({"help"}), 0);
  EXPECT_EQ(Run({"help", "write"}), 0);
  EXPECT_NE(Out().find("Usage: vault write"), std::string::npos);
  EXPECT_NE(Out().find("-force"), std::string::npos);
  EXPECT_EQ(Run({"read", "-h"}), 0);
  EXPECT_NE(Out().find("-address"), std::string::npos);
  EXPECT_EQ(Run({"frobnicate"}), 127);
  EXPECT_EQ(Run({"secrets"}), 2);
  EXPECT_NE(Err().find("enable"), std::string::npos);
  EXPECT_EQ(Run({"secrets", "frob"}), 2);
  // Subcommands sorted, their column as wide as the longest name needs.
  EXPECT_EQ(Run({"token", "-h"}), 0);
  EXPECT_EQ(Out(),
            "Usage: vault token <subcommand> [options] [args]\n\n"
            "Subcommands:\n"
            "    capabilities    Print capabilities of a token on a path\n"
            "    create          Create a new token\n"
            "    lookup          Display information about a token\n"
            "    renew           Renew a token lease\n"
            "    revoke          Revoke a token and its children\n");
  EXPECT_TRUE(env_.transport.requests.empty());
}

// ---- the real transport against a loopback server ---------------------------------------------

// A plain-socket HTTP server on 127.0.0.1:<ephemeral> that answers each connection with the next
// canned response and records what it received. One request per connection.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 8);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackServer() {
    Join();
    close(fd_);
  }

  std::string address() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Raw requests (head + body), available after the server thread finished (destructor or
  // Join()).
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  void Serve() {
    for (const std::string& response : responses_) {
      int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string data;
      char buf[4096];
      size_t need = std::string::npos;
      while (need == std::string::npos || data.size() < need) {
        ssize_t n = recv(conn, buf, sizeof(buf), 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        size_t head_end = data.find("\r\n\r\n");
        if (need == std::string::npos && head_end != std::string::npos) {
          size_t length = 0;
          std::string lower = data.substr(0, head_end);
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (size_t cl = lower.find("content-length:"); cl != std::string::npos) {
            length = std::stoul(lower.substr(cl + 15));
          }
          need = head_end + 4 + length;
        }
      }
      requests_.push_back(data);
      send(conn, response.data(), response.size(), MSG_NOSIGNAL);
      shutdown(conn, SHUT_WR);
      close(conn);
    }
  }

  std::vector<std::string> responses_;
  std::vector<std::string> requests_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string CannedResponse(int status, const std::string& reason, const std::string& body,
                           const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nConnection: close\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(HttpClientTest, FullWriteCommandThroughCurl) {
  LoopbackServer server({CannedResponse(204, "No Content", "")});
  FakeEnvironment env;
  env.real_transport = true;
  env.vars["VAULT_ADDR"] = server.address();
  env.vars["VAULT_TOKEN"] = "root";
  int rc = RunWithEnvironment({"write", "secret/foo", "value=bar", "n=1", "n=2"}, env);
  server.Join();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(env.out.str(), "Success! Data written to: secret/foo\n");
  ASSERT_EQ(server.requests().size(), 1u);
  const std::string& raw = server.requests()[0];
  EXPECT_EQ(raw.rfind("PUT /v1/secret/foo HTTP/1.1\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("X-Vault-Token: root\r\n"), std::string::npos);
  EXPECT_NE(raw.find("X-Vault-Request: true\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Content-Type: application/json\r\n"), std::string::npos);
  std::string body = raw.substr(raw.find("\r\n\r\n") + 4);
  EXPECT_EQ(Json::parse(body), Json::parse(R"({"value":"bar","n":["1","2"]})"));
}

TEST(HttpClientTest, ReadsErrorsAndFollows307WithSameMethodAndBody) {
  LoopbackServer server({
      CannedResponse(307, "Temporary Redirect", "", "Location: /v1/sys/renew/x\r\n"),
      CannedResponse(400, "Bad Request", R"({"errors":["invalid lease"]})"),
  });
  HttpClient client(HttpClientOptions{});
  ApiClient api(server.address(), "", &client);
  auto response = api.Request("PUT", "sys/renew/x", Json{{"increment", 60}});
  server.Join();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response.status().message(),
            "Error making API request.\n\nURL: PUT " + server.address() +
                "/v1/sys/renew/x\nCode: 400. Errors:\n\n* invalid lease");
  ASSERT_EQ(server.requests().size(), 2u);
  for (const std::string& raw : server.requests()) {
    EXPECT_EQ(raw.rfind("PUT /v1/sys/renew/x HTTP/1.1\r\n", 0), 0u) << raw;
    EXPECT_EQ(raw.substr(raw.find("\r\n\r\n") + 4), R"({"increment":60})");
  }
}

TEST(HttpClientTest, MergePatchContentTypeAndA404BodyReachTheCaller) {
  const std::string body = R"({"data":{"data":null,"metadata":{"version":5}}})";
  LoopbackServer server(
      {CannedResponse(404, "Not Found", body), CannedResponse(404, "Not Found", body)});
  HttpClient client(HttpClientOptions{});
  ApiClient api(server.address(), "t", &client);
  auto any = api.RequestAnyStatus("PATCH", "secret/data/app", Json{{"data", {{"a", "1"}}}}, {},
                                  {{"Content-Type", "application/merge-patch+json"}});
  auto plain = api.Request("GET", "secret/data/app");
  server.Join();
  ASSERT_TRUE(any.ok()) << any.status().message();
  EXPECT_EQ(any->status, 404);
  EXPECT_EQ(any->body, body);
  EXPECT_EQ(any->json["data"]["metadata"]["version"], 5);
  EXPECT_EQ(any->error.code(), StatusCode::kNotFound);
  EXPECT_EQ(any->error.message(), "Error making API request.\n\nURL: PATCH " + server.address() +
                                      "/v1/secret/data/app\nCode: 404. Errors:");
  // Request() reports the same answer as an error only.
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), StatusCode::kNotFound);

  ASSERT_EQ(server.requests().size(), 2u);
  const std::string& raw = server.requests()[0];
  EXPECT_EQ(raw.rfind("PATCH /v1/secret/data/app HTTP/1.1\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("Content-Type: application/merge-patch+json\r\n"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("application/json"), std::string::npos) << raw;
  EXPECT_EQ(raw.substr(raw.find("\r\n\r\n") + 4), R"({"data":{"a":"1"}})");
}

TEST(HttpClientTest, BodylessPutSendsZeroContentLength) {
  LoopbackServer server({CannedResponse(204, "No Content", "")});
  HttpClient client(HttpClientOptions{});
  auto response = client.Do(HttpRequest{"PUT", server.address() + "/v1/sys/seal", {}, {}});
  server.Join();
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  const std::string& raw = server.requests().at(0);
  EXPECT_NE(raw.find("Content-Length: 0\r\n"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("Content-Type"), std::string::npos) << raw;
}

TEST(HttpClientTest, ConnectionRefusedReadsLikeGo) {
  // Find a port with nothing listening: bind, read the port, close.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);

  FakeEnvironment env;
  env.real_transport = true;
  env.vars["VAULT_ADDR"] = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(RunWithEnvironment({"read", "secret/foo"}, env), 1);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/secret/foo";
  EXPECT_EQ(env.err.str(), "Error reading secret/foo: Get \"" + url + "\": dial tcp 127.0.0.1:" +
                               std::to_string(port) + ": connect: connection refused\n");
}

TEST(HttpClientTest, ResolveLocation) {
  EXPECT_EQ(ResolveLocation("http://a:1/v1/x?y", "/v1/z"), "http://a:1/v1/z");
  EXPECT_EQ(ResolveLocation("http://a:1/v1/x", "https://b:2/v1/x"), "https://b:2/v1/x");
}

TEST(ApiClientTest, UrlEscapingAndStatusMapping) {
  FakeTransport transport;
  ApiClient api("http://h:1///", "", &transport);
  EXPECT_EQ(api.Url("/secret/a b/c%"), "http://h:1/v1/secret/a%20b/c%25");
  EXPECT_EQ(api.Url("x", {{"list", "true"}, {"k", "a&b"}}), "http://h:1/v1/x?list=true&k=a%26b");
  EXPECT_EQ(StatusCodeForHttp(404), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForHttp(503), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForHttp(418), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vault::cli
