#include "bench/harness/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "util/log.h"
#include "util/strings.h"

namespace recd::bench {

// Layout as in HdrHistogram with a unit of 1: the first bucket counts 0..sub_bucket_count-1
// exactly; bucket b >= 1 covers [2^(b-1) * sub_bucket_count, 2^b * sub_bucket_count) in its
// upper half of sub-buckets, each 2^b wide. The relative width of a sub-bucket is therefore
// at most 1 / sub_bucket_half_count, which is < 10^-digits by construction.
Histogram::Histogram(int64_t highest_trackable, int significant_digits)
    : highest_trackable_(std::max<int64_t>(highest_trackable, 2)),
      significant_digits_(std::clamp(significant_digits, 1, 5)) {
  int64_t largest_single_unit = 2;
  for (int i = 0; i < significant_digits_; ++i) largest_single_unit *= 10;
  const int sub_bucket_count_magnitude =
      static_cast<int>(std::ceil(std::log2(static_cast<double>(largest_single_unit))));
  sub_bucket_half_count_magnitude_ = std::max(sub_bucket_count_magnitude, 1) - 1;
  sub_bucket_count_ = int64_t{1} << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = sub_bucket_count_ - 1;
  int64_t smallest_untrackable = sub_bucket_count_;
  bucket_count_ = 1;
  while (smallest_untrackable <= highest_trackable_) {
    if (smallest_untrackable > INT64_MAX / 2) {
      ++bucket_count_;
      break;
    }
    smallest_untrackable <<= 1;
    ++bucket_count_;
  }
  counts_.assign(static_cast<size_t>((bucket_count_ + 1) * sub_bucket_half_count_), 0);
}

int Histogram::BucketIndex(int64_t value) const {
  const int pow2_ceiling = 64 - std::countl_zero(static_cast<uint64_t>(value | sub_bucket_mask_));
  return pow2_ceiling - (sub_bucket_half_count_magnitude_ + 1);
}

int Histogram::CountsIndex(int64_t value) const {
  const int bucket = BucketIndex(value);
  const int64_t sub_bucket = value >> bucket;
  const int64_t base = int64_t{bucket + 1} << sub_bucket_half_count_magnitude_;
  return static_cast<int>(base + (sub_bucket - sub_bucket_half_count_));
}

int64_t Histogram::ValueFromIndex(int index) const {
  int bucket = (index >> sub_bucket_half_count_magnitude_) - 1;
  int64_t sub_bucket = (index & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub_bucket << bucket;
}

int64_t Histogram::LowestEquivalentValue(int64_t value) const {
  const int bucket = BucketIndex(value);
  const int64_t sub_bucket = value >> bucket;
  return sub_bucket << bucket;
}

int64_t Histogram::HighestEquivalentValue(int64_t value) const {
  const int bucket = BucketIndex(value);
  const int64_t sub_bucket = value >> bucket;
  const int adjusted = sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket;
  return LowestEquivalentValue(value) + (int64_t{1} << adjusted) - 1;
}

void Histogram::RecordN(int64_t value, int64_t count) {
  if (count <= 0) return;
  value = std::max<int64_t>(value, 0);
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * count;
  if (value > highest_trackable_) {
    clamped_count_ += count;
    value = highest_trackable_;
  }
  const int index = CountsIndex(value);
  RECD_CHECK(index >= 0 && index < static_cast<int>(counts_.size()))
      << "value " << value << " maps outside the counts, but it was clamped to the range";
  counts_[static_cast<size_t>(index)] += count;
  total_count_ += count;
}

absl::Status Histogram::Merge(const Histogram& other) {
  if (other.highest_trackable_ != highest_trackable_ ||
      other.significant_digits_ != significant_digits_) {
    return absl::InvalidArgumentError(util::StrCat("cannot merge histograms of different ranges: (",
                                                   highest_trackable_, ", ", significant_digits_,
                                                   ") vs (", other.highest_trackable_, ", ",
                                                   other.significant_digits_, ")"));
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (other.total_count_ > 0) {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  total_count_ += other.total_count_;
  sum_ += other.sum_;
  clamped_count_ += other.clamped_count_;
  return absl::OkStatus();
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_count_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
  sum_ = 0;
  clamped_count_ = 0;
}

double Histogram::mean() const {
  return total_count_ == 0 ? 0.0 : static_cast<double>(sum_ / total_count_);
}

int64_t Histogram::ValueAtPercentile(double p) const {
  if (total_count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The rank of the percentile among the sorted samples, 1-based; the reference a test compares
  // with is sorted[rank - 1].
  // The epsilon keeps 99% of 1000 at rank 990 despite 0.99 not being exact in binary.
  int64_t rank =
      static_cast<int64_t>(std::ceil(p / 100.0 * static_cast<double>(total_count_) - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, total_count_);
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int64_t value = HighestEquivalentValue(ValueFromIndex(static_cast<int>(i)));
      return std::min(value, max());
    }
  }
  return max();
}

}  // namespace recd::bench
