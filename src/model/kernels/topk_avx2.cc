// AVX2 + FMA kernels. The only file built with -mavx2 -mfma; reached through kAvx2Table
// after cpuid confirmed support. Like topk_avx512.cc it holds no std templates or inline
// functions with external linkage (STYLE 9).
//
// Every dot product is lane-wise FMA over 8-float chunks in order, then the fixed hadd tree of
// Reduce8, so batch tiles, single-query blocks and DotF32 agree bit for bit at this level.

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "model/kernels/internal.h"

namespace recd::kernels::internal {
namespace {

// Lane i of the result is the sum of a[i]'s lanes, added as ((e0+e1)+(e2+e3)) within each
// 128-bit half, then low + high.
inline __m256 Reduce8(const __m256* a) {
  const __m256 t0 = _mm256_hadd_ps(a[0], a[1]);
  const __m256 t1 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 t2 = _mm256_hadd_ps(a[4], a[5]);
  const __m256 t3 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1);
  const __m256 u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// The same tree for one vector.
inline float Hsum(__m256 v) {
  __m256 t = _mm256_hadd_ps(v, v);
  t = _mm256_hadd_ps(t, t);
  return _mm_cvtss_f32(_mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
}

inline __m256i Reduce8I(const __m256i* a) {
  const __m256i t0 = _mm256_hadd_epi32(a[0], a[1]);
  const __m256i t1 = _mm256_hadd_epi32(a[2], a[3]);
  const __m256i t2 = _mm256_hadd_epi32(a[4], a[5]);
  const __m256i t3 = _mm256_hadd_epi32(a[6], a[7]);
  const __m256i u0 = _mm256_hadd_epi32(t0, t1);
  const __m256i u1 = _mm256_hadd_epi32(t2, t3);
  return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                          _mm256_permute2x128_si256(u0, u1, 0x31));
}

inline uint32_t LowBits(uint32_t n) { return n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1; }

// Lane i: the dot of rows[i] with q.
inline __m256 ScoreRowsF32(const float* const* rows, const float* q, uint32_t chunks) {
  __m256 acc[8];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {
    for (uint32_t c = 0; c < chunks; ++c) {
      acc[i] =
          _mm256_fmadd_ps(_mm256_loadu_ps(rows[i] + 8 * c), _mm256_loadu_ps(q + 8 * c), acc[i]);
    }
  }
  return Reduce8(acc);
}

// Scores of `nr` (<= 8) consecutive float rows; lanes >= nr repeat row 0 (masked by caller).
inline __m256 Score8F32(const float* p, size_t stride, uint32_t nr, const float* q,
                        uint32_t chunks) {
  const float* rows[8];
#pragma GCC unroll 16
  for (uint32_t i = 0; i < 8; ++i) rows[i] = p + (i < nr ? i : 0) * stride;
  return ScoreRowsF32(rows, q, chunks);
}

// Integer dots of `nr` (<= 8) consecutive int8 rows with a 16-bit query, 16 elements per
// step; lanes >= nr repeat row 0.
inline __m256i Score8I8(const int8_t* p, size_t stride, uint32_t nr, const int16_t* q16,
                        uint32_t chunks) {
  const int8_t* rows[8];
#pragma GCC unroll 16
  for (uint32_t i = 0; i < 8; ++i) rows[i] = p + (i < nr ? i : 0) * stride;
  __m256i acc[8];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_si256();
  for (uint32_t c = 0; c < chunks; ++c) {
    const __m256i qc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q16 + 16 * c));
#pragma GCC unroll 16
    for (int i = 0; i < 8; ++i) {
      const __m256i r =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + 16 * c)));
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(r, qc));
    }
  }
  return Reduce8I(acc);
}

