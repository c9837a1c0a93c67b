// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of the compiled model
// format (docs/formats/compiled_model.md). The baseline build needs no SSE4.2: the SSE4.2
// crc32 instruction (crc32c_sse42.cc, about 4x the portable slicing-by-8 loop) is picked at
// run time on CPUs of the AVX2 level or above, and RECD_SIMD_LEVEL=scalar forces the portable
// loop, like the kernels. Both give the same values. Thread-safe, pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace recd::model {

// Extends `crc` (the CRC-32C of some prefix; 0 for the empty prefix) with `n` bytes.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }
inline uint32_t Crc32c(std::string_view s) { return Crc32cExtend(0, s.data(), s.size()); }

namespace internal {
// The two implementations behind Crc32cExtend, for tests and the benchmark. The SSE4.2 one
// may only be called where HasSse42() is true (kernels::DetectedSimdLevel() above scalar).
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);
uint32_t Crc32cExtendSse42(uint32_t crc, const void* data, size_t n);
bool HasSse42();
}  // namespace internal

}  // namespace recd::model
