// What the load engine measured: per endpoint, a latency histogram over the whole phase and one
// per timeline interval, answers counted by HTTP status, and failures that got no answer.
// Plain data, mergeable across workers; not thread-safe (each worker fills its own).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "bench/harness/histogram.h"
#include "bench/harness/request.h"

namespace recd::bench {

// Failures without an HTTP answer.
enum class Failure : uint8_t {
  kConnect = 0,  // connect refused or failed
  kTimeout,      // no full answer within the request timeout
  kIo,           // the connection broke mid-request, or the answer did not parse
  kUnsent,       // still waiting for a connection when the phase ended
  kOverflow,     // dropped because the harness's backlog was full
};
inline constexpr int kNumFailures = 5;
std::string_view FailureName(Failure failure);

struct EndpointStats {
  Histogram latency_us;             // every answered request, any status
  std::vector<Histogram> timeline;  // one per interval, created on first use
  std::map<int, int64_t> statuses;  // HTTP status -> answers
  std::array<int64_t, kNumFailures> failures{};
  int64_t sent = 0;         // requests written (or attempted)
  int64_t events_sent = 0;  // events carried by batches that got a 2xx
  void RecordAnswer(int status, int64_t latency_us, int64_t interval, int64_t events);
  absl::Status Merge(const EndpointStats& other);
  int64_t answered() const { return latency_us.count(); }
  int64_t ok() const;      // 2xx answers
  int64_t failed() const;  // non-2xx answers plus failures
};

struct StreamStats {
  std::array<EndpointStats, kNumEndpoints> endpoints;
  int64_t backlog_max = 0;    // most requests ever waiting for a free connection
  Histogram dispatch_lag_us;  // this stream's sends: actual minus scheduled time
  absl::Status Merge(const StreamStats& other);
};

// The harness's own overhead in one run: how late requests were dispatched against their
// schedule (timer and loop delay), and how long they waited for a free connection.
struct EngineOverhead {
  Histogram dispatch_lag_us;
  Histogram connection_wait_us;
  int64_t connections_opened = 0;
  absl::Status Merge(const EngineOverhead& other);
};

}  // namespace recd::bench
