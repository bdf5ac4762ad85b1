// Tests of the `vault kv` commands on KV version 1 and version 2 mounts: the preflight, the
// path mapping, the exact requests, and the output (golden text as Vault's CLI prints it).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/format.h"
#include "cli/kv_common.h"
#include "cli/testing.h"

namespace vault::cli {
namespace {

// ---- pure functions ---------------------------------------------------------------------------

TEST(KvPaths, GoPathJoinAndClean) {
  EXPECT_EQ(GoPathJoin({"secret/", "data", "app"}), "secret/data/app");
  EXPECT_EQ(GoPathJoin({"secret/", "data", ""}), "secret/data");
  EXPECT_EQ(GoPathJoin({"", "app/"}), "app");
  EXPECT_EQ(GoPathJoin({"", ""}), "");
  EXPECT_EQ(GoPathJoin({"a//b", "./c/../d"}), "a/b/d");
  EXPECT_EQ(GoPathClean(""), ".");
  EXPECT_EQ(GoPathClean("../a/.."), "..");
  EXPECT_EQ(GoPathClean("a/../.."), "..");
  EXPECT_EQ(GoPathClean("/../a/b/../c/"), "/a/c");
  EXPECT_EQ(GoPathClean("x/abc/.."), "x");
}

TEST(KvPaths, AddPrefixToKvPathAsVault) {
  EXPECT_EQ(AddPrefixToKvPath("secret/app", "secret/", "data"), "secret/data/app");
  EXPECT_EQ(AddPrefixToKvPath("secret/dev/app", "secret/", "metadata"), "secret/metadata/dev/app");
  // The mount itself, with or without its slash.
  EXPECT_EQ(AddPrefixToKvPath("secret", "secret/", "metadata"), "secret/metadata");
  EXPECT_EQ(AddPrefixToKvPath("secret/", "secret/", "metadata"), "secret/metadata");
  // A trailing slash of a directory is dropped (path.Join).
  EXPECT_EQ(AddPrefixToKvPath("secret/dir/", "secret/", "metadata"), "secret/metadata/dir");
  EXPECT_EQ(AddPrefixToKvPath("team/kv/a", "team/kv/", "delete"), "team/kv/delete/a");
  // A mount with a namespace segment the path lacks: the segment is dropped.
  EXPECT_EQ(AddPrefixToKvPath("secret/app", "ns1/secret/", "data"), "secret/data/app");
}

TEST(KvPaths, VersionsFlagValues) {
  EXPECT_EQ(ParseKvVersions({"1,2", " 3 ", "4, 5"}),
            (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_TRUE(ParseKvVersions({" "}).empty());
}

TEST(KvOutput, TitlesArePaddedAsVaultPadsThem) {
  EXPECT_EQ(PadEqualSigns("Secret Path", 15),
            "= Secret Path =");                                     // "secret/data/app"
  EXPECT_EQ(PadEqualSigns("Secret Path", 3), "== Secret Path ==");  // n <= 0: 4
  EXPECT_EQ(PadEqualSigns("Metadata Path", 19), "== Metadata Path ==");
  EXPECT_EQ(PadEqualSigns("Data", 12), "=== Data ===");  // 6 -> 3 each
  EXPECT_EQ(PadEqualSigns("Data", 11), "=== Data ===");  // 5 is odd -> 6
  EXPECT_EQ(HeaderForMap("Data", Json::parse(R"({"pass":1,"user":2})")), "==== Data ====");
  EXPECT_EQ(HeaderForMap("Metadata", Json::parse(R"({"custom_metadata":1,"version":3})")),
            "======= Metadata =======");
  EXPECT_EQ(HeaderForMap("Data", Json::object()), "== Data ==");
}

// ---- commands ---------------------------------------------------------------------------------

constexpr char kAddr[] = "http://127.0.0.1:8200/v1/";

// The preflight answer for a mount.
std::string MountReply(const std::string &path, const std::string &options) {
  return R"({"request_id":"p","data":{"type":"kv","path":")" + path +
         R"(","description":"","options":)" + options + "}}";
}

const char kReadV2[] =
    R"({"request_id":"r1","lease_id":"","renewable":false,"lease_duration":0,
  "data":{"data":{"pass":"s3cr3t","user":"svc"},
          "metadata":{"created_time":"2026-01-05T10:00:00.123456Z","custom_metadata":{"team":"core"},
                      "deletion_time":"","destroyed":false,"version":3}},
  "wrap_info":null,"warnings":null,"auth":null})";

const char kWriteV2[] =
    R"({"request_id":"w1","lease_id":"","renewable":false,"lease_duration":0,
  "data":{"created_time":"2026-01-05T10:01:00.5Z","custom_metadata":null,"deletion_time":"",
          "destroyed":false,"version":4},
  "wrap_info":null,"warnings":null,"auth":null})";

const char kWrittenV2Table[] =
    "= Secret Path =\n"
    "secret/data/app\n"
    "\n"
    "======= Metadata =======\n"
    "Key                Value\n"
    "---                -----\n"
    "created_time       2026-01-05T10:01:00.5Z\n"
    "custom_metadata    <nil>\n"
    "deletion_time      n/a\n"
    "destroyed          false\n"
    "version            4\n";

