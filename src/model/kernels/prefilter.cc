// Exact float32 top-k through an int8 copy of the matrix. Baseline x86-64 code: it calls the
// dispatched kernels for both scans and does only per-candidate work itself.
//
// Why it is exact. For a row r with int8 copy r8 and scale s (|r_d - s * r8_d| <= s / 2), and
// the query quantised by the int8 kernel to q16 with scale t (|q_d - t * q16_d| <= t / 2):
//   |q.r - s * t * (q16 . r8)| <= sum |q_d| s / 2 + sum |s r8_d| t / 2
//                              <= s / 2 * (|q|_1 + 127 * dim * t).
// The float32 kernel's own dot differs from q.r by at most dim * u * sum |q_d r_d| (u = 2^-24,
// any summation order), sum |q_d r_d| <= |q|_1 * 127 * s, and the int8 score's three float
// roundings add at most 4u relative to the same magnitude. All of it is at most
// max_scale * E(q), so every row the int8 scan left out (int8 score <= the last candidate's,
// c) has a float32 score <= c + max_scale * E(q). When the k-th best recomputed candidate is
// strictly above that, no row outside can enter or tie, and the candidates' top-k, taken in
// the full scan's order (score, then lower row), is the full scan's answer.
//
// Those steps assume every float operation involved is a correctly rounded normal number:
// the quantisation steps s and t, the int8 score's intermediate products and the float32
// dot's partial sums. Outside that range (subnormal row scales, a query so small that 1 / t
// overflows, products or sums near FLT_MAX) the inequalities can fail, so the bound is only
// used when every magnitude is well inside it (SafeRange); otherwise the full scan decides.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "model/kernels/internal.h"
#include "model/kernels/kernels.h"

namespace recd::kernels {
namespace {

constexpr uint32_t kMinCandidates = 64;
constexpr uint32_t kMaxCandidates = 4096;

// True when every float step of the proof stays normal and finite (see the top comment):
// row scales and the query's largest element within 2^-100 of underflow, and the largest
// possible dot and int8 intermediate (127 * dim * max_scale * max|q|, 2^36 * max|q|) far
// below FLT_MAX. Real embeddings sit many orders of magnitude inside.
bool SafeRange(const F32Prefilter& p, uint32_t dim, double max_abs) {
  const double tiny = std::ldexp(1.0, -100);
  const double huge = std::ldexp(1.0, 100);
  if (p.max_scale > 0.0f && !(p.min_scale >= tiny)) return false;
  // A NaN element is skipped by the max but makes |q|_1 NaN, which fails the final compare.
  if (!(max_abs >= tiny)) return false;
  if (!(max_abs * std::ldexp(1.0, 36) <= huge)) return false;
  return static_cast<double>(p.max_scale) * 128.0 * (dim + 1.0) * max_abs <= huge;
}

// max_scale * E(q) from the comment above, rounded up generously (a looser bound only costs
// an occasional fallback). Infinite when the query or the matrix is outside SafeRange.
double ErrorBound(const F32Prefilter& p, const float* query, uint32_t dim) {
  double l1 = 0.0;
  double max_abs = 0.0;
  for (uint32_t d = 0; d < dim; ++d) {
    const double a = std::fabs(static_cast<double>(query[d]));
    l1 += a;
    max_abs = std::max(max_abs, a);
  }
  if (!SafeRange(p, dim, max_abs)) return INFINITY;
  // The query scale of internal::QuantizeQueryI16, from above.
  const double t = max_abs / static_cast<double>(internal::QueryI16Limit(dim)) * 1.001;
  const double u = std::ldexp(1.0, -24);
  const double quantisation = 0.5001 * (l1 + 127.0 * dim * t);
  const double rounding = l1 * 127.0 * (1.01 * dim + 4.0) * u;
  // The absolute term covers results that underflow, where relative bounds do not hold.
  return static_cast<double>(p.max_scale) * (quantisation + rounding) * 1.001 + 1e-30;
}

// Recomputes the n candidates' float32 scores into `out` as the full scan ranks them and
// returns the count, or -1 when the bound cannot prove the result (the caller then scans).
// `cand` holds the int8 scan's answer (best first) and is reordered.
long Rescore(SimdLevel level, const MatrixF32& m, const F32Prefilter& p, const float* query,
             uint32_t k, uint32_t wanted, ScoredRow* cand, size_t n, ScoredRow* out) {
  // Every eligible row is a candidate when the int8 scan found fewer than it was asked for.
  const bool all_rows = n < wanted;
  const double outside =
      all_rows ? 0.0 : static_cast<double>(cand[n - 1].score) + ErrorBound(p, query, m.dim);
  // TopKOffer takes rows in ascending order; the exclusions were applied by the int8 scan.
  std::sort(cand, cand + n, [](const ScoredRow& a, const ScoredRow& b) { return a.row < b.row; });
  internal::TopKState st;
  internal::TopKInit(&st, out, k, Exclusions{});
  for (size_t i = 0; i < n; ++i) {
    const uint32_t row = cand[i].row;
    internal::TopKOffer(&st, DotF32(level, query, m.data + size_t{row} * m.stride, m.dim), row);
  }
  const size_t count = internal::TopKFinish(&st);
  if (all_rows) return static_cast<long>(count);
  if (count == k && static_cast<double>(out[k - 1].score) > outside) {
    return static_cast<long>(count);
  }
  return -1;
}

void CheckPrefilter(const MatrixF32& m, const F32Prefilter& p) {
  if (p.approx.rows != m.rows || p.approx.dim != m.dim) {
    std::fprintf(stderr, "recd::kernels: precondition violated: prefilter shape differs\n");
    std::abort();
  }
}

}  // namespace

uint32_t PrefilterCandidates(uint32_t k) {
  if (k == 0) return 0;
  const uint64_t want = std::max<uint64_t>(uint64_t{4} * k, kMinCandidates);
  return static_cast<uint32_t>(std::min<uint64_t>(want, kMaxCandidates));
}

F32Prefilter PrefilterOf(const MatrixI8& approx) {
  F32Prefilter p{approx, 0.0f, 0.0f};
  for (uint32_t r = 0; r < approx.rows; ++r) {
    const float scale = approx.scales[r];
    p.max_scale = std::max(p.max_scale, scale);
    if (scale > 0.0f && (p.min_scale == 0.0f || scale < p.min_scale)) p.min_scale = scale;
  }
  return p;
}

size_t TopKDotF32Prefiltered(SimdLevel level, const MatrixF32& m, const F32Prefilter& p,
                             const float* query, uint32_t k, Exclusions ex, ScoredRow* out,
                             ScoredRow* scratch, PrefilterOutcome* outcome) {
  CheckPrefilter(m, p);
  PrefilterOutcome unused;
  if (outcome == nullptr) outcome = &unused;
  *outcome = PrefilterOutcome::kSkipped;
  if (k == 0) return 0;
  const uint32_t wanted = PrefilterCandidates(k);
  if (wanted > k) {
    const size_t n = TopKDotI8(level, p.approx, query, wanted, ex, scratch);
    const long count = Rescore(level, m, p, query, k, wanted, scratch, n, out);
    *outcome = count >= 0 ? PrefilterOutcome::kProved : PrefilterOutcome::kFullScan;
    if (count >= 0) return static_cast<size_t>(count);
  }
  return TopKDotF32(level, m, query, k, ex, out);
}

namespace {

// Some queries of a batch pass, gathered for one batch kernel call.
struct SubBatch {
  const float* queries[internal::kMaxBatchPass];
  uint32_t ks[internal::kMaxBatchPass];
  Exclusions ex[internal::kMaxBatchPass];
  ScoredRow* outs[internal::kMaxBatchPass];
  size_t counts[internal::kMaxBatchPass];
  size_t index[internal::kMaxBatchPass];  // the query's position in the caller's arrays
  size_t n = 0;

