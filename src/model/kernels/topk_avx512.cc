// AVX-512 (F, BW, DQ, VL) kernels. The only file built with -mavx512*; it is reached through
// kAvx512Table after cpuid confirmed support, and it holds no std templates or inline
// functions with external linkage (STYLE 9), so no AVX-512 code can leak to other callers.
//
// Every float dot product is computed the same way wherever it happens (single query, batch
// tile, DotF32): lane-wise FMA over 16-float chunks in order, then the fixed tree in Reduce16.
// That is what makes float batch results bit-identical to single-query results at this level.
// int8 dots are exact integer sums, so the int8 batch kernel is free to use a different
// layout (avx512_shared.inc) and still agrees bit for bit with every other int8 path.

// GCC 12's AVX-512 headers trip -Wuninitialized on their own `__Y = __Y` placeholders
// (GCC bug 105593, fixed in 13); the pragma must precede the include to cover them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

#include "model/kernels/internal.h"

namespace recd::kernels::internal {
namespace {

#include "model/kernels/avx512_shared.inc"  // NOLINT(build/include): see the file's comment

// Horizontal sums of 16 vectors at once: lane i of the result is the sum of a[i]'s lanes,
// always added as ((e0+e2)+(e1+e3)) within each 128-bit lane, then (L0+L2)+(L1+L3).
inline __m512 Reduce16(const __m512* a) {
  __m512 z[8];
#pragma GCC unroll 16
  for (int j = 0; j < 8; ++j) {
    z[j] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * j], a[2 * j + 1]),
                         _mm512_unpackhi_ps(a[2 * j], a[2 * j + 1]));
  }
  __m512 w[4];
#pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {
    w[j] = _mm512_add_ps(_mm512_shuffle_ps(z[2 * j], z[2 * j + 1], 0x44),
                         _mm512_shuffle_ps(z[2 * j], z[2 * j + 1], 0xEE));
  }
  const __m512 c0 =
      _mm512_add_ps(_mm512_shuffle_f32x4(w[0], w[1], 0x44), _mm512_shuffle_f32x4(w[0], w[1], 0xEE));
  const __m512 c1 =
      _mm512_add_ps(_mm512_shuffle_f32x4(w[2], w[3], 0x44), _mm512_shuffle_f32x4(w[2], w[3], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(c0, c1, 0x88), _mm512_shuffle_f32x4(c0, c1, 0xDD));
}

// The same tree for one vector (lane 0 of Reduce16 with a[0] = v).
inline float Hsum(__m512 v) {
  const __m512 z = _mm512_add_ps(_mm512_unpacklo_ps(v, v), _mm512_unpackhi_ps(v, v));
  const __m512 w = _mm512_add_ps(_mm512_shuffle_ps(z, z, 0x44), _mm512_shuffle_ps(z, z, 0xEE));
  const __m512 c =
      _mm512_add_ps(_mm512_shuffle_f32x4(w, w, 0x44), _mm512_shuffle_f32x4(w, w, 0xEE));
  return _mm512_cvtss_f32(
      _mm512_add_ps(_mm512_shuffle_f32x4(c, c, 0x88), _mm512_shuffle_f32x4(c, c, 0xDD)));
}

// Integer sums are exact, so any tree would do; this one mirrors Reduce16.
inline __m512i Reduce16I(const __m512i* a) {
  __m512i z[8];
#pragma GCC unroll 16
  for (int j = 0; j < 8; ++j) {
    z[j] = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2 * j], a[2 * j + 1]),
                            _mm512_unpackhi_epi32(a[2 * j], a[2 * j + 1]));
  }
  __m512i w[4];
#pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {
    const __m512 u = _mm512_castsi512_ps(z[2 * j]);
    const __m512 v = _mm512_castsi512_ps(z[2 * j + 1]);
    w[j] = _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(u, v, 0x44)),
                            _mm512_castps_si512(_mm512_shuffle_ps(u, v, 0xEE)));
  }
  const __m512i c0 = _mm512_add_epi32(_mm512_shuffle_i32x4(w[0], w[1], 0x44),
                                      _mm512_shuffle_i32x4(w[0], w[1], 0xEE));
  const __m512i c1 = _mm512_add_epi32(_mm512_shuffle_i32x4(w[2], w[3], 0x44),
                                      _mm512_shuffle_i32x4(w[2], w[3], 0xEE));
  return _mm512_add_epi32(_mm512_shuffle_i32x4(c0, c1, 0x88), _mm512_shuffle_i32x4(c0, c1, 0xDD));
}

