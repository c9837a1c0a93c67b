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

ThreadSpawner::ThreadSpawner() : thread_([this] { Loop(); }) {}

ThreadSpawner::~ThreadSpawner() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

std::thread ThreadSpawner::Spawn(std::function<void()> body) {
  Request request;
  request.body = std::move(body);
  absl::MutexLock lock(&mu_);
  if (stopping_) return std::thread(std::move(request.body));  // only during teardown
  requests_.push_back(&request);
  mu_.Await(absl::Condition(&request.done));
  return std::move(request.started);
}

void ThreadSpawner::Loop() {
  NameCurrentThread("recd-spawner");
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(
        +[](ThreadSpawner* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
          return s->stopping_ || !s->requests_.empty();
        },
        this));
    if (requests_.empty()) return;  // stopping, nothing asked
    Request* r = requests_.front();
    requests_.pop_front();
    r->started = std::thread(std::move(r->body));
    r->done = true;
  }
}

}  // namespace recd::util
