// A log-linear latency histogram in the style of HdrHistogram: values (microseconds here) are
// counted in buckets whose width grows with the value, so that any reported percentile is
// within a fixed relative error of the true one, in constant memory.
//
// Contract: with `significant_digits` d, a percentile is at most 10^-d above the exact value at
// that rank of the sorted samples (2 digits: at most 1%, in fact 1/128) and never below it;
// values above `highest_trackable` are counted at that value (and still set max exactly).
// Histograms with the same configuration merge exactly. Not thread-safe: one writer, then merge.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace recd::bench {

class Histogram {
 public:
  // One hour in microseconds: the longest latency the harness records.
  static constexpr int64_t kHourUs = 3'600'000'000;

  // `highest_trackable` >= 2, `significant_digits` in [1, 5]. The default records 0 us to one
  // hour with 2 significant digits (about 26 KiB of counters).
  Histogram() : Histogram(kHourUs, 2) {}
  Histogram(int64_t highest_trackable, int significant_digits);

  // Negative values count as 0.
  void Record(int64_t value) { RecordN(value, 1); }
  void RecordN(int64_t value, int64_t count);

  // Adds `other`'s counts; InvalidArgument if the configurations differ.
  absl::Status Merge(const Histogram& other);
  void Reset();

  int64_t count() const { return total_count_; }
  int64_t min() const { return total_count_ == 0 ? 0 : min_; }
  int64_t max() const { return total_count_ == 0 ? 0 : max_; }
  double mean() const;
  // The value at percentile `p` in [0, 100]: the smallest recorded value v with at least
  // ceil(p/100 * count) samples <= v, rounded up to its bucket's highest equivalent value but
  // never above max(). 0 when empty.
  int64_t ValueAtPercentile(double p) const;
  // Samples recorded above highest_trackable (counted at highest_trackable).
  int64_t clamped_count() const { return clamped_count_; }

  int64_t highest_trackable() const { return highest_trackable_; }
  int significant_digits() const { return significant_digits_; }
  // The bucket's highest value that counts as equal to `value`.
  int64_t HighestEquivalentValue(int64_t value) const;
  int64_t LowestEquivalentValue(int64_t value) const;

 private:
  int BucketIndex(int64_t value) const;
  int CountsIndex(int64_t value) const;
  int64_t ValueFromIndex(int index) const;

  int64_t highest_trackable_;
  int significant_digits_;
  int sub_bucket_half_count_magnitude_ = 0;
  int64_t sub_bucket_count_ = 0;
  int64_t sub_bucket_half_count_ = 0;
  int64_t sub_bucket_mask_ = 0;
  int bucket_count_ = 0;
  std::vector<int64_t> counts_;
  int64_t total_count_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  // Exact sum for the mean; long double keeps an hour-long run of hour-long values exact enough.
  long double sum_ = 0;
  int64_t clamped_count_ = 0;
};

}  // namespace recd::bench
