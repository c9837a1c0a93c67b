// A small Prometheus registry: counter and histogram families with labels, gauges read from
// callbacks at scrape time, rendered in the text exposition format. Thread-safe. Cells are
// created on first use of a label set (under a mutex) and then updated with atomics only;
// callers on hot paths keep the cell pointer.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace recd::metering {

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Latency histogram over fixed bucket bounds (seconds).
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double seconds);
  const std::vector<double>& bounds() const { return *bounds_; }
  uint64_t BucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9; }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // non-cumulative, one per bound
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

template <typename Cell>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Cell>()> make)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The cell for these label values (in label_names order). Once the cell exists this takes
  // a reader lock and allocates nothing. The pointer stays valid for the registry's lifetime.
  Cell* Get(absl::Span<const std::string_view> values) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = cells_.find(values);
      if (it != cells_.end()) return it->second.get();
    }
    absl::MutexLock lock(&mu_);
    auto it = cells_.find(values);
    if (it == cells_.end()) {
      it = cells_.emplace(std::vector<std::string>(values.begin(), values.end()), make_()).first;
    }
    return it->second.get();
  }

  template <typename Fn>
  void ForEach(Fn fn) const {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [values, cell] : cells_) fn(values, *cell);
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  // Stored label values are looked up by views of them (heterogeneous lookup), so a request
  // for an existing cell builds no key.
  struct LabelsHash {
    using is_transparent = void;
    template <typename Labels>
    size_t operator()(const Labels& values) const {
      size_t h = values.size();
      for (const auto& v : values) h = absl::HashOf(h, std::string_view(v));
      return h;
    }
  };
  struct LabelsEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                        [](const auto& x, const auto& y) {
                          return std::string_view(x) == std::string_view(y);
                        });
    }
  };
  const std::string name_, help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<Cell>()> make_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::vector<std::string>, std::unique_ptr<Cell>, LabelsHash, LabelsEq>
      cells_ ABSL_GUARDED_BY(mu_);
};

using CounterFamily = Family<Counter>;
using HistogramFamily = Family<Histogram>;

struct GaugeSample {
  std::vector<std::string> label_values;
  double value;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  CounterFamily* AddCounter(std::string name, std::string help, std::vector<std::string> labels);
  HistogramFamily* AddHistogram(std::string name, std::string help,
                                std::vector<std::string> labels);
  // Read at scrape time; `read` must be thread-safe and cheap.
  void AddGauge(std::string name, std::string help, std::vector<std::string> labels,
                std::function<std::vector<GaugeSample>()> read);
  std::string Render() const;

  static const std::vector<double>& LatencyBounds();

 private:
  struct Gauge {
    std::string name, help;
    std::vector<std::string> labels;
    std::function<std::vector<GaugeSample>()> read;
  };
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<HistogramFamily>> histograms_ ABSL_GUARDED_BY(mu_);
  std::vector<Gauge> gauges_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recd::metering
