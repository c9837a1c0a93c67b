// An in-memory int8 copy of a float32 model's matrix, for kernels::TopKDotF32Prefiltered:
// the scan reads a quarter of the bytes and still returns the exact float32 answer. Built
// when a model goes live (not stored in the compiled file, so files and their format are
// unchanged); it costs rows x (RoundUp(dim, 64) + 4) bytes of heap.
// Thread-safety: immutable after Build(); any thread may read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "model/aligned_buffer.h"
#include "model/compiled_model.h"
#include "model/kernels/kernels.h"

namespace recd::model {

class F32Prefilter {
 public:
  // Reads every row of `m` (so call it where pre-faulting the model is acceptable). Null for
  // int8 models (they score their own copy) and when the allocation fails.
  static std::unique_ptr<const F32Prefilter> Build(const CompiledModel& m);

  const kernels::F32Prefilter& view() const { return view_; }
  size_t bytes() const { return rows_.size() + scales_.size() * sizeof(float); }

 private:
  F32Prefilter() = default;

  AlignedBuffer<int8_t> rows_;
  AlignedBuffer<float> scales_;
  kernels::F32Prefilter view_{};  // over rows_ and scales_
};

}  // namespace recd::model
