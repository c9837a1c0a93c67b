// Single-query scans of matrices large enough to be read as several row segments side by
// side (internal::kSegmentedMinBytes), each with its own top-k merged at the end. The merged
// answer must be exactly the one-stream answer: the same rows in the same order, ties to the
// lower row across segment boundaries, exclusions in every segment.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "check.h"
#include "model/kernels/internal.h"
#include "model/kernels/kernels.h"
#include "reference.h"

namespace recd::kernels::testing {
namespace {

using internal::kMaxScanStreams;
using internal::kSegmentedMaxK;
using internal::kSegmentedMinBytes;

// Enough rows of `row_bytes` to be scanned in segments, plus an uneven remainder.
uint32_t SegmentedRows(size_t row_bytes, uint32_t extra) {
  return static_cast<uint32_t>(kSegmentedMinBytes / row_bytes) + extra;
}

// Rows on both sides of every place a segment could start (near rows / n * s for any stream
// count n up to kMaxScanStreams), merged with `ex`, sorted and unique.
std::vector<uint32_t> WithBoundaryRows(uint32_t rows, std::vector<uint32_t> ex) {
  for (uint32_t n = 2; n <= kMaxScanStreams; ++n) {
    for (uint32_t s = 1; s < n; ++s) {
      const uint32_t near = rows / n * s;
      for (uint32_t r = near - 9; r <= near + 9; r += 3) ex.push_back(r);
    }
  }
  std::sort(ex.begin(), ex.end());
  ex.erase(std::unique(ex.begin(), ex.end()), ex.end());
  return ex;
}

TEST(SegmentedScan, F32MatchesTheReferenceExactlyAcrossSegmentBoundaries) {
  std::mt19937 rng(41);
  for (uint32_t dim : {16u, 64u, 65u}) {
    F32Matrix m(SegmentedRows((dim + 15) / 16 * 64, 13), dim);
    FillExact(&m, &rng);
    std::vector<float> query = ZeroQuery(dim);
    FillExact(&query, dim, &rng);
    const std::vector<uint32_t> ex = WithBoundaryRows(m.rows, RandomExclusions(m.rows, 0.1, &rng));
    for (uint32_t k : {1u, 10u, 1000u, kSegmentedMaxK, kSegmentedMaxK + 1}) {
      for (SimdLevel level : RunnableLevels()) {
        SCOPED_TRACE(::testing::Message()
                     << SimdLevelName(level) << " dim=" << dim << " rows=" << m.rows << " k=" << k);
        ExpectSameAsReference(RunTopK(level, m, query, k, ex),
                              ReferenceTopK(m, query.data(), k, ex));
      }
    }
  }
}

TEST(SegmentedScan, TiesAcrossSegmentsGoToTheLowerRow) {
  std::mt19937 rng(42);
  const uint32_t dim = 64;
  F32Matrix base(7, dim);
  FillExact(&base, &rng);
  F32Matrix m(SegmentedRows(dim * 4, 5), dim);
  for (uint32_t r = 0; r < m.rows; ++r) {
    for (uint32_t d = 0; d < dim; ++d) m.Row(r)[d] = base.Row(r % 7)[d];
  }
  std::vector<float> query = ZeroQuery(dim);
  FillExact(&query, dim, &rng);
  // Every 7th row scores the same: the best ones are spread over all segments.
  const std::vector<uint32_t> ex = WithBoundaryRows(m.rows, {0, 7});
  for (uint32_t k : {45u, 1000u}) {
    for (SimdLevel level : RunnableLevels()) {
      SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " k=" << k);
      ExpectSameAsReference(RunTopK(level, m, query, k, ex), ReferenceTopK(m, query.data(), k, ex));
    }
  }
}

TEST(SegmentedScan, WideRowsWithKLargerThanASegment) {
  std::mt19937 rng(43);
  const uint32_t dim = 4096;
  F32Matrix m(SegmentedRows(dim * 4, 3), dim);  // about 32 rows per segment
  FillExact(&m, &rng);
  std::vector<float> query = ZeroQuery(dim);
  FillExact(&query, dim, &rng);
  const std::vector<uint32_t> ex = {1, 40, 41, 99, m.rows - 1};
  for (uint32_t k : {20u, 100u, 1000u}) {
    for (SimdLevel level : RunnableLevels()) {
      SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " k=" << k);
      ExpectSameAsReference(RunTopK(level, m, query, k, ex), ReferenceTopK(m, query.data(), k, ex));
    }
  }
}

TEST(SegmentedScan, WholeSegmentsExcludedLeaveTheOthers) {
  std::mt19937 rng(44);
  const uint32_t dim = 32;
  F32Matrix m(SegmentedRows(dim * 4, 1), dim);
  FillExact(&m, &rng);
  std::vector<float> query = ZeroQuery(dim);
  FillExact(&query, dim, &rng);
  // The first and third quarters, and a few rows past them.
  std::vector<uint32_t> ex;
  const uint32_t quarter = m.rows / 4;
  for (uint32_t r = 0; r < quarter + 3; ++r) ex.push_back(r);
  for (uint32_t r = 2 * quarter - 3; r < 3 * quarter + 3; ++r) ex.push_back(r);
  for (SimdLevel level : RunnableLevels()) {
    SCOPED_TRACE(SimdLevelName(level));
    const std::vector<ScoredRow> got = RunTopK(level, m, query, 300, ex);
    ExpectSameAsReference(got, ReferenceTopK(m, query.data(), 300, ex));
  }
}

