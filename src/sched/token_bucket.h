// Per-tenant admission state (SPEC 7.6): two token buckets (events, requests), each holding one
// second of its rate, and an in-flight count. Buckets admit while positive and are charged
// afterwards, so a bucket may go negative; the debt is paid back by the refill.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "recd/status.h"
#include "recd/types.h"
#include "util/clock.h"

namespace recd::sched {

// One bucket. Not thread-safe: TenantLimiter locks around it. The rate is passed on every call
// so that a SIGHUP or a quota override applies at once (a smaller capacity clips the tokens).
class TokenBucket {
 public:
  // Brings the bucket up to `now_ns`; a new bucket starts full.
  void Refill(double rate, int64_t now_ns);
  bool Positive() const { return tokens_ > 0; }
  void Charge(double cost) { tokens_ -= cost; }
  double tokens() const { return tokens_; }
  // Milliseconds until the bucket is positive again at `rate` (at least 1).
  int64_t RetryAfterMs(double rate) const;

 private:
  double tokens_ = 0;
  int64_t last_ns_ = 0;
  bool started_ = false;
};

// All tenants' buckets and in-flight counts, sharded by internal id so that I/O threads
// rarely contend. State is created on a tenant's first request (a few dozen bytes) and dropped
// by Forget. Thread-safe.
class TenantLimiter {
 public:
  enum class Kind : uint8_t { kEvents = 0, kRequests = 1 };

  explicit TenantLimiter(const util::Clock* clock) : clock_(clock) {}

  // Admits if the bucket is positive, then charges `cost` (0 for events, charged after the
  // body is parsed). RateLimitedError carrying the retry time otherwise.
  absl::Status Admit(TenantIid iid, Kind kind, double rate, double cost);
  // Charges an admitted request's real cost (an events batch's event count).
  void Charge(TenantIid iid, Kind kind, double rate, double cost);

  // Counts one queued-or-running request; the returned handle gives it back when released.
  // Null when the tenant already holds `max_inflight`.
  std::shared_ptr<void> TryHold(TenantIid iid, int64_t max_inflight);
  int64_t InFlight(TenantIid iid) const;
  // Summed over all tenants; for the metrics scrape, not the request path.
  int64_t TotalInFlight() const;

  void Forget(TenantIid iid);
  size_t tenants() const;

 private:
  struct State {
    TokenBucket buckets[2];
    std::atomic<int64_t> inflight{0};
  };
  static constexpr size_t kShards = 32;
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<TenantIid, std::shared_ptr<State>> states ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(TenantIid iid) const { return shards_[iid % kShards]; }
  std::shared_ptr<State> StateOf(TenantIid iid);
  // The tenant's bucket of `kind`, refilled to now. Caller holds shard.mu.
  TokenBucket& RefilledBucket(Shard& shard, TenantIid iid, Kind kind, double rate)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const util::Clock* clock_;
  mutable Shard shards_[kShards];
};

}  // namespace recd::sched