class KvCommandTest : public CommandTest {
 protected:
  void MountV2(const std::string &path = "secret/") {
    env_.transport.Reply(200, MountReply(path, R"({"version":"2"})"));
  }
  void MountV1(const std::string &path = "secret/") {
    env_.transport.Reply(200, MountReply(path, R"({"version":"1"})"));
  }
  const HttpRequest &Request(size_t i) { return env_.transport.requests.at(i); }
  Json Body(size_t i) { return Json::parse(Request(i).body.value_or("null")); }
  size_t Sent() { return env_.transport.requests.size(); }
  // "METHOD URL" of every request sent.
  std::vector<std::string> Calls() {
    std::vector<std::string> out;
    for (const HttpRequest &r : env_.transport.requests) out.push_back(r.method + " " + r.url);
    return out;
  }
  std::string ContentType(size_t i) {
    for (const auto &[name, value] : Request(i).headers) {
      if (name == "Content-Type") return value;
    }
    return "";
  }
};

TEST_F(KvCommandTest, PreflightAsksForTheArgumentWithoutWrapping) {
  env_.vars["VAULT_TOKEN"] = "root";
  env_.vars["VAULT_WRAP_TTL"] = "5m";
  MountV2();
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "/secret/app"}), 0);
  EXPECT_EQ(Calls(), (std::vector<std::string>{
                         std::string("GET ") + kAddr + "sys/internal/ui/mounts/secret/app",
                         std::string("GET ") + kAddr + "secret/data/app"}));
  EXPECT_FALSE(Request(0).body.has_value());
  EXPECT_EQ(Request(0).headers,
            (HttpHeaders{{"X-Vault-Token", "root"}, {"X-Vault-Request", "true"}}));
  // The read itself is wrapped as asked.
  EXPECT_EQ(Request(1).headers.back(),
            (std::pair<std::string, std::string>{"X-Vault-Wrap-TTL", "5m"}));
}

TEST_F(KvCommandTest, PreflightOutcomes) {
  // 404: a server without the endpoint, version 1 at mount "": -mount's value is dropped.
  env_.transport.Reply(404, R"({"errors":[]})");
  env_.transport.Reply(200, R"({"data":{"k":"v"}})");
  EXPECT_EQ(Run({"kv", "get", "-mount=secret", "app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "app");
  EXPECT_EQ(Request(0).url, std::string(kAddr) + "sys/internal/ui/mounts/secret");

  // A version 1 mount by name: -mount joins its path.
  env_.transport.requests.clear();
  env_.transport.Reply(200, MountReply("kv1/", R"({"version":"1"})"));
  env_.transport.Reply(200, R"({"data":{"k":"v"}})");
  EXPECT_EQ(Run({"kv", "get", "-mount=kv1", "app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "kv1/app");

  // No options, or a version other than "2": version 1.
  env_.transport.requests.clear();
  env_.transport.Reply(200, MountReply("kv1/", "null"));
  env_.transport.Reply(200, R"({"data":{"k":"v"}})");
  EXPECT_EQ(Run({"kv", "get", "kv1/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "kv1/app");

  // The number 2 is version 2 too.
  env_.transport.requests.clear();
  env_.transport.Reply(200, MountReply("secret/", R"({"version":2})"));
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "secret/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/data/app");

  // Any other error stops the command with the API error, exit 2.
  env_.transport.requests.clear();
  env_.transport.Reply(
      403,
      R"({"errors":["preflight capability check returned 403, please ensure client's policies grant access to path \"nope/app/\""]})");
  EXPECT_EQ(Run({"kv", "put", "nope/app", "a=b"}), 2);
  EXPECT_EQ(Sent(), 1u);
  EXPECT_EQ(Err(),
            "Error making API request.\n\n"
            "URL: GET http://127.0.0.1:8200/v1/sys/internal/ui/mounts/nope/app\n"
            "Code: 403. Errors:\n\n"
            "* preflight capability check returned 403, please ensure client's "
            "policies grant "
            "access to path \"nope/app/\"\n");

  env_.transport.responses.push_back(
      Unavailable("dial tcp 127.0.0.1:8200: connect: connection refused"));
  EXPECT_EQ(Run({"kv", "list", "secret/"}), 2);
  EXPECT_EQ(Err(),
            "Get \"http://127.0.0.1:8200/v1/sys/internal/ui/mounts/secret/\": "
            "dial tcp "
            "127.0.0.1:8200: connect: connection refused\n");
}

TEST_F(KvCommandTest, GetOnVersion2PrintsPathMetadataAndData) {
  MountV2();
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "secret/app"}), 0);
  EXPECT_EQ(Out(),
            "= Secret Path =\n"
            "secret/data/app\n"
            "\n"
            "======= Metadata =======\n"
            "Key                Value\n"
            "---                -----\n"
            "created_time       2026-01-05T10:00:00.123456Z\n"
            "custom_metadata    map[team:core]\n"
            "deletion_time      n/a\n"
            "destroyed          false\n"
            "version            3\n"
            "\n"
            "==== Data ====\n"
            "Key     Value\n"
            "---     -----\n"
            "pass    s3cr3t\n"
            "user    svc\n");
  EXPECT_EQ(Err(), "");

  // -version and -mount; warnings go first, on stderr.
  MountV2();
  Json warned = Json::parse(kReadV2);
  warned["warnings"] = {"careful"};
  env_.transport.Reply(200, DumpJson(warned));
  EXPECT_EQ(Run({"kv", "get", "-mount=secret", "-version=2", "app"}), 0);
  EXPECT_EQ(Calls().at(Sent() - 2), std::string("GET ") + kAddr + "sys/internal/ui/mounts/secret");
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/data/app?version=2");
  EXPECT_EQ(Err(),
            "WARNING! The following warnings were returned from "
            "Vault:\n\n  * careful\n\n");
  EXPECT_EQ(Out().rfind("= Secret Path =\nsecret/data/app\n", 0), 0u);
}

TEST_F(KvCommandTest, GetOfADeletedVersionPrintsItsMetadataAndSucceeds) {
  MountV2();
  env_.transport.Reply(404,
                       R"({"request_id":"r2","lease_id":"","renewable":false,"lease_duration":0,
      "data":{"data":null,"metadata":{"created_time":"2026-01-05T10:00:00Z","custom_metadata":null,
      "deletion_time":"2026-01-06T08:00:00Z","destroyed":false,"version":3}},
      "wrap_info":null,"warnings":null,"auth":null})");
  EXPECT_EQ(Run({"kv", "get", "secret/app"}), 0);
  EXPECT_EQ(Out(),
            "= Secret Path =\n"
            "secret/data/app\n"
            "\n"
            "======= Metadata =======\n"
            "Key                Value\n"
            "---                -----\n"
            "created_time       2026-01-05T10:00:00Z\n"
            "custom_metadata    <nil>\n"
            "deletion_time      2026-01-06T08:00:00Z\n"
            "destroyed          false\n"
            "version            3\n"
            "\n");

  // -field has no data to pick from.
  MountV2();
  env_.transport.Reply(404, R"({"data":{"data":null,"metadata":{"version":3,"destroyed":true}}})");
  EXPECT_EQ(Run({"kv", "get", "-field=user", "secret/app"}), 2);
  EXPECT_EQ(Err(), "No data found at secret/data/app\n");
  EXPECT_EQ(Out(), "");
}

TEST_F(KvCommandTest, GetMissingAndFailingReads) {
  MountV2();
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "get", "secret/app"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/data/app\n");

  MountV2();
  env_.transport.Reply(500, R"({"errors":["internal error"]})");
  EXPECT_EQ(Run({"kv", "get", "secret/app"}), 2);
  EXPECT_EQ(Err(),
            "Error reading secret/data/app: Error making API request.\n\n"
            "URL: GET http://127.0.0.1:8200/v1/secret/data/app\n"
            "Code: 500. Errors:\n\n"
            "* internal error\n");

  EXPECT_EQ(Run({"kv", "get"}), 2);
  EXPECT_NE(Err().find("Not enough arguments (expected 1, got 0)"), std::string::npos);
}

TEST_F(KvCommandTest, GetFieldAndJsonFormats) {
  MountV2();
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "-field=user", "secret/app"}), 0);
  EXPECT_EQ(Out(), "svc");

  MountV2();
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "-field=version", "secret/app"}),
            1);  // a metadata key
  EXPECT_EQ(Err(), "Field \"version\" not present in secret\n");

  MountV2();
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "-field=data", "secret/app"}), 0);
  EXPECT_EQ(Out(), "map[pass:s3cr3t user:svc]");

  MountV2();
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "-field=user", "-format=json", "secret/app"}), 0);
  EXPECT_EQ(Out(), "\"svc\"");

  MountV2();
  env_.transport.Reply(200, kReadV2);
  EXPECT_EQ(Run({"kv", "get", "-format=json", "secret/app"}), 0);
  EXPECT_EQ(Out(),
            "{\n"
            "  \"request_id\": \"r1\",\n"
            "  \"lease_id\": \"\",\n"
            "  \"lease_duration\": 0,\n"
            "  \"renewable\": false,\n"
            "  \"data\": {\n"
            "    \"data\": {\n"
            "      \"pass\": \"s3cr3t\",\n"
            "      \"user\": \"svc\"\n"
            "    },\n"
            "    \"metadata\": {\n"
            "      \"created_time\": \"2026-01-05T10:00:00.123456Z\",\n"
            "      \"custom_metadata\": {\n"
            "        \"team\": \"core\"\n"
            "      },\n"
            "      \"deletion_time\": \"\",\n"
            "      \"destroyed\": false,\n"
            "      \"version\": 3\n"
            "    }\n"
            "  },\n"
            "  \"warnings\": null\n"
            "}\n");
}

