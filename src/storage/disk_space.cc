#include "storage/disk_space.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vault::storage {
namespace {
std::string Mib(uint64_t bytes) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.1f MiB", double(bytes) / (1 << 20));
  return buf;
}
}  // namespace

DiskSpaceGuard::DiskSpaceGuard(std::string dir, Options options)
    : dir_(std::move(dir)),
      ballast_path_(dir_ + "/EMERGENCY_BALLAST"),
      options_(std::move(options)),
      reserve_(options_.min_reserve) {
  std::lock_guard<std::mutex> lock(mu_);
  ballast_ = access(ballast_path_.c_str(), F_OK) == 0;
  Result<DiskSpace> space = Probe();
  if (space.ok()) {
    reserve_ = std::clamp(space->total / 100, options_.min_reserve, options_.max_reserve);
    MaybeCreateBallastLocked(*space);
  }
}

Result<DiskSpace> DiskSpaceGuard::Probe() const {
  if (options_.probe) return options_.probe();
  struct statvfs st;
  if (statvfs(dir_.c_str(), &st) != 0) {
    return Internal("storage: cannot read the free space of " + dir_ + ": " + strerror(errno));
  }
  return DiskSpace{uint64_t(st.f_blocks) * st.f_frsize, uint64_t(st.f_bavail) * st.f_frsize};
}

uint64_t DiskSpaceGuard::reserve() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserve_;
}

bool DiskSpaceGuard::HasBallast() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ballast_;
}

Status DiskSpaceGuard::Admit(uint64_t bytes, uint64_t pending, bool deletes_only) {
  ASSIGN_OR_RETURN(DiskSpace space, Probe());
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t floor = reserve_ / 4;
  if (space.available < floor + bytes) {
    // Something other than our writes filled the disk past every watermark: give the ballast's
    // space to RocksDB's own recovery and to deletes.
    if (ballast_) {
      ReleaseBallastLocked();
      ASSIGN_OR_RETURN(space, Probe());
    }
  } else {
    MaybeCreateBallastLocked(space);
  }
  uint64_t needed = bytes + (deletes_only ? floor : reserve_ + pending);
  if (space.available >= needed) return Status::Ok();
  return Internal("storage: not enough free disk space to write durably: " + Mib(space.available) +
                  " free, " + Mib(needed) +
                  " needed (the write was not made; free space on the data volume)");
}

void DiskSpaceGuard::ReleaseBallastLocked() {
  if (!ballast_) return;
  if (unlink(ballast_path_.c_str()) == 0 || errno == ENOENT) ballast_ = false;
}

void DiskSpaceGuard::MaybeCreateBallastLocked(const DiskSpace& space) {
  uint64_t size = reserve_ / 2;
  // Only with room to spare, so the ballast never takes the space that admits a write.
  if (ballast_ || size == 0 || space.available < 2 * reserve_ + size) return;
  int fd = open(ballast_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool ok = posix_fallocate(fd, 0, off_t(size)) == 0;
  close(fd);
  if (ok) {
    ballast_ = true;
  } else {
    unlink(ballast_path_.c_str());
  }
}

}  // namespace vault::storage
