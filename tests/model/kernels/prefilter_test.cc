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
  explicit Prefiltered(const F32Matrix& m) : i8(m), view(PrefilterOf(i8.View())) {}
  I8Matrix i8;
  F32Prefilter view;
};

// Runs the prefiltered kernel into exactly sized buffers (ASan catches any write past them),
// checks that its answer is the full float32 scan's, bit for bit, and returns how it went.
PrefilterOutcome ExpectSameAsFullScan(SimdLevel level, const F32Matrix& m, const Prefiltered& p,
                                      const std::vector<float>& query, uint32_t k,
                                      const std::vector<uint32_t>& excluded = {}) {
  std::unique_ptr<ScoredRow[]> out(new ScoredRow[k == 0 ? 1 : k]);
  std::unique_ptr<ScoredRow[]> scratch(new ScoredRow[std::max(1u, PrefilterCandidates(k))]);
  PrefilterOutcome outcome;
  const size_t n = TopKDotF32Prefiltered(level, m.View(), p.view, query.data(), k,
                                         ExclusionsOf(excluded), out.get(), scratch.get(),
                                         &outcome);
  ExpectIdentical(std::vector<ScoredRow>(out.get(), out.get() + n),
                  RunTopK(level, m, query, k, excluded));
  return outcome;
}

// The batch form of the above, one call for all queries; returns each query's outcome.
std::vector<PrefilterOutcome> ExpectBatchSameAsFullScan(
    SimdLevel level, const F32Matrix& m, const Prefiltered& p,
    const std::vector<std::vector<float>>& queries, const std::vector<uint32_t>& ks,
    const std::vector<std::vector<uint32_t>>& excluded) {
  const size_t nq = queries.size();
  std::vector<std::unique_ptr<ScoredRow[]>> outs, scratch;
  std::vector<const float*> query_ptrs;
  std::vector<Exclusions> exs;
  std::vector<ScoredRow*> out_ptrs, scratch_ptrs;
  for (size_t i = 0; i < nq; ++i) {
    outs.emplace_back(new ScoredRow[std::max(1u, ks[i])]);
    scratch.emplace_back(new ScoredRow[std::max(1u, PrefilterCandidates(ks[i]))]);
    query_ptrs.push_back(queries[i].data());
    exs.push_back(ExclusionsOf(excluded[i]));
    out_ptrs.push_back(outs[i].get());
    scratch_ptrs.push_back(scratch[i].get());
  }
  std::vector<size_t> counts(nq);
  std::vector<PrefilterOutcome> outcomes(nq);
  TopKDotF32PrefilteredBatch(level, m.View(), p.view, query_ptrs.data(), nq, ks.data(),
                             exs.data(), out_ptrs.data(), counts.data(), scratch_ptrs.data(),
                             outcomes.data());
  for (size_t i = 0; i < nq; ++i) {
    SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " query " << i);
    ExpectIdentical(std::vector<ScoredRow>(outs[i].get(), outs[i].get() + counts[i]),
                    RunTopK(level, m, queries[i], ks[i], excluded[i]));
  }
  return outcomes;
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
            proved_count +=
                ExpectSameAsFullScan(level, m, p, query, k, ex) == PrefilterOutcome::kProved;
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
      EXPECT_EQ(ExpectSameAsFullScan(level, m, p, query, k), PrefilterOutcome::kFullScan)
          << SimdLevelName(level) << " k=" << k;
    }
    // The batch form: every query is re-scored, found unprovable and scanned again in the
    // shared float32 pass, which must overwrite the re-scored answers.
    std::vector<std::vector<float>> queries(5, ZeroQuery(32));
    for (auto& q : queries) FillGaussian(&q, 32, &rng);
    for (PrefilterOutcome outcome : ExpectBatchSameAsFullScan(
             level, m, p, queries, {1, 7, 10, 64, 300}, std::vector<std::vector<uint32_t>>(5))) {
      EXPECT_EQ(outcome, PrefilterOutcome::kFullScan);
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
      SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " " << c.name);
      EXPECT_EQ(ExpectSameAsFullScan(level, m, p, query, c.k), PrefilterOutcome::kFullScan);
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
    EXPECT_EQ(ExpectSameAsFullScan(level, m, p, query, 1), PrefilterOutcome::kFullScan)
        << SimdLevelName(level);
    const std::vector<ScoredRow> best = RunTopK(level, m, query, 1, {});
    ASSERT_EQ(best.size(), 1u);
    EXPECT_EQ(best[0].row, hidden) << SimdLevelName(level);
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
      ExpectSameAsFullScan(level, m, p, query, k, ex);
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
        const PrefilterOutcome outcome = ExpectSameAsFullScan(level, m, p, query, k);
        ExpectSameAsFullScan(level, m, p, query, k, everything);
        // No int8 scan for k == 0, nor beyond the candidate cap.
        if (k == 0 || k == 5000) {
          EXPECT_EQ(outcome, PrefilterOutcome::kSkipped);
        }
      }
      // A zero query ties every row at 0: the first rows, as the full scan returns them.
      ExpectSameAsFullScan(level, m, p, ZeroQuery(20), 10);
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
    std::vector<std::vector<float>> queries(kQueries, ZeroQuery(48));
    std::vector<uint32_t> ks(kQueries);
    std::vector<std::vector<uint32_t>> exs(kQueries);
    for (size_t i = 0; i < kQueries; ++i) {
      FillUserQuery(m, &queries[i], &rng);
      ks[i] = i % 4 == 3 ? 4500 : static_cast<uint32_t>(1 + rng() % 50);
      exs[i] = RandomExclusions(m.rows, 0.01, &rng);
    }
    const std::vector<PrefilterOutcome> outcomes =
        ExpectBatchSameAsFullScan(level, m, p, queries, ks, exs);
    for (size_t i = 0; i < kQueries; ++i) {
      if (ks[i] == 4500) {
        EXPECT_EQ(outcomes[i], PrefilterOutcome::kSkipped) << i;
      }
    }
  }
}

}  // namespace
}  // namespace recd::kernels::testing
