#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "storage/blocking.h"
#include "storage/conformance.h"
#include "storage/inmem.h"
#include "storage/rocksdb_backend.h"
#include "util/encoding.h"
#include "util/random.h"

namespace vault::storage {
namespace {

template <typename P>
Blocking B(const P& backend) {
  return Blocking(backend.get());
}

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
    ASSERT_TRUE(B(*db).Put("k", "v").ok());
  }
  auto db = RocksDbBackend::Open(dir);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(**B(*db).Get("k"), "v");
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
  ASSERT_TRUE(B(*db).Write(batch).ok());
  ASSERT_TRUE((*db)->WaitIdle().ok());
  EXPECT_TRUE(std::filesystem::exists(dir));
  size_t tables = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    tables += f.path().extension() == ".sst";
  EXPECT_GE(tables, 1u);
  for (int i = 0; i < 1000; i += 2) ASSERT_TRUE(B(*db).Delete("k/" + std::to_string(i)).ok());
  for (int i = 0; i < 1000; ++i) {
    auto v = B(*db).Get("k/" + std::to_string(i));
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

// The guard's arithmetic, with the filesystem's space injected: `others` is what the rest of the
// disk leaves free, and the ballast file, while it exists, takes its 5 MiB of that.
TEST(DiskSpaceGuard, AdmitsWritesOnlyAboveTheReserveAndDeletesDownToAQuarter) {
  std::string dir = TempDir();
  std::filesystem::create_directories(dir);
  const uint64_t kDisk = 1000ull << 20;  // reserve 10 MiB (1%), ballast 5 MiB
  uint64_t others = 500ull << 20;
  std::string ballast_file = dir + "/EMERGENCY_BALLAST";
  DiskSpaceGuard guard(dir, {.probe = [&]() -> Result<DiskSpace> {
                         bool ballast = std::filesystem::exists(ballast_file);
                         return DiskSpace{kDisk, others - (ballast ? 5ull << 20 : 0)};
                       }});
  EXPECT_EQ(guard.reserve(), 10ull << 20);
  ASSERT_TRUE(guard.HasBallast());
  EXPECT_EQ(std::filesystem::file_size(ballast_file), 5ull << 20);

  EXPECT_TRUE(guard.Admit(1 << 20, 0, false).ok());
  others = 17ull << 20;  // 12 MiB free beside the ballast
  EXPECT_TRUE(guard.Admit(1 << 20, 0, false).ok());
  // The memtable a flush would write counts against the same free space.
  Status full = guard.Admit(1 << 20, 2ull << 20, false);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.code(), StatusCode::kInternal);
  EXPECT_EQ(full.message(),
            "storage: not enough free disk space to write durably: 12.0 MiB free, 13.0 MiB "
            "needed (the write was not made; free space on the data volume)");
  others = 9ull << 20;  // 4 MiB free
  EXPECT_FALSE(guard.Admit(100, 0, false).ok());
  EXPECT_TRUE(guard.Admit(100, 0, true).ok());  // deletes free space: admitted down to 2.5 MiB
  EXPECT_TRUE(guard.HasBallast());
  // Something else filled the disk past the deletes' watermark: the ballast goes, and its space
  // admits the delete.
  others = 7ull << 20;  // 2 MiB free
  EXPECT_TRUE(guard.Admit(100, 0, true).ok());
  EXPECT_FALSE(guard.HasBallast());
  EXPECT_FALSE(std::filesystem::exists(ballast_file));
  EXPECT_FALSE(guard.Admit(100, 0, false).ok());  // 7 MiB free is still below the reserve
  // Space is back: writes are admitted, and the ballast returns once there is room to spare
  // (twice the reserve beside it).
  others = 20ull << 20;
  EXPECT_TRUE(guard.Admit(100, 0, false).ok());
  EXPECT_FALSE(guard.HasBallast());
  others = 30ull << 20;
  EXPECT_TRUE(guard.Admit(100, 0, false).ok());
  EXPECT_TRUE(guard.HasBallast());
  std::filesystem::remove_all(dir);
}

// A small tmpfs for the full-disk tests; they are skipped where tmpfs cannot be mounted (not
// root, or no CAP_SYS_ADMIN).
class SmallDisk : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    std::filesystem::create_directories(dir_);
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=24m") != 0) {
      std::filesystem::remove_all(dir_);
      GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(dir_);
  }
  // Fills the disk with a file, leaving about `leave` bytes free.
  void Fill(uint64_t leave) {
    struct statvfs st;
    ASSERT_EQ(statvfs(dir_.c_str(), &st), 0);
    uint64_t free = uint64_t(st.f_bavail) * st.f_frsize;
    ASSERT_GT(free, leave);
    std::ofstream(filler()).write(std::string(free - leave, 'f').data(), free - leave);
  }
  std::string filler() const { return dir_ + "/filler"; }
  std::string data() const { return dir_ + "/data"; }

  std::string dir_;
  bool mounted_ = false;
};

