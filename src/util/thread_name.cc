#include "util/thread_name.h"

#include <pthread.h>

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

}  // namespace vault
