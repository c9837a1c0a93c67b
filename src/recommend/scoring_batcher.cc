#include "recommend/scoring_batcher.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "model/kernels/kernels.h"

namespace recd::recommend {
namespace {

// The batch kernels take up to this many queries per call; more are split into passes.
constexpr size_t kMaxBatch = 32;

// Only queries whose int8 scan ran count.
void Count(PrefilterUse use, kernels::PrefilterOutcome outcome) {
  if (use.counts == nullptr || outcome == kernels::PrefilterOutcome::kSkipped) return;
  (outcome == kernels::PrefilterOutcome::kProved ? use.counts->proved : use.counts->full_scan)
      .fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

ScoringBatcher::ScoringBatcher(int max_passes)
    : max_passes_(max_passes > 0
                      ? max_passes
                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))) {}

size_t ScoringBatcher::TopKAlone(const model::CompiledModel& m, PrefilterUse prefilter,
                                 const float* query, uint32_t k, kernels::Exclusions ex,
                                 kernels::ScoredRow* out) {
  const kernels::SimdLevel level = kernels::DetectedSimdLevel();
  if (m.precision() == model::Precision::kInt8 && m.matrix_i8() != nullptr) {
    const kernels::MatrixI8 i8{m.matrix_i8(), m.scales_i8(), m.rows(), m.dim(), m.i8_stride()};
    return kernels::TopKDotI8(level, i8, query, k, ex, out);
  }
  const kernels::MatrixF32 f32{m.matrix(), m.rows(), m.dim(), m.stride()};
  if (prefilter.index != nullptr) {
    // Per thread, reused: grows to the largest k seen, then never allocates again.
    thread_local std::vector<kernels::ScoredRow> scratch;
    const size_t need = kernels::PrefilterCandidates(k);
    if (scratch.size() < need) scratch.resize(need);
    kernels::PrefilterOutcome outcome;
    const size_t n = kernels::TopKDotF32Prefiltered(level, f32, *prefilter.index, query, k,
                                                    ex, out, scratch.data(), &outcome);
    Count(prefilter, outcome);
    return n;
  }
  return kernels::TopKDotF32(level, f32, query, k, ex, out);
}

void ScoringBatcher::Run(const model::CompiledModel& m, PrefilterUse prefilter,
                         const std::vector<Job*>& jobs) {
  if (jobs.size() == 1) {
    Job& j = *jobs[0];
    j.count = TopKAlone(m, prefilter, j.query, j.k, j.ex, j.out);
    return;
  }
  const kernels::SimdLevel level = kernels::DetectedSimdLevel();
  const bool int8 = m.precision() == model::Precision::kInt8 && m.matrix_i8() != nullptr;
  const kernels::MatrixF32 f32{m.matrix(), m.rows(), m.dim(), m.stride()};
  const kernels::MatrixI8 i8{m.matrix_i8(), m.scales_i8(), m.rows(), m.dim(), m.i8_stride()};
  // Per leader thread, reused: the pass allocates nothing once warm.
  thread_local std::vector<const float*> queries;
  thread_local std::vector<uint32_t> ks;
  thread_local std::vector<kernels::Exclusions> exs;
  thread_local std::vector<kernels::ScoredRow*> outs;
  thread_local std::vector<size_t> counts;
  thread_local std::vector<kernels::ScoredRow> scratch;
  thread_local std::vector<kernels::ScoredRow*> scratches;
  kernels::PrefilterOutcome outcomes[kMaxBatch];
  for (size_t first = 0; first < jobs.size(); first += kMaxBatch) {
    const size_t n = std::min(kMaxBatch, jobs.size() - first);
    queries.resize(n);
    ks.resize(n);
    exs.resize(n);
    outs.resize(n);
    counts.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const Job& j = *jobs[first + i];
      queries[i] = j.query;
      ks[i] = j.k;
      exs[i] = j.ex;
      outs[i] = j.out;
    }
    if (int8) {
      kernels::TopKDotI8Batch(level, i8, queries.data(), n, ks.data(), exs.data(), outs.data(),
                              counts.data());
    } else if (prefilter.index != nullptr) {
      // One scratch area, each query's candidates at its own offset (pointers set once it
      // has its final size).
      size_t candidates = 0;
      for (size_t i = 0; i < n; ++i) candidates += kernels::PrefilterCandidates(ks[i]);
      if (scratch.size() < candidates) scratch.resize(candidates);
      scratches.resize(n);
      for (size_t i = 0, at = 0; i < n; at += kernels::PrefilterCandidates(ks[i]), ++i) {
        scratches[i] = scratch.data() + at;
      }
      kernels::TopKDotF32PrefilteredBatch(level, f32, *prefilter.index, queries.data(), n,
                                          ks.data(), exs.data(), outs.data(), counts.data(),
                                          scratches.data(), outcomes);
      for (size_t i = 0; i < n; ++i) Count(prefilter, outcomes[i]);
    } else {
      kernels::TopKDotF32Batch(level, f32, queries.data(), n, ks.data(), exs.data(), outs.data(),
                               counts.data());
    }
    for (size_t i = 0; i < n; ++i) jobs[first + i]->count = counts[i];
  }
}

size_t ScoringBatcher::TopK(const model::CompiledModel& model, PrefilterUse prefilter,
                            const float* query, uint32_t k, kernels::Exclusions ex,
                            kernels::ScoredRow* out) {
  Job job{query, k, ex, out};
  thread_local std::vector<Job*> batch;
  absl::MutexLock lock(&mu_);
  pending_.push_back(&job);
  struct Wait {
    ScoringBatcher* self;
    Job* job;
  } wait{this, &job};
  // Done by a leader, or still pending with a pass slot free: then this thread leads a pass
  // over everything pending, its own job included. A job another leader has taken is only
  // waited for (that leader writes into its buffers).
  mu_.Await(absl::Condition(
      +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return w->job->done ||
               (!w->job->taken && w->self->passes_running_ < w->self->max_passes_);
      },
      &wait));
  if (!job.done) {
    ++passes_running_;
    batch.swap(pending_);
    pending_.clear();
    for (Job* j : batch) j->taken = true;
    mu_.Unlock();
    Run(model, prefilter, batch);
    mu_.Lock();
    for (Job* j : batch) j->done = true;
    ++passes_;
    queries_ += batch.size();
    batch.clear();
    --passes_running_;
  }
  return job.count;
}

uint64_t ScoringBatcher::passes() const {
  absl::MutexLock lock(&mu_);
  return passes_;
}

uint64_t ScoringBatcher::queries() const {
  absl::MutexLock lock(&mu_);
  return queries_;
}

}  // namespace recd::recommend
