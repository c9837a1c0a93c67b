// The user vector of SPEC 3 / 7.1 from the user's window of events and the request's context
// items: per distinct item an event-weighted, recency-decayed weight, then either a weighted
// mean of item rows (`item_embeddings`) or the implicit-ALS fold-in (`ials`), in float64.
// Not thread-safe per object: each pool thread keeps its own (the scratch makes steady-state
// requests allocation-free).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "Eigen/Dense"
#include "ingest/event.h"
#include "model/compiled_model.h"

namespace recd::recommend {

class UserVectorBuilder {
 public:
  // Writes the vector into `out` (model.stride() floats, zero beyond dim) and returns true,
  // or returns false when the user has no usable history (no weighted item in the model, or
  // u = 0). `window` is the user's newest history_len events; each context item counts as an
  // event of weight 1 at age 0. `now_ms` is when the request was admitted.
  bool Build(const model::CompiledModel& model, std::span<const ingest::Event> window,
             std::span<const std::string> context_items, int64_t now_ms, float* out);

  // The distinct model rows the last Build() weighed (before dropping zero weights), sorted;
  // what `exclude_seen` removes from the results.
  const std::vector<std::pair<uint32_t, double>>& weights() const { return weights_; }

 private:
  bool Mean(const model::CompiledModel& model, float* out);
  bool FoldIn(const model::CompiledModel& model, float* out);

  std::vector<std::pair<uint32_t, double>> weights_;  // (row, w_i), merged by row
  Eigen::MatrixXd a_;
  Eigen::VectorXd b_;
  Eigen::VectorXd u_;
  Eigen::LDLT<Eigen::MatrixXd> ldlt_;
};

}  // namespace recd::recommend
