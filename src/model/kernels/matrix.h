// Plain data views shared by the scoring kernels and their per-ISA files.
//
// This header is deliberately free of std templates: the per-ISA files (topk_avx2.cc,
// topk_avx512.cc) include it, and anything inline they instantiate would be compiled with
// AVX flags and could be picked by the linker for baseline callers (STYLE 9).
//
// Views borrow: the caller keeps the memory alive for the duration of a call. All views are
// read-only, so any number of threads may score the same matrix at once.

#ifndef RECD_MODEL_KERNELS_MATRIX_H_
#define RECD_MODEL_KERNELS_MATRIX_H_

#include <cstddef>
#include <cstdint>

namespace recd::kernels {

// Instruction-set level of a kernel. Ordered: a CPU that supports a level supports all lower.
enum class SimdLevel : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// Largest `dim` the kernels accept (the SPEC caps models at 4096). Bounds the per-call stack
// scratch of the int8 kernels (kMaxDim int16 values).
inline constexpr uint32_t kMaxDim = 16384;

// Row-major float32 matrix. Row r starts at data + r * stride. `stride` is a multiple of 16
// and >= dim; floats [dim, stride) of every row are zero. `data` is 64-byte aligned for speed
// (not required for correctness). May be empty (rows == 0, data == nullptr).
struct MatrixF32 {
  const float* data;
  uint32_t rows;
  uint32_t dim;
  uint32_t stride;
};

// Row-major int8 matrix with one float scale per row: element ~= scales[r] * data[r][d].
// `stride` (bytes) is a multiple of 64 and >= dim; bytes [dim, stride) of every row are zero.
struct MatrixI8 {
  const int8_t* data;
  const float* scales;
  uint32_t rows;
  uint32_t dim;
  uint32_t stride;
};

// Rows that must not be returned: strictly ascending row indices. Indices >= rows are ignored.
struct Exclusions {
  const uint32_t* rows = nullptr;
  size_t count = 0;
};

// One result: the dot product and the row it belongs to.
struct ScoredRow {
  float score;
  uint32_t row;
};

}  // namespace recd::kernels

#endif  // RECD_MODEL_KERNELS_MATRIX_H_
