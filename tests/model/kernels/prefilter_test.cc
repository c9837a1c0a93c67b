// The int8-prefiltered float32 top-k must return exactly what the full float32 scan returns,
// at every level, whether the bound settles the query or the full scan has to run.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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
    float min_scale = 0.0f;
    for (float s : i8.scales) {
      max_scale = std::max(max_scale, s);
      if (s > 0.0f && (min_scale == 0.0f || s < min_scale)) min_scale = s;
    }
    view = F32Prefilter{i8.View(), max_scale, min_scale};
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
    // The batch form: every query is re-scored, found unprovable and scanned again in the
    // shared float32 pass, which must overwrite the re-scored answers.
    constexpr size_t kQueries = 5;
    std::vector<std::vector<float>> queries(kQueries, ZeroQuery(32));
    std::vector<uint32_t> ks = {1, 7, 10, 64, 300};
    std::vector<std::unique_ptr<ScoredRow[]>> outs, scratch;
    std::vector<const float*> qptrs;
    std::vector<Exclusions> exs(kQueries);
    std::vector<ScoredRow*> out_ptrs, scratch_ptrs;
    for (size_t i = 0; i < kQueries; ++i) {
      FillGaussian(&queries[i], 32, &rng);
      outs.emplace_back(new ScoredRow[ks[i]]);
      scratch.emplace_back(new ScoredRow[PrefilterCandidates(ks[i])]);
      qptrs.push_back(queries[i].data());
      out_ptrs.push_back(outs[i].get());
      scratch_ptrs.push_back(scratch[i].get());
    }
    std::vector<size_t> counts(kQueries);
    bool proved[kQueries];
    TopKDotF32PrefilteredBatch(level, m.View(), p.view, qptrs.data(), kQueries, ks.data(),
                               exs.data(), out_ptrs.data(), counts.data(), scratch_ptrs.data(),
                               proved);
    for (size_t i = 0; i < kQueries; ++i) {
      EXPECT_FALSE(proved[i]) << i;
      ExpectIdentical(std::vector<ScoredRow>(outs[i].get(), outs[i].get() + counts[i]),
                      RunTopK(level, m, queries[i], ks[i], {}));
    }
  }
}

// Magnitudes where the float steps of the proof stop being correctly rounded normal numbers
// (found in review): a query so small that the int8 kernel's 1 / scale overflows, subnormal
// rows, an int8 score whose intermediate product overflows, a float32 dot whose partial sum
// overflows. The full scan must decide, so the answer stays the float32 one.
TEST(TopKPrefiltered, ExtremeMagnitudesAreLeftToTheFullScan) {
  struct Case {
    const char* name;
    uint32_t dim;
    std::vector<std::vector<float>> rows;
    std::vector<float> query;
    uint32_t k;
  };
  std::vector<Case> cases;
  {
    Case c{"tiny query", 2, {}, {1e-35f, -1e-35f}, 1};
    for (int i = 0; i < 62; ++i) c.rows.push_back({-1e30f, -0.5e30f});
    c.rows.push_back({0.0f, -1e30f});
    c.rows.push_back({-1e30f, 0.99e30f});
    c.rows.push_back({1e30f, -1e30f});
    cases.push_back(c);
  }
  {
    const float min = std::ldexp(1.0f, -149);
    Case c{"subnormal rows", 1, {}, {1e20f}, 1};
    c.rows.push_back({180 * min});
    for (int i = 0; i < 63; ++i) c.rows.push_back({127 * min});
    c.rows.push_back({190 * min});
    cases.push_back(c);
  }
  auto first = [](uint32_t dim, float v) {
    std::vector<float> r(dim, 0.0f);
    r[0] = v;
    return r;
  };
  {
    Case c{"int8 score overflow", 16, {}, std::vector<float>(16, 1e36f), 2};
    c.rows.push_back(first(16, -1.7e-29f));
    c.rows.push_back(first(16, -1.7e-29f));
    for (int i = 0; i < 62; ++i) c.rows.push_back(first(16, -1e-28f));
    c.rows.push_back(std::vector<float>(16, -1e-30f));
    cases.push_back(c);
  }
  {
    Case c{"float32 partial sum overflow", 24, {}, std::vector<float>(24, 0.0f), 1};
    for (int d : {0, 1, 8, 9, 16}) c.query[d] = 1e19f;
    c.rows.push_back(first(24, 1e18f));
    for (int i = 0; i < 63; ++i) c.rows.push_back(first(24, -1e18f));
    std::vector<float> x(24, 0.0f);
    x[0] = 2e19f;
    x[8] = 2e19f;
    x[16] = -2e19f;
    x[1] = -1.5e19f;
    x[9] = -1.6e19f;
    c.rows.push_back(x);
    cases.push_back(c);
  }
  for (SimdLevel level : RunnableLevels()) {
    for (const Case& c : cases) {
      F32Matrix m(static_cast<uint32_t>(c.rows.size()), c.dim);
      for (uint32_t r = 0; r < m.rows; ++r) {
        for (uint32_t d = 0; d < c.dim; ++d) m.Row(r)[d] = c.rows[r][d];
      }
      const Prefiltered p(m);
      std::vector<float> query = ZeroQuery(c.dim);
      for (uint32_t d = 0; d < c.dim; ++d) query[d] = c.query[d];
      bool proved = true;
      SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " " << c.name);
      ExpectIdentical(RunPrefiltered(level, m, p, query, c.k, {}, &proved),
                      RunTopK(level, m, query, c.k, {}));
      EXPECT_FALSE(proved);
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
        SCOPED_TRACE(::testing::Message()
                     << SimdLevelName(level) << " rows=" << rows << " k=" << k);
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
    // 70 queries: more than one batch pass; every fourth one with k beyond the candidate cap,
    // which skips the int8 pass (fallbacks after re-scoring: FallsBackWhen... above).
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
