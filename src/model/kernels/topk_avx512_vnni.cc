// The int8 batch kernel with AVX-512 VNNI: vpdpwssd fuses the int16 multiply-add and the
// accumulate (with the query pair broadcast from memory), halving the instructions of the
// compute-bound batch loop. Built with the AVX-512 flags plus -mavx512vnni, selected by the
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

}  // namespace

void TopKI8BatchAvx512Vnni(const MatrixI8& m, const float* const* queries, size_t nq,
                           const uint32_t* ks, const Exclusions* ex, ScoredRow* const* outs,
                           size_t* counts) {
  if ((m.dim + 31) / 32 > kMaxTransposedChunks) {
    // Rows too wide for the stack transposition take the plain AVX-512 tiles.
    kAvx512Table.topk_i8_batch(m, queries, nq, ks, ex, outs, counts);
    return;
  }
  I8BatchTransposed<Dpwssd>(m, queries, nq, ks, ex, outs, counts);
}

}  // namespace recd::kernels::internal
