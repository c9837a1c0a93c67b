// Which pool runs a tenant's requests (SPEC 4, 7.6). A tier with `pool = "shared"` has one pool
// for all its tenants (standard: no thread per tenant); `"dedicated"` gives each tenant its own
// pool, created on the tenant's first request. A pool is sized by its tier's threads, queue and
// nice at creation; when the tier's spec changes (SIGHUP) or the tenant changes tier or leaves,
// the pool is retired: it takes no new work, runs what it has queued, and is joined by the
// scheduler's maintenance thread once nobody holds it. Thread-safe; PoolFor is called on I/O
// threads and never blocks on a pool.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "recd/types.h"
#include "sched/tier_config.h"
#include "sched/worker_pool.h"

namespace recd::sched {

class TierScheduler {
 public:
  // Where a tenant's work runs now: its tier, and whether it has a pool of its own (a
  // dedicated tier, or pool overrides).
  struct Placement {
    Tier tier;
    bool own_pool;
  };
  // A tenant's placement, or nullopt once it is gone: lets the maintenance thread retire the
  // pools of tenants that moved, left or dropped their pool overrides.
  using TierLookup = std::function<std::optional<Placement>(TenantIid)>;

  explicit TierScheduler(int64_t maintenance_interval_ms = 1000);
  ~TierScheduler();  // Shutdown()

  TierScheduler(const TierScheduler&) = delete;
  TierScheduler& operator=(const TierScheduler&) = delete;

  void SetTierLookup(TierLookup lookup);

  // The pool for `iid` under `spec` (its tier's current spec). Creates it on first use; a pool
  // built from an older spec is retired and replaced. Null after Shutdown.
  std::shared_ptr<WorkerPool> PoolFor(TenantIid iid, const TierSpec& spec);

  // Retires the tenant's dedicated pool now (offboarding); queued work still runs.
  void Retire(TenantIid iid);

  struct PoolInfo {
    std::string name;
    Tier tier;
    bool dedicated;
    TenantIid iid;  // the tenant of a dedicated pool; 0 for a shared one
    size_t queue_depth;
    size_t capacity;
  };
  // Live (not retired) pools.
  std::vector<PoolInfo> Pools() const;
  size_t dedicated_pools() const;
  size_t retired_pools() const;

  // Runs one maintenance pass at once (tests; the thread does this every interval).
  void Maintain();
  // Stops the maintenance thread, then drains and joins every pool. Idempotent.
  void Shutdown();

 private:
  struct Key {
    Tier tier;
    TenantIid iid;  // 0 for a tier's shared pool
    bool operator==(const Key& o) const { return tier == o.tier && iid == o.iid; }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), static_cast<int>(k.tier), k.iid);
    }
  };
  struct Entry {
    std::shared_ptr<WorkerPool> pool;
    PoolKind kind;
    int threads, queue, nice;
    util::CpuList cpus;
    bool Matches(const TierSpec& s) const {
      return kind == s.pool && threads == s.threads && queue == s.queue && nice == s.nice &&
             cpus == s.cpus;
    }
  };
  void RetireLocked(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  const int64_t interval_ms_;
  // Starts every pool's threads at the scheduler's own nice (declared first: outlives pools).
  util::ThreadSpawner spawner_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, Entry> pools_ ABSL_GUARDED_BY(mu_);
  // Pools that take no new work; joined by Maintain once only this list holds them.
  std::vector<std::shared_ptr<WorkerPool>> retired_ ABSL_GUARDED_BY(mu_);
  TierLookup lookup_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace recd::sched
