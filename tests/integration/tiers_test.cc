// Tiers through the real binary: rate limits (429), full queues and in-flight caps (503),
// deadlines, live tier changes, usage metering, SIGHUP reloads and metrics labels.
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/integration/test_env.h"

namespace recd::testing {
namespace {

std::string Ev(const std::string& user, const std::string& item) {
  return R"({"user":")" + user + R"(","item":")" + item + R"(","type":"view"})";
}

std::string Batch(int n, const std::string& user = "u1", int bad = 0) {
  std::string b = R"({"events":[)";
  for (int i = 0; i < n + bad; ++i) {
    if (i) b += ",";
    b += i < n ? Ev(user, "item-" + std::to_string(i)) : Ev("", "bad");
  }
  return b + "]}";
}


class Tiers : public DaemonTest {
 protected:
  void SetUp() override {}  // each test starts the daemon with its own config

  void StartWith(const std::string& toml) {
    config_path_ = daemon_.data_dir() + ".toml";
    std::ofstream(config_path_) << toml;
    args_ = {"--config", config_path_};
    StartDaemon(args_);
  }
  void Restart() {
    client_.reset();
    ASSERT_EQ(daemon_.Stop(), 0) << daemon_.Log();
    StartDaemon(args_);
  }
  void Reload(const std::string& toml) {
    std::ofstream(config_path_, std::ios::trunc) << toml;
    const size_t before = daemon_.Log().size();
    ::kill(daemon_.pid(), SIGHUP);
    for (int i = 0; i < 200; ++i) {
      std::string log = daemon_.Log().substr(before);
      if (log.find("reload") != std::string::npos || log.find("refused") != std::string::npos) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no reload in the log";
  }
  HttpResult Patch(const std::string& id, const std::string& body) {
    HttpResult r = AdminCall("PATCH", "/v1/admin/tenants/" + id, body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r;
  }
  Json Usage(const std::string& id, const std::string& from, const std::string& to,
             int expect = 200) {
    HttpResult r = AdminCall("GET", "/v1/admin/tenants/" + id + "/usage?from=" + from + "&to=" + to);
    EXPECT_EQ(r.status, expect) << r.body;
    return Json(r.status == 200 ? r.body : "{}");
  }

  std::string config_path_;
  std::vector<std::string> args_;
};

int64_t Day(Json& j, int index, const char* field) {
  return int64_t(simdjson::dom::array(j["days"]).at(static_cast<size_t>(index))[field]);
}

TEST_F(Tiers, RequestBucketAnswers429WithRetryAfterAndRefills) {
  StartWith("");
  Keys k = Onboard("acme");
  Patch("acme", R"({"quotas":{"recommendations_per_s":2}})");
  const auto h = Bearer(k.server);
  // Two tokens, refilling continuously: the bucket admits while positive, so the third or
  // fourth quick request is the first one refused.
  HttpResult refused;
  int served = 0;
  for (int i = 0; i < 6; ++i) {
    refused = client_->Send("GET", "/v1/users/u1/events", "", h);
    if (refused.status != 200) break;
    ++served;
  }
  EXPECT_GE(served, 2);
  EXPECT_LE(served, 3);
  ASSERT_EQ(refused.status, 429) << refused.body;
  Json j(refused.body);
  EXPECT_EQ(Str(j["error"]["code"]), "rate_limited");
  const int64_t retry_ms = int64_t(j["error"]["retry_after_ms"]);
  EXPECT_EQ(int64_t(j["retry_after_ms"]), retry_ms) << "also at the top level";
  EXPECT_GE(retry_ms, 1);
  EXPECT_LE(retry_ms, 1000);
  EXPECT_GE(std::stoi(refused.Header("retry-after")), 1);
  // Admin routes are never limited.
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants/acme").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(retry_ms + 20));
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events", "", h).status, 200);
}

// SPEC 7.9: a refusal decided from the headers answers and closes the connection, with or
// without a body; a request pipelined behind it is not answered.
TEST_F(Tiers, HeaderRefusalsCloseTheConnection) {
  StartWith("");
  Keys k = Onboard("acme");
  Patch("acme", R"({"quotas":{"recommendations_per_s":1,"events_per_s":1}})");
  HttpResult r;
  for (int i = 0; i < 5 && r.status != 429; ++i) {
    r = client_->Send("GET", "/v1/users/u1/events", "", Bearer(k.server));
  }
  ASSERT_EQ(r.status, 429);
  const std::string get = "GET /v1/users/u1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          k.server + "\r\n\r\n";
  HttpClient pipelined(daemon_.port());
  HttpResult first = pipelined.SendRaw(get + get);
  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(first.Header("connection"), "close");
  EXPECT_EQ(pipelined.ReadNext().status, 0) << "closed after the refusal";

  ASSERT_EQ(client_->Send("POST", "/v1/events", Batch(30), Bearer(k.ingest)).status, 200);
  const std::string body = Batch(1);
  HttpClient with_body(daemon_.port());
  HttpResult refused = with_body.SendRaw(
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + k.ingest +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body + get);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.Header("connection"), "close");
  EXPECT_EQ(with_body.ReadNext().status, 0) << "closed after the refusal";
}

TEST_F(Tiers, EventBucketChargesTheBatchSizeAfterParsing) {
  StartWith("");
  Keys k = Onboard("acme");
  Patch("acme", R"({"quotas":{"events_per_s":10}})");
  const auto h = Bearer(k.ingest);
  // One positive token admits a batch of 30: the bucket goes 20 into debt, 2 s at 10/s.
  EXPECT_EQ(client_->Send("POST", "/v1/events", Batch(30), h).status, 200);
  HttpResult refused = client_->Send("POST", "/v1/events", Batch(1), h);
  ASSERT_EQ(refused.status, 429) << refused.body;
  const int64_t retry_ms = int64_t(Json(refused.body)["error"]["retry_after_ms"]);
  EXPECT_GT(retry_ms, 1500);
  EXPECT_LE(retry_ms, 2001);
  EXPECT_GE(std::stoi(refused.Header("retry-after")), 2);
  // Recommendations have their own bucket.
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events", "", Bearer(k.server)).status, 200);
}

TEST_F(Tiers, FullQueueAnswers503WithRetryAfterOne) {
  StartWith(R"(
[tiers.standard]
threads = 1
queue = 1
events_per_s = 1000000.0
max_inflight = 1000
)");
  Keys k = Onboard("acme");
  const std::string body = Batch(1000);
  std::atomic<int> ok{0}, overloaded{0}, other{0};
  std::mutex mu;
  HttpResult sample;
  for (int round = 0; round < 20 && overloaded.load() == 0; ++round) {
    std::vector<std::thread> clients;
    for (int c = 0; c < 16; ++c) {
      clients.emplace_back([&] {
        HttpClient client(daemon_.port());
        for (int i = 0; i < 4; ++i) {
          HttpResult r = client.Send("POST", "/v1/events", body, Bearer(k.ingest));
          if (r.status == 200) {
            ++ok;
          } else if (r.status == 503) {
            ++overloaded;
            std::lock_guard<std::mutex> lock(mu);
            sample = r;
          } else {
            ++other;
          }
        }
      });
    }
    for (auto& t : clients) t.join();
  }
  EXPECT_GT(ok.load(), 0);
  ASSERT_GT(overloaded.load(), 0) << "a 1-thread pool with a 1-slot queue never filled";
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(sample.Header("retry-after"), "1");
  EXPECT_EQ(Str(Json(sample.body)["error"]["code"]), "overloaded");
  // Every refusal is billed as refused, and only the served batches as events.
  Json u = Usage("acme", UtcDate(), UtcDate());
  EXPECT_EQ(Day(u, 0, "requests_refused"), overloaded.load());
  EXPECT_EQ(Day(u, 0, "events_accepted"), ok.load() * 1000);
}

TEST_F(Tiers, InFlightCapRefusesFromTheHeaders) {
  StartWith("");
  Keys k = Onboard("acme");
  Patch("acme", R"({"quotas":{"max_inflight":1,"recommendations_per_s":1000000}})");
  // The first request is admitted and holds the tenant's only slot while its body is awaited.
  RawConnection slow(daemon_.port());
  const std::string body = Batch(1);
  slow.Send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + k.ingest +
            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  // Admission is asynchronous, and probing with a tenant request would race it for the one
  // slot: wait on the gauge instead.
  ASSERT_EQ(AwaitGauge(daemon_.port(), "recd_tenant_requests_in_flight", 1), 1);
  HttpResult refused = client_->Send("GET", "/v1/users/u1/events", "", Bearer(k.server));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
  slow.Send(body);
  EXPECT_NE(slow.ReadAnswer().find("HTTP/1.1 200"), std::string::npos);
  // The slot is free once an answer is out: one request at a time is never refused.
  HttpClient sequential(daemon_.port());
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(sequential.Send("GET", "/v1/users/u1/events", "", Bearer(k.server)).status, 200)
        << i;
  }
  EXPECT_EQ(GaugeValue(daemon_.port(), "recd_tenant_requests_in_flight"), 0);
}

TEST_F(Tiers, WorkNotStartedBeforeTheDeadlineIs503) {
  StartWith("");
  Keys k = Onboard("acme");
  const std::string body = Batch(1);
  RawConnection c(daemon_.port());
  // The deadline runs from when the headers were read; the body comes too late.
  c.Send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + k.ingest +
         "\r\nX-Request-Timeout-Ms: 20\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  c.Send(body);
  std::string answer = c.ReadAnswer();
  EXPECT_NE(answer.find("HTTP/1.1 503"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"overloaded\""), std::string::npos) << answer;
  // Nothing was stored; a timely request with the header is served.
  auto h = Bearer(k.server);
  HttpResult events = client_->Send("GET", "/v1/users/u1/events", "", h);
  EXPECT_EQ(events.body, R"({"user":"u1","events":[]})");
  h.emplace_back("X-Request-Timeout-Ms", "5000");
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events", "", h).status, 200);
  h.back().second = "soon";
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events", "", h).status, 400);
  Json u = Usage("acme", UtcDate(), UtcDate());
  EXPECT_EQ(Day(u, 0, "requests_refused"), 1);
  EXPECT_EQ(Day(u, 0, "events_accepted"), 0);
  HttpResult metrics = client_->Send("GET", "/metrics");
  EXPECT_NE(metrics.body.find(R"(reason="deadline")"), std::string::npos);
}

// A malformed X-Request-Timeout-Ms is a 400 that comes after the size check (SPEC 7.4: 413
// before 400), and it stores nothing.
TEST_F(Tiers, AMalformedTimeoutIs400AfterTheSizeCheck) {
  StartWith("");
  Keys k = Onboard("acme");
  auto h = Bearer(k.ingest);
  h.emplace_back("X-Request-Timeout-Ms", "abc");
  HttpResult r = client_->Send("POST", "/v1/events", Batch(1), h);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("X-Request-Timeout-Ms"), std::string::npos) << r.body;
  HttpResult big =
      client_->SendRaw("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + k.ingest +
                       "\r\nX-Request-Timeout-Ms: abc\r\nContent-Length: 10485760\r\n\r\n{");
  EXPECT_EQ(big.status, 413) << big.body;
  HttpResult events = client_->Send("GET", "/v1/users/u1/events", "", Bearer(k.server));
  EXPECT_EQ(events.body, R"({"user":"u1","events":[]})");
}

TEST_F(Tiers, TierChangeUnderLoadLosesNoRequest) {
  StartWith("");
  Keys k = Onboard("acme");
  Patch("acme", R"({"quotas":{"recommendations_per_s":1000000,"events_per_s":1000000}})");
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(daemon_.port());
      while (!stop.load()) {
        HttpResult r = c % 2 == 0
                           ? client.Send("GET", "/v1/users/u1/events", "", Bearer(k.server))
                           : client.Send("POST", "/v1/events", Batch(5), Bearer(k.ingest));
        (r.status == 200 ? served : failed)++;
      }
    });
  }
  for (const char* tier : {"premium", "enterprise", "standard", "premium", "standard"}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    Patch("acme", std::string(R"({"tier":")") + tier + "\"}");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(served.load(), 50);
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(Tiers, UsageEqualsTheWorkloadSurvivesRestartAndOffboarding) {
  StartWith("");
  Keys a = Onboard("acme");
  Keys b = Onboard("bolt");
  Patch("acme", R"({"quotas":{"recommendations_per_s":3}})");
  uint64_t bytes = 0;
  for (auto [n, bad] : std::vector<std::pair<int, int>>{{4, 1}, {10, 0}, {0, 2}}) {
    std::string body = Batch(n, "u1", bad);
    bytes += body.size();
    ASSERT_EQ(client_->Send("POST", "/v1/events", body, Bearer(a.ingest)).status, 200);
  }
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    refused += client_->Send("GET", "/v1/users/u1/events", "", Bearer(a.server)).status == 429;
  }
  EXPECT_GE(refused, 2);
  ASSERT_EQ(client_->Send("POST", "/v1/events", Batch(7, "z"), Bearer(b.ingest)).status, 200);
  // A bad request is neither served nor refused: not billed.
  EXPECT_EQ(client_->Send("POST", "/v1/events", "nope", Bearer(b.ingest)).status, 400);

  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    Json u = Usage("acme", UtcDate(-1), UtcDate(1));
    ASSERT_EQ(simdjson::dom::array(u["days"]).size(), 3u);
    EXPECT_EQ(Str(simdjson::dom::array(u["days"]).at(1)["date"]), UtcDate());
    EXPECT_EQ(Day(u, 1, "events_accepted"), 14);
    EXPECT_EQ(Day(u, 1, "events_rejected"), 3);
    EXPECT_EQ(Day(u, 1, "bytes_ingested"), static_cast<int64_t>(bytes));
    EXPECT_EQ(Day(u, 1, "requests_refused"), refused);
    EXPECT_EQ(Day(u, 1, "recommendations"), 0);
    EXPECT_EQ(Day(u, 0, "events_accepted"), 0);
    EXPECT_EQ(Day(u, 2, "events_accepted"), 0);
    Json v = Usage("bolt", UtcDate(), UtcDate());
    EXPECT_EQ(Day(v, 0, "events_accepted"), 7);
    EXPECT_EQ(Day(v, 0, "events_rejected"), 0);
    EXPECT_EQ(Day(v, 0, "requests_refused"), 0);
  };
  check("live");
  Restart();
  check("after restart");
  daemon_.Kill();  // event counters were in the events' own batches
  StartDaemon(args_);
  check("after a crash");
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme").status, 204);
  check("after offboarding");
  // A new tenant under the old name adds to the same bill.
  Keys again = Onboard("acme");
  ASSERT_EQ(client_->Send("POST", "/v1/events", Batch(1), Bearer(again.ingest)).status, 200);
  Json u = Usage("acme", UtcDate(), UtcDate());
  EXPECT_EQ(Day(u, 0, "events_accepted"), 15);
}