// Before the heap is full every valid lane is a candidate; after, only lanes above the root.
inline void OfferBlock(TopKState* st, __m256 s, uint32_t row, uint32_t valid) {
  uint32_t mask = valid;
  if (st->full) {
    const __m256 gt = _mm256_cmp_ps(s, _mm256_set1_ps(st->threshold), _CMP_GT_OQ);
    mask &= static_cast<uint32_t>(_mm256_movemask_ps(gt));
  }
  if (mask == 0) return;
  alignas(32) float buf[8];
  _mm256_store_ps(buf, s);
  TopKOfferMask(st, buf, row, mask);
}

// Row i's scale in every lane.
inline __m256 RowScales(const float* scales, uint32_t r, uint32_t nr) {
  alignas(32) float s[8];
#pragma GCC unroll 16
  for (uint32_t i = 0; i < 8; ++i) s[i] = i < nr ? scales[r + i] : 0.0f;
  return _mm256_load_ps(s);
}

// Streams of the float32 scan: one row from each of 8 segments per block, so that every block
// has loads in flight on 8 streams at once. Measured on Zen 2 at 1M x 64: 16.7 ms for one
// stream, 11.9 ms for two rows from each of 4 segments, 10.0 ms (the DRAM floor) for 8. Blocks
// taken from one segment at a time read no faster than one stream (a block's 64 FMAs fill the
// FP scheduler while they wait on that segment's lines).
constexpr uint32_t kF32Streams = 8;
// Streams of the int8 scan, whose blocks alternate between segments: an int8 block is only 8
// lines, so several segments' blocks are in flight anyway. 4 measured 18.4 GB/s at 4M rows;
// 8 fell to 7.6 GB/s, and one row per segment per block was 8 % slower than blocks.
constexpr uint32_t kI8Streams = 4;
// Rows ahead in each segment that the int8 scan prefetches: 17.9 -> 20.8 GB/s at 4M x 64 on
// Zen 2 (8-32 rows ahead all gained; 64 and more did not). The float32 scan gained nothing
// from prefetching (it lost 10-25 %), so only int8 does it, and only for matrices larger
// than a last-level cache: at 100k x 64 (6.4 MB, read from the LLC) it cost 10 %.
constexpr uint32_t kI8PrefetchRows = 16;
constexpr size_t kI8PrefetchMinBytes = size_t{32} << 20;

// Lane l's bar for segment l: its heap root once full, else -inf with the lane open.
inline void SegmentThresholds(const TopKState* st, __m256* thr, uint32_t* open) {
  alignas(32) float t[8];
  uint32_t o = 0;
#pragma GCC unroll 8
  for (uint32_t l = 0; l < 8; ++l) {
    t[l] = st[l].full ? st[l].threshold : -__builtin_inff();
    if (!st[l].full) o |= 1u << l;
  }
  *thr = _mm256_load_ps(t);
  *open = o;
}

inline bool OfferSegments(SegmentedTopK* seg, __m256 s, uint32_t i, __m256 thr, uint32_t open) {
  const uint32_t gt = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(s, thr, _CMP_GT_OQ)));
  const uint32_t mask = gt | open;
  if (mask == 0) return false;
  alignas(32) float buf[8];
  _mm256_store_ps(buf, s);
  for (uint32_t bits = mask; bits != 0; bits &= bits - 1) {
    const uint32_t l = static_cast<uint32_t>(__builtin_ctz(bits));
    TopKOffer(&seg->st[l], buf[l], seg->begin[l] + i);
  }
  return true;
}

// Inlined by force: called from three places, GCC kept one out-of-line copy, a call per block.
__attribute__((always_inline)) inline void ScanBlockF32(TopKState* st, const MatrixF32& m,
                                                        uint32_t r, const float* query,
                                                        uint32_t chunks) {
  const uint32_t nr = m.rows - r < 8 ? m.rows - r : 8;
  const __m256 s =
      Score8F32(m.data + static_cast<size_t>(r) * m.stride, m.stride, nr, query, chunks);
  OfferBlock(st, s, r, LowBits(nr));
}

