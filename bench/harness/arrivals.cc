#include "bench/harness/arrivals.h"

#include <cmath>

#include "util/strings.h"

namespace recd::bench {

absl::StatusOr<ArrivalKind> ParseArrivalKind(std::string_view text) {
  if (text == "poisson") return ArrivalKind::kPoisson;
  if (text == "constant") return ArrivalKind::kConstant;
  return absl::InvalidArgumentError(
      util::StrCat("unknown arrival process \"", text, "\" (use \"poisson\" or \"constant\")"));
}

std::string_view ArrivalKindName(ArrivalKind kind) {
  return kind == ArrivalKind::kPoisson ? "poisson" : "constant";
}

ArrivalSchedule::ArrivalSchedule(ArrivalKind kind, double rate_per_s, uint64_t seed,
                                 int64_t phase_ns)
    : kind_(kind), rate_per_s_(rate_per_s), phase_ns_(phase_ns), rng_(seed) {}

int64_t ArrivalSchedule::Next() {
  const int64_t k = index_++;
  if (kind_ == ArrivalKind::kConstant) {
    // Computed from k, not by adding gaps, so the k-th arrival is exact however long the run.
    return phase_ns_ + static_cast<int64_t>(std::llround(static_cast<long double>(k) * 1e9L /
                                                         static_cast<long double>(rate_per_s_)));
  }
  // Inverse-CDF exponential gap; 1 - U lies in (0, 1], so the log is finite.
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double u = 1.0 - uniform(rng_);
  poisson_ns_ += -std::log(u) * 1e9L / static_cast<long double>(rate_per_s_);
  return static_cast<int64_t>(poisson_ns_);
}

}  // namespace recd::bench