TEST_F(Tiers, UsageRouteValidatesItsRange) {
  StartWith("");
  Onboard("acme");
  Usage("acme", "2026-01-01", "2027-01-02");  // 366 days apart: allowed
  Json full = Usage("acme", "2026-01-01", "2027-01-02");
  EXPECT_EQ(simdjson::dom::array(full["days"]).size(), 367u);
  Usage("acme", "2026-01-01", "2027-01-03", 400);
  Usage("acme", "2026-02-01", "2026-01-31", 400);
  Usage("acme", "2026-02-30", "2026-03-01", 400);
  Usage("acme", "20260101", "2026-03-01", 400);
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants/acme/usage?from=2026-01-01").status, 400);
  EXPECT_EQ(AdminCall("GET", "/v1/admin/tenants/acme/usage?to=2026-01-01").status, 400);
  Usage("never-seen", "2026-01-01", "2026-01-02", 404);
  EXPECT_EQ(client_->Send("GET", "/v1/admin/tenants/acme/usage?from=2026-01-01&to=2026-01-01")
                .status,
            401);
}

TEST_F(Tiers, BadReloadKeepsTheOldTiersAndAGoodOneApplies) {
  StartWith("[tiers.standard]\nrecommendations_per_s = 1.0\n");
  Keys k = Onboard("acme");
  auto h = Bearer(k.server);
  int refused = 0;
  for (int i = 0; i < 4; ++i) {
    refused += client_->Send("GET", "/v1/users/u1/events", "", h).status == 429;
  }
  EXPECT_GE(refused, 2);
  Reload("[tiers.standard]\nrecommendations_per_s = \"fast\"\n");
  EXPECT_NE(daemon_.Log().find("config refused"), std::string::npos);
  Json t(AdminCall("GET", "/v1/admin/tenants/acme").body);
  EXPECT_EQ(double(t["tenant"]["quotas"]["recommendations_per_s"]), 1.0);
  Reload("[tiers.standard]\nrecommendations_per_s = 500.0\n");
  Json t2(AdminCall("GET", "/v1/admin/tenants/acme").body);
  EXPECT_EQ(double(t2["tenant"]["quotas"]["recommendations_per_s"]), 500.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pay back the 1/s debt
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events", "", h).status, 200) << i;
  }
}