size_t TopKF32(const MatrixF32& m, const float* query, uint32_t k, Exclusions ex, ScoredRow* out) {
  const uint32_t chunks = (m.dim + 7) / 8;
  SegmentedTopK seg;
  if (SegmentedInit(&seg, kF32Streams, m.rows, m.stride * sizeof(float), 1, k, ex)) {
    static_assert(kF32Streams == 8, "lane l belongs to segment l");
    __m256 thr;
    uint32_t open;
    SegmentThresholds(seg.st, &thr, &open);
    for (uint32_t i = 0; i < seg.len; ++i) {
      const float* rows[8];
#pragma GCC unroll 8
      for (uint32_t l = 0; l < 8; ++l) {
        rows[l] = m.data + static_cast<size_t>(seg.begin[l] + i) * m.stride;
      }
      const __m256 s = ScoreRowsF32(rows, query, chunks);
      if (OfferSegments(&seg, s, i, thr, open)) SegmentThresholds(seg.st, &thr, &open);
    }
    TopKState* last = &seg.st[kF32Streams - 1];
    for (uint32_t r = seg.begin[kF32Streams - 1] + seg.len; r < m.rows; r += 8) {
      ScanBlockF32(last, m, r, query, chunks);
    }
    return SegmentedFinish(&seg, k, out);
  }
  TopKState st;
  TopKInit(&st, out, k, ex);
  for (uint32_t r = 0; r < m.rows; r += 8) ScanBlockF32(&st, m, r, query, chunks);
  return TopKFinish(&st);
}

__attribute__((always_inline)) inline void ScanBlockI8(TopKState* st, const MatrixI8& m, uint32_t r,
                                                       const int16_t* q16, __m256 qscale,
                                                       uint32_t chunks) {
  const uint32_t nr = m.rows - r < 8 ? m.rows - r : 8;
  const __m256i acc =
      Score8I8(m.data + static_cast<size_t>(r) * m.stride, m.stride, nr, q16, chunks);
  const __m256 scales = nr == 8 ? _mm256_loadu_ps(m.scales + r) : RowScales(m.scales, r, nr);
  const __m256 s = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), qscale), scales);
  OfferBlock(st, s, r, LowBits(nr));
}

size_t TopKI8(const MatrixI8& m, const float* query, uint32_t k, Exclusions ex, ScoredRow* out) {
  alignas(64) int16_t q16[kMaxDim];
  const __m256 qscale = _mm256_set1_ps(QuantizeQueryI16(query, m.dim, q16));
  const uint32_t chunks = (m.dim + 15) / 16;
  SegmentedTopK seg;
  if (SegmentedInit(&seg, kI8Streams, m.rows, m.stride, 8, k, ex)) {
    const size_t block_bytes = size_t{8} * m.stride;
    const bool prefetch = static_cast<size_t>(m.rows) * m.stride >= kI8PrefetchMinBytes;
    for (uint32_t i = 0; i < seg.len; i += 8) {
      const bool ahead = prefetch && i + kI8PrefetchRows < seg.len;
#pragma GCC unroll 4
      for (uint32_t s = 0; s < kI8Streams; ++s) {
        if (ahead) {
          const int8_t* p =
              m.data + static_cast<size_t>(seg.begin[s] + i + kI8PrefetchRows) * m.stride;
          for (size_t b = 0; b < block_bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T0);
        }
        ScanBlockI8(&seg.st[s], m, seg.begin[s] + i, q16, qscale, chunks);
      }
    }
    TopKState* last = &seg.st[kI8Streams - 1];
    for (uint32_t r = seg.begin[kI8Streams - 1] + seg.len; r < m.rows; r += 8) {
      ScanBlockI8(last, m, r, q16, qscale, chunks);
    }
    return SegmentedFinish(&seg, k, out);
  }
  TopKState st;
  TopKInit(&st, out, k, ex);
  for (uint32_t r = 0; r < m.rows; r += 8) ScanBlockI8(&st, m, r, q16, qscale, chunks);
  return TopKFinish(&st);
}

// Batch tiles are 2 rows x 4 queries: 8 accumulators, lane 4 * i + j for row i, query j.

