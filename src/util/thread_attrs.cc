#include "util/thread_attrs.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vault {

void SetThreadName(std::string_view name) {
  // The kernel's TASK_COMM_LEN is 16 including the terminator: pthread_setname_np fails with
  // ERANGE on anything longer, so the name is cut here.
  std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

std::string ThreadName() {
  char buf[16] = {0};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0) return "";
  return buf;
}

namespace {
// The kernel's struct sched_attr (include/uapi/linux/sched/types.h); glibc 2.36 has no wrapper.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

bool GetAttr(int tid, SchedAttr* a) {
  *a = SchedAttr{};
  return syscall(SYS_sched_getattr, tid, a, sizeof(*a), 0) == 0;
}
}  // namespace

uint64_t TimeSliceOf(int tid) {
  SchedAttr a;
  if (!GetAttr(tid, &a) || a.sched_policy != SCHED_OTHER) return 0;
  return a.sched_runtime;
}

uint64_t RequestTimeSlice(uint64_t nanos) {
  SchedAttr a;
  // Only a normal thread: the policy, nice value and flags it has are kept as they are.
  if (!GetAttr(0, &a) || a.sched_policy != SCHED_OTHER) return 0;
  a.size = sizeof(a);
  a.sched_runtime = nanos;
  // Reset-on-fork stays as it was; no utilisation-clamp flag is passed, so clamps stay too.
  a.sched_flags &= 0x01;  // SCHED_FLAG_RESET_ON_FORK
  if (syscall(SYS_sched_setattr, 0, &a, 0) != 0) return 0;
  return TimeSliceOf(0);
}

}  // namespace vault