double PriorityConnections(uint16_t port) {
  return GaugeValue(port, "recd_http_priority_connections");
}

std::string RawGet(const std::string& target, const std::string& key, const std::string& id) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
         "\r\nX-Request-Id: " + id + "\r\n\r\n";
}

TEST_F(Tiers, PremiumAndAdminConnectionsMoveToThePriorityLane) {
  StartWith("");
  Keys standard = Onboard("basic");
  Keys premium = Onboard("gold", "premium");
  // client_ carried admin calls (control pool, nice 0): it moved after its first answer.
  EXPECT_EQ(PriorityConnections(daemon_.port()), 1);

  HttpClient basic(daemon_.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(basic.Send("GET", "/v1/users/u1/events", "", Bearer(standard.server)).status, 200);
  }
  EXPECT_EQ(PriorityConnections(daemon_.port()), 1) << "standard stays on the shared lane";

  // Three pipelined requests in one write, the first on the shared lane: the bytes read ahead
  // (the rest, a body included) must follow the connection to the priority lane, in order.
  const std::string batch = Batch(2, "u7");
  HttpClient gold(daemon_.port());
  HttpResult first = gold.SendRaw(
      RawGet("/v1/users/u7/events", premium.server, "one") +
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + premium.ingest +
      "\r\nX-Request-Id: two\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(batch.size()) + "\r\n\r\n" + batch +
      RawGet("/v1/users/u7/events", premium.server, "three"));
  HttpResult second = gold.ReadNext();
  HttpResult third = gold.ReadNext();
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.Header("x-request-id"), "one");
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.Header("x-request-id"), "two");
  EXPECT_EQ(third.status, 200) << third.body;
  EXPECT_EQ(third.Header("x-request-id"), "three");
  EXPECT_NE(third.body.find("item-1"), std::string::npos) << third.body;
  EXPECT_EQ(PriorityConnections(daemon_.port()), 2);

  // Still served after the move, and counted out when closed.
  EXPECT_EQ(gold.Send("GET", "/v1/users/u7/events", "", Bearer(premium.server)).status, 200);
  gold.Close();
  double left = -1;
  for (int i = 0; i < 200 && left != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    left = PriorityConnections(daemon_.port());
  }
  EXPECT_EQ(left, 1);
}

