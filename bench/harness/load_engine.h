// The load engine: one worker per thread, each with its own io_context (Boost.Asio + Beast),
// connection pools and statistics, so the hot path takes no lock. A run offers the load of its
// streams for a fixed time and returns what it measured.
//
// Open loop: each stream sends on its ArrivalSchedule whether or not answers came back;
// requests that find no free connection wait in a backlog, and latency is measured from the
// scheduled send time, so the wait counts (no coordinated omission). Closed loop: each of a
// stream's connections sends its next request as soon as the previous answer arrives, which
// finds the maximum throughput; latency is then measured from the actual send.
//
// Thread-safety: Run() blocks the calling thread; run several on several threads for several
// workers (their request sources must be distinct objects). `stop` may be set from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness/arrivals.h"
#include "bench/harness/request.h"
#include "bench/harness/stats.h"

namespace recd::bench {

struct StreamPlan {
  std::unique_ptr<RequestSource> source;
  bool closed_loop = false;
  double rate = 0;  // open loop: requests/s offered by this worker for this stream, > 0
  ArrivalKind arrival = ArrivalKind::kPoisson;
  uint64_t seed = 1;
  int64_t phase_ns = 0;       // constant arrivals: offset of this worker's schedule
  int connections = 1;        // the stream's own pool, so one stream's backlog never delays another
  int64_t max_requests = -1;  // stop the stream after this many requests; -1: no limit
};

struct EngineConfig {
  std::string address;  // numeric IPv4 or IPv6 address (resolved by the caller)
  uint16_t port = 0;
  int64_t duration_ns = 0;
  int64_t timeout_ns = 10'000'000'000;  // per request, from its actual send
  int64_t drain_ns = 5'000'000'000;     // after the end: how long answers in flight may take
  int64_t interval_ns = 1'000'000'000;  // timeline resolution
  size_t max_backlog = 200'000;         // per stream; more are dropped as Failure::kOverflow
};

struct EngineResult {
  std::vector<StreamStats> streams;  // in the order of the plans
  EngineOverhead overhead;
  int64_t elapsed_ns = 0;  // from the start to the last answer (or the end of the drain)
  int64_t sending_ns = 0;  // from the start until sending stopped
  bool exhausted = false;  // every source ran dry before the duration was up
};

// Waits until `start_ns` (steady clock) after opening each stream's connections, then runs.
EngineResult RunLoad(const EngineConfig& config, std::vector<StreamPlan> streams, int64_t start_ns,
                     const std::atomic<bool>* stop);

// The steady clock the engine uses, in ns.
int64_t SteadyNowNs();

}  // namespace recd::bench