TEST(SegmentedScan, NanScoresInEverySegmentRankLast) {
  const uint32_t dim = 16;
  F32Matrix m(SegmentedRows(dim * 4, 9), dim);
  for (uint32_t r = 0; r < m.rows; ++r) m.Row(r)[0] = -1.0f;
  std::vector<uint32_t> nan_rows;
  for (uint32_t s = 0; s < kMaxScanStreams; ++s) {
    nan_rows.push_back(m.rows / kMaxScanStreams * s + 2);
  }
  for (uint32_t r : nan_rows) {
    m.Row(r)[0] = INFINITY;  // inf * 1 + -inf * 1: NaN
    m.Row(r)[1] = -INFINITY;
  }
  // Only the NaN rows and three others are eligible: the three come first, then the NaNs as
  // -infinity in row order.
  std::vector<uint32_t> ex;
  for (uint32_t r = 0; r < m.rows; ++r) {
    const bool keep = r == 5 || r == m.rows / 2 + 1 || r == m.rows - 1 ||
                      std::find(nan_rows.begin(), nan_rows.end(), r) != nan_rows.end();
    if (!keep) ex.push_back(r);
  }
  std::vector<float> query = ZeroQuery(dim);
  query[0] = 1.0f;
  query[1] = 1.0f;
  for (SimdLevel level : RunnableLevels()) {
    SCOPED_TRACE(SimdLevelName(level));
    const std::vector<ScoredRow> got = RunTopK(level, m, query, 20, ex);
    ASSERT_EQ(got.size(), 3u + kMaxScanStreams);
    EXPECT_EQ(got[0].row, 5u);
    EXPECT_EQ(got[1].row, m.rows / 2 + 1);
    EXPECT_EQ(got[2].row, m.rows - 1);
    for (uint32_t s = 0; s < kMaxScanStreams; ++s) {
      EXPECT_EQ(got[3 + s].row, nan_rows[s]);
      EXPECT_EQ(got[3 + s].score, -INFINITY);
    }
  }
}

TEST(SegmentedScan, I8IsBitIdenticalToTheOneStreamScalarScan) {
  std::mt19937 rng(45);
  for (uint32_t dim : {64u, 100u}) {
    F32Matrix f(SegmentedRows((dim + 63) / 64 * 64, 21), dim);
    FillGaussian(&f, &rng);
    const I8Matrix m(f);
    std::vector<float> query = ZeroQuery(dim);
    FillGaussian(&query, dim, &rng);
    const std::vector<uint32_t> ex = WithBoundaryRows(m.rows, RandomExclusions(m.rows, 0.1, &rng));
    for (uint32_t k : {10u, 1000u, kSegmentedMaxK + 1}) {
      const std::vector<ScoredRow> scalar = RunTopK(SimdLevel::kScalar, m, query, k, ex);
      for (SimdLevel level : RunnableLevels()) {
        SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " dim=" << dim << " k=" << k);
        ExpectIdentical(RunTopK(level, m, query, k, ex), scalar);
      }
    }
  }
}

// Batches read the matrix in one pass for all queries; a segmented single scan must still
// give each query the same bits.
TEST(SegmentedScan, BatchesAgreeBitForBitWithSegmentedSingleScans) {
  std::mt19937 rng(46);
  const uint32_t dim = 64;
  F32Matrix f(SegmentedRows(dim * 4, 3), dim);
  FillGaussian(&f, &rng);
  const I8Matrix i8(f);
  constexpr size_t kQueries = 5;
  std::vector<std::vector<float>> queries(kQueries, ZeroQuery(dim));
  std::vector<std::vector<uint32_t>> ex(kQueries);
  std::vector<const float*> qp;
  std::vector<Exclusions> exv;
  for (size_t q = 0; q < kQueries; ++q) {
    FillGaussian(&queries[q], dim, &rng);
    ex[q] = RandomExclusions(f.rows, 0.01, &rng);
    qp.push_back(queries[q].data());
    exv.push_back(ExclusionsOf(ex[q]));
  }
  const std::vector<uint32_t> ks(kQueries, 50);
  std::vector<std::vector<ScoredRow>> outs(kQueries, std::vector<ScoredRow>(50));
  std::vector<ScoredRow*> op;
  for (auto& o : outs) op.push_back(o.data());
  std::vector<size_t> counts(kQueries);
  for (SimdLevel level : RunnableLevels()) {
    SCOPED_TRACE(SimdLevelName(level));
    TopKDotF32Batch(level, f.View(), qp.data(), kQueries, ks.data(), exv.data(), op.data(),
                    counts.data());
    for (size_t q = 0; q < kQueries; ++q) {
      ExpectIdentical(std::vector<ScoredRow>(outs[q].begin(), outs[q].begin() + counts[q]),
                      RunTopK(level, f, queries[q], 50, ex[q]));
    }
    TopKDotI8Batch(level, i8.View(), qp.data(), kQueries, ks.data(), exv.data(), op.data(),
                   counts.data());
    for (size_t q = 0; q < kQueries; ++q) {
      ExpectIdentical(std::vector<ScoredRow>(outs[q].begin(), outs[q].begin() + counts[q]),
                      RunTopK(level, i8, queries[q], 50, ex[q]));
    }
  }
}

}  // namespace
}  // namespace recd::kernels::testing
