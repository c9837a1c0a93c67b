// The SSE4.2 CRC-32C (STYLE 9: the only file of recd_model built with -msse4.2; called only
// where internal::HasSse42()).
#include <nmmintrin.h>

#include <cstring>

#include "model/crc32c.h"

namespace recd::model::internal {

uint32_t Crc32cExtendSse42(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  // One dependent chain (3-cycle latency, 8 bytes per step): ~2.5 bytes per cycle, enough to
  // keep the checksum well under the time it takes to read a file.
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

}  // namespace recd::model::internal