inline void TileThresholds(const TopKState* st, uint32_t nqq, __m256* thr, uint32_t* open) {
  alignas(16) float t[4];
  uint32_t o = 0;
#pragma GCC unroll 16
  for (uint32_t j = 0; j < 4; ++j) {
    const TopKState& s = st[j < nqq ? j : 0];
    t[j] = s.full ? s.threshold : -__builtin_inff();
    if (j < nqq && !s.full) o |= 1u << j;
  }
  *thr = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(t));
  *open = o * 0x11u;
}

inline uint32_t TileValid(uint32_t nr, uint32_t nqq) {
  const uint32_t qbits = LowBits(nqq);
  return nr == 2 ? qbits * 0x11u : qbits;
}

inline bool OfferTile(TopKState* st, __m256 s, uint32_t row, uint32_t valid, __m256 thr,
                      uint32_t open) {
  const uint32_t gt = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(s, thr, _CMP_GT_OQ)));
  const uint32_t mask = (gt | open) & valid;
  if (mask == 0) return false;
  alignas(32) float buf[8];
  _mm256_store_ps(buf, s);
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
  const uint32_t chunks = (m.dim + 7) / 8;
  const uint32_t block = BatchBlockRows(m.stride * sizeof(float), 2);
  for (uint32_t r0 = 0; r0 < m.rows; r0 += block) {
    const uint32_t r1 = m.rows - r0 < block ? m.rows : r0 + block;
    for (size_t q0 = 0; q0 < nq; q0 += 4) {
      const uint32_t nqq = nq - q0 < 4 ? static_cast<uint32_t>(nq - q0) : 4;
      const float* qp[4];
#pragma GCC unroll 16
      for (uint32_t j = 0; j < 4; ++j) qp[j] = queries[q0 + (j < nqq ? j : 0)];
      __m256 thr;
      uint32_t open;
      TileThresholds(&st[q0], nqq, &thr, &open);
      for (uint32_t r = r0; r < r1; r += 2) {
        const uint32_t nr = r1 - r < 2 ? r1 - r : 2;
        const float* rp0 = m.data + static_cast<size_t>(r) * m.stride;
        const float* rp1 = nr == 2 ? rp0 + m.stride : rp0;
        __m256 acc[8];
#pragma GCC unroll 16
        for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
        for (uint32_t c = 0; c < chunks; ++c) {
          const __m256 r0c = _mm256_loadu_ps(rp0 + 8 * c);
          const __m256 r1c = _mm256_loadu_ps(rp1 + 8 * c);
#pragma GCC unroll 16
          for (int j = 0; j < 4; ++j) {
            const __m256 qc = _mm256_loadu_ps(qp[j] + 8 * c);
            acc[j] = _mm256_fmadd_ps(r0c, qc, acc[j]);
            acc[4 + j] = _mm256_fmadd_ps(r1c, qc, acc[4 + j]);
          }
        }
        if (OfferTile(&st[q0], Reduce8(acc), r, TileValid(nr, nqq), thr, open)) {
          TileThresholds(&st[q0], nqq, &thr, &open);
        }
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

// Batch int8 for wide rows: the 2 x 4 tiles above, with a horizontal sum per dot.
void TopKI8BatchTiles(const MatrixI8& m, const float* const* queries, size_t nq,
                      const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                      size_t* counts) {
  const uint32_t padded = (m.dim + 63) / 64 * 64;
  alignas(64) int16_t q16[kMaxDim];
  alignas(16) float qscale[kMaxBatchPass + 4];
  TopKState st[kMaxBatchPass];
  for (size_t q = 0; q < nq; ++q) {
    qscale[q] = QuantizeQueryI16(queries[q], m.dim, q16 + q * padded);
    TopKInit(&st[q], outs[q], ks[q], ex[q]);
  }
  for (size_t q = nq; q < nq + 4; ++q) qscale[q] = 0.0f;
  const uint32_t chunks = (m.dim + 15) / 16;
  const uint32_t block = BatchBlockRows(m.stride, 2);
  for (uint32_t r0 = 0; r0 < m.rows; r0 += block) {
    const uint32_t r1 = m.rows - r0 < block ? m.rows : r0 + block;
    for (size_t q0 = 0; q0 < nq; q0 += 4) {
      const uint32_t nqq = nq - q0 < 4 ? static_cast<uint32_t>(nq - q0) : 4;
      const int16_t* qp[4];
#pragma GCC unroll 16
      for (uint32_t j = 0; j < 4; ++j) qp[j] = q16 + (q0 + (j < nqq ? j : 0)) * padded;
      const __m256 qs = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(qscale + q0));
      __m256 thr;
      uint32_t open;
      TileThresholds(&st[q0], nqq, &thr, &open);
      for (uint32_t r = r0; r < r1; r += 2) {
        const uint32_t nr = r1 - r < 2 ? r1 - r : 2;
        const int8_t* rp0 = m.data + static_cast<size_t>(r) * m.stride;
        const int8_t* rp1 = nr == 2 ? rp0 + m.stride : rp0;
        const __m256 rs =
            _mm256_setr_m128(_mm_set1_ps(m.scales[r]), _mm_set1_ps(m.scales[nr == 2 ? r + 1 : r]));
        __m256i acc[8];
#pragma GCC unroll 16
        for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_si256();
        for (uint32_t c = 0; c < chunks; ++c) {
          const __m256i r0c =
              _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rp0 + 16 * c)));
          const __m256i r1c =
              _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rp1 + 16 * c)));
#pragma GCC unroll 16
          for (int j = 0; j < 4; ++j) {
            const __m256i qc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp[j] + 16 * c));
            acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(r0c, qc));
            acc[4 + j] = _mm256_add_epi32(acc[4 + j], _mm256_madd_epi16(r1c, qc));
          }
        }
        const __m256 s = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(Reduce8I(acc)), qs), rs);
        if (OfferTile(&st[q0], s, r, TileValid(nr, nqq), thr, open)) {
          TileThresholds(&st[q0], nqq, &thr, &open);
        }
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

