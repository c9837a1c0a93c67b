#include "compute_peak.h"

#include <immintrin.h>

namespace recd::bench {

// Ten chains: enough to cover the FMA latency (4-5 cycles) on two pipes. The empty asm keeps
// the compiler from folding the chains or moving work out of the loop.
uint64_t FmaPeakAvx2(uint64_t rounds) {
  __m256 a[10];
  for (int i = 0; i < 10; ++i) a[i] = _mm256_set1_ps(1.0f + 1e-7f * static_cast<float>(i));
  const __m256 m = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  for (uint64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 10
    for (int j = 0; j < 10; ++j) a[j] = _mm256_fmadd_ps(a[j], m, b);
    __asm__ volatile(""
                     : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]),
                       "+x"(a[6]), "+x"(a[7]), "+x"(a[8]), "+x"(a[9]));
  }
  return rounds * 10;
}

uint64_t MaddPeakAvx2(uint64_t rounds) {
  __m256i a[10];
  for (int i = 0; i < 10; ++i) a[i] = _mm256_set1_epi32(i);
  const __m256i b = _mm256_set1_epi16(3);
  for (uint64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 10
    for (int j = 0; j < 10; ++j) a[j] = _mm256_add_epi32(a[j], _mm256_madd_epi16(a[j], b));
    __asm__ volatile(""
                     : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]),
                       "+x"(a[6]), "+x"(a[7]), "+x"(a[8]), "+x"(a[9]));
  }
  return rounds * 10;
}

}  // namespace recd::bench
