#include <gtest/gtest.h>

#include <cstdlib>

#include "model/kernels/kernels.h"

namespace recd::kernels {
namespace {

TEST(SimdLevel, ParsesTheThreeLevelNames) {
  EXPECT_EQ(ParseSimdLevel("scalar"), SimdLevel::kScalar);
  EXPECT_EQ(ParseSimdLevel("avx2"), SimdLevel::kAvx2);
  EXPECT_EQ(ParseSimdLevel("avx512"), SimdLevel::kAvx512);
}

TEST(SimdLevel, RejectsUnknownOrMiscasedNames) {
  for (const char* bad : {"", "AVX2", "avx512f", " avx2", "avx2 ", "sse4", "native"}) {
    EXPECT_FALSE(ParseSimdLevel(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(SimdLevel, NamesRoundTripThroughTheParser) {
  for (SimdLevel l : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    EXPECT_EQ(ParseSimdLevel(SimdLevelName(l)), l);
  }
}

TEST(SimdLevel, OverrideIsClampedToWhatTheCpuSupports) {
  EXPECT_EQ(ResolveSimdLevel("avx512", SimdLevel::kAvx2), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveSimdLevel("avx512", SimdLevel::kScalar), SimdLevel::kScalar);
  EXPECT_EQ(ResolveSimdLevel("avx2", SimdLevel::kAvx512), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveSimdLevel("scalar", SimdLevel::kAvx512), SimdLevel::kScalar);
}

TEST(SimdLevel, UnsetOrInvalidOverrideMeansTheSupportedLevel) {
  EXPECT_EQ(ResolveSimdLevel(nullptr, SimdLevel::kAvx512), SimdLevel::kAvx512);
  EXPECT_EQ(ResolveSimdLevel("bogus", SimdLevel::kAvx2), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveSimdLevel("", SimdLevel::kAvx2), SimdLevel::kAvx2);
}

TEST(SimdLevel, DetectedLevelFollowsTheEnvironmentOfThisProcess) {
  EXPECT_EQ(DetectedSimdLevel(),
            ResolveSimdLevel(std::getenv("RECD_SIMD_LEVEL"), SupportedSimdLevel()));
  EXPECT_LE(static_cast<int>(DetectedSimdLevel()), static_cast<int>(SupportedSimdLevel()));
}

// The compiler's own cpuid probe (which also checks OS support) must agree with ours.
TEST(SimdLevel, SupportedLevelAgreesWithTheCompilersCpuProbe) {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
  const SimdLevel want =
      avx512 ? SimdLevel::kAvx512 : (avx2 ? SimdLevel::kAvx2 : SimdLevel::kScalar);
  EXPECT_EQ(SupportedSimdLevel(), want);
}

}  // namespace
}  // namespace recd::kernels