// Transposes 8 rows of 8 dwords: out[j] lane i = in[i] dword j.
inline void Transpose8x8(const __m256i* in, __m256i* out) {
  __m256i t[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(in[2 * i], in[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(in[2 * i], in[2 * i + 1]);
  }
  // u[4h + e], 128-bit lane L: dword 4L + e of rows 4h..4h+3.
  __m256i u[8];
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    u[4 * h] = _mm256_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
    u[4 * h + 1] = _mm256_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
    u[4 * h + 2] = _mm256_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
    u[4 * h + 3] = _mm256_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
  }
#pragma GCC unroll 4
  for (int e = 0; e < 4; ++e) {
    out[e] = _mm256_permute2x128_si256(u[e], u[4 + e], 0x20);
    out[4 + e] = _mm256_permute2x128_si256(u[e], u[4 + e], 0x31);
  }
}

// Widest rows (in 16-element chunks) the transposed batch kernel keeps on the stack.
constexpr uint32_t kMaxTransposedChunks = 32;

// Scores one transposed block of 8 rows for kQ consecutive queries and offers the results.
template <int kQ>
inline void ScoreQueries(const __m256i* t, uint32_t pairs, const int16_t* q16, uint32_t padded,
                         const float* qscale, __m256 scales, uint32_t row, uint32_t valid,
                         TopKState* st) {
  __m256i acc[kQ];
#pragma GCC unroll 4
  for (int j = 0; j < kQ; ++j) acc[j] = _mm256_setzero_si256();
  for (uint32_t p = 0; p < pairs; ++p) {
    const __m256i tp = _mm256_load_si256(t + p);
#pragma GCC unroll 4
    for (int j = 0; j < kQ; ++j) {
      int32_t pair;
      std::memcpy(&pair, q16 + j * padded + 2 * p, sizeof(pair));
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(tp, _mm256_set1_epi32(pair)));
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < kQ; ++j) {
    const __m256 s =
        _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[j]), _mm256_set1_ps(qscale[j])), scales);
    OfferBlock(&st[j], s, row, valid);
  }
}