// Scores of `nr` (<= 16) consecutive float rows starting at `p`; lanes >= nr repeat row 0 so
// that nothing past the matrix is read (the caller masks them out).
inline __m512 Score16F32(const float* p, size_t stride, uint32_t nr, const float* q,
                         uint32_t chunks) {
  const float* rows[16];
#pragma GCC unroll 16
  for (uint32_t i = 0; i < 16; ++i) rows[i] = p + (i < nr ? i : 0) * stride;
  __m512 acc[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    for (uint32_t c = 0; c < chunks; ++c) {
      acc[i] =
          _mm512_fmadd_ps(_mm512_loadu_ps(rows[i] + 16 * c), _mm512_loadu_ps(q + 16 * c), acc[i]);
    }
  }
  return Reduce16(acc);
}

// Integer dots of `nr` (<= 16) int8 rows with a 16-bit query, 32 elements per step.
inline __m512i Score16I8(const int8_t* p, size_t stride, uint32_t nr, const int16_t* q16,
                         uint32_t chunks) {
  const int8_t* rows[16];
#pragma GCC unroll 16
  for (uint32_t i = 0; i < 16; ++i) rows[i] = p + (i < nr ? i : 0) * stride;
  __m512i acc[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_si512();
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    for (uint32_t c = 0; c < chunks; ++c) {
      const __m512i r = _mm512_cvtepi8_epi16(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + 32 * c)));
      acc[i] = _mm512_add_epi32(acc[i], _mm512_madd_epi16(r, _mm512_loadu_si512(q16 + 32 * c)));
    }
  }
  return Reduce16I(acc);
}

// Rows of up to 8 chunks (dim <= 128, the common case) keep the whole query in registers and
// unroll the chunk loop; wider rows use Score16F32. Same FMA order either way.
template <uint32_t kChunks>
void ScanF32Narrow(TopKState* st, const MatrixF32& m, const float* query) {
  __m512 qc[kChunks];
#pragma GCC unroll 8
  for (uint32_t c = 0; c < kChunks; ++c) qc[c] = _mm512_loadu_ps(query + 16 * c);
  for (uint32_t r = 0; r < m.rows; r += 16) {
    const uint32_t nr = m.rows - r < 16 ? m.rows - r : 16;
    const float* p = m.data + static_cast<size_t>(r) * m.stride;
    __m512 acc[16];
#pragma GCC unroll 16
    for (uint32_t i = 0; i < 16; ++i) {
      const float* row = p + (i < nr ? i : 0) * static_cast<size_t>(m.stride);
      __m512 a = _mm512_setzero_ps();
#pragma GCC unroll 8
      for (uint32_t c = 0; c < kChunks; ++c)
        a = _mm512_fmadd_ps(_mm512_loadu_ps(row + 16 * c), qc[c], a);
      acc[i] = a;
    }
    OfferBlock(st, Reduce16(acc), r, LowBits(nr));
  }
}

size_t TopKF32(const MatrixF32& m, const float* query, uint32_t k, Exclusions ex, ScoredRow* out) {
  TopKState st;
  TopKInit(&st, out, k, ex);
  const uint32_t chunks = (m.dim + 15) / 16;
  switch (chunks) {
    case 1:
      ScanF32Narrow<1>(&st, m, query);
      return TopKFinish(&st);
    case 2:
      ScanF32Narrow<2>(&st, m, query);
      return TopKFinish(&st);
    case 3:
      ScanF32Narrow<3>(&st, m, query);
      return TopKFinish(&st);
    case 4:
      ScanF32Narrow<4>(&st, m, query);
      return TopKFinish(&st);
    case 5:
      ScanF32Narrow<5>(&st, m, query);
      return TopKFinish(&st);
    case 6:
      ScanF32Narrow<6>(&st, m, query);
      return TopKFinish(&st);
    case 7:
      ScanF32Narrow<7>(&st, m, query);
      return TopKFinish(&st);
    case 8:
      ScanF32Narrow<8>(&st, m, query);
      return TopKFinish(&st);
    default:
      break;
  }
  for (uint32_t r = 0; r < m.rows; r += 16) {
    const uint32_t nr = m.rows - r < 16 ? m.rows - r : 16;
    const __m512 s =
        Score16F32(m.data + static_cast<size_t>(r) * m.stride, m.stride, nr, query, chunks);
    OfferBlock(&st, s, r, LowBits(nr));
  }
  return TopKFinish(&st);
}