TEST_F(KvCommandTest, GetOnVersion1IsAPlainRead) {
  MountV1();
  env_.transport.Reply(200, R"({"data":{"user":"svc","long_name":"2"},"warnings":null})");
  EXPECT_EQ(Run({"kv", "get", "-version=3", "secret/app"}),
            0);  // -version: ignored
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/app");
  EXPECT_EQ(Out(),
            "====== Data ======\n"
            "Key          Value\n"
            "---          -----\n"
            "long_name    2\n"
            "user         svc\n");

  MountV1();
  env_.transport.Reply(200, R"({"data":{"user":"svc"}})");
  EXPECT_EQ(Run({"kv", "get", "-field=user", "secret/app"}), 0);
  EXPECT_EQ(Out(), "svc");

  // An empty secret: the Data title alone.
  MountV1();
  env_.transport.Reply(200, R"({"data":{}})");
  EXPECT_EQ(Run({"kv", "get", "secret/app"}), 0);
  EXPECT_EQ(Out(), "== Data ==\n");

  MountV1();
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "get", "secret/app"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/app\n");
}

TEST_F(KvCommandTest, PutOnVersion2WrapsTheDataAndPrintsTheNewVersion) {
  MountV2();
  env_.transport.Reply(200, kWriteV2);
  EXPECT_EQ(Run({"kv", "put", "secret/app", "user=svc", "pass=s3cr3t"}), 0);
  EXPECT_EQ(Request(1).method, "PUT");
  EXPECT_EQ(Request(1).url, std::string(kAddr) + "secret/data/app");
  EXPECT_EQ(Body(1), Json::parse(R"({"data":{"user":"svc","pass":"s3cr3t"},"options":{}})"));
  EXPECT_EQ(Out(), kWrittenV2Table);

  // -cas and -mount; a 204 prints the plain success line.
  MountV2();
  env_.transport.Reply(204);
  EXPECT_EQ(Run({"kv", "put", "-mount=secret", "-cas=0", "app", "k=v"}), 0);
  EXPECT_EQ(Calls().back(), std::string("PUT ") + kAddr + "secret/data/app");
  EXPECT_EQ(LastBody(), Json::parse(R"({"data":{"k":"v"},"options":{"cas":0}})"));
  EXPECT_EQ(Out(), "Success! Data written to: secret/data/app\n");

  MountV2();
  env_.transport.Reply(
      400, R"({"errors":["check-and-set parameter did not match the current version"]})");
  EXPECT_EQ(Run({"kv", "put", "-cas=2", "secret/app", "k=v"}), 2);
  EXPECT_EQ(Err(),
            "Error writing data to secret/data/app: Error making API request.\n\n"
            "URL: PUT http://127.0.0.1:8200/v1/secret/data/app\n"
            "Code: 400. Errors:\n\n"
            "* check-and-set parameter did not match the current version\n");

  MountV2();
  env_.transport.Reply(200, kWriteV2);
  EXPECT_EQ(Run({"kv", "put", "-field=version", "secret/app", "k=v"}), 0);
  EXPECT_EQ(Out(), "4");

  MountV2();
  env_.transport.Reply(200, kWriteV2);
  EXPECT_EQ(Run({"kv", "put", "-format=json", "secret/app", "k=v"}), 0);
  EXPECT_EQ(Json::parse(Out())["data"]["version"], 4);
  EXPECT_EQ(Out().rfind("{\n  \"request_id\": \"w1\",\n", 0), 0u);
}

