// Internal interface between the dispatcher and the per-ISA kernel files. Not for use outside
// src/model/kernels and its tests.
//
// Everything here is plain C-like code on purpose (no std templates, no inline functions with
// external linkage): the ISA files include it, and the top-k heap lives out of line in a
// baseline file (topk_heap.cc) that the ISA files call only for candidate rows.

#ifndef RECD_MODEL_KERNELS_INTERNAL_H_
#define RECD_MODEL_KERNELS_INTERNAL_H_

#include <cstddef>
#include <cstdint>

#include "model/kernels/matrix.h"

namespace recd::kernels::internal {

// The queries a batch pass scores together; more are handled in further passes.
inline constexpr size_t kMaxBatchPass = 64;

// Bytes of matrix rows a batch pass keeps hot while every query scores them (fits L1/L2).
inline constexpr size_t kBatchBlockBytes = 32 * 1024;

// The running top-k of one query. Rows must be offered in ascending order, which is what lets
// a candidate be compared with the heap root by score alone and the exclusion list be walked
// with a single cursor.
struct TopKState {
  ScoredRow* heap;  // caller's output array, a binary heap with the worst entry at [0]
  uint32_t k;
  uint32_t size;
  const uint32_t* ex;  // next exclusion not yet passed
  const uint32_t* ex_end;
  float threshold;  // heap[0].score once full; +inf when k == 0
  bool full;        // size == k: only scores > threshold can enter
};

// A single-query scan of a large matrix reads several row segments side by side, each with
// its own top-k, merged at the end. One sequential stream leaves DRAM bandwidth unused on
// some cores (Zen 2: ~16 GB/s for one stream, ~25 GB/s for four or more; docs/BENCHMARKS.md).
// Each kernel picks its count (at most kMaxScanStreams) by measurement.
inline constexpr uint32_t kMaxScanStreams = 8;
// The largest k scanned in segments (their heaps live on the stack); larger k use one stream.
inline constexpr uint32_t kSegmentedMaxK = 1024;
// Matrices smaller than this are read from cache and scanned in one stream.
inline constexpr size_t kSegmentedMinBytes = size_t{2} << 20;

struct SegmentedTopK {
  uint32_t streams;
  uint32_t len;  // rows every segment scans side by side; the last one continues to the end
  uint32_t begin[kMaxScanStreams];  // first row of segment s
  TopKState st[kMaxScanStreams];
  ScoredRow heaps[kMaxScanStreams][kSegmentedMaxK];
};

// Splits `rows` into `streams` (<= kMaxScanStreams) segments whose starts are multiples of
// `block` and initialises their top-k states (each with the exclusions from its first row
// on). Returns false, touching nothing else, when the matrix is too small or k too large for
// a segmented scan.
bool SegmentedInit(SegmentedTopK* seg, uint32_t streams, uint32_t rows, size_t row_bytes,
                   uint32_t block, uint32_t k, Exclusions ex);
// Merges the segments' top-k into `out` (room for k), best first; returns the count. The
// result equals a one-stream scan's: same rows, same order (score, then lower row).
size_t SegmentedFinish(SegmentedTopK* seg, uint32_t k, ScoredRow* out);

void TopKInit(TopKState* st, ScoredRow* out, uint32_t k, Exclusions ex);
// Offers one row; rows must ascend across calls.
void TopKOffer(TopKState* st, float score, uint32_t row);
// Offers rows base_row + i for each set bit i of `mask` (ascending), scores[i] their scores.
void TopKOfferMask(TopKState* st, const float* scores, uint32_t base_row, uint32_t mask);
// Sorts the heap best-first in place; returns the count.
size_t TopKFinish(TopKState* st);

// Quantises a float query to int16 for the int8 kernels. Writes dim values and zeros up to
// RoundUp(dim, 64); returns the scale (query ~= scale * out). The range is chosen so that
// |sum_d q16[d] * r[d]| < 2^31 for any int8 row, so int32 accumulation is exact in any order.
float QuantizeQueryI16(const float* query, uint32_t dim, int16_t* out);
// The largest |q16| QuantizeQueryI16 uses for `dim`: min(32767, (2^31 - 1) / (128 * dim)).
int64_t QueryI16Limit(uint32_t dim);

// Per-level kernel entry points. Arguments are validated and level-clamped by the dispatcher.
struct KernelTable {
  size_t (*topk_f32)(const MatrixF32& m, const float* query, uint32_t k, Exclusions ex,
                     ScoredRow* out);
  size_t (*topk_i8)(const MatrixI8& m, const float* query, uint32_t k, Exclusions ex,
                    ScoredRow* out);
  // nq <= kMaxBatchPass.
  void (*topk_f32_batch)(const MatrixF32& m, const float* const* queries, size_t nq,
                         const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                         size_t* counts);
  // nq * RoundUp(dim, 64) <= kMaxDim and nq <= kMaxBatchPass.
  void (*topk_i8_batch)(const MatrixI8& m, const float* const* queries, size_t nq,
                        const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                        size_t* counts);
  float (*dot_f32)(const float* a, const float* b, uint32_t n);
};

extern const KernelTable kScalarTable;
extern const KernelTable kAvx2Table;
extern const KernelTable kAvx512Table;

// kAvx512Table.topk_i8_batch with AVX-512 VNNI; the dispatcher swaps it in when cpuid reports
// AVX512_VNNI. Same contract and bit-identical results.
void TopKI8BatchAvx512Vnni(const MatrixI8& m, const float* const* queries, size_t nq,
                           const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                           size_t* counts);

// Rows per batch block for rows of `row_bytes`, a multiple of `multiple`, at least `multiple`.
uint32_t BatchBlockRows(size_t row_bytes, uint32_t multiple);

}  // namespace recd::kernels::internal

#endif  // RECD_MODEL_KERNELS_INTERNAL_H_