// int8 counterpart of ScanF32Narrow for rows of up to 4 chunks (dim <= 128).
template <uint32_t kChunks>
void ScanI8Narrow(TopKState* st, const MatrixI8& m, const int16_t* q16, __m512 qscale) {
  __m512i qc[kChunks];
#pragma GCC unroll 4
  for (uint32_t c = 0; c < kChunks; ++c) qc[c] = _mm512_loadu_si512(q16 + 32 * c);
  for (uint32_t r = 0; r < m.rows; r += 16) {
    const uint32_t nr = m.rows - r < 16 ? m.rows - r : 16;
    const __mmask16 valid = static_cast<__mmask16>(LowBits(nr));
    const int8_t* p = m.data + static_cast<size_t>(r) * m.stride;
    __m512i acc[16];
#pragma GCC unroll 16
    for (uint32_t i = 0; i < 16; ++i) {
      const int8_t* row = p + (i < nr ? i : 0) * static_cast<size_t>(m.stride);
      __m512i a = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (uint32_t c = 0; c < kChunks; ++c) {
        const __m512i rc = _mm512_cvtepi8_epi16(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 32 * c)));
        a = _mm512_add_epi32(a, _mm512_madd_epi16(rc, qc[c]));
      }
      acc[i] = a;
    }
    const __m512 scales = _mm512_maskz_loadu_ps(valid, m.scales + r);
    const __m512 s =
        _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(Reduce16I(acc)), qscale), scales);
    OfferBlock(st, s, r, valid);
  }
}

size_t TopKI8(const MatrixI8& m, const float* query, uint32_t k, Exclusions ex, ScoredRow* out) {
  alignas(64) int16_t q16[kMaxDim];
  const __m512 qscale = _mm512_set1_ps(QuantizeQueryI16(query, m.dim, q16));
  TopKState st;
  TopKInit(&st, out, k, ex);
  const uint32_t chunks = (m.dim + 31) / 32;
  switch (chunks) {
    case 1:
      ScanI8Narrow<1>(&st, m, q16, qscale);
      return TopKFinish(&st);
    case 2:
      ScanI8Narrow<2>(&st, m, q16, qscale);
      return TopKFinish(&st);
    case 3:
      ScanI8Narrow<3>(&st, m, q16, qscale);
      return TopKFinish(&st);
    case 4:
      ScanI8Narrow<4>(&st, m, q16, qscale);
      return TopKFinish(&st);
    default:
      break;
  }
  for (uint32_t r = 0; r < m.rows; r += 16) {
    const uint32_t nr = m.rows - r < 16 ? m.rows - r : 16;
    const __mmask16 valid = static_cast<__mmask16>(LowBits(nr));
    const __m512i acc =
        Score16I8(m.data + static_cast<size_t>(r) * m.stride, m.stride, nr, q16, chunks);
    const __m512 scales = _mm512_maskz_loadu_ps(valid, m.scales + r);
    const __m512 s = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), qscale), scales);
    OfferBlock(&st, s, r, valid);
  }
  return TopKFinish(&st);
}

// Batch tiles are 4 rows x 4 queries: 16 accumulators, lane 4 * i + j for row i, query j.
// Loading 4 row chunks and 4 query chunks per 16 FMAs keeps the loads below the FMA rate.

// Per-lane heap thresholds for queries q0..q0+3 (replicated for the 4 rows) and the lanes
// whose heap is not yet full (they accept everything).
inline void TileThresholds(const TopKState* st, uint32_t nqq, __m512* thr, uint32_t* open) {
  alignas(16) float t[4];
  uint32_t o = 0;
#pragma GCC unroll 16
  for (uint32_t j = 0; j < 4; ++j) {
    const TopKState& s = st[j < nqq ? j : 0];
    t[j] = s.full ? s.threshold : -__builtin_inff();
    if (j < nqq && !s.full) o |= 1u << j;
  }
  *thr = _mm512_broadcast_f32x4(_mm_load_ps(t));
  *open = o * 0x1111u;
}

