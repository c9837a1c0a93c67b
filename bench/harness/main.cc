// recd-bench: the load harness for recd's latency tuning. See UsageText() and docs/bench.md.
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/harness/cli.h"
#include "bench/harness/report.h"
#include "bench/harness/runner.h"
#include "bench/harness/scenario.h"
#include "bench/harness/trivial_server.h"
#include "util/strings.h"

namespace {

// The one process-wide flag: set by SIGINT/SIGTERM, read by the run, which then winds down
// and still offboards its tenants.
std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(const absl::Status& status) {
  std::cerr << "recd-bench: " << status.message() << "\n";
  return absl::IsInvalidArgument(status) || absl::IsNotFound(status) ? 2 : 1;
}

absl::Status WriteOutputs(const recd::bench::RunReport& report, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(recd::util::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::string json_path = recd::util::StrCat(dir, "/report.json");
  std::ofstream json(json_path, std::ios::trunc);
  json << recd::bench::RenderJson(report);
  json.close();
  if (!json) return absl::InternalError(recd::util::StrCat("cannot write ", json_path));
  absl::StatusOr<std::vector<std::string>> charts = recd::bench::WriteCharts(report, dir);
  if (!charts.ok()) return charts.status();
  std::cout << "\nwrote " << json_path << " and " << recd::util::Join(*charts, ", ") << " in "
            << dir << "\n";
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<recd::bench::CliOptions> options =
      recd::bench::ParseCommandLine(args, std::getenv("RECD_ADMIN_TOKEN"));
  if (!options.ok()) return Fail(options.status());
  if (options->help) {
    std::cout << recd::bench::UsageText();
    return 0;
  }
  if (options->version) {
    std::cout << "recd-bench " << RECD_VERSION << "\n";
    return 0;
  }
  if (options->list_scenarios) {
    for (const std::string& name : recd::bench::BuiltinScenarioNames()) std::cout << name << "\n";
    return 0;
  }
  if (!options->print_scenario.empty()) {
    absl::StatusOr<std::string_view> text =
        recd::bench::BuiltinScenarioText(options->print_scenario);
    if (!text.ok()) return Fail(text.status());
    std::cout << *text;
    return 0;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  if (options->calibrate) {
    absl::StatusOr<std::string> text = recd::bench::RunCalibration(*options, &g_stop);
    if (!text.ok()) return Fail(text.status());
    std::cout << *text;
    return 0;
  }
  std::unique_ptr<recd::bench::TrivialServer> fake;
  if (options->dry_run) {
    absl::StatusOr<std::unique_ptr<recd::bench::TrivialServer>> server =
        recd::bench::TrivialServer::Start(/*fake_recd=*/true);
    if (!server.ok()) return Fail(server.status());
    fake = std::move(*server);
    options->target = recd::util::StrCat("http://127.0.0.1:", fake->port());
    if (options->admin_token.empty()) options->admin_token = "dry-run";
  }
  absl::StatusOr<recd::bench::Scenario> scenario = recd::bench::ResolveScenario(options->scenario);
  if (!scenario.ok()) return Fail(scenario.status());
  if (absl::Status s = recd::bench::ApplyOverrides(*options, &*scenario); !s.ok()) return Fail(s);
  absl::StatusOr<recd::bench::RunReport> report =
      recd::bench::RunScenario(*options, *scenario, &g_stop);
  if (!report.ok()) return Fail(report.status());
  const std::string text = recd::bench::RenderText(*report);
  // The setup block was printed at the start and each phase as it ended; the summary remains.
  const size_t summary = text.find("\n== sweep");
  const size_t isolation = text.find("\n== isolation");
  const size_t totals = text.find("\n== answers");
  size_t from = std::min({summary, isolation, totals});
  if (from != std::string::npos) std::cout << text.substr(from);
  if (absl::Status s = WriteOutputs(*report, options->out_dir); !s.ok()) return Fail(s);
  return g_stop.load() ? 130 : 0;
}
