#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "model/kernels/kernels.h"

namespace recd::kernels {
namespace {

TEST(QuantizeRowI8, RoundTripErrIsAtMostHalfAStep) {
  std::mt19937 rng(41);
  for (float magnitude : {1e-6f, 1e-3f, 1.0f, 37.0f, 1e4f}) {
    for (uint32_t dim : {1u, 2u, 17u, 64u, 65u, 1000u}) {
      std::normal_distribution<float> dist(0.0f, magnitude);
      std::vector<float> row(dim);
      for (float& x : row) x = dist(rng);
      std::vector<int8_t> q(dim);
      float scale = -1;
      QuantizeRowI8(row.data(), dim, q.data(), &scale);
      float max_abs = 0;
      for (float x : row) max_abs = std::max(max_abs, std::fabs(x));
      EXPECT_FLOAT_EQ(scale, max_abs / 127.0f);
      for (uint32_t d = 0; d < dim; ++d) {
        EXPECT_GE(q[d], -127);
        EXPECT_LE(q[d], 127);
        EXPECT_LE(std::fabs(row[d] - scale * q[d]), 0.5f * scale * (1 + 1e-5f))
            << "magnitude=" << magnitude << " dim=" << dim << " d=" << d;
      }
    }
  }
}

TEST(QuantizeRowI8, MapsTheLargestMagnitudeTo127WithItsSign) {
  const float row[] = {0.5f, -3.0f, 1.0f, 2.9f};
  int8_t q[4];
  float scale = 0;
  QuantizeRowI8(row, 4, q, &scale);
  EXPECT_EQ(q[1], -127);
  EXPECT_EQ(q[3], 123);  // 2.9 / (3 / 127) = 122.77
  EXPECT_EQ(q[0], 21);   // 21.17
}

TEST(QuantizeRowI8, GivesAZeroRowScaleZeroAndZeros) {
  const float row[] = {0.0f, -0.0f, 0.0f};
  int8_t q[3] = {1, 1, 1};
  float scale = 1;
  QuantizeRowI8(row, 3, q, &scale);
  EXPECT_EQ(scale, 0.0f);
  for (int8_t v : q) EXPECT_EQ(v, 0);
}

TEST(QuantizeRowI8, WritesExactlyDimBytes) {
  const float row[] = {1.0f, -1.0f};
  int8_t q[4] = {9, 9, 9, 9};
  float scale = 0;
  QuantizeRowI8(row, 2, q, &scale);
  EXPECT_EQ(q[2], 9);
  EXPECT_EQ(q[3], 9);
}

}  // namespace
}  // namespace recd::kernels
