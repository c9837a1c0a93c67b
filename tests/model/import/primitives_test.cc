// CRC-32C, the index hash and the float16/bfloat16 widening: the building blocks whose
// outputs are stored in compiled files or define the imported values.
#include <cmath>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "model/crc32c.h"
#include "model/half.h"
#include "model/hash.h"
#include "support/model_fixtures.h"

namespace recd::model {
namespace {

TEST(Crc32c, MatchesPublishedCheckValues) {
  // The CRC-32C check value, and the RFC 3720 (iSCSI) test vectors.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32c, ExtendingEqualsOneShotAtEverySplit) {
  std::string data;
  for (int i = 0; i < 100; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  const uint32_t whole = Crc32c(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t crc = Crc32c(data.data(), split);
    crc = Crc32cExtend(crc, data.data() + split, data.size() - split);
    ASSERT_EQ(crc, whole) << "split at " << split;
  }
}

TEST(Crc32c, Sse42AndPortableAgreeAtEveryLengthAndAlignment) {
  // The CPU's own answer, so that the comparison runs under RECD_SIMD_LEVEL=scalar too.
  if (!__builtin_cpu_supports("sse4.2")) GTEST_SKIP() << "this CPU has no SSE4.2";
  EXPECT_EQ(internal::Crc32cExtendSse42(0, "123456789", 9), 0xE3069283u);
  std::string data;
  uint32_t x = 12345;
  for (int i = 0; i < 600; ++i) {
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 24));
  }
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; offset + n <= data.size(); n += (n < 80 ? 1 : 37)) {
      const uint32_t seed = static_cast<uint32_t>(n * 2654435761u);
      ASSERT_EQ(internal::Crc32cExtendSse42(seed, data.data() + offset, n),
                internal::Crc32cExtendPortable(seed, data.data() + offset, n))
          << "offset " << offset << ", " << n << " bytes";
    }
  }
}

TEST(Hash64, IsStableAcrossBuildsAndDependsOnSeed) {
  // Stored in files: these values must never change. Golden values from an independent
  // MurmurHash64A implementation.
  EXPECT_EQ(Hash64("", 0), Hash64("", 0));
  EXPECT_NE(Hash64("sku-1", 1), Hash64("sku-1", 2));
  EXPECT_NE(Hash64("sku-1", 1), Hash64("sku-2", 1));
  EXPECT_EQ(Hash64("sku-1", 42), 0x05F2D693839E3906ull) << std::hex << Hash64("sku-1", 42);
  EXPECT_EQ(Hash64("a longer item id, 31 bytes long", 7), 0x29FD7C912AB8EA13ull)
      << std::hex << Hash64("a longer item id, 31 bytes long", 7);
}

TEST(HalfToFloat, WidensEveryFloat16ValueExactly) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float got = HalfToFloat(static_cast<uint16_t>(h));
    const double want = testing::HalfReference(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << std::hex << h;
    } else {
      ASSERT_EQ(static_cast<double>(got), want) << std::hex << h;
      ASSERT_EQ(std::signbit(got), std::signbit(want)) << std::hex << h;
    }
  }
}

TEST(BFloat16ToFloat, WidensEveryBFloat16ValueExactly) {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const float got = BFloat16ToFloat(static_cast<uint16_t>(b));
    const double want = testing::BFloat16Reference(static_cast<uint16_t>(b));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << std::hex << b;
    } else {
      ASSERT_EQ(static_cast<double>(got), want) << std::hex << b;
    }
  }
}

}  // namespace
}  // namespace recd::model
