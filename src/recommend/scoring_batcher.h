// Shares one pass over a model's matrix among the requests scoring it at the same moment
// (SPEC 7.6, issue 4). Up to `max_passes` passes run at once (one per core by default: fewer
// would leave cores idle while requests wait); a request that finds a free slot leads a pass
// over every query queued for this model version, in one batched kernel call; requests that
// arrive while all slots are busy queue, and the first slot to free takes them all. Nobody
// ever waits for more requests to arrive: a request meeting a free slot is scored at once.
// The batch kernels return exactly what the single-query kernel returns, so batching never
// changes an answer.
// Thread-safe. One per live model version.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "model/compiled_model.h"
#include "model/kernels/kernels.h"
#include "model/kernels/matrix.h"

namespace recd::recommend {

// Float32 queries scanned through an int8 prefilter, by how the answer was settled (metrics;
// one per ModelStore, shared by its live models).
struct PrefilterCounts {
  std::atomic<uint64_t> proved{0};     // the error bound proved the candidates' top-k
  std::atomic<uint64_t> full_scan{0};  // the float32 scan ran after the int8 one
};

// How a float32 model is scanned: through `index` when it is set, counting into `counts`.
struct PrefilterUse {
  const kernels::F32Prefilter* index = nullptr;
  PrefilterCounts* counts = nullptr;
};

class ScoringBatcher {
 public:
  // 0: the number of CPUs.
  explicit ScoringBatcher(int max_passes = 0);

  // Top-k rows of `model` for `query` (stride floats) skipping `ex`, into `out` (room for k);
  // returns the count. A float32 model with `prefilter.index` set is scanned through it:
  // same answer, a quarter of the bytes read.
  size_t TopK(const model::CompiledModel& model, PrefilterUse prefilter, const float* query,
              uint32_t k, kernels::Exclusions ex, kernels::ScoredRow* out);

  // The same without sharing: one kernel call for this query alone.
  static size_t TopKAlone(const model::CompiledModel& model, PrefilterUse prefilter,
                          const float* query, uint32_t k, kernels::Exclusions ex,
                          kernels::ScoredRow* out);

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
    bool taken = false;  // a leader holds it: only wait for done
    bool done = false;
  };
  static void Run(const model::CompiledModel& model, PrefilterUse prefilter,
                  const std::vector<Job*>& jobs);

  mutable absl::Mutex mu_;
  std::vector<Job*> pending_ ABSL_GUARDED_BY(mu_);
  const int max_passes_;
  int passes_running_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t queries_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recd::recommend
