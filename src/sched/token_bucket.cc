#include "sched/token_bucket.h"

#include <algorithm>
#include <cmath>

#include "util/strings.h"

namespace recd::sched {

void TokenBucket::Refill(double rate, int64_t now_ns) {
  const double capacity = rate;  // one second's worth (SPEC 7.6)
  if (!started_) {
    started_ = true;
    tokens_ = capacity;
    last_ns_ = now_ns;
    return;
  }
  if (now_ns > last_ns_) {
    tokens_ += static_cast<double>(now_ns - last_ns_) * 1e-9 * rate;
    last_ns_ = now_ns;
  }
  tokens_ = std::min(tokens_, capacity);
}

int64_t TokenBucket::RetryAfterMs(double rate) const {
  if (tokens_ > 0 || !(rate > 0)) return 1;
  // The bucket must climb strictly above zero: floor + 1 ms gets there.
  return static_cast<int64_t>(std::floor(-tokens_ * 1000.0 / rate)) + 1;
}

std::shared_ptr<TenantLimiter::State> TenantLimiter::StateOf(TenantIid iid) {
  Shard& shard = ShardOf(iid);
  absl::MutexLock lock(&shard.mu);
  auto& slot = shard.states[iid];
  if (!slot) slot = std::make_shared<State>();
  return slot;
}

TokenBucket& TenantLimiter::RefilledBucket(Shard& shard, TenantIid iid, Kind kind, double rate) {
  auto& slot = shard.states[iid];
  if (!slot) slot = std::make_shared<State>();
  TokenBucket& b = slot->buckets[static_cast<int>(kind)];
  b.Refill(rate, clock_->MonotonicNs());
  return b;
}

absl::Status TenantLimiter::Admit(TenantIid iid, Kind kind, double rate, double cost) {
  Shard& shard = ShardOf(iid);
  absl::MutexLock lock(&shard.mu);
  TokenBucket& b = RefilledBucket(shard, iid, kind, rate);
  if (!b.Positive()) {
    return RateLimitedError(
        util::StrCat(kind == Kind::kEvents ? "events_per_s" : "recommendations_per_s", " of ",
                     rate, " exceeded"),
        b.RetryAfterMs(rate));
  }
  b.Charge(cost);
  return absl::OkStatus();
}

void TenantLimiter::Charge(TenantIid iid, Kind kind, double rate, double cost) {
  Shard& shard = ShardOf(iid);
  absl::MutexLock lock(&shard.mu);
  RefilledBucket(shard, iid, kind, rate).Charge(cost);
}

std::shared_ptr<void> TenantLimiter::TryHold(TenantIid iid, int64_t max_inflight) {
  std::shared_ptr<State> state = StateOf(iid);
  int64_t prev = state->inflight.fetch_add(1);
  if (prev >= max_inflight) {
    state->inflight.fetch_sub(1);
    return nullptr;
  }
  // The handle keeps the state alive, so a Forget in between cannot make the release dangle.
  State* raw = state.get();
  return std::shared_ptr<void>(raw, [state = std::move(state)](void*) { state->inflight.fetch_sub(1); });
}

int64_t TenantLimiter::InFlight(TenantIid iid) const {
  Shard& shard = ShardOf(iid);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.states.find(iid);
  return it == shard.states.end() ? 0 : it->second->inflight.load();
}

void TenantLimiter::Forget(TenantIid iid) {
  Shard& shard = ShardOf(iid);
  absl::MutexLock lock(&shard.mu);
  shard.states.erase(iid);
}

int64_t TenantLimiter::TotalInFlight() const {
  int64_t n = 0;
  for (const Shard& s : shards_) {
    absl::MutexLock lock(&s.mu);
    for (const auto& [iid, state] : s.states) n += state->inflight.load();
  }
  return n;
}

size_t TenantLimiter::tenants() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    absl::MutexLock lock(&s.mu);
    n += s.states.size();
  }
  return n;
}

}  // namespace recd::sched
