#include <filesystem>

#include "storage/conformance.h"
#include "storage/inmem.h"
#include "storage/rocksdb_backend.h"
#include "util/random.h"
#include "util/encoding.h"

namespace vault::storage {
namespace {

std::string TempDir() {
  auto p = std::filesystem::temp_directory_path() / ("vault-rocks-" + HexEncode(RandomBytes(6)));
  return p.string();
}

INSTANTIATE_TEST_SUITE_P(
    All, BackendConformance,
    testing::Values(BackendFactory{"inmem", [] { return std::make_unique<InmemBackend>(); }},
                    BackendFactory{"rocksdb",
                                   []() -> std::unique_ptr<Backend> {
                                     auto r = RocksDbBackend::Open(TempDir());
                                     EXPECT_TRUE(r.ok()) << r.status().ToString();
                                     return std::move(r).value();
                                   }}),
    [](const auto& info) { return info.param.name; });

TEST(RocksDb, DataSurvivesReopen) {
  std::string dir = TempDir();
  {
    auto db = RocksDbBackend::Open(dir);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Put("k", "v").ok());
  }
  auto db = RocksDbBackend::Open(dir);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(**(*db)->Get("k"), "v");
  // A second open of the same directory while it is open fails cleanly (lock held).
  auto second = RocksDbBackend::Open(dir);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kInternal);
  std::filesystem::remove_all(dir);
}

// WaitIdle flushes the memtable: the data is then in table files, read back after deletes of other
// keys went through the (bloom-filtered) memtable.
TEST(RocksDb, WaitIdleFlushesAndKeepsEveryKey) {
  std::string dir = TempDir();
  auto db = RocksDbBackend::Open(dir);
  ASSERT_TRUE(db.ok());
  std::vector<Mutation> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back({"k/" + std::to_string(i), std::to_string(i)});
  ASSERT_TRUE((*db)->Write(batch).ok());
  ASSERT_TRUE((*db)->WaitIdle().ok());
  EXPECT_TRUE(std::filesystem::exists(dir));
  size_t tables = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    tables += f.path().extension() == ".sst";
  EXPECT_GE(tables, 1u);
  for (int i = 0; i < 1000; i += 2) ASSERT_TRUE((*db)->Delete("k/" + std::to_string(i)).ok());
  for (int i = 0; i < 1000; ++i) {
    auto v = (*db)->Get("k/" + std::to_string(i));
    ASSERT_TRUE(v.ok());
    if (i % 2 == 0) {
      EXPECT_FALSE(v->has_value()) << i;
    } else {
      ASSERT_TRUE(v->has_value()) << i;
      EXPECT_EQ(**v, std::to_string(i));
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vault::storage
