#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <latch>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "util/cidr.h"
#include "util/claim_set.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/encoding.h"
#include "util/json.h"
#include "util/json_reader.h"
#include "util/random.h"
#include "util/status.h"
#include "util/strings.h"
#include "util/thread_attrs.h"
#include "util/thread_pool.h"

namespace vault {
namespace {

TEST(Duration, ParsesGoStringsAndSeconds) {
  EXPECT_EQ(*ParseDurationSeconds("3600"), 3600);
  EXPECT_EQ(*ParseDurationSeconds("1h"), 3600);
  EXPECT_EQ(*ParseDurationSeconds("1h30m"), 5400);
  EXPECT_EQ(*ParseDurationSeconds("1.5h"), 5400);
  EXPECT_EQ(*ParseDurationSeconds("768h"), 2764800);
  EXPECT_EQ(*ParseDurationSeconds("30s"), 30);
  EXPECT_EQ(*ParseDurationSeconds(""), 0);
  EXPECT_EQ(*ParseGoDurationNanos("100ms"), 100000000);
  EXPECT_FALSE(ParseDurationSeconds("1x").ok());
  EXPECT_FALSE(ParseDurationSeconds("h").ok());
  EXPECT_FALSE(ParseGoDurationNanos("10").ok());  // Go requires a unit
  EXPECT_TRUE(ParseGoDurationNanos("0").ok());
}

TEST(Duration, FormatsLikeGo) {
  EXPECT_EQ(FormatGoDuration(3600), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(86400), "24h0m0s");
  EXPECT_EQ(FormatGoDuration(90), "1m30s");
  EXPECT_EQ(FormatGoDuration(5), "5s");
  EXPECT_EQ(FormatGoDuration(0), "0s");
}

TEST(Encoding, HexAndBase64RoundTrip) {
  std::string bytes = RandomBytes(33);
  EXPECT_EQ(*HexDecode(HexEncode(bytes)), bytes);
  EXPECT_EQ(*Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(*Base64Decode("Zm8="), "fo");
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(Base64Decode("a*b=").ok());
}

TEST(Random, UuidShape) {
  std::string u = NewUuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(NewUuid(), u);
  EXPECT_EQ(RandomAlnum(24).size(), 24u);
}

TEST(Random, BufferedBytesNeverRepeatAcrossRefillsThreadsOrAFork) {
  // Blocks of 48 bytes cross the 1 KiB buffer's refill point; none may repeat, in this thread,
  // another thread, or a forked child (whose buffer is dropped, not copied).
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string b = BufferedRandomBytes(48);
    ASSERT_EQ(b.size(), 48u);
    EXPECT_TRUE(seen.insert(b).second) << "block " << i << " repeated";
  }
  std::string big = BufferedRandomBytes(3000);  // larger than the buffer
  EXPECT_EQ(big.size(), 3000u);
  EXPECT_NE(big.substr(0, 1024), big.substr(1024, 1024));
  std::vector<std::string> other;
  std::thread([&] {
    for (int i = 0; i < 50; ++i) other.push_back(BufferedRandomBytes(48));
  }).join();
  for (const auto& b : other) EXPECT_TRUE(seen.insert(b).second);

  (void)BufferedRandomBytes(16);  // the buffer now holds bytes a fork would inherit
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string b = BufferedRandomBytes(32);
    ssize_t w = write(fds[1], b.data(), b.size());
    _exit(w == 32 ? 0 : 1);
  }
  close(fds[1]);
  std::string from_child(32, '\0');
  ASSERT_EQ(read(fds[0], from_child.data(), 32), 32);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_NE(BufferedRandomBytes(32), from_child);

  std::string name = BufferedRandomAlnum(20);
  EXPECT_EQ(name.size(), 20u);
  EXPECT_EQ(
      name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
      std::string::npos);
}

TEST(Random, TimeOrderedUuidCarriesItsMillisecondAndSortsByIt) {
  // 2023-11-14T22:13:20.123Z = 1700000000123 ms = 0x018bcfe5687b
  std::string u = NewTimeOrderedUuid(1700000000123);
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u.substr(0, 13), "018bcfe5-687b");
  EXPECT_EQ(u[14], '7');                                          // version 7
  EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);  // RFC variant
  EXPECT_NE(NewTimeOrderedUuid(1700000000123), u);                // 74 random bits
  EXPECT_LT(u, NewTimeOrderedUuid(1700000000124));
  EXPECT_LT(NewTimeOrderedUuid(1700000000122), u);
}

