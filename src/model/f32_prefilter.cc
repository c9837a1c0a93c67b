#include "model/f32_prefilter.h"

namespace recd::model {

std::unique_ptr<const F32Prefilter> F32Prefilter::Build(const CompiledModel& m) {
  if (m.precision() != Precision::kFloat32 || m.rows() == 0) return nullptr;
  std::unique_ptr<F32Prefilter> p(new F32Prefilter());
  const uint32_t stride = (m.dim() + 63) / 64 * 64;
  p->rows_ = AlignedBuffer<int8_t>::Allocate(size_t{stride} * m.rows());
  p->scales_ = AlignedBuffer<float>::Allocate(m.rows());
  if (p->rows_.data() == nullptr || p->scales_.data() == nullptr) return nullptr;
  for (uint32_t r = 0; r < m.rows(); ++r) {
    kernels::QuantizeRowI8(m.Row(r), m.dim(), p->rows_.data() + size_t{r} * stride,
                           &p->scales_.data()[r]);
  }
  p->view_ = kernels::PrefilterOf(
      kernels::MatrixI8{p->rows_.data(), p->scales_.data(), m.rows(), m.dim(), stride});
  return p;
}

}  // namespace recd::model
