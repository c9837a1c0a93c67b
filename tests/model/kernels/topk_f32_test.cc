// Differential tests of the float32 top-k at every level this CPU supports, against a plain
// double-precision reference (STYLE 10).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "check.h"
#include "model/kernels/kernels.h"
#include "reference.h"

namespace recd::kernels::testing {
namespace {

constexpr uint32_t kAwkwardDims[] = {1, 15, 16, 17, 63, 64, 65, 127};
constexpr uint32_t kRowCounts[] = {0, 1, 2, 15, 16, 17, 100, 1000};

TEST(TopK, MatchesReferenceOrderExactlyAtEveryLevelAndAwkwardDim) {
  std::mt19937 rng(1);
  for (SimdLevel level : RunnableLevels()) {
    for (uint32_t dim : kAwkwardDims) {
      for (uint32_t rows : kRowCounts) {
        F32Matrix m(rows, dim);
        FillExact(&m, &rng);
        std::vector<float> query = ZeroQuery(dim);
        FillExact(&query, dim, &rng);
        for (uint32_t k : {1u, 10u, 1000u}) {
          for (double excluded_fraction : {0.0, 0.2}) {
            SCOPED_TRACE(::testing::Message()
                         << SimdLevelName(level) << " dim=" << dim << " rows=" << rows << " k=" << k
                         << " excluded=" << excluded_fraction);
            const std::vector<uint32_t> ex = RandomExclusions(rows, excluded_fraction, &rng);
            ExpectSameAsReference(RunTopK(level, m, query, k, ex),
                                  ReferenceTopK(m, query.data(), k, ex));
          }
        }
      }
    }
  }
}

TEST(TopK, StaysWithinRoundingOfReferenceOnGaussianData) {
  std::mt19937 rng(2);
  for (SimdLevel level : RunnableLevels()) {
    for (uint32_t dim : {1u, 17u, 64u, 65u, 127u, 300u}) {
      F32Matrix m(2000, dim);
      FillGaussian(&m, &rng);
      std::vector<float> query = ZeroQuery(dim);
      FillGaussian(&query, dim, &rng);
      const std::vector<uint32_t> ex = RandomExclusions(m.rows, 0.05, &rng);
      // Each float operation of a dot errs by at most 2^-24 of the running magnitude, which is
      // bounded by sum |q_d * r_d| <= ~4 * dim for unit Gaussians.
      const double tol = (dim + 8) * 4.0 * dim * std::ldexp(1.0, -24);
      SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " dim=" << dim);
      ExpectConsistentWithReference(RunTopK(level, m, query, 10, ex), m, query, 10, ex, tol);
    }
  }
}

TEST(TopK, ReturnsEveryEligibleRowWhenKExceedsRows) {
  std::mt19937 rng(3);
  F32Matrix m(37, 20);
  FillExact(&m, &rng);
  std::vector<float> query = ZeroQuery(20);
  FillExact(&query, 20, &rng);
  const std::vector<uint32_t> ex = {0, 5, 36};
  for (SimdLevel level : RunnableLevels()) {
    const std::vector<ScoredRow> got = RunTopK(level, m, query, 1000, ex);
    EXPECT_EQ(got.size(), 34u);
    ExpectSameAsReference(got, ReferenceTopK(m, query.data(), 1000, ex));
  }
}

TEST(TopK, FillsAThousandSlotsFromALargerMatrix) {
  std::mt19937 rng(4);
  F32Matrix m(1500, 33);
  FillExact(&m, &rng);
  std::vector<float> query = ZeroQuery(33);
  FillExact(&query, 33, &rng);
  const std::vector<uint32_t> ex = RandomExclusions(m.rows, 0.1, &rng);
  for (SimdLevel level : RunnableLevels()) {
    ExpectSameAsReference(RunTopK(level, m, query, 1000, ex),
                          ReferenceTopK(m, query.data(), 1000, ex));
  }
}

TEST(TopK, ReturnsNothingForAnEmptyMatrix) {
  const MatrixF32 empty{nullptr, 0, 64, 64};
  std::vector<float> query = ZeroQuery(64);
  ScoredRow out[10];
  for (SimdLevel level : RunnableLevels()) {
    EXPECT_EQ(TopKDotF32(level, empty, query.data(), 10, {}, out), 0u);
  }
}

TEST(TopK, ReturnsNothingWhenKIsZero) {
  std::mt19937 rng(5);
  F32Matrix m(50, 16);
  FillExact(&m, &rng);
  std::vector<float> query = ZeroQuery(16);
  FillExact(&query, 16, &rng);
  for (SimdLevel level : RunnableLevels()) {
    EXPECT_EQ(TopKDotF32(level, m.View(), query.data(), 0, {}, nullptr), 0u);
  }
}

TEST(TopK, ReturnsNothingWhenEveryRowIsExcluded) {
  std::mt19937 rng(6);
  F32Matrix m(40, 17);
  FillExact(&m, &rng);
  std::vector<float> query = ZeroQuery(17);
  FillExact(&query, 17, &rng);
  std::vector<uint32_t> all;
  for (uint32_t r = 0; r < m.rows; ++r) all.push_back(r);
  for (SimdLevel level : RunnableLevels()) {
    EXPECT_TRUE(RunTopK(level, m, query, 10, all).empty());
  }
}

TEST(TopK, IgnoresExclusionsBeyondTheLastRow) {
  std::mt19937 rng(7);
  F32Matrix m(30, 8);
  FillExact(&m, &rng);
  std::vector<float> query = ZeroQuery(8);
  FillExact(&query, 8, &rng);
  const std::vector<uint32_t> ex = {3, 30, 31, 1000000};
  for (SimdLevel level : RunnableLevels()) {
    ExpectSameAsReference(RunTopK(level, m, query, 40, ex), ReferenceTopK(m, query.data(), 40, ex));
  }
}

TEST(TopK, SkipsExcludedItemsAtHeapBoundary) {
  std::mt19937 rng(8);
  F32Matrix m(500, 24);
  FillGaussian(&m, &rng);
  std::vector<float> query = ZeroQuery(24);
  FillGaussian(&query, 24, &rng);
  const uint32_t k = 10;
  const std::vector<RefRow> ranking = ReferenceTopK(m, query.data(), m.rows, {});
  // The best row, the k-th and the (k+1)-th: the last two decide the heap's final root.
  std::vector<uint32_t> by_rank = {ranking[0].row, ranking[k - 1].row, ranking[k].row};
  // Rows k-1 and k: the heap fills exactly at k-1 and row k is the first compared to the root.
  std::vector<uint32_t> by_position = {k - 1, k};
  for (std::vector<uint32_t>* ex : {&by_rank, &by_position}) {
    std::sort(ex->begin(), ex->end());
    std::vector<uint32_t> want;
    for (const RefRow& r : ReferenceTopK(m, query.data(), k, *ex)) want.push_back(r.row);
    for (SimdLevel level : RunnableLevels()) {
      SCOPED_TRACE(SimdLevelName(level));
      const std::vector<ScoredRow> got = RunTopK(level, m, query, k, *ex);
      ASSERT_EQ(got.size(), k);
      for (uint32_t i = 0; i < k; ++i) EXPECT_EQ(got[i].row, want[i]) << "position " << i;
    }
  }
}

TEST(TopK, BreaksExactTiesByLowerRowIndex) {
  std::mt19937 rng(9);
  const uint32_t dim = 19;
  F32Matrix base(7, dim);
  FillExact(&base, &rng);
  F32Matrix m(200, dim);
  for (uint32_t r = 0; r < m.rows; ++r) {
    for (uint32_t d = 0; d < dim; ++d) m.Row(r)[d] = base.Row(r % 7)[d];
  }
  std::vector<float> query = ZeroQuery(dim);
  FillExact(&query, dim, &rng);
  const std::vector<uint32_t> ex = {7, 14, 150};
  for (SimdLevel level : RunnableLevels()) {
    SCOPED_TRACE(SimdLevelName(level));
    const std::vector<ScoredRow> got = RunTopK(level, m, query, 45, ex);
    ExpectSameAsReference(got, ReferenceTopK(m, query.data(), 45, ex));
  }
}

TEST(TopK, ReturnsTheFirstRowsWhenEveryScoreTies) {
  std::mt19937 rng(10);
  F32Matrix m(100, 32);
  FillGaussian(&m, &rng);
  const std::vector<float> zero = ZeroQuery(32);
  for (SimdLevel level : RunnableLevels()) {
    const std::vector<ScoredRow> got = RunTopK(level, m, zero, 20, {2});
    ASSERT_EQ(got.size(), 20u);
    for (uint32_t i = 0; i < 20; ++i) EXPECT_EQ(got[i].row, i < 2 ? i : i + 1);
  }
}

TEST(TopK, RanksNanScoresBelowEveryNumber) {
  F32Matrix m(3, 2);
  m.Row(0)[0] = INFINITY;  // inf + -inf: a NaN score
  m.Row(0)[1] = -INFINITY;
  m.Row(1)[0] = -5.0f;
  m.Row(2)[0] = 1.0f;
  std::vector<float> query = ZeroQuery(2);
  query[0] = 1.0f;
  query[1] = 1.0f;
  for (SimdLevel level : RunnableLevels()) {
    SCOPED_TRACE(SimdLevelName(level));
    const std::vector<ScoredRow> got = RunTopK(level, m, query, 3, {});
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].row, 2u);
    EXPECT_EQ(got[1].row, 1u);
    EXPECT_EQ(got[2].row, 0u);
    EXPECT_EQ(got[2].score, -INFINITY);
  }
}