TEST(ClaimSet, AClaimIsExclusiveUntilItsGuardGoesAway) {
  ClaimSet set;
  auto a = set.TryClaim("role-a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(set.Contains("role-a"));
  EXPECT_EQ(set.TryClaim("role-a"), nullptr);  // held
  auto b = set.TryClaim("role-b");             // other names are independent
  ASSERT_NE(b, nullptr);
  a.reset();
  EXPECT_FALSE(set.Contains("role-a"));
  EXPECT_TRUE(set.Contains("role-b"));
  EXPECT_NE(set.TryClaim("role-a"), nullptr);  // free again (and released at once)
  EXPECT_FALSE(set.Contains("role-a"));
}

TEST(ClaimSet, ConcurrentClaimantsNeverHoldTheSameNameTogether) {
  ClaimSet set;
  std::atomic<int> holders{0}, max_holders{0}, won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto c = set.TryClaim("x");
        if (!c) continue;
        ++won;
        int now = ++holders;
        int prev = max_holders.load();
        while (now > prev && !max_holders.compare_exchange_weak(prev, now)) {
        }
        --holders;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(max_holders.load(), 1);
  EXPECT_GT(won.load(), 0);
  EXPECT_FALSE(set.Contains("x"));
}

TEST(Json, ParseErrorsAreStatuses) {
  EXPECT_FALSE(ParseJson("{bad").ok());
  EXPECT_EQ(ParseJson("{bad").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseJson("\"\xff\"").ok());
  EXPECT_EQ((*ParseJson("{\"a\":1}"))["a"], 1);
  Json j = std::string("\xff");
  EXPECT_NO_THROW(DumpJson(j));
}

// Deeper documents are refused before they are built: serializing or walking one recurses per
// level, and 100,000 levels overflowed a server thread's stack.
TEST(Json, NestingDeeperThanGosLimitIsRefused) {
  auto nested = [](int depth, char open, char close) {
    return std::string(depth, open) + std::string(depth, close);
  };
  Result<Json> at_limit = ParseJson(nested(kMaxJsonDepth, '[', ']'));
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().message();
  EXPECT_EQ(DumpJson(*at_limit), nested(kMaxJsonDepth, '[', ']'));

  for (const std::string& body :
       {nested(kMaxJsonDepth + 1, '[', ']'), nested(100000, '[', ']'), std::string(100000, '[')}) {
    Result<Json> r = ParseJson(body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "failed to parse JSON input: exceeded max depth");
  }
  std::string objects;
  for (int i = 0; i <= kMaxJsonDepth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(kMaxJsonDepth + 1, '}');
  EXPECT_FALSE(ParseJson(objects).ok());

  // Brackets inside strings, escaped quotes included, are text, not nesting.
  std::string text = "{\"k\":\"\\\"" + std::string(kMaxJsonDepth + 5, '[') + "\"}";
  Result<Json> in_string = ParseJson(text);
  ASSERT_TRUE(in_string.ok()) << in_string.status().message();
  EXPECT_EQ((*in_string)["k"].get<std::string>().size(), kMaxJsonDepth + 6u);
}

TEST(Strings, GoBoolAndUtf8) {
  EXPECT_EQ(ParseGoBool("True"), 1);
  EXPECT_EQ(ParseGoBool("0"), 0);
  EXPECT_EQ(ParseGoBool("yes"), -1);
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_EQ(Split("a/b//c", '/').size(), 4u);
}

TEST(Strings, EqualsIgnoreCaseAndZeroPadded) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(EqualsIgnoreCase("Host", "Hosts"));
  EXPECT_FALSE(EqualsIgnoreCase("x-amz-date", "x-amz-data"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  std::string out = "k/";
  AppendZeroPadded(&out, 42, 5);
  EXPECT_EQ(out, "k/00042");
  out.clear();
  AppendZeroPadded(&out, 0, 0);
  AppendZeroPadded(&out, 123456, 3);  // wider than asked: all digits
  AppendZeroPadded(&out, UINT64_MAX, 2);
  EXPECT_EQ(out, "012345618446744073709551615");
  for (uint64_t v :
       {uint64_t{0}, uint64_t{7}, uint64_t{1700000000123}, uint64_t{999999999999999}}) {
    char want[32];
    std::snprintf(want, sizeof(want), "%015llu", static_cast<unsigned long long>(v));
    std::string got;
    AppendZeroPadded(&got, v, 15);
    EXPECT_EQ(got, want);
  }
}

TEST(Status, MacrosPropagate) {
  auto f = [](bool fail) -> Result<int> {
    if (fail) return InvalidArgument("nope");
    return 7;
  };
  auto g = [&](bool fail) -> Result<int> {
    ASSIGN_OR_RETURN(int v, f(fail));
    return v + 1;
  };
  EXPECT_EQ(*g(false), 8);
  EXPECT_EQ(g(true).status().message(), "nope");
}

TEST(ThreadName, SetsAndCutsToTheKernelLimit) {
  std::string seen_short, seen_long;
  std::thread([&] {
    SetThreadName("lease-expiry");
    seen_short = ThreadName();
    // Linux keeps 15 bytes: a longer name is cut rather than refused (which would leave the old
    // one).
    SetThreadName("a-name-longer-than-fifteen-bytes");
    seen_long = ThreadName();
  }).join();
  EXPECT_EQ(seen_short, "lease-expiry");
  EXPECT_EQ(seen_long, "a-name-longer-t");
}

TEST(ThreadName, APoolNamesItsThreadsWhenGivenAName) {
  std::mutex mu;
  std::set<std::string> names;
  {
    ThreadPool named(2, "aws-handoff");
    ThreadPool unnamed(1);
    std::latch done(3);
    for (Executor* ex : {static_cast<Executor*>(&named), static_cast<Executor*>(&named),
                         static_cast<Executor*>(&unnamed)}) {
      ex->Post([&] {
        {
          std::lock_guard l(mu);
          names.insert(ThreadName());
        }
        done.count_down();
      });
    }
    done.wait();
  }
  EXPECT_EQ(names.count("aws-handoff"), 1u);
  EXPECT_EQ(names.size(), 2u);  // the unnamed pool's thread keeps the process's name
}

TEST(ThreadName, TimeSliceRequestChangesOnlyThatThread) {
  uint64_t granted = 0, read_by_tid = 0;
  std::thread([&] {
    granted = RequestTimeSlice(300000);
    read_by_tid = TimeSliceOf(static_cast<int>(gettid()));  // as the server test reads its threads
  }).join();
  if (granted == 0) GTEST_SKIP() << "this kernel keeps no per-thread time slice (Linux < 6.12)";
  EXPECT_EQ(granted, 300000u);
  EXPECT_EQ(read_by_tid, 300000u);
  EXPECT_NE(TimeSliceOf(static_cast<int>(gettid())), 300000u);  // the calling thread is unchanged
}

TEST(Clock, Rfc3339) {
  EXPECT_EQ(FormatRfc3339Nano(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(1500000000), "1970-01-01T00:00:01.5Z");
}

TEST(Clock, ParseRfc3339) {
  EXPECT_EQ(*ParseRfc3339Nanos("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339Nanos("2023-11-14T22:13:20Z"), 1700000000LL * 1000000000LL);
  EXPECT_EQ(*ParseRfc3339Nanos("2023-11-14T22:13:20.5Z"), 1700000000LL * 1000000000LL + 500000000);
  EXPECT_EQ(*ParseRfc3339Nanos("2023-11-14T23:13:20.000000001+01:00"),
            1700000000LL * 1000000000LL + 1);
  EXPECT_EQ(*ParseRfc3339Nanos("2024-02-29T00:00:00-00:30"), 1709166600LL * 1000000000LL);
  for (int64_t n :
       std::vector<int64_t>{0, 1500000000, 1700000000123456789LL, 4102444800LL * 1000000000LL})
    EXPECT_EQ(*ParseRfc3339Nanos(FormatRfc3339Nano(n)), n) << n;
  for (const char* bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-02-29T00:00:00Z", "2023-11-14T22:13:20.Z",
        "2023-11-14T22:13:20Zx", "2023-13-01T00:00:00Z", "2023-11-14T22:13:20+0100"})
    EXPECT_FALSE(ParseRfc3339Nanos(bad).ok()) << bad;
}

// Found by fuzz/aws_xml: an STS answer whose Expiration lay in the year 1011 overflowed the
// nanoseconds (undefined behaviour). Times that 64-bit unix nanoseconds cannot hold are refused.
TEST(Clock, ParseRfc3339RefusesTimesOutsideInt64Nanoseconds) {
  for (const char* out : {"1011-11-14T23:13:20.470454Z", "0000-01-01T00:00:00Z",
                          "9999-12-31T23:59:59.999999999Z", "2262-04-11T23:47:16.854775808Z",
                          "2262-04-11T22:47:17-01:00", "1677-09-21T00:12:43.145224191Z"})
    EXPECT_FALSE(ParseRfc3339Nanos(out).ok()) << out;
  EXPECT_EQ(*ParseRfc3339Nanos("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(*ParseRfc3339Nanos("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  EXPECT_EQ(*ParseRfc3339Nanos("1969-12-31T23:59:59.5Z"), -500000000);
}

TEST(JsonReader, ReadsMembersOfTheirTypeAndDefaults) {
  const Json j = Json::parse(R"({"s":"x","i":-7,"u":9223372036854775807,"b":true,"l":["a","b"],
                                  "n":null,"o":{"k":1}})");
  JsonReader r(j);
  EXPECT_EQ(r.String("s"), "x");
  EXPECT_EQ(r.Int("i"), -7);
  EXPECT_EQ(r.Int("u"), INT64_MAX);
  EXPECT_TRUE(r.Bool("b"));
  EXPECT_EQ(r.Strings("l"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.Value("o"), Json({{"k", 1}}));
  EXPECT_EQ(r.String("n", "null is absent"), "null is absent");
  EXPECT_EQ(r.Int("missing", 5), 5);
  EXPECT_TRUE(r.Strings("missing").empty());
  EXPECT_TRUE(r.Value("missing").is_null());
  EXPECT_TRUE(r.Has("s"));
  EXPECT_FALSE(r.Has("n"));
  EXPECT_TRUE(r.ok());
}

TEST(JsonReader, AMemberOfAnotherTypeFailsTheReader) {
  const Json j = Json::parse(R"({"str":"7","float":1.5,"huge":1e300,"big":9223372036854775808,
                                  "num":1,"list":["a",2],"obj":{}})");
  for (auto read : std::vector<std::function<void(JsonReader&)>>{
           [](JsonReader& r) { EXPECT_EQ(r.Int("str", 3), 3); },
           [](JsonReader& r) { EXPECT_EQ(r.Int("float", 3), 3); },
           [](JsonReader& r) { EXPECT_EQ(r.Int("huge", 3), 3); },
           [](JsonReader& r) { EXPECT_EQ(r.Int("big", 3), 3); },
           [](JsonReader& r) { EXPECT_EQ(r.String("num", "d"), "d"); },
           [](JsonReader& r) { EXPECT_FALSE(r.Bool("num")); },
           [](JsonReader& r) { EXPECT_TRUE(r.Strings("list").empty()); },
           [](JsonReader& r) { EXPECT_TRUE(r.Strings("obj").empty()); },
       }) {
    JsonReader r(j);
    read(r);
    EXPECT_FALSE(r.ok());
  }
  const Json not_object = Json::parse("4");
  JsonReader r(not_object);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.String("s", "d"), "d");
}

}  // namespace
}  // namespace vault

namespace vault {
namespace {

TEST(Cidr, ParsesBlocksAndAddressesAndMatchesClients) {
  auto c = Cidr::Parse("10.1.2.3/8");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "10.0.0.0/8");
  EXPECT_TRUE(c->Contains("10.200.0.1"));
  EXPECT_FALSE(c->Contains("11.0.0.1"));
  EXPECT_TRUE(c->Contains("::ffff:10.0.0.7"));  // IPv4-mapped
  EXPECT_FALSE(c->Contains("not an address"));
  auto host = Cidr::Parse("127.0.0.1");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->ToString(), "127.0.0.1/32");
  EXPECT_TRUE(host->Contains("127.0.0.1"));
  EXPECT_FALSE(host->Contains("127.0.0.2"));
  auto v6 = Cidr::Parse("2001:db8::/32");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains("2001:db8:1::5"));
  EXPECT_FALSE(v6->Contains("10.0.0.1"));
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "abc", "10.0.0.0/", "10.0.0.0/-1", "::/129"})
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  EXPECT_TRUE(AddressAllowed({}, "1.2.3.4"));
  EXPECT_TRUE(AddressAllowed({"192.168.0.0/16,127.0.0.1/32"}, "127.0.0.1"));
  EXPECT_FALSE(AddressAllowed({"192.168.0.0/16"}, "127.0.0.1"));
  EXPECT_TRUE(CidrsSubset({"10.1.0.0/16", "10.2.3.4"}, {"10.0.0.0/8"}));
  EXPECT_FALSE(CidrsSubset({"10.0.0.0/7"}, {"10.0.0.0/8"}));
  EXPECT_FALSE(CidrsSubset({"11.0.0.0/16"}, {"10.0.0.0/8"}));
  EXPECT_TRUE(CidrsSubset({}, {"10.0.0.0/8"}));
}

}  // namespace
}  // namespace vault