TEST_F(KvCommandTest, PutOnVersion1AndBadInput) {
  MountV1();
  EXPECT_EQ(Run({"kv", "put", "-cas=1", "secret/app", "user=svc"}),
            0);  // -cas: ignored
  EXPECT_EQ(Calls().back(), std::string("PUT ") + kAddr + "secret/app");
  EXPECT_EQ(LastBody(), Json::parse(R"({"user":"svc"})"));
  EXPECT_EQ(Out(), "Success! Data written to: secret/app\n");

  env_.transport.requests.clear();
  EXPECT_EQ(Run({"kv", "put", "secret/app"}), 1);
  EXPECT_EQ(Err(), "Must supply data\n");
  EXPECT_EQ(Run({"kv", "put", "secret/app", "oops"}), 1);
  EXPECT_EQ(Err(),
            "Failed to parse K=V data: Invalid key/value pair 'oops': format must be "
            "key=value\n");
  EXPECT_EQ(Sent(), 0u);  // the data is checked before the preflight
}

TEST_F(KvCommandTest, PatchSendsAMergePatch) {
  MountV2();
  env_.transport.Reply(200, kWriteV2);
  EXPECT_EQ(Run({"kv", "patch", "-cas=3", "-remove-data=old", "secret/app", "user=svc2"}), 0);
  ASSERT_EQ(Sent(), 2u);
  EXPECT_EQ(Request(1).method, "PATCH");
  EXPECT_EQ(Request(1).url, std::string(kAddr) + "secret/data/app");
  EXPECT_EQ(ContentType(1), "application/merge-patch+json");
  EXPECT_EQ(Body(1), Json::parse(R"({"data":{"user":"svc2","old":null},"options":{"cas":3}})"));
  EXPECT_EQ(Out(), kWrittenV2Table);

  // Only -remove-data; -cas=0 is not sent.
  MountV2();
  env_.transport.Reply(204);
  EXPECT_EQ(Run({"kv", "patch", "-remove-data=a", "-remove-data=b", "secret/app"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"data":{"a":null,"b":null},"options":{}})"));
  EXPECT_EQ(Out(), "Success! Data written to: secret/data/app\n");

  EXPECT_EQ(Run({"kv", "patch", "secret/app"}), 1);
  EXPECT_EQ(Err(), "Must supply data\n");
}

const char kCurrentV5[] = R"({"data":{"data":{"user":"svc","old":"x"},
    "metadata":{"created_time":"t5","deletion_time":"","destroyed":false,"version":5}}})";

