// The int8 batch kernels with AVX-512 VNNI: for rows up to 256 wide a two-stage vpdpbusd
// kernel (I8BatchSplit, below), for wider ones vpdpwssd, which fuses the int16 multiply-add
// and the accumulate (with the query pair broadcast from memory), halving the instructions of
// the compute-bound batch loop. Built with the AVX-512 flags plus -mavx512vnni, selected by the
// dispatcher only when cpuid reports AVX512_VNNI. Integer sums are exact, so its results are
// bit-identical to the plain AVX-512 and scalar kernels.

// GCC 12's AVX-512 headers trip -Wuninitialized (GCC bug 105593); see topk_avx512.cc.
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

// Inline assembly rather than _mm512_dpwssd_epi32: GCC 12 wraps that intrinsic in two
// register copies per use and never folds the broadcast, which cancels the gain. Here the
// query pair is an embedded {1to16} broadcast from memory and the accumulator stays put.
struct Dpwssd {
  static __m512i Step(__m512i acc, __m512i t, const int16_t* pair) {
    __asm__("vpdpwssd %2%{1to16%}, %1, %0"
            : "+v"(acc)
            : "v"(t), "m"(*reinterpret_cast<const int32_t*>(pair)));
    return acc;
  }
};

// Two-stage int8 batch for rows of up to 256 elements, with no change to any score.
//
// vpdpbusd multiplies unsigned by signed bytes, four per dword lane: twice the products of
// vpdpwssd, but on 8-bit operands, while the query is quantised to 16 bits. Split it as q16 = 256 *
// hi + lo with hi = q16 >> 8 in [-128, 127] and lo in [0, 255]. Rows in lanes (a 16 x 16 dword
// transpose of 16 rows, shared by all queries) are offset to unsigned, u = r + 128, so one vpdpbusd
// per 4 elements gives sum (r + 128) * hi = dot(hi, r) + 128 * H with H = sum(hi) a per-query
// constant. Since 0 <= lo <= 255,
//   dot(q16, r) = 256 * dot(hi, r) + sum lo * r <= 256 * dot(hi, r) + 255 * P(r),
// P(r) the sum of r's positive elements (per row, shared by all queries). The score steps (convert,
// times query scale, times row scale) are monotone, so a row whose bound scores no higher than the
// heap root cannot enter the heap; only the others (every row while the heap fills, then about one
// row in ten thousand on real data) get their exact dot, computed as the single-query kernel does,
// and are offered with the same float steps. Results are therefore bit-identical to every other
// int8 path. For dim <= 256 nothing overflows int32: |256 * dot(hi, r)| <= 32768 * 127 * 256 and
// 255 * P(r) <= 255 * 127 * 256.
constexpr uint32_t kMaxSplitDim = 256;

inline __m512i Dpbusd(__m512i acc, __m512i u, const int8_t* four) {
  __asm__("vpdpbusd %2%{1to16%}, %1, %0"
          : "+v"(acc)
          : "v"(u), "m"(*reinterpret_cast<const int32_t*>(four)));
  return acc;
}

// Exact dot of one int8 row with the 16-bit query over `chunks` 32-element steps.
inline int32_t ExactDotI8(const int8_t* row, const int16_t* q16, uint32_t chunks) {
  __m512i acc = _mm512_setzero_si512();
  for (uint32_t c = 0; c < chunks; ++c) {
    const __m512i r =
        _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 32 * c)));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(r, _mm512_loadu_si512(q16 + 32 * c)));
  }
  return _mm512_reduce_add_epi32(acc);
}

struct SplitQueries {
  const int16_t* q16;   // query j at q16 + j * padded
  const int8_t* hi;     // query j's high bytes at hi + j * padded
  const int32_t* corr;  // -32768 * H per query
  const float* qscale;
  uint32_t padded;
  uint32_t chunks32;  // 32-element steps of the exact dot
};

// Bounds, then exact scores where needed, for one transposed block and kQ queries.
template <int kQ>
inline void SplitScore(const __m512i* u, uint32_t words, __m512i bound_add, const SplitQueries& sq,
                       size_t q0, const int8_t* base, size_t stride, const float* row_scales,
                       __m512 scales, uint32_t row, __mmask16 valid, TopKState* st) {
  // Two chains per query (even and odd words) hide the vpdpbusd latency; integer sums are exact, so
  // how they are split does not matter.
  __m512i acc[kQ], acc2[kQ];
#pragma GCC unroll 8
  for (int j = 0; j < kQ; ++j) acc[j] = acc2[j] = _mm512_setzero_si512();
  for (uint32_t w = 0; w < words; w += 2) {
    const __m512i u0 = _mm512_load_si512(u + w);
    const __m512i u1 = _mm512_load_si512(u + w + 1);
#pragma GCC unroll 8
    for (int j = 0; j < kQ; ++j) {
      const int8_t* h = sq.hi + (q0 + j) * sq.padded + 4 * w;
      acc[j] = Dpbusd(acc[j], u0, h);
      acc2[j] = Dpbusd(acc2[j], u1, h + 4);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < kQ; ++j) acc[j] = _mm512_add_epi32(acc[j], acc2[j]);
#pragma GCC unroll 8
  for (int j = 0; j < kQ; ++j) {
    TopKState* s = &st[q0 + j];
    const __m512i bound =
        _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(acc[j], 8), bound_add),
                         _mm512_set1_epi32(sq.corr[q0 + j]));
    const __m512 qs = _mm512_set1_ps(sq.qscale[q0 + j]);
    const __m512 sb = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(bound), qs), scales);
    const uint32_t mask =
        s->full ? _mm512_mask_cmp_ps_mask(valid, sb, _mm512_set1_ps(s->threshold), _CMP_GT_OQ)
                : valid;
    for (uint32_t bits = mask; bits != 0; bits &= bits - 1) {
      const uint32_t i = static_cast<uint32_t>(__builtin_ctz(bits));
      const int32_t exact =
          ExactDotI8(base + i * stride, sq.q16 + (q0 + j) * sq.padded, sq.chunks32);
      TopKOffer(s, (static_cast<float>(exact) * sq.qscale[q0 + j]) * row_scales[i], row + i);
    }
  }
}

