#include "model/f32_prefilter.h"

#include <algorithm>

namespace recd::model {

std::unique_ptr<const F32Prefilter> F32Prefilter::Build(const CompiledModel& m) {
  if (m.precision() != Precision::kFloat32 || m.rows() == 0) return nullptr;
  std::unique_ptr<F32Prefilter> p(new F32Prefilter());
  p->row_count_ = m.rows();
  p->dim_ = m.dim();
  p->stride_ = (m.dim() + 63) / 64 * 64;
  p->rows_ = AlignedBuffer<int8_t>::Allocate(size_t{p->stride_} * m.rows());
  p->scales_ = AlignedBuffer<float>::Allocate(m.rows());
  if (p->rows_.data() == nullptr || p->scales_.data() == nullptr) return nullptr;
  for (uint32_t r = 0; r < m.rows(); ++r) {
    kernels::QuantizeRowI8(m.Row(r), m.dim(), p->rows_.data() + size_t{r} * p->stride_,
                           &p->scales_.data()[r]);
    const float scale = p->scales_.data()[r];
    p->max_scale_ = std::max(p->max_scale_, scale);
    if (scale > 0.0f && (p->min_scale_ == 0.0f || scale < p->min_scale_)) p->min_scale_ = scale;
  }
  return p;
}

}  // namespace recd::model