TEST_F(KvCommandTest, PatchFallsBackToReadAndWrite) {
  // 405: a server without PATCH.
  MountV2();
  env_.transport.Reply(405, R"({"errors":[]})");
  env_.transport.Reply(200, kCurrentV5);
  env_.transport.Reply(200, kWriteV2);
  EXPECT_EQ(Run({"kv", "patch", "-remove-data=old", "secret/app", "pass=p"}), 0);
  EXPECT_EQ(Calls(), (std::vector<std::string>{
                         std::string("GET ") + kAddr + "sys/internal/ui/mounts/secret/app",
                         std::string("PATCH ") + kAddr + "secret/data/app",
                         std::string("GET ") + kAddr + "secret/data/app",
                         std::string("PUT ") + kAddr + "secret/data/app"}));
  // Merged locally; a removed key is written as null; check-and-set on the version read.
  EXPECT_EQ(Body(3), Json::parse(R"({"data":{"user":"svc","old":null,"pass":"p"},
                                     "options":{"cas":5}})"));
  EXPECT_EQ(ContentType(3), "");
  EXPECT_EQ(Out(), kWrittenV2Table);
  EXPECT_EQ(Err(), "");

  // 403: a policy without "patch" — a recommendation, then the same read and write.
  env_.transport.requests.clear();
  MountV2();
  env_.transport.Reply(403, R"({"errors":["permission denied"]})");
  env_.transport.Reply(200, kCurrentV5);
  env_.transport.Reply(204);
  EXPECT_EQ(Run({"kv", "patch", "secret/app", "pass=p"}), 0);
  EXPECT_EQ(Sent(), 4u);
  EXPECT_EQ(Err(),
            "Data was written to secret/data/app but we recommend that "
            "you add the \"patch\" "
            "capability to your ACL policy in order to use HTTP PATCH "
            "in the future.\n");
  EXPECT_EQ(Out(), "Success! Data written to: secret/data/app\n");

  // -method=patch never falls back.
  env_.transport.requests.clear();
  MountV2();
  env_.transport.Reply(405, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "patch", "-method=patch", "secret/app", "pass=p"}), 2);
  EXPECT_EQ(Sent(), 2u);
  EXPECT_EQ(Err(),
            "Error writing data to secret/data/app: Error making API request.\n\n"
            "URL: PATCH http://127.0.0.1:8200/v1/secret/data/app\n"
            "Code: 405. Errors:\n");

  // -method=rw reads and writes only.
  env_.transport.requests.clear();
  MountV2();
  env_.transport.Reply(200, kCurrentV5);
  env_.transport.Reply(200, kWriteV2);
  EXPECT_EQ(Run({"kv", "patch", "-method=rw", "secret/app", "pass=p"}), 0);
  EXPECT_EQ(Calls().at(1), std::string("GET ") + kAddr + "secret/data/app");
  EXPECT_EQ(Calls().at(2), std::string("PUT ") + kAddr + "secret/data/app");
}

TEST_F(KvCommandTest, PatchRefusalsAndFailures) {
  MountV1();
  EXPECT_EQ(Run({"kv", "patch", "secret/app", "a=1"}), 2);
  EXPECT_EQ(Err(), "K/V engine mount must be version 2 for patch support\n");
  EXPECT_EQ(Sent(), 1u);

  MountV2();
  EXPECT_EQ(Run({"kv", "patch", "-method=merge", "secret/app", "a=1"}), 2);
  EXPECT_EQ(Err(), "Unsupported method provided to -method flag: merge\n");

  // The current version is deleted: the PATCH answers 404 with it; no fallback.
  MountV2();
  env_.transport.Reply(404, R"({"data":{"version":5,"deletion_time":"2026-01-06T08:00:00Z",
      "destroyed":false,"created_time":"t5","custom_metadata":null}})");
  EXPECT_EQ(Run({"kv", "patch", "secret/app", "a=1"}), 2);
  EXPECT_EQ(Err(),
            "Error writing data to secret/data/app: Error making API request.\n\n"
            "URL: PATCH http://127.0.0.1:8200/v1/secret/data/app\n"
            "Code: 404. Errors:\n");
  EXPECT_EQ(Out(), "");

  // Read and write of a deleted version: nothing to merge into.
  MountV2();
  env_.transport.Reply(404, R"({"data":{"data":null,"metadata":{"version":5,
      "deletion_time":"2026-01-06T08:00:00Z","destroyed":false}}})");
  EXPECT_EQ(Run({"kv", "patch", "-method=rw", "secret/app", "a=1"}), 2);
  EXPECT_EQ(Err(), "No data found at secret/data/app; patch only works on existing data\n");

  MountV2();
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "patch", "-method=rw", "secret/app", "a=1"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/data/app\n");
}

TEST_F(KvCommandTest, RollbackWritesTheOldDataWithCheckAndSet) {
  MountV2();
  env_.transport.Reply(200, kCurrentV5);
  env_.transport.Reply(200, R"({"data":{"data":{"user":"v2user"},
      "metadata":{"created_time":"t2","deletion_time":"","destroyed":false,"version":2}}})");
  env_.transport.Reply(200,
                       R"({"data":{"created_time":"t6","custom_metadata":null,
      "deletion_time":"","destroyed":false,"version":6}})");
  EXPECT_EQ(Run({"kv", "rollback", "-version=2", "secret/app"}), 0);
  EXPECT_EQ(Calls(), (std::vector<std::string>{
                         std::string("GET ") + kAddr + "sys/internal/ui/mounts/secret/app",
                         std::string("GET ") + kAddr + "secret/data/app",
                         std::string("GET ") + kAddr + "secret/data/app?version=2",
                         std::string("PUT ") + kAddr + "secret/data/app"}));
  EXPECT_EQ(Body(3), Json::parse(R"({"data":{"user":"v2user"},"options":{"cas":5}})"));
  // The plain Key/Value table of the write's answer.
  EXPECT_EQ(Out(),
            "Key                Value\n"
            "---                -----\n"
            "created_time       t6\n"
            "custom_metadata    <nil>\n"
            "deletion_time      n/a\n"
            "destroyed          false\n"
            "version            6\n");
}

