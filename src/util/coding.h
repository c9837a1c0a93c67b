// Big-endian fixed-width integer coding for RocksDB keys: byte order equals numeric order,
// so prefix scans and range deletes follow the numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace recd::util {

inline void PutFixed32BE(std::string* dst, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  dst->append(b, 4);
}

inline void PutFixed64BE(std::string* dst, uint64_t v) {
  PutFixed32BE(dst, static_cast<uint32_t>(v >> 32));
  PutFixed32BE(dst, static_cast<uint32_t>(v));
}

inline uint32_t DecodeFixed32BE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

inline uint64_t DecodeFixed64BE(const char* p) {
  return (uint64_t{DecodeFixed32BE(p)} << 32) | DecodeFixed32BE(p + 4);
}

// Length-prefixed strings and varints for values (not keys).
void PutVarint64(std::string* dst, uint64_t v);
bool GetVarint64(std::string_view* in, uint64_t* v);
void PutLengthPrefixed(std::string* dst, std::string_view s);
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);
void PutDouble(std::string* dst, double v);
bool GetDouble(std::string_view* in, double* v);

}  // namespace recd::util
