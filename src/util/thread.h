// Per-thread scheduling attributes: names for profilers, nice values and CPU sets for tier
// isolation.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "recd/status.h"

namespace recd::util {

// Names the calling thread (truncated to the 15 characters Linux keeps).
void NameCurrentThread(std::string_view name);

// Sets the calling thread's nice value. Linux applies setpriority(PRIO_PROCESS, tid) to one
// thread. Raising it needs no privilege; lowering it below the process's does.
absl::Status SetCurrentThreadNice(int nice);

// A set of CPU numbers a thread may run on; empty means no restriction (whatever the process
// may use).
using CpuList = std::vector<int>;

// Restricts the calling thread to `cpus` (sched_setaffinity: no privilege needed, and threads
// it starts inherit it). Empty: no change. Errors: InvalidArgument if a CPU is not one this
// process may use (see CheckCpus), Internal if the kernel refuses.
absl::Status SetCurrentThreadCpus(const CpuList& cpus);

// The CPUs this process may use: the calling thread's affinity the first time this is called
// (a cgroup or taskset may have narrowed it), remembered, since threads narrowed later by
// SetCurrentThreadCpus must still be able to move anywhere in it. Call it before narrowing
// any thread (the daemon does at start).
const CpuList& ProcessCpus();

// OK if every CPU of `cpus` is in ProcessCpus(), else InvalidArgument naming the first that
// is not.
absl::Status CheckCpus(const CpuList& cpus);

// "0,2-3" for {0, 2, 3}: how /proc and taskset write CPU lists; "any" when empty.
std::string CpuListText(const CpuList& cpus);

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
