// When requests are sent in an open-loop run. The schedule is fixed in advance by the rate and
// the seed, never by how fast the server answers, so latency measured from the scheduled time
// includes any time a request had to wait (no coordinated omission).
//
// Pure and deterministic for a seed; not thread-safe (one schedule per worker and stream).
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

#include "absl/status/statusor.h"

namespace recd::bench {

enum class ArrivalKind {
  kPoisson,   // exponential gaps: counts per window are Poisson (variance == mean)
  kConstant,  // evenly spaced: the k-th arrival is at exactly round(k * 1e9 / rate) ns
};

absl::StatusOr<ArrivalKind> ParseArrivalKind(std::string_view text);
std::string_view ArrivalKindName(ArrivalKind kind);

class ArrivalSchedule {
 public:
  // `rate_per_s` > 0. `phase_ns` shifts a constant schedule (so that workers splitting one rate
  // interleave instead of sending together); it is ignored for Poisson.
  ArrivalSchedule(ArrivalKind kind, double rate_per_s, uint64_t seed, int64_t phase_ns = 0);

  // The next arrival as nanoseconds since the start of the schedule; non-decreasing.
  int64_t Next();
  // How many arrivals Next() has returned.
  int64_t emitted() const { return index_; }

 private:
  ArrivalKind kind_;
  double rate_per_s_;
  int64_t phase_ns_;
  std::mt19937_64 rng_;
  int64_t index_ = 0;
  // Poisson time kept in long double so that a long run does not accumulate rounding drift.
  long double poisson_ns_ = 0;
};

}  // namespace recd::bench
