// The int8-prefiltered float32 top-k must return exactly what the full float32 scan returns,
// at every level, whether the bound settles the query or the full scan has to run.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "check.h"
#include "model/kernels/kernels.h"
#include "reference.h"

namespace recd::kernels::testing {
namespace {

struct Prefiltered {
  explicit Prefiltered(const F32Matrix& m) : i8(m) {
    float max_scale = 0.0f;
    for (float s : i8.scales) max_scale = std::max(max_scale, s);
    view = F32Prefilter{i8.View(), max_scale};
  }
  I8Matrix i8;
  F32Prefilter view;
};

std::vector<ScoredRow> RunPrefiltered(SimdLevel level, const F32Matrix& m, const Prefiltered& p,
                                      const std::vector<float>& query, uint32_t k,
                                      const std::vector<uint32_t>& excluded, bool* proved) {
  std::unique_ptr<ScoredRow[]> out(new ScoredRow[k == 0 ? 1 : k]);
  std::unique_ptr<ScoredRow[]> scratch(new ScoredRow[std::max(1u, PrefilterCandidates(k))]);
  const size_t n = TopKDotF32Prefiltered(level, m.View(), p.view, query.data(), k,
                                         ExclusionsOf(excluded), out.get(), scratch.get(), proved);
  return std::vector<ScoredRow>(out.get(), out.get() + n);
}

TEST(PrefilterCandidates, AreFourTimesKWithinBounds) {
  EXPECT_EQ(PrefilterCandidates(0), 0u);
  EXPECT_EQ(PrefilterCandidates(1), 64u);
  EXPECT_EQ(PrefilterCandidates(10), 64u);
  EXPECT_EQ(PrefilterCandidates(100), 400u);
  EXPECT_EQ(PrefilterCandidates(1000), 4000u);
  EXPECT_EQ(PrefilterCandidates(5000), 4096u);
}

TEST(TopKPrefiltered, EqualsTheFullScanOnGaussianAndClusteredDataAndUsuallyProvesIt) {
  std::mt19937 rng(7);
  for (SimdLevel level : RunnableLevels()) {
    for (uint32_t dim : {16u, 37u, 64u, 200u}) {
      for (bool clustered : {false, true}) {
        F32Matrix m(20000, dim);
        clustered ? FillClustered(&m, &rng) : FillGaussian(&m, &rng);
        const Prefiltered p(m);
        int proved_count = 0;
        int runs = 0;
        for (int q = 0; q < 8; ++q) {
          std::vector<float> query = ZeroQuery(dim);
          clustered ? FillUserQuery(m, &query, &rng) : FillGaussian(&query, dim, &rng);
          for (uint32_t k : {1u, 10u, 100u, 1000u}) {
            SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " dim=" << dim
                                              << " clustered=" << clustered << " k=" << k);
            const std::vector<uint32_t> ex = RandomExclusions(m.rows, 0.01, &rng);
            bool proved = false;
            ExpectIdentical(RunPrefiltered(level, m, p, query, k, ex, &proved),
                            RunTopK(level, m, query, k, ex));
            proved_count += proved;
            ++runs;
          }
        }
        // The point of the prefilter: on data like this the bound settles almost every query.
        EXPECT_GE(proved_count, runs * 3 / 4) << SimdLevelName(level) << " dim=" << dim;
      }
    }
  }
}

// Rows that differ only below the int8 step: their int8 copies are equal, so the bound
// cannot separate them and the full scan must decide, with the same ties by lower row.
TEST(TopKPrefiltered, FallsBackWhenRowsDifferOnlyBelowTheInt8Step) {
  std::mt19937 rng(11);
  std::normal_distribution<float> tiny(0.0f, 1e-4f);
  for (SimdLevel level : RunnableLevels()) {
    F32Matrix m(3000, 32);
    std::vector<float> base = ZeroQuery(32);
    FillGaussian(&base, 32, &rng);
    for (uint32_t r = 0; r < m.rows; ++r) {
      for (uint32_t d = 0; d < m.dim; ++d) m.Row(r)[d] = base[d] + (r % 3 == 0 ? 0.0f : tiny(rng));
    }
    const Prefiltered p(m);
    std::vector<float> query = ZeroQuery(32);
    FillGaussian(&query, 32, &rng);
    for (uint32_t k : {1u, 10u, 200u}) {
      bool proved = true;
      ExpectIdentical(RunPrefiltered(level, m, p, query, k, {}, &proved),
                      RunTopK(level, m, query, k, {}));
      EXPECT_FALSE(proved) << SimdLevelName(level) << " k=" << k;
    }
  }
}

// The bound's worst case, built on purpose: every element of one row sits just below a
// rounding boundary in the direction of the query, so its int8 score is lower than its true
// score by 93 % of the bound. 199 rows on the int8 grid (exact int8 scores) tie with its int8
// score and fill the 64 candidates ahead of it (lower rows win ties); one more on-grid row
// scores between its int8 and its true score. Any bound under 87 % of the real one "proves"
// that row the best and loses the true best row.
TEST(TopKPrefiltered, AWorstCaseRoundedRowIsNotLost) {
  constexpr uint32_t kDim = 16;
  for (SimdLevel level : RunnableLevels()) {
    F32Matrix m(201, kDim);
    for (uint32_t r = 0; r < 200; ++r) {
      m.Row(r)[0] = 1.0f;  // every row's scale is 1 / 127
      // Row 0: 15 elements summing to 127 / 127; the others 120 / 127.
      for (uint32_t d = 1; d < kDim; ++d) {
        m.Row(r)[d] = (8.0f + (r == 0 && d <= 7 ? 1.0f : 0.0f)) / 127.0f;
      }
    }
    const uint32_t hidden = 200;
    m.Row(hidden)[0] = 1.0f;
    for (uint32_t d = 1; d < kDim; ++d) m.Row(hidden)[d] = 8.499f / 127.0f;  // int8 sum 120
    const Prefiltered p(m);
    std::vector<float> query = ZeroQuery(kDim);
    for (uint32_t d = 0; d < kDim; ++d) query[d] = 1.0f;
    bool proved = true;
    const std::vector<ScoredRow> got = RunPrefiltered(level, m, p, query, 1, {}, &proved);
    ExpectIdentical(got, RunTopK(level, m, query, 1, {}));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].row, hidden) << SimdLevelName(level);
    EXPECT_FALSE(proved) << SimdLevelName(level);
  }
}

