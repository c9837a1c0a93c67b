// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), computed in portable software
// (slicing-by-8) so it needs no SSE4.2 in the baseline build. Thread-safe, pure.
// This is the checksum of the compiled model format (docs/formats/compiled_model.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace recd::model {

// Extends `crc` (the CRC-32C of some prefix; 0 for the empty prefix) with `n` bytes.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }
inline uint32_t Crc32c(std::string_view s) { return Crc32cExtend(0, s.data(), s.size()); }

}  // namespace recd::model
