#include "bench/harness/stats.h"

#include "recd/status.h"

namespace recd::bench {

std::string_view FailureName(Failure failure) {
  switch (failure) {
    case Failure::kConnect:
      return "connect";
    case Failure::kTimeout:
      return "timeout";
    case Failure::kIo:
      return "io";
    case Failure::kUnsent:
      return "unsent";
    case Failure::kOverflow:
      return "overflow";
  }
  return "unknown";
}

void EndpointStats::RecordAnswer(int status, int64_t latency_us, int64_t interval, int64_t events) {
  this->latency_us.Record(latency_us);
  ++statuses[status];
  if (status >= 200 && status < 300) events_sent += events;
  if (interval < 0) return;
  if (timeline.size() <= static_cast<size_t>(interval)) {
    timeline.resize(static_cast<size_t>(interval) + 1);
  }
  timeline[static_cast<size_t>(interval)].Record(latency_us);
}

int64_t EndpointStats::ok() const {
  int64_t n = 0;
  for (const auto& [status, count] : statuses) {
    if (status >= 200 && status < 300) n += count;
  }
  return n;
}

int64_t EndpointStats::failed() const {
  int64_t n = answered() - ok();
  for (int64_t f : failures) n += f;
  return n;
}

absl::Status EndpointStats::Merge(const EndpointStats& other) {
  RECD_RETURN_IF_ERROR(latency_us.Merge(other.latency_us));
  if (timeline.size() < other.timeline.size()) timeline.resize(other.timeline.size());
  for (size_t i = 0; i < other.timeline.size(); ++i) {
    RECD_RETURN_IF_ERROR(timeline[i].Merge(other.timeline[i]));
  }
  for (const auto& [status, count] : other.statuses) statuses[status] += count;
  for (int i = 0; i < kNumFailures; ++i) failures[i] += other.failures[i];
  sent += other.sent;
  events_sent += other.events_sent;
  return absl::OkStatus();
}

absl::Status StreamStats::Merge(const StreamStats& other) {
  for (int i = 0; i < kNumEndpoints; ++i)
    RECD_RETURN_IF_ERROR(endpoints[i].Merge(other.endpoints[i]));
  backlog_max = std::max(backlog_max, other.backlog_max);
  RECD_RETURN_IF_ERROR(dispatch_lag_us.Merge(other.dispatch_lag_us));
  return absl::OkStatus();
}

absl::Status EngineOverhead::Merge(const EngineOverhead& other) {
  RECD_RETURN_IF_ERROR(dispatch_lag_us.Merge(other.dispatch_lag_us));
  RECD_RETURN_IF_ERROR(connection_wait_us.Merge(other.connection_wait_us));
  connections_opened += other.connections_opened;
  return absl::OkStatus();
}

}  // namespace recd::bench
