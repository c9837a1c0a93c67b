// A benchmark scenario: the tenants the harness onboards, the synthetic models it uploads, and
// the phases of load it offers. Scenarios come from TOML files (configs/bench/*.toml, format
// documented in bench/harness/README.md) or are built in; both go through the same parser.
// Plain data; the parser is pure and thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/harness/arrivals.h"

namespace recd::bench {

struct TenantSpec {
  std::string name;  // scenario label, [a-z0-9][a-z0-9-]{0,18}; the harness adds a run suffix
  std::string tier = "standard";
  bool model = true;  // upload and activate a synthetic model before the first phase
  int64_t items = 10'000;
  int dim = 64;
  std::string kind = "item_embeddings";  // or "ials"
  std::string metric = "dot";            // or "cosine"
  std::string precision = "float32";     // or "int8"
  int64_t users = 100'000;
  double user_zipf = 1.0;  // popularity exponents (0 = uniform)
  double item_zipf = 1.0;
  int64_t seed_events = 0;               // events sent (unmeasured) before the first phase
  std::map<std::string, double> quotas;  // PATCHed as {"quotas":{...}} after onboarding
};

struct ReplaySpec {
  std::string path;        // read in place, never copied
  std::string format;      // "movielens" or "online-retail"
  int batch = 500;         // events per POST /v1/events
  int64_t limit = 0;       // at most this many events (0: all)
  std::string event_type;  // default "rating" (movielens) or "purchase" (retail)
};

struct LoadSpec {
  std::string tenant;  // a TenantSpec name
  // The offered rate in requests/s (batches count as one), exactly one of: `rate` (absolute),
  // `share` (of the scenario's base rate, which --rate sets, or of a sweep step's rate), or
  // `rate_of` (`rate_factor` times the 2xx throughput this tenant got in an earlier phase).
  // Ignored in closed-loop phases.
  std::optional<double> rate;
  std::optional<double> share;
  std::string rate_of;
  double rate_factor = 1.0;
  std::optional<ArrivalKind> arrival;  // default: the scenario's
  // Request mix weights (normalised); a replay load sends only event batches.
  double recommend = 0;
  double events = 0;
  double similar = 0;
  double user_events = 0;  // GET /v1/users/{user}/events?limit=history_limit (no model needed)
  int batch = 100;         // events per POST /v1/events
  int k = 10;
  int history_limit = 50;
  int connections = 0;  // 0: the scenario's (or --connections)
  // Run on an engine thread of its own (not split over --threads), so that other loads'
  // traffic inside the harness cannot delay this load's sends (noisy-neighbour's victim).
  bool isolate = false;
  // Nice value of the engine threads that send this load (a shared thread takes the lowest of
  // its loads'). On one machine, a niced flood generator stands in for clients on other hosts:
  // the harness's own CPU then goes to the load being measured first.
  int nice = 0;
  // CPUs of the engine threads that send this load (empty: any; a shared thread runs on the
  // union of its loads', any if one of them names none). With recd's dedicated CPUs, keeping
  // a flood's sender (and the loopback kernel work it causes) off the premium CPU stands in
  // for clients on other hosts, like `nice`.
  std::vector<int> cpus;
  std::map<std::string, double> event_types;  // type -> weight; default view/click/cart/purchase
  std::optional<ReplaySpec> replay;
};

enum class PhaseMode { kOpen, kClosed, kSweep };
std::string_view PhaseModeName(PhaseMode mode);

struct SweepSpec {
  double start_rate = 100;
  double step = 0;    // additive increase per step, or
  double factor = 0;  // multiplicative (exactly one of the two is > 0)
  double max_rate = 10'000;
  int64_t step_duration_ns = 10'000'000'000;
  int64_t p99_target_us = 50'000;
  double max_error_ratio = 0.01;  // a step with more non-2xx answers also breaks the target
};

struct ActionSpec {
  std::string kind;  // "swap_model": upload a new version and activate it
  std::string tenant;
  int64_t every_ns = 5'000'000'000;
};

struct PhaseSpec {
  std::string name;
  PhaseMode mode = PhaseMode::kOpen;
  int64_t duration_ns = 0;  // 0: the scenario's duration
  std::vector<LoadSpec> loads;
  std::optional<SweepSpec> sweep;
  std::vector<ActionSpec> actions;
};

// An isolation comparison: `tenant`'s latency in `baseline` vs `test`, plus the other tenants'
// refusals in `test` (the noisy-neighbour headline).
struct CompareSpec {
  std::string tenant;
  std::string baseline;
  std::string test;
};

struct Scenario {
  std::string name;
  std::string description;
  int64_t duration_ns = 30'000'000'000;
  int64_t pause_ns = 1'000'000'000;  // idle time between phases so queues drain
  double rate = 100;                 // base rate for `share` loads
  ArrivalKind arrival = ArrivalKind::kPoisson;
  uint64_t seed = 1;
  int connections = 32;
  int64_t timeout_ns = 10'000'000'000;
  std::vector<TenantSpec> tenants;
  std::vector<PhaseSpec> phases;
  std::optional<CompareSpec> compare;

  const TenantSpec* FindTenant(std::string_view name) const;
};

// Parses and validates a scenario. `source` names the text in errors. Every error is
// InvalidArgument "<source>:<line>: key '<path>': <problem>", e.g.
// "x.toml:7: key 'phase[0].load[0].rate': must be >= 0, got -5".
absl::StatusOr<Scenario> ParseScenario(std::string_view toml_text, std::string_view source);

// Reads and parses a file (NotFound if unreadable).
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

// The names of the built-in scenarios and their TOML text (the files in configs/bench/,
// embedded at build time). NotFound lists the names.
std::vector<std::string> BuiltinScenarioNames();
absl::StatusOr<std::string_view> BuiltinScenarioText(std::string_view name);

// A name from BuiltinScenarioNames() or a path to a TOML file.
absl::StatusOr<Scenario> ResolveScenario(const std::string& name_or_path);

}  // namespace recd::bench
