#include "model/f32_prefilter.h"

#include <cmath>

#include "util/strings.h"

namespace recd::model {

bool HasPrefilterCopy(const CompiledModel& m) {
  return m.precision() == Precision::kFloat32 && m.matrix_i8() != nullptr;
}

absl::StatusOr<kernels::F32Prefilter> PrefilterOf(const CompiledModel& m) {
  if (!HasPrefilterCopy(m)) {
    return absl::FailedPreconditionError(
        util::StrCat("model file ", m.path(), " has no int8 copy of a float32 matrix"));
  }
  for (format::SectionType type :
       {format::SectionType::kScalesI8, format::SectionType::kMatrixI8}) {
    if (absl::Status s = m.VerifySectionChecksum(type); !s.ok()) return s;
  }
  // A scale the compiler cannot write (QuantizeRowI8 of finite rows) would void the bound.
  const float* scales = m.scales_i8();
  for (uint32_t r = 0; r < m.rows(); ++r) {
    if (!std::isfinite(scales[r]) || scales[r] < 0.0f) {
      return absl::DataLossError(util::StrCat("model file ", m.path(), ": row ", r,
                                              " of the int8 copy has scale ", scales[r]));
    }
  }
  return kernels::PrefilterOf(
      kernels::MatrixI8{m.matrix_i8(), m.scales_i8(), m.rows(), m.dim(), m.i8_stride()});
}

}  // namespace recd::model
