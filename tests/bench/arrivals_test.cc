#include "bench/harness/arrivals.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace recd::bench {
namespace {

// Counts arrivals in consecutive windows of `window_ns` over `windows` windows.
std::vector<int64_t> CountsPerWindow(ArrivalSchedule& schedule, int64_t window_ns, int windows) {
  std::vector<int64_t> counts(static_cast<size_t>(windows), 0);
  while (true) {
    const int64_t t = schedule.Next();
    const int64_t w = t / window_ns;
    if (w >= windows) break;
    ++counts[static_cast<size_t>(w)];
  }
  return counts;
}

void MeanAndVariance(const std::vector<int64_t>& counts, double* mean, double* variance) {
  double sum = 0, sq = 0;
  for (int64_t c : counts) sum += static_cast<double>(c);
  *mean = sum / static_cast<double>(counts.size());
  for (int64_t c : counts)
    sq += (static_cast<double>(c) - *mean) * (static_cast<double>(c) - *mean);
  *variance = sq / static_cast<double>(counts.size() - 1);
}

TEST(PoissonSchedule, MeanRateMatchesTheTarget) {
  ArrivalSchedule schedule(ArrivalKind::kPoisson, 1000, /*seed=*/42);
  const std::vector<int64_t> counts = CountsPerWindow(schedule, 1'000'000'000, 100);
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  // 100,000 expected; a Poisson count's standard deviation is sqrt(100,000) ~ 316.
  EXPECT_NEAR(static_cast<double>(total), 100'000.0, 5 * 316.0);
}

TEST(PoissonSchedule, VarianceOfCountsPerWindowIsNearTheMean) {
  ArrivalSchedule schedule(ArrivalKind::kPoisson, 2000, /*seed=*/7);
  // 4000 windows of 50 ms: about 100 arrivals each.
  const std::vector<int64_t> counts = CountsPerWindow(schedule, 50'000'000, 4000);
  double mean = 0, variance = 0;
  MeanAndVariance(counts, &mean, &variance);
  EXPECT_NEAR(mean, 100.0, 1.0);
  // Index of dispersion 1 for Poisson; its sampling error over 4000 windows is ~0.022.
  EXPECT_NEAR(variance / mean, 1.0, 0.12);
}

TEST(PoissonSchedule, SameSeedGivesTheSameScheduleAndAnotherSeedDoesNot) {
  ArrivalSchedule a(ArrivalKind::kPoisson, 500, 1), b(ArrivalKind::kPoisson, 500, 1),
      c(ArrivalKind::kPoisson, 500, 2);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const int64_t ta = a.Next();
    EXPECT_EQ(ta, b.Next());
    differs = differs || ta != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(PoissonSchedule, ArrivalsNeverGoBackInTime) {
  ArrivalSchedule schedule(ArrivalKind::kPoisson, 1e6, 3);
  int64_t last = 0;
  for (int i = 0; i < 100'000; ++i) {
    const int64_t t = schedule.Next();
    ASSERT_GE(t, last);
    last = t;
  }
}

TEST(ConstantSchedule, KthArrivalIsExactlyKOverRate) {
  ArrivalSchedule schedule(ArrivalKind::kConstant, 3, 0);
  for (int64_t k = 0; k < 1000; ++k) {
    EXPECT_EQ(schedule.Next(), std::llround(static_cast<long double>(k) * 1e9L / 3)) << k;
  }
  EXPECT_EQ(schedule.emitted(), 1000);
}

TEST(ConstantSchedule, EveryWindowGetsExactlyRateTimesWindow) {
  ArrivalSchedule schedule(ArrivalKind::kConstant, 1000, 0);
  const std::vector<int64_t> counts = CountsPerWindow(schedule, 10'000'000, 1000);
  for (int64_t c : counts) ASSERT_EQ(c, 10);
}

TEST(ConstantSchedule, DoesNotDriftOverALongRun) {
  ArrivalSchedule schedule(ArrivalKind::kConstant, 7, 0);
  int64_t t = 0;
  for (int i = 0; i <= 7 * 3600; ++i) t = schedule.Next();
  EXPECT_EQ(t, 3600LL * 1'000'000'000);
}

TEST(ConstantSchedule, PhaseShiftsEveryArrival) {
  ArrivalSchedule schedule(ArrivalKind::kConstant, 100, 0, /*phase_ns=*/2'500'000);
  EXPECT_EQ(schedule.Next(), 2'500'000);
  EXPECT_EQ(schedule.Next(), 12'500'000);
}

TEST(ArrivalKind, ParsesTheTwoNamesAndRejectsOthers) {
  EXPECT_EQ(*ParseArrivalKind("poisson"), ArrivalKind::kPoisson);
  EXPECT_EQ(*ParseArrivalKind("constant"), ArrivalKind::kConstant);
  absl::StatusOr<ArrivalKind> bad = ParseArrivalKind("uniform");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("uniform"), std::string::npos);
}

}  // namespace
}  // namespace recd::bench
