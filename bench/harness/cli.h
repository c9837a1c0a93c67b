// recd-bench's command line. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/harness/scenario.h"

namespace recd::bench {

struct CliOptions {
  std::string target = "http://127.0.0.1:8080";
  std::string admin_token;  // --admin-token, else $RECD_ADMIN_TOKEN
  std::string scenario;     // a built-in name or a TOML file
  std::optional<double> rate;
  std::optional<int64_t> duration_ns;
  std::string out_dir = "bench-out";
  std::optional<int> connections;
  bool closed_loop = false;
  int threads = 1;
  std::optional<uint64_t> seed;
  std::optional<int64_t> timeout_ns;
  std::string replay_file;
  bool keep_tenants = false;
  bool allow_non_loopback = false;
  bool calibrate = false;
  bool dry_run = false;  // run against an in-process fake recd (trivial_server.h)
  bool list_scenarios = false;
  std::string print_scenario;
  bool help = false;
  bool version = false;
};

// Parses argv[1..] (`--flag value` or `--flag=value`). `env_admin_token` is $RECD_ADMIN_TOKEN
// or null. Errors name the flag.
absl::StatusOr<CliOptions> ParseCommandLine(const std::vector<std::string>& args,
                                            const char* env_admin_token);

std::string UsageText();

// Applies the command line's overrides to a scenario (--rate, --duration, --connections as the
// scenario default, --closed-loop turns open phases into closed ones, --seed, --timeout,
// --replay-file for every replay load) and checks what only a run needs (replay paths).
absl::Status ApplyOverrides(const CliOptions& options, Scenario* scenario);

}  // namespace recd::bench