TEST(TopK, ClampsALevelAboveTheCpuToTheSupportedOne) {
  std::mt19937 rng(11);
  F32Matrix m(100, 40);
  FillGaussian(&m, &rng);
  std::vector<float> query = ZeroQuery(40);
  FillGaussian(&query, 40, &rng);
  ExpectIdentical(RunTopK(static_cast<SimdLevel>(99), m, query, 10, {}),
                  RunTopK(SupportedSimdLevel(), m, query, 10, {}));
}

TEST(TopKDeathTest, AbortsOnUnsortedExclusions) {
  F32Matrix m(10, 16);
  std::vector<float> query = ZeroQuery(16);
  const std::vector<uint32_t> ex = {5, 3};
  ScoredRow out[3];
  EXPECT_DEATH(TopKDotF32(SimdLevel::kScalar, m.View(), query.data(), 3, ExclusionsOf(ex), out),
               "not strictly ascending");
}

TEST(TopKDeathTest, AbortsOnAStrideThatIsNotPadded) {
  F32Matrix m(10, 16);
  std::vector<float> query = ZeroQuery(16);
  MatrixF32 bad = m.View();
  bad.stride = 20;
  ScoredRow out[3];
  EXPECT_DEATH(TopKDotF32(SimdLevel::kScalar, bad, query.data(), 3, {}, out), "stride");
}

