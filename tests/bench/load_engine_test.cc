// The load engine against the trivial server on loopback: small, bounded runs (about a second
// each) that check counting, not speed.
#include "bench/harness/load_engine.h"

#include <atomic>

#include "bench/harness/trivial_server.h"
#include "bench/harness/workload.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "gtest/gtest.h"

namespace recd::bench {
namespace {

Target LocalTarget(uint16_t port) {
  Target t;
  t.host = "127.0.0.1";
  t.port = port;
  t.host_header = "127.0.0.1:" + std::to_string(port);
  return t;
}

// Fixed requests to a path (the trivial server answers "/status/NNN" with NNN).
class PathSource final : public RequestSource {
 public:
  PathSource(Target target, std::string path) : target_(std::move(target)), path_(path) {}
  bool Next(OutgoingRequest* out) override {
    out->endpoint = Endpoint::kRecommendations;
    out->wire = SerializeRequest("GET", path_, target_, "key", "", "");
    return true;
  }

 private:
  Target target_;
  std::string path_;
};

EngineConfig Config(uint16_t port, int64_t duration_ns) {
  EngineConfig c;
  c.address = "127.0.0.1";
  c.port = port;
  c.duration_ns = duration_ns;
  c.timeout_ns = 5'000'000'000;
  c.drain_ns = 5'000'000'000;
  c.interval_ns = 250'000'000;
  return c;
}

TEST(LoadEngine, ConstantOpenLoopSendsExactlyTheScheduledRequestsAndCountsEveryAnswer) {
  absl::StatusOr<std::unique_ptr<TrivialServer>> server = TrivialServer::Start(false);
  ASSERT_TRUE(server.ok());
  std::vector<StreamPlan> plans(1);
  plans[0].source = std::make_unique<PathSource>(LocalTarget((*server)->port()), "/x");
  plans[0].rate = 200;
  plans[0].arrival = ArrivalKind::kConstant;
  plans[0].connections = 4;
  std::atomic<bool> stop{false};
  EngineResult r = RunLoad(Config((*server)->port(), 1'000'000'000), std::move(plans),
                           SteadyNowNs() + 50'000'000, &stop);
  const EndpointStats& es = r.streams[0].endpoints[static_cast<int>(Endpoint::kRecommendations)];
  // Arrivals at k * 5 ms for k = 0..199 fall inside the 1 s run.
  EXPECT_EQ(es.sent, 200);
  EXPECT_EQ(es.answered(), 200);
  EXPECT_EQ(es.statuses.at(200), 200);
  EXPECT_EQ(es.failed(), 0);
  EXPECT_EQ((*server)->total_requests(), 200);
  EXPECT_EQ(r.overhead.dispatch_lag_us.count(), 200);
  EXPECT_EQ(r.streams[0].dispatch_lag_us.count(), 200);
  // Four 250 ms intervals, each with its share of the answers.
  ASSERT_EQ(es.timeline.size(), 4u);
  int64_t in_timeline = 0;
  for (const Histogram& h : es.timeline) in_timeline += h.count();
  EXPECT_EQ(in_timeline, 200);
  EXPECT_FALSE(r.exhausted);
}

TEST(LoadEngine, StatusCodesAreCountedAsTheServerSentThem) {
  absl::StatusOr<std::unique_ptr<TrivialServer>> server = TrivialServer::Start(false);
  ASSERT_TRUE(server.ok());
  std::vector<StreamPlan> plans(2);
  plans[0].source = std::make_unique<PathSource>(LocalTarget((*server)->port()), "/status/503");
  plans[1].source = std::make_unique<PathSource>(LocalTarget((*server)->port()), "/status/429");
  for (StreamPlan& p : plans) {
    p.closed_loop = true;
    p.max_requests = 25;
    p.connections = 2;
  }
  std::atomic<bool> stop{false};
  EngineResult r = RunLoad(Config((*server)->port(), 5'000'000'000), std::move(plans),
                           SteadyNowNs() + 20'000'000, &stop);
  const int rec = static_cast<int>(Endpoint::kRecommendations);
  EXPECT_EQ(r.streams[0].endpoints[rec].statuses.at(503), 25);
  EXPECT_EQ(r.streams[1].endpoints[rec].statuses.at(429), 25);
  EXPECT_EQ(r.streams[0].endpoints[rec].ok(), 0);
  EXPECT_EQ(r.streams[0].endpoints[rec].failed(), 25);
  EXPECT_TRUE(r.exhausted);  // both streams hit max_requests, so the run ended early
  EXPECT_LT(r.elapsed_ns, 5'000'000'000);
  const auto counts = (*server)->Counts();
  EXPECT_EQ(counts.at("GET /status/503 503"), 25);
}

TEST(LoadEngine, ConnectFailuresAreCountedAsFailuresNotAnswers) {
  // A port that was free a moment ago: nothing listens there.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = probe.local_endpoint().port();
  probe.close();
  std::vector<StreamPlan> plans(1);
  plans[0].source = std::make_unique<PathSource>(LocalTarget(port), "/x");
  plans[0].rate = 100;
  plans[0].connections = 2;
  std::atomic<bool> stop{false};
  EngineResult r = RunLoad(Config(port, 300'000'000), std::move(plans), SteadyNowNs(), &stop);
  const EndpointStats& es = r.streams[0].endpoints[static_cast<int>(Endpoint::kRecommendations)];
  EXPECT_EQ(es.answered(), 0);
  EXPECT_GT(es.failures[static_cast<int>(Failure::kConnect)], 0);
}

TEST(LoadEngine, StopFlagEndsTheRunEarly) {
  absl::StatusOr<std::unique_ptr<TrivialServer>> server = TrivialServer::Start(false);
  ASSERT_TRUE(server.ok());
  std::vector<StreamPlan> plans(1);
  plans[0].source = std::make_unique<PathSource>(LocalTarget((*server)->port()), "/x");
  plans[0].rate = 100;
  std::atomic<bool> stop{true};
  const int64_t before = SteadyNowNs();
  RunLoad(Config((*server)->port(), 30'000'000'000), std::move(plans), before, &stop);
  EXPECT_LT(SteadyNowNs() - before, 2'000'000'000);
}

TEST(LoadEngine, ReplaySendsEveryEventOnceAndStopsWhenTheLogRunsOut) {
  absl::StatusOr<std::unique_ptr<TrivialServer>> server = TrivialServer::Start(true);
  ASSERT_TRUE(server.ok());
  auto events = std::make_shared<std::vector<ReplayEvent>>();
  for (int i = 0; i < 1050; ++i) events->push_back({"u" + std::to_string(i % 7), "i1", i});
  auto shared = std::make_shared<ReplayShared>();
  shared->events = events;
  std::vector<StreamPlan> plans(1);
  plans[0].source = std::make_unique<ReplaySource>(LocalTarget((*server)->port()), "ingest", shared,
                                                   100, "rating");
  plans[0].closed_loop = true;
  plans[0].connections = 1;
  std::atomic<bool> stop{false};
  EngineResult r =
      RunLoad(Config((*server)->port(), 10'000'000'000), std::move(plans), SteadyNowNs(), &stop);
  const EndpointStats& es = r.streams[0].endpoints[static_cast<int>(Endpoint::kEvents)];
  EXPECT_EQ(es.sent, 11);  // ten full batches and one of 50
  EXPECT_EQ(es.events_sent, 1050);
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ((*server)->Counts().at("POST /v1/events 200"), 11);
}

TEST(Workload, SyntheticMixFollowsTheWeightsAndBatchesCarryTheirEvents) {
  SyntheticConfig c;
  c.target = LocalTarget(1);
  c.server_key = "srv";
  c.ingest_key = "ing";
  c.recommend = 3;
  c.events = 1;
  c.batch = 5;
  c.users = 100;
  c.items = 100;
  SyntheticSource source(c);
  int counts[kNumEndpoints] = {};
  OutgoingRequest r;
  for (int i = 0; i < 4000; ++i) {
    ASSERT_TRUE(source.Next(&r));
    ++counts[static_cast<int>(r.endpoint)];
    if (r.endpoint == Endpoint::kEvents) {
      EXPECT_EQ(r.events, 5);
      EXPECT_NE(r.wire.find("Authorization: Bearer ing"), std::string::npos);
      EXPECT_EQ(r.wire.rfind("POST /v1/events HTTP/1.1\r\n", 0), 0u);
    } else {
      EXPECT_NE(r.wire.find("Authorization: Bearer srv"), std::string::npos);
      EXPECT_EQ(r.wire.rfind("GET /v1/recommendations?user=u", 0), 0u);
    }
  }
  EXPECT_NEAR(counts[static_cast<int>(Endpoint::kRecommendations)], 3000, 150);
  EXPECT_EQ(counts[static_cast<int>(Endpoint::kSimilar)], 0);
}

TEST(Workload, UserEventsReadsAZipfUserHistoryWithTheServerKey) {
  SyntheticConfig c;
  c.target = LocalTarget(1);
  c.server_key = "srv";
  c.ingest_key = "ing";
  c.events = 1;
  c.user_events = 1;
  c.history_limit = 20;
  c.users = 100;
  c.items = 100;
  SyntheticSource source(c);
  int counts[kNumEndpoints] = {};
  OutgoingRequest r;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(source.Next(&r));
    ++counts[static_cast<int>(r.endpoint)];
    if (r.endpoint != Endpoint::kUserEvents) continue;
    EXPECT_EQ(r.wire.rfind("GET /v1/users/u", 0), 0u) << r.wire;
    EXPECT_NE(r.wire.find("/events?limit=20 HTTP/1.1\r\n"), std::string::npos) << r.wire;
    EXPECT_NE(r.wire.find("Authorization: Bearer srv"), std::string::npos);
    EXPECT_EQ(r.events, 0);
  }
  EXPECT_NEAR(counts[static_cast<int>(Endpoint::kUserEvents)], 1000, 100);
  EXPECT_EQ(counts[static_cast<int>(Endpoint::kRecommendations)], 0);
  EXPECT_EQ(counts[static_cast<int>(Endpoint::kSimilar)], 0);
  EXPECT_EQ(EndpointRoute(Endpoint::kUserEvents), "GET /v1/users/{user}/events");
}

TEST(Workload, MaxEventsTruncatesTheLastBatch) {
  SyntheticConfig c;
  c.events = 1;
  c.batch = 1000;
  c.max_events = 2500;
  SyntheticSource source(c);
  OutgoingRequest r;
  int64_t total = 0;
  while (source.Next(&r)) total += r.events;
  EXPECT_EQ(total, 2500);
}

TEST(Request, SerializationCarriesHostBasePathAndContentLength) {
  Target t = LocalTarget(8080);
  t.base_path = "/api";
  const std::string wire = SerializeRequest("POST", "/v1/events", t, "k", "application/json", "{}");
  EXPECT_EQ(wire,
            "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer k\r\n"
            "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(PercentEncode("a b/é"), "a%20b%2F%C3%A9");
}

}  // namespace
}  // namespace recd::bench
