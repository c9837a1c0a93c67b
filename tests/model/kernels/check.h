// Assertions shared by the kernel tests: run a kernel into an exactly sized output (so ASan
// catches any write past k) and compare with the double-precision reference.

#ifndef RECD_TESTS_MODEL_KERNELS_CHECK_H_
#define RECD_TESTS_MODEL_KERNELS_CHECK_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "model/kernels/kernels.h"
#include "reference.h"

namespace recd::kernels::testing {

inline Exclusions ExclusionsOf(const std::vector<uint32_t>& rows) {
  return Exclusions{rows.data(), rows.size()};
}

inline std::vector<ScoredRow> RunTopK(SimdLevel level, const F32Matrix& m,
                                      const std::vector<float>& query, uint32_t k,
                                      const std::vector<uint32_t>& excluded) {
  std::unique_ptr<ScoredRow[]> out(new ScoredRow[k == 0 ? 1 : k]);
  const size_t n = TopKDotF32(level, m.View(), query.data(), k, ExclusionsOf(excluded), out.get());
  return std::vector<ScoredRow>(out.get(), out.get() + n);
}

inline std::vector<ScoredRow> RunTopK(SimdLevel level, const I8Matrix& m,
                                      const std::vector<float>& query, uint32_t k,
                                      const std::vector<uint32_t>& excluded) {
  std::unique_ptr<ScoredRow[]> out(new ScoredRow[k == 0 ? 1 : k]);
  const size_t n = TopKDotI8(level, m.View(), query.data(), k, ExclusionsOf(excluded), out.get());
  return std::vector<ScoredRow>(out.get(), out.get() + n);
}

// Same rows in the same order with bit-identical scores.
inline void ExpectIdentical(const std::vector<ScoredRow>& got, const std::vector<ScoredRow>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].row, want[i].row) << "position " << i;
    EXPECT_EQ(got[i].score, want[i].score) << "position " << i;
  }
}

// Same rows in the same order, scores equal to the reference converted to float. Used with
// data on which float arithmetic is exact.
inline void ExpectSameAsReference(const std::vector<ScoredRow>& got,
                                  const std::vector<RefRow>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].row, want[i].row) << "position " << i;
    EXPECT_EQ(got[i].score, static_cast<float>(want[i].score)) << "position " << i;
  }
}

// For data where rounding makes near-ties order-dependent: every returned score is within
// `tol` of its reference score, the result is correctly ordered by the returned scores, and
// no eligible row left out beats a returned one by more than 2 * tol.
template <typename Matrix>
void ExpectConsistentWithReference(const std::vector<ScoredRow>& got, const Matrix& m,
                                   const std::vector<float>& query, uint32_t k,
                                   const std::vector<uint32_t>& excluded, double tol) {
  const std::vector<RefRow> all = ReferenceTopK(m, query.data(), m.rows, excluded);
  ASSERT_EQ(got.size(), std::min<size_t>(k, all.size()));
  std::vector<double> ref_score(m.rows, 0.0);
  std::vector<bool> eligible(m.rows, false);
  for (const RefRow& r : all) {
    ref_score[r.row] = r.score;
    eligible[r.row] = true;
  }
  std::vector<bool> returned(m.rows, false);
  double lowest_returned = INFINITY;
  for (size_t i = 0; i < got.size(); ++i) {
    const ScoredRow& s = got[i];
    ASSERT_LT(s.row, m.rows);
    ASSERT_TRUE(eligible[s.row]) << "row " << s.row << " is excluded";
    ASSERT_FALSE(returned[s.row]) << "row " << s.row << " returned twice";
    returned[s.row] = true;
    EXPECT_NEAR(s.score, ref_score[s.row], tol) << "row " << s.row;
    lowest_returned = std::min(lowest_returned, ref_score[s.row]);
    if (i > 0) {
      const ScoredRow& p = got[i - 1];
      EXPECT_TRUE(p.score > s.score || (p.score == s.score && p.row < s.row))
          << "positions " << i - 1 << " and " << i << " are out of order";
    }
  }
  for (const RefRow& r : all) {
    if (!returned[r.row]) {
      EXPECT_LE(r.score, lowest_returned + 2 * tol) << "row " << r.row;
    }
  }
}

// Fraction of `want`'s rows that also appear in `got`.
inline double Overlap(const std::vector<ScoredRow>& got, const std::vector<RefRow>& want) {
  if (want.empty()) return 1.0;
  size_t hits = 0;
  for (const RefRow& w : want) {
    for (const ScoredRow& g : got) hits += g.row == w.row ? 1 : 0;
  }
  return static_cast<double>(hits) / static_cast<double>(want.size());
}

// Sorted random subset of [0, rows) with about `fraction` of the rows.
inline std::vector<uint32_t> RandomExclusions(uint32_t rows, double fraction, std::mt19937* rng) {
  std::bernoulli_distribution pick(fraction);
  std::vector<uint32_t> out;
  for (uint32_t r = 0; r < rows; ++r) {
    if (pick(*rng)) out.push_back(r);
  }
  return out;
}

}  // namespace recd::kernels::testing

#endif  // RECD_TESTS_MODEL_KERNELS_CHECK_H_