// A tenant whose pool becomes nicer than io_nice (here by a nice override) leaves the priority
// lane: its next answer there closes the connection, and the reconnect stays shared.
TEST_F(Tiers, ATenantMadeNicerLeavesThePriorityLane) {
  StartWith("");
  Keys premium = Onboard("gold", "premium");
  client_->Close();  // the admin connection moved too; count only gold's
  HttpClient gold(daemon_.port());
  ASSERT_EQ(gold.Send("GET", "/v1/users/u1/events", "", Bearer(premium.server)).status, 200);
  ASSERT_EQ(AwaitGauge(daemon_.port(), "recd_http_priority_connections", 1), 1);
  HttpClient admin(daemon_.port());
  ASSERT_EQ(
      admin.Send("PATCH", "/v1/admin/tenants/gold", R"({"quotas":{"nice":15}})", Admin()).status,
      200);
  admin.Close();
  HttpResult r = gold.Send("GET", "/v1/users/u1/events", "", Bearer(premium.server));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(gold.Send("GET", "/v1/users/u1/events", "", Bearer(premium.server)).status, 200);
  }
  EXPECT_EQ(AwaitGauge(daemon_.port(), "recd_http_priority_connections", 0), 0);
}

TEST_F(Tiers, WithoutAPriorityLaneEveryConnectionStaysShared) {
  StartWith("priority_io_threads = 0\n");
  Keys premium = Onboard("gold", "premium");
  HttpClient gold(daemon_.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(gold.Send("GET", "/v1/users/u1/events", "", Bearer(premium.server)).status, 200);
  }
  EXPECT_EQ(PriorityConnections(daemon_.port()), 0);
}

