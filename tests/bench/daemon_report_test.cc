// recd-bench against the real daemon (issue 6): a short collector-steady run (event batches and
// user-history reads at 200 requests/s for 2 s) whose report must count exactly the requests
// recd's /metrics saw, route by route and status by status, and which must leave no tenant of
// its own behind. Counts, not timings, so a loaded CI machine cannot make it flaky.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "bench/harness/cli.h"
#include "bench/harness/report.h"
#include "bench/harness/runner.h"
#include "bench/harness/scenario.h"
#include "tests/support/daemon_process.h"
#include "tests/support/http_client.h"
#include "tests/support/json.h"

namespace recd::bench {
namespace {

using testing::DaemonProcess;
using testing::HttpClient;
using testing::HttpResult;
using testing::Json;

// The scenario: collector-steady, shrunk. Two tiers, no models (no model or recommendation
// routes needed), histories seeded first so that the reads find events; event quotas raised so
// that seeding at full speed is never refused.
constexpr char kScenario[] = R"toml(
[scenario]
name = "it-collector-steady"
duration = "2s"
pause = "200ms"
rate = 200
arrival = "poisson"
seed = 3
connections = 8
timeout = "20s"

[[tenant]]
name = "premium"
tier = "premium"
model = false
items = 300
users = 500
seed_events = 2000
quotas = { events_per_s = 1000000 }

[[tenant]]
name = "standard"
model = false
items = 100
users = 200
seed_events = 500
quotas = { events_per_s = 1000000 }

[[phase]]
name = "steady"
mode = "open"

[[phase.load]]
tenant = "premium"
share = 0.7
events = 0.4
user_events = 0.6
batch = 20

[[phase.load]]
tenant = "standard"
share = 0.3
events = 0.4
user_events = 0.6
batch = 20
)toml";

// recd-bench names routes "METHOD /path"; recd's metrics name them by route id.
const std::map<std::string, std::string>& RouteIds() {
  static const auto* ids = new std::map<std::string, std::string>{
      {"POST /v1/events", "events_ingest"},
      {"GET /v1/users/{user}/events", "user_events"},
      {"POST /v1/admin/tenants", "admin_tenant_create"},
      {"PATCH /v1/admin/tenants/{id}", "admin_tenant_patch"},
      {"DELETE /v1/admin/tenants/{id}", "admin_tenant_delete"},
  };
  return *ids;
}

std::string Label(const std::string& line, const std::string& name) {
  const std::string key = name + "=\"";
  const size_t at = line.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size();
  return line.substr(begin, line.find('"', begin) - begin);
}

// route id -> status -> recd_http_requests_total, from one GET /metrics.
using Counts = std::map<std::string, std::map<int, int64_t>>;
Counts ScrapeRequests(HttpClient& client) {
  HttpResult r = client.Send("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  Counts counts;
  size_t pos = 0;
  while (pos < r.body.size()) {
    size_t end = r.body.find('\n', pos);
    if (end == std::string::npos) end = r.body.size();
    const std::string line = r.body.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("recd_http_requests_total{", 0) != 0) continue;
    const std::string route = Label(line, "route");
    const int status = std::atoi(Label(line, "status").c_str());
    counts[route][status] = std::atoll(line.c_str() + line.rfind(' ') + 1);
  }
  counts.erase("metrics");  // our own scrapes
  return counts;
}

Counts Delta(const Counts& after, const Counts& before) {
  Counts delta;
  for (const auto& [route, statuses] : after) {
    for (const auto& [status, n] : statuses) {
      int64_t was = 0;
      if (auto r = before.find(route); r != before.end()) {
        if (auto s = r->second.find(status); s != r->second.end()) was = s->second;
      }
      if (n != was) delta[route][status] = n - was;
    }
  }
  return delta;
}

std::string Show(const Counts& counts) {
  std::string out;
  for (const auto& [route, statuses] : counts) {
    for (const auto& [status, n] : statuses) {
      out += route + " " + std::to_string(status) + ": " + std::to_string(n) + "\n";
    }
  }
  return out;
}

TEST(RecdBenchAgainstDaemon, ReportCountsEqualTheDaemonsMetricsAndTenantsAreRemoved) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  HttpClient client(daemon.port());
  const Counts before = ScrapeRequests(client);

