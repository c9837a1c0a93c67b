#include "sched/tier_scheduler.h"

#include <chrono>

#include "util/log.h"
#include "util/strings.h"

namespace recd::sched {

TierScheduler::TierScheduler(int64_t maintenance_interval_ms)
    : interval_ms_(maintenance_interval_ms) {
  thread_ = std::thread([this] { Loop(); });
}

TierScheduler::~TierScheduler() { Shutdown(); }

void TierScheduler::SetTierLookup(TierLookup lookup) {
  absl::MutexLock lock(&mu_);
  lookup_ = std::move(lookup);
}

std::shared_ptr<WorkerPool> TierScheduler::PoolFor(TenantIid iid, const TierSpec& spec) {
  const Key key{spec.tier, spec.pool == PoolKind::kDedicated ? iid : 0};
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = pools_.find(key);
    if (it != pools_.end() && it->second.Matches(spec)) return it->second.pool;
    if (stopping_) return nullptr;
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return nullptr;
  auto it = pools_.find(key);
  if (it != pools_.end()) {
    if (it->second.Matches(spec)) return it->second.pool;
    RetireLocked(key);  // built from an older spec (SIGHUP): new work goes to a fresh pool
  }
  std::string name = key.iid == 0 ? std::string(TierName(spec.tier))
                                  : util::StrCat(TierName(spec.tier), "-", iid);
  // Pools are created on whichever thread first needs one, often a nice-10 I/O thread: their
  // threads come from the spawner, started at nice 0 with the scheduler.
  Entry entry{
      std::make_shared<WorkerPool>(std::move(name), spec.threads, static_cast<size_t>(spec.queue),
                                   spec.nice, &spawner_, spec.cpus),
      spec.pool,
      spec.threads,
      spec.queue,
      spec.nice,
      spec.cpus};
  auto pool = entry.pool;
  pools_.emplace(key, std::move(entry));
  return pool;
}

void TierScheduler::RetireLocked(const Key& key) {
  auto it = pools_.find(key);
  if (it == pools_.end()) return;
  retired_.push_back(std::move(it->second.pool));
  pools_.erase(it);
}

void TierScheduler::Retire(TenantIid iid) {
  absl::MutexLock lock(&mu_);
  for (int t = 0; t < kNumTiers; ++t) RetireLocked(Key{static_cast<Tier>(t), iid});
}

std::vector<TierScheduler::PoolInfo> TierScheduler::Pools() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<PoolInfo> out;
  out.reserve(pools_.size());
  for (const auto& [key, e] : pools_) {
    out.push_back({e.pool->name(), key.tier, key.iid != 0, key.iid, e.pool->QueueDepth(),
                   e.pool->capacity()});
  }
  return out;
}

size_t TierScheduler::dedicated_pools() const {
  absl::ReaderMutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [key, e] : pools_) n += key.iid != 0;
  return n;
}

size_t TierScheduler::retired_pools() const {
  absl::ReaderMutexLock lock(&mu_);
  return retired_.size();
}

void TierScheduler::Maintain() {
  std::vector<std::shared_ptr<WorkerPool>> done;
  {
    absl::MutexLock lock(&mu_);
    if (lookup_) {
      std::vector<Key> stale;
      for (const auto& [key, e] : pools_) {
        if (key.iid == 0) continue;
        std::optional<Placement> now = lookup_(key.iid);
        if (!now || now->tier != key.tier || !now->own_pool) stale.push_back(key);
      }
      for (const Key& k : stale) RetireLocked(k);
    }
    // Only our reference left: no ticket can reach the pool any more, so joining it here
    // (never on one of its own threads) cannot lose or block a request.
    std::erase_if(retired_, [&](std::shared_ptr<WorkerPool>& p) {
      if (p.use_count() != 1) return false;
      done.push_back(std::move(p));
      return true;
    });
  }
  for (auto& p : done) p->Shutdown();
}

void TierScheduler::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(interval_ms_));
    if (stopping_) break;
    mu_.Unlock();
    Maintain();
    mu_.Lock();
  }
}

void TierScheduler::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::vector<std::shared_ptr<WorkerPool>> all;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, e] : pools_) all.push_back(e.pool);
    for (auto& p : retired_) all.push_back(p);
  }
  // The map keeps its references: a pool is destroyed only after its threads are joined.
  for (auto& p : all) p->Shutdown();
}

}  // namespace recd::sched
