// One request's contribution to a tenant's billed usage (SPEC 7.6). Handlers fill what they
// know (recommendations, similar, items scored); the server adds the handler's pool-thread CPU
// time and, for a 2xx answer, hands the whole to the usage meter when the answer is sent (a
// 429/503 bills only requests_refused). Event counters are the exception: POST /v1/events
// writes them in the events' own RocksDB batch (exact across crashes) and leaves them zero here.
#pragma once

#include <cstdint>

namespace recd::metering {

struct UsageDelta {
  uint64_t events_accepted = 0;
  uint64_t events_rejected = 0;
  uint64_t bytes_ingested = 0;
  uint64_t recommendations = 0;
  uint64_t similar = 0;
  uint64_t items_scored = 0;
  uint64_t cpu_ns = 0;
  uint64_t requests_refused = 0;

  bool empty() const {
    return (events_accepted | events_rejected | bytes_ingested | recommendations | similar |
            items_scored | cpu_ns | requests_refused) == 0;
  }
};

}  // namespace recd::metering