// Writes 64 KiB values until one fails, then reads each acknowledged one back.
void WriteUntilFull(Backend& db, std::vector<std::string>* acknowledged, std::string* refused,
                    Status* error) {
  const std::string value(64 << 10, 'v');
  for (int i = 0; i < 1000; ++i) {
    std::string key = "kv/" + std::to_string(i);
    Status s = Blocking(&db).Put(key, value);
    if (!s.ok()) {
      *refused = key;
      *error = s;
      return;
    }
    acknowledged->push_back(key);
  }
}

// RocksDB itself meets ENOSPC (the guard lets everything through): the failing write is an error,
// not an abort (its file logger asserted on the next append); reads go on; with space back,
// writes resume without a reopen; after a reopen every acknowledged write is there and the
// refused one is not.
TEST_F(SmallDisk, RocksDbMeetingEnospcFailsTheWriteAndResumesWhenSpaceReturns) {
  std::vector<std::string> acknowledged;
  std::string refused;
  Status error;
  {
    DiskSpaceGuard::Options no_guard{.probe = []() -> Result<DiskSpace> {
                                       return DiskSpace{0, ~0ull >> 1};
                                     },
                                     .min_reserve = 0,
                                     .max_reserve = 0};
    auto db = RocksDbBackend::Open(data(), no_guard);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Fill(4 << 20);
    WriteUntilFull(**db, &acknowledged, &refused, &error);
    ASSERT_FALSE(refused.empty()) << "the disk never filled";
    EXPECT_EQ(error.code(), StatusCode::kInternal);
    EXPECT_NE(error.message().find("No space left on device"), std::string::npos)
        << error.message();
    // Further writes fail cleanly too (the one after the first failure used to abort).
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(B(*db).Put("more/" + std::to_string(i), "x").ok());
    for (const auto& key : acknowledged) ASSERT_TRUE(B(*db).Get(key)->has_value()) << key;

    std::filesystem::remove(filler());
    Status resumed = B(*db).Put("after", "space came back");
    ASSERT_TRUE(resumed.ok()) << resumed.ToString();
    acknowledged.push_back("after");
  }
  auto db = RocksDbBackend::Open(data());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  for (const auto& key : acknowledged) ASSERT_TRUE(B(*db).Get(key)->has_value()) << key;
  EXPECT_FALSE(B(*db).Get(refused)->has_value());
  EXPECT_FALSE(B(*db).Get("more/0")->has_value());
}

// With the guard (the default), RocksDB never meets ENOSPC: the write is refused with the guard's
// message while the disk still has its reserve, deletes still pass, and writes resume with space.
TEST_F(SmallDisk, TheGuardRefusesWritesBeforeTheDiskIsFull) {
  auto db = RocksDbBackend::Open(data());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->space_guard().reserve(), 4ull << 20);  // the minimum: 1% of 24 MiB is less
  Fill(12 << 20);
  std::vector<std::string> acknowledged;
  std::string refused;
  Status error;
  WriteUntilFull(**db, &acknowledged, &refused, &error);
  ASSERT_FALSE(refused.empty());
  EXPECT_NE(error.message().find("not enough free disk space"), std::string::npos)
      << error.message();
  EXPECT_GT(acknowledged.size(), 30u);
  EXPECT_TRUE(B(*db).Delete(acknowledged.front()).ok());
  std::filesystem::remove(filler());
  EXPECT_TRUE(B(*db).Put(refused, "now").ok());
}

}  // namespace
}  // namespace vault::storage
