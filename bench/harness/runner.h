// Runs a scenario against recd: resolves the target, onboards the scenario's tenants (keys,
// quotas, a synthetic model each), seeds their histories, runs the phases (open, closed,
// sweep; model swaps alongside), offboards the tenants and returns the report. Also the
// calibration run against a trivial local endpoint.
//
// Threads: the caller's thread drives the run and the control-plane calls; load runs on
// `--threads` engine threads per phase. `stop` (set by a signal handler) ends the current
// phase early, skips the rest and still offboards.
#pragma once

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "bench/harness/cli.h"
#include "bench/harness/report.h"
#include "bench/harness/scenario.h"

namespace recd::bench {

// `scenario` already has the command line's overrides applied.
absl::StatusOr<RunReport> RunScenario(const CliOptions& options, const Scenario& scenario,
                                      const std::atomic<bool>* stop);

// Closed loop against a trivial in-process server for --duration (default 5s) to find the
// harness's maximum rate, then open loop at a third of it to measure dispatch lag. Returns
// the text to print.
absl::StatusOr<std::string> RunCalibration(const CliOptions& options,
                                           const std::atomic<bool>* stop);

// Machine and build facts printed before any result (STYLE 14).
std::map<std::string, std::string> DescribeSetup();

}  // namespace recd::bench