// SPEC 2: /metrics counts the events ingested, per tenant and tier. A replayed batch (same
// Idempotency-Key) stores nothing and counts nothing; a refused batch counts nothing.
TEST_F(Tiers, EventsIngestedAreCountedPerTenantTierAndResult) {
  StartWith("");
  Keys p = Onboard("prem", "premium");
  auto post = [&](const std::string& body, const std::string& idem) {
    auto h = Bearer(p.ingest);
    if (!idem.empty()) h.emplace_back("Idempotency-Key", idem);
    return client_->Send("POST", "/v1/events", body, h).status;
  };
  ASSERT_EQ(post(Batch(3, "u1", 2), ""), 200);
  ASSERT_EQ(post(Batch(4, "u2"), "batch-7"), 200);
  ASSERT_EQ(post(Batch(4, "u2"), "batch-7"), 200);  // the replay
  ASSERT_EQ(post(R"({"events":"no"})", ""), 400);
  const std::string series = R"(recd_events_ingested_total{tenant="prem",tier="premium",result=)";
  // Counted when each answer has been sent, which the client may see first.
  EXPECT_EQ(AwaitGauge(daemon_.port(), series + R"("accepted"})", 7.0), 7.0);
  EXPECT_EQ(AwaitGauge(daemon_.port(), series + R"("rejected"})", 2.0), 2.0);
}

