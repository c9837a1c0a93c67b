// Portable kernels: the fallback for CPUs without AVX2 and the level every SIMD level is
// tested against. Built for baseline x86-64 like the rest of the project.

#include <cstdint>

#include "model/kernels/internal.h"

namespace recd::kernels::internal {
namespace {

// Eight partial sums give the compiler independent chains (and SSE2 vectorisation) while the
// combination order stays fixed, so a dot is the same wherever it is computed at this level.
float DotScalar(const float* a, const float* b, uint32_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  }
  for (int l = 0; i < n; ++i, ++l) acc[l] += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Exact: QuantizeQueryI16 bounds the sum below 2^31.
int32_t DotI8(const int8_t* row, const int16_t* q16, uint32_t dim) {
  int32_t acc = 0;
  for (uint32_t d = 0; d < dim; ++d) acc += static_cast<int32_t>(row[d]) * q16[d];
  return acc;
}

// The same float steps as the SIMD levels (convert, times query scale, times row scale), so
// int8 scores agree bit for bit across levels.
inline float ScoreI8(int32_t acc, float qscale, float row_scale) {
  return (static_cast<float>(acc) * qscale) * row_scale;
}

inline void Offer(TopKState* st, float score, uint32_t row) {
  if (st->full && !(score > st->threshold)) return;
  TopKOffer(st, score, row);
}

size_t TopKF32(const MatrixF32& m, const float* query, uint32_t k, Exclusions ex, ScoredRow* out) {
  TopKState st;
  TopKInit(&st, out, k, ex);
  for (uint32_t r = 0; r < m.rows; ++r) {
    Offer(&st, DotScalar(query, m.data + static_cast<size_t>(r) * m.stride, m.dim), r);
  }
  return TopKFinish(&st);
}

size_t TopKI8(const MatrixI8& m, const float* query, uint32_t k, Exclusions ex, ScoredRow* out) {
  int16_t q16[kMaxDim];
  const float qscale = QuantizeQueryI16(query, m.dim, q16);
  TopKState st;
  TopKInit(&st, out, k, ex);
  for (uint32_t r = 0; r < m.rows; ++r) {
    const int32_t acc = DotI8(m.data + static_cast<size_t>(r) * m.stride, q16, m.dim);
    Offer(&st, ScoreI8(acc, qscale, m.scales[r]), r);
  }
  return TopKFinish(&st);
}

void TopKF32Batch(const MatrixF32& m, const float* const* queries, size_t nq, const uint32_t* ks,
                  const Exclusions* ex, ScoredRow* const* outs, size_t* counts) {
  TopKState st[kMaxBatchPass];
  for (size_t q = 0; q < nq; ++q) TopKInit(&st[q], outs[q], ks[q], ex[q]);
  const uint32_t block = BatchBlockRows(m.stride * sizeof(float), 1);
  for (uint32_t r0 = 0; r0 < m.rows; r0 += block) {
    const uint32_t r1 = m.rows - r0 < block ? m.rows : r0 + block;
    for (size_t q = 0; q < nq; ++q) {
      for (uint32_t r = r0; r < r1; ++r) {
        Offer(&st[q], DotScalar(queries[q], m.data + static_cast<size_t>(r) * m.stride, m.dim), r);
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

void TopKI8Batch(const MatrixI8& m, const float* const* queries, size_t nq, const uint32_t* ks,
                 const Exclusions* ex, ScoredRow* const* outs, size_t* counts) {
  const uint32_t padded = (m.dim + 63) / 64 * 64;
  int16_t q16[kMaxDim];
  float qscale[kMaxBatchPass];
  TopKState st[kMaxBatchPass];
  for (size_t q = 0; q < nq; ++q) {
    qscale[q] = QuantizeQueryI16(queries[q], m.dim, q16 + q * padded);
    TopKInit(&st[q], outs[q], ks[q], ex[q]);
  }
  const uint32_t block = BatchBlockRows(m.stride, 1);
  for (uint32_t r0 = 0; r0 < m.rows; r0 += block) {
    const uint32_t r1 = m.rows - r0 < block ? m.rows : r0 + block;
    for (size_t q = 0; q < nq; ++q) {
      for (uint32_t r = r0; r < r1; ++r) {
        const int32_t acc =
            DotI8(m.data + static_cast<size_t>(r) * m.stride, q16 + q * padded, m.dim);
        Offer(&st[q], ScoreI8(acc, qscale[q], m.scales[r]), r);
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

}  // namespace

const KernelTable kScalarTable = {
    &TopKF32, &TopKI8, &TopKF32Batch, &TopKI8Batch, &DotScalar,
};

}  // namespace recd::kernels::internal