TEST_F(KvCommandTest, RollbackRefusals) {
  EXPECT_EQ(Run({"kv", "rollback", "secret/app"}), 1);
  EXPECT_EQ(Err(), "Version flag must be specified\n");
  EXPECT_EQ(Run({"kv", "rollback", "-version=0", "secret/app"}), 1);
  EXPECT_EQ(Err(), "Invalid value 0 for the version flag\n");
  EXPECT_EQ(Run({"kv", "rollback", "-version=1"}), 2);
  EXPECT_EQ(Err().rfind("Invalid number of arguments (expected 1, got 0)\n", 0), 0u);
  EXPECT_EQ(Sent(), 0u);

  MountV1();
  EXPECT_EQ(Run({"kv", "rollback", "-version=1", "secret/app"}), 2);
  EXPECT_EQ(Err(), "K/V engine mount must be version 2 for rollback support\n");

  MountV2();
  env_.transport.Reply(200, kCurrentV5);
  env_.transport.Reply(404,
                       R"({"data":{"data":null,"metadata":{"created_time":"t2",
      "deletion_time":"2026-01-06T08:00:00Z","destroyed":false,"version":2}}})");
  EXPECT_EQ(Run({"kv", "rollback", "-version=2", "secret/app"}), 2);
  EXPECT_EQ(Err(), "Cannot roll back to a version that has been deleted\n");

  MountV2();
  env_.transport.Reply(200, kCurrentV5);
  env_.transport.Reply(404,
                       R"({"data":{"data":null,"metadata":{"created_time":"t2",
      "deletion_time":"","destroyed":true,"version":2}}})");
  EXPECT_EQ(Run({"kv", "rollback", "-version=2", "secret/app"}), 2);
  EXPECT_EQ(Err(), "Cannot roll back to a version that has been destroyed\n");

  MountV2();
  env_.transport.Reply(200, kCurrentV5);
  env_.transport.Reply(404, R"({"errors":[]})");  // trimmed or never written
  EXPECT_EQ(Run({"kv", "rollback", "-version=9", "secret/app"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/data/app\n");
}

TEST_F(KvCommandTest, DeleteUndeleteDestroyOnVersion2) {
  MountV2();
  EXPECT_EQ(Run({"kv", "delete", "secret/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("DELETE ") + kAddr + "secret/data/app");
  EXPECT_FALSE(LastRequest().body.has_value());
  EXPECT_EQ(Out(), "Success! Data deleted (if it existed) at: secret/data/app\n");

  MountV2();
  EXPECT_EQ(Run({"kv", "delete", "-versions=1,2", "-versions", "4", "secret/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("PUT ") + kAddr + "secret/delete/app");
  EXPECT_EQ(LastBody(), Json::parse(R"({"versions":["1","2","4"]})"));
  EXPECT_EQ(Out(), "Success! Data deleted (if it existed) at: secret/data/app\n");

  MountV2();
  EXPECT_EQ(Run({"kv", "undelete", "-versions=1", "-versions=3", "secret/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("PUT ") + kAddr + "secret/undelete/app");
  EXPECT_EQ(LastBody(), Json::parse(R"({"versions":["1","3"]})"));
  EXPECT_EQ(Out(), "Success! Data written to: secret/undelete/app\n");

  MountV2();
  EXPECT_EQ(Run({"kv", "destroy", "-mount=secret", "-versions=2", "app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("PUT ") + kAddr + "secret/destroy/app");
  EXPECT_EQ(LastBody(), Json::parse(R"({"versions":["2"]})"));
  EXPECT_EQ(Out(), "Success! Data written to: secret/destroy/app\n");

  MountV2();
  EXPECT_EQ(Run({"kv", "undelete", "-mount=secret/", "-versions=2", "app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("PUT ") + kAddr + "secret/undelete/app");

  MountV2();
  env_.transport.Reply(400, R"({"errors":["no version number provided"]})");
  EXPECT_EQ(Run({"kv", "destroy", "-versions=,", "secret/app"}), 2);
  EXPECT_EQ(Err().rfind("Error writing data to secret/destroy/app: Error making API request.", 0),
            0u);
}

TEST_F(KvCommandTest, VersionCommandsRefuseVersion1AndMissingVersions) {
  EXPECT_EQ(Run({"kv", "undelete", "secret/app"}), 1);
  EXPECT_EQ(Err(),
            "No versions provided, use the \"-versions\" flag to "
            "specify the version to "
            "undelete.\n");
  EXPECT_EQ(Run({"kv", "destroy", "secret/app"}), 1);
  EXPECT_EQ(Err(),
            "No versions provided, use the \"-versions\" flag to "
            "specify the version to "
            "destroy.\n");
  EXPECT_EQ(Sent(), 0u);

  MountV1();
  EXPECT_EQ(Run({"kv", "undelete", "-versions=1", "secret/app"}), 1);
  EXPECT_EQ(Err(), "Undelete not supported on KV Version 1\n");
  MountV1();
  EXPECT_EQ(Run({"kv", "destroy", "-versions=1", "secret/app"}), 1);
  EXPECT_EQ(Err(), "Destroy not supported on KV Version 1\n");
  EXPECT_EQ(Sent(), 2u);  // the preflights only

  // kv delete on version 1: the path itself, -versions ignored.
  MountV1();
  EXPECT_EQ(Run({"kv", "delete", "-versions=1", "secret/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("DELETE ") + kAddr + "secret/app");
  EXPECT_EQ(Out(), "Success! Data deleted (if it existed) at: secret/app\n");
}

TEST_F(KvCommandTest, ListGoesToMetadataOnVersion2) {
  MountV2();
  env_.transport.Reply(200, R"({"data":{"keys":["b/","a"]}})");
  EXPECT_EQ(Run({"kv", "list", "secret/dir/"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/metadata/dir?list=true");
  EXPECT_EQ(Out(), "Keys\n----\na\nb/\n");

  MountV2();
  env_.transport.Reply(200, R"({"data":{"keys":["app"]}})");
  EXPECT_EQ(Run({"kv", "list", "secret"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/metadata?list=true");

  // -mount with no path: the mount's top level.
  MountV2();
  env_.transport.Reply(200, R"({"data":{"keys":["app"]}})");
  EXPECT_EQ(Run({"kv", "list", "-mount=secret"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/metadata?list=true");

  MountV2();
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "list", "secret/none/"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/metadata/none\n");

  MountV2();
  env_.transport.Reply(200, R"({"data":{"keys":["b","a"]}})");
  EXPECT_EQ(Run({"kv", "list", "-format=json", "secret/"}), 0);
  EXPECT_EQ(Out(), "[\n  \"b\",\n  \"a\"\n]\n");

  MountV2();
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "list", "-format=json", "secret/none"}), 2);
  EXPECT_EQ(Out(), "{}\n");

  // Version 1: the path as given.
  MountV1();
  env_.transport.Reply(200, R"({"data":{"keys":["app"]}})");
  EXPECT_EQ(Run({"kv", "list", "secret/"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/?list=true");
  EXPECT_EQ(Out(), "Keys\n----\napp\n");
}

const char kMetadata[] =
    R"({"request_id":"m1","lease_id":"","renewable":false,"lease_duration":0,
  "data":{"cas_required":false,"created_time":"2026-01-05T10:00:00.123456Z","current_version":10,
          "custom_metadata":null,"delete_version_after":"0s","max_versions":0,"oldest_version":0,
          "updated_time":"2026-01-05T11:00:00Z",
          "versions":{"10":{"created_time":"2026-01-05T11:00:00Z","deletion_time":"","destroyed":false},
                      "9":{"created_time":"2026-01-05T10:30:00Z",
                           "deletion_time":"2026-01-05T10:45:00Z","destroyed":true}}},
  "wrap_info":null,"warnings":null,"auth":null})";

TEST_F(KvCommandTest, MetadataGetPrintsEveryVersion) {
  MountV2();
  env_.transport.Reply(200, kMetadata);
  EXPECT_EQ(Run({"kv", "metadata", "get", "secret/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("GET ") + kAddr + "secret/metadata/app");
  EXPECT_EQ(Out(),
            "== Metadata Path ==\n"
            "secret/metadata/app\n"
            "\n"
            "========== Metadata ==========\n"
            "Key                     Value\n"
            "---                     -----\n"
            "cas_required            false\n"
            "created_time            2026-01-05T10:00:00.123456Z\n"
            "current_version         10\n"
            "custom_metadata         <nil>\n"
            "delete_version_after    0s\n"
            "max_versions            0\n"
            "oldest_version          0\n"
            "updated_time            2026-01-05T11:00:00Z\n"
            "\n"
            "====== Version 9 ======\n"
            "Key              Value\n"
            "---              -----\n"
            "created_time     2026-01-05T10:30:00Z\n"
            "deletion_time    2026-01-05T10:45:00Z\n"
            "destroyed        true\n"
            "\n"
            "===== Version 10 =====\n"
            "Key              Value\n"
            "---              -----\n"
            "created_time     2026-01-05T11:00:00Z\n"
            "deletion_time    n/a\n"
            "destroyed        false\n");

  MountV2();
  env_.transport.Reply(200, kMetadata);
  EXPECT_EQ(Run({"kv", "metadata", "get", "-format=json", "-mount=secret", "app"}), 0);
  EXPECT_EQ(Json::parse(Out())["data"]["versions"]["9"]["destroyed"], true);

  MountV2();
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "metadata", "get", "secret/app"}), 2);
  EXPECT_EQ(Err(), "No value found at secret/metadata/app\n");

  MountV1();
  EXPECT_EQ(Run({"kv", "metadata", "get", "secret/app"}), 1);
  EXPECT_EQ(Err(), "Metadata not supported on KV Version 1\n");
}

TEST_F(KvCommandTest, MetadataPutPatchAndDelete) {
  MountV2();
  EXPECT_EQ(
      Run({"kv", "metadata", "put", "-max-versions=5", "-cas-required", "-delete-version-after=1h",
           "-custom-metadata=team=ops", "-custom-metadata", "tier=1", "secret/app"}),
      0);
  EXPECT_EQ(Calls().back(), std::string("PUT ") + kAddr + "secret/metadata/app");
  EXPECT_EQ(LastBody(), Json::parse(R"({"max_versions":5,"cas_required":true,
      "delete_version_after":"1h0m0s","custom_metadata":{"team":"ops","tier":"1"}})"));
  EXPECT_EQ(Out(), "Success! Data written to: secret/metadata/app\n");

  // No flags: an empty body (creates the key); -cas-required=false is sent.
  MountV2();
  EXPECT_EQ(Run({"kv", "metadata", "put", "-cas-required=false", "secret/app"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"cas_required":false})"));
  MountV2();
  EXPECT_EQ(Run({"kv", "metadata", "put", "-delete-version-after=90", "secret/app"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"delete_version_after":"1m30s"})"));

  // 200 with a warning: the warning, no table.
  MountV2();
  env_.transport.Reply(
      200,
      R"({"data":null,"warnings":["\"cas_required\" set to false, but is mandated by backend config. This value will be ignored."]})");
  EXPECT_EQ(Run({"kv", "metadata", "put", "-cas-required=false", "secret/app"}), 0);
  EXPECT_EQ(Out(), "");
  EXPECT_EQ(Err(),
            "WARNING! The following warnings were returned from Vault:\n\n"
            "  * \"cas_required\" set to false, but is mandated by backend "
            "config. This value\n"
            "  will be ignored.\n\n");

  MountV2();
  EXPECT_EQ(Run({"kv", "metadata", "patch", "-max-versions=3", "-custom-metadata=team=dev",
                 "-remove-custom-metadata=tier", "secret/app"}),
            0);
  EXPECT_EQ(LastRequest().method, "PATCH");
  EXPECT_EQ(LastRequest().url, std::string(kAddr) + "secret/metadata/app");
  EXPECT_EQ(ContentType(Sent() - 1), "application/merge-patch+json");
  EXPECT_EQ(LastBody(), Json::parse(R"({"max_versions":3,
      "custom_metadata":{"team":"dev","tier":null}})"));
  EXPECT_EQ(Out(), "Success! Data written to: secret/metadata/app\n");

  MountV2();
  EXPECT_EQ(Run({"kv", "metadata", "patch", "secret/app"}), 0);
  EXPECT_EQ(LastBody(), Json::parse(R"({"custom_metadata":{}})"));

  MountV2();
  env_.transport.Reply(404, R"({"errors":[]})");
  EXPECT_EQ(Run({"kv", "metadata", "patch", "-max-versions=1", "secret/none"}), 2);
  EXPECT_EQ(Err().rfind("Error writing data to secret/metadata/none: Error "
                        "making API request.",
                        0),
            0u);

  MountV2();
  EXPECT_EQ(Run({"kv", "metadata", "delete", "secret/app"}), 0);
  EXPECT_EQ(Calls().back(), std::string("DELETE ") + kAddr + "secret/metadata/app");
  EXPECT_EQ(Out(), "Success! Data deleted (if it existed) at: secret/metadata/app\n");

  MountV2();
  EXPECT_EQ(Run({"kv", "metadata", "put", "-delete-version-after=soon", "secret/app"}), 2);
  EXPECT_EQ(Err().rfind("invalid value \"soon\" for flag -delete-version-after: ", 0), 0u);

  for (const char *sub : {"put", "patch", "delete"}) {
    MountV1();
    EXPECT_EQ(Run({"kv", "metadata", sub, "secret/app"}), 1) << sub;
    EXPECT_EQ(Err(), "Metadata not supported on KV Version 1\n") << sub;
  }
}

TEST_F(KvCommandTest, EnableVersioningTunesTheMount) {
  env_.transport.Reply(
      200,
      R"({"warnings":["Upgrading mount from version 1 to version 2. This mount will be unavailable for a brief period and will resume service shortly."]})");
  EXPECT_EQ(Run({"kv", "enable-versioning", "secret/"}), 0);
  EXPECT_EQ(Calls(),
            (std::vector<std::string>{std::string("POST ") + kAddr + "sys/mounts/secret/tune"}));
  EXPECT_EQ(LastBody(), Json::parse(R"({"options":{"version":"2"}})"));
  EXPECT_EQ(Out(), "Success! Tuned the secrets engine at: secret/\n");

  env_.transport.Reply(400, R"({"errors":["cannot downgrade mount from version 2"]})");
  EXPECT_EQ(Run({"kv", "enable-versioning", "secret"}), 2);
  EXPECT_EQ(Err(),
            "Error tuning secrets engine secret/: Error making API request.\n\n"
            "URL: POST http://127.0.0.1:8200/v1/sys/mounts/secret/tune\n"
            "Code: 400. Errors:\n\n"
            "* cannot downgrade mount from version 2\n");
}

TEST_F(KvCommandTest, KvHelpListsTheMetadataGroupOnce) {
  EXPECT_EQ(Run({"kv", "-h"}), 0);
  EXPECT_EQ(Out(),
            "Usage: vault kv <subcommand> [options] [args]\n\n"
            "Subcommands:\n"
            "    delete               Deletes versions in the KV store\n"
            "    destroy              Permanently removes one or more versions in "
            "the KV store\n"
            "    enable-versioning    Turns on versioning for a KV store\n"
            "    get                  Retrieves data from the KV store\n"
            "    list                 List data or secrets\n"
            "    metadata             Interact with Vault's Key-Value storage\n"
            "    patch                Sets or updates data in the KV store without "
            "overwriting\n"
            "    put                  Sets or updates data in the KV store\n"
            "    rollback             Rolls back to a previous version of data\n"
            "    undelete             Undeletes versions in the KV store\n");

  EXPECT_EQ(Run({"kv", "metadata"}), 2);
  EXPECT_EQ(Err(),
            "Usage: vault kv metadata <subcommand> [options] [args]\n\n"
            "Subcommands:\n"
            "    delete      Deletes all versions and metadata for a key in "
            "the KV store\n"
            "    get         Retrieves key metadata from the KV store\n"
            "    patch       Patches key settings in the KV store\n"
            "    put         Sets or updates key settings in the KV store\n");
  EXPECT_EQ(Run({"kv", "metadata", "-h"}), 0);
  EXPECT_EQ(Out().rfind("Usage: vault kv metadata <subcommand>", 0), 0u);

  EXPECT_EQ(Run({"kv", "metadata", "put", "-h"}), 0);
  EXPECT_EQ(Out().rfind("Usage: vault kv metadata put [options] KEY\n\n"
                        "  Creates a secret with no data, or changes a secret's settings",
                        0),
            0u)
      << Out();
  EXPECT_NE(Out().find("-custom-metadata"), std::string::npos);
  EXPECT_EQ(Run({"help", "kv", "metadata", "get"}), 0);
  EXPECT_EQ(Out().rfind("Usage: vault kv metadata get [options] KEY", 0), 0u);
  EXPECT_EQ(Run({"kv", "get", "-h"}), 0);
  EXPECT_NE(Out().find("-version=0"), std::string::npos);
  EXPECT_NE(Out().find("-mount=<string>"), std::string::npos) << Out();
  EXPECT_EQ(Sent(), 0u);
}

}  // namespace
}  // namespace vault::cli
