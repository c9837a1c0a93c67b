#include "metering/metrics.h"

#include <algorithm>
#include <cmath>

#include "util/strings.h"

namespace recd::metering {
namespace {

void AppendLabelValue(std::string* out, const std::string& v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendLabels(std::string* out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out->push_back(',');
    first = false;
    util::StrAppend(out, names[i], "=\"");
    AppendLabelValue(out, values[i]);
    out->push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    util::StrAppend(out, extra_name, "=\"", extra_value, "\"");
  }
  out->push_back('}');
}

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return util::StrCat(v);
}

}  // namespace

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds->size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double seconds) {
  size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), seconds) - bounds_->begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max(0.0, seconds) * 1e9),
                    std::memory_order_relaxed);
}

const std::vector<double>& MetricsRegistry::LatencyBounds() {
  static const std::vector<double> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                              1,      2.5,     5,      10};
  return kBounds;
}

MetricsRegistry::MetricsRegistry() = default;

CounterFamily* MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  counters_.push_back(std::make_unique<CounterFamily>(
      std::move(name), std::move(help), std::move(labels),
      [] { return std::make_unique<Counter>(); }));
  return counters_.back().get();
}

HistogramFamily* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  histograms_.push_back(std::make_unique<HistogramFamily>(
      std::move(name), std::move(help), std::move(labels),
      [] { return std::make_unique<Histogram>(&LatencyBounds()); }));
  return histograms_.back().get();
}

void MetricsRegistry::AddGauge(std::string name, std::string help, std::vector<std::string> labels,
                               std::function<std::vector<GaugeSample>()> read) {
  absl::MutexLock lock(&mu_);
  gauges_.push_back(Gauge{std::move(name), std::move(help), std::move(labels), std::move(read)});
}

std::string MetricsRegistry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& family : counters_) {
    util::StrAppend(&out, "# HELP ", family->name(), " ", family->help(), "\n# TYPE ",
                    family->name(), " counter\n");
    family->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
      out.append(family->name());
      AppendLabels(&out, family->label_names(), values);
      util::StrAppend(&out, " ", c.value(), "\n");
    });
  }
  for (const auto& family : histograms_) {
    util::StrAppend(&out, "# HELP ", family->name(), " ", family->help(), "\n# TYPE ",
                    family->name(), " histogram\n");
    family->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= h.bounds().size(); ++i) {
        cumulative += h.BucketCount(i);
        std::string le = i < h.bounds().size() ? FormatDouble(h.bounds()[i]) : "+Inf";
        util::StrAppend(&out, family->name(), "_bucket");
        AppendLabels(&out, family->label_names(), values, "le", le);
        util::StrAppend(&out, " ", cumulative, "\n");
      }
      util::StrAppend(&out, family->name(), "_sum");
      AppendLabels(&out, family->label_names(), values);
      util::StrAppend(&out, " ", FormatDouble(h.sum()), "\n", family->name(), "_count");
      AppendLabels(&out, family->label_names(), values);
      util::StrAppend(&out, " ", h.count(), "\n");
    });
  }
  for (const auto& g : gauges_) {
    util::StrAppend(&out, "# HELP ", g.name, " ", g.help, "\n# TYPE ", g.name, " gauge\n");
    for (const auto& sample : g.read()) {
      out.append(g.name);
      AppendLabels(&out, g.labels, sample.label_values);
      util::StrAppend(&out, " ", FormatDouble(sample.value), "\n");
    }
  }
  return out;
}

}  // namespace recd::metering
