#include "util/thread.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "util/strings.h"

namespace recd::util {

void NameCurrentThread(std::string_view name) {
  std::string truncated(name.substr(0, 15));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

absl::Status SetCurrentThreadNice(int nice) {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (::setpriority(PRIO_PROCESS, tid, nice) != 0) {
    return absl::PermissionDeniedError(
        StrCat("cannot set nice ", nice, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace recd::util