void I8BatchSplit(const MatrixI8& m, const float* const* queries, size_t nq, const uint32_t* ks,
                  const Exclusions* ex, ScoredRow* const* outs, size_t* counts) {
  const uint32_t padded = (m.dim + 63) / 64 * 64;
  alignas(64) int16_t q16[kMaxDim];
  alignas(64) int8_t hi[kMaxBatchPass * kMaxSplitDim];
  int32_t corr[kMaxBatchPass];
  float qscale[kMaxBatchPass];
  TopKState st[kMaxBatchPass];
  for (size_t q = 0; q < nq; ++q) {
    int16_t* qq = q16 + q * padded;
    qscale[q] = QuantizeQueryI16(queries[q], m.dim, qq);
    int32_t h = 0;
    for (uint32_t d = 0; d < padded; ++d) {
      // Arithmetic shift: floor(q / 256), so the low byte is the unsigned remainder.
      hi[q * padded + d] = static_cast<int8_t>(qq[d] >> 8);
      h += qq[d] >> 8;
    }
    corr[q] = -32768 * h;
    TopKInit(&st[q], outs[q], ks[q], ex[q]);
  }
  const SplitQueries sq{q16, hi, corr, qscale, padded, (m.dim + 31) / 32};
  const uint32_t blocks64 = padded / 64;
  const uint32_t words = 16 * blocks64;
  const __m512i sign = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i u[16 * (kMaxSplitDim / 64)];
  for (uint32_t r = 0; r < m.rows; r += 16) {
    const uint32_t nr = m.rows - r < 16 ? m.rows - r : 16;
    const __mmask16 valid = static_cast<__mmask16>(LowBits(nr));
    const int8_t* base = m.data + static_cast<size_t>(r) * m.stride;
    __m512i pos = _mm512_setzero_si512();
    for (uint32_t c = 0; c < blocks64; ++c) {
      __m512i w[16];
#pragma GCC unroll 16
      for (uint32_t i = 0; i < 16; ++i) {
        w[i] = _mm512_loadu_si512(base + (i < nr ? i : 0) * static_cast<size_t>(m.stride) + 64 * c);
      }
      Transpose16x16(w, u + 16 * c);
#pragma GCC unroll 16
      for (uint32_t i = 0; i < 16; ++i) {
        const __m512i t = u[16 * c + i];
        pos = _mm512_dpbusd_epi32(pos, _mm512_max_epi8(t, _mm512_setzero_si512()), ones);
        u[16 * c + i] = _mm512_xor_si512(t, sign);
      }
    }
    // 255 * P(r) per lane.
    const __m512i bound_add = _mm512_sub_epi32(_mm512_slli_epi32(pos, 8), pos);
    const __m512 scales = _mm512_maskz_loadu_ps(valid, m.scales + r);
    const float* row_scales = m.scales + r;
    size_t q = 0;
    for (; q + 8 <= nq; q += 8) {
      SplitScore<8>(u, words, bound_add, sq, q, base, m.stride, row_scales, scales, r, valid, st);
    }
    for (; q + 4 <= nq; q += 4) {
      SplitScore<4>(u, words, bound_add, sq, q, base, m.stride, row_scales, scales, r, valid, st);
    }
    for (; q < nq; ++q) {
      SplitScore<1>(u, words, bound_add, sq, q, base, m.stride, row_scales, scales, r, valid, st);
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

}  // namespace

void TopKI8BatchAvx512Vnni(const MatrixI8& m, const float* const* queries, size_t nq,
                           const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                           size_t* counts) {
  if ((m.dim + 31) / 32 > kMaxTransposedChunks) {
    // Rows too wide for the stack transposition take the plain AVX-512 tiles.
    kAvx512Table.topk_i8_batch(m, queries, nq, ks, ex, outs, counts);
    return;
  }
  if (m.dim <= kMaxSplitDim) {
    I8BatchSplit(m, queries, nq, ks, ex, outs, counts);
    return;
  }
  I8BatchTransposed<Dpwssd>(m, queries, nq, ks, ex, outs, counts);
}

}  // namespace recd::kernels::internal
