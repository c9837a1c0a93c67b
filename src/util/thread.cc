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

namespace {

constexpr int kMaxCpus = CPU_SETSIZE;  // 1024: glibc's cpu_set_t

}  // namespace

const CpuList& ProcessCpus() {
  static const CpuList* const cpus = [] {
    auto* list = new CpuList();
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
      for (int cpu = 0; cpu < kMaxCpus; ++cpu) {
        if (CPU_ISSET(cpu, &allowed)) list->push_back(cpu);
      }
    }
    return list;
  }();
  return *cpus;
}

absl::Status CheckCpus(const CpuList& cpus) {
  const CpuList& allowed = ProcessCpus();
  if (allowed.empty() && !cpus.empty()) {
    return absl::InternalError("the CPUs this process may use could not be read");
  }
  for (int cpu : cpus) {
    if (!std::binary_search(allowed.begin(), allowed.end(), cpu)) {
      return absl::InvalidArgumentError(
          StrCat("CPU ", cpu, " is not one this process may use (", CpuListText(allowed), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status SetCurrentThreadCpus(const CpuList& cpus) {
  if (cpus.empty()) return absl::OkStatus();
  RECD_RETURN_IF_ERROR(CheckCpus(cpus));
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  // pid 0 is the calling thread (sched_setaffinity is per thread on Linux).
  if (::sched_setaffinity(0, sizeof(set), &set) != 0) {
    return absl::InternalError(
        StrCat("cannot run on CPUs ", CpuListText(cpus), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string CpuListText(const CpuList& cpus) {
  if (cpus.empty()) return "any";
  std::vector<int> sorted = cpus;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(sorted[i]);
    if (j > i) out += "-" + std::to_string(sorted[j]);
    i = j + 1;
  }
  return out;
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
