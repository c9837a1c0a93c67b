// The whole harness against the fake recd (trivial server with the admin API's shapes): a tiny
// scenario with every kind of phase, bounded to a few seconds.
#include "bench/harness/runner.h"

#include <atomic>
#include <filesystem>
#include <fstream>

#include "bench/harness/model_gen.h"
#include "bench/harness/trivial_server.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace recd::bench {
namespace {

constexpr char kTiny[] = R"toml(
[scenario]
name = "tiny"
description = "every phase kind, briefly"
duration = "1s"
pause = "0s"
seed = 3

[[tenant]]
name = "gold"
tier = "premium"
items = 200
dim = 8
users = 100
seed_events = 1500

[[tenant]]
name = "tin"
items = 100
dim = 4
users = 50
quotas = { recommendations_per_s = 100000 }

[[phase]]
name = "probe"
mode = "closed"
duration = "300ms"
[[phase.load]]
tenant = "tin"
recommend = 1
connections = 2

[[phase]]
name = "mixed"
[[phase.load]]
tenant = "gold"
rate = 100
recommend = 2
events = 1
similar = 1
batch = 10
isolate = true
[[phase.load]]
tenant = "tin"
rate_of = "probe"
rate_factor = 0.01
recommend = 1
[[phase.action]]
kind = "swap_model"
tenant = "gold"
every = "400ms"

[[phase]]
name = "knee"
mode = "sweep"
[phase.sweep]
start_rate = 50
factor = 2
max_rate = 200
step_duration = "300ms"
p99_target = "1s"
[[phase.load]]
tenant = "gold"
share = 1
recommend = 1

[report]
tenant = "gold"
baseline = "probe"
test = "mixed"
)toml";

TEST(Runner, DryRunOnboardsRunsEveryPhaseOffboardsAndCountsWhatTheServerSaw) {
  absl::StatusOr<std::unique_ptr<TrivialServer>> server = TrivialServer::Start(true);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<Scenario> scenario = ParseScenario(kTiny, "tiny.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  CliOptions options;
  options.target = "http://127.0.0.1:" + std::to_string((*server)->port());
  options.admin_token = "t";
  std::atomic<bool> stop{false};
  absl::StatusOr<RunReport> report = RunScenario(options, *scenario, &stop);
  ASSERT_TRUE(report.ok()) << report.status();

  // Onboarded two tenants, set one quota, deployed v1 each and swapped gold's model, offboarded.
  const auto counts = (*server)->Counts();
  EXPECT_EQ(counts.at("POST /v1/admin/tenants 201"), 2);
  int64_t deletes = 0, uploads = 0, activations = 0;
  for (const auto& [key, n] : counts) {
    if (key.starts_with("DELETE /v1/admin/tenants/bench-")) deletes += n;
    if (key.starts_with("PUT /v1/admin/tenants/bench-")) uploads += n;
    if (key.ends_with("/activate 200")) activations += n;
  }
  EXPECT_EQ(deletes, 2);
  EXPECT_GE(uploads, 3);
  EXPECT_EQ(uploads, activations);
  EXPECT_EQ(report->tenant_ids.size(), 2u);
  EXPECT_TRUE(report->tenant_ids.at("gold").starts_with("bench-gold-"));

  // The harness's totals agree with what the server answered, route by route.
  int64_t server_recs = 0, server_events = 0;
  for (const auto& [key, n] : counts) {
    if (key.starts_with("GET /v1/recommendations ")) server_recs += n;
    if (key.starts_with("POST /v1/events ")) server_events += n;
  }
  EXPECT_EQ(report->totals.at("GET /v1/recommendations").at(200), server_recs);
  EXPECT_EQ(report->totals.at("POST /v1/events").at(200), server_events);
  EXPECT_GE(report->events_accepted, 1500);

  // Phases: seeding, probe, mixed, and sweep steps 50, 100, 200.
  std::vector<std::string> names;
  for (const PhaseResult& p : report->phases) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"_seed", "probe", "mixed", "knee@50", "knee@100",
                                             "knee@200"}));
  const PhaseResult& mixed = report->phases[2];
  EXPECT_NEAR(mixed.offered_rate.at("gold"), 100, 1e-9);
  EXPECT_NE(mixed.Find("gold", Endpoint::kSimilar), nullptr);
  EXPECT_FALSE(mixed.actions.empty());
  for (const ActionEvent& a : mixed.actions) EXPECT_TRUE(a.error.empty()) << a.error;
  ASSERT_EQ(report->sweeps.size(), 1u);
  EXPECT_EQ(report->sweeps[0].steps.size(), 3u);
  EXPECT_EQ(*report->sweeps[0].knee_rate, 200);

  // The JSON parses and the charts are written.
  const std::string json = RenderJson(*report);
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS);
  std::string_view name;
  ASSERT_EQ(doc["scenario"].get_string().get(name), simdjson::SUCCESS);
  EXPECT_EQ(name, "tiny");
  EXPECT_NE(json.find("\"isolation\":{\"tenant\":\"gold\""), std::string::npos);
  absl::StatusOr<std::string> dir = MakeTempDir("runner-test");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::vector<std::string>> charts = WriteCharts(*report, *dir);
  ASSERT_TRUE(charts.ok()) << charts.status();
  EXPECT_EQ(*charts, (std::vector<std::string>{"latency_probe.svg", "latency_mixed.svg",
                                               "sweep_knee.svg", "sweep_knee_throughput.svg"}));
  EXPECT_TRUE(std::filesystem::file_size(*dir + "/sweep_knee.svg") > 500);
  RemoveTree(*dir);
  const std::string text = RenderText(*report);
  EXPECT_NE(text.find("== isolation: gold"), std::string::npos);
  EXPECT_NE(text.find("knee: 200/s"), std::string::npos);
}

TEST(Runner, RefusesANonLoopbackTargetUnlessAllowed) {
  absl::StatusOr<Scenario> scenario = ParseScenario(kTiny, "tiny.toml");
  ASSERT_TRUE(scenario.ok());
  CliOptions options;
  options.target = "http://192.0.2.1:8080";
  options.admin_token = "t";
  std::atomic<bool> stop{false};
  absl::StatusOr<RunReport> report = RunScenario(options, *scenario, &stop);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(std::string(report.status().message()).find("not a loopback"), std::string::npos);
}

TEST(Runner, WrongAdminTokenIsAClearError) {
  // A fake that refuses onboarding: its /status/401 route stands in for a bad token.
  absl::StatusOr<std::unique_ptr<TrivialServer>> server = TrivialServer::Start(false);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<Scenario> scenario = ParseScenario(kTiny, "tiny.toml");
  ASSERT_TRUE(scenario.ok());
  CliOptions options;
  options.target = "http://127.0.0.1:" + std::to_string((*server)->port()) + "/status/401";
  options.admin_token = "wrong";
  std::atomic<bool> stop{false};
  absl::StatusOr<RunReport> report = RunScenario(options, *scenario, &stop);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(std::string(report.status().message()).find("HTTP 401"), std::string::npos);
  EXPECT_NE(std::string(report.status().message()).find("--admin-token"), std::string::npos);
}

}  // namespace
}  // namespace recd::bench
