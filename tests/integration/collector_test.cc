// The collector through the real binary: ingestion with partial rejection, history, export,
// erasure, isolation between tenants, browser ingestion, idempotency, restart and crash.
#include <signal.h>

#include <random>
#include <set>
#include <thread>

#include "tests/integration/test_env.h"

namespace recd::testing {
namespace {

using Collector = DaemonTest;

std::string Ev(const std::string& user, const std::string& item, const std::string& type = "view",
               int64_t ts = -1) {
  std::string e = R"({"user":")" + user + R"(","item":")" + item + R"(","type":")" + type + "\"";
  if (ts >= 0) e += ",\"ts\":" + std::to_string(ts);
  return e + "}";
}

std::string Batch(const std::vector<std::string>& events) {
  std::string b = R"({"events":[)";
  for (size_t i = 0; i < events.size(); ++i) b += (i ? "," : "") + events[i];
  return b + "]}";
}

std::vector<std::string> HistoryItems(HttpClient* c, const std::string& key, const std::string& user) {
  HttpResult r = c->Send("GET", "/v1/users/" + user + "/events?limit=1000", "",
                         DaemonTest::Bearer(key));
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<std::string> items;
  if (r.status != 200) return items;
  Json j(r.body);
  for (auto e : simdjson::dom::array(j["events"])) items.push_back(Str(e["item"]));
  return items;
}

// Answers far larger than the socket takes at once, pipelined to a client that does not read
// for a while: every answer arrives whole and in order, and the connection goes on.
TEST_F(Collector, LargeAnswersToASlowReaderArriveWholeAndInOrder) {
  Keys k = Onboard("acme");
  std::vector<std::string> events;
  for (int i = 0; i < 1000; ++i) {
    events.push_back(Ev("u1", std::string(120, 'a' + i % 26) + std::to_string(i)));
  }
  ASSERT_EQ(client_->Send("POST", "/v1/events", Batch(events), Bearer(k.ingest)).status, 200);
  const std::string all = client_->Send("GET", "/v1/users/u1/events?limit=1000", "",
                                        Bearer(k.server)).body;
  ASSERT_GT(all.size(), 150'000u);
  const std::string three = client_->Send("GET", "/v1/users/u1/events?limit=3", "",
                                          Bearer(k.server)).body;

  RawConnection slow_reader(daemon_.port(), /*receive_buffer=*/4096);
  // 80 requests in one write, alternating large and small answers: 7 MB, more than a socket
  // buffers (Linux grows a loopback send buffer up to tcp_wmem's 4 MB).
  constexpr int kRequests = 80;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) {
    requests += "GET /v1/users/u1/events?limit=" + std::string(i % 2 ? "3" : "1000") +
                " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + k.server + "\r\n\r\n";
  }
  slow_reader.Send(requests);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < kRequests; ++i) {
    const std::string answer = slow_reader.ReadAnswer();
    ASSERT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << i;
    EXPECT_EQ(answer.substr(answer.find("\r\n\r\n") + 4), i % 2 ? three : all) << i;
  }
}

TEST_F(Collector, GoodEventsAreKeptAndBadOnesNamed) {
  Keys k = Onboard("acme");
  const std::string body = Batch({Ev("u1", "sku-9", "view", 1763884800123), Ev("u1", "sku-3", "purchase"),
                                  Ev("", "x"), Ev("u1", "x", "View"), Ev("u1", "x", "view", 99999999999999),
                                  "7", R"({"user":"u1","item":5,"type":"view"})",
                                  R"({"user":"u1","item":"x","type":"view","ts":1.5})"});
  HttpResult r = client_->Send("POST", "/v1/events", body, Bearer(k.ingest));
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  EXPECT_EQ(int64_t(j["accepted"]), 2);
  std::vector<std::pair<int64_t, std::string>> rejected;
  for (auto e : simdjson::dom::array(j["rejected"])) rejected.emplace_back(int64_t(e["index"]), Str(e["error"]));
  EXPECT_EQ(rejected, (std::vector<std::pair<int64_t, std::string>>{
                          {2, "invalid_user"}, {3, "invalid_type"}, {4, "ts_in_future"},
                          {5, "invalid_event"}, {6, "invalid_item"}, {7, "invalid_ts"}}));
  EXPECT_EQ(HistoryItems(client_.get(), k.server, "u1"), (std::vector<std::string>{"sku-3", "sku-9"}));
}

