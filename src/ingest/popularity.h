// Per-tenant item popularity (SPEC 7.8): sum of event_weight(type) * 0.5^(age/half_life) over
// the tenant's events, kept with forward decay: each event adds w * 2^((ts - L)/h) against a
// landmark L, so nothing is ever rescanned; a score at time t is that sum * 2^((L - t)/h).
// Ranking does not depend on t, so the sorted view is rebuilt at most once a second.
// Thread-safe; each tenant has its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "recd/status.h"
#include "recd/types.h"

namespace recd::ingest {

struct PopularityWeights {
  std::map<std::string, double, std::less<>> by_type;
  double default_weight = 1;
  double half_life_s = 86400;  // 0: no decay
  double Weight(std::string_view type) const;
};

struct ScoredItem {
  std::string item;
  double score;
};

class Popularity {
 public:
  explicit Popularity(PopularityWeights weights) : weights_(std::move(weights)) {}

  // `sign` -1 takes an event back out (erasure, expiry).
  void Add(TenantIid tid, std::string_view item, std::string_view type, int64_t ts_ms,
           double sign = 1);
  // The best `k` items not rejected by `skip`, scores decayed to `now_ms`, highest first
  // (ties by item id). At most a second stale.
  std::vector<ScoredItem> Top(TenantIid tid, size_t k, int64_t now_ms,
                              absl::FunctionRef<bool(std::string_view item)> skip);
  void DropTenant(TenantIid tid);

  // Checkpoint form of one tenant's state; Restore replaces it.
  std::string Serialize(TenantIid tid);
  absl::Status Restore(TenantIid tid, std::string_view data);
  std::vector<TenantIid> Tenants();

 private:
  struct Table {
    absl::Mutex mu;
    int64_t landmark_ms ABSL_GUARDED_BY(mu) = 0;
    // Per item, the decayed sum and how many events it holds: an item whose last event is
    // taken back out (erasure, expiry) goes, whatever rounding left in the sum.
    struct Entry {
      double sum = 0;
      int64_t events = 0;
    };
    absl::flat_hash_map<std::string, Entry> scores ABSL_GUARDED_BY(mu);
    std::shared_ptr<const std::vector<std::pair<std::string, double>>> sorted ABSL_GUARDED_BY(mu);
    int64_t sorted_at_ms ABSL_GUARDED_BY(mu) = 0;
    bool dirty ABSL_GUARDED_BY(mu) = true;
  };
  // Shared: a caller keeps its table alive while DropTenant (offboarding) removes it.
  std::shared_ptr<Table> GetTable(TenantIid tid, bool create);
  double Exponent(int64_t delta_ms) const;

  const PopularityWeights weights_;
  absl::Mutex mu_;
  absl::flat_hash_map<TenantIid, std::shared_ptr<Table>> tables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recd::ingest