// Batch int8 for rows up to 512 wide, as the AVX-512 level does it: integer sums are exact in
// any order, so each block of 8 rows is turned into pair-major form once (lane i of t[p] holds
// row i's elements 2p and 2p+1) and every query then needs one madd + add per element pair for
// all 8 rows, its 8 scores landing in one vector. The transposition is shared by all queries.
void TopKI8BatchTransposed(const MatrixI8& m, const float* const* queries, size_t nq,
                           const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                           size_t* counts) {
  const uint32_t padded = (m.dim + 63) / 64 * 64;
  alignas(64) int16_t q16[kMaxDim];
  float qscale[kMaxBatchPass];
  TopKState st[kMaxBatchPass];
  for (size_t q = 0; q < nq; ++q) {
    qscale[q] = QuantizeQueryI16(queries[q], m.dim, q16 + q * padded);
    TopKInit(&st[q], outs[q], ks[q], ex[q]);
  }
  const uint32_t chunks = (m.dim + 15) / 16;
  const uint32_t pairs = 8 * chunks;
  alignas(32) __m256i t[8 * kMaxTransposedChunks];
  for (uint32_t r = 0; r < m.rows; r += 8) {
    const uint32_t nr = m.rows - r < 8 ? m.rows - r : 8;
    const int8_t* base = m.data + static_cast<size_t>(r) * m.stride;
    for (uint32_t c = 0; c < chunks; ++c) {
      __m256i w[8];
#pragma GCC unroll 8
      for (uint32_t i = 0; i < 8; ++i) {
        const int8_t* row = base + (i < nr ? i : 0) * static_cast<size_t>(m.stride);
        w[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 16 * c)));
      }
      Transpose8x8(w, t + 8 * c);
    }
    const __m256 scales = nr == 8 ? _mm256_loadu_ps(m.scales + r) : RowScales(m.scales, r, nr);
    // Four queries at a time share each load of t[p] (eight measured slower: 1085 vs 999
    // us/query at 1M, registers spill); leftovers one by one.
    size_t q = 0;
    for (; q + 4 <= nq; q += 4) {
      ScoreQueries<4>(t, pairs, q16 + q * padded, padded, qscale + q, scales, r, LowBits(nr),
                      st + q);
    }
    for (; q < nq; ++q) {
      ScoreQueries<1>(t, pairs, q16 + q * padded, padded, qscale + q, scales, r, LowBits(nr),
                      st + q);
    }
  }
  for (size_t q = 0; q < nq; ++q) counts[q] = TopKFinish(&st[q]);
}

void TopKI8Batch(const MatrixI8& m, const float* const* queries, size_t nq, const uint32_t* ks,
                 const Exclusions* ex, ScoredRow* const* outs, size_t* counts) {
  if ((m.dim + 15) / 16 <= kMaxTransposedChunks) {
    TopKI8BatchTransposed(m, queries, nq, ks, ex, outs, counts);
  } else {
    TopKI8BatchTiles(m, queries, nq, ks, ex, outs, counts);
  }
}

float DotF32(const float* a, const float* b, uint32_t n) {
  __m256 acc = _mm256_setzero_ps();
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  }
  if (i < n) {
    alignas(32) static const int32_t kLanes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const __m256i tail =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)),
                           _mm256_load_si256(reinterpret_cast<const __m256i*>(kLanes)));
    acc = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, tail), _mm256_maskload_ps(b + i, tail), acc);
  }
  return Hsum(acc);
}

}  // namespace

const KernelTable kAvx2Table = {
    &TopKF32, &TopKI8, &TopKF32Batch, &TopKI8Batch, &DotF32,
};

}  // namespace recd::kernels::internal
