// The prefilter of a float32 model's exact scan (kernels::TopKDotF32Prefiltered): the int8
// copy that the compiled file carries for float32 models of at least
// ImportOptions::prefilter_min_rows rows. Nothing is copied: the int8 rows are part of the
// mapping, paged in, pre-faulted or locked with it under the tenant's memory policy, so every
// tier gets it.
// Thread-safety: pure.
#pragma once

#include "absl/status/statusor.h"
#include "model/compiled_model.h"
#include "model/kernels/kernels.h"

namespace recd::model {

// Whether `m` is a float32 model whose file carries an int8 copy (int8 models score theirs).
bool HasPrefilterCopy(const CompiledModel& m);

// The view over `m`'s int8 copy. The scan's answer is exact only if the copy is the
// quantisation of the float32 rows, and map time does not read catalogue-sized data, so this
// verifies the copy's checksums (the int8 bytes once, ~1 ms per 100k x 64 with SSE4.2) and
// that every scale is finite and non-negative.
// Errors: FailedPrecondition without a copy; DataLoss for a damaged one.
absl::StatusOr<kernels::F32Prefilter> PrefilterOf(const CompiledModel& m);

}  // namespace recd::model
