#include "aws/xml.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace vault::aws {
namespace {

constexpr char kListGroups[] =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<ListGroupsForUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListGroupsForUserResult>
    <Groups>
      <member><Path>/</Path><GroupName>g1</GroupName><Arn>arn:aws:iam::1:group/g1</Arn></member>
      <member><Path>/</Path><GroupName>g&amp;2</GroupName></member>
    </Groups>
    <IsTruncated>false</IsTruncated>
  </ListGroupsForUserResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</ListGroupsForUserResponse>)";

TEST(XmlTest, ParsesAwsResponseStructure) {
  Result<XmlElement> doc = ParseXml(kListGroups);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name(), "ListGroupsForUserResponse");
  ASSERT_EQ(doc->attributes().size(), 1u);
  EXPECT_EQ(doc->attributes()[0].first, "xmlns");
  const XmlElement* result = doc->Child("ListGroupsForUserResult");
  ASSERT_NE(result, nullptr);
  auto members = result->Members("Groups");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0]->ChildText("GroupName"), "g1");
  EXPECT_EQ(members[1]->ChildText("GroupName"), "g&2");
  EXPECT_EQ(members[1]->ChildText("Arn"), "");
  EXPECT_EQ(result->ChildText("IsTruncated"), "false");
  ASSERT_NE(doc->Find({"ResponseMetadata", "RequestId"}), nullptr);
  EXPECT_EQ(doc->Find({"ResponseMetadata", "RequestId"})->text(), "req-1");
  EXPECT_EQ(doc->Find({"ResponseMetadata", "Nope"}), nullptr);
  EXPECT_TRUE(result->Members("Missing").empty());
  EXPECT_EQ(result->Children("Groups").size(), 1u);
}

TEST(XmlTest, TextEntitiesCdataUtf8AndPrefixes) {
  Result<XmlElement> doc = ParseXml(
      "<a:Root xmlns:a='x'><a:T>caf\xC3\xA9 &lt;&#x41;&gt; <![CDATA[<raw&>]]></a:T></a:Root>");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name(), "Root");
  EXPECT_EQ(doc->ChildText("T"), "caf\xC3\xA9 <A> <raw&>");
}

TEST(XmlTest, MalformedInputIsAnErrorWithoutContent) {
  const char* bad[] = {
      "",
      "   ",
      "<a>",
      "<a></b>",
      "<a/><b/>",
      "not xml at all",
      "<a>\xff\xfe</a>",
      "<a x='1' x='2'/>",
      "<a>&undefined;</a>",
      "<a>SECRETVALUE<</a>",
  };
  for (const char* doc : bad) {
    Result<XmlElement> r = ParseXml(doc);
    EXPECT_FALSE(r.ok()) << doc;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message().find("SECRETVALUE"), std::string::npos);
    }
  }
}

TEST(XmlTest, DoctypeAndEntityExpansionAreRefused) {
  std::string lol =
      "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
      "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
      "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
      "<lolz>&lol3;</lolz>";
  Result<XmlElement> r = ParseXml(lol);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("DOCTYPE"), std::string::npos);
  EXPECT_FALSE(ParseXml("<!DOCTYPE x SYSTEM 'file:///etc/passwd'><x/>").ok());
}

TEST(XmlTest, LimitsAreEnforced) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_FALSE(ParseXml(deep).ok());
  XmlLimits limits;
  limits.max_depth = 200;
  EXPECT_TRUE(ParseXml(deep, limits).ok());

  std::string many = "<r>";
  for (int i = 0; i < 50; ++i) many += "<m/>";
  many += "</r>";
  limits.max_elements = 10;
  EXPECT_FALSE(ParseXml(many, limits).ok());
  limits = XmlLimits();
  limits.max_bytes = 16;
  EXPECT_FALSE(ParseXml(many, limits).ok());
  EXPECT_TRUE(ParseXml(many).ok());
}

TEST(XmlTest, EachDocumentStartsFromScratchAfterAnyEarlierOne) {
  // A thread reuses one parser: nothing of a document (an error, a stop from a callback, a
  // namespace prefix, an unfinished element) may leak into the next one.
  const std::string good = kListGroups;
  const char* before[] = {"<a>",
                          "<a></b>",
                          "<!DOCTYPE x><x/>",
                          "<p:a xmlns:p='u'><p:b>",
                          "<a>&undefined;</a>",
                          "<r><m/><m/><m/></r>"};
  XmlLimits tight;
  tight.max_elements = 2;
  for (const char* doc : before) {
    EXPECT_FALSE(ParseXml(doc, tight).ok()) << doc;
    Result<XmlElement> r = ParseXml(good);
    ASSERT_TRUE(r.ok()) << "after " << doc << ": " << r.status().ToString();
    EXPECT_EQ(r->name(), "ListGroupsForUserResponse");
    EXPECT_EQ(r->Child("ListGroupsForUserResult")->Members("Groups").size(), 2u);
    EXPECT_FALSE(ParseXml("<a>").ok());  // and an unfinished document is still one
  }
  // Other threads have parsers of their own.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (ParseXml(good).ok() && !ParseXml("<a></b>").ok()) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 800);
}

TEST(XmlTest, RandomMutationsNeverCrash) {
  std::mt19937 rng(12345);
  std::string base = kListGroups;
  for (int i = 0; i < 3000; ++i) {
    std::string doc = base;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % doc.size();
      switch (rng() % 3) {
        case 0:
          doc[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          doc.erase(pos, 1 + rng() % 16);
          break;
        default:
          doc.insert(pos, 1, "<>&/'\"!?["[rng() % 10]);
      }
      if (doc.empty()) doc = "<";
    }
    Result<XmlElement> r = ParseXml(doc);
    if (r.ok()) (void)r->Members("Groups");
  }
}

}  // namespace
}  // namespace vault::aws
