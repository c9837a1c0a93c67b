// One request's contribution to a tenant's billed usage (SPEC 7.6). Handlers fill what they
// know (events, items scored); the server adds CPU time and refusals and hands the whole to
// the usage meter when the answer is sent.
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