// Many near-ties relative to the int8 precision (low dim, thousands of rows, many queries):
// whatever the bound decides, the answer is the full scan's.
TEST(TopKPrefiltered, NeverDiffersFromTheFullScanOnManyNearTies) {
  std::mt19937 rng(13);
  for (SimdLevel level : RunnableLevels()) {
    F32Matrix m(5000, 3);
    FillGaussian(&m, &rng);
    const Prefiltered p(m);
    for (int q = 0; q < 300; ++q) {
      std::vector<float> query = ZeroQuery(3);
      FillGaussian(&query, 3, &rng);
      const uint32_t k = 1 + static_cast<uint32_t>(rng() % 40);
      const std::vector<uint32_t> ex = RandomExclusions(m.rows, 0.05, &rng);
      ExpectIdentical(RunPrefiltered(level, m, p, query, k, ex, nullptr),
                      RunTopK(level, m, query, k, ex));
    }
  }
}

TEST(TopKPrefiltered, HandlesEdgeCasesLikeTheFullScan) {
  std::mt19937 rng(17);
  for (SimdLevel level : RunnableLevels()) {
    for (uint32_t rows : {0u, 1u, 50u, 129u, 500u}) {
      F32Matrix m(rows, 20);
      FillExact(&m, &rng);  // many exact ties
      const Prefiltered p(m);
      std::vector<float> query = ZeroQuery(20);
      FillExact(&query, 20, &rng);
      std::vector<uint32_t> everything(rows);
      for (uint32_t r = 0; r < rows; ++r) everything[r] = r;
      for (uint32_t k : {0u, 1u, 10u, 127u, 128u, 600u, 5000u}) {
        SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " rows=" << rows << " k=" << k);
        ExpectIdentical(RunPrefiltered(level, m, p, query, k, {}, nullptr),
                        RunTopK(level, m, query, k, {}));
        ExpectIdentical(RunPrefiltered(level, m, p, query, k, everything, nullptr),
                        RunTopK(level, m, query, k, everything));
      }
      // A zero query ties every row at 0: the first rows, as the full scan returns them.
      const std::vector<float> zero = ZeroQuery(20);
      ExpectIdentical(RunPrefiltered(level, m, p, zero, 10, {}, nullptr),
                      RunTopK(level, m, zero, 10, {}));
    }
  }
}

TEST(TopKPrefilteredBatch, ReturnsExactlyTheSingleQueryResults) {
  std::mt19937 rng(19);
  for (SimdLevel level : RunnableLevels()) {
    F32Matrix m(10000, 48);
    FillClustered(&m, &rng);
    const Prefiltered p(m);
    // 70 queries: more than one batch pass; every fourth one made to fall back (identical
    // rows would be needed for that, so use k beyond the candidate cap instead).
    constexpr size_t kQueries = 70;
    std::vector<std::vector<float>> queries(kQueries);
    std::vector<uint32_t> ks(kQueries);
    std::vector<std::vector<uint32_t>> exs(kQueries);
    std::vector<std::unique_ptr<ScoredRow[]>> outs(kQueries), scratch(kQueries);
    std::vector<const float*> qptrs(kQueries);
    std::vector<Exclusions> ex_views(kQueries);
    std::vector<ScoredRow*> out_ptrs(kQueries), scratch_ptrs(kQueries);
    for (size_t i = 0; i < kQueries; ++i) {
      queries[i] = ZeroQuery(48);
      FillUserQuery(m, &queries[i], &rng);
      ks[i] = i % 4 == 3 ? 4500 : static_cast<uint32_t>(1 + rng() % 50);
      exs[i] = RandomExclusions(m.rows, 0.01, &rng);
      outs[i].reset(new ScoredRow[ks[i]]);
      scratch[i].reset(new ScoredRow[std::max(1u, PrefilterCandidates(ks[i]))]);
      qptrs[i] = queries[i].data();
      ex_views[i] = ExclusionsOf(exs[i]);
      out_ptrs[i] = outs[i].get();
      scratch_ptrs[i] = scratch[i].get();
    }
    std::vector<size_t> counts(kQueries);
    std::unique_ptr<bool[]> proved(new bool[kQueries]);
    TopKDotF32PrefilteredBatch(level, m.View(), p.view, qptrs.data(), kQueries, ks.data(),
                               ex_views.data(), out_ptrs.data(), counts.data(),
                               scratch_ptrs.data(), proved.get());
    for (size_t i = 0; i < kQueries; ++i) {
      SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " query " << i);
      ExpectIdentical(std::vector<ScoredRow>(outs[i].get(), outs[i].get() + counts[i]),
                      RunTopK(level, m, queries[i], ks[i], exs[i]));
      if (ks[i] == 4500) {
        EXPECT_FALSE(proved[i]);
      }
    }
  }
}

}  // namespace
}  // namespace recd::kernels::testing
