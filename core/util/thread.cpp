#include "util/thread.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "util/log.h"

namespace inlet::util {

void lowerThreadPriority(int increment) {
  if (increment <= 0) return;
  // On Linux a thread id names one thread for setpriority, not the whole process.
  auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  int current = getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) current = 0;
  int wanted = std::min(19, current + increment);
  if (setpriority(PRIO_PROCESS, tid, wanted) != 0)
    log::warn(std::string("cannot lower a background thread's priority: ") + std::strerror(errno));
}

void nameThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

void nameThread(std::thread& thread, const std::string& name) {
  pthread_setname_np(thread.native_handle(), name.substr(0, 15).c_str());
}

int usableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

}  // namespace inlet::util
