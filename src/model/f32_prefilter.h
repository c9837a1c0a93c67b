// The prefilter of a float32 model's exact scan (kernels::TopKDotF32Prefiltered): the int8
// copy that the compiled file carries for float32 models of at least
// ImportOptions::prefilter_min_rows rows. The scan reads a quarter of the bytes and still
// returns the float32 answer. Nothing is copied: the int8 rows are part of the mapping, paged
// in, pre-faulted or locked with it under the tenant's memory policy, so every tier gets it.
// Thread-safety: pure.
#pragma once

#include <optional>

#include "model/compiled_model.h"
#include "model/kernels/kernels.h"

namespace recd::model {

// The view over `m`'s int8 copy; nullopt for int8 models (they score their copy) and for
// float32 files without one. Reads the rows' scales once (rows x 4 bytes) for their range.
std::optional<kernels::F32Prefilter> PrefilterOf(const CompiledModel& m);

}  // namespace recd::model
