// Quantisation of item rows (model compiler) and of queries (int8 kernels). Both are baseline
// code called once per row or query, so every ISA level sees bit-identical quantised values.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "model/kernels/internal.h"
#include "model/kernels/kernels.h"

namespace recd::kernels {

void QuantizeRowI8(const float* row, uint32_t dim, int8_t* out, float* scale) {
  float max_abs = 0.0f;
  for (uint32_t d = 0; d < dim; ++d) max_abs = std::fmax(max_abs, std::fabs(row[d]));
  if (max_abs == 0.0f) {
    std::memset(out, 0, dim);
    *scale = 0.0f;
    return;
  }
  const float s = max_abs / 127.0f;
  for (uint32_t d = 0; d < dim; ++d) {
    // Division (not multiplication by 127 / max) keeps the error within s / 2 of each value;
    // the clamp only catches the largest element rounding to 127.00001.
    long q = std::lrint(row[d] / s);
    if (q > 127) q = 127;
    if (q < -127) q = -127;
    out[d] = static_cast<int8_t>(q);
  }
  *scale = s;
}

namespace internal {

int64_t QueryI16Limit(uint32_t dim) {
  const int64_t limit = INT64_C(2147483647) / (INT64_C(128) * (dim == 0 ? 1 : dim));
  return limit > 32767 ? 32767 : limit;
}

float QuantizeQueryI16(const float* query, uint32_t dim, int16_t* out) {
  const uint32_t padded = (dim + 63) / 64 * 64;
  float max_abs = 0.0f;
  for (uint32_t d = 0; d < dim; ++d) max_abs = std::fmax(max_abs, std::fabs(query[d]));
  if (!(max_abs > 0.0f) || !std::isfinite(max_abs)) {
    std::memset(out, 0, padded * sizeof(int16_t));
    return 0.0f;
  }
  // |r| <= 128 for int8 rows, so |sum| <= 128 * dim * limit < 2^31: int32 accumulation can
  // never overflow, whatever order a kernel adds in, which makes all levels agree exactly.
  const int64_t limit = QueryI16Limit(dim);
  const float scale = max_abs / static_cast<float>(limit);
  const float inv = static_cast<float>(limit) / max_abs;
  for (uint32_t d = 0; d < dim; ++d) {
    long q = std::lrint(query[d] * inv);
    if (q > limit) q = limit;
    if (q < -limit) q = -limit;
    out[d] = static_cast<int16_t>(q);
  }
  for (uint32_t d = dim; d < padded; ++d) out[d] = 0;
  return scale;
}

}  // namespace internal
}  // namespace recd::kernels
