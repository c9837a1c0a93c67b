#include "bench/harness/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace recd::bench {
namespace {

// The value at 1-based rank ceil(p/100 * n) of the sorted samples: what a percentile means.
int64_t SortedReference(std::vector<int64_t> values, double p, bool sorted = false) {
  if (!sorted) std::sort(values.begin(), values.end());
  const auto n = static_cast<int64_t>(values.size());
  int64_t rank = static_cast<int64_t>(std::ceil(p / 100.0 * static_cast<double>(n) - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, n);
  return values[static_cast<size_t>(rank - 1)];
}

// Latency-like samples: log-normal around 2 ms with a long tail, from 1 us to minutes.
std::vector<int64_t> LatencySamples(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(2000.0), 1.5);
  std::vector<int64_t> values(n);
  for (int64_t& v : values) v = std::clamp<int64_t>(std::llround(dist(rng)), 0, Histogram::kHourUs);
  return values;
}

TEST(Histogram, P99WithinOnePercentOfSortedReference) {
  const std::vector<int64_t> values = LatencySamples(200'000, 1);
  Histogram h;
  for (int64_t v : values) h.Record(v);
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const int64_t reference = SortedReference(values, p);
    const int64_t reported = h.ValueAtPercentile(p);
    EXPECT_GE(reported, reference) << "p" << p;
    EXPECT_LE(reported, reference + reference / 100) << "p" << p;
  }
}

TEST(Histogram, EveryPercentileOfUniformValuesIsWithinTheBound) {
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<int64_t> dist(0, 10'000'000);
  std::vector<int64_t> values(50'000);
  for (int64_t& v : values) v = dist(rng);
  Histogram h;
  for (int64_t v : values) h.Record(v);
  std::sort(values.begin(), values.end());
  for (double p = 1; p <= 100; p += 0.5) {
    const int64_t reference = SortedReference(values, p, /*sorted=*/true);
    EXPECT_GE(h.ValueAtPercentile(p), reference) << "p" << p;
    EXPECT_LE(h.ValueAtPercentile(p), reference + reference / 100) << "p" << p;
  }
}

TEST(Histogram, ThreeSignificantDigitsBoundTheErrorToOnePerMille) {
  const std::vector<int64_t> values = LatencySamples(100'000, 3);
  Histogram h(Histogram::kHourUs, 3);
  for (int64_t v : values) h.Record(v);
  for (double p : {50.0, 99.0, 99.9}) {
    const int64_t reference = SortedReference(values, p);
    EXPECT_LE(h.ValueAtPercentile(p), reference + reference / 1000) << "p" << p;
  }
}

TEST(Histogram, SmallValuesAreCountedExactly) {
  Histogram h;
  for (int64_t v = 0; v < 200; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(50), 99);
  EXPECT_EQ(h.ValueAtPercentile(100), 199);
  EXPECT_EQ(h.min(), 0);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  const std::vector<int64_t> a = LatencySamples(30'000, 4);
  const std::vector<int64_t> b = LatencySamples(20'000, 5);
  Histogram ha, hb, all;
  for (int64_t v : a) ha.Record(v), all.Record(v);
  for (int64_t v : b) hb.Record(v), all.Record(v);
  ASSERT_TRUE(ha.Merge(hb).ok());
  EXPECT_EQ(ha.count(), all.count());
  EXPECT_EQ(ha.min(), all.min());
  EXPECT_EQ(ha.max(), all.max());
  EXPECT_DOUBLE_EQ(ha.mean(), all.mean());
  for (double p : {10.0, 50.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(ha.ValueAtPercentile(p), all.ValueAtPercentile(p)) << "p" << p;
  }
}

TEST(Histogram, MergeOfAnEmptyHistogramChangesNothing) {
  Histogram h, empty;
  h.Record(500);
  ASSERT_TRUE(h.Merge(empty).ok());
  EXPECT_EQ(h.count(), 1);
  EXPECT_EQ(h.min(), 500);
}

TEST(Histogram, MergeRefusesDifferentConfigurations) {
  Histogram a, b(1'000'000, 2), c(Histogram::kHourUs, 3);
  EXPECT_FALSE(a.Merge(b).ok());
  EXPECT_FALSE(a.Merge(c).ok());
}

TEST(Histogram, ValuesAboveAnHourAreClampedButMaxStaysExact) {
  Histogram h;
  h.Record(10);
  h.Record(Histogram::kHourUs * 5);
  EXPECT_EQ(h.clamped_count(), 1);
  EXPECT_EQ(h.max(), Histogram::kHourUs * 5);
  EXPECT_GE(h.ValueAtPercentile(100), Histogram::kHourUs);
}

TEST(Histogram, NegativeValuesCountAsZero) {
  Histogram h;
  h.Record(-7);
  EXPECT_EQ(h.count(), 1);
  EXPECT_EQ(h.max(), 0);
}

TEST(Histogram, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.ValueAtPercentile(99), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.mean(), 0);
}

TEST(Histogram, ResetForgetsEverything) {
  Histogram h;
  h.RecordN(1234, 10);
  h.Reset();
  EXPECT_EQ(h.count(), 0);
  h.Record(7);
  EXPECT_EQ(h.min(), 7);
  EXPECT_EQ(h.max(), 7);
}

TEST(Histogram, EquivalentValueRangeIsNarrowerThanOnePercent) {
  Histogram h;
  for (int64_t v : {1'000LL, 65'537LL, 1'000'000LL, 123'456'789LL, 3'000'000'000LL}) {
    const int64_t lo = h.LowestEquivalentValue(v);
    const int64_t hi = h.HighestEquivalentValue(v);
    EXPECT_LE(lo, v);
    EXPECT_GE(hi, v);
    EXPECT_LE(hi - lo, v / 100) << v;
  }
}

}  // namespace
}  // namespace recd::bench
