// Request sources for the load engine: synthetic traffic (Zipf-popular users and items, a mix of
// event batches, recommendations, similar-item calls and user-history reads) and replay of a real
// interaction log. Each source is owned by one worker thread; a replay's cursor is shared (atomic)
// so that workers splitting one replay send every batch once, in order of time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/harness/replay.h"
#include "bench/harness/request.h"
#include "bench/harness/target.h"
#include "bench/harness/zipf.h"

namespace recd::bench {

// Ids of the synthetic world: users "u<rank>", items "i<rank>" (rank 1 = most popular).
std::string SyntheticItemId(int64_t rank);

struct SyntheticConfig {
  Target target;
  std::string server_key;  // recommendations, similar items and user events
  std::string ingest_key;  // events
  double recommend = 0;    // mix weights, not all 0
  double events = 0;
  double similar = 0;
  double user_events = 0;  // GET /v1/users/{user}/events?limit=<history_limit>
  int batch = 100;
  int k = 10;
  int history_limit = 50;
  int64_t users = 1;
  int64_t items = 1;
  double user_zipf = 1.0;
  double item_zipf = 1.0;
  std::vector<std::pair<std::string, double>> event_types;  // empty: the default mix
  uint64_t seed = 1;
  int64_t max_events = -1;  // stop after this many events (seeding); -1: never
};

class SyntheticSource final : public RequestSource {
 public:
  explicit SyntheticSource(SyntheticConfig config);
  bool Next(OutgoingRequest* out) override;

 private:
  std::string EventsBody(int n);

  SyntheticConfig config_;
  std::mt19937_64 rng_;
  ZipfSampler users_;
  ZipfSampler items_;
  std::discrete_distribution<int> endpoint_;
  std::discrete_distribution<int> event_type_;
  int64_t events_sent_ = 0;
};

// Events shared by the workers of one replay, and the next index to send.
struct ReplayShared {
  std::shared_ptr<const std::vector<ReplayEvent>> events;
  std::atomic<int64_t> cursor{0};
};

class ReplaySource final : public RequestSource {
 public:
  ReplaySource(Target target, std::string ingest_key, std::shared_ptr<ReplayShared> shared,
               int batch, std::string event_type);
  bool Next(OutgoingRequest* out) override;

 private:
  Target target_;
  std::string ingest_key_;
  std::shared_ptr<ReplayShared> shared_;
  int batch_;
  std::string event_type_;
};

}  // namespace recd::bench
