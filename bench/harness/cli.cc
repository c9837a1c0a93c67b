#include "bench/harness/cli.h"

#include "bench/harness/units.h"
#include "util/strings.h"

namespace recd::bench {

std::string UsageText() {
  return util::StrCat(
      "recd-bench: the load harness for recd's latency tuning\n\n"
      "usage: recd-bench --scenario NAME|FILE [options]\n"
      "       recd-bench --calibrate [--duration 5s] [--connections N] [--threads N]\n"
      "       recd-bench --list-scenarios | --print-scenario NAME\n\n"
      "  --target URL          recd's base URL (default http://127.0.0.1:8080; loopback only\n"
      "                        unless --allow-non-loopback)\n"
      "  --admin-token TOKEN   the admin token (default $RECD_ADMIN_TOKEN)\n"
      "  --scenario NAME|FILE  built-in (",
      util::Join(BuiltinScenarioNames(), ", "),
      ") or a TOML file\n"
      "  --rate N              the scenario's base rate in requests/s (loads given as `share`)\n"
      "  --duration D          the default phase duration, e.g. 30s, 2m\n"
      "  --out DIR             where report.json and *.svg go (default bench-out)\n"
      "  --connections N       connections per load unless the scenario sets them\n"
      "  --closed-loop         run open-loop phases closed-loop (find maximum throughput)\n"
      "  --threads N           load threads, 1 or 2 (default 1)\n"
      "  --seed N              the random seed (default the scenario's)\n"
      "  --timeout D           per-request timeout (default the scenario's, 10s)\n"
      "  --replay-file PATH    the interaction log for replay loads (read in place)\n"
      "  --keep-tenants        do not offboard the harness's tenants at the end\n"
      "  --calibrate           measure the harness against a trivial local endpoint\n"
      "  --dry-run             run the scenario against an in-process fake recd (checks a\n"
      "                        scenario and the harness without a daemon; latencies mean nothing)\n"
      "  --version, --help\n\n"
      "Open loop sends on a fixed schedule (Poisson or constant) and times each request from\n"
      "its scheduled send, so waiting counts. The harness onboards its own tenants (ids\n"
      "bench-<name>-<run>), uploads synthetic models, and offboards them at the end.\n");
}

absl::StatusOr<CliOptions> ParseCommandLine(const std::vector<std::string>& args,
                                            const char* env_admin_token) {
  CliOptions o;
  if (env_admin_token != nullptr) o.admin_token = env_admin_token;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (const size_t eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(util::StrCat(flag, " needs a value"));
      return args[++i];
    };
    auto bad = [&](std::string_view v, std::string_view want) {
      return absl::InvalidArgumentError(util::StrCat(flag, ": \"", v, "\" is not ", want));
    };
    auto boolean = [&](bool* out) -> absl::Status {
      if (inline_value) return absl::InvalidArgumentError(util::StrCat(flag, " takes no value"));
      *out = true;
      return absl::OkStatus();
    };
    absl::Status status;
    if (flag == "--help" || flag == "-h") {
      status = boolean(&o.help);
    } else if (flag == "--version") {
      status = boolean(&o.version);
    } else if (flag == "--closed-loop") {
      status = boolean(&o.closed_loop);
    } else if (flag == "--keep-tenants") {
      status = boolean(&o.keep_tenants);
    } else if (flag == "--allow-non-loopback") {
      status = boolean(&o.allow_non_loopback);
    } else if (flag == "--calibrate") {
      status = boolean(&o.calibrate);
    } else if (flag == "--dry-run") {
      status = boolean(&o.dry_run);
    } else if (flag == "--list-scenarios") {
      status = boolean(&o.list_scenarios);
    } else if (flag == "--target" || flag == "--admin-token" || flag == "--scenario" ||
               flag == "--out" || flag == "--replay-file" || flag == "--print-scenario") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (v->empty()) return absl::InvalidArgumentError(util::StrCat(flag, " is empty"));
      std::string* out = flag == "--target"        ? &o.target
                         : flag == "--admin-token" ? &o.admin_token
                         : flag == "--scenario"    ? &o.scenario
                         : flag == "--out"         ? &o.out_dir
                         : flag == "--replay-file" ? &o.replay_file
                                                   : &o.print_scenario;
      *out = *v;
    } else if (flag == "--rate") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      double rate = 0;
      if (!ParseDouble(*v, &rate) || !(rate > 0) || rate > 1e9) {
        return bad(*v, "a rate > 0 (requests/s)");
      }
      o.rate = rate;
    } else if (flag == "--duration" || flag == "--timeout") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      absl::StatusOr<int64_t> ns = ParseDurationNs(*v);
      if (!ns.ok())
        return absl::InvalidArgumentError(util::StrCat(flag, ": ", ns.status().message()));
      if (*ns <= 0) return bad(*v, "longer than zero");
      (flag == "--duration" ? o.duration_ns : o.timeout_ns) = *ns;
    } else if (flag == "--connections" || flag == "--threads") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      int n = 0;
      const int max = flag == "--threads" ? 2 : 10'000;
      if (!util::ParseInt(*v, &n) || n < 1 || n > max) {
        return bad(*v, util::StrCat("an integer in [1, ", max, "]"));
      }
      if (flag == "--threads") {
        o.threads = n;
      } else {
        o.connections = n;
      }
    } else if (flag == "--seed") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      uint64_t seed = 0;
      if (!util::ParseInt(*v, &seed)) return bad(*v, "a non-negative integer");
      o.seed = seed;
    } else {
      return absl::InvalidArgumentError(util::StrCat("unknown flag ", flag, " (see --help)"));
    }
    if (!status.ok()) return status;
  }
  const bool runs =
      !o.help && !o.version && !o.list_scenarios && o.print_scenario.empty() && !o.calibrate;
  if (runs && o.scenario.empty()) {
    return absl::InvalidArgumentError("--scenario is required (see --list-scenarios)");
  }
  if (runs && o.admin_token.empty() && !o.dry_run) {
    return absl::InvalidArgumentError(
        "--admin-token is required (or set RECD_ADMIN_TOKEN; recd writes a generated one to "
        "<data_dir>/admin.token)");
  }
  return o;
}

absl::Status ApplyOverrides(const CliOptions& options, Scenario* scenario) {
  if (options.rate) scenario->rate = *options.rate;
  if (options.duration_ns) scenario->duration_ns = *options.duration_ns;
  if (options.connections) scenario->connections = *options.connections;
  if (options.seed) scenario->seed = *options.seed;
  if (options.timeout_ns) scenario->timeout_ns = *options.timeout_ns;
  for (size_t p = 0; p < scenario->phases.size(); ++p) {
    PhaseSpec& phase = scenario->phases[p];
    if (options.closed_loop && phase.mode == PhaseMode::kOpen) phase.mode = PhaseMode::kClosed;
    for (size_t l = 0; l < phase.loads.size(); ++l) {
      LoadSpec& load = phase.loads[l];
      if (!load.replay) continue;
      if (!options.replay_file.empty()) load.replay->path = options.replay_file;
      if (load.replay->path.empty()) {
        return absl::InvalidArgumentError(util::StrCat(
            "key 'phase[", p, "].load[", l, "].replay.path': not set; pass --replay-file"));
      }
    }
    // A rate_of on a phase that became closed needs nothing; one on an open phase needs the
    // referenced phase to have run, which the parser already ordered.
  }
  return absl::OkStatus();
}

}  // namespace recd::bench
