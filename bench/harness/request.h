// What the load engine sends: one serialized HTTP/1.1 request tagged with the API endpoint it
// hits, and the sources that produce them. Pure, apart from the sources' own state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/harness/target.h"

namespace recd::bench {

// The order of the first four is the order of a load's mix weights (workload.cc).
enum class Endpoint : uint8_t { kEvents = 0, kRecommendations, kSimilar, kUserEvents, kOther };
inline constexpr int kNumEndpoints = 5;
// "events", "recommendations", "similar", "user_events", "other".
std::string_view EndpointName(Endpoint endpoint);
// The method and route as /metrics would name it: "POST /v1/events".
std::string_view EndpointRoute(Endpoint endpoint);

struct OutgoingRequest {
  Endpoint endpoint = Endpoint::kOther;
  std::string wire;    // the complete request: request line, headers, body
  int64_t events = 0;  // events carried (event batches only)
};

// Serializes an HTTP/1.1 keep-alive request for `target` (Host header and base path applied).
// `bearer` and `content_type` may be empty (then those headers are left out); a body gets a
// Content-Length.
std::string SerializeRequest(std::string_view method, std::string_view path, const Target& target,
                             std::string_view bearer, std::string_view content_type,
                             std::string_view body);

// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay).
std::string PercentEncode(std::string_view text);

// Produces the requests of one load stream. Not thread-safe: each worker owns its sources.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // Fills `out` with the next request; false once the source is exhausted (a replay's end).
  virtual bool Next(OutgoingRequest* out) = 0;
};

}  // namespace recd::bench
