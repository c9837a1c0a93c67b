// The results of a run and their three renderings: the text tables printed on stdout,
// report.json, and the SVG charts. Plain data and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/harness/scenario.h"
#include "bench/harness/stats.h"

namespace recd::bench {

// One tenant's traffic to one endpoint within a phase (merged over loads and workers).
struct SeriesResult {
  std::string tenant;  // scenario label
  std::string tier;
  Endpoint endpoint = Endpoint::kOther;
  EndpointStats stats;
};

struct ActionEvent {
  double at_s = 0;  // since the phase start
  std::string kind;
  std::string tenant;
  std::string version;
  double upload_ms = 0;
  double activate_ms = 0;
  std::string error;  // empty on success
};

struct PhaseResult {
  std::string name;
  bool closed_loop = false;
  double sending_s = 0;   // time requests were being sent (the throughput denominator)
  double elapsed_s = 0;   // including the drain of answers in flight
  double interval_s = 1;  // timeline resolution
  std::map<std::string, double> offered_rate;  // tenant -> requests/s (open loop)
  std::vector<SeriesResult> series;
  EngineOverhead overhead;
  std::map<std::string, Histogram> dispatch_lag_us;  // tenant -> harness lag of its sends
  int64_t backlog_max = 0;
  bool exhausted = false;  // a replay ran out before the duration
  std::vector<ActionEvent> actions;

  // All of `tenant`'s series merged (empty tenant: everything).
  EndpointStats Merged(const std::string& tenant = "") const;
  const SeriesResult* Find(const std::string& tenant, Endpoint endpoint) const;
};

struct SweepStep {
  double rate = 0;
  int64_t p50_us = 0;
  int64_t p99_us = 0;
  int64_t p999_us = 0;
  double error_ratio = 0;
  double throughput = 0;  // 2xx answers/s
  bool within_target = false;
};

struct SweepResult {
  std::string phase;
  int64_t p99_target_us = 0;
  double max_error_ratio = 0;
  std::vector<SweepStep> steps;
  std::optional<double> knee_rate;  // the highest rate that met the target
  std::string stop_reason;
};

struct RunReport {
  std::map<std::string, std::string> setup;  // printed first: CPU, cores, build, target, ...
  std::string scenario_name;
  std::string scenario_description;
  std::map<std::string, std::string> tenant_ids;  // label -> onboarded id
  std::vector<PhaseResult> phases;  // in order; sweep steps appear as "<phase>@<rate>"
  std::vector<SweepResult> sweeps;
  std::optional<CompareSpec> compare;
  // Every answer the harness got, "METHOD /route" -> status -> count (load, seeding and admin),
  // and failures without an answer; for comparing with recd's /metrics.
  std::map<std::string, std::map<int, int64_t>> totals;
  std::map<std::string, std::map<std::string, int64_t>> total_failures;
  int64_t events_accepted = 0;  // events in batches answered 2xx
  EngineOverhead overhead;      // merged over all phases
  std::vector<std::string> warnings;
};

// Adds a phase's answers and failures to the report's totals.
void AddToTotals(const PhaseResult& phase, RunReport* report);

std::string RenderText(const RunReport& report);
std::string RenderJson(const RunReport& report);
// Writes latency_<phase>.svg per phase (sweep steps and "_seed" excluded), and per sweep
// sweep_<phase>.svg (percentiles against offered rate) and sweep_<phase>_throughput.svg
// (answered against offered) into `dir`; returns the file names written.
absl::StatusOr<std::vector<std::string>> WriteCharts(const RunReport& report,
                                                     const std::string& dir);

}  // namespace recd::bench
