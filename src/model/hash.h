// The 64-bit string hash of the compiled model's id index: MurmurHash64A (Austin Appleby,
// public domain) over little-endian 8-byte words. Its output is stored in files, so it must
// never change. Thread-safe, pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace recd::model {

uint64_t Hash64(std::string_view data, uint64_t seed);

}  // namespace recd::model
