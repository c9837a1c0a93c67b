// Per-thread scheduling attributes: names for profilers and nice values for tier isolation.
#pragma once

#include <deque>
#include <functional>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "recd/status.h"

namespace recd::util {

// Names the calling thread (truncated to the 15 characters Linux keeps).
void NameCurrentThread(std::string_view name);

// Sets the calling thread's nice value. Linux applies setpriority(PRIO_PROCESS, tid) to one
// thread. Raising it needs no privilege; lowering it below the process's does.
absl::Status SetCurrentThreadNice(int nice);

// Starts threads from one long-lived thread of its own, so that they inherit that thread's
// nice value and scheduling policy rather than the caller's. A thread can make itself nicer
// but, without privileges, never less nice: a premium pool created on a nice-10 I/O thread
// could never get to its nice 5. Create the spawner where the attributes are the ones wanted
// (at start, on the main thread). Thread-safe.
class ThreadSpawner {
 public:
  ThreadSpawner();
  ~ThreadSpawner();  // joins the spawning thread (threads it started are the callers')
  ThreadSpawner(const ThreadSpawner&) = delete;
  ThreadSpawner& operator=(const ThreadSpawner&) = delete;

  // Runs `body` on a new thread started by the spawning thread; returns once it is started.
  std::thread Spawn(std::function<void()> body);

 private:
  struct Request {
    std::function<void()> body;
    std::thread started;
    bool done = false;
  };
  void Loop();

  absl::Mutex mu_;
  std::deque<Request*> requests_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace recd::util