// The CPU list ("0", "1", "0-1") of every thread of `pid` whose name starts with `prefix`.
std::vector<std::string> ThreadCpus(pid_t pid, const std::string& prefix) {
  std::vector<std::string> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& e : std::filesystem::directory_iterator(task)) {
    std::ifstream comm(e.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind(prefix, 0) != 0) continue;
    std::ifstream status(e.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("Cpus_allowed_list:", 0) == 0) {
        out.push_back(line.substr(line.find_first_not_of(" \t", 18)));
      }
    }
  }
  return out;
}

// Dedicated CPUs: premium's pool and the priority lane on CPU 1, everything else on CPU 0.
TEST_F(Tiers, ThreadsRunOnTheCpusTheConfigGivesThem) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(::sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  if (!CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed)) GTEST_SKIP() << "needs CPUs 0 and 1";
  StartWith("cpus = [0]\nio_cpus = [0]\npriority_io_cpus = [1]\n[tiers.premium]\ncpus = [1]\n");
  Keys p = Onboard("gold", "premium");
  Keys s = Onboard("plain");
  ASSERT_EQ(client_->Send("GET", "/v1/users/u1/events", "", Bearer(p.server)).status, 200);
  ASSERT_EQ(client_->Send("GET", "/v1/users/u1/events", "", Bearer(s.server)).status, 200);
  const pid_t pid = daemon_.pid();
  using Cpus = std::vector<std::string>;
  const Cpus premium = ThreadCpus(pid, "premium-");
  EXPECT_FALSE(premium.empty());
  for (const std::string& c : premium) EXPECT_EQ(c, "1");
  EXPECT_EQ(ThreadCpus(pid, "recd-io-prio-"), Cpus(1, "1"));
  // The rest inherit cpus = [0] or, for the shared lane, have io_cpus = [0].
  for (const char* other :
       {"recd-io-0", "recd-io-1", "standard-", "recd-writer", "rocksdb", "control-"}) {
    const Cpus cpus = ThreadCpus(pid, other);
    EXPECT_FALSE(cpus.empty()) << other;
    for (const std::string& c : cpus) EXPECT_EQ(c, "0") << other;
  }
}

// The nice value of every thread of `pid` named `tier`-<iid>-<n> (a tenant's own pool).
std::vector<int> OwnPoolNices(pid_t pid, const std::string& tier) {
  std::vector<int> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& e : std::filesystem::directory_iterator(task)) {
    std::ifstream comm(e.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind(tier + "-", 0) != 0 || std::count(name.begin(), name.end(), '-') != 2) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // Fields after "(comm) ": state is field 3, nice field 19.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 19 && rest >> field; ++i) {
    }
    out.push_back(std::stoi(field));
  }
  return out;
}

