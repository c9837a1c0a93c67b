// The scorer (SPEC 3, 7.1, 7.3): a tenant's top-k items for a user now, or the items nearest
// to an item, from the tenant's live model, with the popularity ranking as the fallback.
// Thread-safe: pool threads call it concurrently; each thread keeps its own scratch, so a
// steady-state request allocates only its answer and the user's window.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/tenant.h"
#include "ingest/collector.h"
#include "recommend/model_store.h"

namespace recd::recommend {

enum class Strategy : uint8_t { kPersonalized, kSimilar, kPopular };
std::string_view StrategyName(Strategy s);

struct RecommendQuery {
  std::string_view user;
  uint32_t k = 10;
  std::span<const std::string> exclude;        // unknown ids are ignored
  bool exclude_seen = true;
  std::span<const std::string> context_items;  // count as the newest events, weight 1
  int64_t now_ms = 0;                          // when the request was admitted
};

struct Recommendation {
  Strategy strategy = Strategy::kPopular;
  std::string model_version;  // empty: the tenant has no live model
  std::vector<ingest::ScoredItem> items;
  uint64_t items_scored = 0;  // catalogue rows scored (billing)
};

// History window used for `exclude_seen` when the tenant has no model (SPEC's default).
inline constexpr uint32_t kDefaultWindow = 50;

class Recommender {
 public:
  // `batch_scoring`: concurrent requests for one model version share a pass (ScoringBatcher).
  Recommender(ModelStore* store, ingest::Collector* collector, bool batch_scoring = true)
      : store_(store), collector_(collector), batch_scoring_(batch_scoring) {}

  absl::StatusOr<Recommendation> Recommend(const control::Tenant& tenant,
                                           const RecommendQuery& query);
  // u = the item's row, the item itself skipped; `popular` (minus the item) when the tenant
  // has no model or the model does not know the item.
  absl::StatusOr<Recommendation> Similar(const control::Tenant& tenant, std::string_view item,
                                         uint32_t k, int64_t now_ms);

 private:
  ModelStore* const store_;
  ingest::Collector* const collector_;
  const bool batch_scoring_;
};

}  // namespace recd::recommend
