// Tests of the int8 top-k: exact agreement across levels, closeness to the dequantised
// double reference, and how well it keeps the float32 top 10.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <vector>

#include "check.h"
#include "model/kernels/kernels.h"
#include "reference.h"

namespace recd::kernels::testing {
namespace {

// Bound on |kernel - reference| from the 16-bit query rounding (half a step per element) plus
// float rounding of the final conversions.
double I8Tolerance(const I8Matrix& m, const std::vector<float>& query) {
  double qmax = 0;
  for (uint32_t d = 0; d < m.dim; ++d) qmax = std::max(qmax, std::fabs(double{query[d]}));
  double limit = std::min(32767.0, std::floor(2147483647.0 / (128.0 * std::max(1u, m.dim))));
  double bound = 0;
  for (uint32_t r = 0; r < m.rows; ++r) {
    double sum = 0;
    for (uint32_t d = 0; d < m.dim; ++d) sum += std::fabs(static_cast<double>(m.Row(r)[d]));
    bound = std::max(bound, sum * m.scales[r]);
  }
  return bound * (0.51 * qmax / limit + 1e-6 * qmax) + 1e-30;
}

TEST(TopKI8, ScoresAreBitIdenticalAtEveryLevel) {
  std::mt19937 rng(21);
  for (uint32_t dim : {1u, 15u, 16u, 17u, 31u, 33u, 63u, 64u, 65u, 127u, 300u}) {
    for (uint32_t rows : {0u, 1u, 7u, 17u, 100u, 1000u}) {
      F32Matrix f(rows, dim);
      FillGaussian(&f, &rng);
      const I8Matrix m(f);
      std::vector<float> query = ZeroQuery(dim);
      FillGaussian(&query, dim, &rng);
      const std::vector<uint32_t> ex = RandomExclusions(rows, 0.1, &rng);
      const std::vector<ScoredRow> scalar = RunTopK(SimdLevel::kScalar, m, query, 50, ex);
      for (SimdLevel level : RunnableLevels()) {
        SCOPED_TRACE(::testing::Message()
                     << SimdLevelName(level) << " dim=" << dim << " rows=" << rows);
        ExpectIdentical(RunTopK(level, m, query, 50, ex), scalar);
      }
    }
  }
}

TEST(TopKI8, StaysWithinQueryRoundingOfTheDequantisedReference) {
  std::mt19937 rng(22);
  for (SimdLevel level : RunnableLevels()) {
    for (uint32_t dim : {1u, 17u, 64u, 65u, 127u, 1000u}) {
      F32Matrix f(1500, dim);
      FillGaussian(&f, &rng);
      const I8Matrix m(f);
      std::vector<float> query = ZeroQuery(dim);
      FillGaussian(&query, dim, &rng);
      const std::vector<uint32_t> ex = RandomExclusions(m.rows, 0.05, &rng);
      SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " dim=" << dim);
      ExpectConsistentWithReference(RunTopK(level, m, query, 10, ex), m, query, 10, ex,
                                    I8Tolerance(m, query));
    }
  }
}

TEST(TopKI8, BreaksExactTiesByLowerRowIndex) {
  std::mt19937 rng(23);
  const uint32_t dim = 70;
  F32Matrix base(5, dim);
  FillGaussian(&base, &rng);
  F32Matrix f(123, dim);
  for (uint32_t r = 0; r < f.rows; ++r) {
    for (uint32_t d = 0; d < dim; ++d) f.Row(r)[d] = base.Row(r % 5)[d];
  }
  const I8Matrix m(f);
  std::vector<float> query = ZeroQuery(dim);
  FillGaussian(&query, dim, &rng);
  const std::vector<uint32_t> ex = {0, 10, 11};
  for (SimdLevel level : RunnableLevels()) {
    SCOPED_TRACE(SimdLevelName(level));
    const std::vector<ScoredRow> got = RunTopK(level, m, query, 60, ex);
    const std::vector<RefRow> want = ReferenceTopK(m, query.data(), 60, ex);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].row, want[i].row) << i;
  }
}