  void Add(size_t q, const float* query, uint32_t k, Exclusions e, ScoredRow* out) {
    queries[n] = query;
    ks[n] = k;
    ex[n] = e;
    outs[n] = out;
    index[n] = q;
    ++n;
  }
};

}  // namespace

void TopKDotF32PrefilteredBatch(SimdLevel level, const MatrixF32& m, const F32Prefilter& p,
                                const float* const* queries, size_t nq, const uint32_t* ks,
                                const Exclusions* ex, ScoredRow* const* outs, size_t* counts,
                                ScoredRow* const* scratch, PrefilterOutcome* outcomes) {
  CheckPrefilter(m, p);
  for (size_t q0 = 0; q0 < nq; q0 += internal::kMaxBatchPass) {
    const size_t end = std::min(nq, q0 + internal::kMaxBatchPass);
    // Queries with 0 < k < PrefilterCandidates(k) take the int8 pass (asking for that many
    // candidates, into their scratch); the rest, and those the bound cannot settle, share one
    // float32 pass.
    SubBatch i8;
    SubBatch f32;
    for (size_t q = q0; q < end; ++q) {
      if (outcomes != nullptr) outcomes[q] = PrefilterOutcome::kSkipped;
      const uint32_t wanted = PrefilterCandidates(ks[q]);
      if (ks[q] == 0) {
        counts[q] = 0;
      } else if (wanted > ks[q]) {
        i8.Add(q, queries[q], wanted, ex[q], scratch[q]);
      } else {
        f32.Add(q, queries[q], ks[q], ex[q], outs[q]);
      }
    }
    if (i8.n > 0) {
      TopKDotI8Batch(level, p.approx, i8.queries, i8.n, i8.ks, i8.ex, i8.outs, i8.counts);
    }
    for (size_t j = 0; j < i8.n; ++j) {
      const size_t q = i8.index[j];
      const long count =
          Rescore(level, m, p, queries[q], ks[q], i8.ks[j], scratch[q], i8.counts[j], outs[q]);
      if (outcomes != nullptr) {
        outcomes[q] = count >= 0 ? PrefilterOutcome::kProved : PrefilterOutcome::kFullScan;
      }
      if (count >= 0) {
        counts[q] = static_cast<size_t>(count);
      } else {
        f32.Add(q, queries[q], ks[q], ex[q], outs[q]);
      }
    }
    if (f32.n == 0) continue;
    TopKDotF32Batch(level, m, f32.queries, f32.n, f32.ks, f32.ex, f32.outs, f32.counts);
    for (size_t j = 0; j < f32.n; ++j) counts[f32.index[j]] = f32.counts[j];
  }
}

}  // namespace recd::kernels
