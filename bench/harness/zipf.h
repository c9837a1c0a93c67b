// Zipf-distributed ranks in [1, n]: P(k) proportional to 1 / k^s. Used for user and item
// popularity. Rejection-inversion sampling (Hoermann and Derflinger 1996), O(1) memory and
// expected O(1) time, so catalogues of millions cost nothing to set up.
// Not thread-safe (the caller's generator is advanced); the sampler itself is immutable.
#pragma once

#include <cstdint>
#include <random>

namespace recd::bench {

class ZipfSampler {
 public:
  // `n` >= 1, `exponent` >= 0 (0 is uniform).
  ZipfSampler(int64_t n, double exponent);

  int64_t Sample(std::mt19937_64& rng) const;
  int64_t n() const { return n_; }
  double exponent() const { return exponent_; }

 private:
  double H(double x) const;
  double HIntegral(double x) const;
  double HIntegralInverse(double x) const;

  int64_t n_;
  double exponent_;
  double h_integral_x1_ = 0;
  double h_integral_n_ = 0;
  double s_ = 0;
};

}  // namespace recd::bench
