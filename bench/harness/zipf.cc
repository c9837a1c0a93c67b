#include "bench/harness/zipf.h"

#include <algorithm>
#include <cmath>

namespace recd::bench {
namespace {

// log1p(x)/x and expm1(x)/x, with their series near 0 where the quotient loses precision.
double Helper1(double x) {
  return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}
double Helper2(double x) {
  return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1 + x * 0.5 * (1 + x / 3.0 * (1 + 0.25 * x));
}

}  // namespace

ZipfSampler::ZipfSampler(int64_t n, double exponent)
    : n_(std::max<int64_t>(n, 1)), exponent_(std::max(exponent, 0.0)) {
  h_integral_x1_ = HIntegral(1.5) - 1;
  h_integral_n_ = HIntegral(static_cast<double>(n_) + 0.5);
  s_ = 2 - HIntegralInverse(HIntegral(2.5) - H(2));
}

double ZipfSampler::H(double x) const { return std::exp(-exponent_ * std::log(x)); }

double ZipfSampler::HIntegral(double x) const {
  const double log_x = std::log(x);
  return Helper2((1 - exponent_) * log_x) * log_x;
}

double ZipfSampler::HIntegralInverse(double x) const {
  double t = x * (1 - exponent_);
  if (t < -1) t = -1;  // rounding can push t just below the domain
  return std::exp(Helper1(t) * x);
}

int64_t ZipfSampler::Sample(std::mt19937_64& rng) const {
  if (exponent_ == 0 || n_ == 1) {
    return std::uniform_int_distribution<int64_t>(1, n_)(rng);
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  while (true) {
    const double u = h_integral_n_ + uniform(rng) * (h_integral_x1_ - h_integral_n_);
    const double x = HIntegralInverse(u);
    int64_t k = static_cast<int64_t>(x + 0.5);
    k = std::clamp<int64_t>(k, 1, n_);
    if (static_cast<double>(k) - x <= s_ ||
        u >= HIntegral(static_cast<double>(k) + 0.5) - H(static_cast<double>(k))) {
      return k;
    }
  }
}

}  // namespace recd::bench
