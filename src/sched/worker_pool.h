// A pool is threads + a bounded queue (STYLE 8). Submission never blocks: a full queue is
// refused at once so the caller can answer 503. Thread-safe; TrySubmit may be called from any
// thread, tasks run on the pool's threads at the pool's nice value.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "util/thread.h"

namespace recd::sched {

class WorkerPool {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  // `nice` is applied to each worker thread (lower tiers run nicer), and `cpus` (empty: keep
  // the spawning thread's set) restricts where they run; a failure to set either is logged, never
  // fatal, since recd needs no privileges. With a `spawner` the threads start from it (and its
  // nice) instead of from the caller, which matters when the caller is a nicer thread than the pool
  // should be.
  WorkerPool(std::string name, int threads, size_t queue_capacity, int nice,
             util::ThreadSpawner* spawner = nullptr, util::CpuList cpus = {});
  ~WorkerPool();  // Shutdown() then join.

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool is shutting down; the task is then dropped.
  bool TrySubmit(Task task);
  // Stops accepting, runs what is queued, joins the threads. Idempotent.
  void Shutdown();

  size_t QueueDepth() const;
  size_t capacity() const { return capacity_; }
  const std::string& name() const { return name_; }
  int nice() const { return nice_; }

 private:
  void Run(int index);

  const std::string name_;
  const size_t capacity_;
  const int nice_;
  const util::CpuList cpus_;
  mutable absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace recd::sched
