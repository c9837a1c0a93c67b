#include "recommend/recommender.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "recommend/user_vector.h"

namespace recd::recommend {
namespace {

// Per pool thread: reused across requests so the scoring path does not allocate once warm.
struct Scratch {
  UserVectorBuilder builder;
  std::vector<float> query;
  std::vector<uint32_t> excluded;
  std::vector<kernels::ScoredRow> top;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Scores every row of the live model against scratch.query, skipping scratch.excluded
// (sorted, unique on return), in a pass shared with concurrent requests, and renders the top k.
void ScoreTopK(const LiveModel& live, bool batch, uint32_t k, Scratch& s, Recommendation* out) {
  const model::CompiledModel& m = *live.model;
  std::sort(s.excluded.begin(), s.excluded.end());
  s.excluded.erase(std::unique(s.excluded.begin(), s.excluded.end()), s.excluded.end());
  if (s.top.size() < k) s.top.resize(k);
  const kernels::Exclusions ex{s.excluded.data(), s.excluded.size()};
  const PrefilterUse prefilter{live.prefilter(), live.prefilter_counts};
  size_t n = 0;
  if (batch) {
    n = live.batcher.TopK(m, prefilter, s.query.data(), k, ex, s.top.data());
  } else {
    n = ScoringBatcher::TopKAlone(m, prefilter, s.query.data(), k, ex, s.top.data());
  }
  out->items_scored = m.rows();
  out->items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out->items.push_back({std::string(m.ItemId(s.top[i].row)), s.top[i].score});
  }
}

void Popular(ingest::Collector* collector, TenantIid tid, uint32_t k, int64_t now_ms,
             absl::FunctionRef<bool(std::string_view item)> skip, Recommendation* out) {
  out->strategy = Strategy::kPopular;
  out->items = collector->popularity().Top(tid, k, now_ms, skip);
}

}  // namespace

std::string_view StrategyName(Strategy s) {
  switch (s) {
    case Strategy::kPersonalized: return "personalized";
    case Strategy::kSimilar: return "similar";
    case Strategy::kPopular: return "popular";
  }
  return "popular";
}

absl::StatusOr<Recommendation> Recommender::Recommend(const control::Tenant& tenant,
                                                      const RecommendQuery& q) {
  Recommendation out;
  std::shared_ptr<const LiveModel> live = store_->Get(tenant);
  const model::CompiledModel* m = live ? live->model.get() : nullptr;
  if (live) out.model_version = live->version;

  RECD_ASSIGN_OR_RETURN(std::vector<ingest::Event> events,
                        collector_->UserEvents(tenant.iid, q.user,
                                               m != nullptr ? m->history_len() : kDefaultWindow));
  Scratch& s = ThreadScratch();
  if (m != nullptr) {
    s.query.resize(m->stride());
    if (s.builder.Build(*m, events, q.context_items, q.now_ms, s.query.data())) {
      out.strategy = Strategy::kPersonalized;
      s.excluded.clear();
      for (const std::string& id : q.exclude) {
        if (auto row = m->FindRow(id)) s.excluded.push_back(*row);
      }
      if (q.exclude_seen) {
        // Every window and context item, weighed or not (SPEC 7.1).
        for (const auto& [row, w] : s.builder.weights()) s.excluded.push_back(row);
      }
      ScoreTopK(*live, batch_scoring_, q.k, s, &out);
      return out;
    }
  }
  absl::flat_hash_set<std::string_view> skip;
  for (const std::string& id : q.exclude) skip.insert(id);
  if (q.exclude_seen) {
    for (const ingest::Event& e : events) skip.insert(e.item);
    for (const std::string& id : q.context_items) skip.insert(id);
  }
  Popular(collector_, tenant.iid, q.k, q.now_ms,
          [&](std::string_view item) { return skip.contains(item); }, &out);
  return out;
}

absl::StatusOr<Recommendation> Recommender::Similar(const control::Tenant& tenant,
                                                    std::string_view item, uint32_t k,
                                                    int64_t now_ms) {
  Recommendation out;
  std::shared_ptr<const LiveModel> live = store_->Get(tenant);
  if (live) {
    out.model_version = live->version;
    const model::CompiledModel& m = *live->model;
    // An item whose row is all zeros (no vector) has no neighbours: like u = 0 (SPEC 7.1),
    // it falls back to popular.
    std::optional<uint32_t> row = m.FindRow(item);
    if (row && std::all_of(m.Row(*row), m.Row(*row) + m.dim(), [](float v) { return v == 0; })) {
      row.reset();
    }
    if (row) {
      Scratch& s = ThreadScratch();
      const float* y = m.Row(*row);
      s.query.assign(y, y + m.stride());
      s.excluded.assign(1, *row);
      out.strategy = Strategy::kSimilar;
      ScoreTopK(*live, batch_scoring_, k, s, &out);
      return out;
    }
  }
  Popular(collector_, tenant.iid, k, now_ms, [item](std::string_view i) { return i == item; },
          &out);
  return out;
}

}  // namespace recd::recommend