TEST_F(Collector, BadBatchesStoreNothing) {
  Keys k = Onboard("acme");
  ASSERT_EQ(client_->Send("POST", "/v1/events", Batch({Ev("u1", "keep")}), Bearer(k.server)).status, 200);
  std::vector<std::string> many;
  for (int i = 0; i < 1001; ++i) many.push_back(Ev("u1", "m" + std::to_string(i)));
  std::string huge = R"({"events":[)" + Ev("u1", std::string(100, 'h'));
  while (huge.size() < (1u << 20) + 10) huge += "," + Ev("u1", std::string(100, 'h'));
  huge += "]}";
  struct Case {
    std::string body;
    int status;
  };
  for (const Case& c :
       std::vector<Case>{{"not json", 400},
                         {R"({"events":{}})", 400},
                         {R"({"events":[]})", 400},
                         {R"({"evnts":[]})", 400},
                         {R"([1,2])", 400},
                         {Batch({Ev("u1", "a")}).substr(0, 30), 400},
                         {Batch(many), 400},
                         {huge, 413},
                         // Malformed JSON anywhere refuses the whole batch,
                         // in fields that are ignored or wrongly typed too.
                         {R"({"events":[)" + Ev("u1", "a") + R"(],"x":tru})", 400},
                         {R"({"events":[{"user":"u1","item":"a","type":"view","y":nul}]})", 400},
                         {R"({"events":[{"user":tru,"item":"a","type":"view"}]})", 400},
                         {R"({"events":[{"user":"u1","item":"a","type":"view","ts":1.5e}]})", 400},
                         {R"({"events":[)" + Ev("u1", "a") + R"(,7x]})", 400},
                         {R"({"events":[)" + Ev("u1", "a") + R"(],"x":{"y":[1,2}]})", 400}}) {
    HttpResult r = client_->Send("POST", "/v1/events", c.body, Bearer(k.server));
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 80) << " -> " << r.body;
    if (c.body == Batch(many)) {
      EXPECT_NE(r.body.find("max_events_per_batch"), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(HistoryItems(client_.get(), k.server, "u1"), std::vector<std::string>{"keep"});
}

// Valid JSON that recd does not read is never refused for its size or range: a huge ts names
// its event, a huge number in an ignored field is ignored. Nesting is bounded (64 levels), so
// a body of brackets cannot exhaust a thread's stack.
TEST_F(Collector, ValidButOddJsonIsJudgedByItsValuesAndDeepNestingIsRefused) {
  Keys k = Onboard("acme");
  HttpResult r = client_->Send(
      "POST", "/v1/events",
      R"({"events":[{"user":"u1","item":"big","type":"view","ts":99999999999999999999},)" +
          Ev("u1", "ok") + R"(],"trace":123456789012345678901234.5e-3})",
      Bearer(k.ingest));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(int64_t(Json(r.body)["accepted"]), 1);
  EXPECT_NE(r.body.find(R"({"index":0,"error":"invalid_ts"})"), std::string::npos) << r.body;
  const std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  for (const std::string& body : {R"({"events":[)" + Ev("u1", "a") + R"(],"x":)" + deep + "}",
                                  R"({"events":[)" + deep + "]}"}) {
    r = client_->Send("POST", "/v1/events", body, Bearer(k.ingest));
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
    EXPECT_NE(r.body.find("nested"), std::string::npos) << r.body.substr(0, 200);
  }
  EXPECT_EQ(client_->Send("GET", "/healthz").status, 200);
  EXPECT_EQ(HistoryItems(client_.get(), k.server, "u1"), std::vector<std::string>{"ok"});
}

TEST_F(Collector, KeysNeverReachAnotherTenantsData) {
  Keys a = Onboard("shop-a");
  Keys b = Onboard("shop-b");
  client_->Send("POST", "/v1/events", Batch({Ev("u1", "a-item")}), Bearer(a.ingest));
  client_->Send("POST", "/v1/events", Batch({Ev("u1", "b-item")}), Bearer(b.ingest));
  EXPECT_EQ(HistoryItems(client_.get(), a.server, "u1"), std::vector<std::string>{"a-item"});
  EXPECT_EQ(HistoryItems(client_.get(), b.server, "u1"), std::vector<std::string>{"b-item"});
  HttpResult exp = client_->Send("GET", "/v1/events/export?from=0&to=9007199254740991", "", Bearer(b.server));
  ASSERT_EQ(exp.status, 200);
  EXPECT_EQ(exp.body.find("a-item"), std::string::npos);
  EXPECT_EQ(client_->Send("DELETE", "/v1/users/u1", "", Bearer(b.server)).status, 204);
  EXPECT_EQ(HistoryItems(client_.get(), a.server, "u1"), std::vector<std::string>{"a-item"});
  EXPECT_TRUE(HistoryItems(client_.get(), b.server, "u1").empty());
}

TEST_F(Collector, IngestKeysMayOnlyPostEvents) {
  Keys k = Onboard("acme");
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/users/u1/events"}, {"DELETE", "/v1/users/u1"},
           {"GET", "/v1/events/export?from=0&to=1"}}) {
    HttpResult r = client_->Send(method, target, "", Bearer(k.ingest));
    EXPECT_EQ(r.status, 403) << target;
    EXPECT_EQ(Str(Json(r.body)["error"]["code"]), "permission_denied");
  }
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events", "", Bearer("recd_server_aaaaaaaaaaaa_" + std::string(32, 'a'))).status, 401);
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events").status, 401);
}

