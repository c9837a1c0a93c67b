#include "stream_read.h"

#include <emmintrin.h>

namespace recd::bench {

// Baseline SSE2 on purpose (bench code gets no ISA flags). Four streams walked side by side
// keep more cache-line requests in flight than one: on the reference machine a single
// sequential stream reads ~12% slower than four, and also slower than the kernels, which
// read 8 or 16 rows at a time. The instruction rate (two 16-byte loads a cycle) is several
// times what DRAM delivers, so the loop is bound by memory.
uint64_t StreamRead(const void* p, size_t bytes) {
  const char* base = static_cast<const char*>(p);
  const size_t quarter = bytes / 4 / 32 * 32;
  const __m128i* v0 = reinterpret_cast<const __m128i*>(base);
  const __m128i* v1 = reinterpret_cast<const __m128i*>(base + quarter);
  const __m128i* v2 = reinterpret_cast<const __m128i*>(base + 2 * quarter);
  const __m128i* v3 = reinterpret_cast<const __m128i*>(base + 3 * quarter);
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
  __m128i a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < quarter / 16; i += 2) {
    a0 = _mm_add_epi64(a0, _mm_load_si128(v0 + i));
    a1 = _mm_add_epi64(a1, _mm_load_si128(v0 + i + 1));
    a2 = _mm_add_epi64(a2, _mm_load_si128(v1 + i));
    a3 = _mm_add_epi64(a3, _mm_load_si128(v1 + i + 1));
    a4 = _mm_add_epi64(a4, _mm_load_si128(v2 + i));
    a5 = _mm_add_epi64(a5, _mm_load_si128(v2 + i + 1));
    a6 = _mm_add_epi64(a6, _mm_load_si128(v3 + i));
    a7 = _mm_add_epi64(a7, _mm_load_si128(v3 + i + 1));
  }
  const __m128i* tail = reinterpret_cast<const __m128i*>(base + 4 * quarter);
  for (size_t i = 0; i < (bytes - 4 * quarter) / 16; ++i) {
    a0 = _mm_add_epi64(a0, _mm_load_si128(tail + i));
  }
  const __m128i s = _mm_add_epi64(_mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3)),
                                  _mm_add_epi64(_mm_add_epi64(a4, a5), _mm_add_epi64(a6, a7)));
  alignas(16) uint64_t lanes[2];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), s);
  return lanes[0] + lanes[1];
}

}  // namespace recd::bench
