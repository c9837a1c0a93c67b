#include "bench/harness/zipf.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace recd::bench {
namespace {

std::vector<double> Pmf(int64_t n, double s) {
  std::vector<double> pmf(static_cast<size_t>(n) + 1, 0.0);
  double norm = 0;
  for (int64_t k = 1; k <= n; ++k) norm += 1.0 / std::pow(static_cast<double>(k), s);
  for (int64_t k = 1; k <= n; ++k) pmf[static_cast<size_t>(k)] = 1.0 / std::pow(k, s) / norm;
  return pmf;
}

void ExpectMatchesPmf(int64_t n, double s, uint64_t seed) {
  ZipfSampler zipf(n, s);
  std::mt19937_64 rng(seed);
  const int samples = 400'000;
  std::vector<int64_t> counts(static_cast<size_t>(n) + 1, 0);
  for (int i = 0; i < samples; ++i) {
    const int64_t k = zipf.Sample(rng);
    ASSERT_GE(k, 1);
    ASSERT_LE(k, n);
    ++counts[static_cast<size_t>(k)];
  }
  const std::vector<double> pmf = Pmf(n, s);
  double chi2 = 0;
  for (int64_t k = 1; k <= n; ++k) {
    const double expected = pmf[static_cast<size_t>(k)] * samples;
    const double observed = static_cast<double>(counts[static_cast<size_t>(k)]);
    // Binomial standard deviation; 5 sigma keeps the test stable for any seed.
    EXPECT_NEAR(observed, expected, 5 * std::sqrt(expected) + 1) << "rank " << k << " s " << s;
    chi2 += (observed - expected) * (observed - expected) / expected;
  }
  // n - 1 degrees of freedom: mean n - 1, sd sqrt(2(n - 1)); allow a wide margin.
  EXPECT_LT(chi2, (n - 1) + 6 * std::sqrt(2.0 * (n - 1))) << "s " << s;
}

TEST(Zipf, FrequenciesMatchThePmfForExponentOne) { ExpectMatchesPmf(50, 1.0, 1); }
TEST(Zipf, FrequenciesMatchThePmfForSteepAndShallowExponents) {
  ExpectMatchesPmf(40, 1.5, 2);
  ExpectMatchesPmf(40, 0.6, 3);
}

TEST(Zipf, RankOneIsTwoToTheExponentTimesRankTwo) {
  ZipfSampler zipf(1'000'000, 1.2);
  std::mt19937_64 rng(4);
  int64_t ones = 0, twos = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const int64_t k = zipf.Sample(rng);
    ones += k == 1;
    twos += k == 2;
  }
  EXPECT_NEAR(static_cast<double>(ones) / static_cast<double>(twos), std::pow(2.0, 1.2), 0.05);
}

TEST(Zipf, ExponentZeroIsUniform) {
  ZipfSampler zipf(10, 0.0);
  std::mt19937_64 rng(5);
  std::vector<int64_t> counts(11, 0);
  for (int i = 0; i < 100'000; ++i) ++counts[static_cast<size_t>(zipf.Sample(rng))];
  for (int k = 1; k <= 10; ++k) EXPECT_NEAR(counts[static_cast<size_t>(k)], 10'000, 500);
}

TEST(Zipf, StaysWithinRangeForTinyAndHugePopulations) {
  std::mt19937_64 rng(6);
  ZipfSampler one(1, 1.0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(one.Sample(rng), 1);
  ZipfSampler huge(1'000'000'000, 0.8);
  for (int i = 0; i < 100'000; ++i) {
    const int64_t k = huge.Sample(rng);
    ASSERT_GE(k, 1);
    ASSERT_LE(k, 1'000'000'000);
  }
}

}  // namespace
}  // namespace recd::bench