TEST_F(Collector, SuspendedTenantsGet403AndKeepTheirData) {
  Keys k = Onboard("acme");
  client_->Send("POST", "/v1/events", Batch({Ev("u1", "x")}), Bearer(k.server));
  AdminCall("PATCH", "/v1/admin/tenants/acme", R"({"status":"suspended"})");
  HttpResult r = client_->Send("POST", "/v1/events", Batch({Ev("u1", "y")}), Bearer(k.server));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Str(Json(r.body)["error"]["code"]), "suspended");
  AdminCall("PATCH", "/v1/admin/tenants/acme", R"({"status":"active"})");
  EXPECT_EQ(HistoryItems(client_.get(), k.server, "u1"), std::vector<std::string>{"x"});
}

TEST_F(Collector, QueryLimitsAreCheckedNotClamped) {
  Keys k = Onboard("acme");
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events?limit=0", "", Bearer(k.server)).status, 400);
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events?limit=1001", "", Bearer(k.server)).status, 400);
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events?limit=x", "", Bearer(k.server)).status, 400);
  EXPECT_EQ(client_->Send("GET", "/v1/users/%01/events", "", Bearer(k.server)).status, 400);
  EXPECT_EQ(client_->Send("GET", "/v1/events/export?from=5", "", Bearer(k.server)).status, 400);
  EXPECT_EQ(client_->Send("GET", "/v1/events/export?from=5&to=4", "", Bearer(k.server)).status, 400);
  HttpResult unknown = client_->Send("GET", "/v1/users/nobody/events", "", Bearer(k.server));
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.body, R"({"user":"nobody","events":[]})");
}

