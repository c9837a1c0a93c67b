// Shared fixture for integration tests: one real daemon per test, with helpers to onboard.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/daemon_process.h"
#include "tests/support/http_client.h"
#include "tests/support/json.h"
#include "util/clock.h"
#include "util/text.h"

namespace recd::testing {

// Today's date on the UTC calendar, shifted by whole days: "2026-11-23" (usage is metered per
// UTC day).
inline std::string UtcDate(int offset_days = 0) {
  return util::FormatIsoDate(util::DayOfUnixMs(util::SystemClock::Get().NowMs()) + offset_days);
}

// A gauge's value in a /metrics scrape taken on a fresh connection (which, unauthenticated,
// stays on the shared I/O lane and holds no tenant slot itself); -1 when it is missing.
inline double GaugeValue(uint16_t port, const std::string& gauge) {
  HttpClient probe(port);
  HttpResult m = probe.Send("GET", "/metrics");
  const std::string name = "\n" + gauge + " ";
  size_t at = m.body.find(name);
  if (m.status != 200 || at == std::string::npos) return -1;
  return std::stod(m.body.substr(at + name.size()));
}

// Polls until the gauge reads `value` (asynchronous server state that a test must not race);
// returns the last value read, after at most 20 s.
inline double AwaitGauge(uint16_t port, const std::string& gauge, double value) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  double now = GaugeValue(port, gauge);
  while (now != value && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = GaugeValue(port, gauge);
  }
  return now;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon(); }

  // `args` are remembered for RestartDaemon().
  void StartDaemon(const std::vector<std::string>& args = {}) {
    args_ = args;
    ASSERT_TRUE(daemon_.Start(args)) << daemon_.Log();
    client_ = std::make_unique<HttpClient>(daemon_.port());
  }
  void RestartDaemon() {
    client_.reset();
    ASSERT_EQ(daemon_.Stop(), 0) << daemon_.Log();
    StartDaemon(args_);
  }

 public:
  static std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  static std::vector<std::pair<std::string, std::string>> Admin() {
    return Bearer(DaemonProcess::kAdminToken);
  }

 protected:
  HttpResult AdminCall(const std::string& method, const std::string& target,
                       const std::string& body = "") {
    return client_->Send(method, target, body, Admin());
  }

  struct Keys {
    std::string server, ingest;
  };
  Keys Onboard(const std::string& id, const std::string& tier = "standard") {
    HttpResult r = AdminCall("POST", "/v1/admin/tenants",
                             R"({"id":")" + id + R"(","tier":")" + tier + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    Json j(r.body);
    return {Str(j["keys"]["server"]), Str(j["keys"]["ingest"])};
  }

  DaemonProcess daemon_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::string> args_;
};

}  // namespace recd::testing