TEST(TopKI8, SkipsExcludedItemsAtHeapBoundary) {
  std::mt19937 rng(24);
  F32Matrix f(400, 48);
  FillGaussian(&f, &rng);
  const I8Matrix m(f);
  std::vector<float> query = ZeroQuery(48);
  FillGaussian(&query, 48, &rng);
  const uint32_t k = 10;
  const std::vector<ScoredRow> full = RunTopK(SimdLevel::kScalar, m, query, m.rows, {});
  std::vector<uint32_t> ex = {full[0].row, full[k - 1].row, full[k].row};
  std::sort(ex.begin(), ex.end());
  std::vector<uint32_t> want;
  for (const ScoredRow& s : full) {
    if (!std::binary_search(ex.begin(), ex.end(), s.row) && want.size() < k) want.push_back(s.row);
  }
  for (SimdLevel level : RunnableLevels()) {
    const std::vector<ScoredRow> got = RunTopK(level, m, query, k, ex);
    ASSERT_EQ(got.size(), k);
    for (uint32_t i = 0; i < k; ++i) EXPECT_EQ(got[i].row, want[i]) << SimdLevelName(level);
  }
}

// Mean top-10 overlap of int8 with the float32 reference over `queries` queries.
double MeanOverlap(SimdLevel level, const F32Matrix& f, const std::vector<std::vector<float>>& qs) {
  const I8Matrix m(f);
  double sum = 0;
  for (const std::vector<float>& q : qs) {
    sum += Overlap(RunTopK(level, m, q, 10, {}), ReferenceTopK(f, q.data(), 10, {}));
  }
  return sum / static_cast<double>(qs.size());
}

TEST(TopKI8, KeepsAtLeast95PercentOfTheFloatTop10OnGaussianData) {
  std::mt19937 rng(25);
  for (uint32_t dim : {32u, 64u, 128u}) {
    F32Matrix f(20000, dim);
    FillGaussian(&f, &rng);
    std::vector<std::vector<float>> queries(40, ZeroQuery(dim));
    for (std::vector<float>& q : queries) FillGaussian(&q, dim, &rng);
    const double overlap = MeanOverlap(DetectedSimdLevel(), f, queries);
    std::cout << "gaussian dim=" << dim << " int8 top-10 overlap " << overlap << "\n";
    EXPECT_GE(overlap, 0.95) << "dim=" << dim;
  }
}

TEST(TopKI8, KeepsAtLeast95PercentOfTheFloatTop10OnClusteredData) {
  std::mt19937 rng(26);
  for (uint32_t dim : {32u, 64u, 128u}) {
    F32Matrix f(20000, dim);
    FillClustered(&f, &rng);
    std::vector<std::vector<float>> queries(40, ZeroQuery(dim));
    for (std::vector<float>& q : queries) FillUserQuery(f, &q, &rng);
    const double overlap = MeanOverlap(DetectedSimdLevel(), f, queries);
    std::cout << "clustered dim=" << dim << " int8 top-10 overlap " << overlap << "\n";
    EXPECT_GE(overlap, 0.95) << "dim=" << dim;
  }
}

TEST(TopKI8, ReturnsNothingForAnEmptyMatrixOrZeroK) {
  const MatrixI8 empty{nullptr, nullptr, 0, 64, 64};
  std::vector<float> query = ZeroQuery(64);
  ScoredRow out[4];
  std::mt19937 rng(27);
  F32Matrix f(10, 64);
  FillGaussian(&f, &rng);
  const I8Matrix m(f);
  for (SimdLevel level : RunnableLevels()) {
    EXPECT_EQ(TopKDotI8(level, empty, query.data(), 4, {}, out), 0u);
    EXPECT_EQ(TopKDotI8(level, m.View(), query.data(), 0, {}, nullptr), 0u);
  }
}

TEST(TopKI8, ZeroQueryScoresZeroAndKeepsRowOrder) {
  std::mt19937 rng(28);
  F32Matrix f(30, 40);
  FillGaussian(&f, &rng);
  const I8Matrix m(f);
  const std::vector<float> zero = ZeroQuery(40);
  for (SimdLevel level : RunnableLevels()) {
    const std::vector<ScoredRow> got = RunTopK(level, m, zero, 5, {});
    ASSERT_EQ(got.size(), 5u);
    for (uint32_t i = 0; i < 5; ++i) {
      EXPECT_EQ(got[i].row, i);
      EXPECT_EQ(got[i].score, 0.0f);
    }
  }
}

}  // namespace
}  // namespace recd::kernels::testing