TEST(DotF32, IsBitIdenticalToTheTopKScoreOfTheSameRow) {
  std::mt19937 rng(12);
  for (SimdLevel level : RunnableLevels()) {
    for (uint32_t dim : kAwkwardDims) {
      F32Matrix m(40, dim);
      FillGaussian(&m, &rng);
      std::vector<float> query = ZeroQuery(dim);
      FillGaussian(&query, dim, &rng);
      for (const ScoredRow& s : RunTopK(level, m, query, m.rows, {})) {
        EXPECT_EQ(s.score, DotF32(level, query.data(), m.Row(s.row), dim))
            << SimdLevelName(level) << " dim=" << dim << " row=" << s.row;
      }
    }
  }
}

TEST(DotF32, MatchesReferenceForAnyLengthAndAlignment) {
  std::mt19937 rng(13);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> a(300), b(300);
  for (float& x : a) x = dist(rng);
  for (float& x : b) x = dist(rng);
  for (SimdLevel level : RunnableLevels()) {
    for (uint32_t n = 0; n <= 130; ++n) {
      for (uint32_t offset : {0u, 1u, 3u}) {
        const double want = ReferenceDot(a.data() + offset, b.data() + 2 * offset, n);
        EXPECT_NEAR(DotF32(level, a.data() + offset, b.data() + 2 * offset, n), want,
                    1e-5 * (n + 1))
            << SimdLevelName(level) << " n=" << n << " offset=" << offset;
      }
    }
  }
}

}  // namespace
}  // namespace recd::kernels::testing
