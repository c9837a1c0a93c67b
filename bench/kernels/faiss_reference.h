// FAISS as the in-binary reference for kernels_bench (STYLE 14). Built only when CMake finds
// libfaiss; FAISS headers stay inside faiss_reference.cc.

#ifndef RECD_BENCH_KERNELS_FAISS_REFERENCE_H_
#define RECD_BENCH_KERNELS_FAISS_REFERENCE_H_

#include <cstdint>
#include <memory>
#include <string>

namespace recd::bench {

// An exhaustive inner-product index over a copy of the rows, searched on one thread.
class FaissFlat {
 public:
  enum class Kind { kFlatIP, kSQ8 };  // IndexFlatIP, or IndexScalarQuantizer QT_8bit

  // Copies `rows` rows of `dim` floats (row r at data + r * stride).
  FaissFlat(Kind kind, const float* data, uint32_t rows, uint32_t dim, uint32_t stride);
  ~FaissFlat();

  // `nq` contiguous queries of `dim` floats; writes nq * k scores and labels.
  void Search(const float* queries, uint32_t nq, uint32_t k, float* scores, int64_t* labels) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Pins FAISS (and its OpenMP runtime) to one thread for a fair single-core comparison.
void FaissUseOneThread();

// FAISS's own description of how it was compiled (e.g. which SIMD it uses).
std::string FaissCompileOptions();

}  // namespace recd::bench

#endif  // RECD_BENCH_KERNELS_FAISS_REFERENCE_H_
