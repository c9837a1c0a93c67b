#include "stream_read.h"

#include <emmintrin.h>

namespace recd::bench {

// Baseline SSE2 on purpose (bench code gets no ISA flags): eight independent 16-byte loads
// per 128 bytes are still several times what one core can pull from DRAM, so the loop is
// bound by memory, not by instructions.
uint64_t StreamRead(const void* p, size_t bytes) {
  const __m128i* v = static_cast<const __m128i*>(p);
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
  __m128i a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < bytes / 16; i += 8) {
    a0 = _mm_add_epi64(a0, _mm_load_si128(v + i));
    a1 = _mm_add_epi64(a1, _mm_load_si128(v + i + 1));
    a2 = _mm_add_epi64(a2, _mm_load_si128(v + i + 2));
    a3 = _mm_add_epi64(a3, _mm_load_si128(v + i + 3));
    a4 = _mm_add_epi64(a4, _mm_load_si128(v + i + 4));
    a5 = _mm_add_epi64(a5, _mm_load_si128(v + i + 5));
    a6 = _mm_add_epi64(a6, _mm_load_si128(v + i + 6));
    a7 = _mm_add_epi64(a7, _mm_load_si128(v + i + 7));
  }
  const __m128i s = _mm_add_epi64(_mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3)),
                                  _mm_add_epi64(_mm_add_epi64(a4, a5), _mm_add_epi64(a6, a7)));
  alignas(16) uint64_t lanes[2];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), s);
  return lanes[0] + lanes[1];
}

}  // namespace recd::bench
