#include "recommend/user_vector.h"

#include <algorithm>
#include <cmath>

namespace recd::recommend {

bool UserVectorBuilder::Build(const model::CompiledModel& model,
                              std::span<const ingest::Event> window,
                              std::span<const std::string> context_items, int64_t now_ms,
                              float* out) {
  std::fill(out, out + model.stride(), 0.0f);
  weights_.clear();
  const double half_life_ms = model.half_life_s() * 1000.0;
  for (const ingest::Event& e : window) {
    auto row = model.FindRow(e.item);
    if (!row) continue;  // items absent from the model are ignored (SPEC 7.1)
    double w = model.EventWeight(e.type);
    if (half_life_ms > 0) {
      const double age_ms = static_cast<double>(std::max<int64_t>(0, now_ms - e.ts));
      w *= std::exp2(-age_ms / half_life_ms);
    }
    weights_.emplace_back(*row, w);
  }
  for (const std::string& item : context_items) {
    if (auto row = model.FindRow(item)) weights_.emplace_back(*row, 1.0);
  }
  // Merge repeats of an item: sort by row, then sum in place. The sort is stable so the sum
  // runs in window order and the result does not depend on the sort's internals.
  std::stable_sort(weights_.begin(), weights_.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  size_t n = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (n > 0 && weights_[n - 1].first == weights_[i].first) {
      weights_[n - 1].second += weights_[i].second;
    } else {
      weights_[n++] = weights_[i];
    }
  }
  weights_.resize(n);
  bool any = false;
  for (const auto& [row, w] : weights_) any = any || w > 0;
  if (!any) return false;
  return model.kind() == model::ModelKind::kIals ? FoldIn(model, out) : Mean(model, out);
}

bool UserVectorBuilder::Mean(const model::CompiledModel& model, float* out) {
  const uint32_t dim = model.dim();
  u_.setZero(dim);
  double total = 0;
  for (const auto& [row, w] : weights_) {
    if (w <= 0) continue;
    const float* y = model.Row(row);
    for (uint32_t d = 0; d < dim; ++d) u_[d] += w * y[d];
    total += w;
  }
  u_ /= total;
  double norm = u_.norm();
  if (!(norm > 0) || !std::isfinite(norm)) return false;
  if (model.metric() == model::Metric::kCosine) u_ /= norm;
  for (uint32_t d = 0; d < dim; ++d) out[d] = static_cast<float>(u_[d]);
  return true;
}

// (Y^T Y + lambda I + sum_i (c_i - 1) y_i y_i^T) u = sum_i c_i y_i with c_i = alpha * w_i: the
// fold-in of the `implicit` library, so a model trained there serves identically. The stored
// Gram matrix already holds Y^T Y + lambda I. Direct LDL^T solve: for dim <= 512 and a window
// of <= 1,100 items it is well under a millisecond at the dims models use (64-256).
bool UserVectorBuilder::FoldIn(const model::CompiledModel& model, float* out) {
  const uint32_t dim = model.dim();
  a_ = Eigen::Map<const Eigen::MatrixXd>(model.gram(), dim, dim);
  b_.setZero(dim);
  const double alpha = model.alpha();
  Eigen::VectorXd& y = u_;  // reused as the row in float64
  y.resize(dim);
  for (const auto& [row, w] : weights_) {
    if (w <= 0) continue;
    const float* r = model.Row(row);
    for (uint32_t d = 0; d < dim; ++d) y[d] = r[d];
    const double c = alpha * w;
    b_.noalias() += c * y;
    a_.selfadjointView<Eigen::Lower>().rankUpdate(y, c - 1.0);
  }
  ldlt_.compute(a_);  // reads the lower triangle, which rankUpdate kept current
  if (ldlt_.info() != Eigen::Success) return false;
  u_ = ldlt_.solve(b_);
  const double norm = u_.norm();
  if (!(norm > 0) || !std::isfinite(norm)) return false;
  for (uint32_t d = 0; d < dim; ++d) out[d] = static_cast<float>(u_[d]);
  return true;
}

}  // namespace recd::recommend