// SPEC 7.6: PATCH quotas overrides any tier setting for one tenant, the pool's included. A
// standard tenant with its own threads, queue or nice gets a pool of its own.
TEST_F(Tiers, PoolSettingsCanBeOverriddenForOneTenant) {
  StartWith("");
  Keys k = Onboard("acme");
  auto quotas = [&] { return std::string(AdminCall("GET", "/v1/admin/tenants/acme").body); };
  const std::string before_body = quotas();
  Json before(before_body);
  EXPECT_EQ(Str(before["tenant"]["quotas"]["pool"]), "shared");
  EXPECT_EQ(int64_t(before["tenant"]["quotas"]["threads"]), 2);
  EXPECT_EQ(int64_t(before["tenant"]["quotas"]["nice"]), 10);
  // Refused, and nothing changes.
  for (const char* bad : {R"({"quotas":{"pool":"shared","threads":2}})",
                          R"({"quotas":{"threads":0}})", R"({"quotas":{"nice":20}})",
                          R"({"quotas":{"pool":"solo"}})", R"({"quotas":{"queue":"many"}})"}) {
    EXPECT_EQ(AdminCall("PATCH", "/v1/admin/tenants/acme", bad).status, 400) << bad;
  }
  EXPECT_EQ(quotas(), before_body) << "a refused PATCH changes nothing";

  Json j(Patch("acme", R"({"quotas":{"threads":3,"queue":7,"nice":12}})").body);
  EXPECT_EQ(Str(j["tenant"]["quotas"]["pool"]), "dedicated");
  EXPECT_EQ(int64_t(j["tenant"]["quotas"]["threads"]), 3);
  EXPECT_EQ(int64_t(j["tenant"]["quotas"]["queue"]), 7);
  EXPECT_EQ(int64_t(j["tenant"]["quotas"]["nice"]), 12);
  ASSERT_EQ(client_->Send("GET", "/v1/users/u1/events", "", Bearer(k.server)).status, 200);
  EXPECT_EQ(GaugeValue(daemon_.port(), "recd_dedicated_pools"), 1);
  // The pool's threads name themselves as they start: wait for all three.
  std::vector<int> nices = OwnPoolNices(daemon_.pid(), "standard");
  for (int i = 0; i < 200 && nices.size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    nices = OwnPoolNices(daemon_.pid(), "standard");
  }
  EXPECT_EQ(nices, std::vector<int>(3, 12));
  Restart();  // overrides are stored with the tenant
  EXPECT_EQ(int64_t(Json(quotas())["tenant"]["quotas"]["threads"]), 3);

  // null restores the tier's settings: back to the shared pool, the own one retired.
  Json back(Patch("acme", R"({"quotas":{"threads":null,"queue":null,"nice":null}})").body);
  EXPECT_EQ(Str(back["tenant"]["quotas"]["pool"]), "shared");
  ASSERT_EQ(client_->Send("GET", "/v1/users/u1/events", "", Bearer(k.server)).status, 200);
  EXPECT_EQ(AwaitGauge(daemon_.port(), "recd_dedicated_pools", 0), 0);
}

TEST_F(Tiers, MetricsLabelsAreCappedAndMayRequireTheAdminToken) {
  StartWith("metrics_require_admin = true\nmax_tenant_labels = 1\n");
  EXPECT_EQ(client_->Send("GET", "/metrics").status, 401);
  Keys s1 = Onboard("s-one");
  Keys s2 = Onboard("s-two");
  Keys p = Onboard("prem", "premium");
  auto touch = [&] {
    for (const Keys* k : {&s1, &s2, &p}) {
      ASSERT_EQ(client_->Send("GET", "/v1/users/u1/events", "", Bearer(k->server)).status, 200);
    }
  };
  touch();
  HttpResult m = client_->Send("GET", "/metrics", "", Admin());
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find(R"(tenant="prem",tier="premium")"), std::string::npos);
  // Latency per tenant too (SPEC 2), under the same label cap.
  EXPECT_NE(
      m.body.find(R"(recd_tenant_request_duration_seconds_count{tenant="prem",tier="premium"} 1)"),
      std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find(
                R"(recd_tenant_request_duration_seconds_count{tenant="_other",tier="standard"} 2)"),
            std::string::npos);
  // Onboarded after start: labelled only from the next start or SIGHUP.
  EXPECT_NE(m.body.find(R"(tenant="_other",tier="standard")"), std::string::npos);
  EXPECT_EQ(m.body.find(R"(tenant="s-one")"), std::string::npos);
  EXPECT_NE(m.body.find("recd_pool_queue_depth{pool=\"premium-"), std::string::npos);
  EXPECT_NE(m.body.find(R"(tier="premium",tenant="prem"} )"), std::string::npos) << m.body;
  Reload("metrics_require_admin = true\nmax_tenant_labels = 1\n");
  touch();
  m = client_->Send("GET", "/metrics", "", Admin());
  EXPECT_NE(m.body.find(R"(tenant="s-one")"), std::string::npos);
  EXPECT_EQ(m.body.find(R"(tenant="s-two")"), std::string::npos);
}

}  // namespace
}  // namespace recd::testing