  absl::StatusOr<Scenario> scenario = ParseScenario(kScenario, "it-collector-steady.toml");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  CliOptions options;
  options.target = "http://127.0.0.1:" + std::to_string(daemon.port());
  options.admin_token = DaemonProcess::kAdminToken;
  std::atomic<bool> stop{false};
  absl::StatusOr<RunReport> report = RunScenario(options, *scenario, &stop);
  ASSERT_TRUE(report.ok()) << report.status() << "\n" << daemon.Log();

  // The report as written to report.json: its totals, route by route, in recd's route ids.
  Json json(RenderJson(*report));
  Counts reported;
  for (auto [route, statuses] : json["totals"].get_object()) {
    const std::string name(route);
    auto id = RouteIds().find(name);
    ASSERT_NE(id, RouteIds().end()) << "route " << name << " has no recd route id in this test";
    for (auto [status, n] : statuses.get_object()) {
      reported[id->second][std::atoi(std::string(status).c_str())] = int64_t(n);
    }
  }
  // Every request got an answer (a request without one could not be compared).
  for (auto [route, failures] : json["failures"].get_object()) {
    for (auto [name, n] : failures.get_object()) {
      EXPECT_EQ(int64_t(n), 0) << route << " " << name;
    }
  }

  // recd counts an answer once it is written; the harness may have read it a moment before.
  Counts seen;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    seen = Delta(ScrapeRequests(client), before);
    if (seen == reported) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < give_up);
  EXPECT_EQ(seen, reported) << "recd /metrics delta:\n"
                            << Show(seen) << "recd-bench report:\n"
                            << Show(reported);

  // The per-endpoint tables (seeding + the measured phase) add up to the same counts.
  std::map<std::string, int64_t> per_endpoint;
  for (const PhaseResult& phase : report->phases) {
    for (const SeriesResult& s : phase.series) {
      per_endpoint[RouteIds().at(std::string(EndpointRoute(s.endpoint)))] += s.stats.answered();
      EXPECT_EQ(s.stats.sent, s.stats.answered()) << phase.name << " " << s.tenant;
    }
  }
  for (const char* route : {"events_ingest", "user_events"}) {
    int64_t daemon_total = 0;
    for (const auto& [status, n] : seen[route]) daemon_total += n;
    EXPECT_EQ(per_endpoint[route], daemon_total) << route;
  }
  // The run did real work: both endpoints answered 200 in the measured phase, for both tenants.
  ASSERT_EQ(report->phases.size(), 2u);  // "_seed", "steady"
  const PhaseResult& steady = report->phases[1];
  for (const char* tenant : {"premium", "standard"}) {
    for (Endpoint e : {Endpoint::kEvents, Endpoint::kUserEvents}) {
      const SeriesResult* s = steady.Find(tenant, e);
      ASSERT_NE(s, nullptr) << tenant << " " << EndpointName(e);
      EXPECT_GT(s->stats.ok(), 0) << tenant << " " << EndpointName(e);
    }
  }
  EXPECT_EQ(report->events_accepted, 2500 + steady.Merged().events_sent);

  // Onboarded two tenants, removed both: nothing of the run is left in the registry.
  EXPECT_EQ(seen["admin_tenant_create"][201], 2);
  EXPECT_EQ(seen["admin_tenant_delete"][204], 2);
  HttpResult tenants =
      client.Send("GET", "/v1/admin/tenants", "",
                  {{"Authorization", std::string("Bearer ") + DaemonProcess::kAdminToken}});
  ASSERT_EQ(tenants.status, 200) << tenants.body;
  EXPECT_EQ(tenants.body.find("bench-"), std::string::npos) << tenants.body;
  for (const auto& [label, id] : report->tenant_ids) {
    HttpResult one =
        client.Send("GET", "/v1/admin/tenants/" + id, "",
                    {{"Authorization", std::string("Bearer ") + DaemonProcess::kAdminToken}});
    EXPECT_EQ(one.status, 404) << label << " " << id << ": " << one.body;
  }
}

}  // namespace
}  // namespace recd::bench