TEST_F(Collector, ExportStreamsNdjsonInArrivalOrder) {
  Keys k = Onboard("acme");
  for (int i = 0; i < 30; ++i) {
    std::vector<std::string> events;
    for (int j = 0; j < 100; ++j) events.push_back(Ev("u" + std::to_string(j), "i" + std::to_string(i * 100 + j), "click", 1000 + j));
    ASSERT_EQ(client_->Send("POST", "/v1/events", Batch(events), Bearer(k.server)).status, 200);
  }
  HttpResult r = client_->Send("GET", "/v1/events/export?from=0&to=9007199254740991", "", Bearer(k.server));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(r.Header("transfer-encoding"), "chunked");
  size_t lines = 0, pos = 0;
  int64_t last_received = 0;
  for (size_t nl; (nl = r.body.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    Json line(r.body.substr(pos, nl - pos));
    EXPECT_EQ(Str(line["item"]), "i" + std::to_string(lines));
    EXPECT_GE(int64_t(line["received"]), last_received);
    last_received = int64_t(line["received"]);
    ++lines;
  }
  EXPECT_EQ(lines, 3000u);
  HttpResult none = client_->Send("GET", "/v1/events/export?from=0&to=1", "", Bearer(k.server));
  EXPECT_EQ(none.status, 200);
  EXPECT_TRUE(none.body.empty());
}

TEST_F(Collector, BrowserIngestionHonoursOriginsAndBeaconKeys) {
  Keys k = Onboard("acme");
  HttpResult pre = client_->Send("OPTIONS", "/v1/events", "", {{"Origin", "https://shop.example"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.Header("access-control-allow-methods"), "POST");
  EXPECT_NE(pre.Header("access-control-allow-headers").find("Authorization"), std::string::npos);

  AdminCall("PATCH", "/v1/admin/tenants/acme", R"({"allowed_origins":["https://shop.example"]})");
  auto with_origin = [&](const std::string& origin) {
    auto h = Bearer(k.ingest);
    h.emplace_back("Origin", origin);
    return client_->Send("POST", "/v1/events", Batch({Ev("u1", origin.substr(8))}), h);
  };
  HttpResult ok = with_origin("https://shop.example");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Header("access-control-allow-origin"), "https://shop.example");
  EXPECT_EQ(with_origin("https://evil.example").status, 403);

  // navigator.sendBeacon: key in the query, text/plain body.
  HttpResult beacon = client_->Send("POST", "/v1/events?key=" + k.ingest, Batch({Ev("u1", "beacon")}),
                                    {{"Content-Type", "text/plain;charset=UTF-8"}});
  EXPECT_EQ(beacon.status, 200) << beacon.body;
  EXPECT_EQ(client_->Send("POST", "/v1/events?key=" + k.server, Batch({Ev("u1", "leak")}), {}).status, 403);
  EXPECT_EQ(client_->Send("GET", "/v1/users/u1/events?key=" + k.server).status, 401);
  // A malformed query is a 400 after the credentials it carries are checked (SPEC 7.4).
  EXPECT_EQ(client_
                ->Send("POST", "/v1/events?key=" + k.ingest + "&x=%zz",
                       Batch({Ev("u1", "bad-query")}), {})
                .status,
            400);
  EXPECT_EQ(
      client_->Send("POST", "/v1/events?key=nope&x=%zz", Batch({Ev("u1", "bad-query")}), {}).status,
      401);
  EXPECT_EQ(HistoryItems(client_.get(), k.server, "u1"), (std::vector<std::string>{"beacon", "shop.example"}));
}

TEST_F(Collector, IdempotentRepeatsStoreNothing) {
  Keys k = Onboard("acme");
  auto h = Bearer(k.ingest);
  h.emplace_back("Idempotency-Key", "batch-1");
  HttpResult first = client_->Send("POST", "/v1/events", Batch({Ev("u1", "a"), Ev("", "b")}), h);
  ASSERT_EQ(first.status, 200);
  HttpResult again = client_->Send("POST", "/v1/events", Batch({Ev("u1", "a"), Ev("", "b")}), h);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  RestartDaemon();
  HttpResult after_restart = client_->Send("POST", "/v1/events", Batch({Ev("u1", "a")}), h);
  EXPECT_EQ(after_restart.body, first.body);
  EXPECT_EQ(HistoryItems(client_.get(), k.server, "u1"), std::vector<std::string>{"a"});
  h.back().second = std::string(65, 'k');
  EXPECT_EQ(client_->Send("POST", "/v1/events", Batch({Ev("u1", "a")}), h).status, 400);
}

TEST_F(Collector, RestartKeepsEventsAndOffboardingDeletesThem) {
  Keys k = Onboard("acme");
  client_->Send("POST", "/v1/events", Batch({Ev("u1", "a"), Ev("u1", "b")}), Bearer(k.server));
  RestartDaemon();
  EXPECT_EQ(HistoryItems(client_.get(), k.server, "u1").size(), 2u);
  EXPECT_EQ(AdminCall("DELETE", "/v1/admin/tenants/acme").status, 204);
  Keys again = Onboard("acme");
  EXPECT_TRUE(HistoryItems(client_.get(), again.server, "u1").empty());
}

// Clients send batches while the daemon is SIGKILLed at random moments; after each restart
// every acknowledged event is there, exactly once.
TEST_F(Collector, AcknowledgedEventsSurviveCrashes) {
  Keys k = Onboard("acme");
  std::mt19937 rng(42);
  std::set<std::string> acknowledged;
  int next = 0;
  for (int round = 0; round < 4; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::string> acked_this_round;
    std::mutex mu;
    std::thread sender([&] {
      HttpClient c(daemon_.port());
      while (!stop.load()) {
        std::vector<std::string> events, ids;
        for (int j = 0; j < 20; ++j) {
          std::string id = "e" + std::to_string(next++);
          ids.push_back(id);
          events.push_back(Ev("crash-user", id));
        }
        HttpResult r = c.Send("POST", "/v1/events", Batch(events), Bearer(k.ingest));
        if (r.status != 200) break;  // the daemon died mid-request: not acknowledged
        std::lock_guard<std::mutex> lock(mu);
        acked_this_round.insert(acked_this_round.end(), ids.begin(), ids.end());
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 200));
    daemon_.Kill();
    stop = true;
    sender.join();
    acknowledged.insert(acked_this_round.begin(), acked_this_round.end());
    StartDaemon();
  }
  ASSERT_GT(acknowledged.size(), 0u);
  HttpResult exported = client_->Send("GET", "/v1/events/export?from=0&to=9007199254740991", "",
                                      Bearer(k.server));
  ASSERT_EQ(exported.status, 200);
  std::vector<std::string> stored;
  size_t pos = 0;
  for (size_t nl; (nl = exported.body.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    stored.push_back(Str(Json(exported.body.substr(pos, nl - pos))["item"]));
  }
  std::set<std::string> unique(stored.begin(), stored.end());
  EXPECT_EQ(unique.size(), stored.size()) << "an event appears twice";
  for (const auto& id : acknowledged) EXPECT_TRUE(unique.count(id)) << id << " was acknowledged and lost";
}

}  // namespace
}  // namespace recd::testing
