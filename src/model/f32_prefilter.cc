#include "model/f32_prefilter.h"

namespace recd::model {

std::optional<kernels::F32Prefilter> PrefilterOf(const CompiledModel& m) {
  if (m.precision() != Precision::kFloat32 || m.matrix_i8() == nullptr) return std::nullopt;
  return kernels::PrefilterOf(
      kernels::MatrixI8{m.matrix_i8(), m.scales_i8(), m.rows(), m.dim(), m.i8_stride()});
}

}  // namespace recd::model
