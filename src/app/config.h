// The daemon's configuration: defaults (the embedded default serves 127.0.0.1:8080 with data
// in ./data), overridden by a TOML file, then by command-line flags. Every key is documented
// in configs/recd.toml. Errors name the key and the problem.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "model/model_types.h"
#include "recd/status.h"
#include "sched/tier_config.h"
#include "util/thread.h"

namespace recd::app {

struct PopularityConfig {
  std::map<std::string, double> event_weights{
      {"view", 1}, {"click", 1}, {"add_to_cart", 3}, {"purchase", 5}};
  double default_weight = 1;
  double half_life_s = 86400;
};

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string data_dir = "./data";
  int io_threads = 2;           // the shared I/O lane
  int priority_io_threads = 1;  // the priority lane (admin, premium, enterprise connections)
  int io_nice = 10;             // nice of the shared lane's threads
  int control_threads = 1;
  std::string admin_token;  // empty: RECD_ADMIN_TOKEN, else <data_dir>/admin.token
  std::string log_level = "info";

  int64_t max_body_bytes = 1 << 20;
  int64_t max_upload_bytes = int64_t{1} << 30;
  int64_t max_header_bytes = 16 << 10;
  int64_t read_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 60'000;
  int64_t max_connections = 4096;
  int64_t shutdown_grace_s = 10;

  int64_t max_future_skew_s = 300;
  int64_t max_purge_days = 7;
  bool metrics_require_admin = false;
  int64_t max_tenant_labels = 100;
  std::string model_root;  // folders importable with {"path": ...}; empty: none
  int64_t max_concurrent_uploads = 2;
  bool batch_scoring = true;  // concurrent requests for one model share a scoring pass
  // Float32 models with at least this many rows are imported with an int8 copy and scanned
  // through it (same answers, a quarter of the bytes read); 0 turns both off.
  int64_t f32_prefilter_min_rows = model::kDefaultPrefilterMinRows;
  // CPU partitioning (docs/OPERATIONS.md, "Dedicated CPUs"); empty: any CPU. `cpus` is every
  // thread's default (set on the main thread at start, inherited), the others override it
  // for the I/O lanes; [tiers.X] cpus for the tier's pools.
  util::CpuList cpus;
  util::CpuList io_cpus;
  util::CpuList priority_io_cpus;

  PopularityConfig popularity;
  sched::TierTable tiers = sched::TierTable::Defaults();
};

// Parses TOML text; `origin` names the file in messages.
absl::StatusOr<Config> ParseConfig(std::string_view toml_text, std::string_view origin);
absl::StatusOr<Config> LoadConfigFile(const std::string& path);
// "HOST:PORT" into the config.
absl::Status SetListen(Config* config, std::string_view host_port);

}  // namespace recd::app
