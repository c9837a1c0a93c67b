#include "sched/worker_pool.h"

#include <string>

#include "util/log.h"
#include "util/thread.h"

namespace recd::sched {

WorkerPool::WorkerPool(std::string name, int threads, size_t queue_capacity, int nice,
                       util::ThreadSpawner* spawner, util::CpuList cpus)
    : name_(std::move(name)), capacity_(queue_capacity), nice_(nice), cpus_(std::move(cpus)) {
  RECD_CHECK(threads > 0 && queue_capacity > 0) << "pool " << name_ << " needs threads and queue";
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    auto body = [this, i] { Run(i); };
    threads_.push_back(spawner != nullptr ? spawner->Spawn(body) : std::thread(body));
  }
}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::TrySubmit(Task task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= capacity_) return false;
  queue_.push_back(std::move(task));
  return true;
}

void WorkerPool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t WorkerPool::QueueDepth() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void WorkerPool::Run(int index) {
  if (nice_ != 0) {
    if (absl::Status s = util::SetCurrentThreadNice(nice_); !s.ok()) {
      RECD_LOG(Warning) << "pool " << name_ << ": " << s.message();
    }
  }
  if (absl::Status s = util::SetCurrentThreadCpus(cpus_); !s.ok()) {
    RECD_LOG(Warning) << "pool " << name_ << ": " << s.message();
  }
  util::NameCurrentThread(name_ + "-" + std::to_string(index));
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return p->stopping_ || !p->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace recd::sched
