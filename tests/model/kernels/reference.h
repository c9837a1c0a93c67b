// Test support for the scoring kernels: owning, padded, aligned matrices built from seeded
// generators, and a plain double-precision top-k that every SIMD level is compared with.

#ifndef RECD_TESTS_MODEL_KERNELS_REFERENCE_H_
#define RECD_TESTS_MODEL_KERNELS_REFERENCE_H_

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "model/kernels/kernels.h"

namespace recd::kernels::testing {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Zero-initialised, 64-byte aligned storage.
template <typename T>
std::unique_ptr<T[], FreeDeleter> AlignedZeros(size_t n) {
  const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
  std::memset(p, 0, bytes == 0 ? 64 : bytes);
  return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(p));
}

// A float32 matrix laid out as MatrixF32 requires (stride a multiple of 16, zero padding).
struct F32Matrix {
  F32Matrix(uint32_t rows, uint32_t dim);
  float* Row(uint32_t r) { return data.get() + static_cast<size_t>(r) * stride; }
  const float* Row(uint32_t r) const { return data.get() + static_cast<size_t>(r) * stride; }
  MatrixF32 View() const { return MatrixF32{data.get(), rows, dim, stride}; }

  uint32_t rows;
  uint32_t dim;
  uint32_t stride;
  std::unique_ptr<float[], FreeDeleter> data;
};

// An int8 matrix as MatrixI8 requires (stride a multiple of 64), quantised with QuantizeRowI8.
struct I8Matrix {
  explicit I8Matrix(const F32Matrix& m);
  const int8_t* Row(uint32_t r) const { return data.get() + static_cast<size_t>(r) * stride; }
  MatrixI8 View() const { return MatrixI8{data.get(), scales.data(), rows, dim, stride}; }

  uint32_t rows;
  uint32_t dim;
  uint32_t stride;
  std::unique_ptr<int8_t[], FreeDeleter> data;
  std::vector<float> scales;
};

// A query of m.stride floats, zero beyond dim.
std::vector<float> ZeroQuery(uint32_t dim);

// Values k / 4 with k in [-8, 8]: every product and partial sum is exact in float for
// dim <= 4096, so any summation order gives the double result exactly, and ties are common.
void FillExact(F32Matrix* m, std::mt19937* rng);
void FillExact(std::vector<float>* query, uint32_t dim, std::mt19937* rng);

// Standard normal values.
void FillGaussian(F32Matrix* m, std::mt19937* rng);
void FillGaussian(std::vector<float>* query, uint32_t dim, std::mt19937* rng);

// Embedding-like data: rows are noisy copies of a few cluster centres with log-normal norms
// (popular items have larger norms); the query is a weighted mean of a few rows, like a user
// vector built from history.
void FillClustered(F32Matrix* m, std::mt19937* rng);
void FillUserQuery(const F32Matrix& m, std::vector<float>* query, std::mt19937* rng);

struct RefRow {
  double score;
  uint32_t row;
};

// Top-k by the double-precision dot, ties by lower row, skipping `excluded` (sorted).
std::vector<RefRow> ReferenceTopK(const F32Matrix& m, const float* query, uint32_t k,
                                  const std::vector<uint32_t>& excluded);
// As above with score = scale[r] * dot(query, int8 row r) in double.
std::vector<RefRow> ReferenceTopK(const I8Matrix& m, const float* query, uint32_t k,
                                  const std::vector<uint32_t>& excluded);

double ReferenceDot(const float* a, const float* b, uint32_t n);

// Every level this CPU can run: kScalar .. SupportedSimdLevel().
std::vector<SimdLevel> RunnableLevels();

}  // namespace recd::kernels::testing

#endif  // RECD_TESTS_MODEL_KERNELS_REFERENCE_H_
