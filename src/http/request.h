// The request and response as handlers see them: decoded path segments, form-decoded query,
// the few headers the API uses, the body. No Beast types, so handlers and tests stay light.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metering/usage_delta.h"
#include "recd/status.h"

namespace recd::http {

enum class Method : uint8_t { kGet, kPost, kPut, kPatch, kDelete, kOptions, kHead, kOther };
std::string_view MethodName(Method m);

struct Request {
  Method method = Method::kGet;
  std::string path;                   // raw path of the target, before decoding
  std::vector<std::string> segments;  // split on '/', each percent-decoded once
  std::vector<std::pair<std::string, std::string>> query;  // form-decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::vector<std::string> params;    // values of the route's {placeholders}, in order
  std::string body;                   // JSON routes; spare capacity for simdjson padding
  std::string body_file;              // file-body routes: where the body was streamed to
  std::string request_id;
  int64_t admitted_mono_ns = 0;       // when the headers were read
  int64_t deadline_mono_ns = 0;       // work not started by then is refused
  int64_t admitted_unix_ms = 0;

  std::optional<std::string_view> Header(std::string_view lower_name) const;
  std::optional<std::string_view> Query(std::string_view name) const;  // first occurrence
  std::vector<std::string_view> QueryAll(std::string_view name) const;
};

// A streamed body: called repeatedly on a worker thread; appends the next piece to `chunk`
// and returns true while more follows, false after the last piece (which may be empty).
using BodyStream = std::function<absl::StatusOr<bool>(std::string* chunk)>;

// The events a POST /v1/events answer stored and refused, for recd_events_ingested_total.
// Billing takes them from the events' own batch (exact across crashes), not from here.
struct IngestedCounts {
  uint64_t accepted = 0;
  uint64_t rejected = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  BodyStream stream;  // when set, sent chunked instead of `body`
  bool close = false;  // close the connection after this answer
  metering::UsageDelta usage;  // billed to the caller's tenant when the answer is sent
  IngestedCounts ingested;     // counted in /metrics when the answer is sent
};

// Splits "/a/b%2Fc" into {"a", "b/c"} (split first, then decode each segment once).
// InvalidArgument for malformed escapes or a decoded segment that is not valid UTF-8.
absl::StatusOr<std::vector<std::string>> SplitPath(std::string_view path);
// application/x-www-form-urlencoded: '+' is a space, %XX escapes. Appends every pair that
// decodes to *out; InvalidArgument if one did not (the others are still there: enough to find
// the credentials of a request that is refused for its query after admission).
absl::Status ParseQuery(std::string_view q, std::vector<std::pair<std::string, std::string>>* out);
absl::StatusOr<std::string> PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace recd::http
