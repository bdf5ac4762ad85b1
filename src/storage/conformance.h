// The conformance suite every storage Backend must pass. A backend's test file includes this
// header once and instantiates it:
//   INSTANTIATE_TEST_SUITE_P(Rocks, BackendConformance, testing::Values(BackendFactory{...}));
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/backend.h"
#include "storage/blocking.h"

namespace vault::storage {

struct BackendFactory {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};
inline std::ostream& operator<<(std::ostream& os, const BackendFactory& f) { return os << f.name; }

class BackendConformance : public testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override { backend_ = GetParam().make(); }
  std::unique_ptr<Backend> backend_;
};

TEST_P(BackendConformance, GetPutDelete) {
  Blocking b(backend_.get());
  EXPECT_FALSE(b.Get("missing")->has_value());
  ASSERT_TRUE(b.Put("a/b", "v1").ok());
  EXPECT_EQ(**b.Get("a/b"), "v1");
  ASSERT_TRUE(b.Put("a/b", "v2").ok());
  EXPECT_EQ(**b.Get("a/b"), "v2");
  ASSERT_TRUE(b.Delete("a/b").ok());
  EXPECT_FALSE(b.Get("a/b")->has_value());
  EXPECT_TRUE(b.Delete("never-existed").ok());
}

TEST_P(BackendConformance, BinaryValuesAndLongKeys) {
  Blocking b(backend_.get());
  std::string value("\0\x01\xff\n", 4);
  std::string key = "k/" + std::string(4096, 'x');
  ASSERT_TRUE(b.Put(key, value).ok());
  EXPECT_EQ(**b.Get(key), value);
}

TEST_P(BackendConformance, ListGivesImmediateChildren) {
  Blocking b(backend_.get());
  for (const char* k : {"p/a", "p/b/c", "p/b/d", "p/b/e/f", "p/c", "pz", "q/a"})
    ASSERT_TRUE(b.Put(k, "x").ok());
  auto l = b.List("p/");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (std::vector<std::string>{"a", "b/", "c"}));
  EXPECT_EQ(*b.List("p/b/"), (std::vector<std::string>{"c", "d", "e/"}));
  EXPECT_TRUE(b.List("nothing/")->empty());
  auto top = *b.List("");
  EXPECT_EQ(top, (std::vector<std::string>{"p/", "pz", "q/"}));
}

TEST_P(BackendConformance, ScanVisitsInOrderAndStops) {
  Blocking b(backend_.get());
  for (const char* k : {"s/3", "s/1", "s/2", "t/1"}) ASSERT_TRUE(b.Put(k, k).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(b.Scan("s/", [&](std::string_view k, std::string_view v) {
                 seen.emplace_back(k);
                 EXPECT_EQ(k, v);
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"s/1", "s/2", "s/3"}));
  seen.clear();
  ASSERT_TRUE(b.Scan("s/", [&](std::string_view k, std::string_view) {
                 seen.emplace_back(k);
                 return false;
               }).ok());
  EXPECT_EQ(seen.size(), 1u);
  // Keys only: the same keys in the same order, stopping the same way.
  seen.clear();
  ASSERT_TRUE(b.ScanKeys("s/", [&](std::string_view k) {
                 seen.emplace_back(k);
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"s/1", "s/2", "s/3"}));
  seen.clear();
  ASSERT_TRUE(b.ScanKeys("s/", [&](std::string_view k) {
                 seen.emplace_back(k);
                 return seen.size() < 2;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"s/1", "s/2"}));
}

TEST_P(BackendConformance, BatchIsAtomicAndOrdered) {
  Blocking b(backend_.get());
  ASSERT_TRUE(b.Put("w/old", "1").ok());
  ASSERT_TRUE(b.Write({{"w/new", "2"}, {"w/old", std::nullopt}, {"w/new", "3"}}).ok());
  EXPECT_FALSE(b.Get("w/old")->has_value());
  EXPECT_EQ(**b.Get("w/new"), "3");
}

TEST_P(BackendConformance, ConcurrentWritersAllLand) {
  Blocking b(backend_.get());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&b, t] {
      for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(b.Put("c/" + std::to_string(t) + "-" + std::to_string(i), "v").ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(b.List("c/")->size(), 400u);
}

}  // namespace vault::storage
