// Shares one pass over a model's matrix among the requests scoring it at the same moment
// (SPEC 7.6, issue 4): a request that finds no pass running becomes the leader and scores
// every query queued for this model version in one batched kernel call; requests that arrive
// meanwhile queue and wait for their result, and the first of them leads the next pass once
// this one ends. Nobody ever waits for more requests to arrive: a lone request is scored at
// once, alone. The batch kernels return exactly what the single-query kernel returns, so
// batching never changes an answer.
// Thread-safe. One per live model version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "model/compiled_model.h"
#include "model/kernels/matrix.h"

namespace recd::recommend {

class ScoringBatcher {
 public:
  // Top-k rows of `model` for `query` (stride floats) skipping `ex`, into `out` (room for k);
  // returns the count. `*batch_size` (optional) receives how many queries shared the pass.
  size_t TopK(const model::CompiledModel& model, const float* query, uint32_t k,
              kernels::Exclusions ex, kernels::ScoredRow* out, size_t* batch_size = nullptr);

  // Passes run and queries scored since start (metrics).
  uint64_t passes() const;
  uint64_t queries() const;

 private:
  struct Job {
    const float* query;
    uint32_t k;
    kernels::Exclusions ex;
    kernels::ScoredRow* out;
    size_t count = 0;
    size_t batch_size = 0;
    bool done = false;
  };
  static void Run(const model::CompiledModel& model, const std::vector<Job*>& jobs);

  mutable absl::Mutex mu_;
  std::vector<Job*> pending_ ABSL_GUARDED_BY(mu_);
  bool scoring_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t queries_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recd::recommend