inline uint32_t TileValid(uint32_t nr, uint32_t nqq) {
  const uint32_t qbits = LowBits(nqq);
  uint32_t v = 0;
  for (uint32_t i = 0; i < nr; ++i) v |= qbits << (4 * i);
  return v;
}

// Offers tile candidates; returns true if any heap changed (thresholds must be reloaded).
inline bool OfferTile(TopKState* st, __m512 s, uint32_t row, uint32_t valid, __m512 thr,
                      uint32_t open) {
  const uint32_t mask = (_mm512_mask_cmp_ps_mask(valid, s, thr, _CMP_GT_OQ) | open) & valid;
  if (mask == 0) return false;
  alignas(64) float buf[16];
  _mm512_store_ps(buf, s);
  for (uint32_t bits = mask; bits != 0; bits &= bits - 1) {
    const int b = __builtin_ctz(bits);
    TopKOffer(&st[b & 3], buf[b], row + static_cast<uint32_t>(b >> 2));
  }
  return true;
}

void TopKF32Batch(const MatrixF32& m, const float* const* queries, size_t nq, const uint32_t* ks,
                  const Exclusions* ex, ScoredRow* const* outs, size_t* counts) {
  TopKState st[kMaxBatchPass];
  for (size_t q = 0; q < nq; ++q) TopKInit(&st[q], outs[q], ks[q], ex[q]);
  const uint32_t chunks = (m.dim + 15) / 16;
  const uint32_t block = BatchBlockRows(m.stride * sizeof(float), 4);
  for (uint32_t r0 = 0; r0 < m.rows; r0 += block) {
    const uint32_t r1 = m.rows - r0 < block ? m.rows : r0 + block;
    for (size_t q0 = 0; q0 < nq; q0 += 4) {
      const uint32_t nqq = nq - q0 < 4 ? static_cast<uint32_t>(nq - q0) : 4;
      const float* qp[4];
#pragma GCC unroll 16
      for (uint32_t j = 0; j < 4; ++j) qp[j] = queries[q0 + (j < nqq ? j : 0)];
      __m512 thr;
      uint32_t open;
      TileThresholds(&st[q0], nqq, &thr, &open);
      for (uint32_t r = r0; r < r1; r += 4) {
        const uint32_t nr = r1 - r < 4 ? r1 - r : 4;
        const float* rp[4];
#pragma GCC unroll 16
        for (uint32_t i = 0; i < 4; ++i) {
          rp[i] = m.data + static_cast<size_t>(r + (i < nr ? i : 0)) * m.stride;
        }
        __m512 acc[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
        for (uint32_t c = 0; c < chunks; ++c) {
          __m512 qc[4];
#pragma GCC unroll 16
          for (int j = 0; j < 4; ++j) qc[j] = _mm512_loadu_ps(qp[j] + 16 * c);
#pragma GCC unroll 16
          for (int i = 0; i < 4; ++i) {
            const __m512 rc = _mm512_loadu_ps(rp[i] + 16 * c);
#pragma GCC unroll 16
            for (int j = 0; j < 4; ++j) acc[4 * i + j] = _mm512_fmadd_ps(rc, qc[j], acc[4 * i + j]);
          }
        }
        if (OfferTile(&st[q0], Reduce16(acc), r, TileValid(nr, nqq), thr, open)) {
          TileThresholds(&st[q0], nqq, &thr, &open);
        }
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

// Batch int8 for wide rows: the 4 x 4 tiles above, with a horizontal sum per dot.
void TopKI8BatchTiles(const MatrixI8& m, const float* const* queries, size_t nq, const uint32_t* ks,
                      const Exclusions* ex, ScoredRow* const* outs, size_t* counts) {
  const uint32_t padded = (m.dim + 63) / 64 * 64;
  alignas(64) int16_t q16[kMaxDim];
  alignas(16) float qscale[kMaxBatchPass + 4];
  TopKState st[kMaxBatchPass];
  for (size_t q = 0; q < nq; ++q) {
    qscale[q] = QuantizeQueryI16(queries[q], m.dim, q16 + q * padded);
    TopKInit(&st[q], outs[q], ks[q], ex[q]);
  }
  for (size_t q = nq; q < nq + 4; ++q) qscale[q] = 0.0f;
  const uint32_t chunks = (m.dim + 31) / 32;
  const uint32_t block = BatchBlockRows(m.stride, 4);
  for (uint32_t r0 = 0; r0 < m.rows; r0 += block) {
    const uint32_t r1 = m.rows - r0 < block ? m.rows : r0 + block;
    for (size_t q0 = 0; q0 < nq; q0 += 4) {
      const uint32_t nqq = nq - q0 < 4 ? static_cast<uint32_t>(nq - q0) : 4;
      const int16_t* qp[4];
#pragma GCC unroll 16
      for (uint32_t j = 0; j < 4; ++j) qp[j] = q16 + (q0 + (j < nqq ? j : 0)) * padded;
      const __m512 qs = _mm512_broadcast_f32x4(_mm_load_ps(qscale + q0));
      __m512 thr;
      uint32_t open;
      TileThresholds(&st[q0], nqq, &thr, &open);
      for (uint32_t r = r0; r < r1; r += 4) {
        const uint32_t nr = r1 - r < 4 ? r1 - r : 4;
        const int8_t* rp[4];
        alignas(64) float row_scale[16];
#pragma GCC unroll 16
        for (uint32_t i = 0; i < 4; ++i) {
          const uint32_t ri = r + (i < nr ? i : 0);
          rp[i] = m.data + static_cast<size_t>(ri) * m.stride;
#pragma GCC unroll 16
          for (int j = 0; j < 4; ++j) row_scale[4 * i + j] = m.scales[ri];
        }
        __m512i acc[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_si512();
        for (uint32_t c = 0; c < chunks; ++c) {
          __m512i qc[4];
#pragma GCC unroll 16
          for (int j = 0; j < 4; ++j) qc[j] = _mm512_loadu_si512(qp[j] + 32 * c);
#pragma GCC unroll 16
          for (int i = 0; i < 4; ++i) {
            const __m512i rc = _mm512_cvtepi8_epi16(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rp[i] + 32 * c)));
#pragma GCC unroll 16
            for (int j = 0; j < 4; ++j) {
              acc[4 * i + j] = _mm512_add_epi32(acc[4 * i + j], _mm512_madd_epi16(rc, qc[j]));
            }
          }
        }
        const __m512 s = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(Reduce16I(acc)), qs),
                                       _mm512_load_ps(row_scale));
        if (OfferTile(&st[q0], s, r, TileValid(nr, nqq), thr, open)) {
          TileThresholds(&st[q0], nqq, &thr, &open);
        }
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

struct MaddAdd {
  static __m512i Step(__m512i acc, __m512i t, const int16_t* pair) {
    int32_t p;
    __builtin_memcpy(&p, pair, sizeof(p));
    return _mm512_add_epi32(acc, _mm512_madd_epi16(t, _mm512_set1_epi32(p)));
  }
};

void TopKI8Batch(const MatrixI8& m, const float* const* queries, size_t nq, const uint32_t* ks,
                 const Exclusions* ex, ScoredRow* const* outs, size_t* counts) {
  if ((m.dim + 31) / 32 <= kMaxTransposedChunks) {
    I8BatchTransposed<MaddAdd>(m, queries, nq, ks, ex, outs, counts);
  } else {
    TopKI8BatchTiles(m, queries, nq, ks, ex, outs, counts);
  }
}

float DotF32(const float* a, const float* b, uint32_t n) {
  __m512 acc = _mm512_setzero_ps();
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
  }
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>(LowBits(n - i));
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, a + i), _mm512_maskz_loadu_ps(tail, b + i),
                          acc);
  }
  return Hsum(acc);
}

}  // namespace

const KernelTable kAvx512Table = {
    &TopKF32, &TopKI8, &TopKF32Batch, &TopKI8Batch, &DotF32,
};

}  // namespace recd::kernels::internal
